"""The Help menu: a guide per strategy and scenario, the keyboard shortcuts, About.

Why the texts live where they do: strategy guides are Markdown files in
``resources/help/strategies/`` (prose a lecturer may want to edit without
touching code); scenario guides are the scenario files' own ``[story]``, so a new
scenario is documented by the file that defines it.  The shortcut list is built
from the window's actual actions and buttons when it is opened, so it cannot
disagree with what the keys do.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer import __version__
from visualizer.engine.scenarios import Scenario
from visualizer.paths import resource
from visualizer.queues import STRATEGIES, TaskTable

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

GUIDE_SIZE = (1180, 660)
LIST_WIDTH = 470


@dataclass(frozen=True)
class Topic:
    """One entry of the guide: the list's label, a group heading, and Markdown text."""

    group: str
    label: str
    markdown: str


def strategy_markdown(name: str, cls: type[TaskTable]) -> str:
    """The strategy's guide file, or its summary when it has none (a newly added strategy)."""
    path = resource("help", "strategies", f"{name}.md")
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return f"# {cls.title or name}\n\n{cls.summary}\n"


def scenario_markdown(scenario: Scenario) -> str:
    """A scenario's story, in the order a lecturer tells it."""
    return (
        f"# {scenario.title}\n\n"
        f"## What to watch\n{scenario.watch}\n\n"
        f"## Why it happens\n{scenario.why}\n\n"
        f"## The fix\n{scenario.fix}\n\n"
        f"Choose it in the **Scenarios** menu; the **{scenario.fix_label}** switch in its "
        "panel reruns the same seed with the fix.\n"
    )


def topics(strategies: Mapping[str, type[TaskTable]], scenarios: Iterable[Scenario]) -> list[Topic]:
    """Every guide entry: getting started, then each strategy, then each scenario."""
    found = [Topic("", "Getting started", resource("help", "overview.md").read_text("utf-8"))]
    found += [
        Topic("Strategies", cls.title or name, strategy_markdown(name, cls))
        for name, cls in strategies.items()
    ]
    found += [
        Topic("Scenarios", scenario.title, scenario_markdown(scenario)) for scenario in scenarios
    ]
    return found


class GuideDialog(QDialog):
    """A list of topics on the left, the chosen topic's text on the right."""

    def __init__(self, entries: list[Topic], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Queue Visualizer Guide")
        self.resize(*GUIDE_SIZE)
        self.entries = entries
        self.list = QListWidget()
        self.list.setToolTip("Pick a topic")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        group = None
        for index, entry in enumerate(entries):
            if entry.group and entry.group != group:
                heading = QListWidgetItem(entry.group)
                heading.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading, not a topic
                font = heading.font()
                font.setBold(True)
                heading.setFont(font)
                self.list.addItem(heading)
                group = entry.group
            item = QListWidgetItem(("    " if entry.group else "") + entry.label)
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(entry.label)  # long scenario titles are cut at the list's edge
            self.list.addItem(item)
        self.list.currentItemChanged.connect(self._show)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(self.text)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([LIST_WIDTH, GUIDE_SIZE[0] - LIST_WIDTH])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.list.setCurrentRow(0)

    def labels(self) -> list[str]:
        """The topics listed, as shown (headings excluded)."""
        return [entry.label for entry in self.entries]

    def show_topic(self, label: str) -> None:
        """Select the topic called ``label`` (a strategy's title, a scenario's title)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            index = item.data(Qt.ItemDataRole.UserRole)
            if index is not None and self.entries[index].label == label:
                self.list.setCurrentItem(item)
                return
        raise KeyError(label)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _show(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        index = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if index is not None:
            self.text.setMarkdown(self.entries[index].markdown)


def shortcuts(window: QWidget) -> list[tuple[str, str, str]]:
    """(keys, name, what it does) for every shortcut the window answers to right now.

    Actions first (menus, run controls), then buttons with a key of their own (a
    button that shows an action has the action's key and is not listed twice).
    """
    rows: dict[tuple[str, str], str] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            keys = sequence.toString(QKeySequence.SequenceFormat.NativeText)
            name = action.text().replace("&", "")
            rows.setdefault((keys, name), action.statusTip() or action.toolTip())
    for button in window.findChildren(QAbstractButton):
        if isinstance(button, QToolButton) and button.defaultAction() is not None:
            continue
        keys = button.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.setdefault((keys, _button_name(button)), button.toolTip())
    return [(keys, name, tip) for (keys, name), tip in rows.items()]


def _button_name(button: QAbstractButton) -> str:
    """A button's text, and the dock it sits in when the text is only a symbol (an arrow)."""
    text = button.text().replace("&", "")
    if any(char.isalnum() for char in text):
        return text
    parent = button.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    return f"{text} ({parent.windowTitle()} panel)" if parent is not None else text


class ShortcutsDialog(QDialog):
    """A table of the window's shortcuts (see :func:`shortcuts`)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(1100, 480)
        entries = shortcuts(window)
        self.table = QTableWidget(len(entries), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Command", "What it does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, values in enumerate(entries):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def keys(self) -> list[str]:
        rows = range(self.table.rowCount())
        return [item.text() for row in rows if (item := self.table.item(row, 0)) is not None]


def about_text() -> str:
    return (
        f"<h3>Queue Visualizer {html.escape(__version__)}</h3>"
        "<p>Producer and worker threads against a priority task queue, under the "
        "locking strategy you pick: watch the heap, each task's status, who holds "
        "each lock and who waits for it, and the throughput, live.</p>"
        "<p>Help &gt; Guide explains every strategy and scenario.</p>"
    )


class HelpMenu:
    """Fills the window's Help menu and opens its dialogs (one guide, reused)."""

    def __init__(self, window: MainWindow, menu: QMenu) -> None:
        self.window = window
        self.guide: GuideDialog | None = None
        self.guide_action = menu.addAction("&Guide: strategies and scenarios")
        self.guide_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.guide_action.setStatusTip("What each strategy and scenario shows, and what to watch")
        self.guide_action.triggered.connect(self.show_guide)
        self.shortcuts_action = menu.addAction("&Keyboard Shortcuts")
        self.shortcuts_action.setStatusTip("Every key the window answers to")
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        menu.addSeparator()
        about = menu.addAction("&About Queue Visualizer")
        about.setStatusTip("Version and what the application is for")
        about.triggered.connect(self.show_about)
        window.addAction(self.guide_action)  # F1 works with the menu bar hidden too

    @Slot()
    def show_guide(self) -> GuideDialog:
        """Open the guide at what the window shows: the chosen scenario, else the strategy.

        Built anew each time: a scenario file opened by path since joins the list.
        """
        if self.guide is not None:
            self.guide.close()
            self.guide.deleteLater()
        scenarios = self.window.scenarios
        self.guide = GuideDialog(topics(STRATEGIES, scenarios.scenarios), self.window)
        self.guide.setFont(self.window.font())  # a dialog is a window: fonts do not reach it
        strategy = STRATEGIES.get(self.window.controls.strategy.currentData())
        if scenarios.scenario is not None:
            self.guide.show_topic(scenarios.scenario.title)
        elif strategy is not None:
            self.guide.show_topic(strategy.title or strategy.name)
        self.guide.show()
        self.guide.raise_()
        return self.guide

    @Slot()
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.window)
        dialog.setFont(self.window.font())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self.window, "About Queue Visualizer", about_text())

"""Per-thread stepping: one button per thread, so the class decides who moves next.

The main window's Step lets the thread that has waited longest through; a race
needs a particular order instead (worker 1 looks, worker 2 looks, worker 1
pops, ...).  Here each live thread has a button, in its colour, that lets
exactly that thread pass one traced point, and a line saying where it is:
parked at a line, waiting for a lock, or busy.

The panel only shows and asks: :meth:`show_threads` is given what the run's
gate and the model say, and a click emits :attr:`step_requested` with the
thread's ident for the controller to pass on to the run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPixmap, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from visualizer.ui.flow_layout import FlowLayout
from visualizer.ui.theme import ALERT_COLOR, styled, thread_color

MAX_SHORTCUTS = 9
"""Alt+1 ... Alt+9 step the first nine threads."""


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """What the panel shows of one thread."""

    ident: int
    name: str
    color_index: int
    parked: tuple[str, tuple[str, int]] | None  # (label, (file, line)) while at the gate
    waiting_for: str | None  # the lock it is blocked on, if any


class StepPanel(QWidget):
    """A step button and a status line per live thread."""

    step_requested = Signal(object)  # a thread ident: 64 bits, too wide for a Qt int
    resized = Signal()  # rows came or went: the scroll area around it may grow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.compact = False  # presentation mode: buttons in a flow, the status in tooltips
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        rows = QWidget()
        self._flow_box = QWidget()
        self._flow = FlowLayout(self._flow_box)
        self._flow_box.hide()  # shown in compact mode
        outer.addWidget(rows)
        outer.addWidget(self._flow_box)
        self._grid = QGridLayout(rows)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        self._buttons: dict[int, QToolButton] = {}
        self._labels: dict[int, QLabel] = {}
        self._rows: tuple[ThreadRow, ...] = ()
        self._enabled = False
        self.hint = QLabel("Start a run paused (Step, F10) to move one thread at a time.")
        styled(self.hint, small=True)
        self.hint.setWordWrap(True)
        self._grid.addWidget(self.hint, 0, 0, 1, 2)

    def show_threads(self, rows: list[ThreadRow], can_step: bool) -> None:
        """Show ``rows`` (in order); buttons work only while ``can_step`` (the run is paused)."""
        if tuple(rows) == self._rows and can_step == self._enabled:
            return
        if [r.ident for r in rows] != [r.ident for r in self._rows]:
            self._rebuild(rows)
        self._rows, self._enabled = tuple(rows), can_step
        for row in rows:
            button = self._buttons[row.ident]
            button.setEnabled(can_step and row.parked is not None)
            self._labels[row.ident].setText(_status(row))
            if self.compact:
                waiting = row.waiting_for is not None
                button.setStyleSheet(f"color: {ALERT_COLOR.name()};" if waiting else "")
                button.setToolTip(f"{button.property('tip')}\n{_plain(_status(row))}")
        if not rows:
            self.hint.setText("Start a run paused (Step, F10) to move one thread at a time.")
        elif not can_step:
            self.hint.setText("Pause the run (Space) to choose which thread moves next.")
        else:
            self.hint.setText("Choose which thread moves next:")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """A new width wraps the buttons differently: the scroll area around may resize."""
        super().resizeEvent(event)
        if self.compact and event.oldSize().width() != event.size().width():
            self.resized.emit()

    def set_compact(self, compact: bool) -> None:
        """Buttons side by side in a flow (presentation), or one row with a status each."""
        if compact == self.compact:
            return
        self.compact = compact
        rows, self._rows = list(self._rows), ()
        self._rebuild(rows)
        self.show_threads(rows, self._enabled)

    def rows_height(self, most: int) -> int:
        """Height of the hint and up to ``most`` thread rows (what shows without scrolling)."""
        if self.compact:
            return self._flow.heightForWidth(max(self.width(), 200)) + 4
        row = max(self.fontMetrics().height() + 10, 28)
        shown = min(len(self._buttons), most)
        return self.hint.sizeHint().height() + shown * (row + 2) + 4

    def button(self, ident: int) -> QToolButton:
        return self._buttons[ident]

    def _rebuild(self, rows: list[ThreadRow]) -> None:
        for widget in (*self._buttons.values(), *self._labels.values()):
            self._grid.removeWidget(widget)
            self._flow.removeWidget(widget)
            widget.deleteLater()
        self._buttons.clear()
        self._labels.clear()
        for number, row in enumerate(rows, start=1):
            button = QToolButton()
            button.setText(f"\u25b6 {row.name}")
            button.setIcon(_swatch(thread_color(row.color_index)))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            tip = f"Let {row.name} pass one traced point"
            if number <= MAX_SHORTCUTS:
                keys = f"Alt+{number}"
                button.setShortcut(QKeySequence(keys))
                tip += f" ({keys})"
            button.setToolTip(tip)
            button.setProperty("tip", tip)
            button.clicked.connect(lambda _checked=False, ident=row.ident: self._clicked(ident))
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            if self.compact:
                self._flow.addWidget(button)
                label.hide()
            else:
                self._grid.addWidget(button, number, 0)
                self._grid.addWidget(label, number, 1)
            self._buttons[row.ident] = button
            self._labels[row.ident] = label
        self._flow_box.setVisible(self.compact)
        self.hint.setVisible(not self.compact)
        self.resized.emit()

    def _clicked(self, ident: int) -> None:
        if self._enabled:
            self.step_requested.emit(ident)


def _status(row: ThreadRow) -> str:
    if row.parked is not None:
        label, (file, line) = row.parked
        return f"at {html.escape(Path(file).name)}:{line} \u2014 {html.escape(label)}"
    if row.waiting_for is not None:
        lock = html.escape(row.waiting_for)
        return f"<span style='color:{ALERT_COLOR.name()}'>waiting for lock '{lock}'</span>"
    return "running (sleeping or working)"


def _swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(color)
    return QIcon(pixmap)


def _plain(text: str) -> str:
    """A status without its markup, for a tooltip."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))

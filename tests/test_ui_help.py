"""Help: the guide covers every strategy and scenario, the shortcut list is the window's
actual shortcuts, every control explains itself, and the icon and About box are there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QSlider,
    QToolButton,
    QWidget,
)

from visualizer import __version__
from visualizer.desktop import APP_ID
from visualizer.engine.scenarios import load_all
from visualizer.paths import resource
from visualizer.queues import STRATEGIES
from visualizer.ui.help import GuideDialog, about_text, shortcuts
from visualizer.ui.icon import app_icon
from visualizer.ui.main_window import MainWindow


@pytest.fixture
def window(open_window) -> MainWindow:
    return open_window()


def test_every_strategy_has_a_guide_file_with_the_three_parts():
    for name in STRATEGIES:
        text = resource("help", "strategies", f"{name}.md").read_text("utf-8")
        for part in ("## What to watch", "## What it protects", "## What it costs"):
            assert part in text, f"{name}.md lacks {part!r}"


def test_the_guide_lists_every_strategy_and_scenario(window, qtbot):
    guide = window.help_menu.show_guide()
    qtbot.waitExposed(guide)
    labels = guide.labels()
    scenarios, _errors = load_all()
    assert scenarios, "the scenario files should load"
    for cls in STRATEGIES.values():
        assert cls.title in labels
    for scenario in scenarios:
        assert scenario.title in labels
    # It opens at the strategy chosen in the panel, and shows each topic's own text.
    chosen = STRATEGIES[window.controls.strategy.currentData()]
    assert guide.text.toPlainText().startswith(chosen.title)
    guide.show_topic(scenarios[0].title)
    assert scenarios[0].watch[:40] in guide.text.toPlainText().replace("\n", " ")
    guide.close()


def test_a_strategy_without_a_guide_file_falls_back_to_its_summary(qtbot):
    cls = STRATEGIES["global-lock"]

    class Newcomer(cls):  # a strategy someone just added, with no help file yet
        name = "newcomer"
        title = "A newcomer"
        summary = "What it protects, what it costs."

    from visualizer.ui.help import topics

    dialog = GuideDialog(topics({"newcomer": Newcomer}, []))
    qtbot.addWidget(dialog)
    dialog.show_topic("A newcomer")
    assert "What it protects, what it costs." in dialog.text.toPlainText()


def test_the_shortcut_list_is_every_shortcut_of_every_action(window, qtbot):
    listed = {keys for keys, _name, _tip in shortcuts(window)}
    native = QKeySequence.SequenceFormat.NativeText
    expected = {
        sequence.toString(native)
        for action in window.findChildren(QAction)
        for sequence in action.shortcuts()
    } | {
        button.shortcut().toString(native)
        for button in window.findChildren(QAbstractButton)
        if not button.shortcut().isEmpty()  # e.g. the code panel's history arrows
    }
    assert listed == expected
    for keys in ("F5", "Space", "F10", "Shift+F5", "Ctrl+R", "F1"):
        assert keys in listed
    dialog = window.help_menu.show_shortcuts()
    qtbot.waitExposed(dialog)
    assert sorted(dialog.keys()) == sorted(k for k, _n, _t in shortcuts(window))
    dialog.close()


def test_buttons_with_keys_of_their_own_are_listed_too(window):
    button = QToolButton(window)
    button.setText("Step worker-1")
    button.setShortcut(QKeySequence("Alt+1"))
    assert ("Alt+1", "Step worker-1") in {(k, n) for k, n, _t in shortcuts(window)}


def test_every_control_has_a_tooltip(window):
    panel = window.controls
    panel.more.setChecked(True)  # the folded settings too
    kinds = (QComboBox, QSlider, QAbstractButton, QAbstractSpinBox)
    inputs = [
        w for w in panel.findChildren(QWidget) if isinstance(w, kinds) and w.isVisibleTo(panel)
    ]
    assert len(inputs) > 15
    missing = [type(w).__name__ + ":" + (w.objectName() or "") for w in inputs if not w.toolTip()]
    assert not missing, f"controls without a tooltip: {missing}"


def test_window_icon_title_and_about_name_the_version(window):
    icon = app_icon()
    assert not icon.isNull()
    assert {16, 32, 256} <= {size.width() for size in icon.availableSizes()}
    assert window.windowTitle() == "Queue Visualizer"
    assert __version__ in about_text()


def test_install_desktop_entry_writes_files_and_opens_no_window(tmp_path: Path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), QT_QPA_PLATFORM="unavailable-platform")
    result = subprocess.run(
        [sys.executable, "-m", "visualizer.ui.app", "--install-desktop-entry"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # A platform that does not exist would abort any attempt to open a window.
    assert result.returncode == 0, result.stderr
    entry = tmp_path / "applications" / f"{APP_ID}.desktop"
    assert str(entry) in result.stdout
    assert "Exec=" in entry.read_text("utf-8")
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()

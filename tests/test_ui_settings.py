"""Settings persist between launches, Reset Layout restores the default arrangement, and
neither tests nor screenshots touch anyone's real settings (conftest points them at a
file of the test's own)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget

from visualizer.engine import Workload
from visualizer.ui.main_window import MainWindow
from visualizer.ui.settings import (
    PANEL_FIELDS,
    SETTINGS_ENV,
    open_settings,
    saved_pace,
    saved_workload,
)


@pytest.fixture
def launch(qtbot) -> Callable[[], MainWindow]:
    """Open the window as app.main does: saved workload, then saved layout, then show."""

    def open_window() -> MainWindow:
        settings = open_settings()
        window = MainWindow(saved_workload(settings, Workload()))
        qtbot.addWidget(window)
        window.window_settings.settings = settings
        window.window_settings.restore()
        window.show()
        qtbot.waitExposed(window)
        return window

    return open_window


def dock_layout(window: MainWindow) -> dict[str, tuple[bool, bool, object, object]]:
    """Each dock's visibility, floating, area and geometry: what Reset Layout must restore.

    A tab behind another is "visible" but parked off-screen at no particular place:
    only docks actually on screen have a geometry that means something.
    """
    return {
        dock.objectName(): (
            dock.isVisible(),
            dock.isFloating(),
            dock.parentWidget().dockWidgetArea(dock) if not dock.isFloating() else None,
            dock.geometry().getRect() if not dock.visibleRegion().isEmpty() else None,
        )
        for dock in window.findChildren(QDockWidget)
    }


def same_layout(now: dict, then: dict, slack: int = 2) -> bool:
    """The same docks, shown and placed alike, their geometries within ``slack`` pixels
    (the docks' shares of a window that fitted itself to its screen round either way)."""
    if now.keys() != then.keys():
        return False
    for name, (shown, floating, area, rect) in now.items():
        was_shown, was_floating, was_area, was_rect = then[name]
        if (shown, floating, area) != (was_shown, was_floating, was_area):
            return False
        if (rect is None) != (was_rect is None):
            return False
        if rect is not None and any(
            abs(a - b) > slack for a, b in zip(rect, was_rect, strict=True)
        ):
            return False
    return True


def test_settings_file_comes_from_the_environment(private_settings: Path):
    assert os.environ[SETTINGS_ENV] == str(private_settings)
    assert Path(open_settings().fileName()) == private_settings


def test_strategy_workload_and_speed_survive_a_restart(launch, qtbot):
    first = launch()
    first.controls.strategy.setCurrentIndex(first.controls.strategy.findData("rlock"))
    first.controls.input("workers").setValue(7)
    first.controls.input("producers").setValue(3)
    first.controls.set_pace(5)
    assert first.controls.workload().workers == 7
    first.close()

    second = launch()
    restored = second.controls.workload()
    assert (restored.strategy, restored.workers, restored.producers) == ("rlock", 7, 3)
    assert second.controls.pace() == 5
    assert second.controls.input("strategy").currentData() == "rlock"
    second.close()


def test_layout_survives_a_restart(launch, qtbot):
    first = launch()
    locks = first.docks["Locks"]
    locks.hide()
    first.controls_dock.hide()
    first.close()

    second = launch()
    assert not second.docks["Locks"].isVisible()
    assert not second.controls_dock.isVisible()
    assert second.docks["Throughput"].isVisible()
    second.close()


def test_reset_layout_restores_the_default_arrangement(launch, qtbot):
    window = launch()
    default = dock_layout(window)
    window.docks["Heap"].hide()
    window.docks["Locks"].setFloating(True)
    window.controls_dock.hide()
    window.view_area.resizeDocks([window.docks["Status lanes"]], [120], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: dock_layout(window) != default)

    reset = next(
        a
        for a in window.findChildren(type(window.actions_by_name["start"]))
        if a.objectName() == "resetLayout"
    )
    reset.trigger()
    qtbot.waitUntil(lambda: same_layout(dock_layout(window), default))
    window.close()


def test_a_broken_or_foreign_settings_file_falls_back_to_defaults(private_settings: Path):
    settings = QSettings(str(private_settings), QSettings.Format.IniFormat)
    settings.setValue("controls/workload", '{"workers": -3, "strategy": "nonsense"}')
    settings.setValue("controls/pace", "fast")
    assert saved_workload(settings, Workload()) == Workload()
    assert saved_pace(settings) is None
    settings.setValue("controls/workload", "{not json")
    assert saved_workload(settings, Workload()) == Workload()


def test_only_panel_fields_are_remembered():
    assert set(PANEL_FIELDS) <= set(Workload.__dataclass_fields__)
    assert "duration" not in PANEL_FIELDS and "capacity" not in PANEL_FIELDS


def _app(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visualizer.ui.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_the_command_saves_on_close_and_command_line_options_win(private_settings: Path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    first = _app("--strategy", "condition", "--workers", "5", "--quit-after", "0.5", env=env)
    assert first.returncode == 0, first.stderr
    saved = QSettings(str(private_settings), QSettings.Format.IniFormat)
    assert saved_workload(saved, Workload()).strategy == "condition"
    assert saved_workload(saved, Workload()).workers == 5

    # The saved strategy comes back; the command line's --workers beats the saved 5.
    second = _app("--workers", "2", "--quit-after", "0.5", env=env)
    assert second.returncode == 0, second.stderr
    again = QSettings(str(private_settings), QSettings.Format.IniFormat)
    restored = saved_workload(again, Workload())
    assert (restored.strategy, restored.workers) == ("condition", 2)


def test_screenshot_measured_and_fresh_runs_neither_read_nor_write_settings(
    private_settings: Path, tmp_path: Path
):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    shot = _app(
        "--strategy",
        "rlock",
        "--screenshot",
        str(tmp_path / "a.png"),
        "--quit-after",
        "0.5",
        env=env,
    )
    assert shot.returncode == 0, shot.stderr
    fresh = _app("--strategy", "rlock", "--fresh", "--quit-after", "0.5", env=env)
    assert fresh.returncode == 0, fresh.stderr
    measured = _app("--strategy", "rlock", "--measure-latency", "--quit-after", "0.5", env=env)
    assert measured.returncode == 0, measured.stderr
    assert not private_settings.exists()


@pytest.mark.parametrize(
    "workload",
    [
        '{"strategy": ["global-lock"]}',
        '{"strategy": {"name": "global-lock"}}',
        '{"rate": 1e999, "seed": 1' + "0" * 400 + "}",
        "[" * 5000 + "]" * 5000,
        '{"workers": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["list-strategy", "dict-strategy", "huge-numbers", "nested-5000", "nested-value"],
)
def test_corrupt_settings_never_stop_the_window_from_starting(private_settings: Path, workload):
    """Item 5: a list or dict as strategy, or JSON nested 5000 deep, raised at startup."""
    settings = QSettings(str(private_settings), QSettings.Format.IniFormat)
    settings.setValue("controls/workload", workload)
    settings.setValue("controls/pace", "nan")
    settings.sync()
    assert saved_workload(settings, Workload()) == Workload()
    assert saved_pace(settings) is None
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = _app("--quit-after", "0.5", env=env)
    assert started.returncode == 0 and "Traceback" not in started.stderr, started.stderr

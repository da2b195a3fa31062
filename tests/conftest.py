"""Test configuration: run Qt offscreen, keep the window's settings private to each test,
and fail any test that leaves a thread behind."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory, monkeypatch):
    """The window's saved settings go to a file of the test's own, never the user's
    (child processes inherit it; see visualizer/ui/settings.py)."""
    path = tmp_path_factory.mktemp("settings") / "queue-visualizer.ini"
    monkeypatch.setenv("QUEUE_VISUALIZER_SETTINGS", str(path))
    return path


@pytest.fixture
def open_window(qtbot):
    """Open main windows (shown and exposed) that are closed, runs stopped, afterwards."""
    from visualizer.ui.main_window import MainWindow

    windows = []

    def open_(workload=None):
        window = MainWindow(workload)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.close()


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Every thread a test starts must have ended by the time it returns."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads left running: {still}"

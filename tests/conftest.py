"""Test configuration: run Qt offscreen, keep the window's settings private to each test,
and fail any test that leaves a thread behind."""

from __future__ import annotations

import os
import threading
import time

from helpers import offscreen_platform  # noqa: E402 (imports no Qt)

if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    # A 1280x800 screen (the plugin's own is 800x600): the window fits itself to it.
    os.environ["QT_QPA_PLATFORM"] = offscreen_platform(1280, 800)

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


@pytest.fixture
def hostile(monkeypatch):
    """The misbehaving queues of ``hostile_queues.py``, for windows' run processes.

    This process knows their names (so the panel and the checks accept them);
    run processes import them from this folder.  Returns what
    ``Launcher.strategies`` takes.
    """
    import hostile_queues

    from visualizer.queues import STRATEGIES

    here, path = hostile_queues.HERE, os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", here if not path else os.pathsep.join((here, path)))
    for cls in hostile_queues.ALL:
        monkeypatch.setitem(STRATEGIES, cls.name, cls)
    return hostile_queues.ENTRIES


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


def _children() -> dict[int, str]:
    """Processes whose parent is this one: pid -> state letter (Z: exited, not reaped)."""
    me = os.getpid()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we looked
        if int(fields[1]) == me:
            found[int(entry)] = fields[0]
    return found


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """Every process a test starts (run processes above all) must be gone and reaped."""
    if not os.path.isdir("/proc"):
        yield
        return
    before = set(_children())
    yield
    deadline = time.monotonic() + 5
    left = {pid: state for pid, state in _children().items() if pid not in before}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {pid: state for pid, state in _children().items() if pid not in before}
    assert not left, f"processes left behind (pid: state): {left}"


def _fast_paths() -> list[str]:
    """The tracing paths this installation can run: pure Python, and C where built
    (and not ruled out); tests/test_speedups.py says so when C is not tested."""
    from visualizer.queues import speedups
    from visualizer.recording import reader

    built = speedups.native is not None and reader.native is not None
    return ["C", "Python"] if built else ["Python"]


@pytest.fixture(params=_fast_paths())
def fast_path(request, monkeypatch):
    """Run the test once with the C speedups (where they are in use) and once with the
    pure Python paths forced, as QUEUE_VISUALIZER_PURE_PYTHON does: every Tracer made
    and every log loaded during the test takes that path."""
    from visualizer.queues import speedups
    from visualizer.recording import reader

    if request.param == "Python":
        monkeypatch.setattr(speedups, "native", None)
        monkeypatch.setattr(reader, "native", None)
    return request.param

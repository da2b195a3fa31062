"""Ctrl-C (SIGINT) and kill (SIGTERM) close the window like its close button: the run
stops, no traceback, and the exit status says which signal ended it (item 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from visualizer.ui.signals import SignalWatcher

ROOT = Path(__file__).resolve().parents[1]


def test_the_watcher_turns_a_signal_into_a_qt_signal_and_gives_it_back(qtbot):
    before = signal.getsignal(signal.SIGINT)
    watcher = SignalWatcher([signal.SIGINT])
    try:
        with qtbot.waitSignal(watcher.received, timeout=5000) as blocker:
            os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: the watcher has it
        assert blocker.args == [signal.SIGINT]
    finally:
        watcher.uninstall()
    assert signal.getsignal(signal.SIGINT) is before


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_window_closes_on_a_signal_mid_run_without_a_traceback(number):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "visualizer", "--fresh", "--run", "--tasks", "0"]
    argv += ["--rate", "0", "--work-time", "0", "--quit-after", "120"]
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The run's 6 threads start once the window is up (the watcher is in place by then).
        deadline = time.monotonic() + 60
        while _threads(child.pid) < 8 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode()
        child.send_signal(number)
        _out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 128 + number, err.decode()
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err

"""The window and its run processes: runs in a child, hung and crashed children, closing.

Every wait is on a condition with a generous timeout.  The misbehaving queues
come from ``hostile_queues.py`` (the ``hostile`` fixture lets run processes
import them); conftest checks that no test leaves a process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from helpers import ROOT
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from visualizer.engine import RunState, Workload
from visualizer.ui.app import main
from visualizer.ui.engine_dialog import EngineDialog
from visualizer.ui.main_window import MainWindow
from visualizer.ui.settings import ENGINE_PYTHON, open_settings

FAST = Workload(producers=2, workers=2, tasks=0, rate=0.0, work_time=0.0, priority_spread=5)


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            return file.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def reaped(pid: int) -> bool:
    """True if ``pid`` was our child and has been waited for (no zombie left)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture
def hostile_window(open_window, hostile):
    def open_(strategy: str) -> MainWindow:
        window = open_window(FAST.replace(strategy=strategy))
        window.launcher.strategies = hostile
        return window

    return open_


def test_a_run_goes_in_a_process_of_its_own_and_the_window_names_its_threads(open_window, qtbot):
    window = open_window(FAST.replace(tasks=400))
    window.start_run()
    run = window.run
    assert run.process.pid != os.getpid() and not gone(run.process.pid)
    qtbot.waitUntil(lambda: window.model is not None and window.model.finished, timeout=15_000)
    assert window.model.tasks.counts()["completed"] == 400
    names = sorted(info.name for info in window.model.threads.values() if info.role)
    assert names == ["producer-1", "producer-2", "worker-1", "worker-2"]
    assert f"process {run.process.pid}" in window.state_label.toolTip()
    assert window.state_label.text() == "Finished \u00b7 global-lock"
    first = run.process.pid
    window.start_run()  # a new run, a new process; the old one is closed and reaped
    second = window.run
    assert second.process.pid != first
    qtbot.waitUntil(lambda: reaped(first) and gone(first), timeout=5000)
    window.stop_run()
    qtbot.waitUntil(lambda: second.state is RunState.STOPPED, timeout=5000)


def test_a_run_process_hung_holding_its_gil_is_killed_and_the_window_goes_on(hostile_window, qtbot):
    window = hostile_window("test-gil-hog")
    window.start_run()
    run = window.run
    qtbot.waitUntil(lambda: window.model.tasks.counts()["added"] >= 10, timeout=10_000)
    qtbot.waitUntil(lambda: not run.responding, timeout=10_000)
    qtbot.waitUntil(lambda: "not responding" in window.statusBar().currentMessage(), timeout=5000)
    ticks = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    assert run.state is RunState.STOPPING, "Stop returns at once; the window does not wait"
    qtbot.waitUntil(lambda: run.state is RunState.STOPPED, timeout=5000)
    timer.stop()
    assert len(ticks) >= 20, "the window kept handling events while the process was killed"
    assert run.exit_report.how == "killed" and run.process.returncode == -signal.SIGKILL
    qtbot.waitUntil(lambda: window.errors_label.isVisible(), timeout=2000)
    assert "run process killed" in window.errors_label.text()
    assert "within 2 s of Stop" in window.errors_label.toolTip()
    assert "Last events received" in window.errors_label.toolTip()
    assert window.state_label.text() == "Killed \u00b7 test-gil-hog"
    assert "within 2 s of Stop" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.model.finished, timeout=5000)
    assert window.model.tasks.counts()["added"] >= 10, "what it recorded is kept"

    window.controls.set_workload(FAST.replace(tasks=100))  # and the next run just works
    assert window.start_run()
    qtbot.waitUntil(lambda: window.run.state is RunState.FINISHED, timeout=10_000)
    assert not window.errors_label.isVisible()


def test_a_crashed_run_process_is_reported_and_its_events_kept(hostile_window, qtbot):
    window = hostile_window("test-abort")
    window.start_run()
    run = window.run
    qtbot.waitUntil(lambda: run.exit_report is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.model.finished, timeout=5000)
    assert run.state is RunState.STOPPED and run.process.returncode == -signal.SIGABRT
    assert "run process crashed" in window.errors_label.text()
    tip = window.errors_label.toolTip()
    assert "was killed by signal SIGABRT (6)" in tip and "Fatal Python error: Aborted" in tip
    assert "Last events received" in tip
    assert "SIGABRT" in window.statusBar().currentMessage()
    assert window.state_label.text() == "Crashed \u00b7 test-abort"
    window.errors_label.linkActivated.emit("details")  # the label's "details" link
    box = window.findChild(QMessageBox)
    assert box is not None and box.isVisible() and box.windowTitle() == "Run process crashed"
    assert "SIGABRT" in box.text() and "Fatal Python error: Aborted" in box.detailedText()
    box.close()
    assert window.model.tasks.counts()["added"] > 0
    assert window.actions_by_name["start"].isEnabled(), "ready for the next run"


def test_closing_the_window_mid_run_leaves_no_process(qtbot):
    window = MainWindow(FAST.replace(rate=300.0))
    qtbot.addWidget(window)
    window.show()
    window.start_run()
    run = window.run
    qtbot.waitUntil(lambda: window.model.events_applied > 200, timeout=10_000)
    spare = window.launcher._ready  # started when the run was taken, for the next one
    pids = [run.process.pid] + ([spare.pid] if spare is not None else [])
    window.close()
    assert run.state is RunState.STOPPED and not any(t.alive for t in run.threads())
    assert all(reaped(pid) and gone(pid) for pid in pids), "closed, reaped, no zombie"
    assert run.exit_report is None, "it stopped and exited as asked"


def test_killing_the_window_takes_its_run_processes_with_it(tmp_path):
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "visualizer.ui.app",
            "--fresh",
            "--run",
            "--tasks",
            "0",
            "--rate",
            "100",
            "--quit-after",
            "120",
        ],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The run process and the spare, once both are up.
        assert _poll(lambda: len(_children_of(app.pid)) >= 2, 30.0), "run processes started"
        children = _children_of(app.pid)
        app.send_signal(signal.SIGKILL)
        app.wait(10)
        assert _poll(lambda: all(gone(pid) for pid in children), 5.0), (
            "no run process outlives its window"
        )
    finally:
        app.kill()
        app.wait()


def _poll(predicate, timeout: float) -> bool:
    """Wait (at most ``timeout`` s) for ``predicate``; its last answer."""
    deadline = time.monotonic() + timeout
    nap = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        nap.wait(0.05)
    return True


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def test_the_engine_interpreter_is_checked_chosen_and_kept(open_window, qtbot, tmp_path):
    window = open_window(FAST.replace(tasks=50))
    window.window_settings.settings = open_settings()
    dialog = EngineDialog(window)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "no-python"))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert "cannot run it" in dialog.verdict.text()
    assert window.launcher.python == sys.executable, "a failing interpreter is not taken"

    other = _another_python()
    dialog.path.setText(other)
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert window.launcher.python == other
    kept = QSettings(os.environ["QUEUE_VISUALIZER_SETTINGS"], QSettings.Format.IniFormat)
    assert kept.value(ENGINE_PYTHON) == (None if other == sys.executable else other)
    assert "Runs from now on use Python 3." in window.statusBar().currentMessage()
    window.start_run()
    run = window.run
    qtbot.waitUntil(lambda: run.python is not None, timeout=10_000)
    assert run.python.split()[0] == _version_of(other)
    qtbot.waitUntil(lambda: run.state is RunState.FINISHED, timeout=10_000)


def _another_python() -> str:
    """Another CPython 3.11+ if this machine has one (pyenv), else this one."""
    root = Path.home() / ".pyenv" / "versions"
    for python in sorted(root.glob("3.1[2-9]*/bin/python")):
        return str(python)
    return sys.executable


def _version_of(python: str) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def test_a_bad_engine_interpreter_on_the_command_line_is_one_line(capsys, tmp_path):
    assert main(["--engine-python", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("queue-visualizer: error: --engine-python: ")
    assert "cannot run it" in err


def test_a_saved_engine_interpreter_that_broke_falls_back_with_a_note(tmp_path):
    settings = QSettings(os.environ["QUEUE_VISUALIZER_SETTINGS"], QSettings.Format.IniFormat)
    settings.setValue(ENGINE_PYTHON, str(tmp_path / "gone" / "python"))
    settings.sync()
    script = textwrap.dedent(
        """
        from visualizer.ui.settings import open_settings, saved_engine_python
        print(saved_engine_python(open_settings()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    ).stdout
    assert out.startswith("(None, \"Runs use this window's Python: the chosen engine")


def test_closing_the_window_on_a_hung_run_process_kills_it(hostile_window, qtbot):
    window = hostile_window("test-gil-hog")
    window.start_run()
    run = window.run
    qtbot.waitUntil(lambda: not run.responding, timeout=10_000)
    pid = run.process.pid
    window.close()  # waits for the process: the window is going, nothing may outlive it
    assert reaped(pid) and gone(pid)
    assert run.exit_report is not None and run.exit_report.how == "killed"
    assert run.state is RunState.STOPPED

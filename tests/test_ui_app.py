"""The command line of the window: bad arguments cost one line and exit status 2."""

from __future__ import annotations

import sys
import threading

import pytest

from visualizer.ui.app import main, parse_args
from visualizer.ui.errors import ErrorReporter


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--workers", "0"], "--workers: must be between 1 and 64"),
        (["--strategy", "nope"], "--strategy: invalid choice"),
        (["--rate", "fast"], "--rate: invalid float value"),
        (["--quit-after", "-1"], "--quit-after: must be more than 0"),
        (["--race-window", "5"], "--race-window: must be between 0 and 1"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("queue-visualizer: error: ")
    assert expected in err


def test_workload_options_reach_the_workload():
    args, workload = parse_args(
        ["--strategy", "unsafe", "--workers", "8", "--race-window", "0.001", "--run"]
    )
    assert (workload.strategy, workload.workers, workload.race_window) == ("unsafe", 8, 0.001)
    assert args.run and args.quit_after is None


def test_a_screenshot_quits_by_itself():
    args, _ = parse_args(["--screenshot", "out.png"])
    assert args.quit_after == 3.0


def test_help_exits_cleanly(capsys):
    assert main(["--help"]) == 0
    assert "--strategy" in capsys.readouterr().out


@pytest.mark.qt_no_exception_capture
def test_uncaught_exceptions_are_reported_not_lost(qtbot):
    reporter = ErrorReporter()
    reporter.install()
    try:
        with qtbot.waitSignal(reporter.reported, timeout=2000) as blocker:
            try:
                raise RuntimeError("slot blew up")
            except RuntimeError:
                sys.excepthook(*sys.exc_info())
        assert blocker.args[0] == "RuntimeError: slot blew up"
        assert "Traceback" in blocker.args[1]

        def fail() -> None:
            raise ValueError("thread blew up")

        with qtbot.waitSignal(reporter.reported, timeout=2000) as blocker:
            thread = threading.Thread(target=fail, name="doomed")
            thread.start()
            thread.join()
        assert blocker.args[0] == "doomed: ValueError: thread blew up"
    finally:
        reporter.uninstall()

"""The command line: one-line errors with status 2, a summary from ``run``, GUI dispatch."""

from __future__ import annotations

import sys
import types

import pytest
from helpers import run_python

from visualizer import __version__
from visualizer.cli import EXIT_NO_GUI, EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main

QUICK_RUN = ["run", "--tasks", "60", "--rate", "0", "--work-time", "0"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--workers", "-3"], "--workers: must be between 1 and 64"),
        (["run", "--workers", "many"], "argument --workers: invalid int value: 'many'"),
        (["run", "--strategy", "nope"], "--strategy: unknown 'nope'"),
        (["run", "--rate", "fast"], "invalid float value: 'fast'"),
        (["run", "--cancel-probability", "2"], "--cancel-probability: must be between 0 and 1"),
        (["run", "--work-distribution", "normal"], "--work-distribution: must be one of"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["bench", "--strategy", "nope"], "--strategy: unknown 'nope'"),
        (["bench", "--section", "nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_arguments_get_one_line_and_status_2(argv, fragment, capsys):
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert fragment in lines[0]
    assert "Traceback" not in captured.err


def test_version(capsys):
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"queue-visualizer {__version__}"


def test_run_prints_a_summary(capsys):
    assert main([*QUICK_RUN, "--strategy", "global-lock", "--cancel-probability", "0.1"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "strategy global-lock" in out
    assert "finished after" in out and "added 60" in out
    assert "throughput:" in out and "tasks/s" in out
    assert "wait p50 / p99 µs" in out and "hold p50 / p99 µs" in out
    assert "\nqueue " in out  # the global lock's row
    assert "invariant violations: none" in out
    assert "errors caught in run threads: none" in out


def test_run_reports_violations_with_status_1(capsys):
    argv = ["run", "--strategy", "unsafe", "--producers", "4", "--workers", "4", "--tasks", "400"]
    argv += ["--rate", "0", "--work-time", "0", "--race-window", "0.001"]
    assert main(argv) == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    assert "invariant violations: " in out and "invariant violations: none" not in out


def test_python_m_visualizer_runs_headless_without_qt():
    """The real entry point, in a child process: no Qt is imported for ``run``."""
    code = (
        "import sys, runpy; sys.argv = ['visualizer', *sys.argv[1:]];\n"
        "try:\n    runpy.run_module('visualizer', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert 'PySide6' not in sys.modules, 'Qt was imported'\n"
        "    raise\n"
    )
    result = run_python("-c", code, *QUICK_RUN)
    assert result.returncode == EXIT_OK, result.stderr
    assert "throughput:" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.fixture
def fake_gui(monkeypatch):
    """Stands in for visualizer.ui.app so dispatch is tested without opening Qt."""
    calls: list[list[str]] = []
    module = types.ModuleType("visualizer.ui.app")

    def gui_main(argv):
        calls.append(list(argv))
        return 0

    module.main = gui_main
    monkeypatch.setitem(sys.modules, "visualizer.ui.app", module)
    return calls


@pytest.mark.parametrize(
    ("argv", "passed"),
    [
        ([], []),
        (["--strategy", "rlock"], ["--strategy", "rlock"]),
        (["gui", "--quit-after", "1"], ["--quit-after", "1"]),
    ],
)
def test_no_sub_command_opens_the_window(fake_gui, argv, passed):
    assert main(argv) == EXIT_OK
    assert fake_gui == [passed]


def test_missing_gui_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "visualizer.ui.app", None)  # import raises ImportError
    assert main([]) == EXIT_NO_GUI
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "the window is not available" in err[0]

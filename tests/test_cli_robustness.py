"""The command line under signals, full disks and odd arguments (issue 14, items 3, 7, 8, 9, 11).

Each case ends in a summary and a complete log, or one line on stderr and a
non-zero status: never a traceback, a run left crawling, or a file overwritten.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from visualizer.cli import EXIT_UNVERIFIED, EXIT_USAGE, EXIT_VIOLATIONS, main
from visualizer.events import MARK, TASK_ADDED, Batch
from visualizer.queues import STRATEGIES, GlobalLockQueue
from visualizer.recording import LogWriter, load_log

ROOT = Path(__file__).resolve().parents[1]


def one_line(err: str, command: str = "run") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"visualizer {command}: error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "--record", ""], "--record: give a file name"),
        (["run", "--record", "  "], "--record: give a file name"),
        (["run", "--scenario", "lost-update", "--strategy", "rlock"], "--strategy: a scenario"),
        (["run", "--record", "/dev/full", "--tasks", "10"], "--record: cannot write /dev/full"),
    ],
    ids=["empty-record", "blank-record", "strategy-with-scenario", "dev-full"],
)
def test_odd_run_arguments_are_one_line_and_status_2(argv, words, capsys):
    if argv[-3:-1] == ["/dev/full", "--tasks"] and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert words in one_line(captured.err) and captured.out == ""


def test_a_disk_that_fills_mid_run_stops_the_run_at_once_with_one_line(
    tmp_path, capsys, monkeypatch
):
    """Item 3: the recorder died and a 100 000-task run crawled on for minutes."""
    from visualizer.recording import writer

    calls = {"n": 0}
    original = writer.LogWriter.write_batch

    def fill_up(self, batch):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, batch)

    monkeypatch.setattr(writer.LogWriter, "write_batch", fill_up)
    log = tmp_path / "full.jsonl"
    status = main(
        ["run", "--tasks", "0", "--rate", "200", "--work-time", "0", "--record", str(log)]
    )
    captured = capsys.readouterr()
    assert status == EXIT_USAGE
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 1 and "No space left on device" in errors[0], captured.err
    assert "the run was stopped" in errors[0] and "Traceback" not in captured.err
    assert captured.out.splitlines()[1].startswith("stopped after")  # the summary, still
    assert not load_log(log, allow_truncated=True).complete  # no end line: cut short, honestly


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(
    "number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"]
)
def test_a_signal_ends_run_like_ctrl_c_with_a_summary_and_a_complete_log(tmp_path, number):
    """Item 7: SIGTERM killed `run --record` at once; the log kept only its first second."""
    log = tmp_path / "signalled.jsonl.gz"
    argv = [sys.executable, "-m", "visualizer", "run", "--tasks", "0", "--rate", "0"]
    argv += ["--work-time", "0", "--record", str(log)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stderr.readline().startswith("running until Ctrl-C")
        assert "produced" in child.stderr.readline()  # a progress line: the run is going
        child.send_signal(number)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "Traceback" not in err and "recorded" in err
    assert out.splitlines()[1].startswith("stopped after")
    recorded = load_log(log)  # complete, with its end line
    assert recorded.complete and recorded.total > 1000
    assert recorded.events[-1][2] == MARK and recorded.events[-1][3] == "run stopped"


def write_log(path: Path, events: list[tuple], dropped: int = 0) -> None:
    with LogWriter(path, settings={"tasks": 2}, strategy="global-lock") as writer:
        writer.write_batch(Batch(dropped, events, dropped))


@pytest.mark.parametrize("how", ["same-path", "symlink", "hard-link", "relative"])
def test_export_refuses_to_overwrite_the_log_it_reads(tmp_path, capsys, how, monkeypatch):
    """Item 8: `export LOG --chrome-trace LOG` overwrote the log and exited 0."""
    log = tmp_path / "run.jsonl"
    write_log(log, [(1, 1, MARK, "run started", None, None)])
    before = log.read_bytes()
    target = {
        "same-path": log,
        "symlink": tmp_path / "link.json",
        "hard-link": tmp_path / "hard.json",
        "relative": Path("run.jsonl"),
    }[how]
    if how == "symlink":
        target.symlink_to(log)
    elif how == "hard-link":
        os.link(log, target)
    monkeypatch.chdir(tmp_path)
    for flag in ("--chrome-trace", "--anomalies-csv"):
        assert main(["export", str(log), flag, str(target)]) == EXIT_USAGE
        line = one_line(capsys.readouterr().err, "export")
        assert "is the log being read" in line and flag in line
    assert log.read_bytes() == before


def test_export_refuses_one_file_for_both_outputs(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    write_log(log, [(1, 1, MARK, "run started", None, None)])
    out = str(tmp_path / "out")
    assert main(["export", str(log), "--chrome-trace", out, "--anomalies-csv", out]) == 2
    assert "name the same file" in one_line(capsys.readouterr().err, "export")


def test_a_replayed_log_with_dropped_events_is_unverified_not_clean(tmp_path, capsys):
    """Item 9: 96 % of events dropped, the checks off, and still exit 0."""
    log = tmp_path / "drops.jsonl"
    events = [
        (1, 1, MARK, "run started", None, None),
        (2, 1, TASK_ADDED, 1, 0, 1),
        (3, 1, MARK, "run finished", None, None),
    ]
    write_log(log, events, dropped=500)
    assert main(["replay", str(log)]) == EXIT_UNVERIFIED
    out = capsys.readouterr().out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("verdict: unverified: 500 events were dropped")
    write_log(log, events)
    assert main(["replay", str(log)]) == EXIT_VIOLATIONS  # checked: task 1 was lost
    assert "lost-task" in capsys.readouterr().out


class Leaky(GlobalLockQueue):
    """Drops every fifth task on the floor without a single event: the blind spot."""

    name = "leaky"

    def add_task(self, task_id, priority, payload=None):
        if task_id % 5 == 0:
            return
        super().add_task(task_id, priority, payload)


def test_a_task_the_queue_drops_without_any_event_is_reported(capsys, monkeypatch):
    """Item 9: such a task was never reported (exit 0)."""
    monkeypatch.setitem(STRATEGIES, "leaky", Leaky)
    status = main(
        ["run", "--strategy", "leaky", "--tasks", "100", "--rate", "0", "--work-time", "0"]
    )
    out = capsys.readouterr().out
    assert status == EXIT_VIOLATIONS
    assert "20 tasks vanished without a single event" in out, out


def test_a_long_log_replays_and_exports_in_one_streamed_pass(tmp_path, capsys):
    """Logs of any length load: the reader no longer stops at 5 million events, and the
    command line keeps nothing per event (checked here on a smaller log)."""
    log = tmp_path / "long.jsonl.gz"
    events = [(i, 1 + i % 2, MARK, f"m{i % 10}", i, None) for i in range(200_000)]
    events.append((200_000, 1, MARK, "run finished", None, None))
    write_log(log, events)
    assert main(["replay", str(log)]) == 0
    assert "200,001 events" in capsys.readouterr().out
    trace = tmp_path / "trace.json"
    assert main(["export", str(log), "--chrome-trace", str(trace)]) == 0
    assert len(json.loads(trace.read_text())["traceEvents"]) > 200_000

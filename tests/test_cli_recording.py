"""The command line's record, replay and export: round trips, traces, and every bad file."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from helpers import run_python

import visualizer.cli.run
import visualizer.model
from visualizer.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main
from visualizer.recording import load_log
from visualizer.recording.replay import fold_log

QUICK_RUN = ["run", "--tasks", "120", "--rate", "0", "--work-time", "0.0005"]
UNSAFE_RUN = [
    *("run", "--strategy", "unsafe", "--producers", "4", "--workers", "4", "--tasks", "400"),
    *("--rate", "0", "--work-time", "0", "--race-window", "0.001"),
]
TIMING_LINES = re.compile(r"^(\w+ after [\d.]+ s|throughput: [\d.]+ tasks/s)")


@pytest.fixture
def live_models(monkeypatch) -> list[visualizer.model.RunModel]:
    """Every RunModel the command line makes, so a test can compare the live one."""
    made: list[visualizer.model.RunModel] = []

    class Spy(visualizer.model.RunModel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(visualizer.cli.run, "RunModel", Spy)
    return made


def model_state(model: visualizer.model.RunModel) -> dict:
    """What every view reads, in comparable form."""
    return {
        "summary": model.summary(),
        "statuses": dict(model.tasks.status),
        "heap": list(model.heap.entries),
        "anomalies": [(v.kind, v.seq, v.task, v.lock, v.threads) for v in model.anomalies],
        "threads": {i: (t.name, t.role, t.alive) for i, t in model.threads.items()},
        "holders": {name: dict(lock.holders) for name, lock in model.locks.locks.items()},
        "series": {k: [a.tolist() for a in v] for k, v in model.metrics.series().items()},
        "finished": model.finished,
    }


def without_timing(text: str) -> list[str]:
    """Summary lines, less the two that hold the wall-clock duration.

    The live run times itself from ``Run.started_ns``; a replay from the start
    mark recorded a moment later, so those figures differ by microseconds.
    """
    return [TIMING_LINES.sub("<timing>", line) for line in text.splitlines()]


@pytest.mark.parametrize("name", ["run.jsonl", "run.jsonl.gz"])
def test_record_then_replay_gives_the_live_model_and_summary(tmp_path, capsys, live_models, name):
    log = tmp_path / name
    assert main([*QUICK_RUN, "--cancel-probability", "0.2", "--record", str(log)]) == EXIT_OK
    captured = capsys.readouterr()
    live_out = captured.out
    assert f"events to {log}" in captured.err
    [live] = live_models

    assert main(["replay", str(log)]) == EXIT_OK
    replay_out = capsys.readouterr().out
    assert without_timing(replay_out) == without_timing(live_out)
    assert "finished after" in replay_out and "added 120" in replay_out

    recorded = load_log(log)
    assert recorded.settings["tasks"] == 120 and recorded.settings["cancel_probability"] == 0.2
    assert recorded.strategy == "global-lock"
    assert model_state(fold_log(recorded)) == model_state(live)
    with open(log, "rb") as file:
        assert (file.read(2) == b"\x1f\x8b") == name.endswith(".gz")


def test_replay_of_a_broken_run_shows_the_same_violations_with_status_1(
    tmp_path, capsys, live_models
):
    log = tmp_path / "unsafe.jsonl"
    assert main([*UNSAFE_RUN, "--record", str(log)]) == EXIT_VIOLATIONS
    live_out = capsys.readouterr().out
    [live] = live_models
    assert live.anomalies

    assert main(["replay", str(log)]) == EXIT_VIOLATIONS
    replay_out = capsys.readouterr().out
    assert without_timing(replay_out) == without_timing(live_out)
    assert model_state(fold_log(load_log(log))) == model_state(live)


def test_export_writes_a_chrome_trace_with_a_track_per_thread(tmp_path, capsys):
    log, out = tmp_path / "run.jsonl.gz", tmp_path / "trace.json"
    assert main([*QUICK_RUN, "--producers", "2", "--workers", "3", "--record", str(log)]) == 0
    assert main(["export", str(log), "--chrome-trace", str(out)]) == EXIT_OK
    assert f"trace events to {out}" in capsys.readouterr().out

    trace = json.loads(out.read_text(encoding="utf-8"))
    events = trace["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert {"producer-1", "producer-2", "worker-1", "worker-2", "worker-3"} <= set(names.values())
    by_track: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        if event["ph"] != "M":
            by_track[names.get(event.get("tid"), "")].append(event)
    for worker in ("worker-1", "worker-2", "worker-3"):
        track = by_track[worker]
        assert any(e["ph"] == "B" and e["name"].startswith("task ") for e in track)
        assert any(e["ph"] == "B" and e["name"].startswith("hold ") for e in track)
        begins = sum(e["ph"] == "B" for e in track)
        assert begins == sum(e["ph"] == "E" for e in track)
    for producer in ("producer-1", "producer-2"):
        assert any(e["name"].startswith("add task") for e in by_track[producer])
    starts = {e["id"] for e in events if e["ph"] == "s"}
    finishes = {e["id"] for e in events if e["ph"] == "f"}
    assert len(starts) >= 120 and starts == finishes  # one hand-off arrow per delivered task


def test_export_anomalies_csv_lists_what_replay_finds(tmp_path, capsys):
    log, out = tmp_path / "unsafe.jsonl", tmp_path / "anomalies.csv"
    assert main([*UNSAFE_RUN, "--record", str(log)]) == EXIT_VIOLATIONS
    capsys.readouterr()
    assert main(["export", str(log), "--anomalies-csv", str(out)]) == EXIT_OK
    with open(out, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    expected = fold_log(load_log(log)).anomalies
    assert len(rows) == len(expected) > 0
    assert [row["kind"] for row in rows] == [v.kind for v in expected]
    assert f"wrote {len(rows)} anomalies" in capsys.readouterr().out


# --- bad files -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "good.jsonl"
    assert main([*QUICK_RUN, "--record", str(path)]) == EXIT_OK
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def make_truncated(good: Path, bad: Path) -> None:
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) * 2 // 3])


def make_malformed(good: Path, bad: Path) -> None:
    lines = _lines(good)
    lines[2] = b'[[1, 2, 3, "LOCK_ACQ\n'
    bad.write_bytes(b"".join(lines))


def make_wrong_version(good: Path, bad: Path) -> None:
    lines = _lines(good)
    header = json.loads(lines[0])
    header["version"] = 99
    bad.write_bytes(b"".join([json.dumps(header).encode() + b"\n", *lines[1:]]))


def make_huge(good: Path, bad: Path) -> None:
    """A good log followed by 1 GiB of zero bytes (a sparse file: no disk used): refused at
    the first line over the length limit, without reading the rest."""
    bad.write_bytes(good.read_bytes())
    with open(bad, "r+b") as file:
        file.truncate((1 << 30) + 1)


def make_not_a_log(good: Path, bad: Path) -> None:
    bad.write_text("name,value\nqueue,3\n", encoding="utf-8")


def make_empty(good: Path, bad: Path) -> None:
    bad.write_bytes(b"")


def make_corrupt_gzip(good: Path, bad: Path) -> None:
    packed = bytearray(gzip.compress(good.read_bytes()))
    packed[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)
    bad.write_bytes(bytes(packed))


def make_unknown_kind(good: Path, bad: Path) -> None:
    lines = _lines(good)
    lines[1] = re.sub(rb'"LOCK_(ACQUIRED|HELD)"', b'"__import__"', lines[1], count=1)
    bad.write_bytes(b"".join(lines))


BAD_FILES = {
    "truncated": (make_truncated, "cut short"),
    "malformed": (make_malformed, "malformed JSON"),
    "wrong-version": (make_wrong_version, "version 99 is newer"),
    "huge": (make_huge, "longer than 8388608 bytes (the limit)"),
    "not-a-log": (make_not_a_log, "not a queue-visualizer log"),
    "empty": (make_empty, "the file is empty"),
    "corrupt-gzip": (make_corrupt_gzip, "gzip"),
    "unknown-kind": (make_unknown_kind, "unknown event kind '__import__'"),
}


@pytest.mark.parametrize("command", ["replay", "export"])
@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_each_bad_file_is_one_line_and_status_2(tmp_path, capsys, good_log, command, kind):
    make, words = BAD_FILES[kind]
    bad = tmp_path / f"{kind}.jsonl"
    make(good_log, bad)
    argv = [command, str(bad)]
    if command == "export":
        argv += ["--chrome-trace", str(tmp_path / "out.json")]
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"visualizer {command}: error: {bad}: ")
    assert words in lines[0]
    assert not (tmp_path / "out.json").exists()


def test_missing_file(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == EXIT_USAGE
    [line] = capsys.readouterr().err.splitlines()
    assert "cannot open the file" in line


def test_a_truncated_log_can_be_replayed_on_request(tmp_path, capsys, good_log):
    bad = tmp_path / "cut.jsonl"
    make_truncated(good_log, bad)
    status = main(["replay", str(bad), "--allow-truncated"])
    assert status in (EXIT_OK, EXIT_VIOLATIONS)
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "loaded the" in captured.err
    assert "strategy global-lock" in captured.out


def test_the_real_entry_point_exits_2_without_a_traceback(tmp_path, good_log):
    bad = tmp_path / "cut.jsonl"
    make_truncated(good_log, bad)
    result = run_python("-m", "visualizer", "replay", str(bad))
    assert result.returncode == EXIT_USAGE
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


# --- arguments -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["export", "LOG"], "give --chrome-trace OUT.json and/or --anomalies-csv OUT.csv"),
        (["export", "LOG", "--chrome-trace", "/no/such/folder/t.json"], "does not exist"),
        (["replay"], "the following arguments are required: LOG"),
        ([*QUICK_RUN, "--record", "/no/such/folder/run.jsonl"], "--record: cannot write"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(tmp_path, capsys, argv, fragment):
    argv = [str(tmp_path / "x.jsonl") if arg == "LOG" else arg for arg in argv]
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert fragment in line

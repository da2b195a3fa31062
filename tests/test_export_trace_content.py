"""What an exported trace says: parsed back, checked against the checker and the run.

Each test exports a trace the way a user does (the command line or the builder
the window uses), reads the JSON back, and checks one promise: errored tasks end
where the error was recorded, every checker violation sits on the threads it
names, a deadlock lasts until the export, the process is named after the run,
no thread is Perfetto's "main thread", ``.gz`` means gzip.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from time import monotonic, perf_counter_ns

from test_export_chrome_trace import check_trace, ev, slices, tracks_by_name

from visualizer.cli import EXIT_OK, EXIT_VIOLATIONS, main
from visualizer.engine import Drainer, RunState
from visualizer.engine.scenarios import load_scenario
from visualizer.events import (
    LOCK_ACQUIRED,
    LOCK_REQUESTED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_STARTED,
    VIOLATION,
    Batch,
)
from visualizer.export import build_trace
from visualizer.model import RunModel
from visualizer.recording import LogWriter, load_log
from visualizer.recording.replay import fold_log, title_of

UNSAFE_RUN = [
    *("run", "--strategy", "unsafe", "--producers", "4", "--workers", "4", "--tasks", "400"),
    *("--rate", "0", "--work-time", "0.001", "--race-window", "0.001"),
]


def process_name(trace: dict) -> str:
    (meta,) = [e for e in trace["traceEvents"] if e["name"] == "process_name"]
    return meta["args"]["name"]


def thread_names(trace: dict) -> dict[int, str]:
    return {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}


def violation_instants(trace: dict) -> list[dict]:
    return [e for e in trace["traceEvents"] if e["ph"] == "i" and e.get("cat") == "violation"]


def test_an_errored_task_ends_where_the_error_was_recorded():
    """A worker that fails on a task moves on: its slice must not swallow the next ones."""
    error = "worker-1: ValueError: task 1 is completed, not processing"
    events = [
        ev(0, 1, THREAD_STARTED, "worker-1", "worker"),
        ev(1_000, 1, TASK_POPPED, 1, 0),
        ev(2_000, 1, TASK_STARTED, 1),
        ev(5_000, 1, VIOLATION, "worker-error", 1, error),
        ev(6_000, 1, TASK_POPPED, 2, 0),
        ev(7_000, 1, TASK_STARTED, 2),
        ev(9_000, 1, TASK_COMPLETED, 2, "processing"),
        ev(60_000_000, 2, LOCK_ACQUIRED, "queue", "x", 1),  # the run goes on a minute
    ]
    track = tracks_by_name(build_trace(events))["worker-1"]
    assert slices(track, "task ") == [
        (2.0, 5.0, {"task": 1, "outcome": "error", "error": error}),
        (7.0, 9.0, {"task": 2, "outcome": "completed"}),
    ]


def test_every_checker_violation_of_an_unsafe_run_sits_on_its_threads(tmp_path, capsys):
    log, out = tmp_path / "unsafe.jsonl.gz", tmp_path / "unsafe.json.gz"
    assert main([*UNSAFE_RUN, "--record", str(log)]) == EXIT_VIOLATIONS
    assert main(["export", str(log), "--chrome-trace", str(out)]) == EXIT_OK
    capsys.readouterr()
    raw = out.read_bytes()
    assert raw[:2] == b"\x1f\x8b", "a .gz name means a gzip file"
    trace = json.loads(gzip.decompress(raw))
    by_tid = check_trace(trace)
    assert process_name(trace) == "unsafe"
    names = thread_names(trace)
    assert 1 not in names and trace["traceEvents"][0]["pid"] == 1

    anomalies = fold_log(load_log(log)).anomalies
    kinds = Counter(v.kind for v in anomalies)
    # More than the worker errors the run recorded itself: the checker's own findings.
    assert "double-delivery" in kinds and len(kinds) >= 3
    instants = violation_instants(trace)
    expected: Counter = Counter()
    for v in anomalies:
        for name in dict.fromkeys(v.threads) or ("",):
            expected[v.kind, v.detail, name] += 1
    found = Counter(
        (e["args"]["kind"], e["args"]["detail"], names.get(e.get("tid"), "")) for e in instants
    )
    assert found == expected
    two_workers = [e for e in instants if e["args"]["kind"] == "double-delivery"]
    assert len({e["tid"] for e in two_workers}) >= 2

    # No task stays "running": every slice ends completed or at its worker's error.
    outcomes: Counter = Counter()
    for track in by_tid.values():
        depth = 0
        for event in track:
            if event["name"].startswith("task ") and event["ph"] in "BE":
                depth += 1 if event["ph"] == "B" else -1
                assert depth <= 1, "task slices never nest"
        outcomes.update(args.get("outcome") for *_, args in slices(track, "task "))
    assert set(outcomes) <= {"completed", "error"}
    assert outcomes["error"] <= kinds["worker-error"]
    assert (outcomes["error"] > 0) == (kinds["worker-error"] > 0)


def test_a_deadlock_exported_mid_way_lasts_until_the_export():
    scenario = load_scenario("lock-ordering")
    run = scenario.make_run(seed=5)
    model = RunModel(thread_name=run.recorder.thread_name)
    batches: list[Batch] = []

    def keep(batch: Batch) -> None:
        batches.append(batch)
        model.apply(batch)

    drainer = Drainer(run.recorder, keep)
    drainer.start()
    run.start()
    try:
        deadline = monotonic() + 20
        while not any(v.kind == "deadlock" for v in model.anomalies):
            assert monotonic() < deadline and run.state is RunState.RUNNING
            run.wait(0.02)
        last_event = batches[-1].events[-1][0]
        run.wait(0.2)  # the deadlock goes on; nothing more is recorded
        export_ns = perf_counter_ns()
        trace = build_trace(
            [e for b in list(batches) for e in b.events],
            run.recorder.thread_name,
            title=run.label,
            violations=list(model.anomalies),
            end_ns=export_ns,
        )
    finally:
        run.stop()
        drainer.stop()

    tracks = tracks_by_name(trace)
    assert process_name(trace) == "lock-ordering (not fixed)"
    origin = trace["otherData"]["time_origin_ns"]
    (deadlock,) = [v for v in model.anomalies if v.kind == "deadlock"]
    assert set(deadlock.threads) == {"teller-1", "teller-2"}
    for teller in ("teller-1", "teller-2"):
        (instant,) = [e for e in tracks[teller] if e.get("cat") == "violation"]
        assert instant["name"] == "violation: deadlock" and instant["s"] == "t"
        assert set(instant["args"]["locks"].split(", ")) == {"account A", "account B"}
        assert instant["args"]["threads"] == ", ".join(deadlock.threads)
        waits = slices(tracks[teller], "wait account")
        assert waits, teller
        begin, end, args = waits[-1]
        assert args["unfinished"] is True
        assert end == (export_ns - origin) / 1000 > (last_event - origin) / 1000


def test_a_scenario_log_is_titled_after_it_and_reaches_until_it_was_saved(tmp_path, capsys):
    """The header says which scenario ran; the end line how long the recording reaches."""
    events = [
        ev(1_000, 7, THREAD_STARTED, "teller-1", "teller"),
        ev(2_000, 7, LOCK_ACQUIRED, "account A", "x", 1),
        ev(3_000, 8, THREAD_STARTED, "teller-2", "teller"),
        ev(4_000, 8, LOCK_REQUESTED, "account A", "x", 7),
    ]
    log = tmp_path / "saved.jsonl"
    scenario = {"name": "lock-ordering", "fixed": False, "params": {"rounds": 20}}
    until = 3_004_000
    header = {"settings": {}, "strategy": "global-lock", "scenario": scenario}
    with LogWriter(log, **header, until_ns=until) as w:
        w.write_batch(Batch(0, events, 0))
    recorded = load_log(log)
    assert recorded.scenario == scenario and recorded.until_ns == until
    assert title_of(recorded) == "lock-ordering (not fixed)"

    out = tmp_path / "trace.json"
    assert main(["export", str(log), "--chrome-trace", str(out)]) == EXIT_OK
    trace = json.loads(out.read_text(encoding="utf-8"))
    assert process_name(trace) == "lock-ordering (not fixed)"
    assert trace["otherData"]["title"] == "lock-ordering (not fixed)"
    (wait,) = slices(tracks_by_name(trace)["teller-2"], "wait")
    assert wait[:2] == (3.0, 3003.0)  # from 4 us to the save, 3 ms after the start

    plain = tmp_path / "plain.jsonl"
    with LogWriter(plain, settings={}, strategy="rlock") as w:
        w.write_batch(Batch(0, events, 0))
    recorded = load_log(plain)
    assert recorded.scenario is None and recorded.until_ns is None
    assert main(["export", str(plain), "--chrome-trace", str(out)]) == EXIT_OK
    trace = json.loads(out.read_text(encoding="utf-8"))
    assert process_name(trace) == "rlock"
    (wait,) = slices(tracks_by_name(trace)["teller-2"], "wait")
    assert wait[:2] == (3.0, 3.0)  # nothing says the log reaches further: its last event
    capsys.readouterr()


def test_a_header_with_a_malformed_scenario_is_read_as_a_strategy_log(tmp_path):
    log = tmp_path / "odd.jsonl"
    with LogWriter(log, settings={}, strategy="rlock", scenario={"name": 5}) as w:
        w.write_batch(Batch(0, [ev(1, 1, THREAD_STARTED, "a", "worker")], 0))
    recorded = load_log(log)
    assert recorded.scenario is None and title_of(recorded) == "rlock"


def test_thread_ids_never_take_the_process_id_even_when_idents_are_small():
    events = [ev(i, ident, LOCK_ACQUIRED, f"l{ident}", "x", 1) for i, ident in enumerate((1, 2))]
    trace = build_trace(events)
    check_trace(trace)
    tids = set(thread_names(trace))
    assert tids == {2, 3}
    assert {e["pid"] for e in trace["traceEvents"]} == {1}

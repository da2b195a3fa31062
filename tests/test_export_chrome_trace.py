"""Chrome trace / Perfetto export: parse the JSON back and check tracks, slices and flows."""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict

from helpers import run_threads, spying_recorder

from visualizer.events import (
    COND_WAIT,
    LOCK_ACQUIRED,
    LOCK_HELD,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    MARK,
    TASK_ADDED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    VIOLATION,
    Batch,
    Recorder,
)
from visualizer.export import build_trace, export_chrome_trace
from visualizer.queues import GlobalLockQueue, Tracer
from visualizer.recording import LogWriter, load_log


def check_trace(trace: dict) -> dict[int, list[dict]]:
    """Assert what Perfetto and chrome://tracing need; return events by tid.

    Per thread: begin/end properly nested with matching names, time never going
    backwards; the whole list sorted by time; every flow one ``s`` and one ``f``
    sharing cat/name/id, each placed right after what it binds to.
    """
    events = trace["traceEvents"]
    json.loads(json.dumps(trace, allow_nan=False))  # strict JSON: what a browser parses
    meta = [e for e in events if e["ph"] == "M"]
    timed = [e for e in events if e["ph"] != "M"]
    assert events[: len(meta)] == meta, "metadata comes first"
    assert all(e["pid"] == 1 for e in events)
    # Perfetto calls the thread whose tid is the pid "main thread": none of ours is.
    assert all(e.get("tid") != 1 for e in events)
    times = [e["ts"] for e in timed]
    assert times == sorted(times) and all(isinstance(t, int | float) for t in times)
    assert not timed or min(times) >= 0
    names = {e["tid"]: e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    by_tid: dict[int, list[dict]] = defaultdict(list)
    for event in timed:
        if event["ph"] in "BEisf" and event.get("s") in (None, "t"):
            by_tid[event["tid"]].append(event)
    assert set(by_tid) <= set(names), "every track is named"
    for tid, track in by_tid.items():
        stack: list[str] = []
        for before, event in zip([None, *track], track, strict=False):
            if event["ph"] == "B":
                stack.append(event["name"])
            elif event["ph"] == "E":
                assert stack and stack.pop() == event["name"], (names[tid], event)
            elif event["ph"] == "s":  # after its add (or the add's other arrows)
                assert before["ph"] == "s" or before["name"].startswith("add task ")
                assert before["ts"] == event["ts"]
            elif event["ph"] == "f":
                assert event["bp"] == "e"
                assert before["ts"] == event["ts"]
                assert (before["ph"], before["name"].split()[0]) in (("B", "task"), ("i", "pop"))
            for value in event.get("args", {}).values():
                assert value is None or isinstance(value, bool | int | float | str)
        assert not stack, f"{names[tid]} has unclosed slices {stack}"
    flows: dict[int, list[dict]] = defaultdict(list)
    for event in timed:
        if event["ph"] in "sf":
            flows[event["id"]].append(event)
    for pair in flows.values():
        assert [e["ph"] for e in pair] == ["s", "f"]
        assert pair[0]["cat"] == pair[1]["cat"] and pair[0]["name"] == pair[1]["name"]
        assert pair[0]["ts"] <= pair[1]["ts"], "Perfetto drops an arrow going back in time"
    return {tid: track for tid, track in by_tid.items()}


def tracks_by_name(trace: dict) -> dict[str, list[dict]]:
    by_tid = check_trace(trace)
    names = {
        e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"
    }
    return {names[tid]: track for tid, track in by_tid.items()}


def slices(track: list[dict], prefix: str) -> list[tuple[float, float, dict]]:
    """(begin ts, end ts, merged args) of the slices on ``track`` named ``prefix``*."""
    result, stack = [], []
    for event in track:
        if event["ph"] == "B":
            stack.append(event)
        elif event["ph"] == "E":
            begin = stack.pop()
            if begin["name"].startswith(prefix):
                args = {**begin.get("args", {}), **event.get("args", {})}
                result.append((begin["ts"], event["ts"], args))
    return result


def test_contended_lock_gives_hold_and_wait_slices_on_two_tracks():
    recorder, requested = spying_recorder(LOCK_REQUESTED)
    lock = Tracer(recorder).lock("queue")
    holding = threading.Event()

    def holder() -> None:
        recorder.register_thread("holder")
        with lock:
            holding.set()
            assert requested.wait(5)  # keep holding until the other thread waits

    def waiter() -> None:
        recorder.register_thread("waiter")
        assert holding.wait(5)
        with lock:
            pass

    run_threads(("holder-1", holder), ("waiter-1", waiter))
    trace = build_trace(recorder.drain().events, recorder.thread_name)
    tracks = tracks_by_name(trace)

    (hold,) = slices(tracks["holder-1"], "hold queue")
    (wait,) = slices(tracks["waiter-1"], "wait queue")
    (waiter_hold,) = slices(tracks["waiter-1"], "hold queue")
    assert hold[0] < wait[0] < hold[1] <= wait[1] <= waiter_hold[0] < waiter_hold[1]
    assert wait[2] == {"mode": "exclusive", "holders": "holder-1", "outcome": "acquired"}
    assert hold[2]["mode"] == "exclusive"
    assert all(e["cat"] == "lock" for e in tracks["waiter-1"])


def test_flow_from_the_producer_that_added_to_the_worker_that_ran_it():
    recorder = Recorder()
    tracer = Tracer(recorder)
    queue = GlobalLockQueue(tracer)
    tasks = 12
    finished = threading.Event()
    leave = threading.Barrier(2)  # alive together: no ident reuse

    def produce() -> None:
        recorder.register_thread("producer")
        for task_id in range(tasks):
            queue.add_task(task_id, task_id % 3)
        leave.wait(10)

    def work() -> None:
        recorder.register_thread("worker")
        done = 0
        while done < tasks:
            task = queue.get_next_task()
            if task is None:
                finished.wait(0.0005)
                continue
            tracer.record(TASK_STARTED, task.task_id)
            queue.complete_task(task.task_id)
            done += 1
        leave.wait(10)

    run_threads(("producer-1", produce), ("worker-1", work))
    trace = build_trace(recorder.drain().events, recorder.thread_name)
    tracks = tracks_by_name(trace)
    tid = {name: track[0]["tid"] for name, track in tracks.items()}

    starts = {e["id"]: e for e in tracks["producer-1"] if e["ph"] == "s"}
    ends = {e["id"]: e for e in tracks["worker-1"] if e["ph"] == "f"}
    assert len(starts) == tasks and set(starts) == set(ends)
    for flow_id, start in starts.items():
        end = ends[flow_id]
        assert start["tid"] == tid["producer-1"] and end["tid"] == tid["worker-1"]
        assert start["ts"] <= end["ts"]
    adds = [e for e in tracks["producer-1"] if e["ph"] == "i" and e["name"].startswith("add")]
    assert sorted(a["args"]["task"] for a in adds) == list(range(tasks))
    work_slices = slices(tracks["worker-1"], "task ")
    assert len(work_slices) == tasks
    assert all(args["outcome"] == "completed" for _, _, args in work_slices)
    # Each task was completed under the queue lock, so its slice was split to nest.
    continued = [s for s in slices(tracks["worker-1"], "hold queue") if s[2].get("continued")]
    assert len(continued) == tasks


def test_condition_wait_nests_around_the_lock_it_releases():
    recorder, waiting = spying_recorder(COND_WAIT)
    condition = Tracer(recorder).condition("not_empty")
    ready = []

    def consumer() -> None:
        recorder.register_thread("worker")
        with condition:
            while not ready:
                condition.wait(1.0)

    def producer() -> None:
        recorder.register_thread("producer")
        assert waiting.wait(5)
        with condition:
            ready.append(1)
            condition.notify()

    run_threads(("worker-1", consumer), ("producer-1", producer))
    tracks = tracks_by_name(build_trace(recorder.drain().events, recorder.thread_name))
    waits = slices(tracks["worker-1"], "wait not_empty")
    assert any(args.get("notified") is True for _, _, args in waits)
    assert any(e["name"] == "notify not_empty" for e in tracks["producer-1"])


def ev(t: int, thread: int, kind: int, subject, a=None, b=None) -> tuple:
    return (t, thread, kind, subject, a, b)


def test_unfinished_slices_close_at_the_last_time_stamp_and_say_so():
    events = [
        ev(1_000, 1, THREAD_STARTED, "worker-1", "worker"),
        ev(2_000, 1, LOCK_ACQUIRED, "queue", "x", 1),
        ev(3_000, 2, THREAD_STARTED, "worker-2", "worker"),
        ev(4_000, 2, LOCK_REQUESTED, "queue", "x", 1),
        ev(9_500, 1, MARK, "stopped"),
    ]
    tracks = tracks_by_name(build_trace(events))
    (hold,) = slices(tracks["worker-1"], "hold")
    (wait,) = slices(tracks["worker-2"], "wait")
    assert hold == (1.0, 8.5, {"mode": "exclusive", "unfinished": True})
    assert wait[1] == 8.5 and wait[2]["unfinished"] is True and wait[2]["holders"] == "worker-1"


def test_timed_out_wait_and_reentrant_hold():
    events = [
        ev(0, 1, THREAD_STARTED, "a", "worker"),
        ev(10, 1, LOCK_ACQUIRED, "r", "x", 1),
        ev(20, 1, LOCK_ACQUIRED, "r", "x", 2),
        ev(30, 1, LOCK_RELEASED, "r", "x", 1),
        ev(40, 1, LOCK_RELEASED, "r", "x", 0),
        ev(50, 1, LOCK_REQUESTED, "m", "x", 99),
        ev(60, 1, LOCK_TIMED_OUT, "m", "x", None),
        ev(70, 1, LOCK_RELEASED, "never-held", "x", 0),
    ]
    track = tracks_by_name(build_trace(events, {99: "holder"}))["a"]
    assert slices(track, "hold r") == [(0.01, 0.04, {"mode": "exclusive"})]
    (wait,) = slices(track, "wait m")
    assert wait[2] == {"mode": "exclusive", "holders": "holder", "outcome": "timed out"}


def test_shared_holds_are_per_thread():
    events = [
        ev(0, 1, LOCK_ACQUIRED, "rw", "r", 1),
        ev(1, 2, LOCK_ACQUIRED, "rw", "r", 2),
        ev(2, 1, LOCK_RELEASED, "rw", "r", 1),
        ev(3, 3, LOCK_REQUESTED, "rw", "w", (2,)),
        ev(4, 2, LOCK_RELEASED, "rw", "r", 0),
        ev(5, 3, LOCK_ACQUIRED, "rw", "w", 1),
        ev(6, 3, LOCK_RELEASED, "rw", "w", 0),
    ]
    names = {1: "r1", 2: "r2", 3: "w"}
    tracks = tracks_by_name(build_trace(events, names.get))
    assert slices(tracks["r1"], "hold")[0][:2] == (0.0, 0.002)
    assert slices(tracks["r2"], "hold")[0][:2] == (0.001, 0.004)
    (wait,) = slices(tracks["w"], "wait")
    assert wait[2]["holders"] == "r2" and wait[2]["mode"] == "write"


def test_double_delivery_draws_two_arrows_and_an_unstarted_pop_ends_at_the_pop():
    events = [
        ev(0, 1, TASK_ADDED, 7, 5, 1),
        ev(1, 1, TASK_ADDED, 8, 5, 2),
        ev(2, 2, TASK_POPPED, 7, 5),
        ev(3, 3, TASK_POPPED, 7, 5),
        ev(4, 2, TASK_STARTED, 7),
        ev(5, 3, TASK_STARTED, 7),
        ev(6, 2, TASK_POPPED, 8, 5),
        ev(7, 2, TASK_COMPLETED, 7, "processing"),
    ]
    names = {1: "producer-1", 2: "worker-1", 3: "worker-2"}
    trace = build_trace(events, names)
    tracks = tracks_by_name(trace)
    starts = [e for e in tracks["producer-1"] if e["ph"] == "s"]
    assert len(starts) == 3 and len({e["id"] for e in starts}) == 3
    ends = {e["id"]: e for t in ("worker-1", "worker-2") for e in tracks[t] if e["ph"] == "f"}
    assert set(ends) == {e["id"] for e in starts}
    at_pop = [e for e in ends.values() if e["ts"] == 0.006]
    assert len(at_pop) == 1 and at_pop[0]["tid"] == tracks["worker-1"][0]["tid"]
    (unfinished,) = slices(tracks["worker-2"], "task 7")
    assert unfinished[2]["unfinished"] is True


def test_a_task_id_added_twice_points_each_pop_at_the_add_before_it():
    events = [
        ev(0, 1, TASK_ADDED, 1, 0, 1),
        ev(1, 3, TASK_POPPED, 1, 0),
        ev(2, 2, TASK_ADDED, 1, 0, 1),  # the same id again: a lost update
        ev(3, 3, TASK_POPPED, 1, 0),
        ev(4, 3, TASK_STARTED, 1),
        ev(5, 3, TASK_COMPLETED, 1, "processing"),
    ]
    trace = build_trace(events, {1: "producer-1", 2: "producer-2", 3: "worker-1"})
    tracks = tracks_by_name(trace)  # checks every arrow goes forward in time
    (first,) = [e for e in tracks["producer-1"] if e["ph"] == "s"]
    (second,) = [e for e in tracks["producer-2"] if e["ph"] == "s"]
    ends = {e["id"]: e["ts"] for e in tracks["worker-1"] if e["ph"] == "f"}
    assert ends == {first["id"]: 0.001, second["id"]: 0.004}


def test_a_reused_thread_ident_gets_a_new_track():
    events = [
        ev(0, 5, THREAD_STARTED, "producer-1", "producer"),
        ev(1, 5, LOCK_ACQUIRED, "queue", "x", 1),
        ev(2, 5, LOCK_RELEASED, "queue", "x", 0),
        ev(3, 5, THREAD_ENDED, "producer-1", "producer"),
        ev(4, 5, THREAD_STARTED, "worker-3", "worker"),
        ev(5, 5, LOCK_ACQUIRED, "queue", "x", 1),
        ev(6, 5, LOCK_RELEASED, "queue", "x", 0),
    ]
    tracks = tracks_by_name(build_trace(events))
    assert set(tracks) == {"producer-1", "worker-3"}
    assert tracks["producer-1"][0]["tid"] != tracks["worker-3"][0]["tid"]


def test_marks_are_process_wide_and_a_recorded_violation_sits_on_its_thread():
    events = [
        ev(0, 1, MARK, "run started"),
        ev(5, 9, VIOLATION, "worker-error", 7, "worker-1: ValueError: task 7"),
        ev(9, 1, LOCK_ACQUIRED, "queue", "x", float("inf")),
    ]
    trace = build_trace(events, {9: "worker-1"})
    tracks = tracks_by_name(trace)
    instants = {e["name"]: e for e in trace["traceEvents"] if e["ph"] == "i"}
    assert instants["run started"]["s"] == "p" and "tid" not in instants["run started"]
    (violation,) = [e for e in tracks["worker-1"] if e["ph"] == "i"]
    assert violation["name"] == "violation: worker-error" and violation["s"] == "t"
    assert violation["args"] == {
        "kind": "worker-error",
        "task_or_lock": 7,
        "detail": "worker-1: ValueError: task 7",
    }


def test_export_writes_a_file_both_viewers_parse(tmp_path):
    recorder, _ = spying_recorder(LOCK_REQUESTED)
    queue = GlobalLockQueue(Tracer(recorder))
    recorder.register_thread("main")
    for task_id in range(3):
        queue.add_task(task_id, task_id)
    while (task := queue.get_next_task()) is not None:
        queue.complete_task(task.task_id)
    events = recorder.drain().events

    log = tmp_path / "run.jsonl"
    with LogWriter(log, settings={}, strategy=queue.name, thread_name=recorder.thread_name) as w:
        w.write_batch(Batch(0, events, 0))
    run = load_log(log)

    path = tmp_path / "run.trace.json"
    count = export_chrome_trace(run.events, run.thread_name, path, title="global-lock")
    trace = json.loads(path.read_text(encoding="utf-8"))
    assert len(trace["traceEvents"]) == count
    assert trace["otherData"]["time_origin_ns"] == events[0][0]
    check_trace(trace)
    process = trace["traceEvents"][0]
    assert process["name"] == "process_name" and process["args"]["name"] == "global-lock"

    buffer = io.StringIO()
    assert export_chrome_trace(events, recorder.thread_name, buffer, title="global-lock") == count
    assert json.loads(buffer.getvalue()) == trace
    assert len(path.read_text(encoding="utf-8").splitlines()) == count + 3


def test_no_events_still_make_a_valid_trace():
    trace = build_trace([])
    check_trace(trace)
    assert [e["name"] for e in trace["traceEvents"]] == ["process_name"]


def test_a_whole_hold_recorded_at_its_end_nests_with_what_happened_inside_it():
    """The C fast path records an uncontended hold as one LOCK_HELD after the events
    inside it (here a worker's completion, which ends its task slice): the trace is
    the one the same hold recorded as acquisition and release would give."""
    fused = [
        ev(0, 1, THREAD_STARTED, "worker-1", "worker"),
        ev(10, 1, TASK_STARTED, "t1"),
        ev(30, 1, TASK_COMPLETED, "t1", "processing"),
        ev(40, 1, LOCK_HELD, "queue", "x", 20),
        ev(50, 1, MARK, "stopped"),
    ]
    classic = [
        fused[0],
        fused[1],
        ev(20, 1, LOCK_ACQUIRED, "queue", "x", 1),
        fused[2],
        ev(40, 1, LOCK_RELEASED, "queue", "x", 0),
        fused[4],
    ]
    trace = build_trace(fused)
    check_trace(trace)
    assert trace == build_trace(classic)
    track = tracks_by_name(trace)["worker-1"]
    assert [(begin, end) for begin, end, _ in slices(track, "hold queue")] == [
        (0.02, 0.03),
        (0.03, 0.04),  # continued after the task slice inside it ended
    ]

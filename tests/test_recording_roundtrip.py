"""Event log round trips: what the recorder held is what a reader gets back."""

from __future__ import annotations

import gzip
import json
import threading

import pytest
from helpers import run_threads, spying_recorder

from visualizer.events import (
    LOCK_REQUESTED,
    MARK,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    Batch,
    Kind,
    Recorder,
)
from visualizer.model import RunModel
from visualizer.queues import GlobalLockQueue, Tracer
from visualizer.recording import FORMAT_TAG, VERSION, LogWriter, RecordedRun, load_log
from visualizer.recording.schema import CHUNK

# Every test here loads logs on both paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")

SETTINGS = {"strategy": "global-lock", "producers": 1, "workers": 2, "tasks": 40, "rate": 0.0}


def record_queue_run(tasks: int = 40) -> Recorder:
    """A real run: one producer and two workers on the reference strategy, all traced."""
    recorder = Recorder()
    tracer = Tracer(recorder)
    queue = GlobalLockQueue(tracer)
    # Threads leave together: an ended thread's ident may be given to the next one.
    leave = threading.Barrier(3)

    def produce() -> None:
        recorder.register_thread("producer")
        for task_id in range(tasks):
            queue.add_task(task_id, task_id % 5)
        leave.wait(10)

    def work() -> None:
        recorder.register_thread("worker")
        while not finished.is_set():
            task = queue.get_next_task()
            if task is None:
                finished.wait(0.0005)  # empty for now: give the producer the GIL
                continue
            tracer.record(TASK_STARTED, task.task_id)
            queue.complete_task(task.task_id)
            with lock:
                completed.append(task.task_id)
                if len(completed) == tasks:
                    finished.set()
        leave.wait(10)

    finished = threading.Event()
    lock = threading.Lock()
    completed: list[int] = []
    run_threads(("producer-1", produce), ("worker-1", work), ("worker-2", work))
    assert sorted(completed) == list(range(tasks))
    return recorder


def write_in_batches(recorder: Recorder, path, batch_size: int = 37, **kwargs) -> list[Batch]:
    batches = []
    with LogWriter(
        path, settings=SETTINGS, strategy="global-lock", thread_name=recorder.thread_name, **kwargs
    ) as writer:
        while recorder.pending():
            batch = recorder.drain(batch_size)
            batches.append(batch)
            writer.write_batch(batch)
    return batches


def numbered(batches: list[Batch]) -> list[tuple[int, tuple]]:
    return [pair for batch in batches for pair in batch.numbered()]


def test_round_trip_of_a_real_run(tmp_path):
    recorder = record_queue_run()
    path = tmp_path / "run.jsonl"
    batches = write_in_batches(recorder, path)

    run = load_log(path)

    expected = numbered(batches)
    assert list(run.numbered()) == expected
    assert run.events == [event for _, event in expected]
    assert all(type(event) is tuple and type(event[2]) is int for event in run.events)
    assert run.complete and run.problem is None and run.dropped == 0
    assert run.settings == SETTINGS
    assert run.strategy == "global-lock"
    assert run.version == VERSION
    idents = {event[1] for event in run.events}
    assert {run.thread_name(ident) for ident in idents} >= {"producer-1", "worker-1", "worker-2"}
    for ident in idents:
        assert run.thread_name(ident) == recorder.thread_name(ident)


def test_the_file_is_readable_json_lines(tmp_path):
    recorder = record_queue_run(tasks=5)
    path = tmp_path / "run.jsonl"
    write_in_batches(recorder, path, batch_size=3000)

    lines = path.read_text(encoding="utf-8").splitlines()
    values = [json.loads(line) for line in lines]
    header, *chunks, end = values
    assert header["format"] == FORMAT_TAG and header["version"] == VERSION
    assert header["fields"] == ["seq", "t_ns", "thread", "kind", "subject", "a", "b"]
    assert end["type"] == "end" and end["events"] == sum(map(len, chunks))
    rows = [row for chunk in chunks for row in chunk]
    assert [row[0] for row in rows] == list(range(len(rows)))
    started = [row for row in rows if row[3] == "THREAD_STARTED"]
    assert sorted(row[4] for row in started) == ["producer-1", "worker-1", "worker-2"]
    assert {row[3] for row in rows} <= {kind.name for kind in Kind}
    assert all(len(chunk) <= CHUNK for chunk in chunks)


def test_tuples_come_back_as_tuples_from_a_contended_rwlock(tmp_path):
    """A writer waiting on readers records the readers as a tuple; it must survive."""
    recorder, requested = spying_recorder(LOCK_REQUESTED)
    reading = threading.Event()
    lock = Tracer(recorder).rwlock("table")

    def reader() -> None:
        with lock.read_locked():
            reading.set()
            assert requested.wait(5)

    def writer() -> None:
        assert reading.wait(5)
        with lock.write_locked():
            pass

    run_threads(("reader", reader), ("writer", writer))
    path = tmp_path / "rw.jsonl"
    batches = write_in_batches(recorder, path)
    run = load_log(path)
    (request,) = [event for event in run.events if event[2] == LOCK_REQUESTED]
    assert isinstance(request[5], tuple) and len(request[5]) == 1
    assert list(run.numbered()) == numbered(batches)


def test_value_mapping(tmp_path):
    """The mapping table of schema.py, value by value."""

    class Odd:
        def __repr__(self) -> str:
            return "<odd>"

    values = [
        (None, True, False),
        (0, -7, 2**63 - 1),
        (1.5, -0.0, 1e-300),
        ("", 'é ü \n "quoted"', "x" * 1000),
        ((1, "a"), ((1, 2), (None,)), ()),
        ([1, [2, 3]], ("nested", ["list"]), Odd()),
    ]
    events = [(1000 + i, 7, MARK, s, a, b) for i, (s, a, b) in enumerate(values)]
    path = tmp_path / "values.jsonl"
    with LogWriter(path, settings={}, strategy="x") as writer:
        writer.write_batch(Batch(0, events, 0))
    run = load_log(path)
    assert run.events[:4] == events[:4]
    assert run.events[4] == (1004, 7, MARK, (1, "a"), ((1, 2), (None,)), ())
    assert run.events[5] == (1005, 7, MARK, (1, (2, 3)), ("nested", ("list",)), "<odd>")
    assert type(run.events[2][3]) is float and type(run.events[1][5]) is int


def test_gzip_round_trip_is_detected_by_content(tmp_path):
    recorder = record_queue_run(tasks=10)
    path = tmp_path / "run.log.gz"
    batches = write_in_batches(recorder, path)
    with gzip.open(path, "rt", encoding="utf-8") as file:
        assert json.loads(file.readline())["format"] == FORMAT_TAG
    renamed = path.rename(tmp_path / "run-without-suffix")
    run = load_log(renamed)
    assert list(run.numbered()) == numbered(batches)


def test_names_come_from_thread_started_events_header_and_end_line(tmp_path):
    events = [
        (10, 1, THREAD_STARTED, "producer-1", "producer", None),
        (11, 2, MARK, "unregistered thread", None, None),
        (12, 3, MARK, "named only in the header", None, None),
    ]
    path = tmp_path / "names.jsonl"
    names = {1: "stale name", 2: "resolved at close", 3: "header name"}
    with LogWriter(
        path, settings={}, strategy="x", threads={3: "header name"}, thread_name=names.__getitem__
    ) as writer:
        writer.write_batch(Batch(0, events, 0))
    run = load_log(path)
    assert run.thread_names == {1: "producer-1", 2: "resolved at close", 3: "header name"}
    assert run.thread_name(99) == "thread-99"


def test_dropped_events_show_as_gaps_and_batches_carry_them(tmp_path):
    recorder = Recorder(capacity=5)
    for i in range(12):
        recorder.record(MARK, f"m{i}")
    first = recorder.drain()  # keeps the newest 5, drops 7
    for i in range(3):
        recorder.record(MARK, f"n{i}")
    second = recorder.drain()
    for i in range(9):
        recorder.record(MARK, f"o{i}")
    third = recorder.drain()  # drops 4 more
    path = tmp_path / "drops.jsonl"
    with LogWriter(path, settings={}, strategy="x") as writer:
        for batch in (first, second, third):
            writer.write_batch(batch)
    run = load_log(path)
    assert run.dropped == 11
    assert list(run.seqs) == [*range(7, 15), *range(19, 24)]
    replay = list(run.batches(size=4))
    assert [b.dropped for b in replay] == [7, 0, 4, 0]
    assert [b.first_seq for b in replay] == [7, 11, 19, 23]
    assert [e for b in replay for e in b.events] == run.events


def test_batches_split_by_size_and_keep_stream_order(tmp_path):
    recorder = record_queue_run(tasks=20)
    path = tmp_path / "run.jsonl"
    write_in_batches(recorder, path)
    run = load_log(path)
    replay = list(run.batches(size=50))
    assert all(len(b.events) <= 50 for b in replay)
    assert [pair for b in replay for pair in b.numbered()] == list(run.numbered())
    with pytest.raises(ValueError):
        list(run.batches(size=0))


def test_an_empty_run_is_a_valid_log(tmp_path):
    path = tmp_path / "empty-run.jsonl"
    LogWriter(path, settings={"tasks": 0}, strategy="global-lock").close()
    run = load_log(path)
    assert isinstance(run, RecordedRun)
    assert run.events == [] and run.complete and list(run.batches()) == []


def test_writer_refuses_what_it_cannot_write_faithfully(tmp_path):
    with pytest.raises(ValueError, match="settings"):
        LogWriter(tmp_path / "a.jsonl", settings={"bad": object()}, strategy="x")
    writer = LogWriter(tmp_path / "b.jsonl", settings={}, strategy="x", max_pending=0)
    writer.write_batch(Batch(5, [(1, 1, MARK, "m", None, None)], 5))
    with pytest.raises(ValueError, match="order"):
        writer.write_batch(Batch(3, [(2, 1, MARK, "m", None, None)], 0))
    with pytest.raises(ValueError, match="unknown kind 999"):
        writer.write_batch(Batch(9, [(2, 1, 999, "m", None, None)], 0))
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write_batch(Batch(10, [], 0))
    assert load_log(tmp_path / "b.jsonl").dropped == 5


def test_encoding_waits_for_flush_or_close_unless_too_much_is_pending(tmp_path):
    """A run pays nothing per event while it records; flush/close do the encoding."""
    path = tmp_path / "deferred.jsonl"
    batches = [
        Batch(i * 10, [(i * 10 + j, 1, MARK, j, None, None) for j in range(10)], 0)
        for i in range(5)
    ]
    writer = LogWriter(path, settings={}, strategy="x", max_pending=25)
    for batch in batches[:2]:
        writer.write_batch(batch)
    writer._file.flush()
    assert writer.pending == 20 and len(path.read_text().splitlines()) == 1
    writer.write_batch(batches[2])  # 30 > 25: encode the oldest batch, to bound memory
    assert writer.pending == 20 and writer.events_written == 10
    writer.write_batch(batches[3])
    assert writer.pending == 20 and writer.events_written == 20
    writer.flush()
    assert writer.pending == 0 and len(path.read_text().splitlines()) == 5
    writer.write_batch(batches[4])
    writer.close()
    run = load_log(path)
    assert list(run.numbered()) == numbered(batches)


def test_an_unencodable_event_at_close_leaves_a_log_without_end_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    writer = LogWriter(path, settings={}, strategy="x")
    writer.write_batch(Batch(0, [(1, 1, MARK, "ok", None, None)], 0))
    writer.write_batch(Batch(1, [(2, 1, 999, "bad", None, None)], 0))
    with pytest.raises(ValueError, match="unknown kind 999"):
        writer.close()
    run = load_log(path, allow_truncated=True)
    assert not run.complete and len(run.events) == 1


def test_progress_reports_rising_fractions_up_to_one(tmp_path):
    path = tmp_path / "big.jsonl"
    events = [(i, 1, MARK, f"mark {i}", i, None) for i in range(60_000)]
    with LogWriter(path, settings={}, strategy="x") as writer:
        writer.write_batch(Batch(0, events, 0))
    seen: list[float] = []
    run = load_log(path, progress=seen.append)
    assert len(run.events) == 60_000
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0 and seen[0] < 1.0


def test_recording_a_run_through_global_lock_queue_directly(tmp_path):
    """The writer also takes batches straight from a single-threaded session."""
    recorder = Recorder()
    queue = GlobalLockQueue(Tracer(recorder))
    path = tmp_path / "direct.jsonl"
    with LogWriter(path, settings={}, strategy=queue.name, thread_name=recorder.thread_name) as w:
        for task_id in range(3):
            queue.add_task(task_id, task_id)
            w.write_batch(recorder.drain())
        while queue.get_next_task() is not None:
            w.write_batch(recorder.drain())
    run = load_log(path)
    assert list(run.seqs) == list(range(len(run.events)))
    assert run.thread_name(threading.get_ident()) == threading.current_thread().name


def test_a_model_replayed_from_the_log_ends_as_the_live_one(tmp_path):
    """Record, load, replay: the model's final state equals the one fed live."""
    recorder = record_queue_run(tasks=30)
    orphan = Tracer(recorder).lock("orphan")

    def leave_holding_a_lock() -> None:
        recorder.register_thread("worker")
        orphan.acquire()
        recorder.record(THREAD_ENDED, "worker-9", "worker")

    run_threads(("worker-9", leave_holding_a_lock))
    live = RunModel(recorder.thread_name)
    path = tmp_path / "replay.jsonl"
    with LogWriter(
        path, settings=SETTINGS, strategy="global-lock", thread_name=recorder.thread_name
    ) as writer:
        while recorder.pending():
            batch = recorder.drain(37)
            live.apply(batch)
            writer.write_batch(batch)
    live.finish()

    run = load_log(path)
    replay = RunModel(run.thread_name)
    for batch in run.batches(size=50):
        replay.apply(batch)
    replay.finish()

    assert [v.kind for v in live.anomalies] == ["orphaned-lock"]
    assert replay.anomalies == live.anomalies
    assert replay.summary() == live.summary()
    assert replay.tasks.status == live.tasks.status
    assert replay.heap.entries == live.heap.entries
    assert replay.events_applied == live.events_applied == len(run.events)
    names = {ident: (info.name, info.role) for ident, info in live.threads.items()}
    assert {ident: (info.name, info.role) for ident, info in replay.threads.items()} == names

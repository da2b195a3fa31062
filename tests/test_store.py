"""The recorder's C store and the blocks the run process sends: nothing changes but the cost.

With the C speedups built, a recorder keeps the traced locks' and the task sink's
events as C records (``visualizer/queues/_store.h``), stamped with the CPU's
time-stamp counter where it is invariant, and the run process sends them as
blocks of the compact binary form (``visualizer/_block.h``).  What a consumer gets
must be what a list of tuples gave: the same events, in the order appended,
stamped in ``perf_counter_ns`` time, the same drops; a value a block cannot hold
goes as tuples.  Without the speedups none of this exists and the list is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from itertools import pairwise

import pytest

from visualizer.engine.host.outbox import FRAME_EVENTS, Outbox
from visualizer.engine.host.stream import EventStream
from visualizer.engine.host.wire import write_all
from visualizer.events import (
    LOCK_CREATED,
    LOCK_HELD,
    MARK,
    TASK_ADDED,
    TASK_COMPLETED,
    TASK_POPPED,
    Kind,
    Recorder,
)
from visualizer.queues import STRATEGIES, Tracer, speedups

needs_c = pytest.mark.skipif(speedups.native is None, reason=speedups.PATH)


class Opaque:
    """A task id no block can hold (a user's queue may use its own objects)."""

    def __repr__(self) -> str:
        return "Opaque()"


def cycles(recorder: Recorder, count: int, first: int = 0) -> None:
    queue = STRATEGIES["global-lock"](Tracer(recorder))
    for task_id in range(first, first + count):
        queue.add_task(task_id, task_id % 10)
        queue.complete_task(queue.get_next_task().task_id)


def without_stamps(events: list[tuple]) -> list[tuple]:
    return [(thread, kind, subject, a) for _t, thread, kind, subject, a, _b in events]


@needs_c
def test_recorders_keep_their_events_in_the_store():
    assert isinstance(Recorder()._store, speedups.native.Store)


@needs_c
def test_the_store_gives_the_events_a_list_gave_in_the_order_appended(monkeypatch):
    def record(recorder: Recorder) -> list[tuple]:
        cycles(recorder, 3)
        recorder.record(MARK, "between", None, ("file.py", 3, 4))  # a tuple from Python
        cycles(recorder, 2, first=3)
        return recorder.drain().events

    in_store = record(Recorder())
    monkeypatch.setattr(Recorder, "store_factory", None)
    listed = Recorder()
    assert listed._store is None
    in_list = record(listed)
    assert without_stamps(in_store) == without_stamps(in_list)
    kinds = [event[2] for event in in_store]
    assert kinds[:4] == [LOCK_CREATED, TASK_ADDED, LOCK_HELD, TASK_POPPED]
    assert kinds.count(LOCK_HELD) == 15 and kinds.count(MARK) == 1
    assert in_store[19][3:] == ("between", None, ("file.py", 3, 4))


@needs_c
def test_stamps_are_perf_counter_time_at_both_ends_of_a_gap():
    """Whatever clock the records keep, a consumer reads perf_counter_ns time: each
    stamp lies between readings taken just before and after its event."""
    recorder = Recorder()
    tracer = Tracer(recorder)
    brackets = []
    for task_id in range(3):
        before = time.perf_counter_ns()
        tracer.record(TASK_COMPLETED, task_id, "processing")
        brackets.append((before, time.perf_counter_ns()))
        time.sleep(0.02)  # a gap of known length between the events, not a wait
    events = recorder.drain().events
    assert [event[3] for event in events] == [0, 1, 2]
    for (before, after), event in zip(brackets, events, strict=True):
        assert before <= event[0] <= after
    assert events[2][0] - events[0][0] >= 40_000_000


@needs_c
def test_without_the_time_stamp_counter_records_keep_perf_counter_ns():
    code = (
        "import time; from visualizer.queues import speedups, Tracer; "
        "from visualizer.events import Recorder; r = Recorder(); t = Tracer(r); "
        "b = time.perf_counter_ns(); t.record(33, 1, 'processing'); "
        "a = time.perf_counter_ns(); e = r.drain().events[0]; "
        "print(speedups.native.store_clock()); assert b <= e[0] <= a, (b, e, a)"
    )
    env = dict(os.environ, QUEUE_VISUALIZER_NO_TSC="1")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "perf_counter_ns"


@needs_c
def test_blocks_decode_to_the_events_the_tuples_would_be():
    """Two recorders given the same tuples: one drained as tuples, one as blocks."""
    events = [
        (10**12 + i * 997, 140000000000000 + i % 3, MARK, f"text {i % 5}", i, (i, "x", None))
        for i in range(FRAME_EVENTS + 50)
    ] + [(5, 7, TASK_ADDED, -(2**63), 1.5, True), (6, 7, LOCK_HELD, "L", "x", 2**63 - 1)]
    as_tuples, as_blocks = Recorder(), Recorder()
    for event in events:
        as_tuples.append(event)
        as_blocks.append(event)
    batch = as_blocks.drain_blocks(len(events), FRAME_EVENTS)
    assert batch is not None and batch.dropped == 0 and batch.first_seq == 0
    assert [type(block) for block, _count, _idents in batch.parts] == [bytes, bytes]
    assert [count for _block, count, _idents in batch.parts] == [FRAME_EVENTS, 52]
    decoded = [
        event for block, _count, _idents in batch.parts for event in speedups.decode_block(block)[0]
    ]
    assert decoded == as_tuples.drain().events == events
    assert sorted(batch.parts[0][2]) == [140000000000000 + k for k in range(3)]
    assert as_blocks.pending() == 0 and as_blocks.next_seq == len(events)


@needs_c
def test_a_value_no_block_can_hold_goes_as_tuples_in_its_place():
    recorder = Recorder()
    tracer = Tracer(recorder)
    odd, huge = Opaque(), 2**70
    tracer.record(TASK_ADDED, 1, 0, 1)
    tracer.record(TASK_ADDED, odd, 0, 2)
    tracer.record(TASK_ADDED, 3, 0, 3)
    tracer.record(TASK_ADDED, huge, 0, 4)
    batch = recorder.drain_blocks(100, 2)
    assert batch is not None
    kinds = [type(part).__name__ for part, _count, _idents in batch.parts]
    assert kinds == ["list", "list"]  # each block of two held one: both went as tuples
    subjects = [event[3] for part, _count, _idents in batch.parts for event in part]
    assert subjects == [1, odd, 3, huge]
    tracer.record(TASK_ADDED, 5, 0, 5)
    again = recorder.drain_blocks(100, 2)
    assert again is not None and isinstance(again.parts[0][0], bytes)
    assert again.first_seq == 4


@needs_c
def test_ints_the_fast_paths_record_come_back_with_their_values_whatever_their_size():
    """The store keeps an int of one digit as a number and any other value as an object:
    both ways, as tuples and as blocks, the values are what was recorded."""
    edges = [0, 1, -1, 255, 257, 2**30 - 1, 2**30, -(2**30) + 1, -(2**30), 2**40, -(2**62)]
    values = [*edges, 2**63 - 1, -(2**63), "text", None, True, 1.5]
    expected = [(TASK_ADDED, value, ~value if type(value) is int else 0, 7) for value in values]
    as_tuples, as_blocks = Recorder(), Recorder()
    for recorder in (as_tuples, as_blocks):
        tracer = Tracer(recorder)
        for _kind, subject, a, b in expected:
            tracer.record(TASK_ADDED, subject, a, b)
    tuples = as_tuples.drain().events
    batch = as_blocks.drain_blocks(100, 100)
    assert batch is not None and isinstance(batch.parts[0][0], bytes)
    from_blocks = speedups.decode_block(batch.parts[0][0])[0]
    for events in (tuples, from_blocks):
        assert [(kind, subject, a, b) for _t, _id, kind, subject, a, b in events] == expected
        assert [type(event[3]) for event in events] == [type(value) for value in values]


@needs_c
def test_taking_nothing_from_an_empty_store_gives_nothing():
    store = Recorder()._store
    assert store.take(0) == [] and store.take(5) == []
    assert store.take_block(3)[1] == 0
    store.discard(2)
    assert len(store) == 0


@needs_c
def test_a_kind_no_c_int_holds_comes_back_as_the_object_recorded():
    """A record keeps its kind as a C int; any other kind (an enum member, a huge int,
    text: only a user's own code records such) is kept as the object, goes as a tuple."""
    recorder = Recorder()
    tracer = Tracer(recorder)
    odd_kinds = [Kind.TASK_ADDED, 2**40, "added"]
    for number, kind in enumerate(odd_kinds):
        tracer.record(kind, number, "a", None)
    tracer.record(TASK_ADDED, 9, "a", None)
    batch = recorder.drain_blocks(100, 100)
    assert batch is not None
    (part, count, _idents), *_ = batch.parts
    assert isinstance(part, list) and count == 4  # the block form could not hold them
    assert [event[2] for event in part] == [*odd_kinds, TASK_ADDED]
    assert [type(event[2]) for event in part] == [Kind, int, str, int]
    assert [event[3] for event in part] == [0, 1, 2, 9]


@needs_c
def test_the_store_drops_the_oldest_beyond_its_capacity_and_counts_them():
    for drain_blocks in (False, True):
        recorder = Recorder(capacity=5)
        for i in range(8):
            recorder.record(MARK, f"m{i}")
        assert recorder.pending() == 8
        if drain_blocks:
            batch = recorder.drain_blocks(100, 3)
            assert batch is not None
            events = [e for block, _n, _ids in batch.parts for e in speedups.decode_block(block)[0]]
        else:
            batch = recorder.drain()
            events = batch.events
        assert batch.dropped == 3 and batch.first_seq == 3
        assert [event[3] for event in events] == ["m3", "m4", "m5", "m6", "m7"]
        assert recorder.dropped == 3 and recorder.next_seq == 8


@pytest.mark.parametrize("blocks", [False, True])
def test_the_window_reads_what_the_outbox_sends_as_the_run_recorded_it(blocks):
    """The run process's frames, blocks or pickled tuples, arrive in the window's
    EventStream as the very events recorded, with their threads named once."""
    if blocks and speedups.decode_block is None:
        pytest.skip(speedups.PATH)
    recorder = Recorder()
    seen = []

    def worker() -> None:
        recorder.register_thread("worker")
        cycles(recorder, 800)

    thread = threading.Thread(target=worker, name="worker-9")
    thread.start()
    thread.join(60)
    expected = Recorder()  # the same run again, drained as tuples, for the shape
    read, write = os.pipe()
    os.set_blocking(read, False)
    stream = EventStream(read, lambda _backlog: None)
    outbox = Outbox(recorder, recorder.thread_name, blocks)
    cycles(expected, 800)
    shape = without_stamps(expected.drain().events)
    data, count, dropped = outbox.frames(100_000)
    assert count == 1 + len(shape) and dropped == 0
    writer = threading.Thread(target=write_all, args=(write, data))  # more than a pipe holds
    writer.start()
    stream.announce(count)
    while stream.pending():
        seen.extend(stream.drain(1000).events)
    writer.join(60)
    cycles(expected, 800)
    got = without_stamps(seen)
    assert got[0] == (thread.ident, 1, "worker-9", "worker")
    assert [event[1:] for event in got[1:]] == [
        event[1:] for event in without_stamps(expected.drain().events)
    ]
    assert {event[0] for event in got} == {thread.ident}
    assert stream.thread_name(thread.ident) == "worker-9"
    assert all(a[0] <= b[0] for a, b in pairwise(seen))  # one thread: its order is time's
    os.close(write)
    stream.close()

"""The lock table: holders, depths, waiters and the wait-for graph, real and made up."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest

from visualizer.events import (
    EXCLUSIVE,
    LOCK_ACQUIRED,
    LOCK_HELD,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    PERMIT,
    READ,
    WRITE,
    Batch,
    Recorder,
    expand_held,
)
from visualizer.model import InvariantChecker, LockTable, RunModel, Stats, Waiter
from visualizer.queues import Tracer


def fold(table: LockTable, *events: tuple) -> None:
    """Feed (t, ident, kind, lock, mode, count) events to the table the way the checker does."""
    for t, ident, kind, name, mode, count in events:
        if kind == LOCK_ACQUIRED:
            table.acquired(t, ident, name, mode, count)
        elif kind == LOCK_RELEASED:
            table.released(t, ident, name, mode, count)
        elif kind == LOCK_REQUESTED:
            table.requested(t, ident, name, mode)
        elif kind == LOCK_TIMED_OUT:
            table.timed_out(ident)


def test_waiters_queue_in_arrival_order_and_leave_when_served_or_timed_out() -> None:
    table = LockTable()
    fold(
        table,
        (100, 1, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
        (200, 2, LOCK_REQUESTED, "q", EXCLUSIVE, 1),
        (300, 3, LOCK_REQUESTED, "q", EXCLUSIVE, 1),
        (350, 4, LOCK_REQUESTED, "q", EXCLUSIVE, 1),
    )
    lock = table.locks["q"]
    assert lock.kind_label == "Lock"  # guessed: it was never announced
    assert lock.holders == {1: 1} and lock.mode == EXCLUSIVE
    assert lock.waiters == [
        Waiter(2, EXCLUSIVE, 200),
        Waiter(3, EXCLUSIVE, 300),
        Waiter(4, EXCLUSIVE, 350),
    ]
    assert sorted(table.wait_for_edges()) == [(2, "q", 1), (3, "q", 1), (4, "q", 1)]
    fold(
        table,
        (400, 1, LOCK_RELEASED, "q", EXCLUSIVE, 0),
        (450, 4, LOCK_TIMED_OUT, "q", EXCLUSIVE, None),
        (500, 3, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
    )
    assert lock.holders == {3: 1}
    assert lock.waiters == [Waiter(2, EXCLUSIVE, 200)]
    assert table.wait_for_edges() == [(2, "q", 3)]
    assert (lock.acquisitions, lock.contended) == (2, 3)
    assert lock.wait_stats.count == 1 and lock.wait_stats.mean() == 200
    assert lock.hold_stats.count == 1 and lock.hold_stats.mean() == 300
    fold(table, (600, 3, LOCK_RELEASED, "q", EXCLUSIVE, 0))
    assert lock.holders == {} and lock.mode is None


def test_rlock_depth_comes_from_the_events() -> None:
    table = LockTable()
    fold(
        table,
        (1, 7, LOCK_ACQUIRED, "r", EXCLUSIVE, 1),
        (2, 7, LOCK_ACQUIRED, "r", EXCLUSIVE, 2),
        (3, 7, LOCK_ACQUIRED, "r", EXCLUSIVE, 3),
        (4, 7, LOCK_RELEASED, "r", EXCLUSIVE, 2),
    )
    assert table.locks["r"].holders == {7: 2}
    fold(table, (5, 7, LOCK_RELEASED, "r", EXCLUSIVE, 0))  # a Condition.wait lets go of all levels
    assert table.locks["r"].holders == {}
    assert table.locks["r"].hold_stats.count == 1  # one hold, from depth 0 to depth 0


def test_readers_and_permits_count_one_each() -> None:
    table = LockTable()
    fold(
        table,
        (1, 1, LOCK_ACQUIRED, "rw", READ, 1),
        (2, 2, LOCK_ACQUIRED, "rw", READ, 2),
        (3, 3, LOCK_REQUESTED, "rw", WRITE, (1, 2)),
        (4, 5, LOCK_ACQUIRED, "sem", PERMIT, 1),
        (5, 5, LOCK_ACQUIRED, "sem", PERMIT, 2),
        (6, 6, LOCK_ACQUIRED, "sem", PERMIT, 3),
    )
    rw, sem = table.locks["rw"], table.locks["sem"]
    assert rw.kind_label == "RWLock" and rw.holders == {1: 1, 2: 1} and rw.mode == READ
    assert sorted(table.wait_for_edges()) == [(3, "rw", 1), (3, "rw", 2)]
    assert sem.kind_label == "Semaphore" and sem.holders == {5: 2, 6: 1}
    fold(
        table,
        (7, 1, LOCK_RELEASED, "rw", READ, 1),
        (8, 2, LOCK_RELEASED, "rw", READ, 0),
        (9, 3, LOCK_ACQUIRED, "rw", WRITE, 1),
        (10, 5, LOCK_RELEASED, "sem", PERMIT, 2),
    )
    assert rw.holders == {3: 1} and rw.mode == WRITE and rw.waiters == []
    assert sem.holders == {5: 1, 6: 1}


def test_a_release_never_seen_acquired_is_ignored() -> None:
    table = LockTable()
    fold(table, (1, 1, LOCK_ACQUIRED, "q", EXCLUSIVE, 1), (2, 2, LOCK_RELEASED, "q", EXCLUSIVE, 0))
    assert table.locks["q"].holders == {1: 1}
    fold(table, (3, 9, LOCK_RELEASED, "nowhere", EXCLUSIVE, 0))
    assert "nowhere" not in table.locks


# --- real primitives -------------------------------------------------------------------
def fold_until(model: RunModel, recorder: Recorder, done: Callable[[], bool]) -> None:
    """Drain and fold until ``done()`` (the GUI's loop, without the GUI)."""
    deadline = time.monotonic() + 10
    while True:
        model.apply(recorder.drain())
        if done() or time.monotonic() > deadline:
            return
        time.sleep(0.002)


def test_real_rlock_and_announced_kinds() -> None:
    recorder = Recorder()
    tracer = Tracer(recorder)
    rlock = tracer.rlock("queue")
    tracer.semaphore("pool", 3)
    model = RunModel(recorder.thread_name)
    with rlock, rlock:
        model.apply(recorder.drain())
        assert model.locks.locks["queue"].holders == {threading.get_ident(): 2}
    model.apply(recorder.drain())
    locks = model.locks.locks
    assert locks["queue"].holders == {} and locks["queue"].kind_label == "RLock"
    assert locks["pool"].kind_label == "Semaphore(3)"


def test_real_contention_shows_the_waiter_and_the_edge() -> None:
    recorder = Recorder()
    lock = Tracer(recorder).lock("queue")
    model = RunModel(recorder.thread_name)
    me = threading.get_ident()

    def take() -> None:
        with lock:
            pass

    lock.acquire()
    thread = threading.Thread(target=take, name="taker")
    thread.start()
    fold_until(model, recorder, lambda: bool(model.locks.locks["queue"].waiters))
    state = model.locks.locks["queue"]
    assert [w.ident for w in state.waiters] == [thread.ident]
    assert model.locks.wait_for_edges() == [(thread.ident, "queue", me)]
    assert model.locks.deadlock_cycle() is None
    lock.release()
    thread.join(timeout=5)
    model.apply(recorder.drain())
    assert state.holders == {} and state.waiters == []
    assert state.contended == 1 and state.wait_stats.count == 1
    waits = [s for s in model.timeline.segments(thread.ident) if s.kind == "wait"]
    assert len(waits) == 1 and waits[0].label == "queue" and waits[0].end_ns is not None


def test_real_condition_wait_lets_go_of_the_lock_and_lists_the_waiter() -> None:
    recorder = Recorder()
    tracer = Tracer(recorder)
    cond = tracer.condition("not_empty")  # over a fresh RLock, "not_empty.lock"
    model = RunModel(recorder.thread_name)
    ready = []

    def consume() -> None:
        with cond, cond.lock:  # depth 2 while waiting: wait must release both levels
            while not ready:
                cond.wait()

    thread = threading.Thread(target=consume, name="consumer")
    thread.start()
    locks = model.locks.locks
    fold_until(model, recorder, lambda: "not_empty" in locks and locks["not_empty"].cond_waiters)
    assert locks["not_empty"].cond_waiters == [thread.ident]
    assert locks["not_empty"].kind_label == "Condition"
    with cond:
        ready.append(True)
        cond.notify()
        model.apply(recorder.drain())
        assert locks["not_empty.lock"].holders == {threading.get_ident(): 1}
    thread.join(timeout=5)
    model.apply(recorder.drain())
    assert locks["not_empty"].cond_waiters == []
    assert locks["not_empty.lock"].holders == {}


def test_real_rwlock_readers_hold_together_and_a_writer_waits_for_all() -> None:
    recorder = Recorder()
    rw = Tracer(recorder).rwlock("rw")
    model = RunModel(recorder.thread_name)
    reader_in, reader_may_leave = threading.Event(), threading.Event()

    def read() -> None:
        with rw.read_locked():
            reader_in.set()
            reader_may_leave.wait(5)

    def write() -> None:
        with rw.write_locked():
            pass

    rw.acquire_read()
    reader = threading.Thread(target=read, name="reader")
    reader.start()
    reader_in.wait(5)
    writer = threading.Thread(target=write, name="writer")
    writer.start()

    def writer_waits() -> bool:
        return "rw" in model.locks.locks and bool(model.locks.locks["rw"].waiters)

    fold_until(model, recorder, writer_waits)
    state = model.locks.locks["rw"]
    assert state.holders == {threading.get_ident(): 1, reader.ident: 1} and state.mode == READ
    assert state.waiters[0].ident == writer.ident and state.waiters[0].mode == WRITE
    assert sorted(model.locks.wait_for_edges()) == sorted(
        [(writer.ident, "rw", threading.get_ident()), (writer.ident, "rw", reader.ident)]
    )
    rw.release_read()
    reader_may_leave.set()
    reader.join(timeout=5)
    writer.join(timeout=5)
    model.apply(recorder.drain())
    assert state.holders == {} and state.waiters == [] and state.mode is None
    assert state.acquisitions == 3


# --- statistics ------------------------------------------------------------------------
def test_stats_percentiles_are_close_and_count_and_mean_exact() -> None:
    rng = random.Random(1)
    samples = [int(rng.lognormvariate(10, 1.5)) for _ in range(20_000)]
    stats = Stats()
    for sample in samples:
        stats.add(sample)
    samples.sort()
    assert stats.count == len(samples)
    assert stats.mean() == pytest.approx(sum(samples) / len(samples))
    assert stats.max == samples[-1]
    for q, method in ((0.5, stats.p50), (0.99, stats.p99)):
        exact = samples[int(q * len(samples)) - 1]
        assert method() == pytest.approx(exact, rel=0.02)


def test_stats_small_values_are_exact_and_empty_is_zero() -> None:
    stats = Stats()
    assert (stats.p50(), stats.p99(), stats.mean()) == (0.0, 0.0, 0.0)
    for value in (5, 5, 7, 60, -3):
        stats.add(value)
    assert stats.p50() == 5 and stats.p99() == 60 and stats.quantile(0.2) == 0


def test_lock_stats_through_a_batch() -> None:
    model = RunModel()
    model.apply(
        Batch(
            0,
            [
                (0, 1, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
                (10, 2, LOCK_REQUESTED, "q", EXCLUSIVE, 1),
                (1_000, 1, LOCK_RELEASED, "q", EXCLUSIVE, 0),
                (1_010, 2, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
                (1_500, 2, LOCK_RELEASED, "q", EXCLUSIVE, 0),
            ],
            0,
        )
    )
    state = model.locks.locks["q"]
    assert state.contention == 0.5
    assert state.wait_stats.p50() == pytest.approx(1_000, rel=0.02)
    assert state.hold_stats.count == 2 and state.hold_stats.mean() == 745


def test_the_table_keeps_the_figures_that_tell_each_primitive_s_story():
    from visualizer.events import COND_NOTIFY, COND_WAIT, EXCLUSIVE, LOCK_ACQUIRED, PERMIT, READ
    from visualizer.model import RunModel

    model = RunModel()
    events = [
        (1, 1, LOCK_ACQUIRED, "r", EXCLUSIVE, 1),
        (2, 1, LOCK_ACQUIRED, "r", EXCLUSIVE, 2),  # re-entered
        (3, 2, LOCK_ACQUIRED, "rw", READ, 1),
        (4, 3, LOCK_ACQUIRED, "rw", READ, 2),  # two readers at once
        (5, 4, LOCK_ACQUIRED, "sem", PERMIT, 1),
        (6, 5, COND_WAIT, "not_empty", None, None),
        (7, 6, COND_WAIT, "not_empty", None, None),
        (8, 1, COND_NOTIFY, "not_empty", 2, None),
    ]
    model.apply(Batch(0, events, 0))
    locks = model.locks.locks
    assert locks["r"].reentries == 1 and locks["r"].holders == {1: 2}
    assert locks["rw"].most_holders == 2
    assert locks["not_empty"].sleeps == 2
    assert (locks["not_empty"].notifies, locks["not_empty"].last_woken) == (1, 2)


def test_a_whole_hold_in_one_event_counts_and_times_like_two() -> None:
    """LOCK_HELD (an uncontended hold recorded at its end by the C fast path) is the
    acquisition at ``b`` and the release at ``t``, for the views and the checker."""
    fused = [
        (0, 1, LOCK_HELD, "q", EXCLUSIVE, -400),
        (10, 2, LOCK_HELD, "q", EXCLUSIVE, 5),
        (100, 1, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
        (110, 2, LOCK_REQUESTED, "q", EXCLUSIVE, 1),
        (300, 1, LOCK_RELEASED, "q", EXCLUSIVE, 0),
        (310, 2, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
        (500, 2, LOCK_RELEASED, "q", EXCLUSIVE, 0),
    ]
    classic = list(expand_held(fused))
    assert len(classic) == len(fused) + 2
    states = []
    for events in (fused, classic):
        # The window's model folds lock events itself; the checker alone (a log's
        # replay checks) goes through its own fold.
        model = RunModel()
        model.apply(Batch(0, events, 0))
        checker = InvariantChecker()
        assert checker.apply(Batch(0, events, 0)) == []
        for state in (model.locks.locks["q"], checker.locks.locks["q"]):
            assert state.holders == {} and state.waiters == []
            states.append(
                (
                    state.acquisitions,
                    state.contended,
                    state.hold_stats.count,
                    state.hold_stats.mean(),
                    state.wait_stats.count,
                )
            )
    assert len(set(states)) == 1
    assert states[0] == (4, 1, 4, (400 + 5 + 200 + 190) / 4, 1)


@pytest.mark.usefixtures("fast_path")
def test_a_hold_still_going_is_seen_at_the_next_drain() -> None:
    """Whichever path records it, a lock held across a drain is shown held."""
    recorder = Recorder()
    lock = Tracer(recorder).lock("queue")
    model = RunModel(recorder.thread_name)
    with lock:
        model.apply(recorder.drain())
        assert model.locks.locks["queue"].holders == {threading.get_ident(): 1}
    model.apply(recorder.drain())
    state = model.locks.locks["queue"]
    assert state.holders == {} and state.acquisitions == 1 and state.hold_stats.count == 1

"""Each safe strategy under 8 threads and 20k tasks: nothing lost, nothing twice.

Four producers add 5,000 tasks each (and cancel some of their recent ones), four
workers take and complete tasks, and an observer thread takes snapshots all the
while.  At the end every task must be in exactly one terminal state, matching
what the threads saw; the counts must reconcile in every snapshot.  The traced
runs also fold the event stream as it is drained: no task popped twice, and no
lock ever shown with two holders.
"""

from __future__ import annotations

import random
import sys
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from visualizer.events import (
    CANCELLED,
    COMPLETED,
    LOCK_ACQUIRED,
    LOCK_RELEASED,
    PROCESSING,
    QUEUED,
    READ,
    TASK_ADDED,
    TASK_POPPED,
    WRITE,
    Recorder,
)
from visualizer.queues import STRATEGIES, Snapshot, TaskTable, Tracer
from visualizer.queues.base import FINISHED_KEPT

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")

SAFE = sorted(name for name, cls in STRATEGIES.items() if cls.safe)
PRODUCERS = WORKERS = 4
TASKS = 20_000
PER_PRODUCER = TASKS // PRODUCERS
JOIN_TIMEOUT = 60.0  # only reached if a strategy is broken; a passing run takes seconds


class EventFolder:
    """Folds drained events: task pops per id, and who holds each lock."""

    def __init__(self) -> None:
        self.popped: Counter = Counter()
        self.added = 0
        self.holders: dict[str, dict[int, int]] = {}  # lock -> thread -> depth (or 1 per reader)
        self.modes: dict[str, str] = {}
        self.problems: list[str] = []

    def fold(self, events: list[tuple]) -> None:
        for _t, thread, kind, subject, a, b in events:
            if kind == TASK_POPPED:
                self.popped[subject] += 1
            elif kind == TASK_ADDED:
                self.added += 1
            elif kind == LOCK_ACQUIRED:
                holders = self.holders.setdefault(subject, {})
                others = set(holders) - {thread}
                shared = a == READ and self.modes.get(subject) == READ
                if others and not shared:
                    self.problems.append(f"{subject}: {thread} acquired while {others} held it")
                holders[thread] = b if a not in (READ, WRITE) else 1
                self.modes[subject] = a
            elif kind == LOCK_RELEASED:
                holders = self.holders.setdefault(subject, {})
                if thread not in holders:
                    self.problems.append(f"{subject}: {thread} released without holding")
                if a in (READ, WRITE) or b == 0:
                    holders.pop(thread, None)
                else:
                    holders[thread] = b


def check_snapshot(snap: Snapshot, exact_heap: bool) -> None:
    counts = snap.counts()
    assert snap.added == sum(counts.values()) == len(snap.statuses) + sum(snap.forgotten.values())
    in_heap = Counter(entry.status for entry in snap.heap)
    assert set(in_heap) <= {QUEUED, CANCELLED}
    if exact_heap:
        assert in_heap[QUEUED] == counts[QUEUED]
    else:  # priority-queue: an entry being handed out is in neither the heap nor "processing"
        assert in_heap[QUEUED] <= counts[QUEUED]


def run_stress(cls: type[TaskTable], recorder: Recorder | None) -> EventFolder:
    queue = cls(Tracer(recorder))
    producers_done = threading.Event()
    run_over = threading.Event()
    errors: list[BaseException] = []
    delivered: list[list[int]] = [[] for _ in range(WORKERS)]
    cancelled: list[list[int]] = [[] for _ in range(PRODUCERS)]
    snapshots = [0]
    folder = EventFolder()

    def guarded(body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except BaseException as exc:  # reported by the test, not lost in a thread
                errors.append(exc)
                producers_done.set()

        return run

    def producer(index: int) -> None:
        rng = random.Random(index)
        first = index * PER_PRODUCER
        for task_id in range(first, first + PER_PRODUCER):
            queue.add_task(task_id, rng.randrange(10), payload=index)
            if rng.random() < 0.1:  # cancel one of our recent tasks; it may be taken already
                victim = max(first, task_id - rng.randrange(8))
                if queue.cancel_task(victim):
                    cancelled[index].append(victim)

    def worker(index: int) -> None:
        mine = delivered[index]
        while True:
            finished = producers_done.is_set()  # read *before* the get: see below
            task = queue.get_next_task(timeout=JOIN_TIMEOUT if cls.blocking else 0)
            if task is None:
                # Blocking strategies return None only after shutdown (and the drain).
                # Otherwise: no task, and every add happened before this get, so done.
                if cls.blocking or finished:
                    return
                producers_done.wait(0.001)
                continue
            assert queue.get_status(task.task_id) == PROCESSING
            mine.append(task.task_id)
            queue.complete_task(task.task_id)

    def observer() -> None:
        exact = cls.name != "priority-queue"
        while not run_over.wait(0.002):
            check_snapshot(queue.snapshot(), exact)
            snapshots[0] += 1
            assert 0 <= len(queue) <= TASKS

    def drainer() -> None:
        while not run_over.wait(0.01):
            folder.fold(recorder.drain().events)

    threads = [threading.Thread(target=guarded(lambda i=i: producer(i))) for i in range(PRODUCERS)]
    workers = [threading.Thread(target=guarded(lambda i=i: worker(i))) for i in range(WORKERS)]
    helpers = [threading.Thread(target=guarded(observer))]
    if recorder is not None:
        helpers.append(threading.Thread(target=guarded(drainer)))
    for thread in helpers + workers + threads:
        thread.start()
    try:
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        producers_done.set()
        queue.shutdown()
        for thread in workers:
            thread.join(JOIN_TIMEOUT)
    finally:
        producers_done.set()
        run_over.set()
        for thread in helpers + workers + threads:
            thread.join(JOIN_TIMEOUT)
    assert not errors, errors
    if recorder is not None:
        folder.fold(recorder.drain().events)
        assert recorder.dropped == 0

    got = [task_id for mine in delivered for task_id in mine]
    dropped = [task_id for mine in cancelled for task_id in mine]
    assert len(got) == len(set(got)), "a task was delivered twice"
    assert set(got).isdisjoint(dropped), "a cancelled task was delivered"
    assert sorted(got + dropped) == list(range(TASKS)), "a task was lost"
    snap = queue.snapshot()
    check_snapshot(snap, exact_heap=True)
    assert snap.added == TASKS
    assert snap.counts() == {
        QUEUED: 0,
        PROCESSING: 0,
        COMPLETED: len(got),
        CANCELLED: len(dropped),
    }
    # Snapshots list the last FINISHED_KEPT finished tasks and count the rest (folded).
    assert len(snap.statuses) >= FINISHED_KEPT
    assert len(snap.statuses) + sum(snap.forgotten.values()) == TASKS
    assert all(queue.get_status(task_id) == COMPLETED for task_id in got)
    assert all(queue.get_status(task_id) == CANCELLED for task_id in dropped)
    assert len(queue) == 0
    assert snapshots[0] > 0
    return folder


@pytest.fixture(autouse=True)
def frequent_thread_switches():
    """Switch threads every 0.5 ms (default 5 ms) so operations interleave finely."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(5e-4)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.parametrize("strategy", SAFE)
def test_stress_untraced(strategy: str) -> None:
    run_stress(STRATEGIES[strategy], recorder=None)


@pytest.mark.parametrize("strategy", SAFE)
def test_stress_traced(strategy: str) -> None:
    folder = run_stress(STRATEGIES[strategy], recorder=Recorder())
    assert folder.problems == []
    assert folder.added == TASKS
    assert max(folder.popped.values()) == 1
    assert all(depths == {} for depths in folder.holders.values()), folder.holders

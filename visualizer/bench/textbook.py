"""The references for the untraced strategies: priority task queues as a textbook writes them.

:class:`TextbookQueue` is the reference: ``heapq`` for the order, one
``threading.Lock`` around every method, a dict of statuses, cancelled entries
skipped when they surface (the ``heapq`` documentation's recipe), and nothing
of this project's code.  It keeps the same books as the strategies (duplicate
ids refused, statuses checked, counts of adds and of live tasks) and hands out
the same kind of task record, so the time between it and ``global-lock`` is
what the project's structure costs.

A strategy built another way does more work by design: an ``RLock`` costs more
than a ``Lock``, a ``Condition`` must notify, ``queue.PriorityQueue`` brings a
mutex and three conditions of its own.  A user comparing strategies should see
those costs, so each strategy is also set against the same textbook built its
way (:data:`SAME_DESIGN`), written as plainly, still with nothing of ours.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Hashable
from time import monotonic
from typing import Any, NamedTuple


class Job(NamedTuple):
    task_id: Hashable
    priority: int
    payload: Any


_new_job = tuple.__new__  # NamedTuple's own __new__ is a Python function: skip it


class TextbookQueue:
    """``heapq`` + one ``Lock`` + a dict of statuses: the reference."""

    blocking = False  # get_next_task answers at once (the bench's workers poll)

    def __init__(self) -> None:
        self._lock = self._make_lock()
        self._heap: list[tuple[int, int, Job]] = []
        self._status: dict[Hashable, str] = {}
        self._order = itertools.count()
        self._added = 0
        self._queued = 0

    def _make_lock(self) -> Any:
        return threading.Lock()

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            if task_id in self._status:
                raise ValueError(f"duplicate task id {task_id!r}")
            job = _new_job(Job, (task_id, priority, payload))
            heapq.heappush(self._heap, (-priority, next(self._order), job))
            self._status[task_id] = "queued"
            self._added += 1
            self._queued += 1

    def get_next_task(self, timeout: float | None = None) -> Job | None:
        with self._lock:
            return self._pop()

    def _pop(self) -> Job | None:
        while self._heap:
            job = heapq.heappop(self._heap)[2]
            if self._status[job.task_id] == "cancelled":
                continue
            self._status[job.task_id] = "processing"
            self._queued -= 1
            return job
        return None

    def complete_task(self, task_id: Hashable) -> None:
        with self._lock:
            status = self._status[task_id]
            if status != "processing":
                raise ValueError(f"task {task_id!r} is {status}, not processing")
            self._status[task_id] = "completed"


class TextbookRLockQueue(TextbookQueue):
    """An ``RLock``, and ``complete_task`` asking the locked ``get_status`` inside it."""

    def _make_lock(self) -> Any:
        return threading.RLock()

    def get_status(self, task_id: Hashable) -> str | None:
        with self._lock:
            return self._status.get(task_id)

    def complete_task(self, task_id: Hashable) -> None:
        with self._lock:
            status = self.get_status(task_id)
            if status != "processing":
                raise ValueError(f"task {task_id!r} is {status}, not processing")
            self._status[task_id] = "completed"


class TextbookConditionQueue(TextbookQueue):
    """A ``Lock`` and a ``Condition`` on it: ``add`` notifies, ``get`` sleeps until work."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self._not_empty = threading.Condition(self._lock)

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            if task_id in self._status:
                raise ValueError(f"duplicate task id {task_id!r}")
            job = _new_job(Job, (task_id, priority, payload))
            heapq.heappush(self._heap, (-priority, next(self._order), job))
            self._status[task_id] = "queued"
            self._added += 1
            self._queued += 1
            self._not_empty.notify()

    def get_next_task(self, timeout: float | None = None) -> Job | None:
        deadline = None if timeout is None else monotonic() + timeout
        with self._lock:
            while True:
                job = self._pop()
                if job is not None:
                    return job
                remaining = None if deadline is None else deadline - monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._not_empty.wait(remaining)


class TextbookCompleteQueue(TextbookConditionQueue):
    """An ``RLock`` and a ``Condition`` on it, ``wait_for`` with a timeout."""

    def _make_lock(self) -> Any:
        return threading.RLock()

    def get_next_task(self, timeout: float | None = None) -> Job | None:
        with self._lock:
            self._not_empty.wait_for(lambda: self._queued > 0, timeout)
            return self._pop()


class TextbookPriorityQueue(TextbookQueue):
    """``queue.PriorityQueue`` holds the entries; a ``Lock`` guards the statuses."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self._entries: queue.PriorityQueue[tuple[int, int, Job]] = queue.PriorityQueue()

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            if task_id in self._status:
                raise ValueError(f"duplicate task id {task_id!r}")
            self._status[task_id] = "queued"
            self._added += 1
            self._queued += 1
            job = _new_job(Job, (task_id, priority, payload))
            self._entries.put((-priority, next(self._order), job))

    def get_next_task(self, timeout: float | None = None) -> Job | None:
        while True:
            try:
                job = self._entries.get(timeout=timeout)[2]
            except queue.Empty:
                return None
            with self._lock:
                if self._status[job.task_id] == "cancelled":
                    continue
                self._status[job.task_id] = "processing"
                self._queued -= 1
                return job


class WriteLock:
    """The write side of the textbook read-write lock (a ``Condition``, a reader
    count, a writer flag); the bench's operations all write."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False

    def acquire_write(self) -> None:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


class TextbookRWLockQueue(TextbookQueue):
    """Every change under the read-write lock in write mode (reads would share it)."""

    def __init__(self) -> None:
        super().__init__()
        self._rw = WriteLock()

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        self._rw.acquire_write()
        try:
            if task_id in self._status:
                raise ValueError(f"duplicate task id {task_id!r}")
            job = _new_job(Job, (task_id, priority, payload))
            heapq.heappush(self._heap, (-priority, next(self._order), job))
            self._status[task_id] = "queued"
            self._added += 1
            self._queued += 1
        finally:
            self._rw.release_write()

    def get_next_task(self, timeout: float | None = None) -> Job | None:
        self._rw.acquire_write()
        try:
            return self._pop()
        finally:
            self._rw.release_write()

    def complete_task(self, task_id: Hashable) -> None:
        self._rw.acquire_write()
        try:
            status = self._status[task_id]
            if status != "processing":
                raise ValueError(f"task {task_id!r} is {status}, not processing")
            self._status[task_id] = "completed"
        finally:
            self._rw.release_write()


class TextbookUnsafeQueue(TextbookQueue):
    """No lock at all, with the race demonstration's design: a read, a gap (which a
    race window widens by sleeping), then the write that depends on the read."""

    race_window = 0.0

    def _gap(self) -> None:
        if self.race_window:
            time.sleep(self.race_window)

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        if task_id in self._status:
            raise ValueError(f"duplicate task id {task_id!r}")
        added = self._added
        self._gap()
        self._added = added + 1
        self._status[task_id] = "queued"
        self._queued += 1
        job = _new_job(Job, (task_id, priority, payload))
        heapq.heappush(self._heap, (-priority, next(self._order), job))

    def get_next_task(self, timeout: float | None = None) -> Job | None:
        heap = self._heap
        while heap:
            try:
                job = heap[0][2]
            except IndexError:
                return None
            self._gap()
            try:
                heapq.heappop(heap)
            except IndexError:
                return None
            if self._status[job.task_id] == "cancelled":
                continue
            self._status[job.task_id] = "processing"
            self._queued -= 1
            return job
        return None

    def complete_task(self, task_id: Hashable) -> None:
        status = self._status[task_id]
        if status != "processing":
            raise ValueError(f"task {task_id!r} is {status}, not processing")
        self._status[task_id] = "completed"


SAME_DESIGN: dict[str, type[TextbookQueue]] = {
    "unsafe": TextbookUnsafeQueue,
    "global-lock": TextbookQueue,
    "rlock": TextbookRLockQueue,
    "rwlock": TextbookRWLockQueue,
    "rwlock-writers": TextbookRWLockQueue,
    "condition": TextbookConditionQueue,
    "priority-queue": TextbookPriorityQueue,
    "complete": TextbookCompleteQueue,
}
"""Each strategy's design, as a textbook writes it; strategies not listed use the reference."""


def same_design(strategy: str) -> type[TextbookQueue]:
    return SAME_DESIGN.get(strategy, TextbookQueue)

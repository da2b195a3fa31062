"""The standard library's ``queue.PriorityQueue``, plus a lock for the task table.

``queue.PriorityQueue`` is already thread-safe and blocking: inside it is a heap,
one mutex and three conditions over that mutex.  It does not know about task
statuses, so a second lock, ``table``, guards the status table and the counters.
The queue's own mutex and conditions are replaced by traced ones (same names,
same roles), so the lock view shows both locks.

Two locks bring the question of order.  The rule here: **table, then
PriorityQueue.mutex, never the other way round.**  ``add_task`` puts into the
queue while holding ``table``; ``snapshot`` holds both in that order.
``get_next_task`` must *not* hold ``table`` while it blocks in ``get()``: the
sleeper would keep every ``add`` out, and the task it waits for could never
arrive.  So it takes the entry out of the queue first (mutex only) and marks it
under ``table`` afterwards.  In that short gap the entry is in neither the heap
nor the "processing" state; a snapshot can miss it from the heap (the counts still
add up, as statuses only change under ``table``).

Cancelling cannot reach into the queue's heap, so it is lazy: the status says
cancelled, and ``get_next_task`` throws such entries away when they come out.

Shutdown: Python 3.13 has ``Queue.shutdown()``; for 3.11 the subclass below does
the same through the queue's documented extension points (``_qsize``/``_get``).

Cost: two locks per add and per get, and the queue's notifications, which is
more work than one lock around a ``heapq``; in return the blocking is done by
well-tested library code.
"""

from __future__ import annotations

import heapq
import queue
from collections.abc import Hashable
from typing import Any

from visualizer.events import CANCELLED, PROCESSING, QUEUED, TASK_ADDED, TASK_POPPED
from visualizer.queues.base import QueueShutDown, Task, TaskTable, new_task
from visualizer.queues.tracer import Tracer


class _TracedPriorityQueue(queue.PriorityQueue):
    """``queue.PriorityQueue`` with traced internals and a shutdown that wakes all getters."""

    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.clock = tracer.clock
        self.closed = False  # guarded by mutex
        self.mutex = tracer.lock("PriorityQueue.mutex")
        self.not_empty = tracer.condition("PriorityQueue.not_empty", self.mutex)
        self.not_full = tracer.condition("PriorityQueue.not_full", self.mutex)
        self.all_tasks_done = tracer.condition("PriorityQueue.all_tasks_done", self.mutex)

    def close(self) -> None:
        with self.not_empty:
            self.closed = True
            self.not_empty.notify_all()

    # Queue.get() sleeps while _qsize() is 0, then returns _get().  A closed queue
    # must let every getter through, so when empty it reports one phantom item,
    # which _get() turns into None.
    def _qsize(self) -> int:
        return len(self.queue) or int(self.closed)

    def _get(self) -> tuple | None:
        return heapq.heappop(self.queue) if self.queue else None

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """``Queue.get``, its deadline on the run's clock (a controlled run's is virtual)."""
        if not block or timeout is None:
            return super().get(block, timeout)
        end = self.clock() + timeout
        with self.not_empty:
            while not self._qsize():
                remaining = end - self.clock()
                if remaining <= 0:
                    raise queue.Empty
                self.not_empty.wait(remaining)
            item = self._get()
            self.not_full.notify()
            return item


class PriorityQueueStrategy(TaskTable):
    name = "priority-queue"
    title = "PriorityQueue + table lock"
    summary = (
        "The standard library's thread-safe PriorityQueue holds the tasks and does the "
        "blocking; a second lock guards the status table. Two locks need a fixed order "
        "(table first, then the queue's own mutex) or two threads could each hold one and "
        "wait for the other. Cancelled tasks cannot be pulled out of the queue, so they "
        "are skipped when they come out. Well-tested parts, but two locks per operation."
    )
    blocking = True

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._table = self.tracer.lock("table")
        self._pq = _TracedPriorityQueue(self.tracer)
        self._heap = self._pq.queue  # the base class's snapshot reads the queue's own heap

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._table:
            if self._shut_down:
                raise QueueShutDown("the queue is shut down")
            if task_id in self._status:
                raise ValueError(f"duplicate task id {task_id!r}")
            self._status[task_id] = QUEUED
            self._queued += 1
            self._added += 1
            if self._traced:  # watched: say so in the event stream
                record = self._record
                record(TASK_ADDED, task_id, priority, self._added)
            # Lock order table -> mutex: put() takes the queue's mutex inside ours.
            self._pq.put((-priority, next(self._order), new_task(task_id, priority, payload)))

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            try:
                entry = self._pq.get(timeout=remaining)  # mutex only: table stays free
            except queue.Empty:
                return None
            if entry is None:  # shut down and empty
                return None
            task = entry[2]
            with self._table:
                if self._status[task.task_id] == CANCELLED:
                    self._discard(task.task_id)
                    continue
                self._status[task.task_id] = PROCESSING
                self._queued -= 1
                if self._traced:
                    record = self._record
                    record(TASK_POPPED, task.task_id, task.priority)
                return task

    def complete_task(self, task_id: Hashable) -> None:
        with self._table:
            self._complete(task_id)

    def cancel_task(self, task_id: Hashable) -> bool:
        with self._table:
            return self._cancel(task_id)  # the entry stays in the queue until it is got

    def get_status(self, task_id: Hashable) -> str | None:
        with self._table:
            return self._status_of(task_id)

    def shutdown(self) -> None:
        with self._table:
            self._shut_down = True
            self._pq.close()  # table -> mutex again

    def snapshot(self):
        with self._table, self._pq.mutex:  # the one lock order
            return self._snapshot()

    def __len__(self) -> int:
        with self._table:
            return self._queued

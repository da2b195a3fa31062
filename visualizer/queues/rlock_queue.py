"""One re-entrant ``RLock``: public methods may call each other while locked.

With a plain ``Lock``, a method that holds the lock and calls another locked
method of the same object deadlocks on itself: the lock does not know its owner.
An ``RLock`` remembers the owning thread and counts how deep it is held, so the
owner may take it again (depth 2) and it is free only when the count is back to 0.

Here ``complete_task`` and ``cancel_task`` ask ``get_status`` (itself locked)
whether the change is allowed.  Holding the outer level across the check and the
change is what makes them one atomic step: without it another thread could
change the status between ``get_status`` returning and the write.

Cost: a little more than a ``Lock`` per acquire (owner and count bookkeeping), and
the same single line of waiting threads as the global lock.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from visualizer.events import PROCESSING, QUEUED
from visualizer.queues.base import Task, TaskTable
from visualizer.queues.tracer import Tracer


class RLockQueue(TaskTable):
    name = "rlock"
    title = "One re-entrant RLock"
    summary = (
        "One RLock guards everything, like the global lock, but it is re-entrant: the "
        "thread that holds it may take it again. Completing or cancelling a task calls the "
        "locked status lookup while already holding the lock (depth 2 in the lock view), "
        "so the check and the change happen as one step. A plain Lock would deadlock on "
        "itself there. The cost is a little bookkeeping per acquire and the same single "
        "line of waiting threads."
    )

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._lock = self.tracer.rlock("queue")

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            self._push(task_id, priority, payload)

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        with self._lock:
            return self._pop()

    def complete_task(self, task_id: Hashable) -> None:
        with self._lock:
            status = self.get_status(task_id)  # re-enters the lock: depth 2
            if status is None:
                raise KeyError(f"unknown task id {task_id!r}")
            if status != PROCESSING:
                raise ValueError(f"task {task_id!r} is {status}, not processing")
            self._complete(task_id)

    def cancel_task(self, task_id: Hashable) -> bool:
        with self._lock:
            status = self.get_status(task_id)  # re-enters the lock: depth 2
            if status is None:
                raise KeyError(f"unknown task id {task_id!r}")
            if status != QUEUED:
                return False
            return self._cancel(task_id)

    def get_status(self, task_id: Hashable) -> str | None:
        with self._lock:
            return self._status_of(task_id)

    def shutdown(self) -> None:
        with self._lock:
            self._shut_down = True

    def snapshot(self):
        with self._lock:
            return self._snapshot()

    def __len__(self) -> int:
        with self._lock:
            return self._queued

"""One ``Lock`` around every operation: the simplest correct queue.

Every method takes the same lock, so at most one thread touches the heap or the
status table at any moment.  Correct and easy to reason about; the price is that
all threads, readers included, queue up behind that one lock.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from visualizer.queues.base import Task, TaskTable
from visualizer.queues.tracer import Tracer


class GlobalLockQueue(TaskTable):
    name = "global-lock"
    title = "One global Lock"
    summary = (
        "A single Lock guards the heap and the status table; every method holds it "
        "for its whole duration. Nothing can interleave, so no task is lost or handed "
        "out twice. The cost: all threads, even ones that only read a status, wait in "
        "one line, so adding workers stops helping once the lock is the bottleneck."
    )

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._lock = self.tracer.lock("queue")

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            self._push(task_id, priority, payload)

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        with self._lock:
            return self._pop()

    def complete_task(self, task_id: Hashable) -> None:
        with self._lock:
            self._complete(task_id)

    def cancel_task(self, task_id: Hashable) -> bool:
        with self._lock:
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

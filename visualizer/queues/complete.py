"""The full version: ``RLock`` + ``Condition``, blocking get, cancel, clean shutdown.

This puts the earlier ideas together the way production code would:

* one ``RLock`` guards the heap and the table, so locked methods can build on one
  another (``cancel_task`` asks the locked ``get_status`` at depth 2);
* a ``Condition`` over that same RLock lets idle workers sleep, and
  ``Condition.wait_for`` keeps the "re-check after every wake-up" loop and the
  remaining-timeout arithmetic in one tested place;
* ``shutdown`` sets a flag and wakes every sleeper with ``notify_all``; each one
  re-checks the predicate, sees the flag and returns ``None`` at once once the
  queue is drained, while any ``add_task`` after it raises ``QueueShutDown``.

Waiting on a condition whose lock is an RLock held at depth > 1 would be a trap:
``wait`` releases *every* level (the traced RLock records this as depth 0) and
restores them on wake-up.  ``get_next_task`` waits at depth 1 only.

Cost: as the condition queue, plus RLock bookkeeping.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from visualizer.events import QUEUED
from visualizer.queues.base import Task, TaskTable
from visualizer.queues.tracer import Tracer


class CompleteQueue(TaskTable):
    name = "complete"
    title = "RLock + Condition, cancels"
    summary = (
        "The version you would ship: one re-entrant lock guards the heap and the table, "
        "idle workers sleep on a Condition with an optional timeout, cancelled tasks are "
        "skipped when they reach the top, and shutdown wakes every sleeping worker at "
        "once so that they can exit, while later adds are refused."
    )
    blocking = True

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._lock = self.tracer.rlock("queue")
        self._not_empty = self.tracer.condition("not_empty", self._lock)

    def _has_work_or_closed(self) -> bool:
        # _queued counts live tasks only, so when it is > 0 _pop() finds one,
        # skipping any cancelled entries above it.
        return self._queued > 0 or self._shut_down

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            self._push(task_id, priority, payload)  # raises QueueShutDown after shutdown()
            self._not_empty.notify()

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        with self._lock:
            # wait_for re-checks the predicate after every wake-up and gives up
            # when the timeout has passed; _pop then returns None if still empty.
            self._not_empty.wait_for(self._has_work_or_closed, timeout)
            return self._pop()

    def complete_task(self, task_id: Hashable) -> None:
        with self._lock:
            self._complete(task_id)

    def cancel_task(self, task_id: Hashable) -> bool:
        with self._lock:
            status = self.get_status(task_id)  # re-enters the RLock: depth 2
            if status is None:
                raise KeyError(f"unknown task id {task_id!r}")
            return status == QUEUED and self._cancel(task_id)

    def get_status(self, task_id: Hashable) -> str | None:
        with self._lock:
            return self._status_of(task_id)

    def shutdown(self) -> None:
        with self._lock:
            self._shut_down = True
            self._not_empty.notify_all()  # every sleeper must see the flag, not just one

    def snapshot(self):
        with self._lock:
            return self._snapshot()

    def __len__(self) -> int:
        with self._lock:
            return self._queued

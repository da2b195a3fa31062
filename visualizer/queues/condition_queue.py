"""A ``Lock`` plus a ``Condition``: workers sleep until there is work.

The non-blocking strategies answer "nothing to do" at once, so an idle worker
must poll: ask, back off, ask again, burning time and lock traffic.  Here
``get_next_task`` sleeps on the condition ``not_empty`` instead, and ``add_task``
wakes exactly one sleeper per task added.

Rules of the condition variable, all visible below:

* Check and sleep under the same lock.  ``wait()`` releases the lock and goes to
  sleep as one step, so an ``add`` cannot slip in between the check and the sleep
  and have its ``notify`` lost.
* Re-check after every wake-up, in a ``while`` loop.  A woken thread has to take
  the lock again, and another worker may take the task first; waits may also
  return early (the traced condition does so on purpose, so Stop can reach it).
* ``shutdown`` wakes *every* sleeper (``notify_all``): each of them must see the
  flag and return.

Cost: one lock as in the global-lock queue, plus a notify per add; idle workers
cost nothing while they sleep.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from visualizer.queues.base import Task, TaskTable
from visualizer.queues.tracer import Tracer


class ConditionQueue(TaskTable):
    name = "condition"
    title = "Lock + Condition (sleeps)"
    summary = (
        "Idle workers sleep on a Condition instead of asking again and again. Adding a "
        "task wakes one sleeper; it re-checks the heap under the lock, because another "
        "worker may have taken the task first, and goes back to sleep if so. Shutting "
        "down wakes them all. One lock guards everything, as with the global lock, but an "
        "empty queue costs no CPU."
    )
    blocking = True

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._lock = self.tracer.lock("queue")
        self._not_empty = self.tracer.condition("not_empty", self._lock)

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._lock:
            self._push(task_id, priority, payload)
            self._not_empty.notify()  # one new task: one sleeper is enough

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        deadline = None if timeout is None else self._clock() + timeout
        with self._lock:
            while True:
                task = self._pop()  # the predicate: a live task on the heap
                if task is not None or self._shut_down:
                    return task
                if deadline is None:
                    self._not_empty.wait()
                else:
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        return None
                    self._not_empty.wait(remaining)

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
            self._not_empty.notify_all()

    def snapshot(self):
        with self._lock:
            return self._snapshot()

    def __len__(self) -> int:
        with self._lock:
            return self._queued

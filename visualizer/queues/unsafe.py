"""No locking at all: a queue that is broken on purpose.

Every method reads and writes the heap and the status table directly.  Under
CPython's GIL a single ``heappush`` or dict store cannot be torn, so the damage
comes from *sequences*: a thread reads a value, another thread runs, and the
first thread then writes back something computed from what it read, undoing or
repeating the other thread's work.  Two such read-modify-write gaps are marked:

* the ``added`` counter: read it, (gap), write it plus one.  Two adds in the gap
  both write the same number, so one increment is lost.
* pop-then-mark: look at the top task, (gap), pop and deliver it.  Two workers in
  the gap both deliver the task they looked at (double delivery), and the task
  that was popped in its place is never delivered at all (a lost task).

Left alone those gaps are a few bytecodes wide and a race may take millions of
operations to show; ``race_window`` (seconds) sleeps in each gap, which hands the
GIL to another thread and makes the races happen within seconds.

Cost: none, it is the fastest strategy.  It is also wrong.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Hashable
from typing import Any

from visualizer.events import CANCELLED, PROCESSING, QUEUED, TASK_ADDED, TASK_POPPED
from visualizer.queues.base import QueueShutDown, Task, TaskTable, new_task
from visualizer.queues.tracer import Tracer


class UnsafeQueue(TaskTable):
    name = "unsafe"
    title = "No locking (unsafe)"
    summary = (
        "No lock at all: threads change the heap and the status table whenever they "
        "like. Reading a value and writing back a result are separate steps, and another "
        "thread can run in between: two adds can bump the counter to the same number, and "
        "two workers can both take the task they saw on top. The race window setting "
        "widens those gaps so lost updates, lost tasks and double deliveries show up within "
        "seconds. Fast, and wrong."
    )
    safe = False

    def __init__(self, tracer: Tracer | None = None, race_window: float = 0.0) -> None:
        if race_window < 0:
            raise ValueError("race_window must not be negative")
        super().__init__(tracer)
        self.race_window = race_window
        self._gate = self.tracer.gate

    def _gap(self, label: str, *values: object) -> None:
        """The moment between a read and the write that depends on it.

        A step-through can park the thread exactly here (labelled ``label %
        values``); sleeping releases the GIL, so other threads run and act on the
        same stale value.
        """
        if self._gate.closed:
            self.tracer.checkpoint(label, *values)
        if self.race_window:
            time.sleep(self.race_window)

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        if self._shut_down:
            raise QueueShutDown("the queue is shut down")
        if task_id in self._status:  # check-then-act: two adds of one id can both pass
            raise ValueError(f"duplicate task id {task_id!r}")
        added = self._added  # read ...
        self._gap("add %s: read added=%s", task_id, added)
        self._added = added + 1  # ... write: any increment made during the gap is overwritten
        # The status and the event go in before the heap entry, so a worker that pops
        # the entry straight away finds a status for it and the stream shows the add
        # before the delivery.
        self._status[task_id] = QUEUED
        self._queued += 1
        if self._traced:  # watched: say so in the event stream
            record = self._record
            record(TASK_ADDED, task_id, priority, added + 1)
        heapq.heappush(
            self._heap, (-priority, next(self._order), new_task(task_id, priority, payload))
        )

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        heap = self._heap
        while heap:
            try:
                task = heap[0][2]  # look at the top ...
            except IndexError:  # another thread emptied the heap since the `while` test
                return None
            self._gap("get: saw %s on top", task.task_id)
            try:
                heapq.heappop(heap)  # ... pop whatever is on top *now*, and deliver what we saw
            except IndexError:
                return None
            if self._status[task.task_id] == CANCELLED:
                self._discard(task.task_id)
                continue
            self._status[task.task_id] = PROCESSING
            self._queued -= 1
            if self._traced:
                record = self._record
                record(TASK_POPPED, task.task_id, task.priority)
            return task
        return None

    def complete_task(self, task_id: Hashable) -> None:
        self._complete(task_id)

    def cancel_task(self, task_id: Hashable) -> bool:
        return self._cancel(task_id)

    def get_status(self, task_id: Hashable) -> str | None:
        return self._status_of(task_id)

    def shutdown(self) -> None:
        self._shut_down = True

    def snapshot(self):
        return self._snapshot()

    def __len__(self) -> int:
        return self._queued

"""A read-write lock: many readers at once, or one writer alone.

``get_status``, ``__len__`` and ``snapshot`` only read, so they take the lock in
shared (read) mode and run side by side.  Everything that changes the heap or the
table, getting a task included (it pops and marks), takes it exclusively.

Which side waits is a policy.  Reader-preferring (``rwlock``) lets a new reader in
whenever no writer is *inside*; under a steady stream of overlapping status reads
the reader count never drops to zero and a waiting writer starves.  The
writer-preferring variant (``rwlock-writers``) stops new readers as soon as a
writer is waiting, so the writer gets in when the current readers leave; now the
readers wait instead.

Cost: each acquire goes through a ``Condition`` of the lock's own, which is more
work than a plain ``Lock``; it only pays off when reads are long or many.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from visualizer.queues.base import Task, TaskTable
from visualizer.queues.tracer import Tracer


class RWLockQueue(TaskTable):
    name = "rwlock"
    title = "Read-write: readers first"
    summary = (
        "Status look-ups, the queue length and snapshots only read, so any number of them "
        "may run at once; adding, taking, completing and cancelling write and need the lock "
        "alone. Readers are preferred: a new reader walks in while a writer waits, so under "
        "a steady stream of reads the writers can starve. Compare with the writer-preferring "
        "variant."
    )
    prefer_writers = False

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._rw = self.tracer.rwlock("queue", self.prefer_writers)

    # --- writers: change the heap or the table ----------------------------
    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        with self._rw.write_locked():
            self._push(task_id, priority, payload)

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        with self._rw.write_locked():
            return self._pop()

    def complete_task(self, task_id: Hashable) -> None:
        with self._rw.write_locked():
            self._complete(task_id)

    def cancel_task(self, task_id: Hashable) -> bool:
        with self._rw.write_locked():
            return self._cancel(task_id)

    def shutdown(self) -> None:
        with self._rw.write_locked():
            self._shut_down = True

    # --- readers: only look, so they may overlap each other ---------------
    def get_status(self, task_id: Hashable) -> str | None:
        with self._rw.read_locked():
            return self._status_of(task_id)

    def snapshot(self):
        with self._rw.read_locked():
            return self._snapshot()

    def __len__(self) -> int:
        with self._rw.read_locked():
            return self._queued


class WriterPreferringRWLockQueue(RWLockQueue):
    name = "rwlock-writers"
    title = "Read-write: writers first"
    summary = (
        "The same read-write lock, with the opposite policy: as soon as a writer is "
        "waiting, new readers queue up behind it, so adds and gets are never starved by "
        "status reads. The price moves to the readers, who now wait whenever a writer is "
        "in line."
    )
    prefer_writers = True

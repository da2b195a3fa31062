"""What every strategy shares: the task record, the statuses, and the bare heap.

:class:`TaskTable` is the priority queue with *no* locking at all: a binary heap
(``heapq``) of entries plus a table of statuses.  Each strategy subclasses it and
wraps these unlocked operations in its own synchronisation, which is the only
thing that differs between strategies, and so the only thing a student needs to
read in each strategy module.

Ordering: a larger ``priority`` number is served first; among equal priorities,
the task added first is served first (the insertion counter breaks ties).
Cancelled tasks stay in the heap until they reach the top (lazy deletion): removing
from the middle of a heap costs O(n), skipping at pop time costs nothing extra.

The status table moves a task into two bits (``_folded``) once
:data:`FINISHED_KEPT` more tasks have finished after it (completed, or its
cancelled entry thrown away), so a run that never ends holds its live tasks plus
a constant.  ``get_status``, ``cancel_task`` and ``complete_task`` still answer
for such a task as before; snapshots count it without listing it, and its id may
be added again (the invariant checker, which keeps its own bits, reports that).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, NamedTuple, Protocol

from visualizer.events import (
    CANCELLED,
    COMPLETED,
    HEAP_DISCARDED,
    PROCESSING,
    QUEUED,
    STATUSES,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
)
from visualizer.queues.finished import FinishedIds
from visualizer.queues.gate import skip_frames_of
from visualizer.queues.speedups import native
from visualizer.queues.tracer import Tracer

# The unlocked operations below are shared plumbing; a thread stepped while it records
# a task event is shown at the strategy's line that called them, in the strategy's file.
skip_frames_of(__file__)

FINISHED_KEPT = 10_000
"""Finished tasks the status table keeps listed (see the module docstring)."""
FOLD_BATCH = 1024
"""Finished tasks folded at a time, so folding costs a call per thousand tasks."""
FOLD_AT = FINISHED_KEPT + FOLD_BATCH


class QueueShutDown(RuntimeError):
    """A task was added after ``shutdown()``."""


class Task(NamedTuple):
    """A task as handed to a worker: immutable, read by name (``task.task_id``)."""

    task_id: Hashable
    priority: int
    payload: Any = None


def _new_task(task_id: Hashable, priority: int, payload: Any) -> Task:
    return _tuple_new(Task, (task_id, priority, payload))


_tuple_new = tuple.__new__

new_task: Callable[[Hashable, int, Any], Task] = (
    _new_task if native is None else partial(native.new_tuple, Task)
)
"""``Task(task_id, priority, payload)``, built the quick way: a task is made on every
add, and a NamedTuple's own constructor is a Python function (141 ns measured);
``tuple.__new__`` makes the same tuple in 102 ns, the C speedups' ``new_tuple`` in 66."""


@dataclass(frozen=True, slots=True)
class HeapEntry:
    """One slot of the heap array, as the views draw it."""

    priority: int
    task_id: Hashable
    status: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent copy of a queue's state, taken under its lock(s)."""

    heap: list[HeapEntry]  # in heap-array order: children of i are 2i+1, 2i+2
    statuses: dict[Hashable, str]  # live and recently finished tasks
    added: int  # the queue's own counter of adds (lost updates make it fall short)
    forgotten: dict[str, int] = field(default_factory=dict)  # finished tasks no longer listed

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status in self.statuses.values():
            counts[status] += 1
        for status, count in self.forgotten.items():
            counts[status] += count
        return counts


class TaskQueue(Protocol):
    """The API every strategy offers (see the module docstring for ordering)."""

    name: ClassVar[str]

    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None: ...
    def get_next_task(self, timeout: float | None = None) -> Task | None: ...
    def complete_task(self, task_id: Hashable) -> None: ...
    def cancel_task(self, task_id: Hashable) -> bool: ...
    def get_status(self, task_id: Hashable) -> str | None: ...
    def shutdown(self) -> None: ...
    def snapshot(self) -> Snapshot: ...
    def __len__(self) -> int: ...


class TaskTable:
    """Heap plus status table, with no synchronisation: callers must provide it.

    Class attributes describe the strategy to the user interface: ``title`` is a
    short label, ``summary`` one plain paragraph (what it protects, what it costs),
    ``blocking`` whether ``get_next_task`` waits for work.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    blocking: ClassVar[bool] = False
    safe: ClassVar[bool] = True

    def __init__(self, tracer: Tracer | None = None) -> None:
        self.tracer = tracer if tracer is not None else Tracer()
        # Hot paths call it from a local (``record = self._record``, then
        # ``record(...)``): CPython 3.11 looks up ``self._record(...)`` the slow way
        # on every call (its method-call shortcut knows only the class's methods),
        # which cost a sixth of what tracing adds to the unsafe queue's cycle.
        self._record = self.tracer.record
        self._clock = self.tracer.clock  # like time.monotonic, but a controlled run's is virtual
        # Untraced, the three events of every add/get/complete cycle cost one test
        # each instead of a call to a no-op: the bench's baseline stays honest.
        self._traced = self.tracer.traced
        self._heap: list[tuple[int, int, Task]] = []
        self._status: dict[Hashable, str] = {}  # a plain dict: the fast path of every step
        self._folded = FinishedIds()  # finished tasks no longer listed, two bits each
        self._finished: list[Hashable] = []  # done with the queue, oldest first
        self._forgotten = {COMPLETED: 0, CANCELLED: 0}  # finished and no longer in _status
        self._order = itertools.count()
        self._added = 0
        self._queued = 0
        self._shut_down = False

    # --- unlocked operations -----------------------------------------------
    def _push(self, task_id: Hashable, priority: int, payload: Any) -> None:
        if self._shut_down:
            raise QueueShutDown("the queue is shut down")
        status = self._status
        if task_id in status:
            raise ValueError(f"duplicate task id {task_id!r}")
        heapq.heappush(
            self._heap, (-priority, next(self._order), new_task(task_id, priority, payload))
        )
        status[task_id] = QUEUED
        self._queued += 1
        self._added += 1
        if self._traced:
            record = self._record
            record(TASK_ADDED, task_id, priority, self._added)

    def _pop(self) -> Task | None:
        heap, status = self._heap, self._status
        while heap:
            task = heapq.heappop(heap)[2]
            task_id = task.task_id
            if status[task_id] == CANCELLED:
                self._discard(task_id)
                continue
            status[task_id] = PROCESSING
            self._queued -= 1
            if self._traced:
                record = self._record
                record(TASK_POPPED, task_id, task.priority)
            return task
        return None

    def _status_of(self, task_id: Hashable) -> str | None:
        """The task's status, listed or folded long ago; None for an id never added."""
        status = self._status.get(task_id)
        return self._folded.get(task_id) if status is None else status

    def _require(self, task_id: Hashable) -> str:
        status = self._status_of(task_id)
        if status is None:
            raise KeyError(f"unknown task id {task_id!r}")
        return status

    def _complete(self, task_id: Hashable) -> None:
        statuses = self._status
        status = statuses.get(task_id)
        if status != PROCESSING:
            status = self._require(task_id)  # raises KeyError for an unknown task
            raise ValueError(f"task {task_id!r} is {status}, not processing")
        statuses[task_id] = COMPLETED
        if self._traced:
            record = self._record
            record(TASK_COMPLETED, task_id, status)
        finished = self._finished
        finished.append(task_id)  # to fold later (no call: this is every task's path)
        if len(finished) > FOLD_AT:
            self._fold()

    def _discard(self, task_id: Hashable) -> None:
        """A cancelled task's entry came off the heap: it is done with the queue."""
        self._record(HEAP_DISCARDED, task_id)
        self._finished.append(task_id)

    def _fold(self) -> None:
        """Fold the oldest finished tasks past :data:`FINISHED_KEPT` into two bits each."""
        finished = self._finished
        excess = len(finished) - FINISHED_KEPT
        batch = finished[:excess]
        del finished[:excess]
        self._folded.fold(batch, self._status, self._forgotten)

    def _cancel(self, task_id: Hashable) -> bool:
        status = self._require(task_id)
        if status != QUEUED:
            return False
        self._status[task_id] = CANCELLED
        self._queued -= 1
        self._record(TASK_CANCELLED, task_id, status)
        return True

    def _snapshot(self) -> Snapshot:
        status = self._status
        heap = [
            HeapEntry(task.priority, task.task_id, status[task.task_id])
            for _, _, task in self._heap
        ]
        return Snapshot(heap, dict(status), self._added, dict(self._forgotten))

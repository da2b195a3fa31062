"""A user's queue object seen through the interface the engine's workers use.

The workers call ``add_task(task_id, priority, payload)``, ``get_next_task()``
(``timeout=`` when the queue blocks), ``complete_task`` and ``cancel_task``, and
read ``task.task_id``/``task.payload`` of what a get returns; this adapter
makes those calls on the user's object and records the task events from them,
so the invariant checker sees what was added and what each get returned even
if the queue records nothing.

Order of the records, so that a correct queue is never accused:

* ``TASK_ADDED`` goes in *before* the user's ``add_task`` runs: once the task is
  in the queue a getter may return it at once, and its ``TASK_POPPED`` must come
  after the add.
* ``TASK_POPPED``, ``TASK_COMPLETED`` and ``TASK_CANCELLED`` go in after the call
  returns: nobody else can act on that task in between (the worker holds it, or
  a cancelled task is never handed out by a correct queue).

The bookkeeping here (priorities and payloads by id, what was handed out) is
the adapter's own, never the user's: a get that returns only an id still gives
the worker its payload, and the Heap view can name the priority of what it draws.
"""

from __future__ import annotations

import queue as real_queue
import sys
import threading
from collections.abc import Hashable
from types import FrameType
from typing import Any

from visualizer.engine.userqueue.api import QueueApi
from visualizer.events import (
    CANCELLED,
    COMPLETED,
    PROCESSING,
    QUEUED,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
)
from visualizer.queues import HeapEntry, RunStopped, Snapshot, Task, Tracer

AUDIT_TIMEOUT_S = 1.0
"""Longest the end-of-run ``len()`` may take (it runs user code, outside the run)."""

EMPTY = (TimeoutError, real_queue.Empty)
"""What a get may raise to say there is nothing."""


def task_id_of(value: Any) -> Hashable | None:
    """The task id in what a get returned: the id, a dict's ``task_id``/``id``, an attribute."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("task_id", "id"):
            if key in value:
                return _hashable(value[key])
        return _hashable(value)
    for attr in ("task_id", "id"):
        found = getattr(value, attr, None)
        if found is not None and not callable(found):
            return _hashable(found)
    return _hashable(value)


def _hashable(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class UserQueue:
    """The engine's queue interface over a user's queue object (see the module docstring)."""

    safe = False  # nothing promised: the checker decides
    title = ""

    def __init__(self, instance: Any, api: QueueApi, tracer: Tracer) -> None:
        self.subject = instance  # what the scheduler studies and the variables panel reads
        self.api = api
        self.tracer = tracer
        self.blocking = api.blocking
        self.title = api.ref.label
        self.source_file = api.ref.path
        self._record = tracer.record
        self._add = instance.add_task
        self._get = instance.get_next_task
        self._optional = {name: getattr(instance, name) for name in api.present}
        self.priority: dict[Hashable, int] = {}
        self.payload: dict[Hashable, Any] = {}
        self.status: dict[Hashable, str] = {}  # as the calls say
        self.added = 0

    # --- what the workers call -------------------------------------------------------
    def add_task(self, task_id: Hashable, priority: int, payload: Any = None) -> None:
        self.priority[task_id] = priority
        self.payload[task_id] = payload
        self.status[task_id] = QUEUED
        self.added += 1
        self._record(TASK_ADDED, task_id, priority, None)
        if self.api.add_takes_payload:
            self._add(task_id, priority, payload)
        else:
            self._add(task_id, priority)

    def get_next_task(self, timeout: float | None = None) -> Task | None:
        takes = self.api.get_takes
        try:
            if takes == "timeout":
                value = self._get(timeout=timeout)
            elif takes == "block":
                value = self._get(block=False)
            else:
                value = self._get()
        except EMPTY:
            return None
        task_id = task_id_of(value)
        if task_id is None:
            return None
        priority = self.priority.get(task_id)
        self.status[task_id] = PROCESSING
        self._record(TASK_POPPED, task_id, priority)
        return Task(task_id, priority if priority is not None else 0, self.payload.get(task_id))

    def complete_task(self, task_id: Hashable) -> None:
        complete = self._optional.get("complete_task")
        if complete is not None:
            complete(task_id)
        before = self.status.get(task_id)
        self.status[task_id] = COMPLETED
        self._record(TASK_COMPLETED, task_id, before)

    def cancel_task(self, task_id: Hashable) -> bool:
        cancel = self._optional.get("cancel_task")
        if cancel is None:
            return False
        result = cancel(task_id)
        if result is None:  # says nothing: ask the queue, if it can tell
            status = self.get_status(task_id)
            result = status is None or "cancel" in str(status).lower()
        if not result:
            return False
        before = self.status.get(task_id)
        self.status[task_id] = CANCELLED
        self._record(TASK_CANCELLED, task_id, before)
        return True

    def get_status(self, task_id: Hashable) -> Any:
        get_status = self._optional.get("get_status")
        return get_status(task_id) if get_status is not None else self.status.get(task_id)

    def shutdown(self) -> None:
        shutdown = self._optional.get("shutdown")
        if shutdown is not None:
            shutdown()

    def __len__(self) -> int:
        length = self._optional.get("__len__")
        if length is not None:
            return int(length())
        return self.outstanding()

    # --- isolation ------------------------------------------------------------------------
    def guard_thread(self) -> None:
        """In each run thread of a free run: let Stop reach a loop in the user's code.

        A controlled run switches at every line of the user's file anyway (and
        raises ``RunStopped`` there once stopped); a free run has no such point
        in ``while True: pass``.  So its threads trace the user's file alone, at
        its lines, and a line met after Stop raises ``RunStopped``.  Code of the
        user's that never reaches a new line (a C call that never returns) is
        beyond reach in-process: the run process is the boundary for that.
        """
        path = self.source_file
        gate = self.tracer.gate

        def local(frame: FrameType, event: str, _arg: object) -> Any:
            if event == "line" and gate.aborted:
                raise RunStopped
            return local

        def calls(frame: FrameType, event: str, _arg: object) -> Any:
            if event == "call" and frame.f_code.co_filename == path:
                return local
            return None

        sys.settrace(calls)

    # --- what the views and the end-of-run check read ------------------------------------
    def outstanding(self) -> int:
        """Tasks added and neither handed out nor cancelled, as the calls say."""
        return sum(1 for status in list(self.status.values()) if status == QUEUED)

    def heap_list(self) -> list | None:
        """A copy of the class's heapq list (None if it keeps none, or it cannot be read)."""
        path = self.api.heap
        if path is None:
            return None
        value: Any = self.subject
        try:
            for part in path.split("."):
                value = object.__getattribute__(value, part)
        except AttributeError:
            return None
        if not isinstance(value, list):
            try:
                value = list(value)  # a deque, say: one C call
            except TypeError:
                return None
        return list(value)

    def heap_slots(self) -> list[tuple[int | None, Hashable, str | None]] | None:
        """The real heap as ``(priority, task id, status)`` per slot, or None (see heap_list)."""
        heap = self.heap_list()
        if heap is None:
            return None
        out = []
        for entry in heap:
            task = self._entry_task(entry)
            out.append((self.priority.get(task), task, self.status.get(task)))
        return out

    def own_heap(self, limit: int) -> tuple[str, list[tuple[int, Hashable]] | None, int]:
        """What the Heap view draws: the heapq list's name, its first ``limit`` slots as
        ``(priority, task id)`` and its length; slots None if the class keeps no such list.

        Read without the class's lock (one C call copies the list, whole under the
        GIL): taking it would change the very interleaving being watched.
        """
        slots = self.heap_slots()
        if slots is None or self.api.heap is None:
            return "", None, 0
        shown = [(p if p is not None else 0, task) for p, task, _status in slots[:limit]]
        return self.api.heap, shown, len(slots)

    def _entry_task(self, entry: Any) -> Hashable:
        """The task id in a heap entry: a known id among a tuple's items (the last first)."""
        if isinstance(entry, tuple | list):
            for item in reversed(entry):
                found = task_id_of(item)
                if found in self.priority:
                    return found
            return _hashable(entry)
        return task_id_of(entry)

    def snapshot(self) -> Snapshot:
        """The real heap if the class keeps one, with statuses as the calls say."""
        slots = self.heap_slots() or []
        heap = [HeapEntry(p if p is not None else 0, task, s or QUEUED) for p, task, s in slots]
        return Snapshot(heap, dict(self.status), self.added)

    def audit(self) -> str | None:
        """After a drained run: does ``len(queue)`` agree with what was added and handed out?

        A count kept by the queue (``self.size += 1``) that lost an update says
        one task too many or too few; nothing else can tell that from outside.
        Runs the user's ``__len__`` on a thread of its own, for at most
        :data:`AUDIT_TIMEOUT_S`.
        """
        length = self._optional.get("__len__")
        if length is None:
            return None
        answer: list[Any] = []

        def ask() -> None:
            try:
                answer.append(int(length()))
            except Exception as exc:
                answer.append(exc)

        thread = threading.Thread(target=ask, name="audit", daemon=True)
        thread.start()
        thread.join(AUDIT_TIMEOUT_S)
        if not answer:
            return f"len(queue) did not return within {AUDIT_TIMEOUT_S:g} s after the run"
        said = answer[0]
        if isinstance(said, Exception):
            return f"len(queue) raised {type(said).__name__} after the run: {said}"
        expected = self.outstanding()
        if said == expected:
            return None
        handed = sum(1 for s in self.status.values() if s in (PROCESSING, COMPLETED))
        noun = "task" if said in (1, -1) else "tasks"
        return (
            f"len(queue) is {said} {noun} after the run, but {expected} should be left "
            f"({self.added} added, {handed} handed out): the queue's count lost an update"
        )

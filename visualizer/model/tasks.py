"""Task statuses as the event stream tells them, with exact counts, in bounded memory.

Live tasks (queued or processing) are kept with their details, and so are the
most recently finished ``keep_finished`` ones, which is all any view shows: who
moved a task, when, its priority.  Past that horizon a finished task is folded
into the counts; its id goes into :class:`RetiredIds` (two bits an id, dropped
once every id before it has finished too), which still tells the checker that
a task handed out again, however long ago it finished, is no new task.  Memory
therefore stays bounded by the live tasks and the spread of their ids plus a
constant, however long a run goes.  Ids that are not integers (a hand-made
log's) cannot be folded into bits and stay in the table.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from visualizer.events import CANCELLED, COMPLETED, PROCESSING, QUEUED, STATUSES, TERMINAL

History = list[tuple[int, str, int]]
"""``(t_ns, status, thread ident)`` for each status change of one task."""


class RetiredIds:
    """Integer ids of finished tasks and how each finished, in two bits an id.

    Bits cover the ids from :attr:`base` on; ``add`` grows them as ids get
    larger and drops the leading bytes whose four ids have all finished, so
    memory follows the spread of the ids still live (a task starved at a low
    priority, a producer ahead of another), a quarter of a byte each, not the
    length of the run.  An id too far from the rest to fit within
    :data:`SPAN` ids (a hand-made log's) is refused, and the caller keeps it.
    """

    SPAN = 1 << 26
    """Most ids covered: 16 MB of bits at most."""
    _CODES = {COMPLETED: 1, CANCELLED: 2}
    _STATUS = (None, COMPLETED, CANCELLED, None)
    _FULL = bytes(
        int(all((value >> shift) & 3 for shift in (0, 2, 4, 6))) for value in range(256)
    )  # translate table: 1 for a byte whose four ids have all finished

    KEEP = 1024
    """Bytes of finished ids kept before the first live one: a late duplicate still shows."""

    __slots__ = ("base", "bits", "lowest", "_added")

    def __init__(self) -> None:
        self.base = 0
        self.bits = bytearray()
        self.lowest: int | None = None  # the smallest id ever added: none below it will come
        self._added = 0

    def __len__(self) -> int:
        """Bytes of bits kept (a quarter of a byte per id covered)."""
        return len(self.bits)

    def get(self, task_id: Hashable) -> str | None:
        """How the task finished, if it is here (None: not finished past the horizon)."""
        if type(task_id) is not int:
            return None
        offset = task_id - self.base
        if offset < 0 or offset >= 4 * len(self.bits):
            return None
        return self._STATUS[(self.bits[offset >> 2] >> ((offset & 3) << 1)) & 3]

    def add(self, task_id: Hashable, status: str) -> bool:
        """Fold a finished task in; False if its id cannot be (the caller keeps it)."""
        if type(task_id) is not int:
            return False
        bits = self.bits
        if not bits:
            self.base = task_id & ~3
        if self.lowest is None or task_id < self.lowest:
            self.lowest = task_id
        offset = task_id - self.base
        if offset < 0:  # before the first byte: grow downwards if the span allows
            grow = (-offset + 3) >> 2
            if 4 * (len(bits) + grow) > self.SPAN:
                return False
            bits[0:0] = bytes(grow)
            self.base -= 4 * grow
            offset += 4 * grow
        elif offset >= 4 * len(bits):
            if offset >= self.SPAN:
                return False
            bits.extend(bytes((offset >> 2) + 1 - len(bits) + 1024))
        bits[offset >> 2] |= self._CODES[status] << ((offset & 3) << 1)
        self._added += 1
        if self._added % 4096 == 0:
            self._trim()
        return True

    def _trim(self) -> None:
        """Drop leading bytes whose ids have all finished: nothing before them is live.

        Ids below the smallest one ever added count as finished (numbering that
        starts at 1 leaves id 0 out for good).
        """
        bits = self.bits
        marks = bits.translate(self._FULL)
        done = marks.find(0)
        lowest = self.base if self.lowest is None else self.lowest
        if done == 0 and all(self.base + k < lowest or (bits[0] >> (2 * k)) & 3 for k in range(4)):
            done = marks.find(0, 1)
        if done == -1:
            done = len(bits)
        if done > self.KEEP:
            drop = done - self.KEEP
            del bits[:drop]
            self.base += 4 * drop


class TaskBoard:
    """Status per task, counts per status, who is working on what."""

    def __init__(self, keep_finished: int = 10_000) -> None:
        self.status: dict[Hashable, str] = {}  # live and recently finished tasks only
        self.by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)  # live counts, read-only
        self.added = 0  # TASK_ADDED events, duplicates included, so counts can fail to add up
        self.worker_of: dict[Hashable, int] = {}
        self.priority: dict[Hashable, int] = {}
        self.keep_finished = keep_finished
        self.adopted: set[Hashable] = set()  # seen moving before any add: not yet counted
        self.flagged: set[Hashable] = set()  # broken tasks already reported (by the checker)
        self.retired = RetiredIds()
        self.retired_count = 0  # finished tasks folded into the counts
        self._history: dict[Hashable, History] = {}
        self._finished: deque[Hashable] = deque()

    def counts(self) -> dict[str, int]:
        """``added`` plus one count per status.

        They add up unless an id was added twice, or a task moved before its add was
        seen (a racing strategy, or dropped events).
        """
        counts = {"added": self.added}
        counts.update(self.by_status)
        return counts

    def reconciled(self) -> bool:
        """Does ``added == queued + processing + completed + cancelled`` hold?"""
        return self.added == sum(self.by_status.values())

    def status_of(self, task_id: Hashable) -> str | None:
        """The task's status, also for a task finished past the horizon (None: never seen)."""
        status = self.status.get(task_id)
        return self.retired.get(task_id) if status is None else status

    def is_flagged(self, task_id: Hashable) -> bool:
        """Has the checker reported this task broken already (while it was within the horizon)?"""
        return task_id in self.flagged

    def history(self, task_id: Hashable) -> History:
        """Status changes of a task (empty once it is long finished)."""
        return list(self._history.get(task_id, ()))

    def add(self, t_ns: int, ident: int, task_id: Hashable, priority: int) -> str | None:
        """Record an add; returns the status an earlier add left (None if none did).

        A racing strategy can hand a task out before its add is recorded; the late
        add then completes the count without turning the task back to queued.
        """
        self.added += 1
        self.priority[task_id] = priority
        if task_id in self.adopted:
            self.adopted.discard(task_id)
            history = self._history.get(task_id)
            if history is not None:
                history.insert(0, (t_ns, QUEUED, ident))
            return None
        before = self.status_of(task_id)
        self._move(t_ns, ident, task_id, QUEUED, before)
        return before

    def pop(self, t_ns: int, ident: int, task_id: Hashable) -> str | None:
        """A worker received the task; returns the status before (None if not added yet)."""
        self.worker_of[task_id] = ident
        return self._change(t_ns, ident, task_id, PROCESSING)

    def complete(self, t_ns: int, ident: int, task_id: Hashable) -> str | None:
        return self._change(t_ns, ident, task_id, COMPLETED)

    def cancel(self, t_ns: int, ident: int, task_id: Hashable) -> str | None:
        return self._change(t_ns, ident, task_id, CANCELLED)

    def _change(self, t_ns: int, ident: int, task_id: Hashable, status: str) -> str | None:
        """Move a task to ``status``; a task not yet added is adopted (its add may be late)."""
        before = self.status.get(task_id)
        if before is None:
            before = self.status_of(task_id)
            if before is None and task_id not in self.adopted:
                self.adopted.add(task_id)
        self._move(t_ns, ident, task_id, status, before)
        return before

    def _move(
        self, t_ns: int, ident: int, task_id: Hashable, status: str, before: str | None
    ) -> None:
        by_status = self.by_status
        if before is not None:
            by_status[before] -= 1
        by_status[status] += 1
        self.status[task_id] = status
        history = self._history.get(task_id)
        if history is None:
            self._history[task_id] = [(t_ns, status, ident)]
        else:
            history.append((t_ns, status, ident))
        if status in TERMINAL:
            self._retire(task_id)

    def _retire(self, task_id: Hashable) -> None:
        """Queue a finished task for folding; fold the oldest one past the horizon."""
        finished = self._finished
        finished.append(task_id)
        if len(finished) <= self.keep_finished:
            return
        old = finished.popleft()
        status = self.status.get(old)
        if status not in TERMINAL:
            return  # moved again since (a broken strategy handed it out once more)
        self._history.pop(old, None)
        self.worker_of.pop(old, None)
        self.priority.pop(old, None)
        self.adopted.discard(old)
        if self.retired.add(old, status):
            del self.status[old]
            self.retired_count += 1
            self.flagged.discard(old)

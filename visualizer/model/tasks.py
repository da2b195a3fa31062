"""Task statuses as the event stream tells them, with exact counts, in bounded memory.

Live tasks (queued or processing) are kept with their details, and so are the
most recently finished ``keep_finished`` ones, which is all any view shows: who
moved a task, when, its priority.  Past that horizon a finished task is folded
into the counts; its id goes into a :class:`~visualizer.queues.finished.FinishedIds`
(two bits an id, dropped
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
from visualizer.queues.finished import FinishedIds

History = list[tuple[int, str, int]]
"""``(t_ns, status, thread ident)`` for each status change of one task."""


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
        self.retired = FinishedIds()
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

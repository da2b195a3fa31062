"""Task statuses as the event stream tells them, with exact counts.

The status of every task is kept (the checker needs it to notice a task handed
out twice, however old), but the details a view shows on click (who moved it,
when, its priority) are kept only for live tasks and the most recently finished
``keep_finished`` ones, so a long run's memory stays bounded by its queue length
plus a constant, apart from one dictionary slot per task.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from visualizer.events import CANCELLED, COMPLETED, PROCESSING, QUEUED, STATUSES, TERMINAL

History = list[tuple[int, str, int]]
"""``(t_ns, status, thread ident)`` for each status change of one task."""


class TaskBoard:
    """Status per task, counts per status, who is working on what."""

    def __init__(self, keep_finished: int = 10_000) -> None:
        self.status: dict[Hashable, str] = {}
        self.by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)  # live counts, read-only
        self.added = 0  # TASK_ADDED events, duplicates included, so counts can fail to add up
        self.worker_of: dict[Hashable, int] = {}
        self.priority: dict[Hashable, int] = {}
        self.keep_finished = keep_finished
        self.adopted: set[Hashable] = set()  # seen moving before any add: not yet counted
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
        before = self.status.get(task_id)
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
        """Queue a finished task's details for eviction, evicting the oldest if over budget."""
        finished = self._finished
        finished.append(task_id)
        if len(finished) > self.keep_finished:
            old = finished.popleft()
            if self.status.get(old) in TERMINAL:
                self._history.pop(old, None)
                self.worker_of.pop(old, None)
                self.priority.pop(old, None)

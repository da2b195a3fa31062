"""Per-thread timelines: when each thread worked on a task, waited for a lock, or slept.

A thread that sleeps on a condition (``wait()``, until a notify) is neither
working nor blocked on a lock; drawn as nothing it would look idle, which is
the very difference a condition variable makes, so it has segments of its own.

Only the last ``window_s`` seconds are kept (plus at most ``max_segments`` per
thread, for bursts of very short waits), because the lanes view scrolls and a
long run must not grow without bound.  A segment still in progress has
``end_ns`` None; it is held apart from the finished ones until it closes, so
that closing is a dictionary pop rather than a search.

Lock *holds* get no segments: one per acquisition would be most of the memory at
full speed, and the lock view already shows who holds what right now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import NamedTuple

WORK = "work"
WAIT = "wait"
SLEEP = "sleep"


class Segment(NamedTuple):
    start_ns: int
    end_ns: int | None
    kind: str  # "work", "wait" or "sleep" (no "hold" segments, see the module docstring)
    label: str  # the task id (work), the lock name (wait) or the condition's (sleep)


class Timeline:
    """Finished and open work/wait segments per thread, within a time window."""

    def __init__(self, window_s: float = 30.0, max_segments: int = 20_000) -> None:
        self.window_ns = int(window_s * 1e9)
        self.max_segments = max_segments
        self._done: dict[int, deque[Segment]] = {}
        self.open_waits: dict[int, tuple[int, str]] = {}  # ident -> (since, lock)
        self._open_work: dict[int, tuple[int, Hashable]] = {}  # ident -> (since, task)
        self._open_sleeps: dict[int, tuple[int, str]] = {}  # ident -> (since, condition)

    def add_thread(self, ident: int) -> None:
        """Give a thread its lane (threads are listed in the order they were added)."""
        if ident not in self._done:
            self._done[ident] = deque(maxlen=self.max_segments)

    def threads(self) -> list[int]:
        return list(self._done)

    def segments(self, ident: int) -> list[Segment]:
        """The thread's segments in the window, in the order they ended; open ones last."""
        segments = list(self._done.get(ident, ()))
        work = self._open_work.get(ident)
        if work is not None:
            segments.append(Segment(work[0], None, WORK, str(work[1])))
        wait = self.open_waits.get(ident)
        if wait is not None:
            segments.append(Segment(wait[0], None, WAIT, wait[1]))
        sleep = self._open_sleeps.get(ident)
        if sleep is not None:
            segments.append(Segment(sleep[0], None, SLEEP, sleep[1]))
        return segments

    # --- folding ---------------------------------------------------------------
    def start_wait(self, t_ns: int, ident: int, lock: str) -> None:
        self.open_waits[ident] = (t_ns, lock)

    def end_wait(self, t_ns: int, ident: int) -> int:
        """Close the thread's wait; returns how long it lasted (0 if none was open)."""
        wait = self.open_waits.pop(ident, None)
        if wait is None:
            return 0
        self._close(ident, Segment(wait[0], t_ns, WAIT, wait[1]))
        return t_ns - wait[0]

    def start_sleep(self, t_ns: int, ident: int, condition: str) -> None:
        self._open_sleeps[ident] = (t_ns, condition)

    def end_sleep(self, t_ns: int, ident: int) -> None:
        sleep = self._open_sleeps.pop(ident, None)
        if sleep is not None:
            self._close(ident, Segment(sleep[0], t_ns, SLEEP, sleep[1]))

    def start_work(self, t_ns: int, ident: int, task: Hashable) -> None:
        work = self._open_work.get(ident)
        if work is not None:  # a new task without the old one's completion: close it here
            self._close(ident, Segment(work[0], t_ns, WORK, str(work[1])))
        self._open_work[ident] = (t_ns, task)

    def end_work(self, t_ns: int, ident: int, task: Hashable) -> None:
        """Close the thread's work segment if it was working on ``task``."""
        work = self._open_work.get(ident)
        if work is not None and work[1] == task:
            del self._open_work[ident]
            self._close(ident, Segment(work[0], t_ns, WORK, str(task)))

    def thread_ended(self, t_ns: int, ident: int) -> None:
        """A thread that ends stops waiting and working, whatever the events said."""
        self.end_wait(t_ns, ident)
        self.end_sleep(t_ns, ident)
        work = self._open_work.pop(ident, None)
        if work is not None:
            self._close(ident, Segment(work[0], t_ns, WORK, str(work[1])))

    def _close(self, ident: int, segment: Segment) -> None:
        lane = self._done.get(ident)
        if lane is None:
            self.add_thread(ident)
            lane = self._done[ident]
        lane.append(segment)

    def prune(self, now_ns: int) -> None:
        """Drop finished segments that ended before the window."""
        horizon = now_ns - self.window_ns
        for lane in self._done.values():
            # Finished lanes hold closed segments only: end_ns is set.
            while lane and (end := lane[0].end_ns) is not None and end < horizon:
                lane.popleft()

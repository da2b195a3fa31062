"""Who holds each lock, who waits for it, and the wait-for graph between them.

The table trusts the stream's order: a traced lock appends ``LOCK_ACQUIRED``
after it has the lock and ``LOCK_RELEASED`` before it lets go, so replaying the
events never shows two holders of an exclusive lock.  ``LOCK_REQUESTED`` is only
recorded when a thread had to wait, so ``contended / acquisitions`` is the share
of acquisitions that found the lock taken.

Holder counts follow each primitive's meaning: recursion depth for a (R)Lock
(taken from the event, which carries it), one per read entry for a read-write
lock, one per permit for a semaphore.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from visualizer.events import EXCLUSIVE, PERMIT, READ, WRITE
from visualizer.model.stats import Stats

_GUESSED_KIND = {EXCLUSIVE: "Lock", READ: "RWLock", WRITE: "RWLock", PERMIT: "Semaphore"}


class Waiter(NamedTuple):
    ident: int
    mode: str
    since_ns: int


@dataclass(slots=True, eq=False)
class LockState:
    """One traced primitive (lock, read-write lock, semaphore or condition)."""

    name: str
    kind_label: str
    holders: dict[int, int] = field(default_factory=dict)
    mode: str | None = None  # mode of the current holders, None when free
    waiters: list[Waiter] = field(default_factory=list)  # in arrival order
    cond_waiters: list[int] = field(default_factory=list)
    acquisitions: int = 0
    contended: int = 0
    hold_stats: Stats = field(default_factory=Stats)
    wait_stats: Stats = field(default_factory=Stats)  # waits of contended acquisitions only
    # Writers' waits alone: a read-write lock's wait_stats mix in the readers', and
    # a starving writer is one sample among thousands of short reader waits.
    write_wait_stats: Stats = field(default_factory=Stats)
    held_since: dict[int, int] = field(default_factory=dict)
    reentries: int = 0  # acquisitions by a thread that already held it (RLock depth > 1)
    most_holders: int = 0  # most threads holding it at once (readers, permits)
    sleeps: int = 0  # conditions: waits so far
    notifies: int = 0  # conditions: notify calls that found sleepers
    last_woken: int = 0  # conditions: sleepers the last of them woke

    @property
    def contention(self) -> float:
        """Share of acquisitions that had to wait."""
        return self.contended / self.acquisitions if self.acquisitions else 0.0


class LockTable:
    """Every lock seen, plus which thread is blocked on which lock."""

    def __init__(self) -> None:
        self.locks: dict[str, LockState] = {}
        self.waiting_on: dict[int, LockState] = {}  # a blocked thread waits for one lock

    def _get(self, name: str, mode: object) -> LockState:
        state = self.locks.get(name)
        if state is None:
            label = _GUESSED_KIND.get(mode, "Lock") if isinstance(mode, str) else "Lock"
            state = self.locks[name] = LockState(name, label)
        return state

    # --- folding ---------------------------------------------------------------
    def created(self, name: str, kind_label: object) -> None:
        state = self.locks.get(name)
        if state is None:
            self.locks[name] = LockState(name, str(kind_label))
        else:
            state.kind_label = str(kind_label)

    def requested(self, t_ns: int, ident: int, name: str, mode: str) -> None:
        state = self._get(name, mode)
        self._stop_waiting(ident)
        state.waiters.append(Waiter(ident, mode, t_ns))
        state.contended += 1
        self.waiting_on[ident] = state

    def acquired(self, t_ns: int, ident: int, name: str, mode: str, count: object) -> None:
        state = self.locks.get(name)
        if state is None:
            state = self._get(name, mode)
        blocked = self.waiting_on.pop(ident, None)
        if blocked is not None:
            waited = self._forget_waiter(blocked, ident, t_ns)
            if blocked is state:
                state.wait_stats.add(waited)
                if mode == WRITE:
                    state.write_wait_stats.add(waited)
        holders = state.holders
        held = holders.get(ident, 0)
        if not held:
            state.held_since[ident] = t_ns
        elif mode == EXCLUSIVE:
            state.reentries += 1
        if mode == EXCLUSIVE and type(count) is int:
            holders[ident] = count  # the event carries the recursion depth
        elif mode == WRITE:
            holders[ident] = 1
        else:
            holders[ident] = held + 1
        state.mode = mode
        state.acquisitions += 1
        if len(holders) > state.most_holders:
            state.most_holders = len(holders)

    def released(self, t_ns: int, ident: int, name: str, mode: str, count: object) -> None:
        state = self.locks.get(name)
        if state is None:
            return
        holders = state.holders
        if mode == EXCLUSIVE and type(count) is int:
            left = count
        elif mode == WRITE:
            left = 0
        else:
            left = holders.get(ident, 0) - 1
        if left > 0:
            holders[ident] = left
            return
        if holders.pop(ident, None) is None:
            return  # a release we never saw acquired (dropped events, or a stray release)
        since = state.held_since.pop(ident, None)
        if since is not None:
            state.hold_stats.add(t_ns - since)
        if not holders:
            state.mode = None

    def timed_out(self, ident: int) -> None:
        self._stop_waiting(ident)

    def cond_wait(self, ident: int, name: str) -> None:
        state = self.locks.get(name)
        if state is None:
            state = self.locks[name] = LockState(name, "Condition")
        state.cond_waiters.append(ident)
        state.sleeps += 1

    def cond_notified(self, name: str, woken: object) -> None:
        """A notify that found sleepers; ``woken`` is how many it asked to wake."""
        state = self.locks.get(name)
        if state is not None and type(woken) is int:
            state.notifies += 1
            state.last_woken = woken

    def cond_woken(self, ident: int, name: str) -> None:
        state = self.locks.get(name)
        if state is not None and ident in state.cond_waiters:
            state.cond_waiters.remove(ident)

    def thread_ended(self, ident: int) -> list[str]:
        """Forget what an ended thread waited for; returns the locks it still holds."""
        self._stop_waiting(ident)
        held = []
        for state in self.locks.values():
            if ident in state.cond_waiters:
                state.cond_waiters.remove(ident)
            if ident in state.holders:
                held.append(state.name)
        return held

    def _stop_waiting(self, ident: int) -> None:
        state = self.waiting_on.pop(ident, None)
        if state is not None:
            self._forget_waiter(state, ident, 0)

    @staticmethod
    def _forget_waiter(state: LockState, ident: int, t_ns: int) -> int:
        """Remove ``ident`` from the lock's waiters; returns ``t_ns`` minus its arrival."""
        waiters = state.waiters
        for index, waiter in enumerate(waiters):
            if waiter.ident == ident:
                del waiters[index]
                return t_ns - waiter.since_ns
        return 0

    # --- the wait-for graph ----------------------------------------------------
    def wait_for_edges(self) -> list[tuple[int, str, int]]:
        """``(waiter, lock, holder)`` for every blocked thread and every holder in its way."""
        return [
            (waiter, state.name, holder)
            for waiter, state in self.waiting_on.items()
            for holder in state.holders
        ]

    def deadlock_cycle(self) -> list[int | str] | None:
        """Some current cycle ``[thread, lock, thread, lock, ...]``, or None.

        One walk over all waiting threads, each left behind once it is known to
        lead to no cycle: a view asks this every frame, and a long wait-for chain
        searched afresh from each of its threads cost seconds.
        """
        cleared: set[int] = set()
        for ident in list(self.waiting_on):
            if ident not in cleared:
                cycle = self._walk(ident, cleared, any_cycle=True)
                if cycle is not None:
                    return cycle
        return None

    def cycle_through(self, start: int) -> list[int | str] | None:
        """A wait-for cycle through thread ``start``, as ``[start, lock, thread, lock, ...]``.

        Each entry ``thread, lock`` reads "thread waits for lock", and the lock is
        held by the next thread in the list (the last lock by ``start``).  Called on
        every ``LOCK_REQUESTED``: a new cycle must run through the thread that just
        started waiting, so searching from it alone finds every deadlock as it forms.
        """
        waiting_on = self.waiting_on
        first = waiting_on.get(start)
        if first is None or not any(h == start or h in waiting_on for h in first.holders):
            return None  # the usual case, decided without a search: no holder in the way waits
        return self._walk(start, set(), any_cycle=False)

    def _walk(self, start: int, cleared: set[int], any_cycle: bool) -> list[int | str] | None:
        """Depth-first from ``start`` for a cycle back to it (or, with ``any_cycle``, to any
        thread on the way), as ``[thread, lock, ...]``.

        An explicit stack: a log can hold a wait-for chain thousands of threads long,
        deeper than Python's recursion limit.  ``path`` holds thread, lock pairs,
        ``stack`` the holders still to try from each thread on it; ``cleared`` gets
        the threads from which no way leads to such a cycle.
        """
        waiting_on = self.waiting_on
        path: list[int | str] = [start, waiting_on[start].name]
        place = {start: 0}  # thread -> its index in path
        stack: list[Iterator[int]] = [iter(self._blocked_by(start))]
        while stack:
            holder = next(stack[-1], None)
            if holder is None:  # every way on from this thread is a dead end
                stack.pop()
                thread = path[-2]
                del path[-2:]
                assert isinstance(thread, int)  # path alternates thread, lock
                del place[thread]
                cleared.add(thread)
                continue
            if holder == start or (any_cycle and holder in place):
                return path[place[holder] :]
            if holder in place or holder in cleared or holder not in waiting_on:
                continue
            place[holder] = len(path)
            path += [holder, waiting_on[holder].name]
            stack.append(iter(self._blocked_by(holder)))
        return None

    def _blocked_by(self, ident: int) -> list[int]:
        """The holders whose release ``ident`` (a waiting thread) needs."""
        state = self.waiting_on[ident]
        holders = list(state.holders)
        # Any one permit coming back frees a semaphore's waiter: it is stuck only
        # if every holder is itself blocked (or is the waiter).
        waiting_on = self.waiting_on
        if (
            state.mode == PERMIT
            and len(holders) > 1
            and not all(h == ident or h in waiting_on for h in holders)
        ):
            return []
        return holders

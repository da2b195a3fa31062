"""Drop-in traced versions of ``Lock``, ``RLock``, ``Condition`` and ``Semaphore``.

Each records who asked, who got it and who let go, cheaply enough to leave on:

* The first attempt is always ``acquire(blocking=False)``.  When it succeeds the
  lock was free, and one ``LOCK_ACQUIRED`` event says so.  Only when it fails do we
  record ``LOCK_REQUESTED`` (naming the current holder) before blocking, so an
  uncontended lock costs two events per hold, not three.
* ``LOCK_RELEASED`` is appended *before* the real release, while still holding
  the lock, so the stream can never show the next holder before this release.
* Blocking waits are cut into short slices so that stopping a run can unwind a
  thread that is deadlocked inside ``acquire`` (the slice checks ``gate.aborted``).

The ``with`` fast path of a lock runs in C when the optional extension is built
(see :mod:`visualizer.queues.speedups`); everything here is the same on both.
The C path records an uncontended ``with`` block as one ``LOCK_HELD`` at its end
and publishes the hold's ``LOCK_ACQUIRED`` early whenever it must be seen sooner:
every path here that records a request, a wait, a pause or a release calls
``speedups.publish_pending()`` first (on the pure Python path it does nothing).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from threading import get_ident
from time import monotonic, perf_counter_ns
from typing import TYPE_CHECKING, Any

from visualizer.events import (
    COND_NOTIFY,
    COND_WAIT,
    COND_WOKEN,
    EXCLUSIVE,
    LOCK_ACQUIRED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    PERMIT,
    THREAD_BLOCKED,
)
from visualizer.queues import speedups
from visualizer.queues.gate import Gate, RunStopped, caller_location
from visualizer.queues.speedups import PyMutex, PyRMutex, native

WAIT_SLICE = 0.05
"""Longest uninterrupted block (s): bounds how long Stop takes to reach a waiter."""


def sliced_acquire(
    acquire: Callable[..., bool],
    gate: Gate,
    timeout: float,
    blocked: Callable[[], None] | None = None,
    ready: Callable[[], bool] | None = None,
    label: str = "",
) -> bool:
    """Block on ``acquire`` in slices, giving up on timeout or raising on abort.

    ``blocked`` is called once, when a whole slice has passed without the lock:
    a wait that long (a deadlock, a holder doing slow I/O) is worth showing in
    the code panel, and finding the caller's line is too dear for every brief
    contention.

    Under the controlled scheduler nothing blocks in the operating system: the
    thread parks until ``ready()`` says the lock is free, so the scheduler
    knows who waits for what, and tries again when picked.
    """
    if gate.controlled and ready is not None:
        limit = None if timeout < 0 else timeout
        while not acquire(False):
            if not gate.block(ready, limit, label):
                return False
        return True
    deadline = None if timeout < 0 else monotonic() + timeout
    waited = False
    while True:
        if gate.aborted:
            raise RunStopped
        if deadline is None:
            wait = WAIT_SLICE
        else:
            wait = min(WAIT_SLICE, deadline - monotonic())
            if wait <= 0:
                return acquire(False)
        if waited and blocked is not None:  # a second slice begins: this is a long wait
            blocked()
            blocked = None
        if acquire(True, wait):
            return True
        waited = True


def blocked_reporter(
    append: Callable[[tuple], None], me: int, waits_for: str
) -> Callable[[], None]:
    """The ``blocked`` callback: a THREAD_BLOCKED event naming the waiting line."""

    def report() -> None:
        append((perf_counter_ns(), me, THREAD_BLOCKED, waits_for, caller_location(), None))

    return report


if TYPE_CHECKING:
    _Core = PyMutex  # the type checker reads the fields (same in C) off the pure core
else:
    _Core = object  # at run time the paths are a mixin over either core


class _TracedMutex(_Core):
    """The general paths of :class:`TracedLock` and :class:`TracedRLock`.

    The fields and the ``with`` fast path come from the core underneath
    (``speedups.PyMutex`` in Python, or ``_speedups.Mutex`` in C): ``name``,
    ``owner``, ``depth``, the recorder's ``_append``, the ``_gate``, and the raw
    lock's ``_try_acquire(blocking, timeout)`` and ``_unlock()``.  Whenever the
    fast path cannot finish (the gate is closed, the lock is taken) it calls
    ``acquire``/``release`` below, so both cores share everything unusual.
    """

    __slots__ = ()

    kind_label = "Lock"

    def _take(self, blocking: bool, timeout: float) -> bool:
        """Take the raw lock for ``acquire``; the caller records the acquisition."""
        gate = self._gate
        if gate.closed:
            gate.checkpoint(f"acquire {self.name}")
        return self._try_acquire(False) or (blocking and self._contended(timeout))

    def _contended(self, timeout: float) -> bool:
        """The contended path: record the request (naming the holder), then block.

        Pending holds are published first (see ``speedups.publish_pending``): the
        holder's, so the request names a holder the stream has seen take the lock,
        and this thread's own, which a wait-for cycle through it would need."""
        speedups.publish_pending()
        me = get_ident()
        self._append((perf_counter_ns(), me, LOCK_REQUESTED, self.name, EXCLUSIVE, self.owner))
        gate = self._gate
        waits = self._waits() if gate.controlled else ""  # the scheduler's label only
        if sliced_acquire(self._try_acquire, gate, timeout, self._blocked, self._free, waits):
            return True
        self._append((perf_counter_ns(), me, LOCK_TIMED_OUT, self.name, EXCLUSIVE, None))
        return False

    def _wait_rest(self, report: bool) -> None:
        """The rest of a contended ``with`` the C fast path began waiting in, once the
        gate has closed (a pause or a stop): as :func:`sliced_acquire` goes on, so a
        stop raises RunStopped.  ``report``: the wait has lasted a slice unreported."""
        gate = self._gate
        if gate.aborted:
            raise RunStopped
        if report:
            self._blocked()
        sliced_acquire(self._try_acquire, gate, -1)

    def _waits(self) -> str:
        return f"waiting for lock '{self.name}'"

    def _blocked(self) -> None:
        """A wait has lasted a whole slice: name the line the thread waits at
        (the ``blocked`` callback of :func:`sliced_acquire`, made only then)."""
        where = caller_location()
        self._append((perf_counter_ns(), get_ident(), THREAD_BLOCKED, self._waits(), where, None))

    def _free(self) -> bool:
        """Whether nobody holds the lock (read by the controlled scheduler)."""
        return self.owner is None


class _LockPaths(_TracedMutex):
    """A ``threading.Lock`` that reports to the event stream.  Not re-entrant."""

    __slots__ = ()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._take(blocking, timeout):
            return False
        self.owner = me = get_ident()
        self._append((perf_counter_ns(), me, LOCK_ACQUIRED, self.name, EXCLUSIVE, 1))
        return True

    def release(self) -> None:
        gate = self._gate
        if gate.aborted and self.owner != get_ident():
            # Stop interrupted this thread's re-acquire inside Condition.wait, so the
            # ``with`` block around the wait is releasing a lock it does not hold.
            # Releasing anyway would free another thread's hold (a Lock has no owner
            # check) and raise RuntimeError over the RunStopped that unwinds us.
            raise RunStopped
        speedups.publish_pending()  # a hold the fast path took: its acquisition first
        try:
            if gate.closed:
                gate.checkpoint(f"release {self.name}")
        finally:
            self._append((perf_counter_ns(), get_ident(), LOCK_RELEASED, self.name, EXCLUSIVE, 0))
            self.owner = None
            self._unlock()

    # threading.Condition calls these around a wait.
    def _release_save(self) -> None:
        self.release()

    def _acquire_restore(self, _state: None) -> None:
        self.acquire()


class _RLockPaths(_TracedMutex):
    """A ``threading.RLock`` that reports its recursion depth with every event.

    The owner and the depth are kept here (the raw lock underneath is a plain
    one, taken at depth 1 and released at depth 0), so every event can say how
    deep the owner is.
    """

    __slots__ = ()

    kind_label = "RLock"

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        gate = self._gate
        if gate.closed:
            gate.checkpoint(f"acquire {self.name}")
        me = get_ident()
        if self.owner == me:
            speedups.publish_pending()  # the first level, if the fast path took it
            self.depth = depth = self.depth + 1
        elif self._try_acquire(False) or (blocking and self._contended(timeout)):
            self.owner = me
            self.depth = depth = 1
        else:
            return False
        self._append((perf_counter_ns(), me, LOCK_ACQUIRED, self.name, EXCLUSIVE, depth))
        return True

    def release(self) -> None:
        gate = self._gate
        if gate.aborted and self.owner != get_ident():
            raise RunStopped  # not held: see TracedLock.release
        speedups.publish_pending()
        try:
            if gate.closed:
                gate.checkpoint(f"release {self.name}")
        finally:
            if self.owner != get_ident():
                raise RuntimeError("cannot release un-acquired lock")
            self.depth = depth = self.depth - 1
            me = get_ident()
            self._append((perf_counter_ns(), me, LOCK_RELEASED, self.name, EXCLUSIVE, depth))
            if depth == 0:
                self.owner = None
                self._unlock()

    def _release_save(self) -> int:
        """Release every level at once (Condition.wait), remembering the depth."""
        depth = self.depth
        speedups.publish_pending()
        self._append((perf_counter_ns(), get_ident(), LOCK_RELEASED, self.name, EXCLUSIVE, 0))
        self.depth = 0
        self.owner = None
        self._unlock()
        return depth

    def _acquire_restore(self, depth: int) -> None:
        if not self._try_acquire(False):
            self._contended(-1)
        self.owner = me = get_ident()
        self.depth = depth
        self._append((perf_counter_ns(), me, LOCK_ACQUIRED, self.name, EXCLUSIVE, depth))


class PyTracedLock(_LockPaths, PyMutex):
    """:class:`TracedLock` with the pure Python fast path."""

    __slots__ = ()


class PyTracedRLock(_RLockPaths, PyRMutex):
    """:class:`TracedRLock` with the pure Python fast path."""

    __slots__ = ()


TracedLock: type[_LockPaths] = PyTracedLock
TracedRLock: type[_RLockPaths] = PyTracedRLock

if native is not None:
    from visualizer.queues._speedups import Mutex as CMutex

    class CTracedLock(_LockPaths, CMutex):
        """:class:`TracedLock` with the fast path in C (``_speedups.Mutex``)."""

        __slots__ = ()

        def __init__(self, name: str, append: Callable[[tuple], None], gate: Gate) -> None:
            super().__init__(name, append, gate, False)

    class CTracedRLock(_RLockPaths, CMutex):
        """:class:`TracedRLock` with the fast path in C (``_speedups.Mutex``)."""

        __slots__ = ()

        def __init__(self, name: str, append: Callable[[tuple], None], gate: Gate) -> None:
            super().__init__(name, append, gate, True)

    TracedLock, TracedRLock = CTracedLock, CTracedRLock


def lock_classes(accelerated: bool = True) -> tuple[type[_LockPaths], type[_RLockPaths]]:
    """The traced Lock and RLock classes: with the C fast path if built and ``accelerated``."""
    if accelerated:
        return TracedLock, TracedRLock
    return PyTracedLock, PyTracedRLock


class TracedCondition(threading.Condition):
    """A ``threading.Condition`` over a traced lock, recording waits and notifies.

    ``wait`` is the standard library's algorithm (a private waiter lock per
    sleeper, queued in ``_waiters`` for ``notify`` to release) with one change: the
    sleeper blocks on its waiter lock in short slices, so that Stop can reach a
    thread that would otherwise sleep forever.  Between slices it keeps sleeping
    without retaking the condition's lock, so an idle waiter adds no events and
    ``wait`` returns False only when its timeout really passed.
    """

    kind_label = "Condition"

    if TYPE_CHECKING:
        # threading.Condition's internals that wait/notify below build on; typeshed
        # leaves them out.  The waiter locks notify() releases, and the hooks that
        # release the condition's lock around a wait and take it back after.
        _waiters: deque[threading.Lock]

        def _is_owned(self) -> bool: ...
        def _release_save(self) -> Any: ...
        def _acquire_restore(self, state: Any, /) -> None: ...

    def __init__(
        self,
        name: str,
        lock: _TracedMutex,
        append: Callable[[tuple], None],
        gate: Gate,
    ) -> None:
        # Condition needs only acquire/release and the _is_owned hook, all of which
        # both traced locks have; typeshed names the standard lock types alone.
        super().__init__(lock)  # type: ignore[arg-type]
        self.name = name
        self.lock = lock
        self._append = append
        self._gate = gate
        self.waiting: list[int] = []  # idents in wait(), guarded by the condition's lock

    def wait(self, timeout: float | None = None) -> bool:
        gate = self._gate
        if gate.closed:
            gate.checkpoint(f"wait {self.name}")
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        me = get_ident()
        speedups.publish_pending()  # the lock's hold is seen taken before the wait
        self._append((perf_counter_ns(), me, COND_WAIT, self.name, timeout, None))
        waiter = threading.Lock()
        waiter.acquire()
        self._waiters.append(waiter)  # notify() releases it, under the condition's lock
        self.waiting.append(me)
        saved = self._release_save()
        notified = False
        deadline = None if timeout is None else monotonic() + timeout
        try:
            if gate.controlled:
                notified = gate.block(
                    partial(_released, waiter), timeout, f"waiting on '{self.name}'"
                )
            while not gate.controlled and not gate.aborted:
                wait = WAIT_SLICE if deadline is None else min(WAIT_SLICE, deadline - monotonic())
                if wait <= 0:
                    notified = waiter.acquire(False)
                    break
                if waiter.acquire(True, wait):
                    notified = True
                    break
        finally:
            try:
                self._acquire_restore(saved)
            finally:
                if not notified:
                    with suppress(ValueError):  # a notify may have taken it just now
                        self._waiters.remove(waiter)
                self.waiting.remove(me)
        if gate.aborted:
            raise RunStopped
        self._append((perf_counter_ns(), me, COND_WOKEN, self.name, notified, None))
        return notified

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        """``Condition.wait_for``, its deadline on the gate's clock (virtual when controlled)."""
        clock = self._gate.clock
        end = None if timeout is None else clock() + timeout
        result = predicate()
        while not result:
            if end is None:
                self.wait()
            else:
                remaining = end - clock()
                if remaining <= 0:
                    break
                self.wait(remaining)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` sleepers; recorded only when someone sleeps.

        A notify nobody waits for changes nothing (``queue.PriorityQueue`` sends
        one on ``not_full`` at every get), so it is not worth an event.
        """
        waiting = len(self._waiters)
        if not waiting:
            # All the standard notify would do with nobody waiting is check ownership:
            # a strategy's add notifies on every call, so skip its deque and islice.
            if not self._is_owned():
                raise RuntimeError("cannot notify on un-acquired lock")
            return
        self._append(
            (perf_counter_ns(), get_ident(), COND_NOTIFY, self.name, min(n, waiting), None)
        )
        super().notify(n)

    def notify_all(self) -> None:
        self.notify(len(self._waiters))


def _released(waiter: threading.Lock) -> bool:
    """A condition's sleeper may wake: ``notify`` has released its waiter lock."""
    return not waiter.locked()


class TracedSemaphore:
    """A ``threading.Semaphore`` that reports which threads hold its permits.

    ``bounded``: a ``BoundedSemaphore``, whose release past its initial value raises.
    """

    kind_label = "Semaphore"

    def __init__(
        self,
        name: str,
        value: int,
        append: Callable[[tuple], None],
        gate: Gate,
        bounded: bool = False,
    ) -> None:
        if value < 1:
            raise ValueError("a semaphore needs at least one permit")
        self.name = name
        self.value = value
        self.bounded = bounded
        self.holders: list[int] = []  # guarded by _book, a plain lock of our own
        self._sem = threading.Semaphore(value)
        self._book = threading.Lock()
        self._append = append
        self._gate = gate

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        gate = self._gate
        if gate.closed:
            gate.checkpoint(f"acquire {self.name}")
        me = get_ident()
        if not self._sem.acquire(False):
            if not blocking:
                return False
            speedups.publish_pending()  # what this thread holds while it waits
            self._append((perf_counter_ns(), me, LOCK_REQUESTED, self.name, PERMIT, None))
            limit = -1 if timeout is None else timeout
            waits = f"waiting for a permit of '{self.name}'"
            blocked = blocked_reporter(self._append, me, waits)
            if not sliced_acquire(self._sem.acquire, gate, limit, blocked, self._available, waits):
                self._append((perf_counter_ns(), me, LOCK_TIMED_OUT, self.name, PERMIT, None))
                return False
        with self._book:
            self.holders.append(me)
            in_use = len(self.holders)
            self._append((perf_counter_ns(), me, LOCK_ACQUIRED, self.name, PERMIT, in_use))
        return True

    def _available(self) -> bool:
        """Whether a permit is free (read by the controlled scheduler)."""
        return self._sem._value > 0

    def release(self) -> None:
        me = get_ident()
        with self._book:
            if self.bounded and self._sem._value >= self.value:
                raise ValueError("Semaphore released too many times")
            if me in self.holders:
                self.holders.remove(me)
            in_use = len(self.holders)
            self._append((perf_counter_ns(), me, LOCK_RELEASED, self.name, PERMIT, in_use))
        self._sem.release()

    __enter__ = acquire

    def __exit__(self, *exc_info: object) -> None:
        self.release()

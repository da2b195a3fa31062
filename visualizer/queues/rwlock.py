"""A read-write lock: many readers at once, or one writer alone.

The standard library has none, so here is the textbook one, built on a
``Condition``.  Its policy decides who waits:

* reader-preferring (the default): a reader may enter whenever no writer is
  *inside*.  Under a steady stream of overlapping readers the count never drops
  to zero, so a waiting writer can starve.
* writer-preferring: once a writer is waiting, new readers queue behind it, so
  the writer gets in as soon as the current readers leave.

The internal condition only guards the bookkeeping below and is held for a few
instructions, so it is left untraced; the events describe the read-write lock.
Untraced (a tracer without a recorder) it records nothing at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from threading import get_ident

from visualizer.events import LOCK_ACQUIRED, LOCK_RELEASED, LOCK_REQUESTED, READ, WRITE
from visualizer.queues import speedups
from visualizer.queues.gate import Gate, RunStopped
from visualizer.queues.traced import WAIT_SLICE, blocked_reporter


class ReadWriteLock:
    """Shared (read) / exclusive (write) lock with a selectable preference."""

    def __init__(
        self,
        name: str,
        append: Callable[[tuple], None],
        gate: Gate,
        prefer_writers: bool = False,
        traced: bool = True,
        accelerated: bool = True,
    ) -> None:
        self.name = name
        self.prefer_writers = prefer_writers
        self.kind_label = "RWLock (writer-preferring)" if prefer_writers else "RWLock"
        self.readers: list[int] = []  # all fields below are guarded by _lock
        self.writer: int | None = None
        self.writers_waiting = 0
        # The condition's own lock, entered straight (``with self._lock``): the same
        # as ``with self._cond``, without the two Python calls Condition makes for it.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._append = append
        self._gate = gate
        self._traced = traced  # untraced, the hot paths skip even the call to _stamp
        # _stamp(kind, name, mode, b): record an event of this lock by the calling thread
        # (b as in KIND_FIELDS); called in place, without a method of ours around it.
        self._stamp = speedups.stamper(append, accelerated)
        # With the C speedups an uncontended write hold taken while the gate is open is
        # one LOCK_HELD at its end, as a Lock's is (see speedups.write_hold).
        self._hold = speedups.write_hold(name, append, gate) if traced and accelerated else None
        self._reading = _Holding(self.acquire_read, self.release_read)

    def _can_read(self) -> bool:
        if self.writer is not None:
            return False
        return not (self.prefer_writers and self.writers_waiting)

    def _can_write(self) -> bool:
        return self.writer is None and not self.readers

    def _wait_until(self, allowed: Callable[[], bool], mode: str) -> None:
        """Sleep on the condition until ``allowed()``; Stop can interrupt it.

        A wait longer than one slice is reported once with the waiting line, for
        the code panel (see :func:`~visualizer.queues.traced.sliced_acquire`).
        """
        waits = f"waiting to {mode} '{self.name}'"
        if self._gate.controlled:  # the scheduler parks the thread; nothing may hold _lock then
            self._lock.release()
            try:
                self._gate.block(allowed, None, waits)
            finally:
                self._lock.acquire()
            return
        blocked: Callable[[], None] | None = blocked_reporter(self._append, get_ident(), waits)
        while not allowed():
            if self._gate.aborted:
                raise RunStopped
            if not self._cond.wait(WAIT_SLICE) and blocked is not None and not allowed():
                blocked()
                blocked = None

    def acquire_read(self) -> None:
        gate = self._gate
        if gate.closed:
            gate.checkpoint(f"read-acquire {self.name}")
        with self._lock:
            if not self._can_read():
                speedups.publish_pending()  # what this thread holds while it waits
                self._stamp(LOCK_REQUESTED, self.name, READ, self.writer)
                self._wait_until(self._can_read, "read")
            self.readers.append(get_ident())
            if self._traced:
                self._stamp(LOCK_ACQUIRED, self.name, READ, len(self.readers))

    def release_read(self) -> None:
        with self._lock:
            self.readers.remove(get_ident())
            if self._traced:
                self._stamp(LOCK_RELEASED, self.name, READ, len(self.readers))
            if not self.readers:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        gate = self._gate
        if gate.closed:
            gate.checkpoint(f"write-acquire {self.name}")
        with self._lock:
            waited = self.writer is not None or self.readers  # truthy: not self._can_write()
            if waited:
                holder = self.writer if self.writer is not None else tuple(self.readers)
                speedups.publish_pending()
                self._stamp(LOCK_REQUESTED, self.name, WRITE, holder)
                self.writers_waiting += 1
                try:
                    self._wait_until(self._can_write, "write")
                finally:
                    self.writers_waiting -= 1
            self.writer = get_ident()
            if self._hold is not None and not waited and not gate.closed:
                self._hold._hold_begin()  # recorded when looked at, or when it ends
            elif self._traced:
                self._stamp(LOCK_ACQUIRED, self.name, WRITE, 1)

    def release_write(self, _type: object = None, _exc: object = None, _tb: object = None) -> None:
        """Let the writer out (the arguments, if any, are ``__exit__``'s, unused)."""
        with self._lock:
            hold = self._hold
            if hold is not None and hold.owner is not None:
                hold._hold_end()
            elif self._traced:
                self._stamp(LOCK_RELEASED, self.name, WRITE, 0)
            self.writer = None
            self._cond.notify_all()

    def read_locked(self) -> _Holding:
        """``with rw.read_locked():`` holds the lock in shared mode for the block."""
        return self._reading

    def write_locked(self) -> ReadWriteLock:
        """``with rw.write_locked():`` holds the lock alone for the block.

        The lock itself is the context manager of its write mode, entering and
        leaving straight through :meth:`acquire_write` and :meth:`release_write`:
        in a queue every change is a write, so this is the hot path.
        """
        return self

    __enter__ = acquire_write
    __exit__ = release_write


class _Holding:
    """The read mode of the lock as a context manager (made once, not one per ``with``)."""

    __slots__ = ("_acquire", "_release")

    def __init__(self, acquire: Callable[[], None], release: Callable[[], None]) -> None:
        self._acquire = acquire
        self._release = release

    def __enter__(self) -> None:
        self._acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._release()

"""The hot paths of tracing, in C when the optional extension is built, else in Python.

Two things run for every traced operation: the ``with lock`` fast path of a
traced lock (try the lock, record the hold) and ``record`` for task events (and
for the read-write lock's own events, ungated).  ``_speedups.c`` does both in C;
this module holds the pure Python versions, which record the same events, and
picks one.  One difference, in what is recorded, not in what it says: C records
an uncontended ``with`` block as one ``LOCK_HELD`` at its end (see
:data:`publish_pending` and the top of ``_speedups.c``), Python as
``LOCK_ACQUIRED`` then ``LOCK_RELEASED``; ``visualizer.events.expand_held`` turns
the one into the other, and a test compares the two paths' streams that way.

Which path runs:

* the C extension, when it was built (``pip install`` compiles it where a C
  compiler and the Python headers are present, and skips it quietly where not);
* pure Python when it was not, or when the environment variable
  ``QUEUE_VISUALIZER_PURE_PYTHON`` is set to anything but ``0`` (to rule the
  extension out when chasing a bug, and to test the fallback).

Both paths see the gate on every call.  Whenever it is closed (paused,
stepping, stopping, and always in a controlled run) both hand over to the same
Python code in ``traced.py`` and ``tracer.py``, so the controlled scheduler and
the step gate behave identically on either.  :data:`PATH` says which is in use.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from threading import get_ident
from time import perf_counter_ns
from types import ModuleType
from typing import Any

from visualizer.events import EXCLUSIVE, LOCK_ACQUIRED, LOCK_RELEASED, WRITE, Recorder

FORCE_PURE = "QUEUE_VISUALIZER_PURE_PYTHON"
"""Environment variable: set (not to ``0``) to use the pure Python paths only."""


def load_native(name: str) -> tuple[ModuleType | None, str]:
    """Import the compiled module ``name`` unless it is ruled out; the module (or None)
    and, in words, which path runs."""
    if os.environ.get(FORCE_PURE, "0") not in ("", "0"):
        return None, f"pure Python (forced by {FORCE_PURE})"
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None, "pure Python (the C speedups are not built)"
    return module, "C speedups"


native, PATH = load_native("visualizer.queues._speedups")
"""The compiled module (or None) and, in words, which path runs."""

if native is not None:
    # Recorders keep their events in C (``_store.h``): the fast paths below then
    # record an event without making a Python object for it.
    Recorder.store_factory = native.Store

decode_block: Callable[[bytes], tuple[list[tuple], bytes]] | None = (
    native.decode_block if native is not None else None
)
"""The events of a block ``Recorder.drain_blocks`` made (None without the C speedups)."""


def _nothing_pending() -> None:
    """The pure Python locks record every acquisition as it happens: nothing waits."""


publish_pending: Callable[[], object] = (
    native.publish_pending if native is not None else _nothing_pending
)
"""Record the acquisition of every uncontended hold still pending (the C fast path
records such a hold as one ``LOCK_HELD`` at its end): the slow paths call it before
any event of a contended, waiting or gated operation, and the recorder before a
drain, so whatever may be seen before the hold ends is in the stream."""


class PyMutex:
    """A raw lock plus the traced ``with`` fast path: what ``_speedups.Mutex`` does in C.

    ``owner`` says who holds it (and, for :class:`PyRMutex`, ``depth`` how deep:
    the raw lock is taken when the depth goes from 0 to 1 and released when it
    drops back; a plain lock leaves ``depth`` alone).  The general paths
    (``acquire``, ``release``: a closed gate, a taken lock) are the subclass's,
    in ``traced.py``.
    """

    __slots__ = ("name", "owner", "depth", "_append", "_gate", "_lock", "_try_acquire", "_unlock")

    acquire: Callable[..., bool]
    release: Callable[[], None]

    def __init__(
        self, name: str, append: Callable[[tuple], None], gate: Any, reentrant: bool = False
    ) -> None:
        self.name = name
        self.owner: int | None = None
        self.depth = 0
        self._append = append
        self._gate = gate
        self._lock = lock = threading.Lock()
        self._try_acquire = lock.acquire  # bound once: ``with`` is the hot path
        self._unlock = lock.release

    def locked(self) -> bool:
        return self._lock.locked()

    # threading.Condition uses this when present instead of guessing ownership.
    def _is_owned(self) -> bool:
        return self.owner == get_ident()

    def __enter__(self) -> bool:
        """``with lock``: one check, one try and one event; anything unusual (the
        gate is closed, the lock is taken) goes the general way through ``acquire``."""
        if self._gate.closed or not self._try_acquire(False):
            return self.acquire()
        self.owner = me = get_ident()
        self._append((perf_counter_ns(), me, LOCK_ACQUIRED, self.name, EXCLUSIVE, 1))
        return True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """End of ``with lock``: the thread leaving the block is the owner, so
        ``owner`` names it without asking for the thread's ident again.  A closed
        gate (paused, or aborted: abort closes it too) takes the checked path."""
        if self._gate.closed:
            self.release()
            return
        self._append((perf_counter_ns(), self.owner, LOCK_RELEASED, self.name, EXCLUSIVE, 0))
        self.owner = None
        self._unlock()


class PyRMutex(PyMutex):
    """The re-entrant version: the owner may enter again, one level deeper."""

    __slots__ = ()

    def __enter__(self) -> bool:
        me = get_ident()
        if self._gate.closed:
            return self.acquire()
        if self.owner == me:
            self.depth = depth = self.depth + 1
        elif self._try_acquire(False):
            self.owner = me
            self.depth = depth = 1
        else:
            return self.acquire()
        self._append((perf_counter_ns(), me, LOCK_ACQUIRED, self.name, EXCLUSIVE, depth))
        return True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._gate.closed:
            self.release()
            return
        self.depth = depth = self.depth - 1
        self._append((perf_counter_ns(), self.owner, LOCK_RELEASED, self.name, EXCLUSIVE, depth))
        if not depth:
            self.owner = None
            self._unlock()


def write_hold(name: str, append: Callable[[tuple], None], gate: Any) -> Any:
    """What records a read-write lock's uncontended write holds as a ``Lock``'s are
    (one ``LOCK_HELD`` at the end unless seen before): a C ``Mutex`` whose lock is
    never taken, only its ``_hold_begin`` / ``_hold_end``; None without the speedups
    (the lock then records ``LOCK_ACQUIRED`` and ``LOCK_RELEASED`` itself)."""
    if native is None:
        return None
    return native.Mutex(name, append, gate, mode=WRITE)


def py_sink(
    append: Callable[[tuple], None], gate: Any, on_closed: Callable[..., None]
) -> Callable[..., None]:
    """``record(kind, subject, a, b)``: a closure, so a task event costs no attribute
    look-ups; while the gate is closed ``on_closed`` (same arguments) takes over."""

    def record(kind: int, subject: object, a: object = None, b: object = None) -> None:
        if gate.closed:
            on_closed(kind, subject, a, b)
            return
        append((perf_counter_ns(), get_ident(), kind, subject, a, b))

    return record


def sink(
    append: Callable[[tuple], None],
    gate: Any,
    on_closed: Callable[..., None],
    accelerated: bool = True,
) -> Callable[..., None]:
    """The task-event ``record`` for ``append`` behind ``gate``: C when available and wanted."""
    if accelerated and native is not None:
        return native.Sink(append, gate, on_closed).record
    return py_sink(append, gate, on_closed)


def py_stamper(append: Callable[[tuple], None]) -> Callable[..., None]:
    """``record(kind, subject, a, b)`` with no gate: what ``_speedups.Sink`` does ungated."""

    def record(kind: int, subject: object, a: object = None, b: object = None) -> None:
        append((perf_counter_ns(), get_ident(), kind, subject, a, b))

    return record


def stamper(append: Callable[[tuple], None], accelerated: bool = True) -> Callable[..., None]:
    """An event ``record`` that never stops at the gate: for a primitive's own events,
    whose step points are taken elsewhere (the read-write lock's)."""
    if accelerated and native is not None:
        return native.Sink(append, None, py_stamper(append)).record
    return py_stamper(append)

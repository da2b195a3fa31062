"""The step gate: every traced point can hold a thread until the user lets it pass.

Why a gate and not ``sys.settrace``: the interesting moments in a concurrent queue
are the synchronisation points (a lock request, a heap push), and those already
call into our traced primitives.  Checking one attribute (``gate.closed``) there
costs almost nothing while the run is free-running; only when the user pauses do
threads take the slow path into :meth:`Gate.checkpoint`.

Stop must end every run thread within two seconds, deadlocked ones included, so
:meth:`Gate.abort` wakes parked threads and makes every later checkpoint (and
every sliced lock wait, see ``traced.py``) raise :class:`RunStopped`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from time import monotonic
from types import FrameType

from visualizer.events import GATE_WAIT
from visualizer.queues import speedups


class RunStopped(Exception):
    """Raised inside a run's threads to unwind them when the run is stopped."""


_PACKAGE_INTERNALS: tuple[str, ...] = (
    os.path.join("visualizer", "queues", "gate.py"),
    os.path.join("visualizer", "queues", "traced.py"),
    os.path.join("visualizer", "queues", "tracer.py"),
    os.path.join("visualizer", "queues", "speedups.py"),
    os.path.join("visualizer", "queues", "rwlock.py"),
    "threading.py",
    "contextlib.py",  # a @contextmanager helper enters through contextlib's generator wrapper
)


def skip_frames_of(path: str) -> None:
    """Make :func:`caller_location` look past frames of the file ``path`` too.

    For helpers that wrap the tracer (a scenario's ``race(label)``, say): the
    line a student should see is the one that called the helper.
    """
    global _PACKAGE_INTERNALS
    if not path.endswith(_PACKAGE_INTERNALS):
        _PACKAGE_INTERNALS = (*_PACKAGE_INTERNALS, path)


def caller_location() -> tuple[str, int]:
    """File and line of the nearest frame outside the tracing machinery.

    This is the line a student sees the thread stopped at in the code panel.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.endswith(_PACKAGE_INTERNALS):
        frame = frame.f_back
    if frame is None:
        return ("?", 0)
    return (frame.f_code.co_filename, frame.f_lineno)


class Gate:
    """Holds run threads at traced points while paused; lets them pass one at a time.

    ``closed`` and ``aborted`` are plain attributes read without a lock on the
    fast path; a stale read only delays the effect to the next traced point.

    A controlled run replaces the gate with the engine's scheduler, a subclass
    with ``controlled`` set: then exactly one run thread moves at a time, and the
    traced primitives never block in the operating system but call :meth:`block`,
    so that the scheduler knows who waits for what and decides who moves next.
    """

    # ``closed`` is a slot: the C fast paths read it at a fixed offset, not from a dict
    # (a dict lookup per traced operation was a tenth of tracing's cost).
    __slots__ = ("closed", "aborted", "_record", "_cond", "_parked", "_grants", "__dict__")

    controlled = False
    """True for the controlled scheduler (see ``visualizer.engine.scheduler``)."""
    clock = staticmethod(monotonic)
    """Seconds for deadlines: the real clock here; a controlled run's virtual one."""
    events_are_steps = True
    """Whether task events are step points (free stepping) or plain records."""

    def __init__(self, record: Callable[..., None] | None = None) -> None:
        self.closed = False
        self.aborted = False
        self._record = record
        self._cond = threading.Condition(threading.Lock())
        self._parked: dict[int, tuple[str, tuple[str, int]]] = {}
        self._grants: dict[int | None, int] = {}

    # --- called by run threads -------------------------------------------------
    def checkpoint(self, label: str) -> None:
        """Wait here while the gate is closed, unless granted a step."""
        if self.aborted:
            raise RunStopped
        if not self.closed:
            return
        speedups.publish_pending()  # a parked thread's holds are seen held
        me = threading.get_ident()
        where = caller_location()
        if self._record is not None:
            self._record(GATE_WAIT, label, where)
        with self._cond:
            self._parked[me] = (label, where)
            self._cond.notify_all()
            try:
                while True:
                    if self.aborted:
                        raise RunStopped
                    if not self.closed or self._take_grant(me):
                        return
                    self._cond.wait()
            finally:
                del self._parked[me]
                self._cond.notify_all()

    def _take_grant(self, me: int) -> bool:
        for key in (me, None):
            if self._grants.get(key):
                self._grants[key] -= 1
                return True
        return False

    def block(self, ready: Callable[[], bool], timeout: float | None, label: str) -> bool:
        """Controlled runs only: wait until ``ready()``; False if the wait timed out."""
        raise RuntimeError("only a controlled run's scheduler can block a thread")

    def sleep(self, seconds: float) -> None:
        """Controlled runs only: a pause that lasts until no other thread can move."""
        raise RuntimeError("only a controlled run's scheduler can sleep a thread")

    # --- called by the controller ----------------------------------------------
    def close(self) -> None:
        """Pause: threads stop at their next traced point."""
        with self._cond:
            self.closed = True

    def open(self) -> None:
        """Resume free running."""
        with self._cond:
            self.closed = False
            self._grants.clear()
            self._cond.notify_all()

    def abort(self) -> None:
        """Stop: every parked thread and every later checkpoint raises RunStopped."""
        with self._cond:
            self.aborted = True
            self.closed = True  # sends every thread down the slow path, where it raises
            self._cond.notify_all()

    def step(self, ident: int | None = None) -> None:
        """Let one thread pass one traced point.

        With ``ident`` that thread moves next; without it, the thread parked
        longest moves (or, if none is parked yet, the next one to arrive).
        """
        with self._cond:
            if ident is None and self._parked:
                ident = next(iter(self._parked))
            self._grants[ident] = self._grants.get(ident, 0) + 1
            self._cond.notify_all()

    def parked(self) -> dict[int, tuple[str, tuple[str, int]]]:
        """Threads waiting at the gate: ident -> (label, (file, line)), oldest first."""
        with self._cond:
            return dict(self._parked)

    def wait_parked(self, count: int, timeout: float) -> bool:
        """Block until at least ``count`` threads are parked (for tests and stepping)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._parked) >= count, timeout)

"""The ``threading``, ``queue`` and ``time`` a user's queue file imports: the run's own.

A queue file says ``import threading`` and ``threading.Lock()``; executed by
:func:`~visualizer.engine.userqueue.source.execute`, that import returns the
namespace made here, whose ``Lock``, ``RLock``, ``Condition``, ``Semaphore``,
``BoundedSemaphore`` and ``Event`` come from the run's :class:`Tracer` (every view
sees them, the controlled scheduler decides who gets them), and whose
``queue.Queue``/``PriorityQueue``/``LifoQueue``/``SimpleQueue`` have traced
mutexes and conditions.  Everything else is the real module's.

Each primitive is named after the variable it is assigned to on the line that
creates it (``self._lock = threading.Lock()`` is the lock ``_lock``), so the
lock view speaks the file's own words.

Time: in a controlled run nothing waits on a clock (see ``switching.py``), so
``time.sleep`` is a step that lasts until no other thread can move, and
``time.monotonic``/``time``/``perf_counter`` read the run's virtual clock,
which moves only when a wait times out.  A deadline loop (``while remaining > 0:
cond.wait(remaining)``) then ends, and the same schedule gives the same run.
"""

from __future__ import annotations

import linecache
import queue as real_queue
import re
import sys
import threading as real_threading
import time as real_time
from types import ModuleType
from typing import Any

from visualizer.queues import Tracer

_ASSIGNED = re.compile(r"^\s*(?:self\.)?([A-Za-z_][\w.]*)\s*(?::[^=]*)?=(?!=)")


class _Names:
    """Names primitives after their assignment, unique within the run."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def name(self, kind: str, depth: int = 2) -> str:
        frame = sys._getframe(depth)
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        match = _ASSIGNED.match(line)
        base = match.group(1) if match else f"{kind}@{frame.f_lineno}"
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}#{n}"
        self.used.add(name)
        return name


class _Proxy(ModuleType):
    """A module whose own attributes override the real one's."""

    def __init__(self, real: ModuleType) -> None:
        super().__init__(real.__name__)
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def namespaces(tracer: Tracer) -> dict[str, ModuleType]:
    """``threading``, ``queue`` and ``time`` for one run's queue module."""
    names = _Names()
    gate = tracer.gate
    clock = _clock(gate)

    # --- threading -------------------------------------------------------------
    def lock() -> Any:
        return tracer.lock(names.name("Lock"))

    def rlock() -> Any:
        return tracer.rlock(names.name("RLock"))

    def condition(lock: Any = None) -> Any:
        return tracer.condition(names.name("Condition"), lock)

    def semaphore(value: int = 1) -> Any:
        return _semaphore(tracer, names.name("Semaphore"), value, bounded=False)

    def bounded_semaphore(value: int = 1) -> Any:
        return _semaphore(tracer, names.name("BoundedSemaphore"), value, bounded=True)

    def event() -> Any:
        return _Event(tracer.condition(names.name("Event"), None))

    threading = _Proxy(real_threading)
    threading.Lock = lock  # type: ignore[attr-defined]
    threading.RLock = rlock  # type: ignore[attr-defined]
    threading.Condition = condition  # type: ignore[attr-defined]
    threading.Semaphore = semaphore  # type: ignore[attr-defined]
    threading.BoundedSemaphore = bounded_semaphore  # type: ignore[attr-defined]
    threading.Event = event  # type: ignore[attr-defined]

    # --- queue -------------------------------------------------------------------
    queue = _Proxy(real_queue)
    for base in (real_queue.Queue, real_queue.PriorityQueue, real_queue.LifoQueue):
        setattr(queue, base.__name__, _traced_queue_class(base, tracer, names, clock))
    queue.SimpleQueue = _traced_queue_class(  # type: ignore[attr-defined]
        real_queue.Queue, tracer, names, clock, "SimpleQueue"
    )

    # --- time ---------------------------------------------------------------------
    time = _Proxy(real_time)
    if gate.controlled:
        time.sleep = gate.sleep  # type: ignore[attr-defined]
        time.monotonic = time.time = time.perf_counter = clock  # type: ignore[attr-defined]
    return {"threading": threading, "queue": queue, "time": time}


def _clock(gate: Any) -> Any:
    """Seconds: the virtual clock of a controlled run (see the module docstring), else real."""
    if not gate.controlled:
        return real_time.monotonic
    return gate.clock  # starts at 0 in every run: a replay reads the same times


def _semaphore(tracer: Tracer, name: str, value: int, bounded: bool) -> Any:
    if value < 0:
        raise ValueError("semaphore initial value must be >= 0")
    if value == 0:
        return _ZeroSemaphore(tracer.condition(name, tracer.lock(f"{name}.lock")), bounded)
    return tracer.semaphore(name, value, bounded=bounded)


class _ZeroSemaphore:
    """A semaphore that starts with no permit (a signal): a counter under a traced Condition.

    The traced semaphore shows who holds permits; one that starts empty is a
    hand-over between threads instead, and shows as the condition it waits on.
    """

    def __init__(self, cond: Any, bounded: bool) -> None:
        self._cond = cond
        self._value = 0
        self._bounded = bounded

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        with self._cond:
            if not blocking:
                if not self._value:
                    return False
            elif not self._cond.wait_for(lambda: self._value > 0, timeout):
                return False
            self._value -= 1
            return True

    def release(self, n: int = 1) -> None:
        with self._cond:
            if self._bounded and self._value + n > 0:
                raise ValueError("Semaphore released too many times")
            self._value += n
            self._cond.notify(n)

    __enter__ = acquire

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _Event:
    """``threading.Event`` over a traced Condition, so a controlled run sees who waits."""

    def __init__(self, cond: Any) -> None:
        self._cond = cond
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._flag, timeout)


def _traced_queue_class(
    base: Any, tracer: Tracer, names: _Names, clock: Any, title: str | None = None
) -> type:
    """``base`` (a ``queue.Queue`` class) with a traced mutex and conditions.

    ``get`` and ``put`` are the standard library's, except that their deadlines
    read ``clock``: in a controlled run a wait that times out moves the virtual
    clock, so the deadline passes (the real clock would barely have moved).
    """
    kind = title or base.__name__

    class Traced(base):
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            name = names.name(kind)
            self.mutex = tracer.lock(f"{name}.mutex")
            self.not_empty = tracer.condition(f"{name}.not_empty", self.mutex)
            self.not_full = tracer.condition(f"{name}.not_full", self.mutex)
            self.all_tasks_done = tracer.condition(f"{name}.all_tasks_done", self.mutex)

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            with self.not_full:
                if self.maxsize > 0:
                    if not block:
                        if self._qsize() >= self.maxsize:
                            raise real_queue.Full
                    elif timeout is None:
                        while self._qsize() >= self.maxsize:
                            self.not_full.wait()
                    elif timeout < 0:
                        raise ValueError("'timeout' must be a non-negative number")
                    else:
                        end = clock() + timeout
                        while self._qsize() >= self.maxsize:
                            remaining = end - clock()
                            if remaining <= 0.0:
                                raise real_queue.Full
                            self.not_full.wait(remaining)
                self._put(item)
                self.unfinished_tasks += 1
                self.not_empty.notify()

        def get(self, block: bool = True, timeout: float | None = None) -> Any:
            with self.not_empty:
                if not block:
                    if not self._qsize():
                        raise real_queue.Empty
                elif timeout is None:
                    while not self._qsize():
                        self.not_empty.wait()
                elif timeout < 0:
                    raise ValueError("'timeout' must be a non-negative number")
                else:
                    end = clock() + timeout
                    while not self._qsize():
                        remaining = end - clock()
                        if remaining <= 0.0:
                            raise real_queue.Empty
                        self.not_empty.wait(remaining)
                item = self._get()
                self.not_full.notify()
                return item

    Traced.__name__ = Traced.__qualname__ = kind
    return Traced

"""The Tracer hands a strategy its synchronisation primitives and an event sink.

A strategy never builds ``threading.Lock()`` itself; it asks its tracer.  A
tracing tracer gives traced primitives that report to a :class:`Recorder`; a
plain one (``Tracer()``) gives the standard library's own, so the very same
strategy code can be timed with tracing off to measure what tracing costs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from threading import get_ident
from time import perf_counter_ns
from typing import Any

from visualizer.events import LOCK_CREATED, Kind, Recorder
from visualizer.queues import speedups
from visualizer.queues.gate import Gate
from visualizer.queues.rwlock import ReadWriteLock
from visualizer.queues.traced import TracedCondition, TracedSemaphore, lock_classes


def _discard(_event: tuple) -> None:
    """Event sink of an untraced run."""


def _gated(append: Callable[[tuple], None], gate: Gate) -> Callable[..., None]:
    """``record`` while the gate is closed: a task event is a step point (when the
    gate says so) before it is appended."""

    def record(kind: int, subject: object, a: object = None, b: object = None) -> None:
        if gate.closed and gate.events_are_steps:
            gate.checkpoint(f"{Kind(kind).name.lower()} {subject}")
        append((perf_counter_ns(), get_ident(), kind, subject, a, b))

    return record


class Tracer:
    """Factory of (traced or plain) primitives, plus the task-event hook.

    ``record(kind, subject, a, b)`` is what strategies call for task events; it
    is a no-op without a recorder.  Every primitive created is kept in
    :attr:`primitives` so views can list locks that were never contended.

    ``accelerated=False`` keeps to the pure Python fast paths even where the C
    speedups are built (see :mod:`visualizer.queues.speedups`); both record the
    same events.
    """

    def __init__(
        self,
        recorder: Recorder | None = None,
        gate: Gate | None = None,
        *,
        accelerated: bool = True,
    ) -> None:
        self.recorder = recorder
        self.traced = recorder is not None
        self.gate = gate if gate is not None else Gate(recorder.record if recorder else None)
        self.primitives: list[Any] = []
        self.clock = self.gate.clock  # deadlines: real time, or a controlled run's virtual time
        self.accelerated = accelerated and speedups.native is not None
        self._lock_class, self._rlock_class = lock_classes(self.accelerated)
        self._append = recorder.append if recorder is not None else _discard
        self.record: Callable[..., None] = self._ignore
        if recorder is not None:
            if self.accelerated and speedups.publish_pending not in recorder.before_drain:
                recorder.before_drain.append(speedups.publish_pending)
            gated = _gated(self._append, self.gate)
            self.record = speedups.sink(self._append, self.gate, gated, self.accelerated)

    def _ignore(self, kind: int, subject: object, a: object = None, b: object = None) -> None:
        """Untraced: task events cost one call and nothing else."""

    def checkpoint(self, label: str, *args: object) -> None:
        """A step point that records nothing (for example between a read and a write).

        The label is ``label % args``, formatted only when the gate is closed: a
        free-running thread passes at the cost of one test.
        """
        gate = self.gate
        if gate.closed:
            gate.checkpoint(label % args if args else label)

    def _created(self, primitive: Any) -> Any:
        self.primitives.append(primitive)
        if self.traced:
            self._append(
                (
                    perf_counter_ns(),
                    get_ident(),
                    LOCK_CREATED,
                    primitive.name,
                    primitive.kind_label,
                    None,
                )
            )
        return primitive

    def lock(self, name: str) -> Any:
        if not self.traced:
            return threading.Lock()
        return self._created(self._lock_class(name, self._append, self.gate))

    def rlock(self, name: str) -> Any:
        if not self.traced:
            return threading.RLock()
        return self._created(self._rlock_class(name, self._append, self.gate))

    def condition(self, name: str, lock: Any = None) -> Any:
        if not self.traced:
            return threading.Condition(lock)
        if lock is None:
            lock = self.rlock(f"{name}.lock")
        return self._created(TracedCondition(name, lock, self._append, self.gate))

    def semaphore(self, name: str, value: int, bounded: bool = False) -> Any:
        if not self.traced:
            return (threading.BoundedSemaphore if bounded else threading.Semaphore)(value)
        sem = TracedSemaphore(name, value, self._append, self.gate, bounded)
        sem.kind_label = f"{'BoundedSemaphore' if bounded else 'Semaphore'}({value})"
        return self._created(sem)

    def rwlock(self, name: str, prefer_writers: bool = False) -> ReadWriteLock:
        rw = ReadWriteLock(
            name, self._append, self.gate, prefer_writers, self.traced, self.accelerated
        )
        return self._created(rw)

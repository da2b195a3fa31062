"""RunModel: everything the views draw, folded from drained event batches.

The GUI thread folds at least 100k events a second while the run's threads
compete with it for the GIL, so :meth:`RunModel.apply` walks each batch once:
the checker folds the state it checks (task statuses, the lock table) and the
loop below adds what only the views need (heap replica, timelines, metrics,
threads), dispatching on the integer kind with the most frequent kinds first.
Nothing here allocates per event beyond what is kept (a history entry, a
segment), and numpy is only touched when a view asks for a series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from visualizer.events import (
    COND_WAIT,
    COND_WOKEN,
    GATE_WAIT,
    HEAP_DISCARDED,
    LOCK_ACQUIRED,
    LOCK_HELD,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    MARK,
    QUEUED,
    TASK_ADDED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_BLOCKED,
    THREAD_CPU,
    THREAD_ENDED,
    THREAD_STARTED,
    Batch,
)
from visualizer.model.checker import InvariantChecker, Violation
from visualizer.model.clock import RunClock
from visualizer.model.heap import HeapMirror
from visualizer.model.metrics import Metrics
from visualizer.model.positions import PositionLog
from visualizer.model.summary import RunSummary, summarize
from visualizer.model.timeline import Timeline


@dataclass(slots=True)
class ThreadInfo:
    """A thread as the stream shows it; ``color_index`` follows order of appearance.

    ``cpu_s`` is the CPU time the thread reported using (a sample while it runs,
    the total when it ends), None until it reports any; ``cpu_share`` is the
    share of a CPU it used between its last two samples (0.5: half a core), and
    ``cpu_at`` the run time of the last sample.
    """

    name: str
    role: str
    color_index: int
    alive: bool = True
    cpu_s: float | None = None
    cpu_share: float | None = None
    cpu_at: int | None = None

    def sample_cpu(self, t_ns: int, cpu_s: float) -> None:
        """A live sample: CPU seconds used so far, at run time ``t_ns``."""
        if self.cpu_s is not None and self.cpu_at is not None and t_ns > self.cpu_at:
            self.cpu_share = max(0.0, (cpu_s - self.cpu_s) / ((t_ns - self.cpu_at) / 1e9))
        self.cpu_s, self.cpu_at = cpu_s, t_ns


class RunModel:
    """View state of one run.  Apply batches in stream order, on one thread."""

    def __init__(
        self,
        thread_name: Callable[[int], str] | None = None,
        window_s: float = 30.0,
        *,
        keep_finished: int = 10_000,
        max_violations: int = 10_000,
    ) -> None:
        self._thread_name = thread_name
        self.window_s = window_s
        self.checker = InvariantChecker(
            thread_name, keep_finished=keep_finished, max_violations=max_violations
        )
        self.tasks = self.checker.tasks
        self.locks = self.checker.locks
        self.heap = HeapMirror()
        self.timeline = Timeline(window_s)
        self.metrics = Metrics(window_s)
        self.positions = PositionLog()
        self.threads: dict[int, ThreadInfo] = {}
        self.version = 0
        self.events_applied = 0
        self.dropped = 0
        # Every time below is run time (see clock.py): stamps minus the time spent paused.
        self.clock = RunClock()
        self.t0_ns: int | None = None
        self.now_ns = 0  # latest event time seen
        self.finished = False
        self._next_seq = 0
        self._announced: set[int] = set()
        self._next_color = 0

    @property
    def anomalies(self) -> list[Violation]:
        return self.checker.violations

    def apply(self, batch: Batch) -> None:
        events = batch.events
        self.dropped += batch.dropped
        self.checker.note_batch(batch)
        if not events:
            if batch.dropped:
                self.version += 1
            return
        metrics = self.metrics
        clock = self.clock
        if self.t0_ns is None:
            self.t0_ns = clock.to_run(events[0][0])
            metrics.start(self.t0_ns, batch.first_seq)
        checks = self.checker.handlers
        acquired = self.locks.acquired
        released = self.locks.released
        threads = self.threads
        heap = self.heap
        timeline = self.timeline
        open_waits = timeline.open_waits
        by_status = self.tasks.by_status
        bucket_end = metrics.bucket_end
        # The clock changes only at the run's marks and a step's end: kept in locals
        # (one compare and one subtraction per event) and reloaded when it changes.
        frozen_at, offset, stepping = clock.frozen_at, clock.offset, clock.stepping
        for seq, (wall, ident, kind, subject, a, b) in enumerate(events, batch.first_seq):
            t = (wall if wall < frozen_at else frozen_at) - offset
            if t >= bucket_end:
                metrics.roll(t, seq, by_status[QUEUED])
                bucket_end = metrics.bucket_end
            if ident not in threads:
                self._first_sight(ident)
            # Acquire and release, two thirds of all events, need no check: they go
            # straight to the checker's lock table; other kinds to its handlers.
            if kind == LOCK_ACQUIRED:
                acquired(t, ident, subject, a, b)
                if ident in open_waits:
                    metrics.wait_ns += timeline.end_wait(t, ident)
                    metrics.waits += 1
                continue
            if kind == LOCK_RELEASED:
                released(t, ident, subject, a, b)
                continue
            if kind == LOCK_HELD:  # a whole uncontended hold: taken at b, let go at t
                acquired(b, ident, subject, a, 1)
                released(t, ident, subject, a, 0)
                continue
            check = checks.get(kind)
            if check is not None:
                check(seq, t, ident, subject, a, b)
            if kind == TASK_ADDED:
                heap.push(subject, a)
                metrics.added += 1
            elif kind in (TASK_POPPED, HEAP_DISCARDED):
                heap.pop(subject)
            elif kind == TASK_COMPLETED:
                metrics.completed += 1
                timeline.end_work(t, ident, subject)
            elif kind == TASK_STARTED:
                timeline.start_work(t, ident, subject)
            elif kind == LOCK_REQUESTED:
                timeline.start_wait(t, ident, subject)
                if stepping is not None:
                    clock.parked(wall, ident)
                    frozen_at, offset, stepping = self._clock_moved()
            elif kind == LOCK_TIMED_OUT:
                timeline.end_wait(t, ident)
            elif kind == THREAD_STARTED:
                self._thread_started(ident, subject, a)
            elif kind == THREAD_ENDED:
                info = threads[ident]
                info.alive = False
                if isinstance(b, int | float) and not isinstance(b, bool):
                    info.cpu_s = float(b)
                timeline.thread_ended(t, ident)
                self.positions.thread_ended(seq, t, ident)
                if stepping is not None:
                    clock.parked(wall, ident)
                    frozen_at, offset, stepping = self._clock_moved()
            elif kind in (GATE_WAIT, THREAD_BLOCKED):
                self.positions.parked(seq, t, ident, subject, a)
                if stepping is not None:
                    clock.parked(wall, ident)
                    frozen_at, offset, stepping = self._clock_moved()
            elif kind == MARK:
                clock.mark(wall, subject, b)
                frozen_at, offset, stepping = self._clock_moved()
            elif kind == THREAD_CPU and isinstance(a, int | float) and not isinstance(a, bool):
                threads[ident].sample_cpu(t, float(a))
            elif kind == COND_WAIT:
                timeline.start_sleep(t, ident, subject)
            elif kind == COND_WOKEN:
                timeline.end_sleep(t, ident)
        self._next_seq = batch.first_seq + len(events)
        self.events_applied += len(events)
        last = clock.to_run(events[-1][0])
        if last > self.now_ns:
            self.now_ns = last
        timeline.prune(self.now_ns)
        self.version += 1

    def _clock_moved(self) -> tuple[int, int, int | None]:
        """The clock's state after a mark or a step's end, for the fold loop's locals."""
        clock = self.clock
        self.checker.clock_offset = clock.offset  # its violations keep their wall time too
        return clock.frozen_at, clock.offset, clock.stepping

    def advance_clock(self, now_ns: int) -> None:
        """Let time pass with no events: a deadlocked or idle run still ages.

        Views draw open segments (a lock wait, a task being worked on) up to
        :attr:`now_ns`; without new events that stays at the last event's time, so
        a deadlock would look like a frozen instant instead of waits that grow.
        ``now_ns`` is ``time.perf_counter_ns()``, the clock the events carry; it is
        turned into run time, so a paused run does not age.
        """
        now_ns = self.clock.to_run(now_ns)
        if self.t0_ns is None or now_ns <= self.now_ns:
            return
        self.now_ns = now_ns
        self.timeline.prune(now_ns)
        self.version += 1

    def unverified(self) -> str | None:
        """Why the checker could not verify the whole run, in one line (None if it could).

        A dropped event could hide any broken invariant, and could fake some
        (a missing pop looks like a lost task), so those checks were switched off
        at the first drop: a run with drops is neither clean nor broken, but
        unverified, whatever else it shows.
        """
        if not self.dropped:
            return None
        return (
            f"unverified: {self.dropped:,} events were dropped (the consumer fell behind), so "
            "lost tasks, illegal transitions, deadlocks and orphaned locks went unchecked"
        )

    def finish(self, drained: bool = True) -> list[Violation]:
        """The run is over: close the last bucket and run the end-of-run checks.

        Pass ``drained=False`` after a user's Stop (tasks left in the queue are
        not lost then).  Returns the violations the end-of-run checks found.
        """
        if self.finished:
            return []
        self.finished = True
        self.metrics.flush(self._next_seq, self.tasks.by_status[QUEUED])
        found = self.checker.finish(drained)
        self.version += 1
        return found

    def summary(self) -> RunSummary:
        """Throughput, per-lock wait/hold percentiles and violations, for the command line."""
        return summarize(self)

    # --- threads -----------------------------------------------------------------
    def _new_color(self) -> int:
        color = self._next_color
        self._next_color += 1
        return color

    def _first_sight(self, ident: int) -> None:
        name = self._thread_name(ident) if self._thread_name is not None else ""
        self.threads[ident] = ThreadInfo(name or f"thread-{ident}", "", self._new_color())
        self.timeline.add_thread(ident)

    def _thread_started(self, ident: int, name: object, role: object) -> None:
        if ident in self._announced:
            # The OS reused an ended thread's ident: a new thread, so a new colour.
            self.threads[ident] = ThreadInfo(str(name), str(role or ""), self._new_color())
            return
        self._announced.add(ident)
        info = self.threads[ident]
        info.name = str(name)
        info.role = str(role or "")

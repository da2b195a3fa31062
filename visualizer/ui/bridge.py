"""The one place where events cross from run threads to the GUI thread.

Run threads only ever ``list.append`` into the :class:`~visualizer.events.Recorder`;
they never touch Qt.  This bridge lives on the GUI thread and drains that recorder
(or the stream of a run process, which has the same consumer interface) on a
~16 ms timer, emitting ONE ``batch_ready`` signal per drain, whatever the
event rate.  A signal per event would cost microseconds each and flood the event
loop at the rates a flat-out run produces.

Why backpressure: run threads going flat out record far more events than the
window can fold; the recorder would overflow and drop.  So the bridge sets the
recorder's :attr:`~visualizer.events.Recorder.backlog`: while more than that
many events wait, run threads pause between tasks (holding no lock) until the
bridge has caught up.  The run slows to what the window can show instead of
losing events; a consumer that goes away (:meth:`RecorderBridge.attach` of
another recorder) switches it off again.  The window's runs go in a run process,
whose :class:`~visualizer.engine.host.stream.EventStream` the bridge drains like
a recorder: there the backlog applies to the run process's own recorder, and a
full pipe is what holds its pump back.

Why a per-tick limit, and why it adapts: whoever is connected to ``batch_ready``
(the main window folding into the model) runs synchronously inside the emit, so
the time an emit takes is the time the GUI thread is busy.  The bridge measures
it and sizes the next batch so one tick's fold stays within a budget (about half
a frame), leaving the rest of the frame for painting and input.  Events it does
not take wait in the recorder; if the recorder overflows its capacity it drops
the oldest and counts them, and the count travels in the next ``Batch.dropped``,
so nothing is lost silently.
"""

from __future__ import annotations

from collections import deque
from time import perf_counter

from PySide6.QtCore import QObject, QTimer, Signal

from visualizer.events import EventSource

DRAIN_INTERVAL_MS = 16
"""Drain period: once per 60 Hz frame.

The run's threads live in a run process of their own (``visualizer.engine.host``),
so waking the GUI thread no longer means winning the GIL back from them, and a
shorter period costs nothing but a read of the pipe.  It halves the largest
batch one tick folds for the same throughput, and so the longest stall.  (With
the run in the window's process, 33 ms had been the better trade: measured with
``--measure-latency``, global-lock 4+4 flat out, p99 45-53 ms at 16 ms against
23-32 ms at 33 ms.)"""

FOLD_BUDGET_S = 0.008
"""GUI-thread time one tick's batch may take to fold: at most half of every 16 ms,
leaving the rest for painting (itself held to a third, see ``FRAME_SHARE``) and
input.  At the model's ~1.5 µs per event that is room for about 300k events/s."""

MIN_BATCH = 2_000
MAX_BATCH = 400_000
BACKLOG = 50_000
"""Events waiting before run threads are asked to pause: about half a second of folding,
so the views never trail the run by more than that."""

RATE_WINDOW_S = 1.0
"""Events per second are averaged over this trailing window."""


class RecorderBridge(QObject):
    """Drains a recorder on the GUI thread and emits its events in batches.

    It never touches a widget: it only knows the recorder and its one signal,
    which keeps it testable without a window and reusable by the latency bench.
    """

    batch_ready = Signal(object)
    """Emitted with one :class:`~visualizer.events.Batch` per drain that found
    events or drops.  Connected slots run on the GUI thread."""

    def __init__(
        self,
        parent: QObject | None = None,
        interval_ms: int = DRAIN_INTERVAL_MS,
        backlog: int | None = BACKLOG,
    ) -> None:
        super().__init__(parent)
        self.backlog = backlog
        self._recorder: EventSource | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._limit = 20_000
        self._ingested: deque[tuple[float, int]] = deque()
        self.events_total = 0
        self.batches_total = 0

    @property
    def recorder(self) -> EventSource | None:
        return self._recorder

    @property
    def limit(self) -> int:
        """How many events the next tick may take at most."""
        return self._limit

    def attach(self, recorder: EventSource | None) -> None:
        """Follow a new run's recorder (or none); starts or stops the timer accordingly."""
        if self._recorder is not None and self._recorder is not recorder:
            self._recorder.backlog = None  # nobody drains it any more: never make threads wait
        if recorder is not None:
            recorder.backlog = self.backlog
        self._recorder = recorder
        self._ingested.clear()
        if recorder is None:
            self._timer.stop()  # the totals stay readable until the next recorder
        else:
            self.events_total = 0
            self.batches_total = 0
            self._timer.start()

    def stop(self) -> None:
        """Stop the timer; the recorder stays attached, so :meth:`drain` still works by hand."""
        self._timer.stop()

    def is_active(self) -> bool:
        return self._timer.isActive()

    def drain(self) -> int:
        """Take one batch (at most :attr:`limit` events) and emit it; return its size."""
        recorder = self._recorder
        if recorder is None or not recorder.pending():
            return 0
        batch = recorder.drain(self._limit)
        count = len(batch.events)
        if not count and not batch.dropped:
            return 0
        started = perf_counter()
        self.batch_ready.emit(batch)
        self._adapt(count, perf_counter() - started)
        self._count(count)
        return count

    def events_per_second(self) -> float:
        """Events ingested per second over the trailing :data:`RATE_WINDOW_S`."""
        now = perf_counter()
        self._forget_before(now - RATE_WINDOW_S)
        return sum(n for _, n in self._ingested) / RATE_WINDOW_S

    def _adapt(self, count: int, elapsed: float) -> None:
        """Size the next batch so that folding it takes about :data:`FOLD_BUDGET_S`."""
        if count < self._limit // 2:
            return  # a small batch says little about the fold rate and nothing was held back
        target = MAX_BATCH if elapsed <= 0 else int(count * FOLD_BUDGET_S / elapsed)
        # Move halfway towards the target so one slow frame (a repaint, a GC) does not
        # collapse the batch size.
        self._limit = max(MIN_BATCH, min(MAX_BATCH, (self._limit + target) // 2))

    def _count(self, count: int) -> None:
        now = perf_counter()
        self.events_total += count
        self.batches_total += 1
        self._ingested.append((now, count))
        self._forget_before(now - RATE_WINDOW_S)

    def _forget_before(self, horizon: float) -> None:
        ingested = self._ingested
        while ingested and ingested[0][0] < horizon:
            ingested.popleft()

"""How responsive is the GUI thread?  Measure a timer's lateness.

A ``PreciseTimer`` asks to fire every ``interval_ms``; whenever the GUI thread is
busy (folding a batch, painting) it fires late.  The lateness distribution is the
event-loop latency a user feels when clicking during a flat-out run.  Used by
``queue-visualizer --measure-latency`` and the window tests.
"""

from __future__ import annotations

from time import perf_counter

from PySide6.QtCore import QObject, Qt, QTimer


class LatencyProbe(QObject):
    """Records how late each tick of a precise timer arrives."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 10) -> None:
        super().__init__(parent)
        self._interval = interval_ms / 1000.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.lateness_s: list[float] = []

    def start(self) -> None:
        self.lateness_s.clear()
        self._last = perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = perf_counter()
        self.lateness_s.append(max(0.0, now - self._last - self._interval))
        self._last = now

    def percentile_ms(self, fraction: float) -> float:
        """Lateness (ms) below which ``fraction`` of the ticks arrived; 0 with no ticks."""
        if not self.lateness_s:
            return 0.0
        ordered = sorted(self.lateness_s)
        index = min(len(ordered) - 1, int(fraction * len(ordered)))
        return ordered[index] * 1000.0

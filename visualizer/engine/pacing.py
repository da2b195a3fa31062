"""Slow motion: a pacer thread that lets a closed gate pass N traced points a second.

Why a thread and not a timer in the GUI: the command line and tests need slow
motion without Qt, and a steady rate is easier to get from one thread sleeping
to absolute deadlines than from a frame timer whose ticks jitter.
"""

from __future__ import annotations

import threading
from time import monotonic

from visualizer.queues.gate import Gate


class Pacer:
    """Steps ``gate`` ``rate`` times a second while a rate is set.

    The thread starts on the first :meth:`set_rate` with a rate and then lives
    until :meth:`close`, sleeping while the rate is None (paused, or full speed).
    It steps only when a thread is parked, so grants never pile up while every
    thread is busy elsewhere and then let a burst through.
    """

    def __init__(self, gate: Gate, name: str = "pacer") -> None:
        self._gate = gate
        self._name = name
        self._cond = threading.Condition()  # guards _rate and _closed
        self._rate: float | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def set_rate(self, rate: float | None) -> None:
        """Steps per second, or None to stop stepping (the thread stays, idle)."""
        with self._cond:
            if self._closed:
                return
            self._rate = rate
            self._cond.notify_all()
            if rate is not None and self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Ask the thread to end (returns at once; see :meth:`join`)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; True if it has (or never started)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _loop(self) -> None:
        due = monotonic()
        while True:
            with self._cond:
                while self._rate is None and not self._closed:
                    self._cond.wait()
                    due = monotonic()
                rate = self._rate
                if self._closed or rate is None:  # the wait above leaves a rate unless closed
                    return
                interval = 1.0 / rate

                due = max(due + interval, monotonic())
                # A rate change notifies us: recompute the deadline with the new rate.
                if self._cond.wait(due - monotonic()):
                    due = monotonic()
                    continue
            if self._gate.parked():
                self._gate.step()

"""Queues that misbehave on purpose, for the tests of runs in a run process.

The window runs them in its run process, which imports them from this folder
(``RunSpec.strategies``, ``Launcher.strategies``); nothing registers them on
import, so the strategy list of the test process itself stays as it is.
"""

from __future__ import annotations

import os
import threading
import time

from visualizer.queues import GlobalLockQueue

HERE = os.path.dirname(os.path.abspath(__file__))


class DeadlockQueue(GlobalLockQueue):
    """Two locks taken in opposite orders: a producer and a worker deadlock at once."""

    name = "test-deadlock"
    title = "Deadlock (test only)"
    summary = "add_task takes A then B, get_next_task takes B then A."

    def __init__(self, tracer=None) -> None:
        super().__init__(tracer)
        self._a = self.tracer.lock("A")
        self._b = self.tracer.lock("B")
        self._holds_a = threading.Event()
        self._holds_b = threading.Event()

    def add_task(self, task_id, priority, payload=None) -> None:
        with self._a:
            self._holds_a.set()
            self._holds_b.wait(2)
            with self._b:
                super().add_task(task_id, priority, payload)

    def get_next_task(self, timeout=None):
        with self._b:
            self._holds_b.set()
            self._holds_a.wait(2)
            with self._a:
                return super().get_next_task(timeout)


class GilHogQueue(GlobalLockQueue):
    """Half a second in, a producer sums a huge range: C code that never lets go of the GIL."""

    name = "test-gil-hog"
    title = "Holds the GIL (test only)"
    summary = "An add half a second in never returns, and no other thread runs again."

    def __init__(self, tracer=None) -> None:
        super().__init__(tracer)
        self._hog_at = time.monotonic() + 0.5  # time enough for the window to see tasks

    def add_task(self, task_id, priority, payload=None) -> None:
        if time.monotonic() >= self._hog_at:
            sum(range(10**15))  # hours of C, no check of the eval breaker
        super().add_task(task_id, priority, payload)


class AbortQueue(GlobalLockQueue):
    """Half a second in, an add aborts the interpreter, as a crashing C extension would."""

    name = "test-abort"
    title = "Crashes (test only)"
    summary = "An add half a second in calls os.abort()."

    def __init__(self, tracer=None) -> None:
        super().__init__(tracer)
        self._abort_at = time.monotonic() + 0.5

    def add_task(self, task_id, priority, payload=None) -> None:
        if time.monotonic() >= self._abort_at:
            os.abort()
        super().add_task(task_id, priority, payload)


ALL = (DeadlockQueue, GilHogQueue, AbortQueue)
ENTRIES = tuple(f"{__name__}:{cls.__name__}" for cls in ALL)
"""What ``Launcher.strategies`` takes to offer every one of them in a run process."""

"""Startup timing for the bench: note when the window first paints, then quit.

Why the wall clock: the bench starts the app as a child process and wants the
time from *its* spawn to pixels on screen, which includes the interpreter's own
start and every import.  The child cannot see when it was spawned, but both
share the system clock, so it prints ``time.time()`` at its first paint and the
parent subtracts its own time of spawning.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

SHOWN_PREFIX = "window painted at "
"""The line the child prints, followed by seconds since the epoch."""


class FirstPaint(QObject):
    """Prints :data:`SHOWN_PREFIX` and the time at the window's first paint, then quits."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._done = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            print(f"{SHOWN_PREFIX}{time.time():.6f}", flush=True)
            # Quit after this paint has finished, not from inside it.
            QTimer.singleShot(0, QApplication.quit)
        return False

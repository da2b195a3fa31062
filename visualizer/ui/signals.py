"""Ctrl-C and ``kill`` close the window the way its close button does.

Why this is needed at all: Python runs a signal handler only when the
interpreter gets control, and while Qt's event loop waits for events (C++ code)
it never does, so Ctrl-C in the terminal did nothing until the next event and
then raised ``KeyboardInterrupt`` in whatever slot happened to run: a traceback,
and the window stayed open.

How: ``signal.set_wakeup_fd`` makes the C-level handler write the signal's
number to one end of a socket pair; a :class:`QSocketNotifier` on the other end
wakes the event loop at once, and its slot (Python code, so the interpreter runs
the pending handler first) reads the numbers and emits :attr:`received`.  The
Python-level handler itself does nothing: it only replaces the default one that
raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Sequence
from types import FrameType
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Signal, Slot

QUIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: the socket notifier does the work (see the module docstring)."""


class SignalWatcher(QObject):
    """Emits :attr:`received` on the GUI thread for each quit signal, until :meth:`uninstall`."""

    received = Signal(int)

    def __init__(self, signals: Sequence[int] = QUIT_SIGNALS, parent: QObject | None = None):
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous: dict[int, Any] | None = {
            number: signal.signal(number, _ignore) for number in signals
        }

    @Slot()
    def _drain(self) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for number in data:
            self.received.emit(number)

    def uninstall(self) -> None:
        """Give the signals back to whoever had them (the default: ``KeyboardInterrupt``)."""
        if self._previous is None:
            return
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._previous = None
        self._notifier.setEnabled(False)
        for end in (self._reader, self._writer):
            with contextlib.suppress(OSError):
                end.close()

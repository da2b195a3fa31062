"""Long file work (loading a log, folding it, writing a trace) off the GUI thread.

A 1M-event log takes seconds to parse and fold; done on the GUI thread that is
seconds of a window that neither paints nor answers.  A :class:`BackgroundTask`
runs the work on a plain Python thread with a cancellable progress dialog.  The
thread never touches a widget: it reports through this object's signals, which
Qt queues to the GUI thread (the object lives there), and checks a
``threading.Event`` to stop early.  The work is pure Python, so it shares the
GIL with the GUI; the interpreter switches threads every few milliseconds, which
keeps the window responsive, if not as smooth as when idle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from visualizer.recording import LogCancelled, LogError

PROGRESS_STEPS = 1000
SHOW_AFTER_MS = 300
"""Work done sooner than this never flashes a dialog."""

Report = Callable[[str, float], bool]
"""What the work calls with (what it is doing, fraction done); False: stop now."""


class BackgroundTask(QObject):
    """Runs ``work(report)`` on a thread; ``succeeded(result)`` or ``failed(message)`` follow.

    ``work`` raises :class:`LogCancelled` when ``report`` returned False (or
    returns normally: ``cancelled`` is then emitted anyway, since the user asked).
    A :class:`LogError`, ``OSError`` or ``MemoryError`` becomes a one-line
    message; anything else a message naming the exception: never a crash.
    Exactly one of ``succeeded``, ``failed`` or ``cancelled`` is emitted, and
    :attr:`worker` has been joined by then.
    """

    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    _progress = Signal(str, float)
    _done = Signal(str, object)  # ("ok" | "error" | "cancel", result or message)

    def __init__(
        self,
        title: str,
        work: Callable[[Report], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self._work = work
        self.cancel = threading.Event()
        self.worker = threading.Thread(target=self._run, name=f"background: {title}", daemon=True)
        self.dialog = QProgressDialog(title, "Cancel", 0, PROGRESS_STEPS, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel.set)
        self._progress.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self.finished = False

    def start(self) -> BackgroundTask:
        self.dialog.setValue(0)
        self.worker.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the work to stop and wait for the thread (closing the window)."""
        self.cancel.set()
        self.worker.join(timeout)

    def _report(self, label: str, fraction: float) -> bool:
        """Called on the worker thread: one queued signal, and the cancel flag's answer."""
        self._progress.emit(label, fraction)
        return not self.cancel.is_set()

    def _run(self) -> None:
        try:
            result = self._work(self._report)
        except LogCancelled:
            self._done.emit("cancel", None)
        except LogError as exc:
            self._done.emit("error", str(exc))
        except MemoryError:
            self._done.emit("error", "there is not enough memory for it")
        except OSError as exc:
            self._done.emit("error", exc.strerror or str(exc))
        except Exception as exc:  # reported in a dialog: the window must survive a bad file
            self._done.emit("error", f"unexpected {type(exc).__name__}: {exc}")
        else:
            self._done.emit("cancel" if self.cancel.is_set() else "ok", result)

    @Slot(str, float)
    def _show_progress(self, label: str, fraction: float) -> None:
        if self.finished:
            return
        self.dialog.setLabelText(label)
        self.dialog.setValue(min(PROGRESS_STEPS - 1, int(fraction * PROGRESS_STEPS)))

    @Slot(str, object)
    def _finish(self, outcome: str, payload: object) -> None:
        self.finished = True
        self.worker.join()
        self.dialog.reset()
        self.dialog.hide()
        self.dialog.deleteLater()
        if outcome == "ok":
            self.succeeded.emit(payload)
        elif outcome == "cancel":
            self.cancelled.emit()
        else:
            self.failed.emit(str(payload))
        self.deleteLater()

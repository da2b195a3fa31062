"""Unexpected exceptions become a visible message, never a silent crash.

PySide6 prints an exception raised in a slot and carries on, and one raised in a
plain Python thread just ends that thread: in a lecture hall both look like "the
app froze".  :class:`ErrorReporter` replaces ``sys.excepthook`` and
``threading.excepthook``, logs the traceback, and hands a summary to the GUI
thread through a queued signal (so it is safe to call from any thread) where it
is shown in a dialog and passed on to whoever listens (the status bar).

Dialogs are skipped under the offscreen platform or when
``QUEUE_VISUALIZER_NO_DIALOGS`` is set, so tests and screenshot runs never block
on a modal box; the error is still logged and emitted.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("visualizer.ui")

NO_DIALOGS_ENV = "QUEUE_VISUALIZER_NO_DIALOGS"


def dialogs_allowed() -> bool:
    """False when nobody could answer a dialog (offscreen) or it was switched off."""
    return os.environ.get("QT_QPA_PLATFORM") != "offscreen" and not os.environ.get(NO_DIALOGS_ENV)


class ErrorReporter(QObject):
    """Turns uncaught exceptions (from any thread) into a dialog and a signal."""

    reported = Signal(str, str)
    """(one-line summary, full traceback); delivered on the GUI thread."""

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self._shown: set[str] = set()
        self._previous = (sys.excepthook, threading.excepthook)
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def set_parent_widget(self, widget: QWidget | None) -> None:
        """The window dialogs are centred on (it may be created after the reporter)."""
        self._parent_widget = widget

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def report(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
        where: str = "",
    ) -> None:
        """Log an exception and queue it for the GUI thread (callable from any thread)."""
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        summary = f"{where}{exc_type.__name__}: {exc}"
        log.error("Unexpected error%s\n%s", f" in {where.rstrip(': ')}" if where else "", text)
        self.reported.emit(summary, text)

    def _excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous[0](exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, where=f"{name}: ")

    @Slot(str, str)
    def _show(self, summary: str, text: str) -> None:
        # The same failure repeating (a slot that raises on every frame) gets one
        # dialog, not a new one every 16 ms.
        if summary in self._shown or not dialogs_allowed():
            return
        self._shown.add(summary)
        box = QMessageBox(self._parent_widget)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Queue Visualizer: unexpected error")
        box.setText(f"Something went wrong:\n\n{summary}")
        box.setInformativeText("The run may be in an odd state; Reset starts afresh.")
        box.setDetailedText(text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal and non-blocking: no nested event loop inside a slot

"""File > Open Queue...: a user's own queue class, checked, then offered in the strategy list.

The file is read without running it here (its syntax tree names its classes),
then tried once in a Python process of its own (``probe_in_child``): build,
add a task, get it back.  A file that does not load, a class that breaks the
API or loops, even one that crashes the interpreter, gives one message box and
leaves the window as it was.  A queue that passes joins the strategy list, and
the list remembers the last few between launches (``QSettings``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from visualizer.engine.userqueue import QueueRef, UserQueueError
from visualizer.engine.userqueue.probe import probe_in_child
from visualizer.engine.userqueue.source import class_names

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

RECENT_KEY = "queues/recent"
MAX_RECENT = 6


class QueueFiles(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.settings: QSettings | None = None
        self.open_action = QAction("Open &Queue\u2026", window)
        self.open_action.setObjectName("openQueue")
        self.open_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.open_action.setStatusTip(
            "Load your own queue class from a .py file (add_task, get_next_task, ...) and run it"
        )
        self.open_action.triggered.connect(self.choose)
        window.addAction(self.open_action)

    def populate(self, menu: QMenu) -> None:
        menu.addAction(self.open_action)

    def restore(self, settings: QSettings | None) -> None:
        """Offer the queues opened in earlier sessions (checked again when a run starts)."""
        self.settings = settings
        if settings is None:
            return
        saved = settings.value(RECENT_KEY)
        recent = [saved] if isinstance(saved, str) else list(saved or [])
        controls = self.window.controls
        chosen = controls.strategy.currentIndex()
        for text in reversed(recent[:MAX_RECENT]):
            try:
                ref = QueueRef.parse(str(text))
            except UserQueueError:
                continue
            if os.path.exists(ref.path):
                controls.add_queue(ref.text(), ref.label, "")
        controls.strategy.setCurrentIndex(chosen)

    @Slot()
    def choose(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self.window, "Open Queue", "", "Python files (*.py);;All files (*)"
        )
        if not path:
            return
        try:
            names = class_names(QueueRef(os.path.abspath(path), "_"))
        except UserQueueError as exc:
            self._refuse(str(exc))
            return
        if not names:
            self._refuse(f"{path}: defines no class")
            return
        name = names[0]
        if len(names) > 1:
            name, ok = QInputDialog.getItem(
                self.window, "Open Queue", "Which class is the queue?", names, 0, False
            )
            if not ok:
                return
        self.open(f"{path}:{name}")

    def open(self, text: str) -> bool:
        """Check ``PATH.py:ClassName`` in a process of its own; offer it if it passes."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            ref = QueueRef.parse(text)
            api = probe_in_child(ref)
        except UserQueueError as exc:
            self._refuse(str(exc))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.window.scenarios.select(None)
        self.window.controls.add_queue(ref.text(), ref.label, api.note())
        self._remember(ref.text())
        note = f" ({api.note()})" if api.note() else ""
        self.window.statusBar().showMessage(
            f"{ref.label}: Start runs it; its locks are traced{note}", 15_000
        )
        return True

    def _remember(self, text: str) -> None:
        if self.settings is None:
            return
        saved = self.settings.value(RECENT_KEY)
        recent = [saved] if isinstance(saved, str) else [str(v) for v in saved or []]
        recent = [text, *(item for item in recent if item != text)][:MAX_RECENT]
        self.settings.setValue(RECENT_KEY, recent)

    def _refuse(self, message: str) -> None:
        QMessageBox.warning(self.window, "Cannot open this queue", message)

"""Run > Engine Interpreter: which Python runs the run's threads.

Every run goes in a run process of its own (see :mod:`visualizer.engine.host`).
That process needs only the standard library, so it can be a Python the window
itself cannot use: a free-threaded CPython 3.13t, for which PySide6 has no
wheels, or simply another version to compare.  The choice is checked before it
is taken (it must start and import the engine from this source tree) and kept
for the next launches; ``--engine-python PATH`` overrides it for one session.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from visualizer.engine.host import check_interpreter

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow


class EngineDialog(QDialog):
    """Pick, check and keep the engine interpreter of a main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.main = window
        self.setWindowTitle("Engine Interpreter")
        about = QLabel(
            "Each run goes in a Python process of its own, so the window never competes "
            "with the threads it shows. Choose the interpreter that runs them: CPython 3.11 "
            "or newer, a free-threaded build too. It needs only its standard library."
        )
        about.setWordWrap(True)
        self.verdict = QLabel()  # what the last check found
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path = QLineEdit(window.launcher.python)
        self.path.setPlaceholderText(sys.executable)
        self.path.setToolTip("Path of a python executable")
        self.path.textEdited.connect(lambda _text: self.verdict.setText(""))
        browse = QPushButton("&Browse\u2026")
        browse.clicked.connect(self._browse)
        own = QPushButton("&This Window's Python")
        own.setToolTip(sys.executable)
        own.clicked.connect(lambda: self._use(sys.executable))
        check = QPushButton("&Check")
        check.clicked.connect(self.check)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.addButton(own, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.addButton(check, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(about)
        column.addLayout(row)
        column.addWidget(self.verdict)
        column.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    def chosen(self) -> str:
        return self.path.text().strip() or sys.executable

    @Slot()
    def check(self) -> str | None:
        """Check the chosen interpreter; its description, or None (the reason is shown)."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            description = check_interpreter(self.chosen())
        except ValueError as exc:
            self.verdict.setText(f"\u26a0 {exc}")
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.verdict.setText(f"\u2714 {description}: it can run the engine.")
        return description

    def accept(self) -> None:
        """Take the interpreter only if it works; otherwise say why and stay open."""
        description = self.check()
        if description is None:
            return
        self.main.set_engine_python(self.chosen(), description)
        super().accept()

    def _use(self, path: str) -> None:
        self.path.setText(path)
        self.verdict.setText("")

    @Slot()
    def _browse(self) -> None:
        path, _chosen = QFileDialog.getOpenFileName(self, "Engine Interpreter", self.chosen())
        if path:
            self._use(path)


def engine_action(window: MainWindow) -> QAction:
    """Run > Engine Interpreter…: opens the dialog (modal; it is quick)."""
    action = QAction("&Engine Interpreter\u2026", window)
    action.setObjectName("engineInterpreter")
    action.setStatusTip("Choose the Python that runs the threads (another version, free-threaded)")
    action.triggered.connect(lambda _checked=False: EngineDialog(window).exec())
    return action

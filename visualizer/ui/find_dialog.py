"""Run > Find a Breaking Interleaving...: ``explore`` in a process of its own, with progress.

The search runs as ``python -m visualizer explore ... --save FILE`` in a child
process (``QProcess``), so a queue that loops, deadlocks or crashes the
interpreter takes the search down with it, never the window, and Cancel is a
kill.  Its progress lines on stderr move the bar; a violation found ends in the
counterexample, opened paused before its first line (``counterexample.py``).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from typing import TYPE_CHECKING

from PySide6.QtCore import QProcess, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
)

from visualizer.engine.scheduler import interpreter_model
from visualizer.recording import LogError, LogReader
from visualizer.ui.counterexample import step_through

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

_PROGRESS = re.compile(r"explored (\d+) schedules \((\d+) distinct\).* ([\d.]+) s")
MODELS = (("gil", "with the GIL (CPython 3.11-3.13)"), ("free", "free-threaded (3.13t)"))


class FindDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Find a Breaking Interleaving")
        self.process: QProcess | None = None
        self.saved = os.path.join(tempfile.mkdtemp(prefix="qv-explore-"), "counterexample.jsonl")
        self.subject_args, what = self._subject()
        column = QVBoxLayout(self)
        intro = QLabel(
            f"Search thread interleavings of <b>{what}</b> (2 producers, 2 workers, 3 tasks) "
            "under the controlled scheduler: bounded-preemption DFS, PCT and random "
            "schedules in turns, until the invariant checker finds a violation."
        )
        intro.setWordWrap(True)
        column.addWidget(intro)
        form = QFormLayout()
        self.budget = QSpinBox()
        self.budget.setRange(1, 3600)
        self.budget.setValue(30)
        self.budget.setSuffix(" s")
        self.budget.setToolTip("Longest the search may take")
        form.addRow("Budget", self.budget)
        self.model = QComboBox()
        for key, text in MODELS:
            self.model.addItem(text, key)
        self.model.setCurrentIndex(0 if interpreter_model() == "gil" else 1)
        self.model.setToolTip("Where threads may switch: as CPython with its GIL, or anywhere")
        form.addRow("Switch points", self.model)
        column.addLayout(form)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        column.addWidget(self.bar)
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Search", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        column.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    def _subject(self) -> tuple[list[str], str]:
        window = self.window_
        scenario = window.scenarios.scenario
        if scenario is not None:
            args = ["--scenario", scenario.name]
            if window.scenarios.panel.fixed():
                args.append("--fixed")
            return args, f"scenario {scenario.title}"
        workload = window.controls.workload()
        if workload is None:
            return [], "nothing (the control panel refuses its settings)"
        seed = ["--seed", str(workload.seed)]
        if workload.queue is not None:
            return ["--queue", workload.queue, *seed], workload.subject
        return ["--strategy", workload.strategy, *seed], f"strategy {workload.strategy}"

    @Slot()
    def start(self) -> None:
        if not self.subject_args or self.process is not None:
            return
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(
            [
                "-m",
                "visualizer",
                "explore",
                *self.subject_args,
                "--model",
                str(self.model.currentData()),
                "--budget",
                f"{self.budget.value()}s",
                "--save",
                self.saved,
            ]
        )
        process.readyReadStandardError.connect(self._progress)
        process.finished.connect(self._finished)
        self.process = process
        self._stderr = ""
        self.start_button.setEnabled(False)
        self.budget.setEnabled(False)
        self.model.setEnabled(False)
        self.status.setText("Searching\u2026")
        process.start()

    @Slot()
    def _progress(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
        self._stderr += text
        for match in _PROGRESS.finditer(text):
            played, distinct, seconds = match.groups()
            self.bar.setValue(min(1000, int(1000 * float(seconds) / self.budget.value())))
            self.status.setText(f"{played} schedules played ({distinct} distinct), {seconds} s")

    @Slot(int, QProcess.ExitStatus)
    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace")
        self._stderr += bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        self.bar.setValue(1000)
        if code == 1 and os.path.exists(self.saved):
            try:
                recorded = LogReader().load(self.saved)
            except (LogError, OSError) as exc:
                self.status.setText(f"The counterexample could not be read: {exc}")
                return
            if recorded.subject is not None and recorded.schedule is not None:
                self.accept()
                step_through(self.window_, recorded.subject, recorded.schedule)
                return
        if code == 0:
            lines = [line for line in out.splitlines() if line.startswith("no violation")]
            self.status.setText(lines[-1] if lines else "No violation found.")
        else:
            last = [line for line in self._stderr.splitlines() if "error" in line]
            message = last[-1] if last else f"The search ended with status {code}."
            QMessageBox.warning(self, "The search failed", message)
            self.status.setText(message)
        self.start_button.setEnabled(True)
        self.budget.setEnabled(True)
        self.model.setEnabled(True)
        self.cancel_button.setText("Close")

    @Slot()
    def cancel(self) -> None:
        process = self.process
        if process is not None:
            self.process = None
            process.kill()
            process.waitForFinished(2000)
        self.reject()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.cancel()
        super().closeEvent(event)


def find_action(window: MainWindow) -> QAction:
    """Run > Find a Breaking Interleaving...: opens the dialog."""
    action = QAction("&Find a Breaking Interleaving\u2026", window)
    action.setObjectName("findInterleaving")
    action.setStatusTip(
        "Search thread interleavings of the strategy, your queue or the scenario until an "
        "invariant breaks; step through the counterexample"
    )
    action.triggered.connect(lambda: FindDialog(window).exec())
    return action

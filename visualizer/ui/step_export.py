"""File > Export Step Sequence: a picture of the window at every step of a stepped interleaving.

A lecturer who stepped a race in class wants the same steps on slides.  The
export takes the steps of the controlled run the window shows (its schedule so
far), starts them over from the first line, and moves through them one at a
time as Step would, grabbing the window after each step has settled (the
model has folded it and the views have painted it): step 0, before anything
moved, then one picture per step.  PNG writes ``NAME-000.png``,
``NAME-001.png``... beside the file chosen; PDF writes one page per step.

It drives the window's own run (it is the same run a class would see), so it
works in whatever mode and layout the window is in: presentation mode makes
slide-sized pictures.  Cancel stops it; the run stays paused where it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING

from PySide6.QtCore import QMarginsF, QObject, QSizeF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from visualizer.engine import RunState
from visualizer.engine.scheduler import Schedule
from visualizer.ui.stepping_bar import scheduler_of

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

TICK_MS = 40
"""How often the export looks whether the last step has settled."""

SETTLED_TICKS = 3
"""Ticks with nothing new (idle, no new events) before a step counts as shown."""

STEP_TIMEOUT_S = 20.0
"""A step that does not settle within this is a stuck export: it stops and says so."""

PDF_DPI = 96
"""Resolution of the PDF pages: one picture pixel is one pixel of the window."""


class StepExport(QObject):
    """One export in progress: walks the schedule, a picture per step, then writes the file(s)."""

    finished = Signal(str)  # what was written, or why nothing was

    def __init__(self, window: MainWindow, schedule: Schedule, path: str) -> None:
        super().__init__(window)
        self.window = window
        self.schedule = schedule
        self.path = path
        self.pdf = path.lower().endswith(".pdf")
        self.frames: list[QImage] = []
        self._quiet = 0
        self._version = -1
        self._since = perf_counter()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.progress = QProgressDialog(
            "Picturing each step\u2026", "Cancel", 0, len(schedule.steps) + 1, window
        )
        self.progress.setWindowTitle("Export Step Sequence")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.cancel)

    def start(self) -> None:
        """Start the steps over, paused before the first; pictures follow as they settle."""
        self.window.scenarios.stepping.walk(self.schedule)
        self._since = perf_counter()
        self._timer.start()

    @Slot()
    def cancel(self) -> None:
        self._end("Export cancelled: nothing written.")

    def _end(self, message: str) -> None:
        self._timer.stop()
        self.progress.reset()
        self.progress.hide()
        self.finished.emit(message)
        self.deleteLater()

    @Slot()
    def _tick(self) -> None:
        window = self.window
        run, model = window.run, window.model
        scheduler = scheduler_of(run)
        if run is None or model is None or scheduler is None:
            self._end("Export stopped: the stepped run ended.")
            return
        shown = len(self.frames)  # pictures taken: the next one is after step `shown - 1`
        ready = (
            run.state is RunState.PAUSED
            and scheduler.wait_idle(0)
            and len(scheduler.history) == shown
        )
        if not ready or model.version != self._version:
            self._version = model.version
            self._quiet = 0
            if perf_counter() - self._since > STEP_TIMEOUT_S:
                self._end(
                    f"Export stopped: step {shown} did not settle within {STEP_TIMEOUT_S:g} s."
                )
            return
        self._quiet += 1
        if self._quiet < SETTLED_TICKS:
            return  # the views paint on their own timer: let them catch up
        window.repaint_views()
        self.frames.append(window.grab().toImage())
        self.progress.setValue(len(self.frames))
        if len(self.frames) <= len(self.schedule.steps):
            self._quiet = 0
            self._since = perf_counter()
            run.step(None)  # the plan's next step, as Step (F10) takes it
            return
        self._end(self._write())

    def _write(self) -> str:
        """Write the pictures; one line saying where (or what went wrong)."""
        try:
            written = self._write_pdf() if self.pdf else self._write_pngs()
        except OSError as exc:
            return f"Could not write the step sequence: {exc}"
        return written

    def _write_pngs(self) -> str:
        stem = Path(self.path).with_suffix("")
        width = max(3, len(str(len(self.frames) - 1)))
        for number, image in enumerate(self.frames):
            target = f"{stem}-{number:0{width}d}.png"
            if not image.save(target):
                raise OSError(f"could not write {target}")
        return (
            f"Wrote {len(self.frames)} pictures, {os.path.basename(stem)}-"
            f"{0:0{width}d}.png to -{len(self.frames) - 1:0{width}d}.png"
        )

    def _write_pdf(self) -> str:
        first = self.frames[0]
        writer = QPdfWriter(self.path)
        writer.setResolution(PDF_DPI)
        points = QSizeF(first.width() * 72 / PDF_DPI, first.height() * 72 / PDF_DPI)
        layout = QPageLayout(
            QPageSize(points, QPageSize.Unit.Point, "window"),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
        writer.setPageLayout(layout)
        painter = QPainter()
        if not painter.begin(writer):
            raise OSError(f"could not write {self.path}")
        try:
            for number, image in enumerate(self.frames):
                if number:
                    writer.newPage()
                painter.drawImage(painter.viewport(), image)
        finally:
            painter.end()
        return f"Wrote {len(self.frames)} pages to {os.path.basename(self.path)}"


def ask_export(window: MainWindow) -> StepExport | None:
    """File > Export Step Sequence: ask where, then export the steps of the stepped run."""
    schedule = window.scenarios.stepping.schedule()
    if schedule is None or not schedule.steps:
        QMessageBox.information(
            window,
            "Export Step Sequence",
            "There are no steps to export yet: step a scenario (Step, F10), or play "
            "Show me the bug, then export the steps taken.",
        )
        return None
    name = _stem(window)
    path, _chosen = QFileDialog.getSaveFileName(
        window,
        "Export Step Sequence",
        f"{name}-steps.pdf",
        "PDF, a page per step (*.pdf);;PNG pictures, one per step (*.png)",
    )
    if not path:
        return None
    return export_steps(window, schedule, path)


def export_steps(window: MainWindow, schedule: Schedule, path: str) -> StepExport:
    """Start exporting ``schedule``'s steps to ``path`` (.pdf, else numbered .png files)."""
    export = StepExport(window, schedule, path)
    export.finished.connect(lambda text: window.statusBar().showMessage(text, 15_000))
    export.start()
    return export


def _stem(window: MainWindow) -> str:
    scenario = window.scenarios.scenario
    if scenario is not None:
        return scenario.name
    workload = window.controls.workload()
    return workload.subject if workload is not None else "steps"

"""The File menu: save and open recordings, export traces, anomalies and plots.

Where the events come from: while a run goes, :class:`RunRecording` keeps every
batch the bridge delivers (a list append per batch; the tuples exist already),
so Save Recording can write the current or last run at any time.  With a
recording open, Save and Export Chrome Trace use the loaded log instead, and
Export Anomalies uses the model at the scrubber's position.

Anything that can take seconds (reading and folding a log, writing one, building
a trace) runs in a :class:`~visualizer.ui.background.BackgroundTask` with a
cancellable progress dialog.  Every failure ends in a dialog naming the file and
the problem; none reaches the user as a crash.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import chain
from time import perf_counter, perf_counter_ns
from typing import TYPE_CHECKING, Any

from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QGraphicsView, QMenu, QMessageBox, QToolBar

from visualizer.engine import RunState
from visualizer.engine.scheduler import Schedule, ScheduleError
from visualizer.events import Batch
from visualizer.export import export_anomalies_csv, export_chrome_trace
from visualizer.model import Violation
from visualizer.recording import LogCancelled, LogReader, LogWriter
from visualizer.recording.replay import Replay, ThreadNames, title_of
from visualizer.ui.background import BackgroundTask, Report
from visualizer.ui.counterexample import step_through
from visualizer.ui.replay import ReplayBar
from visualizer.ui.views import ThroughputView

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

LOG_FILTER = "Event logs (*.jsonl *.jsonl.gz *.gz);;All files (*)"
TRACE_FILTER = "Chrome trace (*.json *.json.gz);;All files (*)"
MAX_KEPT_EVENTS = 1_000_000
"""Events of a live run kept for saving: about 130 MB; a longer run saves its beginning."""
CSS_DPI = 96
"""Pixels per inch of CSS and SVG viewers (Qt's SVG generator assumes 72)."""
READ_SHARE = 0.3
"""Part of the open progress bar for reading the file; folding it takes the rest."""


class RunRecording:
    """The batches of the window's current run, in drain order, for Save Recording.

    Batches are kept as drained (the recorder made fresh lists; nobody changes
    them), so saving is writing them out, and a save during the run writes what
    has been seen so far.  Past :data:`MAX_KEPT_EVENTS` nothing more is kept and
    :attr:`cut_short` says so: a log's events must follow each other, so a
    recording cannot skip a stretch and go on.
    """

    def __init__(self, max_events: int = MAX_KEPT_EVENTS) -> None:
        self.max_events = max_events
        self.run: Any = None
        self.batches: list[Batch] = []
        self.events = 0
        self.cut_short = False

    def add(self, run: Any, batch: Batch) -> None:
        if run is not self.run:
            self.run, self.batches, self.events, self.cut_short = run, [], 0, False
        if run is None or self.cut_short:
            return
        if self.events + len(batch.events) > self.max_events:
            self.cut_short = True
            return
        self.batches.append(batch)
        self.events += len(batch.events)


@dataclass(frozen=True)
class Source:
    """What Save and the exports write: the open replay's log, or the window's run.

    ``title`` names the run (scenario or strategy); ``violations`` are the
    checker's for the whole stream; ``until_ns`` is set while the run still goes
    (what is open then, a deadlock say, lasts at least until the save).
    """

    settings: dict[str, Any]
    strategy: str
    scenario: dict[str, Any] | None
    title: str
    batches: Callable[[], Iterator[Batch]]
    names: dict[int, str]
    violations: list[Violation] | None
    until_ns: int | None

    @property
    def file_stem(self) -> str:
        """The title as a file name: ``lock-ordering (fixed)`` -> ``lock-ordering-fixed``."""
        return re.sub(r"[^\w.-]+", "-", self.title).strip("-.") or "run"


class FileActions(QObject):
    """Owns the File menu's actions, the replay bar and the background file work."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.recording = RunRecording()
        self.replay_bar: ReplayBar | None = None
        self.toolbar: QToolBar | None = None
        self.task: BackgroundTask | None = None
        self.folder = os.getcwd()
        self.last_load_s: float | None = None
        window.bridge.batch_ready.connect(self._keep)
        window.installEventFilter(self)
        self.actions = {
            "open": self._action(
                "&Open Recording\u2026",
                QKeySequence.StandardKey.Open,
                "Replay a saved event log in the views",
                self.ask_open,
            ),
            "save": self._action(
                "&Save Recording\u2026",
                QKeySequence.StandardKey.Save,
                "Save the current or last run as an event log",
                self.ask_save,
            ),
            "trace": self._action(
                "Export &Chrome Trace\u2026",
                None,
                "A trace for the Perfetto UI: a track per thread, violations marked on them",
                self.ask_chrome_trace,
            ),
            "anomalies": self._action(
                "Export &Anomalies as CSV\u2026",
                None,
                "The invariant violations shown, for a spreadsheet",
                self.ask_anomalies_csv,
            ),
            "png": self._action(
                "Export Plots as &PNG\u2026",
                None,
                "The throughput plots as an image",
                self.ask_plots_png,
            ),
            "svg": self._action(
                "Export Plots as S&VG\u2026",
                None,
                "The throughput plots as a vector drawing",
                self.ask_plots_svg,
            ),
            "csv": self._action(
                "Export Plot &Data as CSV\u2026",
                None,
                "The plotted series, one CSV file per plot",
                self.ask_plot_data,
            ),
        }

    def _action(self, text: str, keys: Any, tip: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.window)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def populate(self, menu: QMenu) -> None:
        """Fill the window's File menu."""
        names = ("open", "save", None, "trace", "anomalies", None, "png", "svg", "csv")
        for name in names:
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(self.actions[name])

    # --- what there is to save -------------------------------------------------------
    @property
    def replay(self) -> Replay | None:
        bar = self.replay_bar
        return bar.replay if bar is not None and bar.is_open else None

    @Slot(object)
    def _keep(self, batch: Batch) -> None:
        self.recording.add(self.window.run, batch)

    def _source(self) -> Source:
        """What to save or export: the replay's log, or the run's events (see :class:`Source`)."""
        replay = self.replay
        if replay is not None:
            recorded = replay.recorded
            return Source(
                recorded.settings,
                recorded.strategy,
                recorded.scenario,
                title_of(recorded),
                recorded.batches,
                recorded.thread_names,
                replay.final_anomalies,
                recorded.until_ns,
            )
        recording = self.recording
        if recording.run is None or not recording.batches:
            raise LookupError("There is nothing to save yet: start a run or open a recording.")
        run = recording.run
        batches = list(recording.batches)
        # Names and violations now, on the GUI thread: the writer runs on another one.
        idents = {event[1] for batch in batches for event in batch.events}
        names = {ident: run.recorder.thread_name(ident) for ident in idents}
        model = self.window.model if self.window.run is run else None
        violations = None if model is None else list(model.anomalies)
        if violations is not None and recording.cut_short:
            last = batches[-1].events[-1][0]
            violations = [v for v in violations if (v.wall_ns or v.t_ns) <= last]
        going = run.state not in (RunState.FINISHED, RunState.STOPPED)
        scenario = run.scenario
        if scenario is not None and run.scheduler is not None and run.control is not None:
            # The steps so far: whoever opens the log can step on from where it stops.
            schedule = Schedule(
                run.control.granularity, run.control.model, tuple(run.scheduler.history)
            )
            scenario = {**scenario, "schedule": schedule.text()}
        return Source(
            asdict(run.workload),
            run.workload.strategy,
            scenario,
            run.label,
            lambda: iter(batches),
            names,
            violations,
            perf_counter_ns() if going and not recording.cut_short else None,
        )

    # --- dialogs ---------------------------------------------------------------------
    def _ask_save_path(self, title: str, name: str, filters: str) -> str | None:
        path, _chosen = QFileDialog.getSaveFileName(
            self.window, title, os.path.join(self.folder, name), filters
        )
        if not path:
            return None
        self.folder = os.path.dirname(path)
        return path

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self.window, title, text)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)

    def _busy(self) -> bool:
        if self.task is not None:
            self._status("Wait for the file work in progress, or cancel it.")
            return True
        return False

    def _start(
        self,
        title: str,
        work: Callable[[Report], Any],
        done: Callable[[Any], object],
        failure: str,
    ) -> BackgroundTask:
        task = BackgroundTask(title, work, self.window)
        self.task = task

        def succeeded(result: object) -> None:
            self.task = None
            done(result)

        def failed(message: str) -> None:
            self.task = None
            self._warn(title, f"{failure}:\n{message}")

        def cancelled() -> None:
            self.task = None
            self._status(f"{title}: cancelled.")

        task.succeeded.connect(succeeded)
        task.failed.connect(failed)
        task.cancelled.connect(cancelled)
        return task.start()

    # --- open ------------------------------------------------------------------------
    @Slot()
    def ask_open(self) -> None:
        path, _chosen = QFileDialog.getOpenFileName(
            self.window, "Open Recording", self.folder, LOG_FILTER
        )
        if path:
            self.folder = os.path.dirname(path)
            self.open_recording(path)

    def open_recording(self, path: str) -> BackgroundTask | None:
        """Read and fold ``path`` in the background; the replay bar appears when done."""
        if self._busy():
            return None
        started = perf_counter()
        name = os.path.basename(path)

        def work(report: Report) -> Replay:
            recorded = LogReader().load(
                path,
                lambda fraction: report(f"Reading {name}\u2026", READ_SHARE * fraction),
                allow_truncated=True,
            )
            replay = Replay(recorded)
            replay.build(
                lambda fraction: report(
                    f"Folding {replay.total:,} events\u2026",
                    READ_SHARE + (1 - READ_SHARE) * fraction,
                )
            )
            return replay

        def opened(replay: Replay) -> None:
            self.last_load_s = perf_counter() - started
            recorded = replay.recorded
            if recorded.subject is not None and recorded.schedule is not None:
                # A counterexample explore saved: run it again, paused at its start.
                step_through(self.window, recorded.subject, recorded.schedule)
                return
            self.show_replay(replay)
            self._status(f"Opened {name}: {replay.total:,} events in {self.last_load_s:.1f} s")
            if not replay.recorded.complete:
                self._warn(
                    "Recording cut short",
                    f"{name} was cut short ({replay.recorded.problem}).\n"
                    "The views show the run as far as it was recorded.",
                )

        return self._start("Opening recording", work, opened, f"Cannot open {name}")

    def show_replay(self, replay: Replay) -> ReplayBar:
        """Put ``replay`` in the views, with the scrubber under them."""
        self.close_replay()
        # A scenario's log opens in that scenario: its title, story and code, as it ran.
        known = self.window.scenarios.show_recorded(replay.recorded.scenario)
        title = None
        if known is not None:
            fixed = bool((replay.recorded.scenario or {}).get("fixed"))
            title = f"{known.title} ({'fixed' if fixed else 'not fixed'})"
            seed = replay.recorded.settings.get("seed")
            if type(seed) is int:  # Start reruns what was recorded
                self.window.scenarios.panel.seed.setValue(seed)
        bar = ReplayBar(replay, self.window, title=title)
        toolbar = QToolBar("Replay", self.window)
        toolbar.setObjectName("replayToolBar")
        toolbar.setMovable(False)
        toolbar.addWidget(bar)
        self.window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, toolbar)
        bar.closed.connect(self._replay_closed)
        self.replay_bar, self.toolbar = bar, toolbar
        scenario = replay.recorded.scenario
        if scenario is not None and isinstance(scenario.get("schedule"), str):
            step_on = toolbar.addAction("Step on from here")
            step_on.setToolTip(
                "Run the scenario again under the scheduler, replay the recorded steps and "
                "stay paused where the recording ends, ready to step and undo"
            )
            step_on.triggered.connect(lambda: self.step_on(scenario, replay.recorded.settings))
        return bar

    def step_on(self, scenario: dict[str, Any], settings: dict[str, Any]) -> bool:
        """Leave the replay for a live, paused run at the recording's last step."""
        try:
            schedule = Schedule.parse(str(scenario["schedule"]))
            controller = self.window.scenarios
            controller.select(str(scenario["name"]), fixed=bool(scenario.get("fixed")))
        except (ScheduleError, ValueError, KeyError) as exc:
            self._warn("Cannot step on", f"This recording's steps cannot be replayed: {exc}")
            return False
        seed = settings.get("seed")
        if type(seed) is int:
            controller.panel.seed.setValue(seed)
        self.close_replay()
        controller.stepping.replay(schedule)
        return True

    def close_replay(self) -> None:
        if self.replay_bar is not None:
            self.replay_bar.close_replay()
        self._replay_closed()

    @Slot()
    def _replay_closed(self) -> None:
        if self.toolbar is not None:
            self.window.removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
        self.replay_bar = self.toolbar = None

    # --- save ------------------------------------------------------------------------
    @Slot()
    def ask_save(self) -> None:
        try:
            source = self._source()
        except LookupError as exc:
            QMessageBox.information(self.window, "Save Recording", str(exc))
            return
        name = f"{source.file_stem}.jsonl.gz"
        path = self._ask_save_path("Save Recording", name, LOG_FILTER)
        if path:
            self.save_recording(path)

    def save_recording(self, path: str) -> BackgroundTask | None:
        """Write the replay's or the run's events to ``path`` (``.gz``: compressed)."""
        if self._busy():
            return None
        try:
            source = self._source()
        except LookupError as exc:
            self._warn("Save Recording", str(exc))
            return None
        cut_short = self.replay is None and self.recording.cut_short
        total = sum(len(batch.events) for batch in source.batches())

        def work(report: Report) -> int:
            done = 0
            try:
                with LogWriter(
                    path,
                    settings=source.settings,
                    strategy=source.strategy,
                    thread_name=ThreadNames(source.names),
                    scenario=source.scenario,
                    until_ns=source.until_ns,
                ) as writer:
                    for batch in source.batches():
                        writer.write_batch(batch)
                        done += len(batch.events)
                        if not report(f"Encoding {total:,} events\u2026", done / max(total, 1)):
                            raise LogCancelled("saving was cancelled")
                return done
            except BaseException:
                _remove(path)  # never leave a half-written log that looks like a log
                raise

        def saved(count: int) -> None:
            note = f" (the first {count:,} events: the run went on longer)" if cut_short else ""
            self._status(f"Saved {count:,} events to {os.path.basename(path)}{note}")

        return self._start("Saving recording", work, saved, f"Cannot save {path}")

    # --- exports ---------------------------------------------------------------------
    @Slot()
    def ask_chrome_trace(self) -> None:
        try:
            stem = self._source().file_stem
        except LookupError as exc:
            QMessageBox.information(self.window, "Export Chrome Trace", str(exc))
            return
        path = self._ask_save_path("Export Chrome Trace", f"{stem}.json", TRACE_FILTER)
        if path:
            self.export_chrome_trace(path)

    def export_chrome_trace(self, path: str) -> BackgroundTask | None:
        """Every event (the replay's log, or the run's) as a Perfetto trace (``.gz``: gzip).

        The process is named after the run, the checker's violations sit on the
        threads involved, and a run still going ends its open slices now.
        """
        if self._busy():
            return None
        try:
            source = self._source()
        except LookupError as exc:
            self._warn("Export Chrome Trace", str(exc))
            return None

        def work(report: Report) -> int:
            report("Building the trace\u2026", 0.0)
            events = chain.from_iterable(batch.events for batch in source.batches())
            try:
                return export_chrome_trace(
                    events,
                    ThreadNames(source.names),
                    path,
                    title=source.title,
                    violations=source.violations,
                    end_ns=source.until_ns,
                )
            except BaseException:
                _remove(path)
                raise

        def exported(count: int) -> None:
            self._status(f"Wrote {count:,} trace events to {os.path.basename(path)}")

        return self._start("Exporting Chrome trace", work, exported, f"Cannot write {path}")

    @Slot()
    def ask_anomalies_csv(self) -> None:
        path = self._ask_save_path("Export Anomalies", "anomalies.csv", "CSV (*.csv)")
        if path:
            self.export_anomalies_csv(path)

    def export_anomalies_csv(self, path: str) -> bool:
        """The anomalies the views show now (at the scrubber's position in a replay)."""
        model = self.window.model
        if model is None:
            self._warn("Export Anomalies", "There is no run to export: start one or open one.")
            return False
        try:
            count = export_anomalies_csv(model.anomalies, path)
        except OSError as exc:
            self._warn("Export Anomalies", f"Cannot write {path}:\n{exc.strerror or exc}")
            return False
        self._status(f"Wrote {count:,} anomalies to {os.path.basename(path)}")
        return True

    def _throughput(self) -> ThroughputView:
        return next(view for view in self.window.views if isinstance(view, ThroughputView))

    @Slot()
    def ask_plots_png(self) -> None:
        path = self._ask_save_path("Export Plots", "throughput.png", "PNG image (*.png)")
        if path:
            self.export_plots(path)

    @Slot()
    def ask_plots_svg(self) -> None:
        path = self._ask_save_path("Export Plots", "throughput.svg", "SVG drawing (*.svg)")
        if path:
            self.export_plots(path)

    def export_plots(self, path: str) -> bool:
        """The throughput plots, as shown: PNG through pyqtgraph's exporter, or SVG."""
        view = self._throughput().layout_widget
        try:
            if path.lower().endswith(".svg"):
                written = export_svg(view, path)
            else:
                written = ImageExporter(view.scene()).export(path) is not False
        except OSError as exc:
            self._warn("Export Plots", f"Cannot write {path}:\n{exc.strerror or exc}")
            return False
        if not written:
            self._warn("Export Plots", f"Cannot write {path}.")
            return False
        self._status(f"Wrote the plots to {os.path.basename(path)}")
        return True

    @Slot()
    def ask_plot_data(self) -> None:
        path = self._ask_save_path("Export Plot Data", "throughput.csv", "CSV (*.csv)")
        if path:
            self.export_plot_data(path)

    def export_plot_data(self, path: str) -> list[str]:
        """One CSV per plot, named after ``path`` (``throughput-rates.csv``, ...).

        The plots share their time axis, so each file has one time column and a
        column per curve, headed with the curve's name and unit as the plot's key
        shows them (pyqtgraph's CSV exporter would head them ``x0000,y0000``).
        """
        stem, ext = os.path.splitext(path)
        written: list[str] = []
        view = self._throughput()
        for key in view.plots:
            target = f"{stem}-{key}{ext or '.csv'}"
            header, columns = view.plot_table(key)
            try:
                with open(target, "w", encoding="utf-8", newline="") as file:
                    writer = csv.writer(file)
                    writer.writerow(header)
                    writer.writerows(zip(*(column.tolist() for column in columns), strict=True))
            except OSError as exc:
                self._warn("Export Plot Data", f"Cannot write {target}:\n{exc.strerror or exc}")
                return written
            written.append(target)
        self._status("Wrote " + ", ".join(os.path.basename(name) for name in written))
        return written

    # --- closing ---------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """The window closes: stop file work and playback first (no thread outlives it)."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.stop()
        if self.replay_bar is not None:
            self.replay_bar.set_playing(False)


def export_svg(view: QGraphicsView, path: str) -> bool:
    """Draw what ``view`` shows into an SVG file with Qt's own generator.

    Why not pyqtgraph's ``SVGExporter``: in pyqtgraph 0.14 with Qt 6 it fails on
    every plot, because Qt now closes paths with a ``Z`` its coordinate rewriting
    cannot parse (pyqtgraph issue #3485).  ``QSvgGenerator`` is what that
    exporter draws with underneath; the result keeps vector lines and text.

    The drawing is the view's visible area at the view's size, as the PNG export
    takes it: the scene's own rectangle only ever grows (it holds every place an
    item has been), so after a few seconds it was many times the plot's height.
    """
    rect = view.mapToScene(view.viewport().rect()).boundingRect()
    size = view.viewport().size()
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(size)
    generator.setResolution(CSS_DPI)  # so the width in mm is the view's width in CSS pixels
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle("queue-visualizer plots")
    painter = QPainter()
    if not painter.begin(generator):
        return False
    try:
        view.scene().render(painter, QRectF(0, 0, size.width(), size.height()), rect)
    finally:
        painter.end()
    return os.path.exists(path)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)

"""The main window: composes a run, its model and the views, and owns the run controls.

Data flow (all on the GUI thread, see ARCHITECTURE.md "The event path"):

* :class:`~visualizer.ui.bridge.RecorderBridge` drains the run's recorder every
  16 ms and emits one ``batch_ready`` per drain; :meth:`MainWindow._fold` folds
  that batch into the :class:`~visualizer.model.RunModel`.
* A separate frame timer repaints: it calls every visible view's ``refresh()``
  only when ``model.version`` changed, so painting costs at most 60 frames a
  second however many events arrive, and nothing when the run is idle.
* A slower status timer updates the numbers that change without events (events/s)
  and notices when the run has ended on its own.

Every run goes in a run process of its own (:mod:`visualizer.engine.host`): its
threads no longer share this process's GIL with the fold and the painting, and a
run that hangs or crashes takes only its own process down.  ``self.run`` is the
:class:`~visualizer.engine.host.RemoteRun` mirroring it; the window reads the
mirror and never waits on the other process (Stop asks, and the run process is
killed if it has not stopped within :data:`STOP_TIMEOUT_S`).

Layout: the control panel is a dock on the left of this window; the views are
docks inside an inner ``QMainWindow`` that sits under the violation banner, so
the banner spans exactly the views and the views can be rearranged among
themselves without pushing the controls around.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from time import perf_counter, perf_counter_ns

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QFont, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from visualizer.engine import RunState, Workload
from visualizer.engine.host import STOP_TIMEOUT_S, WINDOW_NICE, Launcher, RemoteRun, RunSpec
from visualizer.engine.userqueue import UserQueueError
from visualizer.events import STATUSES, Batch
from visualizer.model import RunModel
from visualizer.ui import layouts
from visualizer.ui.banner import ViolationBanner
from visualizer.ui.bridge import RecorderBridge
from visualizer.ui.compare_dialog import compare_action
from visualizer.ui.controls import ControlPanel
from visualizer.ui.engine_dialog import engine_action
from visualizer.ui.file_actions import FileActions
from visualizer.ui.find_dialog import find_action
from visualizer.ui.help import HelpMenu
from visualizer.ui.presentation import Presentation
from visualizer.ui.queue_files import QueueFiles
from visualizer.ui.run_problems import problems, show_details
from visualizer.ui.scenario_menu import ScenarioController
from visualizer.ui.settings import WindowSettings, save_engine_python
from visualizer.ui.step_export import ask_export
from visualizer.ui.theme import ALERT_COLOR, SMALL_POINT_SIZE, STATUS_COLORS
from visualizer.ui.views import ALL_VIEWS

SPARE_DELAY_MS = 1000
"""After a Start, the next run's process is started this much later: not while this one
starts (a new interpreter's imports would compete with it for the CPU)."""

FRAME_MS = 16
"""Frame timer period: repaint at most ~60 times a second."""

PAINT_BUDGET_S = 0.008
"""A frame paints views until it has spent this long; the others are painted next frame.

Measured on this 2-core machine (other jobs using 70 % of it), global-lock flat out,
against refreshing every view in one frame and letting Qt paint them together:
4+4 folded 112k events/s (75k), p50 6 ms (25); 32+32 folded 66k events/s (21k),
p50 8 ms (50), p99 265 ms (760)."""

FRAME_SHARE = 3.0
"""A frame that took t seconds is followed by none for FRAME_SHARE * t: painting uses
at most about 1/FRAME_SHARE of the GUI thread, whatever the views cost."""

STATUS_MS = 250
"""Status timer period: events/s, end-of-run detection."""

CONTROLS_WIDTH = 380
"""Default width of the control panel dock (px): the rest goes to the views."""

ACTIVE = (RunState.RUNNING, RunState.PAUSED)
OVER = (RunState.FINISHED, RunState.STOPPED)

WIDE_STATUS_BAR = 1200
"""Window width (px) from which the status bar names each status beside its count."""

SHORTCUTS = (
    ("start", "&Start", "F5", "Start a new run with the settings in the control panel"),
    ("pause", "&Pause", "Space", "Pause the run at the next traced point, or resume it"),
    ("step", "S&tep", "F10", "Let one thread pass one traced point (starts a paused run if none)"),
    ("stop", "St&op", "Shift+F5", "Stop the run: every thread ends within 2 s, deadlocked or not"),
    ("reset", "&Reset", "Ctrl+R", "Stop any run and clear every view"),
)


class MainWindow(QMainWindow):
    """The whole application window; owns at most one run at a time."""

    def __init__(self, workload: Workload | None = None, engine_python: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Queue Visualizer")
        # Projected in lecture halls: the controls, menus and status bar never go below
        # the theme's small size either (the views keep their own, larger floor).
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), SMALL_POINT_SIZE))
        self.setFont(font)
        self.run: RemoteRun | None = None
        self.model: RunModel | None = None
        self._model_label = ""  # names a model no run feeds (a replay) in the status bar
        self._shown_version = -1
        self._shown_state: RunState | None = None
        self._next_frame = 0.0  # perf_counter time before which no frame is painted
        self._painted: dict[str, int] = {}  # view title -> model version it shows
        self._paint_cost: dict[str, float] = {}  # view title -> seconds its last paint took
        self._next_view = 0  # where the next frame's turn starts
        self._sized_once = False  # the docks get their shares at the first show

        # Starts each run in a run process under the chosen interpreter (Run > Engine).
        self.launcher = Launcher(engine_python, nice=WINDOW_NICE)
        # What Start builds its run with; scenario mode swaps in its own (scenario_menu.py).
        self.run_factory: Callable[[Workload], RemoteRun] = self.free_run
        self._reported: object = None  # the exit report last announced in the status bar
        self.starting_paused = False
        self.bridge = RecorderBridge(self)
        self.bridge.batch_ready.connect(self._fold)

        self.actions_by_name = self._build_actions()
        self.controls = ControlPanel(list(self.actions_by_name.values()))
        if workload is not None:
            self.controls.set_workload(workload)
        self.controls.workload_changed.connect(self._update_actions)
        self.controls.pace_changed.connect(self._pace_changed)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controlsDock")
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)

        self.banner = ViolationBanner()
        self.banner.show_button.clicked.connect(self._show_first_violation)
        self.view_area = QMainWindow()
        self.view_area.setWindowFlags(Qt.WindowType.Widget)
        self.view_area.setDockNestingEnabled(True)
        # The views are all docks; an empty, hidden central widget lets them share
        # the whole area (QMainWindow expects some central widget).
        placeholder = QWidget()
        placeholder.hide()
        self.view_area.setCentralWidget(placeholder)
        self.views = [cls() for cls in ALL_VIEWS]
        self.docks: dict[str, QDockWidget] = {}
        for view in self.views:
            dock = QDockWidget(view.title, self.view_area)
            dock.setObjectName(f"{type(view).__name__}Dock")
            dock.setWidget(view)
            dock.visibilityChanged.connect(self._dock_shown)
            self.docks[view.title] = dock
        for source in self.views:
            for target in self.views:
                source.task_selected.connect(target.select_task)
        self.arrange_docks()

        self.presentation = Presentation(self)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 4, 4, 0)
        column.setSpacing(4)
        column.addWidget(self.banner)
        column.addWidget(self.presentation.lesson)
        column.addWidget(self.view_area, 1)
        self.setCentralWidget(central)

        self.file_actions = FileActions(self)
        self.queue_files = QueueFiles(self)
        # Saves and restores the layout once app.main gives it a settings store; until
        # then (tests, embedding) the window reads and writes no settings at all.
        self.window_settings = WindowSettings(self)
        self._build_menus()
        self._build_status_bar()
        self.scenarios = ScenarioController(self)
        self.arrange_docks()  # now with the code dock the scenario controller made

        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self._frame)
        self.frame_timer.start()
        self.spare_timer = QTimer(self)  # starts the next run's process once this one runs
        self.spare_timer.setSingleShot(True)
        self.spare_timer.setInterval(SPARE_DELAY_MS)
        self.spare_timer.timeout.connect(self.launcher.prepare)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_MS)
        self.status_timer.timeout.connect(self._poll)
        self.status_timer.start()

        self.resize(1280, 800)
        # Without this the dock area splits by size hints, and a word-wrapped summary
        # "prefers" half the screen.
        self.resizeDocks([self.controls_dock], [self.controls_width()], Qt.Orientation.Horizontal)
        self._update_actions()
        self._update_status()
        self.window_settings.capture_default()  # what View > Reset Layout goes back to

    # --- building ---------------------------------------------------------------
    def _build_actions(self) -> dict[str, QAction]:
        handlers = {
            "start": self.start_run,
            "pause": self.toggle_pause,
            "step": self.step_run,
            "stop": self.stop_run,
            "reset": self.reset_run,
        }
        actions: dict[str, QAction] = {}
        for name, text, keys, tip in SHORTCUTS:
            action = QAction(text, self)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{tip} ({keys})")
            action.setStatusTip(tip)
            # triggered(bool) would pass "checked" into the handler's first parameter.
            action.triggered.connect(lambda _checked=False, handler=handlers[name]: handler())
            self.addAction(action)  # shortcuts work even with the menu bar hidden
            actions[name] = action
        return actions

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.queue_files.open_action)
        self.file_actions.populate(file_menu)
        run_menu = menus.addMenu("&Run")
        view_menu = menus.addMenu("&View")
        help_menu = menus.addMenu("&Help")
        for menu in (file_menu, run_menu, view_menu, help_menu):
            menu.setFont(self.font())  # popups are windows: the font does not reach them

        for action in self.actions_by_name.values():
            run_menu.addAction(action)
        run_menu.addSeparator()
        run_menu.addAction(compare_action(self))
        run_menu.addAction(find_action(self))
        run_menu.addAction(engine_action(self))

        view_menu.addAction(self.controls_dock.toggleViewAction())
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        for action in self.presentation.actions():
            view_menu.addAction(action)
            if action is self.presentation.toggle_action:
                view_menu.addSeparator()
        view_menu.addSeparator()
        reset = view_menu.addAction("&Reset Layout")
        reset.setObjectName("resetLayout")
        reset.setStatusTip("Every view and panel back where a first launch puts it, visible")
        reset.triggered.connect(self.window_settings.reset_layout)

        export = QAction("Export Step &Sequence\u2026", self)
        export.setObjectName("exportSteps")
        export.setStatusTip(
            "A picture of the window at every step of the stepped run, for slides (PDF or PNG)"
        )
        export.triggered.connect(lambda: ask_export(self))
        file_menu.insertAction(self.file_actions.actions["png"], export)
        self.help_menu = HelpMenu(self, help_menu)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.state_label = QLabel()
        self.state_label.setToolTip("Run state")
        self.state_label.setMinimumWidth(90)
        self.state_label.setStyleSheet("font-weight: bold;")  # the zoom changes its size
        self.counts_label = QLabel()
        self.counts_label.setTextFormat(Qt.TextFormat.RichText)
        self.counts_label.setToolTip(
            "Tasks by status; added = queued + processing + completed + cancelled"
        )
        self.rate_label = QLabel()
        self.rate_label.setToolTip("Events folded into the views per second")
        self.dropped_label = QLabel()
        self.dropped_label.setToolTip(
            "Events the recorder discarded because the window could not keep up. "
            "The views miss them, so counts may not reconcile, and the checker could "
            "not verify the run: lost tasks, illegal transitions, deadlocks and orphaned "
            "locks went unchecked."
        )
        self.dropped_label.setStyleSheet(
            "background: #c62828; color: white; font-weight: bold; padding: 0 6px;"
        )
        self.errors_label = QLabel()
        self.errors_label.setTextFormat(Qt.TextFormat.RichText)
        self.errors_label.setStyleSheet(f"color: {ALERT_COLOR.name()}; font-weight: bold;")
        self.errors_label.linkActivated.connect(lambda _link: show_details(self, self.run))
        self.parked_label = QLabel()
        self.parked_label.setStyleSheet("padding: 0 8px;")
        self.parked_label.setToolTip(
            "While paused: the thread the next Step (F10) moves, and the traced point it waits at"
        )
        # Every widget here is permanent (a temporary message must not hide the counts),
        # which leaves QStatusBar no room to paint its messages: this label shows them.
        self.notice_label = QLabel()
        self.notice_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notice_label.setStyleSheet("font-style: italic; padding: 0 8px;")
        bar.messageChanged.connect(self._show_notice)
        for widget, stretch in (
            (self.state_label, 0),
            (self.parked_label, 0),
            (self.counts_label, 0),
            (self.notice_label, 1),
            (self.rate_label, 0),
            (self.dropped_label, 0),
            (self.errors_label, 0),
        ):
            bar.addPermanentWidget(widget, stretch)

    def controls_width(self) -> int:
        """The control and scenario panels' width: :data:`CONTROLS_WIDTH`, less on a small
        screen, where the views need the room more."""
        screen = layouts.available(self).width()
        return min(CONTROLS_WIDTH, max(260, round(screen * 0.27)))

    def menus(self) -> list[QMenu]:
        """Every menu of the menu bar (popups do not inherit the window's font)."""
        menus = (action.menu() for action in self.menuBar().actions())
        return [menu for menu in menus if isinstance(menu, QMenu)]

    def view_docks(self) -> dict[str, QDockWidget]:
        """Every dock of the view area by title: the views, and the code once it exists."""
        docks = dict(self.docks)
        scenarios = getattr(self, "scenarios", None)
        if scenarios is not None:
            docks[scenarios.code_dock.windowTitle()] = scenarios.code_dock
        return docks

    def arrangement(self) -> layouts.Arrangement:
        """The arrangement for now: a scenario's or a free workload's, at the desk or presenting."""
        scenarios = getattr(self, "scenarios", None)
        presenting = getattr(self, "presentation", None)
        return layouts.arrangement(
            scenario=scenarios is not None and scenarios.scenario is not None,
            presentation=presenting is not None and presenting.active,
            short=layouts.available(self).height() < layouts.SHORT_SCREEN,
        )

    @Slot()
    def arrange_docks(self) -> None:
        """The arrangement for the mode the window is in (see :mod:`visualizer.ui.layouts`):
        everything that carries the lesson visible at once, biggest views biggest."""
        layouts.arrange(self.view_area, self.view_docks(), self.arrangement())

    def size_docks(self) -> None:
        """The default sizes of the views (a dock state saved before the first show lacks them)."""
        layouts.size_docks(self.view_area, self.view_docks(), self.arrangement())

    # --- run control --------------------------------------------------------------
    def free_run(self, workload: Workload) -> RemoteRun:
        """A run of ``workload`` with the control panel's strategy, in a run process."""
        return self.launcher.launch(RunSpec(workload))

    def set_engine_python(self, path: str, description: str = "") -> None:
        """Runs from the next Start on use ``path``; kept for the next launches."""
        self.launcher.python = path
        own = os.path.realpath(path) == os.path.realpath(sys.executable)
        save_engine_python(self.window_settings.settings, None if own else path)
        what = description or "Python"
        self.statusBar().showMessage(f"Runs from now on use {what} ({path}).", 10_000)

    def start_run(self, paused: bool = False) -> bool:
        """Start a new run from the control panel's workload; False if it was refused."""
        workload = self.controls.workload()
        if workload is None or (self.run is not None and self.run.state in ACTIVE):
            return False
        if self.run is not None:
            self._discard_run()
        self.starting_paused = paused  # a factory may make a paused start a controlled run
        try:
            run = self.run_factory(workload)
        except ValueError as exc:  # the panel validated already; a strategy or interpreter may not
            if isinstance(exc, UserQueueError):  # the user's file changed or broke since
                QMessageBox.warning(self, "Cannot start this queue", str(exc))
            self.statusBar().showMessage(f"Cannot start: {exc}", 10_000)
            return False
        model = RunModel(thread_name=run.recorder.thread_name)
        self.run, self.model = run, model
        self._shown_version = -1
        for view in self.views:
            view.set_model(model)
        self.banner.hide()
        self.bridge.attach(run.recorder)
        pace = self.controls.pace()
        if pace is not None:
            run.set_pace(pace)
        run.start(paused=paused)
        self.spare_timer.start()
        if paused:
            self.statusBar().showMessage(
                "Paused before the first operation: Step (F10) lets one through, Space resumes.",
                10_000,
            )
        self._update_actions()
        self._update_status()
        return True

    @Slot()
    def toggle_pause(self) -> None:
        run = self.run
        if run is None:
            return
        if run.state is RunState.RUNNING:
            run.pause()
        elif run.state is RunState.PAUSED:
            run.resume()
        self._update_actions()
        self._update_status()

    @Slot()
    def step_run(self) -> None:
        """Let one traced point pass; with no active run, start one paused instead."""
        run = self.run
        if run is not None and run.state is RunState.PAUSED:
            run.step()
        elif run is None or run.state not in ACTIVE:
            self.start_run(paused=True)

    def stop_run(self) -> bool:
        """Ask the run to stop; its process is killed if it has not within :data:`STOP_TIMEOUT_S`.

        True: every run thread has ended or will within that time (it stops, or
        its process is killed).  Returns at once: the window goes on painting and
        answering while the run process stops its threads, and says how it ended
        once it has (see :meth:`_state_changed`).  The bridge keeps draining what the run recorded
        before it stopped; :meth:`_conclude_when_drained` finishes the model once
        it is all in.
        """
        run = self.run
        if run is None or run.state in OVER:
            return True
        run.request_stop(STOP_TIMEOUT_S)
        self.statusBar().showMessage("Stopping\u2026", 5_000)
        self._update_actions()
        self._update_status()
        return True

    @Slot()
    def reset_run(self) -> None:
        """Stop any run and forget it: every view goes back to empty."""
        self.stop_run()
        self._discard_run()
        for view in self.views:
            view.set_model(None)
        self._update_actions()
        self._update_status()

    def _discard_run(self) -> None:
        self.bridge.attach(None)
        if self.run is not None:
            self.run.close(wait=False)  # its listener thread reaps the process
        self._model_label = ""
        self.run = None
        self.model = None
        self._shown_version = -1
        self.banner.hide()

    def show_model(self, model: RunModel | None, label: str = "") -> None:
        """Show a model that no run feeds (a replayed log); ``label`` replaces "Ready".

        Any run is stopped and forgotten first.  A replay's scrubber calls this
        again with each model it restores, so the views always show the one it shows.
        """
        if self.run is not None:
            self.reset_run()
        self.model = model
        self._model_label = label if model is not None else ""
        self._shown_version = -1
        for view in self.views:
            view.set_model(model)
        self._update_status()

    @Slot(object)
    def _pace_changed(self, pace: float | None) -> None:
        if self.run is not None and self.run.state in ACTIVE:
            self.run.set_pace(pace)

    def shutdown(self) -> None:
        """End the run, its process and every timer (closing the window, quitting the app).

        Waits (at most about :data:`STOP_TIMEOUT_S`) until the run process is
        gone: none may outlive the window.
        """
        self.frame_timer.stop()
        self.status_timer.stop()
        self.spare_timer.stop()
        self.bridge.attach(None)  # nobody will look at the events still on their way
        run = self.run
        if run is not None:
            run.close(wait=True)
        self.launcher.close()

    # --- the event path -------------------------------------------------------------
    @Slot(object)
    def _fold(self, batch: Batch) -> None:
        if self.model is not None:
            self.model.apply(batch)

    @Slot()
    def _frame(self) -> None:
        """Repaint the views the model changed under, a few at a time.

        Each view is painted here and now (``repaint``), not when Qt gets round to
        it, so the time a frame takes is the time it held the GUI thread.  A frame
        paints views, in turn, until it has spent :data:`PAINT_BUDGET_S`; the rest
        wait for the next frame, and so does a view whose last paint would overrun it
        (a frame is never the budget plus the dearest view).  With 64 threads a full
        repaint of every view holds the thread for 20 ms and more; in turns, a click
        waits at most for one view.  Frames that cost more than a third of the time between them are
        spaced out, so painting never takes more than about a third of the GUI
        thread and clicks still get through.
        """
        if self.run is not None and self.run.state is not self._shown_state:
            self._state_changed(self._shown_state, self.run.state)
        self._conclude_when_drained()
        model = self.model
        started = perf_counter()
        if model is None or model.version == self._shown_version or started < self._next_frame:
            return
        if self._shown_version == -1:
            self._painted.clear()  # a new model, or a view shown again: every view is stale
        views = self.views
        count = len(views)
        done = True
        live = self.run is not None and self.run.state in ACTIVE
        budget = PAINT_BUDGET_S if live else float("inf")  # a still model paints at once
        painted = False
        for offset in range(count):
            view = views[(self._next_view + offset) % count]
            if self._painted.get(view.title) == model.version:
                continue
            if not self.docks[view.title].isVisible():
                continue
            # A view whose last paint would overrun the budget waits for a frame of its own.
            spent = perf_counter() - started
            if painted and spent + self._paint_cost.get(view.title, 0.0) > budget:
                self._next_view = (self._next_view + offset) % count
                done = False
                break
            view.refresh()
            view.repaint()
            self._paint_cost[view.title] = perf_counter() - started - spent
            self._painted[view.title] = model.version
            painted = True
        if done:
            self._shown_version = model.version
        self._update_banner()
        self._update_counts()
        self._update_parked()  # a step just moved someone: name who moves next
        cost = perf_counter() - started
        self._next_frame = started + FRAME_SHARE * cost

    def repaint_views(self) -> None:
        """Every visible view (and the code) painted from the model now, not at the next
        frame: what a picture of the window must show (Export Step Sequence)."""
        model = self.model
        if model is not None:
            for view in self.views:
                if self.docks[view.title].isVisible():
                    view.refresh()
                    self._painted[view.title] = model.version
            self._update_banner()
            self._update_counts()
        self.scenarios.refresh_now()
        self.repaint()

    @Slot(bool)
    def _dock_shown(self, visible: bool) -> None:
        """A dock hidden during the run missed frames: repaint it when it reappears."""
        if visible and self.model is not None:
            self._shown_version = -1

    def _state_changed(self, before: RunState | None, now: RunState) -> None:
        """The run changed state by itself or as asked (finished, stopped, crashed): say so."""
        run = self.run
        stopped = now is RunState.STOPPED and before is RunState.STOPPING
        if run is not None and stopped and run.exit_report is None:
            self.statusBar().showMessage("Stopped: every run thread has ended.", 5_000)
        self._update_status()

    @Slot()
    def _poll(self) -> None:
        self.presentation.update_lesson()
        self._keep_on_screen()
        self._conclude_when_drained()
        run, model = self.run, self.model
        if run is not None and model is not None and run.state is RunState.RUNNING:
            model.advance_clock(perf_counter_ns())
        if run is not None and not run.responding:
            self.statusBar().showMessage(
                "The run process is not responding (a thread may be holding its interpreter "
                f"lock). Stop kills it if it has not stopped within {STOP_TIMEOUT_S:g} s.",
                STATUS_MS * 3,
            )
        self._update_status()

    def _conclude_when_drained(self) -> None:
        """Once a run is over and every event it recorded is folded, finish the model.

        ``finish`` runs the end-of-run checks (lost tasks, count reconciliation), so it
        must see the whole stream: it waits until every run thread has ended and the
        recorder is empty.  After a Stop, tasks still queued are not lost.
        """
        run, model = self.run, self.model
        if run is None or model is None or model.finished:
            return
        if run.state not in OVER or run.recorder.pending():
            return
        if any(t.alive for t in run.threads()):
            return
        self.bridge.stop()
        model.finish(drained=run.state is RunState.FINISHED)

    # --- showing state ----------------------------------------------------------------
    def _update_banner(self) -> None:
        anomalies = self.model.anomalies if self.model is not None else []
        if not anomalies:
            self.banner.hide()
            return
        first = anomalies[0]
        self.banner.show_violations(len(anomalies), first.kind, first.detail)

    @Slot()
    def _show_first_violation(self) -> None:
        if self.model is None or not self.model.anomalies:
            return
        task = self.model.anomalies[0].task
        if task is not None:
            for view in self.views:
                view.select_task(task)
        anomalies_dock = self.docks[ALL_VIEWS[-1].title]
        anomalies_dock.show()
        anomalies_dock.raise_()

    def _update_actions(self, *_args: object) -> None:
        state = self.run.state if self.run is not None else None
        active = state in ACTIVE
        valid = self.controls.workload() is not None
        idle = not active and state is not RunState.STOPPING
        actions = self.actions_by_name
        actions["start"].setEnabled(idle and valid)
        actions["pause"].setEnabled(active)
        actions["pause"].setText("&Resume" if state is RunState.PAUSED else "&Pause")
        actions["step"].setEnabled(state is RunState.PAUSED or (idle and valid))
        actions["stop"].setEnabled(active)
        actions["reset"].setEnabled(self.run is not None)
        self.controls.set_settings_enabled(not active)

    def _update_counts(self) -> None:
        """Tasks by status; on a narrow window the colour squares alone name the statuses
        (as in the lanes), so the numbers are never pushed out of the status bar."""
        counts = self.model.tasks.counts() if self.model is not None else {}
        narrow = self.width() < WIDE_STATUS_BAR
        parts = [f"added <b>{counts.get('added', 0)}</b>"]
        for status in STATUSES:
            color = STATUS_COLORS[status].name()
            name = "" if narrow else f" {status}"
            parts.append(
                f"<span style='color:{color}'>\u25a0</span>{name} <b>{counts.get(status, 0)}</b>"
            )
        self.counts_label.setText("&nbsp;&nbsp;".join(parts))

    def _update_status(self) -> None:
        run = self.run
        self._shown_state = run.state if run is not None else None
        if run is None:
            self.state_label.setText(self._model_label or "Ready")
            self.state_label.setToolTip("Run state")
        else:
            state = (run.outcome or run.state.value).capitalize()
            if not run.responding:
                state = "Not responding"
            self.state_label.setText(f"{state} \u00b7 {run.label}")
            python = (run.python or "").split(" ", 1)[0]
            self.state_label.setToolTip(
                f"Run state. The run goes in process {run.process.pid}"
                + (f" (Python {python})." if python else ".")
            )
        self._update_parked()
        self._update_counts()
        self.rate_label.setText(f"{self.bridge.events_per_second():,.0f} events/s")
        dropped = self.model.dropped if self.model is not None else 0
        # A run with drops is neither clean nor broken: the checker could not see it all.
        self.dropped_label.setText(f"\u26a0 unverified: {dropped:,} events dropped")
        self.dropped_label.setVisible(dropped > 0)
        self._update_errors(run)
        self._update_actions()

    def _update_errors(self, run: RemoteRun | None) -> None:
        """Thread errors, and a run process that crashed or was killed, in the red label."""
        text, tip = problems(run)
        report = run.exit_report if run is not None else None
        if report is not None and report is not self._reported:
            self._reported = report
            self.statusBar().showMessage(
                f"{report.summary} The views keep everything it recorded until then.", 30_000
            )
        if text != self.errors_label.text():
            self.errors_label.setText(text)
        self.errors_label.setToolTip(tip)
        self.errors_label.setVisible(bool(text))

    def _update_parked(self) -> None:
        """While paused, name the thread the next Step moves and where it waits."""
        run = self.run
        parked = run.gate.parked() if run is not None and run.state is RunState.PAUSED else {}
        if run is None or not parked:
            self.parked_label.hide()
            return
        ident, (label, (path, line)) = next(iter(parked.items()))  # oldest: Step moves it
        name = run.recorder.thread_name(ident)
        self.parked_label.setText(f"next step: {name} \u2192 {label}")
        self.parked_label.setToolTip(
            f"{len(parked)} thread(s) parked. Step (F10) moves {name} past "
            f"'{label}' at {os.path.basename(path)}:{line}."
        )
        self.parked_label.show()

    @Slot(str)
    def _show_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice_label.setToolTip(text)

    @Slot(str, str)
    def show_error(self, summary: str, _details: str) -> None:
        """Unexpected error from anywhere in the app: say so in the status bar."""
        self.statusBar().showMessage(f"Unexpected error: {summary}", 30_000)

    # --- Qt events ----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """First shown, the view area has its real size: give the docks their shares of it
        (what Reset Layout comes back to)."""
        super().showEvent(event)
        if not self._sized_once:
            self._sized_once = True
            self.size_docks()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Grown past its screen (views gained rows, the zoom went up): back onto it, once
        the layout has settled."""
        super().resizeEvent(event)
        QTimer.singleShot(0, self._keep_on_screen)

    def _keep_on_screen(self) -> None:
        """Back within the screen, if the window outgrew it (the banner, more threads) and
        what made it grow has gone (the status timer looks again four times a second)."""
        screen = layouts.available(self)
        if self.isVisible() and (self.width() > screen.width() or self.height() > screen.height()):
            layouts.fit_to_screen(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window ends the run (no thread outlives it) and saves the layout."""
        self.window_settings.save()
        self.shutdown()
        event.accept()

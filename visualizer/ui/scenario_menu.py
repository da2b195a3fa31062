"""Scenario mode: the Scenarios menu, and the docks and hooks that run a scenario in the window.

:class:`ScenarioController` adds to a :class:`~visualizer.ui.main_window.MainWindow`:

* a **Scenarios** menu listing every scenario file (a broken file is listed,
  disabled, with its error as the tooltip, so whoever edited it sees why);
* the scenario panel (story, fix switch, seed, results), in a dock tabbed with
  the control panel;
* the code panel and per-thread step buttons, in a dock tabbed with the heap view.

It plugs into the window through one hook, ``window.run_factory``: Start asks it
for the run, and while a scenario is chosen it makes that scenario's run (buggy
or fixed, with the panel's seed) instead of a run of the control panel's
workload.  Everything else (pause, step, slow motion, stop, the views, the
banner) is the window's own, unchanged.

A frame timer of its own keeps the code panel, the step buttons and the result
lines current; it reads the window's run and model on the GUI thread, like the
views, and asks the run's gate (thread-safe) which threads are parked.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGroupBox,
    QMenu,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from visualizer.engine import RunState, Workload
from visualizer.engine.host import RemoteRun, RunSpec
from visualizer.engine.scenarios import Scenario, ScenarioError, load_all, load_scenario
from visualizer.model import FIGURES, RunModel
from visualizer.ui.code_panel import CodePanel
from visualizer.ui.inspector_view import InspectorView
from visualizer.ui.scenario_panel import ScenarioPanel
from visualizer.ui.step_panel import StepPanel, ThreadRow
from visualizer.ui.stepping_bar import SteppingBar, scheduler_of
from visualizer.ui.theme import thread_color
from visualizer.ui.views import HeapView

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

TICK_MS = 16
"""How often the code panel and step buttons catch up with the model (at most 60 Hz)."""

CODE_LINES = 4
"""Lines of code the code panel always has room for."""

RESULT_EVERY_TICKS = 30
"""The live result line is recomputed twice a second, not every frame."""


class ScenarioController(QObject):
    """Owns scenario mode in one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.scenarios, self.errors = load_all()
        self.scenario: Scenario | None = None
        self.run: RemoteRun | None = None  # the last run this controller made
        self._model: RunModel | None = None
        self._version = -1
        self._ticks = 0
        self._shown_inside: object = None  # the inspection last shown (heap truth, inspector)
        self._inspector_stale = False  # the inspector has not shown that one yet

        self.panel = ScenarioPanel(
            [window.actions_by_name[n] for n in ("start", "pause", "step", "stop", "reset")]
        )
        self.panel.fix_toggled.connect(self._fix_toggled)
        self.panel.leave_requested.connect(lambda: self.select(None))
        self.panel_dock = QDockWidget("Scenario", window)
        self.panel_dock.setObjectName("scenarioDock")
        self.panel_dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.panel_dock)
        window.tabifyDockWidget(window.controls_dock, self.panel_dock)
        self.panel_dock.hide()

        self.code = CodePanel()
        # The code is the lesson: it keeps room for several lines whatever the docks around it need.
        self.code.view.setMinimumHeight(self.code.view.fontMetrics().lineSpacing() * CODE_LINES)
        self.steps = StepPanel()
        self.steps.step_requested.connect(self._step)
        self.stepping = SteppingBar(window, self)
        steps_box = self.steps_box = QGroupBox("Step one thread")
        steps_column = self.steps_column = QVBoxLayout(steps_box)
        steps_column.addWidget(self.stepping.widget)
        # Many threads (a strategy's run) scroll here rather than push the code away.
        steps_scroll = QScrollArea()
        steps_scroll.setWidget(self.steps)
        steps_scroll.setWidgetResizable(True)
        steps_scroll.setFrameShape(QFrame.Shape.NoFrame)
        steps_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        steps_scroll.setMaximumHeight(self.steps.rows_height(4))
        steps_scroll.setMinimumHeight(self.steps.rows_height(1))

        def fit_steps() -> None:  # at least one thread's button always in sight
            steps_scroll.setMaximumHeight(self.steps.rows_height(4))
            steps_scroll.setMinimumHeight(min(self.steps.rows_height(1), 60))

        self.steps.resized.connect(fit_steps)
        steps_column.addWidget(steps_scroll)
        self.inspector = InspectorView()
        self.inspector.hide()
        code_area = QWidget()
        column = QVBoxLayout(code_area)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.code, 1)
        column.addWidget(self.inspector)
        column.addWidget(steps_box)
        self.code_dock = QDockWidget(CodePanel.title, window.view_area)
        self.code_dock.setObjectName("codeDock")
        self.code_dock.setWidget(code_area)
        self.code_dock.visibilityChanged.connect(window._dock_shown)

        self.menu = self._build_menu()
        window.run_factory = self.make_run
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    # --- the menu ------------------------------------------------------------------------
    def _build_menu(self) -> QMenu:
        bar = self.window.menuBar()
        menu = QMenu("S&cenarios", bar)
        menu.setFont(self.window.font())
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)
        else:
            bar.addMenu(menu)
        self._group = QActionGroup(menu)
        self.free_action = menu.addAction("&Free workload (no scenario)")
        self.free_action.setCheckable(True)
        self.free_action.setChecked(True)
        self.free_action.setToolTip("Start runs the control panel's strategy and workload")
        self.free_action.triggered.connect(lambda: self.select(None))
        self._group.addAction(self.free_action)
        menu.addSeparator()
        # Scenarios go before this mark: first the files that loaded, then the broken ones.
        self._list_end = menu.addSeparator()
        self.actions: dict[str, QAction] = {}
        for scenario in self.scenarios:
            self._add_action(menu, scenario)
        for error in self.errors:
            broken = QAction(f"\u26a0 {str(error).partition(':')[0]} (broken)", menu)
            broken.setEnabled(False)
            broken.setToolTip(str(error))
            broken.setStatusTip(str(error))
            menu.insertAction(self._list_end, broken)
        menu.setToolTipsVisible(True)
        menu.addAction(self.panel_dock.toggleViewAction())
        menu.addAction(self.code_dock.toggleViewAction())
        return menu

    def _add_action(self, menu: QMenu, scenario: Scenario) -> QAction:
        number = len(self.actions) + 1
        action = QAction(f"&{number} {scenario.title}" if number < 10 else scenario.title, menu)
        action.setCheckable(True)
        action.setToolTip(scenario.watch)
        action.setStatusTip(scenario.watch)
        action.triggered.connect(lambda _checked=False, name=scenario.name: self.select(name))
        menu.insertAction(self._list_end, action)
        self._group.addAction(action)
        self.actions[scenario.name] = action
        return action

    # --- choosing a scenario ---------------------------------------------------------------
    def scenario_named(self, name: str) -> Scenario:
        """A listed scenario, or one loaded now (a file given by path joins the menu)."""
        for scenario in self.scenarios:
            if name in (scenario.name, str(scenario.path)):
                return scenario
        scenario = load_scenario(name)  # raises ScenarioError with the file's message
        self.scenarios.append(scenario)
        self._add_action(self.menu, scenario)
        return scenario

    def select(self, name: str | None, fixed: bool = False) -> None:
        """Enter scenario ``name`` (None: back to free workloads); any current run is reset."""
        window = self.window
        window.reset_run()
        if name is None:
            self.scenario = None
            self.stepping.set_scenario(None)
            self.free_action.setChecked(True)
            self.panel_dock.hide()
            window.controls_dock.setVisible(not window.presentation.active)
            window.controls_dock.raise_()
            window.arrange_docks()
            window.statusBar().showMessage(
                "Free workload: Start runs the control panel's settings", 5000
            )
            return
        scenario = self.scenario_named(name)
        self.scenario = scenario
        self.stepping.set_scenario(scenario)
        self.actions[scenario.name].setChecked(True)
        self.panel.show_scenario(scenario, fixed)
        self.panel_dock.setVisible(not window.presentation.active)
        self.panel_dock.raise_()
        # The code is what the class reads now: beside the heap, above the lanes.
        window.arrange_docks()
        self.code.set_model(None)
        self.code.set_source(inspect.getsourcefile(scenario.program_class))
        window.statusBar().showMessage(
            f"Scenario: {scenario.title}. Start (F5) runs it; Step (F10) starts it paused.", 10_000
        )

    def show_recorded(self, recorded: Mapping[str, Any] | None) -> Scenario | None:
        """A log is being opened: show the scenario it recorded (story, fix switch, code).

        None (a strategy's log, or a scenario this installation does not know):
        leave scenario mode, so no other scenario's story stands beside the replay.
        """
        name = recorded.get("name") if recorded is not None else None
        try:
            scenario = self.scenario_named(str(name)) if name is not None else None
        except ScenarioError:
            scenario = None
        if scenario is None:
            if self.scenario is not None:
                self.select(None)
            return None
        self.select(scenario.name, fixed=bool(recorded.get("fixed")) if recorded else False)
        return scenario

    def make_run(self, workload: Workload) -> RemoteRun:
        """The window's run factory: this scenario's run, or the workload's when none is chosen.

        Either way it goes in a run process; a paused start (or a schedule to
        show) makes it a controlled run there.
        """
        scenario = self.scenario
        control = self.stepping.control(paused=self.window.starting_paused)
        if scenario is None:
            spec = RunSpec(workload, control=control)
        else:
            seed = self.panel.seed.value()
            spec = RunSpec(
                scenario.workload(seed),
                str(scenario.path),
                self.panel.fixed(),
                seed,
                control=control,
            )
        run = self.window.launcher.launch(spec)
        self.stepping.started(run)
        self.run = run
        # A user's queue shows its own file, not the adapter around it.
        self.code.set_source(spec.source_file())
        return run

    @Slot(bool)
    def _fix_toggled(self, fixed: bool) -> None:
        """Rerun the same scenario and seed with (or without) the fix, in the same mode."""
        run = self.window.run
        if self.scenario is None or run is None or run is not self.run:
            return
        paused = run.state is RunState.PAUSED
        self.window.stop_run()
        self.window.start_run(paused=paused)

    @Slot(int)
    def _step(self, ident: int) -> None:
        run = self.window.run
        if run is not None and run.state is RunState.PAUSED:
            scheduler = scheduler_of(run)
            runner = scheduler.runner_of(ident) if scheduler is not None else None
            if runner is not None:
                self.stepping.stepped(runner.name)
            run.step(ident)

    # --- keeping up with the run -------------------------------------------------------------
    @Slot()
    def _tick(self) -> None:
        window = self.window
        model = window.model
        if model is not self._model:
            self._model = model
            self._version = -1
            self.code.set_model(model)
        if model is not None and model.version != self._version:
            self._version = model.version
            if self.code_dock.isVisible():
                self.code.refresh()
        self._show_threads(window.run, model)
        self.stepping.refresh()
        self._show_inside(window.run, model)
        self._ticks += 1
        if self._ticks % RESULT_EVERY_TICKS == 0:
            self._show_result()

    def refresh_now(self) -> None:
        """Catch up at once (the code, the step buttons, the inspector): a picture follows."""
        self._version = -1
        self._tick()

    def _show_threads(self, run: RemoteRun | None, model: RunModel | None) -> None:
        if run is None or model is None or not self.code_dock.isVisible():
            self.steps.show_threads([], False)
            return
        parked = run.gate.parked()
        waiting = model.locks.waiting_on
        rows = [
            ThreadRow(
                ident,
                info.name,
                info.color_index,
                parked.get(ident),
                waiting[ident].name if ident in waiting else None,
            )
            for ident, info in model.threads.items()
            if info.alive and info.role not in ("", "setup")
        ]
        self.steps.show_threads(rows, run.state is RunState.PAUSED)

    def _show_inside(self, run: RemoteRun | None, model: RunModel | None) -> None:
        """A paused controlled run: its threads' instructions, its variables, its real heap.

        The run process reads them while its threads stand still and sends them
        with its status; while they move there is nothing to show.
        """
        scheduler = scheduler_of(run)
        heap_view = next(view for view in self.window.views if isinstance(view, HeapView))
        inside = scheduler.inspection if scheduler is not None else None
        if run is None or model is None or run.state is not RunState.PAUSED:
            inside = None  # moving: what it would show is already stale
        if inside is not self._shown_inside:
            self._shown_inside = inside
            heap_view.set_truth(inside[2] if inside is not None else None)
            self._inspector_stale = True
        heap_view.set_own(getattr(run, "own_heap", None) if model is not None else None)
        if scheduler is None or model is None or not self.code_dock.isVisible() or inside is None:
            self.inspector.hide()  # an empty box while the threads move: its room goes to the code
            self.code.set_lines_told(False)
            return
        self.inspector.show()
        self.code.set_lines_told(True)
        if not self._inspector_stale:
            return
        self._inspector_stale = False
        colors = {
            info.name: thread_color(info.color_index).name() for info in model.threads.values()
        }
        threads, shared, _heap = inside
        self.inspector.show_state(threads, shared, colors)

    def _show_result(self) -> None:
        """The result line of the variant running now (or last run) of the chosen scenario."""
        scenario, run, model = self.scenario, self.window.run, self.window.model
        if scenario is None or run is None or run is not self.run or model is None:
            return
        if run.state is RunState.IDLE:
            return
        fixed = run.label.endswith("(fixed)")
        self.panel.show_result(fixed, result_text(scenario, model, run.state))


def result_text(scenario: Scenario, model: RunModel, state: RunState) -> str:
    """One line: the violations found, or the scenario's figure, and whether the run is over."""
    counts = model.checker.violation_counts
    if scenario.figure is not None:
        text = FIGURES[scenario.figure](model.summary())
    elif counts:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda i: -i[1]))
        total = sum(counts.values())
        text = f"{total} violation{'s' if total != 1 else ''} ({kinds})"
    else:
        text = "no invariant broken"
    ongoing = {RunState.RUNNING: " (running)", RunState.PAUSED: " (paused)"}.get(state, "")
    return text + ongoing

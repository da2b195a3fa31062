"""The class is the scheduler: show the bug, show a good order, undo and redo.

For a scenario that carries schedules (its bug and a good order), a paused
start (Step, F10) runs it under the controlled scheduler: every thread stands
before its first line, and each step button moves its thread by one
instruction of the scenario's code.  This bar adds:

* **Show me the bug** and **Show a good order**: the scheduler plays that
  schedule at a readable pace (the control panel's slow motion, or two steps a
  second), so the bug appears every time, on any machine;
* **Undo** and **Redo** (Ctrl+Z, Ctrl+Shift+Z): undo replays the steps so far
  minus the last in a fresh run, so the threads really are back where they were;
* the schedule so far as text, to copy and pass to ``run --schedule``;
* a pause at the bug: when the checker reports a violation in a controlled run,
  the run stops there so the class can look (and undo).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.engine import RunState
from visualizer.engine.host import RemoteRun, SchedulerMirror
from visualizer.engine.scenarios import Scenario
from visualizer.engine.scheduler import Control, Schedule
from visualizer.ui.flow_layout import FlowLayout
from visualizer.ui.theme import styled

if TYPE_CHECKING:
    from visualizer.model.checker import Violation
    from visualizer.ui.main_window import MainWindow

SHOW_PACE = 2.0
"""Steps per second of Show me the bug when the control panel runs at full speed."""

AFTER_PLAN_PACE = 8.0
"""Steps per second once the shown schedule is played, until the violation: what
follows it (a clerk finishing its whole loop, 155 steps in lost update) is the
consequence, not the interleaving, and took 80 s at the show's pace.  A bug whose
schedule is the default order (forgotten release: 101 steps, 50 s) plays at this
pace from the start: it does not depend on timing, and the pause shows it.  Not
quicker: the window pauses the run up to about 50 ms after the violating step
(the run's pump, the bridge, a frame), and a step 40 ms later (25 a second) was
often taken before the pause landed, one step past the bug."""

MODEL_WORDS = {"gil": "as CPython with its GIL", "free": "as free-threaded CPython (3.13t)"}


def scheduler_of(run: RemoteRun | None) -> SchedulerMirror | None:
    """The scheduler of a controlled run (the window's mirror of the run process's)."""
    return run.scheduler if run is not None else None


class SteppingBar(QObject):
    """The controlled-stepping buttons of scenario mode, and what they do to the window's run."""

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.scenario: Scenario | None = None
        # A schedule explore found (any subject): stepped like a scenario's bug.
        self.counterexample: Schedule | None = None
        self._stepwise = False  # the next run waits for a Step at each planned step
        self.plan: tuple[str, ...] = ()
        self.redo_steps: list[str] = []
        self._showing = False  # the next run plays the plan at a readable pace
        self._shape: tuple[str, str] | None = None  # granularity and model, if not the scenario's
        self._seen_violations = 0
        self._hurry_after = 0  # steps of the shown plan; past them, the play speeds up
        self._announce: Violation | None = None  # paused at it; said once the pause settles

        self.widget = QWidget()
        column = QVBoxLayout(self.widget)
        column.setContentsMargins(0, 0, 0, 0)
        # One flow for every control: a row at the desk, two or three on a projector.
        flow = QWidget()
        row = FlowLayout(flow)
        self.show_bug = self._button("Show me the bug", "Play the schedule that breaks it")
        self.show_good = self._button("Show a good order", "Play an order that stays correct")
        self.show_bug.clicked.connect(lambda: self.show(bug=True))
        self.show_good.clicked.connect(lambda: self.show(bug=False))
        self.undo_action = self._action("Undo step", "Ctrl+Z", self.undo)
        self.redo_action = self._action("Redo step", "Ctrl+Shift+Z", self.redo)
        self.copy_action = self._action("Copy schedule", None, self.copy)
        self.model_box = QComboBox()
        self.model_box.addItem("free-threaded", "free")
        self.model_box.addItem("with the GIL", "gil")
        self.model_box.setToolTip(
            "Where threads may switch: free-threaded CPython (3.13t) between any two "
            "instructions; CPython with its GIL only when a function starts, a loop jumps "
            "back or a call into C returns. Changing it starts over, paused."
        )
        self.model_box.activated.connect(self._model_chosen)
        for widget in (self.show_bug, self.show_good):
            row.addWidget(widget)
        # Undo, redo and copy by short names (the full ones in their tooltips).
        for action, symbol in (
            (self.undo_action, "\u21b6 Undo"),
            (self.redo_action, "\u21b7 Redo"),
            (self.copy_action, "Copy"),
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setText(symbol)
            action.changed.connect(lambda b=button, t=symbol: b.setText(t))
            row.addWidget(button)
        switch = QWidget()
        model_row = QHBoxLayout(switch)
        model_row.setContentsMargins(0, 0, 0, 0)
        model_row.addWidget(QLabel("Switch points:"))
        model_row.addWidget(self.model_box)
        self.pause_at_bug = QCheckBox("Pause at the bug")
        self.pause_at_bug.setChecked(True)
        self.pause_at_bug.setToolTip(
            "When the checker finds a violation in a scheduled run, stop there so the class "
            "can look at it, step back and forth"
        )
        row.addWidget(switch)
        row.addWidget(self.pause_at_bug)
        self.where = QLabel()
        styled(self.where, small=True)
        self.where.setWordWrap(False)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.where)  # the step count: on the row if it fits, else below
        column.addWidget(flow)
        self.set_scenario(None)

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        return button

    def _action(self, text: str, keys: str | None, slot: object) -> QAction:
        action = QAction(text, self.window)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{text} ({keys})")
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    # --- what the scenario controller asks ---------------------------------------------
    def set_scenario(self, scenario: Scenario | None) -> None:
        self.scenario = scenario
        self.counterexample = None
        self._shape = None
        self.plan = ()
        self.redo_steps.clear()
        self.widget.setVisible(self.bug() is not None)
        self.refresh()

    def bug(self) -> Schedule | None:
        """The schedule Show me the bug plays: a counterexample's, else the scenario's."""
        if self.counterexample is not None:
            return self.counterexample
        return self.scenario.bug_schedule if self.scenario is not None else None

    def step_through(self, schedule: Schedule) -> None:
        """A counterexample: start paused before the first line, each Step its next step."""
        self.counterexample = schedule
        self._shape = (schedule.granularity, schedule.model)
        self.redo_steps.clear()
        self.widget.setVisible(True)
        self._stepwise = True  # Step (F10) takes the counterexample's next step
        self._restart(schedule.steps, showing=False)

    def control(self, paused: bool) -> Control | None:
        """The control for the next run of the scenario: controlled when stepped or shown."""
        if self.bug() is None and self._shape is None:
            return None
        if not (paused or self._showing or self.plan):
            return None  # Start: the threads run freely, as the operating system has them
        granularity, model = self.shape()
        control = Control(
            granularity=granularity,
            model=model,
            plan=self.plan,
            strict=False,  # the fixed program may wait where the buggy one ran on
            auto_plan=not (self._showing or self._stepwise),
        )
        return control

    def shape(self) -> tuple[str, str]:
        """Granularity and model of the controlled runs: the scenario's, unless replaying."""
        if self._shape is not None:
            return self._shape
        bug = self.bug()
        return ("instruction", bug.model if bug is not None else "gil")

    @Slot(int)
    def _model_chosen(self, index: int) -> None:
        """Step the same program under the other model, from the start, paused."""
        granularity, model = self.shape()
        chosen = self.model_box.itemData(index)
        if chosen == model:
            return
        self._shape = (granularity, chosen)
        self.redo_steps.clear()
        self._restart((), showing=False)
        self.window.statusBar().showMessage(
            f"Stepping {MODEL_WORDS[chosen]}: every thread is back before its first line.", 8000
        )

    def walk(self, schedule: Schedule) -> None:
        """Start ``schedule`` over, paused before its first step; each Step takes its next
        (Export Step Sequence pictures every one of them)."""
        self._shape = (schedule.granularity, schedule.model)
        self.redo_steps.clear()
        self._stepwise = True
        self._restart(schedule.steps, showing=False)

    def replay(self, schedule: Schedule) -> None:
        """Replay ``schedule`` and stay paused where it ends (a saved or shared schedule)."""
        self._shape = (schedule.granularity, schedule.model)
        self.redo_steps.clear()
        self._restart(schedule.steps, showing=False)

    def started(self, run: RemoteRun) -> None:
        """A run was just made from :meth:`control`: pace a shown schedule."""
        self._hurry_after = 0
        if self._showing and scheduler_of(run) is not None:
            chosen = self.window.controls.pace()
            if chosen is not None:
                run.set_pace(chosen)
            elif self.plan:  # full speed: the plan at a readable pace, the rest quicker
                run.set_pace(SHOW_PACE)
                self._hurry_after = len(self.plan)
            else:  # the default order is the bug (no timing to it): straight to it
                run.set_pace(AFTER_PLAN_PACE)
        self._showing = False
        self._stepwise = False
        self.plan = ()
        self._seen_violations = 0
        self._announce = None

    def stepped(self, name: str) -> None:
        """The user moved ``name``: redo survives only if it was the step undone last.

        A counterexample being stepped keeps its plan while the user follows it.
        """
        scheduler = scheduler_of(self.window.run)
        if scheduler is not None:
            scheduler.follow_plan(name)
        if self.redo_steps and self.redo_steps[-1] == name:
            self.redo_steps.pop()
        else:
            self.redo_steps.clear()

    # --- the buttons ----------------------------------------------------------------------
    @Slot()
    def show(self, bug: bool = True) -> None:
        self._shape = None  # a schedule is played under the model it was written for
        scenario = self.scenario
        schedule = self.bug() if bug else None
        if scenario is not None and not bug:
            schedule = scenario.good_schedule
        if schedule is None:
            return
        self.redo_steps.clear()
        self._restart(schedule.steps, showing=True)
        what = "the bug" if bug else "a good order"
        self.window.statusBar().showMessage(
            f"Playing {what}: {schedule.text()}. The run pauses at the first violation.", 10_000
        )

    @Slot()
    def undo(self) -> None:
        scheduler = scheduler_of(self.window.run)
        if scheduler is None or not scheduler.history:
            return
        history = tuple(scheduler.history)
        self.redo_steps.append(history[-1])
        redo = list(self.redo_steps)
        self._restart(history[:-1], showing=False)
        self.redo_steps = redo

    @Slot()
    def redo(self) -> None:
        run = self.window.run
        scheduler = scheduler_of(run)
        if run is None or scheduler is None or not self.redo_steps:
            return
        if run.state is not RunState.PAUSED:
            return
        name = self.redo_steps.pop()
        runner = next((r for r in scheduler.runners if r.name == name), None)
        if name in scheduler.movable() and runner is not None and runner.ident is not None:
            run.step(runner.ident)  # as a step button does: marked, so the clock runs for it
        else:
            self.redo_steps.clear()

    @Slot()
    def copy(self) -> None:
        schedule = self.schedule()
        if schedule is not None:
            QGuiApplication.clipboard().setText(schedule.text())
            self.window.statusBar().showMessage(f"Copied: {schedule.text()}", 5000)

    def schedule(self) -> Schedule | None:
        scheduler = scheduler_of(self.window.run)
        if scheduler is None or self.bug() is None:
            return None
        granularity, model = self.shape()
        return Schedule(granularity, model, tuple(scheduler.history))

    def _restart(self, plan: tuple[str, ...], showing: bool) -> None:
        window = self.window
        window.stop_run()
        self.plan = plan
        self._showing = showing
        window.start_run(paused=not showing)

    # --- every frame ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Enable what can be done now; pause a controlled run at a new violation."""
        run = self.window.run
        scheduler = scheduler_of(run)
        model = self.window.model
        has = self.bug() is not None
        self.show_bug.setEnabled(has)
        good = self.scenario is not None and self.scenario.good_schedule is not None
        self.show_good.setEnabled(good)
        self.show_good.setToolTip(
            "Play an order that stays correct"
            if good
            else "No order avoids this bug: it does not depend on timing. Apply the fix."
        )
        paused = run is not None and run.state is RunState.PAUSED
        self.undo_action.setEnabled(scheduler is not None and bool(scheduler.history))
        self.redo_action.setEnabled(scheduler is not None and paused and bool(self.redo_steps))
        self.copy_action.setEnabled(scheduler is not None and bool(scheduler.history))
        if scheduler is None or run is None:
            self.where.setText("Step (F10) starts it, paused" if has else "")
            self.where.setToolTip(
                "Step (F10) runs the scenario paused under the scheduler: each step moves one "
                "thread by one instruction."
            )
            return
        found = len(model.anomalies) if model is not None else 0
        pause = self.pause_at_bug.isChecked()
        if found > self._seen_violations and run.state is RunState.RUNNING and pause:
            run.pause()
            self._announce = model.anomalies[self._seen_violations] if model is not None else None
        self._seen_violations = found
        if self._announce is not None and scheduler.inspection is not None:
            # Said once the run process reports itself paused (its steps counted): the
            # window's count could still lag the step that broke it by one.
            self.window.statusBar().showMessage(
                f"Paused at the bug (step {len(scheduler.history)}): {self._announce.detail}"
            )
            self._announce = None
        if self._hurry_after and len(scheduler.history) >= self._hurry_after:
            self._hurry_after = 0
            if run.state is RunState.RUNNING and not found:
                run.set_pace(AFTER_PLAN_PACE)
        granularity, switching = self.shape()
        index = self.model_box.findData(switching)
        if index != self.model_box.currentIndex():
            self.model_box.setCurrentIndex(index)
        unit = {"instruction": "one instruction", "line": "one line", "sync": "one lock operation"}
        ending = f" \u00b7 {scheduler.detail}" if scheduler.outcome else ""
        outcome = {"finished": "ended", "deadlock": "deadlock", "limit": "too long"}
        settled = scheduler.outcome or ""
        short = f" \u00b7 {outcome.get(settled, settled)}" if settled else ""
        self.where.setText(f"Step {len(scheduler.history)}{short}")
        self.where.setToolTip(
            f"Step {len(scheduler.history)}: each step moves one thread by {unit[granularity]}, "
            f"{MODEL_WORDS[switching]}{ending}"
        )

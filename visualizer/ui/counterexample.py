"""A counterexample in the window: run it again, paused before the first line, to step and undo.

A recording ``explore --save`` wrote names its subject (a strategy, a user's
queue or a scenario, with the workload) and its schedule.  Opened, the window
sets the subject up as if chosen by hand, then starts it under the controlled
scheduler with the schedule as its plan, paused at the start: each Step (F10)
takes the counterexample's next step, a thread's own button departs from it,
Undo takes steps back, and Show me the bug plays it to the violation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from visualizer.engine.scheduler import Schedule, ScheduleError
from visualizer.engine.userqueue import QueueRef, UserQueueError
from visualizer.stepping.subject import Subject

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow


def step_through(window: MainWindow, subject_data: dict[str, Any], schedule_text: str) -> bool:
    """Set the window up for ``subject_data`` and step ``schedule_text`` from its start."""
    try:
        schedule = Schedule.parse(schedule_text)
        subject = Subject.from_data(subject_data)
    except (ScheduleError, ValueError) as exc:
        QMessageBox.warning(window, "Cannot step this counterexample", str(exc))
        return False
    controller = window.scenarios
    if subject.scenario is not None:
        try:
            controller.select(subject.scenario, fixed=subject.fixed)
        except ValueError as exc:
            QMessageBox.warning(window, "Cannot step this counterexample", str(exc))
            return False
        controller.panel.seed.setValue(subject.workload.seed)
    else:
        controller.select(None)
        workload = subject.workload
        if workload.queue is not None:
            try:
                ref = QueueRef.parse(workload.queue)
            except UserQueueError as exc:
                QMessageBox.warning(window, "Cannot step this counterexample", str(exc))
                return False
            window.controls.add_queue(ref.text(), ref.label, "")
        window.controls.set_workload(workload)
        controller.code_dock.show()
        controller.code_dock.raise_()
    controller.stepping.step_through(schedule)
    window.statusBar().showMessage(
        f"Counterexample of {subject.label}: paused before the first line. Step (F10) takes "
        f"its next step, Show me the bug plays it: {schedule.text()}",
        30_000,
    )
    return True

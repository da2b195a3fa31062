"""Play a schedule headless: run the program under it, fold its events, judge the result.

This is what ``run --schedule`` and the explorer share: a controlled run that
follows the schedule's steps, then goes on in the default order to the end,
with every event folded into a :class:`~visualizer.model.RunModel` whose
invariant checker says whether the schedule broke something.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from visualizer.engine import Run
from visualizer.engine.scheduler import (
    DEFAULT_MAX_STEPS,
    Control,
    Policy,
    Schedule,
    Scheduler,
    continue_in_order,
)
from visualizer.model import RunModel

PLAY_TIMEOUT_S = 60.0
"""Longest a schedule may take to play (a safety net: a controlled run never waits on a clock)."""

MakeRun = Callable[[Control], Run]
"""Builds the run to control (a scenario's, a strategy's, a user queue's), not yet started."""


@dataclass
class Played:
    """A schedule played to its end: the run, its folded model and how it ended."""

    run: Run
    model: RunModel
    outcome: str  # "finished", "deadlock", "misfit" or "limit"
    detail: str
    schedule: Schedule  # every step taken, the default order's included
    options: list[tuple[str, ...]]  # who could have moved at each step
    events: list[tuple]  # every event of the run, in order

    @property
    def broken(self) -> bool:
        """Whether an invariant broke (a deadlock counts; a misfit is not a verdict)."""
        return self.outcome != "misfit" and bool(self.model.anomalies or self.run.errors)


def play(
    make_run: MakeRun,
    schedule: Schedule,
    max_steps: int | None = None,
    timeout: float = PLAY_TIMEOUT_S,
    strict: bool = True,
    policy: Policy = continue_in_order,
) -> Played:
    """Run ``make_run``'s program under ``schedule`` and the default order after it.

    ``strict``: a step the program cannot make (that thread waits, or has ended)
    ends the play as a misfit; lenient, the default order takes that step.
    ``policy`` decides the steps after the schedule's (a search's random or PCT
    choices); the default order unless told otherwise.
    """
    control = Control(
        granularity=schedule.granularity,
        model=schedule.model,
        plan=schedule.steps,
        policy=policy,
        strict=strict,
        max_steps=DEFAULT_MAX_STEPS if max_steps is None else max_steps,
    )
    run = make_run(control)
    model = RunModel(thread_name=run.recorder.thread_name)
    scheduler = run.gate
    assert isinstance(scheduler, Scheduler)
    run.start()
    try:
        if not scheduler.wait_idle(timeout):
            raise TimeoutError(f"the schedule did not play out within {timeout:g} s")
        if scheduler.outcome in (None, "finished"):
            run.wait(timeout)
    finally:
        run.stop()
        if scheduler.outcome == "finished":
            run.audit()  # a user's queue: does its len() agree with the calls?
        batch = run.recorder.drain()
        model.apply(batch)
    outcome = scheduler.outcome or "finished"
    model.finish(drained=outcome == "finished")
    taken = Schedule(schedule.granularity, schedule.model, tuple(scheduler.history))
    return Played(
        run, model, outcome, scheduler.detail, taken, list(scheduler.options), batch.events
    )

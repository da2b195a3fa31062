"""A stepping session: the user moves one thread at a time, and can undo and redo.

Undo is re-execution.  A controlled run is deterministic for a given schedule,
so undoing the last ``n`` steps means stopping this run and starting a fresh one
that replays the schedule minus those steps, then waits for the user again.
The fresh run emits its events from the beginning; whoever shows them folds
them anew (``generation`` tells it that the run was replaced).  Redo replays the
undone choices one by one, as long as the user has not taken another path.
"""

from __future__ import annotations

from collections.abc import Callable

from visualizer.engine import Run
from visualizer.engine.scheduler import Control, Runner, Schedule, Scheduler, continue_in_order
from visualizer.stepping.play import MakeRun

STEP_TIMEOUT_S = 30.0
"""Longest one step may take before the session reports the program as stuck in C code."""


class SessionError(RuntimeError):
    """A step the session cannot make, with a message for the user."""


class Session:
    """One controlled program, stepped by hand; :attr:`run` is replaced on undo."""

    def __init__(
        self,
        make_run: MakeRun,
        granularity: str,
        model: str,
        plan: tuple[str, ...] = (),
        on_new_run: Callable[[Run], None] | None = None,
    ) -> None:
        self.make_run = make_run
        self.granularity = granularity
        self.model = model
        self.on_new_run = on_new_run
        self.generation = 0
        self.redo_steps: list[str] = []
        self.run = self._start(plan)

    # --- what the views read (while idle) ------------------------------------------
    @property
    def scheduler(self) -> Scheduler:
        gate = self.run.gate
        assert isinstance(gate, Scheduler)
        return gate

    @property
    def runners(self) -> list[Runner]:
        return self.scheduler.runners

    @property
    def history(self) -> tuple[str, ...]:
        return tuple(self.scheduler.history)

    def schedule(self) -> Schedule:
        return Schedule(self.granularity, self.model, self.history)

    @property
    def outcome(self) -> str | None:
        return self.scheduler.outcome

    # --- moves ------------------------------------------------------------------------
    def step(self, name: str | None = None) -> None:
        """Move thread ``name`` (or the next in the default order) one step."""
        scheduler = self.scheduler
        if scheduler.outcome is not None:
            raise SessionError(f"the run is over: {scheduler.detail}")
        before = len(scheduler.history)
        scheduler.move(name)
        self._settle()
        if len(scheduler.history) > before:
            taken = scheduler.history[before]
            if self.redo_steps and self.redo_steps[-1] == taken:
                self.redo_steps.pop()
            else:
                self.redo_steps.clear()

    def undo(self, count: int = 1) -> None:
        """Take back the last ``count`` steps (a fresh run replays the rest)."""
        history = self.history
        count = min(count, len(history))
        if not count:
            return
        kept, undone = history[: len(history) - count], history[len(history) - count :]
        redo = [*self.redo_steps, *reversed(undone)]
        self.run.stop()
        self.run = self._start(kept)
        self.redo_steps = redo

    def redo(self) -> None:
        if not self.redo_steps:
            raise SessionError("nothing to redo")
        self.step(self.redo_steps[-1])

    def play(self, steps: int | None = None) -> None:
        """Move in the default order until the run ends (or ``steps`` steps)."""
        done = 0
        while self.scheduler.outcome is None and (steps is None or done < steps):
            if not self.scheduler.movable():
                break
            self.step()
            done += 1

    def close(self) -> None:
        self.run.stop()

    # --- plumbing ------------------------------------------------------------------------
    def _start(self, plan: tuple[str, ...]) -> Run:
        control = Control(granularity=self.granularity, model=self.model, plan=plan)
        run = self.make_run(control)
        self.generation += 1
        if self.on_new_run is not None:
            self.on_new_run(run)
        run.start(paused=True)  # the user moves it
        scheduler = run.gate
        assert isinstance(scheduler, Scheduler)
        if not scheduler.wait_idle(STEP_TIMEOUT_S):
            run.stop()
            raise SessionError("the program did not reach its first step")
        if scheduler.outcome == "misfit":
            run.stop()
            raise SessionError(f"the schedule does not fit: {scheduler.detail}")
        return run

    def _settle(self) -> None:
        if not self.scheduler.wait_idle(STEP_TIMEOUT_S):
            raise SessionError(
                f"a step has run for {STEP_TIMEOUT_S:g} s without reaching the next switch point"
            )


__all__ = ["Session", "SessionError", "continue_in_order"]

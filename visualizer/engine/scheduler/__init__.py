"""The controlled scheduler: the user (or a search, or a saved schedule) decides
which run thread moves at every switch point.

* :mod:`.switching` is the mechanism: one thread moves at a time, blocking is
  modelled, deadlocks are found, and every choice is kept as the schedule.
* :mod:`.tracing` says where the switch points are: instructions or lines of the
  code under study, under the GIL's rules or free-threaded ones.
* :mod:`.schedule` is a schedule as data and as a short text.

A run becomes controlled by passing a :class:`Control` to ``Run``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from visualizer.engine.scheduler.schedule import Schedule, ScheduleError
from visualizer.engine.scheduler.switching import (
    Policy,
    Position,
    Runner,
    ScheduleMisfit,
    Scheduler,
    continue_in_order,
)
from visualizer.engine.scheduler.tracing import (
    GRANULARITIES,
    MODELS,
    StudyTracer,
    interpreter_model,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from visualizer.engine.run import Run

DEFAULT_MAX_STEPS = 20_000
"""A controlled run that takes this many steps without ending is stopped (an endless loop)."""

_INTERNALS = frozenset({"traced.py", "tracer.py", "gate.py", "rwlock.py", "__init__.py"})
"""Files of visualizer/queues that are machinery, not a strategy's lesson."""


@dataclass(frozen=True)
class Control:
    """How a controlled run is driven: switch points, the plan, who decides after it."""

    granularity: str = "instruction"
    model: str = field(default_factory=interpreter_model)
    plan: tuple[str, ...] = ()
    policy: Policy | None = None  # after the plan; None: the user decides
    max_steps: int | None = DEFAULT_MAX_STEPS
    extra_files: tuple[str, ...] = ()  # more code under study (a user's queue file)
    strict: bool = True  # a planned step the program cannot make ends the run (else skipped)
    auto_plan: bool = True  # the plan plays itself; else each planned step waits for a move

    def scheduler(self, record: Callable[..., None]) -> Scheduler:
        # Sync steps have no "before the first line": a thread would already have
        # read what it shares by its first lock, so it starts at its start.
        advance = self.granularity != "sync"
        scheduler = Scheduler(record, self.plan, self.policy, self.max_steps, advance, self.strict)
        scheduler.auto_plan = self.auto_plan
        return scheduler

    def study(self, scheduler: Scheduler, run: Run) -> StudyTracer:
        files = set(study_files(run)) | set(self.extra_files)
        return StudyTracer(scheduler, files, self.granularity, self.model)


def study_files(run: Run) -> Iterable[str]:
    """The code under study: the scenario program, or the strategy and its heap code.

    A user's queue (``engine.userqueue``) is its own file alone: not the adapter
    around it, nor the standard library it may build on.
    """
    own_file = getattr(run.queue, "source_file", None)
    if run.program is None and own_file is not None:
        yield own_file
        return
    subject: Any = run.program if run.program is not None else run.queue
    for cls in type(subject).__mro__:
        try:
            path = inspect.getfile(cls)
        except TypeError:
            continue  # a built-in class
        if run.program is not None:
            if not path.endswith(os.path.join("scenarios", "program.py")):
                yield path
        elif os.path.join("visualizer", "queues") in path:
            if os.path.basename(path) not in _INTERNALS:
                yield path
        else:
            yield path  # a user's own class


__all__ = [
    "DEFAULT_MAX_STEPS",
    "GRANULARITIES",
    "MODELS",
    "Control",
    "Policy",
    "Position",
    "Runner",
    "Schedule",
    "ScheduleError",
    "ScheduleMisfit",
    "Scheduler",
    "StudyTracer",
    "continue_in_order",
    "interpreter_model",
    "study_files",
]

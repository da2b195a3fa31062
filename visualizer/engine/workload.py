"""The workload: every setting of a run, in one frozen, validated record.

Why frozen: a run is started from one workload and the GUI, the command line and
a settings header of an export must all agree on what it was.  Changing a setting
makes a new workload (:meth:`Workload.replace`), never edits one a run is using.

Why one ``validate`` with field-named messages: the command line turns
``"workers: must be between 1 and 64"`` into ``--workers: ...`` and the GUI puts
it next to the right control, so both need to know *which* field is wrong.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import Any

from visualizer.engine.userqueue.ref import QueueRef, UserQueueError
from visualizer.queues import STRATEGIES

WORK_DISTRIBUTIONS = ("exponential", "fixed", "uniform")

# Bounds (inclusive) of the numeric fields.  Generous enough for any experiment,
# tight enough that a typo cannot start 10**9 threads or a year-long run.
_WHOLE_BOUNDS: dict[str, tuple[int, int]] = {
    "producers": (1, 64),
    "workers": (1, 64),
    "readers": (0, 64),
    "backlog": (0, 10_000_000),
    "burst": (1, 100_000),
    "tasks": (0, 10_000_000),
    "priority_spread": (1, 1000),
    "seed": (0, 2**63 - 1),
    "capacity": (1000, 100_000_000),
}
_NUMBER_BOUNDS: dict[str, tuple[float, float]] = {
    "rate": (0.0, 1_000_000.0),
    "work_time": (0.0, 60.0),
    "cancel_probability": (0.0, 1.0),
    "race_window": (0.0, 1.0),
}
# Optional (None allowed) numbers that must be strictly above their lower bound.
_OPTIONAL_BOUNDS: dict[str, tuple[float, float, str]] = {
    "duration": (0.0, 86_400.0, "s"),
    "switch_interval": (0.0, 1.0, "s"),
}


def _shown(bound: float) -> str:
    """A bound as people type it: 1000000 and 0.5, not 1e+06 or 1000000.0."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite_number(value: object) -> bool:
    """A number that is not NaN or infinite (an int of any size is finite: no float overflow)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


@dataclass(frozen=True)
class Workload:
    """What a run does: how many threads, how fast, how long, with which strategy.

    ``tasks`` is the total to produce (split evenly across producers); 0 means
    "until ``duration`` passes or the run is stopped".  When both are given the
    first limit reached ends production.  ``rate`` is tasks per second per
    producer, 0 meaning flat out.  ``work_time`` is the mean time a worker spends
    on a task, drawn from ``work_distribution``.  ``race_window`` is passed to
    strategies that take it (``unsafe``) and ignored by the rest.
    ``switch_interval`` sets ``sys.setswitchinterval`` for the run's duration.
    ``readers`` are status-page threads: they only look (a snapshot of the whole
    queue, again and again), the reads a read-write lock lets overlap.
    ``backlog`` (0: none) makes producers wait while that many tasks are queued,
    so a run that goes on until stopped keeps a heap of that size, not one that grows.
    ``burst`` makes each producer add that many tasks at once, then wait: the
    rate stays the average, and the queue fills and empties in turns.
    ``seed`` makes every producer's priorities, work times and cancels repeatable.
    ``capacity`` bounds the recorder the run creates.
    ``queue`` (``"PATH.py:ClassName"``) runs a user's own queue class instead of
    ``strategy`` (see :mod:`visualizer.engine.userqueue`).
    """

    strategy: str = "global-lock"
    producers: int = 2
    workers: int = 4
    tasks: int = 200
    duration: float | None = None
    rate: float = 20.0
    priority_spread: int = 10
    work_time: float = 0.05
    work_distribution: str = "exponential"
    cancel_probability: float = 0.0
    race_window: float = 0.0
    switch_interval: float | None = None
    readers: int = 0
    backlog: int = 0
    burst: int = 1
    seed: int = 0
    capacity: int = 1_000_000
    queue: str | None = None

    def replace(self, **changes: Any) -> Workload:
        """A copy with some fields changed (validated by whoever runs it)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        """Raise ``ValueError("field: what is wrong")`` for the first bad field."""
        low: float
        high: float

        if self.queue is not None:
            if not isinstance(self.queue, str):
                raise ValueError("queue: must be PATH.py:ClassName")
            try:
                QueueRef.parse(self.queue)
            except UserQueueError as exc:
                raise ValueError(f"queue: {exc}") from None
        # Type first: a value from a file (a settings store, a log's header) may be a
        # list or a dict, which a membership test would answer with a TypeError.
        elif not isinstance(self.strategy, str) or self.strategy not in STRATEGIES:
            choices = ", ".join(sorted(STRATEGIES))
            shown = repr(self.strategy)[:60]
            raise ValueError(f"strategy: unknown {shown} (choose from: {choices})")
        for name, (low, high) in _WHOLE_BOUNDS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name}: must be a whole number")
            if not low <= value <= high:
                raise ValueError(f"{name}: must be between {_shown(low)} and {_shown(high)}")
        for name, (low, high) in _NUMBER_BOUNDS.items():
            value = getattr(self, name)
            if not _is_finite_number(value):
                raise ValueError(f"{name}: must be a number")
            if not low <= value <= high:
                raise ValueError(f"{name}: must be between {_shown(low)} and {_shown(high)}")
        for name, (low, high, unit) in _OPTIONAL_BOUNDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if not _is_finite_number(value):
                raise ValueError(f"{name}: must be a number of seconds or None")
            if not low < value <= high:
                raise ValueError(
                    f"{name}: must be more than {_shown(low)} and at most {_shown(high)} {unit}"
                )
        if not isinstance(self.work_distribution, str) or (
            self.work_distribution not in WORK_DISTRIBUTIONS
        ):
            raise ValueError(f"work_distribution: must be one of {', '.join(WORK_DISTRIBUTIONS)}")

    @property
    def subject(self) -> str:
        """What runs, in words: the strategy's name, or ``Class (file.py)`` of a user's queue."""
        if self.queue is not None:
            return QueueRef.parse(self.queue).label
        return self.strategy

    def quota(self, producer: int) -> int | None:
        """How many tasks producer number ``producer`` (0-based) makes; None = no limit."""
        if self.tasks == 0:
            return None
        share, extra = divmod(self.tasks, self.producers)
        return share + (1 if producer < extra else 0)

    def task_id(self, producer: int, n: int) -> int:
        """Id of producer ``producer``'s ``n``-th task (both 0-based).

        Ids interleave (1, 2, ... across producers) so they are unique without any
        shared counter, cover exactly 1..tasks, and a seed maps each id to the
        same priority every time.
        """
        return n * self.producers + producer + 1

    def draw_work_time(self, rng: random.Random) -> float:
        """A task's work time in seconds, drawn from the configured distribution."""
        mean = self.work_time
        if mean == 0:
            return 0.0
        if self.work_distribution == "fixed":
            return mean
        if self.work_distribution == "uniform":
            return rng.uniform(0.0, 2.0 * mean)
        return rng.expovariate(1.0 / mean)

"""How every section measures: CPU time, interleaved rounds, median and spread.

Why not best-of-N wall time: on a shared machine the wall clock counts other
processes' turns on the CPU, so the same measurement swings by a factor of two
or three from one run to the next.  CPU time (``time.thread_time`` for code on
one thread, ``time.process_time`` for several threads) counts only what this
process did.  It still drifts with cache pressure and clock frequency, so the
cases being compared run in *interleaved rounds*: every round runs each case
once, in an order that rotates from round to round, and a ratio is taken
within each round, where both sides met the same machine.  The median of those
per-round figures is reported, with the spread (largest minus smallest) beside
it, so a reader can tell a real difference from noise.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Case = Callable[[], float]
"""One measurement: does the work once and returns the CPU seconds it took."""


@dataclass(frozen=True)
class Figure:
    """The median of some per-round values and their spread (max - min)."""

    median: float
    spread: float
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Figure:
        if not values:
            raise ValueError("a figure needs at least one value")
        return cls(statistics.median(values), max(values) - min(values), tuple(values))

    def text(self, digits: int = 2) -> str:
        """``1.23 ± 0.05``: the median and half the spread."""
        return f"{self.median:.{digits}f} ± {self.spread / 2:.{digits}f}"


def cpu_clock(threads: bool) -> Callable[[], float]:
    """The clock a case reads: this thread's CPU time, or the whole process's."""
    return time.process_time if threads else time.thread_time


def timed(work: Callable[[], object], *, threads: bool = False) -> float:
    """CPU seconds ``work()`` takes, starting from a collected heap.

    The collector stays on while it runs: the garbage a case makes is part of
    its cost.
    """
    clock = cpu_clock(threads)
    gc.collect()
    start = clock()
    work()
    return clock() - start


def interleaved(cases: Mapping[str, Case], rounds: int) -> dict[str, list[float]]:
    """Run each case once per round, rotating the order; every case's seconds, per round."""
    if rounds < 1:
        raise ValueError("at least one round")
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(cases[name]())
    return samples


def ratio(samples: Mapping[str, list[float]], numerator: str, denominator: str) -> Figure:
    """``numerator / denominator`` within each round, summarised."""
    pairs = zip(samples[numerator], samples[denominator], strict=True)
    return Figure.of([top / bottom for top, bottom in pairs])


def median(samples: Mapping[str, list[float]], name: str) -> Figure:
    return Figure.of(samples[name])

"""Search schedules for one that breaks an invariant: bounded preemptions, depth first.

The search is CHESS's: most concurrency bugs need only a few *preemptions* (a
switch away from a thread that could have gone on), so it tries every schedule
with no preemption, then every one with one, and so on up to a bound.  A
schedule is explored as a prefix of choices; the run goes on in the default
order after it (see ``switching.continue_in_order``), and every step past the
prefix where another thread could have moved is a branch to try later.  Each
schedule in the bounded space is played once: the branches of a prefix only
differ from it after its end.

What comes back is the first breaking schedule found at the lowest bound,
trimmed to the steps where it departs from the default order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

from visualizer.engine.scheduler import Schedule
from visualizer.stepping.play import MakeRun, Played, play


@dataclass
class Found:
    """What a search ended with: the breaking play (or None) and how much it searched."""

    played: Played | None
    schedules: int  # schedules played
    bound: int  # the preemption bound reached
    exhausted: bool  # every schedule within the bound was played
    seconds: float

    @property
    def schedule(self) -> Schedule | None:
        if self.played is None:
            return None
        return trim(self.played.schedule, self.played.options)


def preemptions(steps: tuple[str, ...], options: list[tuple[str, ...]]) -> int:
    """Switches away from a thread that could have gone on."""
    count = 0
    for i in range(1, len(steps)):
        if steps[i] != steps[i - 1] and steps[i - 1] in options[i]:
            count += 1
    return count


def trim(schedule: Schedule, options: list[tuple[str, ...]]) -> Schedule:
    """The shortest prefix of ``schedule`` that the default order completes the same way."""
    steps = schedule.steps
    end = 0
    for i in range(len(steps)):
        previous = steps[i - 1] if i else None
        default = previous if previous in options[i] else options[i][0]
        if steps[i] != default:
            end = i + 1
    return Schedule(schedule.granularity, schedule.model, steps[:end])


def explore(
    make_run: MakeRun,
    granularity: str,
    model: str,
    max_preemptions: int = 2,
    budget_schedules: int | None = None,
    budget_seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_steps: int | None = None,
    wanted: Callable[[Played], bool] | None = None,
) -> Found:
    """Play schedules with 0, 1, ... ``max_preemptions`` preemptions until one breaks.

    ``wanted`` narrows what counts as broken (a scenario looks for its own bug,
    not any violation on the way).
    """
    breaks = wanted if wanted is not None else _broken
    start = monotonic()
    played_count = 0
    for bound in range(max_preemptions + 1):
        stack: list[tuple[str, ...]] = [()]
        while stack:
            if budget_schedules is not None and played_count >= budget_schedules:
                return Found(None, played_count, bound, False, monotonic() - start)
            if budget_seconds is not None and monotonic() - start >= budget_seconds:
                return Found(None, played_count, bound, False, monotonic() - start)
            prefix = stack.pop()
            played = play(make_run, Schedule(granularity, model, prefix), max_steps=max_steps)
            played_count += 1
            if progress is not None:
                progress(played_count, bound)
            steps, options = played.schedule.steps, played.options
            if breaks(played) and preemptions(steps, options) <= bound:
                return Found(played, played_count, bound, False, monotonic() - start)
            stack.extend(_branches(prefix, steps, options, bound))
    return Found(None, played_count, max_preemptions, True, monotonic() - start)


def _broken(played: Played) -> bool:
    return played.broken


def _branches(
    prefix: tuple[str, ...], steps: tuple[str, ...], options: list[tuple[str, ...]], bound: int
) -> list[tuple[str, ...]]:
    """Prefixes that differ from ``steps`` first after ``prefix``, within the bound.

    Only schedules using exactly ``bound`` preemptions are new at this bound
    (the lower bounds played the others), but a branch with fewer may still
    lead to one, so every branch within the bound is kept.  Returned so that
    the earliest departures are tried first (the stack pops from the end).
    """
    out = []
    used = preemptions(steps[: len(prefix)], options) if prefix else 0
    for i in range(len(prefix), len(steps)):
        previous = steps[i - 1] if i else None
        for name in options[i]:
            if name == steps[i]:
                continue
            cost = 1 if previous is not None and previous in options[i] and name != previous else 0
            if used + cost <= bound:
                out.append((*steps[:i], name))
        if i and steps[i] != steps[i - 1] and steps[i - 1] in options[i]:
            used += 1
        if used > bound:
            break
    out.reverse()
    return out

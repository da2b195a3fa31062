"""Make a breaking schedule small: fewest preemptions first, then fewest steps.

A schedule found by a random walk has dozens of switches, most of them beside
the point.  Shrinking tries smaller schedules and keeps one if it still breaks
the same way (the same kind of violation), until none of the tries helps:

* drop a block (a run of steps of one thread): its steps happen later, where
  the default order puts them;
* move a block to join the next block of the same thread (one switch fewer);
* halve a block (the thread stops earlier).

Each try is played leniently (a planned step the thread cannot take is left to
the default order) and judged by what it actually played: its preemptions and
its length once trimmed to where it departs from the default order.  The
result is played once more, strictly, so the schedule printed is exactly one
that breaks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import groupby
from time import monotonic

from visualizer.engine.scheduler import Schedule
from visualizer.stepping.explore import preemptions, trim
from visualizer.stepping.play import MakeRun, Played, play

MAX_TRIES = 400
MAX_SECONDS = 20.0


def first_kind(played: Played) -> str:
    """The kind of the first violation (or "error" for an exception in a run thread)."""
    if played.model.anomalies:
        return played.model.anomalies[0].kind
    return "error" if played.run.errors else ""


def same_bug(original: Played) -> Callable[[Played], bool]:
    """A judge: does a play break with the same kind of violation as ``original``?"""
    kind = first_kind(original)

    def judge(played: Played) -> bool:
        if played.outcome == "misfit" or not played.broken:
            return False
        kinds = {v.kind for v in played.model.anomalies}
        if played.run.errors:
            kinds.add("error")
        return kind in kinds

    return judge


def size(played: Played) -> tuple[int, int]:
    steps = trim(played.schedule, played.options).steps
    return preemptions(played.schedule.steps, played.options), len(steps)


def shrink(
    make_run: MakeRun,
    played: Played,
    judge: Callable[[Played], bool] | None = None,
    max_tries: int = MAX_TRIES,
    max_seconds: float = MAX_SECONDS,
    max_steps: int | None = None,
) -> tuple[Played, int]:
    """The smallest breaking play found from ``played``, and how many tries it took."""
    judge = judge if judge is not None else same_bug(played)
    granularity, model = played.schedule.granularity, played.schedule.model
    best, best_size = played, size(played)
    tries = 0
    deadline = monotonic() + max_seconds
    improved = True
    while improved and tries < max_tries and monotonic() < deadline:
        improved = False
        steps = trim(best.schedule, best.options).steps
        for candidate in _candidates(steps):
            if tries >= max_tries or monotonic() >= deadline:
                break
            tries += 1
            tried = play(
                make_run, Schedule(granularity, model, candidate), max_steps=max_steps, strict=False
            )
            if not judge(tried):
                continue
            tried_size = size(tried)
            if tried_size < best_size:
                best, best_size, improved = tried, tried_size, True
                break
    final = trim(best.schedule, best.options)
    strict = play(make_run, final, max_steps=max_steps)
    tries += 1
    return (strict if judge(strict) else best), tries


def _candidates(steps: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    blocks = [(name, len(list(group))) for name, group in groupby(steps)]

    def join(parts: list[tuple[str, int]]) -> tuple[str, ...]:
        return tuple(name for name, count in parts for _ in range(count))

    seen: set[tuple[str, ...]] = {steps}
    out: list[tuple[str, ...]] = []
    for i in range(len(blocks)):  # drop a block
        out.append(join(blocks[:i] + blocks[i + 1 :]))
    for i, (name, count) in enumerate(blocks):  # move a block onto its thread's next one
        later = next((j for j in range(i + 1, len(blocks)) if blocks[j][0] == name), None)
        if later is not None:
            moved = blocks[:i] + blocks[i + 1 : later] + [(name, count)] + blocks[later:]
            out.append(join(moved))
    for i, (name, count) in enumerate(blocks):  # halve a block
        if count > 1:
            out.append(join(blocks[:i] + [(name, count // 2)] + blocks[i + 1 :]))
        if count > 2:
            out.append(join(blocks[:i] + [(name, count - 1)] + blocks[i + 1 :]))
    for candidate in out:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate

"""Search schedules for one that breaks an invariant: stale reads, random, PCT and bounded DFS.

Four searchers take turns, one schedule each, cheapest first:

* ``stale``: the default order, but a thread that has just read shared state
  stands back until another thread writes it (:func:`.policies.stale_read`):
  first every *check* at once (the last look before its operation writes, see
  ``scheduler.operations``), then each reading step alone, in the order they
  come.  Aimed at lost updates, check-then-act and look-then-pop; it ends by
  itself when every reading step has had its turn.
* ``random``: a random walk (:func:`.policies.random_walk`).
* ``pct``: probabilistic concurrency testing (:func:`.policies.pct`), bug depth 2
  and 3 in turn, over runs as long as the longest played so far.
* ``dfs``: every schedule with 0 preemptions, then every one with 1, ... up to
  ``max_preemptions`` (CHESS, see :mod:`.explore`).  The only one that can say
  "there is none": once it has played its whole bounded space, the search ends.

Every schedule is played from scratch (``play``); distinct schedules are
counted by the steps they took.  The first that breaks (``wanted``) ends the
search; :mod:`.shrink` then makes it as small as it can.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

from visualizer.engine.scheduler import Policy, Schedule, continue_in_order
from visualizer.stepping.explore import _branches
from visualizer.stepping.play import MakeRun, Played, play
from visualizer.stepping.policies import pct, random_walk, stale_read

METHODS = ("stale", "random", "pct", "dfs")
PCT_DEPTHS = (2, 3)


@dataclass
class Progress:
    """How far a search has got (passed to the progress callback after every schedule)."""

    schedules: int = 0  # played
    distinct: int = 0
    dfs_schedules: int = 0
    bound: int = 0  # the DFS's preemption bound now
    seconds: float = 0.0


@dataclass
class Searched:
    """What a search ended with."""

    played: Played | None  # the first breaking play, as found (not yet shrunk)
    method: str  # the searcher that found it ("" if none did)
    progress: Progress
    exhausted: bool  # the DFS played every schedule within max_preemptions
    max_preemptions: int


class _Dfs:
    """Bounded-preemption depth-first search as a stream of prefixes (see ``explore.explore``)."""

    name = "dfs"

    def __init__(self, max_preemptions: int) -> None:
        self.max_preemptions = max_preemptions
        self.bound = 0
        self.stack: list[tuple[str, ...]] = [()]
        self.current: tuple[str, ...] = ()

    def next(self) -> tuple[tuple[str, ...], Policy] | None:
        while not self.stack:
            if self.bound >= self.max_preemptions:
                return None
            self.bound += 1
            self.stack = [()]
        self.current = self.stack.pop()
        return self.current, continue_in_order

    def feedback(self, played: Played) -> None:
        steps, options = played.schedule.steps, played.options
        self.stack.extend(_branches(self.current, steps, options, self.bound))


class _Stale:
    """Stale reads, in the order the reading steps come (see ``policies.stale_read``)."""

    name = "stale"

    def __init__(self) -> None:
        self.trigger: int | None = None  # first every check, then each reading step alone
        self.fired: list[int] = []  # reading steps each run had

    def next(self) -> tuple[tuple[str, ...], Policy] | None:
        if self.trigger is not None and self.trigger >= max(self.fired):
            return None  # every reading step was made stale once
        policy = stale_read(self.trigger, self.fired)
        self.trigger = 0 if self.trigger is None else self.trigger + 1
        return (), policy

    def feedback(self, played: Played) -> None:
        pass


class _Random:
    name = "random"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next(self) -> tuple[tuple[str, ...], Policy]:
        return (), random_walk(random.Random(self.rng.getrandbits(64)))

    def feedback(self, played: Played) -> None:
        pass


class _Pct:
    name = "pct"

    def __init__(self, rng: random.Random, length: int) -> None:
        self.rng = rng
        self.length = length
        self.turn = 0

    def next(self) -> tuple[tuple[str, ...], Policy]:
        depth = PCT_DEPTHS[self.turn % len(PCT_DEPTHS)]
        self.turn += 1
        return (), pct(random.Random(self.rng.getrandbits(64)), depth, self.length)

    def feedback(self, played: Played) -> None:
        self.length = max(self.length, len(played.schedule))


def search(
    make_run: MakeRun,
    granularity: str,
    model: str,
    methods: tuple[str, ...] = METHODS,
    max_preemptions: int = 2,
    budget_schedules: int | None = None,
    budget_seconds: float | None = None,
    seed: int = 0,
    progress: Callable[[Progress], None] | None = None,
    wanted: Callable[[Played], bool] | None = None,
    max_steps: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Searched:
    """Play schedules, the ``methods`` in turns, until one breaks or the budget is spent."""
    breaks = wanted if wanted is not None else _broken
    rng = random.Random(seed)
    dfs = _Dfs(max_preemptions) if "dfs" in methods else None
    pct_rng, random_rng = (random.Random(rng.getrandbits(64)) for _ in range(2))
    # The cheapest first: stale reads are aimed at the commonest bugs, a random
    # walk finds shallow ones in a schedule or two, PCT deeper ones; the DFS
    # starts with the default order, which a bug rarely needs, but it is the
    # one that can say there is no bug.
    searchers: list = [
        s
        for s in (
            _Stale() if "stale" in methods else None,
            _Random(random_rng) if "random" in methods else None,
            _Pct(pct_rng, 0) if "pct" in methods else None,
            dfs,
        )
        if s is not None
    ]
    if not searchers:
        raise ValueError(f"methods: choose from {', '.join(METHODS)}")
    state = Progress()
    seen: set[int] = set()
    start = monotonic()
    turn = 0
    while searchers:
        searcher = searchers[turn % len(searchers)]
        if budget_schedules is not None and state.schedules >= budget_schedules:
            break
        if budget_seconds is not None and monotonic() - start >= budget_seconds:
            break
        if should_stop is not None and should_stop():
            break
        attempt = searcher.next()
        if attempt is None and searcher is dfs:  # the DFS played its whole bounded space
            state.seconds = monotonic() - start
            return Searched(None, "", state, True, max_preemptions)
        if attempt is None:  # a searcher with nothing left to try
            searchers.remove(searcher)
            continue
        turn += 1
        prefix, policy = attempt
        played = play(
            make_run,
            Schedule(granularity, model, prefix),
            max_steps=max_steps,
            policy=policy,
        )
        searcher.feedback(played)
        state.schedules += 1
        if searcher is dfs:
            state.dfs_schedules += 1
            state.bound = dfs.bound
        key = hash(played.schedule.steps)
        if key not in seen:
            seen.add(key)
            state.distinct += 1
        state.seconds = monotonic() - start
        if progress is not None:
            progress(state)
        if breaks(played):
            return Searched(played, searcher.name, state, False, max_preemptions)
    state.seconds = monotonic() - start
    return Searched(None, "", state, False, max_preemptions)


def _broken(played: Played) -> bool:
    return played.broken

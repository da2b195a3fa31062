"""Who moves next, chosen at random: the random walk and PCT.

Both are :data:`~visualizer.engine.scheduler.Policy` functions, made fresh for
each schedule from a seeded ``random.Random``, so a search with the same seed
plays the same schedules.

* **Random walk**: at every switch point, any thread that can move, with equal
  chance.  Cheap and blind; good at bugs that need many small preemptions.
* **PCT** (probabilistic concurrency testing, Burckhardt, Kothari, Musuvathi
  and Nagarakatte, ASPLOS 2010): every thread gets a random priority, and the
  highest-priority thread that can move always moves; at ``depth - 1`` steps
  drawn at random from the run's length, the running thread drops below every
  other.  A bug that needs ``d`` ordering constraints is found with probability
  at least ``1 / (n * k**(d-1))`` per schedule (``n`` threads, ``k`` steps),
  whatever the program: few preemptions, placed anywhere.
"""

from __future__ import annotations

import random

from visualizer.engine.scheduler import Policy, Runner


def random_walk(rng: random.Random) -> Policy:
    def policy(movable: list[Runner], _last: Runner | None, _step: int) -> Runner | None:
        return movable[rng.randrange(len(movable))] if movable else None

    return policy


def pct(rng: random.Random, depth: int, length: int) -> Policy:
    """PCT with bug depth ``depth`` over runs of about ``length`` steps."""
    high: dict[str, float] = {}
    # Change point i (1-based) gives the running thread priority depth - i: below
    # every initial one (those are >= depth), and each later drop lower still.
    steps = rng.sample(range(1, max(length, depth) + 1), depth - 1)
    drops = {step: float(depth - i) for i, step in enumerate(sorted(steps), 1)}

    def priority(runner: Runner) -> float:
        value = high.get(runner.name)
        if value is None:
            value = high[runner.name] = depth + rng.random()
        return value

    def policy(movable: list[Runner], last: Runner | None, step: int) -> Runner | None:
        if not movable:
            return None
        drop = drops.get(step)
        if drop is not None and last is not None:
            high[last.name] = drop
        return max(movable, key=priority)

    return policy

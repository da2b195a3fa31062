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

from visualizer.engine.scheduler import Policy, Runner, continue_in_order


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


STALE_PATIENCE = 64
"""Steps the others get to write what a reader read before it moves again (they
may be polling for something only the reader can do)."""


def stale_read(trigger: int | None, fired: list[int]) -> Policy:
    """Default order, but the ``trigger``-th step that reads shared state is made stale.

    With ``trigger`` None, every step that reads a *check* is, one reader at a
    time: the last look at shared state before the operation writes, of a name
    it writes (see ``scheduler.operations``).  A first try that finds most such
    bugs at once.  Only the checks: a thread that stood back after every read
    would be steered past the later, decisive one (a client that waits after
    peeking at the heap sees the order taken, so never reads a status that is
    about to go stale).

    The thread that made that step (the *reader*) stands back: the others move
    (the last one keeps going while it can) until one of them writes a name the
    reader read; then the reader moves next, as soon as it can, acting on what
    it read before.  That is the shape of a lost update (read, someone else
    writes, write back), a check-then-act and a look-then-pop, with two
    switches placed exactly where they matter.

    A reading step is one that read shared state (a name some code under study
    writes, see ``scheduler.access``) and did not write it back in the same
    step (then there is no gap to widen).  ``fired`` gets the number of reading
    steps this run had, so the search knows when the triggers are used up.
    """
    count = 0
    reader: Runner | None = None
    names: set[str] = set()
    written = False
    since = 0  # the step the reader began to stand back
    fired.append(0)

    def policy(movable: list[Runner], last: Runner | None, step: int) -> Runner | None:
        nonlocal count, reader, names, written, since
        if last is not None:
            stale = last.read - last.written
            if reader is not None and last is not reader and last.written & names:
                written, reader.stands_back = True, False
            elif reader is not None and step - since > STALE_PATIENCE:
                reader.stands_back, reader = False, None  # nobody writes it: give up
            if stale:
                if trigger is None:  # all at once: the checks only
                    stale = last.checked - last.written
                    picked = bool(stale) and reader is None
                else:
                    picked = count == trigger
                if picked:
                    reader, names, written, since = last, stale, False, step
                    reader.stands_back = True  # even a sleeper moves before it
                count += 1
                fired[-1] = count
            last.read.clear()
            last.checked.clear()
            last.written.clear()
        if not movable:
            return None
        if reader is not None and not reader.done:
            if written:
                if reader in movable:
                    chosen, reader = reader, None  # it acts on what it read: once
                    return chosen
            else:
                others = [r for r in movable if r is not reader]
                if others:
                    return last if last in others else others[0]
        return continue_in_order(movable, last, step)

    return policy

"""Lost update: two clerks number tasks from one counter, and numbers repeat.

``self.counter += 1`` is three instructions: read the counter, add one, write it
back.  If the other clerk reads between the first clerk's read and its write,
both write back the same number: two tasks get the same id, and the counter has
gone up by one for two tasks.  The invariant checker sees both: a duplicate task
id, and the same counter value written twice (a lost update).

On CPython with a GIL (3.11-3.13) no thread switch can fall inside this line
(the interpreter hands over only at calls and loop ends), so this exact code
loses nothing there; free-threaded CPython (3.13t) runs the clerks truly at
once, and it does.  The scenario steps it under the free-threaded model.

The fix holds one lock from the read to the write, so no other thread can read
the counter while it is being changed.
"""

from __future__ import annotations

from functools import partial

from visualizer.engine.scenarios.program import (
    TASKS,
    THREADS,
    Context,
    Program,
    ThreadSpec,
)


class LostUpdate(Program):
    params = (THREADS, TASKS)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.counter = 0  # the last id handed out; shared by every clerk
        if ctx.fixed:
            self.lock = ctx.tracer.lock("counter")
            self.next_id = self.next_id_locked
        else:
            self.next_id = self.next_id_unsafe

    # --- the bug and its fix, side by side --------------------------------------
    def next_id_unsafe(self) -> int:
        self.counter += 1  # read, add 1, write: another clerk may read before this write
        return self.counter

    def next_id_locked(self) -> int:
        with self.lock:  # the read and the write happen while no other clerk can get in
            self.counter += 1
            return self.counter

    # --- the threads ---------------------------------------------------------------
    def clerk(self, count: int) -> None:
        """Register ``count`` tasks, each under the next id, and deal with each at once."""
        ctx = self.ctx
        for _ in range(count):
            task_id = self.next_id()
            ctx.added(task_id, counter=task_id)  # the id is the counter value this clerk wrote
            ctx.taken(task_id)
            ctx.completed(task_id)

    def threads(self) -> list[ThreadSpec]:
        clerks = self.ctx.params["threads"]
        shares = [len(range(k, self.ctx.params["tasks"], clerks)) for k in range(clerks)]
        return [
            ThreadSpec(f"clerk-{k + 1}", "producer", partial(self.clerk, share))
            for k, share in enumerate(shares)
        ]

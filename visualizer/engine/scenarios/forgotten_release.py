"""Forgotten release: an exception between ``acquire()`` and ``release()``.

Workers post amounts to a shared ledger under a lock, taken with ``acquire()``
and given back with ``release()`` at the end.  One entry is malformed, and
parsing it raises an exception: ``release()`` is skipped, and the lock stays held
by a worker that has long moved on.  The worker handles the error and carries on
with its next entry, which needs the ledger lock again: it waits for a lock it
holds itself, and every other worker waits behind it.  Everything stalls.

The fix is ``with lock:``, which releases the lock however the block is left,
exceptions included.
"""

from __future__ import annotations

from collections import deque

from visualizer.engine.scenarios.program import (
    TASKS,
    THREADS,
    WORK_TIME,
    Context,
    Program,
    ThreadSpec,
)


class ForgottenRelease(Program):
    params = (THREADS, TASKS, WORK_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.queue_lock = ctx.tracer.lock("queue")
        self.ledger_lock = ctx.tracer.lock("ledger")
        self.pending: deque[int] = deque()
        self.entries: dict[int, str] = {}
        self.balance = 0
        self.post = self.post_with if ctx.fixed else self.post_acquire_release

    def setup(self) -> None:
        rng = self.ctx.rng("entries")
        tasks = self.ctx.params["tasks"]
        malformed = rng.randrange(1, tasks // 2 + 2)  # early, so work is left to stall
        for entry in range(1, tasks + 1):
            self.entries[entry] = "n/a" if entry == malformed else str(rng.randrange(1, 100))
            self.pending.append(entry)
            self.ctx.added(entry)

    def take(self) -> int | None:
        with self.queue_lock:
            if not self.pending:
                return None
            entry = self.pending.popleft()
            self.ctx.taken(entry)
            return entry

    # --- the bug and its fix, side by side --------------------------------------
    def post_acquire_release(self, entry: int) -> None:
        self.ledger_lock.acquire()
        amount = int(self.entries[entry])  # raises ValueError for "n/a" ...
        self.balance += amount
        self.ledger_lock.release()  # ... and then this line never runs: the lock stays held

    def post_with(self, entry: int) -> None:
        with self.ledger_lock:  # released on the way out, whether by return or by exception
            amount = int(self.entries[entry])
            self.balance += amount

    # --- the threads ---------------------------------------------------------------
    def worker(self) -> None:
        ctx = self.ctx
        while (entry := self.take()) is not None:
            ctx.started(entry)
            ctx.pause(ctx.params["work_time"])
            try:
                self.post(entry)
            except ValueError as exc:
                ctx.caught(exc)  # handled (the views name the line it skipped), on to the next
            ctx.completed(entry)

    def threads(self) -> list[ThreadSpec]:
        count = self.ctx.params["threads"]
        return [ThreadSpec(f"worker-{k + 1}", "worker", self.worker) for k in range(count)]

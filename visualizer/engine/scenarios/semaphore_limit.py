"""``Semaphore(N)``: at most N threads inside, however many want in.

The database accepts only a few connections at once and refuses the rest.
Without a limit of their own, all the workers connect together whenever they
have work, and the ones over the limit are refused (each refusal is reported).

The fix guards the query with a ``Semaphore(N)`` holding N permits: a worker
takes a permit on the way in and gives it back on the way out, so at most N are
inside at any moment and the others wait their turn at the semaphore (the
lanes show them waiting, the locks view shows N holders).
"""

from __future__ import annotations

from collections import deque

from visualizer.engine.scenarios.program import (
    TASKS,
    THREADS,
    WORK_TIME,
    Context,
    Param,
    Program,
    ThreadSpec,
)
from visualizer.engine.scenarios.stand_ins import Database, TooManyConnections

CONNECTIONS = Param("connections", int, 1, 16, 3)  # the database's limit


class SemaphoreLimit(Program):
    params = (THREADS, TASKS, CONNECTIONS, WORK_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        limit = ctx.params["connections"]
        self.db = Database(limit)
        self.queue_lock = ctx.tracer.lock("queue")
        self.pending: deque[int] = deque()
        if ctx.fixed:
            self.permits = ctx.tracer.semaphore("connections", limit)
            self.query = self.query_limited
        else:
            self.query = self.query_unlimited

    def setup(self) -> None:
        for task_id in range(1, self.ctx.params["tasks"] + 1):
            self.pending.append(task_id)
            self.ctx.added(task_id)

    def take(self) -> int | None:
        with self.queue_lock:
            if not self.pending:
                return None
            task_id = self.pending.popleft()
            self.ctx.taken(task_id)
            return task_id

    def run_query(self) -> None:
        self.db.connect()  # refused when the database is full
        try:
            self.ctx.pause(self.ctx.params["work_time"])
        finally:
            self.db.disconnect()

    # --- the bug and its fix, side by side --------------------------------------
    def query_unlimited(self) -> None:
        self.run_query()  # every worker with work connects at once

    def query_limited(self) -> None:
        with self.permits:  # at most N workers get past this line at a time
            self.run_query()

    # --- the threads ---------------------------------------------------------------
    def worker(self) -> None:
        ctx = self.ctx
        while (task_id := self.take()) is not None:
            ctx.started(task_id)
            while True:
                try:
                    self.query()
                    break
                except TooManyConnections as exc:
                    ctx.report_error(exc, task_id)  # shows as a violation; try again shortly
                    ctx.pause(ctx.params["work_time"] / 2)
            ctx.completed(task_id)

    def threads(self) -> list[ThreadSpec]:
        count = self.ctx.params["threads"]
        return [ThreadSpec(f"worker-{k + 1}", "worker", self.worker) for k in range(count)]

"""Self-deadlock: a thread holding a plain ``Lock`` asks for it again.

``complete`` takes the lock, then calls ``status_of``, which takes the same lock
to read the status.  A plain ``Lock`` does not know who holds it: the second
acquire waits for the lock to be released, and the only thread that could
release it is the one waiting.  It waits for itself, forever; every other worker
then queues up behind it.  The checker finds the wait-for cycle of length one.

The fix is a re-entrant ``RLock``: it remembers its owner and lets the owner take
it again (depth 2), so locked methods can call each other.
"""

from __future__ import annotations

import heapq

from visualizer.engine.scenarios.program import (
    TASKS,
    THREADS,
    WORK_TIME,
    Context,
    Program,
    ThreadSpec,
)
from visualizer.events import COMPLETED, PROCESSING, QUEUED


class SelfDeadlock(Program):
    params = (THREADS, TASKS, WORK_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # The whole fix is which kind of lock guards the jobs.
        self.lock = ctx.tracer.rlock("jobs") if ctx.fixed else ctx.tracer.lock("jobs")
        self.heap: list[tuple[int, int]] = []  # (-priority, job id)
        self.status: dict[int, str] = {}

    def setup(self) -> None:
        rng = self.ctx.rng("priorities")
        for job in range(1, self.ctx.params["tasks"] + 1):
            priority = rng.randrange(10)
            heapq.heappush(self.heap, (-priority, job))
            self.status[job] = QUEUED
            self.ctx.added(job, priority=priority)

    def status_of(self, job: int) -> str:
        with self.lock:
            return self.status[job]

    def take(self) -> int | None:
        with self.lock:
            if not self.heap:
                return None
            _, job = heapq.heappop(self.heap)
            self.status[job] = PROCESSING
            self.ctx.taken(job)
            return job

    def complete(self, job: int) -> None:
        with self.lock:  # first acquire
            if self.status_of(job) != PROCESSING:  # second acquire, by the same thread
                raise ValueError(f"job {job} is not being processed")
            self.status[job] = COMPLETED
            self.ctx.completed(job)

    def worker(self) -> None:
        while (job := self.take()) is not None:
            self.ctx.started(job)
            self.ctx.pause(self.ctx.params["work_time"])
            self.complete(job)

    def threads(self) -> list[ThreadSpec]:
        count = self.ctx.params["threads"]
        return [ThreadSpec(f"worker-{k + 1}", "worker", self.worker) for k in range(count)]

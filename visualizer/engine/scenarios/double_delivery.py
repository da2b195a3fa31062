"""Double delivery: two workers take the top task at the same moment, and both get it.

Taking the next task is two steps: look at the top of the heap, then pop it.
Without a lock, a second worker can look between the first worker's look and its
pop: both saw the same task, so both deliver it (a double delivery), and each
pops an entry, so the task that was under it disappears without ever being
delivered (a lost task).

On CPython with a GIL no thread switch can fall between these two lines (no
call sits between them, and ``heapq.heappop`` on tuples of ints is one C call),
so this exact code delivers no task twice there; free-threaded CPython (3.13t)
runs the workers truly at once, and it does.  The scenario steps it under the
free-threaded model.

The fix takes a lock around the look and the pop, so they happen as one step.
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


class DoubleDelivery(Program):
    params = (THREADS, TASKS, WORK_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.heap: list[tuple[int, int]] = []  # (-priority, task id): the largest priority on top
        if ctx.fixed:
            self.lock = ctx.tracer.lock("queue")
            self.take = self.take_locked
        else:
            self.take = self.take_unsafe

    def setup(self) -> None:
        rng = self.ctx.rng("priorities")
        for task_id in range(1, self.ctx.params["tasks"] + 1):
            priority = rng.randrange(10)
            heapq.heappush(self.heap, (-priority, task_id))
            self.ctx.added(task_id, priority=priority)

    # --- the bug and its fix, side by side --------------------------------------
    def take_unsafe(self) -> int | None:
        if not self.heap:
            return None
        _, task_id = self.heap[0]  # 1. look at the top task ...
        heapq.heappop(self.heap)  # 2. ... pop whatever is on top *now*: maybe another task
        self.ctx.taken(task_id)  # and deliver the task we saw
        return task_id

    def take_locked(self) -> int | None:
        with self.lock:  # look and pop as one step: nobody else can look in between
            if not self.heap:
                return None
            _, task_id = self.heap[0]
            heapq.heappop(self.heap)
            self.ctx.taken(task_id)
            return task_id

    # --- the threads ---------------------------------------------------------------
    def worker(self) -> None:
        ctx = self.ctx
        while (task_id := self.take()) is not None:
            ctx.started(task_id)
            ctx.pause(ctx.params["work_time"])
            ctx.completed(task_id)

    def threads(self) -> list[ThreadSpec]:
        count = self.ctx.params["threads"]
        return [ThreadSpec(f"worker-{k + 1}", "worker", self.worker) for k in range(count)]

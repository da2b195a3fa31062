"""Busy polling vs blocking: idle workers burn CPU asking "anything yet?".

A producer adds a task every so often.  Polling workers check the inbox again
and again while it is empty: each check finds nothing, and all those checks
keep a CPU busy (see the CPU seconds each thread used).  A blocking worker sleeps
on a ``Condition`` instead: ``wait()`` releases the lock and sleeps until the
producer's ``notify()`` says there is work, costing no CPU in between.

The fix replaces the polling loop with ``Condition.wait()`` in a ``while`` loop
that re-checks after every wake-up (another worker may have taken the task).
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

INTERVAL = Param("interval", float, 0.0, 5.0, 0.05)  # s between two tasks added


class BusyPolling(Program):
    params = (THREADS, TASKS, INTERVAL, WORK_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.lock = ctx.tracer.lock("inbox")
        self.not_empty = ctx.tracer.condition("not_empty", self.lock)
        self.inbox: deque[int] = deque()
        self.closed = False  # no more tasks will come
        self.get = self.get_blocking if ctx.fixed else self.get_polling

    def put(self, task_id: int) -> None:
        with self.lock:
            self.inbox.append(task_id)
            self.ctx.added(task_id)
            self.not_empty.notify()  # wake one sleeping worker, if any sleeps

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.not_empty.notify_all()  # every sleeper must wake to see it

    # --- the bug and its fix, side by side --------------------------------------
    def get_polling(self) -> int | None:
        while True:
            while not self.inbox and not self.closed:
                self.ctx.step("poll")  # asks again and again,
                self.ctx.report_cpu()  # burning CPU the while
            with self.lock:
                if self.inbox:
                    return self.inbox.popleft()
                if self.closed:
                    return None

    def get_blocking(self) -> int | None:
        with self.lock:
            while not self.inbox and not self.closed:  # again after a wake-up
                self.not_empty.wait()  # asleep till notified: no CPU
            return self.inbox.popleft() if self.inbox else None

    # --- the threads ---------------------------------------------------------------
    def producer(self) -> None:
        for task_id in range(1, self.ctx.params["tasks"] + 1):
            self.ctx.pause(self.ctx.params["interval"])
            self.put(task_id)
        self.close()

    def worker(self) -> None:
        ctx = self.ctx
        while (task_id := self.get()) is not None:
            ctx.taken(task_id)
            ctx.pause(ctx.params["work_time"])
            ctx.completed(task_id)
            ctx.report_cpu(force=True)

    def threads(self) -> list[ThreadSpec]:
        count = self.ctx.params["threads"]
        workers = [ThreadSpec(f"worker-{k + 1}", "worker", self.worker) for k in range(count)]
        return [ThreadSpec("producer", "producer", self.producer), *workers]

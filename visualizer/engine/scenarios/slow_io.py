"""Lock held during slow I/O: every thread queues behind one slow fetch.

Workers look keys up in a shared cache; on a miss they fetch the value from a
slow backend (simulated I/O) and store it.  The slow version fetches while
holding the cache's lock, so however many workers there are, only one of them
does anything at a time: throughput is one fetch per I/O time, and every other
worker's lock wait is as long as everybody else's I/O.

The fix fetches with the lock released and takes the lock only to read or store
the cache.  The fetches then overlap and throughput grows with the number of
workers.  Compare the lock's hold and wait times and the tasks per second.
"""

from __future__ import annotations

from functools import partial

from visualizer.engine.scenarios.program import (
    TASKS,
    THREADS,
    Context,
    Param,
    Program,
    ThreadSpec,
)

IO_TIME = Param("io_time", float, 0.0, 5.0, 0.02)  # s one fetch takes


class SlowIO(Program):
    params = (THREADS, TASKS, IO_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.lock = ctx.tracer.lock("cache")
        self.cache: dict[int, str] = {}
        self.lookup = self.lookup_io_outside if ctx.fixed else self.lookup_io_inside

    def setup(self) -> None:
        for task_id in range(1, self.ctx.params["tasks"] + 1):
            self.ctx.added(task_id)

    def fetch(self, key: int) -> str:
        """The slow backend: a network or disk round trip."""
        self.ctx.pause(self.ctx.params["io_time"])
        return f"value {key}"

    # --- the bug and its fix, side by side --------------------------------------
    def lookup_io_inside(self, key: int) -> str:
        with self.lock:
            if key not in self.cache:
                self.cache[key] = self.fetch(key)  # slow I/O while every other worker waits
            return self.cache[key]

    def lookup_io_outside(self, key: int) -> str:
        with self.lock:  # a quick look ...
            if key in self.cache:
                return self.cache[key]
        value = self.fetch(key)  # ... the slow part with the lock free: fetches overlap ...
        with self.lock:  # ... and a quick store; keep the first value if another worker won
            return self.cache.setdefault(key, value)

    # --- the threads ---------------------------------------------------------------
    def worker(self, keys: range) -> None:
        for key in keys:  # each worker has its own share of the tasks: no queue needed
            self.ctx.taken(key)
            self.ctx.started(key)
            self.lookup(key)
            self.ctx.completed(key)

    def threads(self) -> list[ThreadSpec]:
        count, tasks = self.ctx.params["threads"], self.ctx.params["tasks"]
        return [
            ThreadSpec(
                f"worker-{k + 1}", "worker", partial(self.worker, range(k + 1, tasks + 1, count))
            )
            for k in range(count)
        ]

"""Writer starvation: readers keep a read-write lock busy and the writer never gets in.

A read-write lock lets any number of readers in together, or one writer alone.
With the reader-preferring policy a new reader may enter whenever no writer is
*inside*, even while a writer is waiting.  Here the readers' reads overlap, so
there is always at least one reader inside: the reader count never drops to
zero, and the writer waits until the readers stop altogether.

The fix is the writer-preferring policy: once a writer is waiting, new readers
queue behind it, so the writer gets in as soon as the readers already inside
have left.  Compare how long the writer waited.
"""

from __future__ import annotations

from functools import partial
from time import monotonic

from visualizer.engine.scenarios.program import THREADS, Context, Param, Program, ThreadSpec

READ_TIME = Param("read_time", float, 0.001, 5.0, 0.04)  # s each read holds the lock
WRITES = Param("writes", int, 1, 1000, 5)  # updates the writer makes
DURATION = Param("duration", float, 0.1, 600.0, 1.5)  # s the readers keep reading


class WriterStarvation(Program):
    params = (THREADS, READ_TIME, WRITES, DURATION)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # The whole fix is the lock's policy.
        self.rw = ctx.tracer.rwlock("settings", prefer_writers=ctx.fixed)
        self.version = 0

    def reader(self, index: int, readers: int) -> None:
        ctx = self.ctx
        read_time = ctx.params["read_time"]
        ctx.pause(read_time * index / readers)  # staggered starts: the reads overlap
        end = monotonic() + ctx.params["duration"]
        while monotonic() < end:
            with self.rw.read_locked():  # a reader enters if no writer is inside
                ctx.pause(read_time)  # reading the settings takes a while

    def writer(self) -> None:
        ctx = self.ctx
        read_time = ctx.params["read_time"]
        ctx.pause(read_time)  # let the readers get going
        for _ in range(ctx.params["writes"]):
            with self.rw.write_locked():  # the writer needs the lock alone
                self.version += 1
            ctx.pause(read_time)

    def threads(self) -> list[ThreadSpec]:
        readers = self.ctx.params["threads"]
        return [
            *(
                ThreadSpec(f"reader-{k + 1}", "reader", partial(self.reader, k, readers))
                for k in range(readers)
            ),
            ThreadSpec("writer", "writer", self.writer),
        ]

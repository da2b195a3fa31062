"""Check-then-act: a status checked in one locked call and changed in another.

Every method of this order book takes the lock, so no single call can be torn.
The client still cancels wrongly: it asks "is the order still queued?" in one
call, and cancels it in a second call.  Between the two the lock is free, and a
worker can take the order and start on it; the client then cancels an order
that is already being processed, and the worker completes an order that was
cancelled.  The checker reports the illegal transition.

Locking each call is not enough when the decision spans two calls.  The fix is
one method that checks and acts under a single hold of the lock.
"""

from __future__ import annotations

import heapq

from visualizer.engine.scenarios.program import (
    TASKS,
    THREADS,
    WORK_TIME,
    Context,
    Param,
    Program,
    ThreadSpec,
)
from visualizer.events import CANCELLED, COMPLETED, PROCESSING, QUEUED

CANCELS = Param("cancels", int, 1, 1000, 5)  # orders the client tries to cancel


class CheckThenAct(Program):
    params = (THREADS, TASKS, CANCELS, WORK_TIME)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.lock = ctx.tracer.lock("orders")
        self.heap: list[tuple[int, int]] = []  # (-priority, order id)
        self.status: dict[int, str] = {}
        self.cancel = self.cancel_atomic if ctx.fixed else self.cancel_unsafe

    def setup(self) -> None:
        rng = self.ctx.rng("priorities")
        for order in range(1, self.ctx.params["tasks"] + 1):
            priority = rng.randrange(10)
            heapq.heappush(self.heap, (-priority, order))
            self.status[order] = QUEUED
            self.ctx.added(order, priority=priority)

    # --- each call is locked, and each is correct on its own -----------------------
    def status_of(self, order: int) -> str:
        with self.lock:
            return self.status[order]

    def set_status(self, order: int, status: str) -> None:
        with self.lock:
            before = self.status[order]
            self.status[order] = status
            if status == CANCELLED:
                self.ctx.cancelled(order, was=before)
            else:
                self.ctx.completed(order, was=before)

    def next_order(self) -> int | None:
        """The order a worker will take next (the client's favourite to cancel)."""
        with self.lock:
            return self.heap[0][1] if self.heap else None

    def take(self) -> int | None:
        with self.lock:
            while self.heap:
                _, order = heapq.heappop(self.heap)
                if self.status[order] == QUEUED:
                    self.status[order] = PROCESSING
                    self.ctx.taken(order)
                    return order
                self.ctx.discarded(order)  # a cancelled order leaves the heap
            return None

    # --- the bug and its fix, side by side --------------------------------------
    def cancel_unsafe(self, order: int) -> bool:
        if self.status_of(order) != QUEUED:  # check (the lock is released on return) ...
            return False
        # a worker can take the order right here, between the two locked calls
        self.set_status(order, CANCELLED)  # ... act on an answer that may be stale by now
        return True

    def cancel_atomic(self, order: int) -> bool:
        with self.lock:  # check and act under one hold: the answer cannot go stale
            if self.status[order] != QUEUED:
                return False
            self.status[order] = CANCELLED
            self.ctx.cancelled(order)
            return True

    # --- the threads ---------------------------------------------------------------
    def worker(self) -> None:
        while (order := self.take()) is not None:
            self.ctx.started(order)
            self.ctx.pause(self.ctx.params["work_time"])
            self.set_status(order, COMPLETED)

    def client(self) -> None:
        for _ in range(self.ctx.params["cancels"]):
            order = self.next_order()
            if order is None:
                return
            self.cancel(order)

    def threads(self) -> list[ThreadSpec]:
        count = self.ctx.params["threads"]
        workers = [ThreadSpec(f"worker-{k + 1}", "worker", self.worker) for k in range(count)]
        return [ThreadSpec("client", "client", self.client), *workers]

"""Blocking strategies: waiting for work, timeouts, shutdown and Stop.

To know that threads are really asleep in ``get_next_task`` (not merely about to
call it), the untraced runs use a tracer whose conditions count their sleepers;
the traced runs watch for ``COND_WAIT`` events.  Untraced conditions never wake
by themselves, so a missing ``notify``/``notify_all`` makes those tests fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from visualizer.events import COND_WAIT, Recorder
from visualizer.queues import STRATEGIES, QueueShutDown, RunStopped, Task, TaskTable, Tracer

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")

BLOCKING = sorted(name for name, cls in STRATEGIES.items() if cls.blocking)
WAITERS = 6
PROMPT = 1.0  # s: "at once", with room for a loaded CI machine


class CountingCondition(threading.Condition):
    """A plain Condition that counts the threads inside ``wait``."""

    def __init__(self, lock: Any = None) -> None:
        super().__init__(lock)
        self.sleepers = 0  # changed only while holding the condition's lock

    def wait(self, timeout: float | None = None) -> bool:
        self.sleepers += 1
        try:
            return super().wait(timeout)
        finally:
            self.sleepers -= 1


class CountingTracer(Tracer):
    """Untraced, except that its conditions report how many threads sleep on them."""

    def __init__(self) -> None:
        super().__init__()
        self.conditions: list[CountingCondition] = []

    def condition(self, name: str, lock: Any = None) -> CountingCondition:
        condition = CountingCondition(lock)
        self.conditions.append(condition)
        return condition


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


class Setup:
    """A blocking queue plus a way to tell how many threads sleep in it."""

    def __init__(self, strategy: str, traced: bool) -> None:
        self.recorder = Recorder() if traced else None
        self.tracer = Tracer(self.recorder) if traced else CountingTracer()
        self.queue: TaskTable = STRATEGIES[strategy](self.tracer)
        self.waiting_threads: set[int] = set()

    def sleepers(self) -> int:
        if self.recorder is None:
            return sum(condition.sleepers for condition in self.tracer.conditions)
        for _t, thread, kind, *_ in self.recorder.drain().events:
            if kind == COND_WAIT:
                self.waiting_threads.add(thread)
        return len(self.waiting_threads)

    def start_getters(self, count: int, timeout: float | None = None) -> GetterThreads:
        getters = GetterThreads(self.queue, count, timeout)
        wait_until(lambda: self.sleepers() >= count)
        return getters


class GetterThreads:
    """Threads that each call ``get_next_task`` once and keep what they got."""

    def __init__(self, queue: TaskTable, count: int, timeout: float | None) -> None:
        self.results: list[Task | None] = []
        self.errors: list[BaseException] = []
        self.returned_at: list[float] = []
        self._lock = threading.Lock()

        def get() -> None:
            try:
                result = queue.get_next_task(timeout=timeout)
            except BaseException as exc:
                with self._lock:
                    self.errors.append(exc)
            else:
                with self._lock:
                    self.results.append(result)
            with self._lock:
                self.returned_at.append(time.monotonic())

        # Daemon threads: if a test fails because a waiter is never woken, the
        # test run can still end.
        self.threads = [threading.Thread(target=get, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = sum(thread.is_alive() for thread in self.threads)
        assert alive == 0, f"{alive} getters still blocked"


parametrize_blocking = pytest.mark.parametrize(
    ("strategy", "traced"),
    [(name, traced) for name in BLOCKING for traced in (False, True)],
    ids=lambda value: {False: "untraced", True: "traced"}.get(value, value),
)


def test_blocking_strategies() -> None:
    assert BLOCKING == ["complete", "condition", "priority-queue"]


@parametrize_blocking
def test_shutdown_wakes_every_waiter(strategy: str, traced: bool) -> None:
    setup = Setup(strategy, traced)
    getters = setup.start_getters(WAITERS)
    shut_at = time.monotonic()
    setup.queue.shutdown()
    getters.join(PROMPT * 5)
    assert getters.errors == []
    assert getters.results == [None] * WAITERS
    assert max(getters.returned_at) - shut_at < PROMPT
    with pytest.raises(QueueShutDown):
        setup.queue.add_task("late", 1)


@parametrize_blocking
def test_each_add_wakes_a_waiter(strategy: str, traced: bool) -> None:
    setup = Setup(strategy, traced)
    getters = setup.start_getters(3)
    for task_id in range(3):
        setup.queue.add_task(task_id, priority=0)
    getters.join(PROMPT * 5)
    assert getters.errors == []
    assert sorted(task.task_id for task in getters.results) == [0, 1, 2]
    assert len(setup.queue) == 0


@parametrize_blocking
def test_cancelled_task_does_not_end_the_wait(strategy: str, traced: bool) -> None:
    setup = Setup(strategy, traced)
    setup.queue.add_task("cancelled", priority=9)
    assert setup.queue.cancel_task("cancelled")
    getters = setup.start_getters(1)
    setup.queue.add_task("real", priority=0)
    getters.join(PROMPT * 5)
    assert [task.task_id for task in getters.results] == ["real"]


@parametrize_blocking
def test_shutdown_lets_waiters_drain_first(strategy: str, traced: bool) -> None:
    setup = Setup(strategy, traced)
    for task_id in range(3):
        setup.queue.add_task(task_id, priority=task_id)
    setup.queue.shutdown()
    got = [setup.queue.get_next_task() for _ in range(4)]
    assert [task.task_id for task in got[:3]] == [2, 1, 0]
    assert got[3] is None


@parametrize_blocking
def test_get_times_out_on_an_empty_queue(strategy: str, traced: bool) -> None:
    queue = STRATEGIES[strategy](Tracer(Recorder()) if traced else None)
    start = time.monotonic()
    assert queue.get_next_task(timeout=0.12) is None
    elapsed = time.monotonic() - start
    assert 0.12 <= elapsed < 0.12 + PROMPT


@pytest.mark.parametrize("strategy", BLOCKING)
def test_stop_unwinds_waiters_with_run_stopped(strategy: str) -> None:
    """Gate.abort() (the engine's Stop) reaches threads blocked forever in get."""
    setup = Setup(strategy, traced=True)
    getters = setup.start_getters(3)
    aborted_at = time.monotonic()
    setup.tracer.gate.abort()
    getters.join(2.0)
    assert max(getters.returned_at) - aborted_at < 2.0
    assert len(getters.errors) == 3
    assert all(isinstance(error, RunStopped) for error in getters.errors), getters.errors
    for primitive in setup.tracer.primitives:  # nobody left holding a lock
        assert getattr(primitive, "owner", None) is None

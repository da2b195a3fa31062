"""Every strategy, used from one thread, behaves exactly like a plain sorted list.

The reference model keeps the heap as a list sorted by (-priority, insertion
order), cancelled entries included until a get reaches them (lazy deletion),
plus a dict of statuses.  Hypothesis drives each strategy and the model with the
same random sequence of calls and compares every result and every exception.
With one thread there are no races, so the unsafe strategy must pass too.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Hashable

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from visualizer.events import CANCELLED, COMPLETED, PROCESSING, QUEUED, Recorder
from visualizer.queues import STRATEGIES, GlobalLockQueue, QueueShutDown, TaskTable, Tracer

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")

IDS = st.integers(min_value=0, max_value=12)  # small, so duplicates and unknowns are common
PRIORITIES = st.integers(min_value=-2, max_value=3)  # few values, so FIFO ties are common

MACHINE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class ReferenceQueue:
    """The specification: obviously correct, single-threaded, O(n) everywhere."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, Hashable]] = []  # (-priority, order, id)
        self.priority: dict[Hashable, int] = {}
        self.status: dict[Hashable, str] = {}
        self.order = itertools.count()
        self.added = 0
        self.shut_down = False

    def add(self, task_id: Hashable, priority: int) -> None:
        if self.shut_down:
            raise QueueShutDown
        if task_id in self.status:
            raise ValueError
        bisect.insort(self.entries, (-priority, next(self.order), task_id))
        self.priority[task_id] = priority
        self.status[task_id] = QUEUED
        self.added += 1

    def get(self) -> Hashable | None:
        while self.entries:
            task_id = self.entries.pop(0)[2]
            if self.status[task_id] != CANCELLED:
                self.status[task_id] = PROCESSING
                return task_id
        return None

    def complete(self, task_id: Hashable) -> None:
        if task_id not in self.status:
            raise KeyError
        if self.status[task_id] != PROCESSING:
            raise ValueError
        self.status[task_id] = COMPLETED

    def cancel(self, task_id: Hashable) -> bool:
        if task_id not in self.status:
            raise KeyError
        if self.status[task_id] != QUEUED:
            return False
        self.status[task_id] = CANCELLED
        return True

    def queued(self) -> int:
        return sum(status == QUEUED for status in self.status.values())

    def would_block(self) -> bool:
        """Would a blocking get with no timeout wait forever?"""
        return not self.shut_down and self.queued() == 0


def outcome(call, *args):
    """(result, None) or (None, exception type): what ``call(*args)`` did."""
    try:
        return call(*args), None
    except (KeyError, ValueError, QueueShutDown) as exc:
        return None, type(exc)


def make_machine(cls: type[TaskTable], traced: bool) -> type[RuleBasedStateMachine]:
    class StrategyMatchesModel(RuleBasedStateMachine):
        @initialize(tasks=st.lists(st.tuples(IDS, PRIORITIES), max_size=10))
        def create(self, tasks: list[tuple[int, int]]) -> None:
            self.queue = cls(Tracer(Recorder()) if traced else None)
            self.model = ReferenceQueue()
            self.add(tasks)

        @rule(tasks=st.lists(st.tuples(IDS, PRIORITIES), min_size=1, max_size=4))
        def add(self, tasks: list[tuple[int, int]]) -> None:
            for task_id, priority in tasks:
                payload = ("payload", task_id)
                got = outcome(self.queue.add_task, task_id, priority, payload)
                assert got == outcome(self.model.add, task_id, priority)

        @rule(use_timeout=st.booleans())
        def get(self, use_timeout: bool) -> None:
            # A blocking strategy without a timeout would wait forever on an empty queue.
            blocks = cls.blocking and self.model.would_block()
            timeout = 0 if use_timeout or blocks else None
            task = self.queue.get_next_task(timeout=timeout)
            expected = self.model.get()
            if expected is None:
                assert task is None
            else:
                assert task is not None
                assert task.task_id == expected
                assert task.priority == self.model.priority[expected]
                assert task.payload == ("payload", expected)

        def pick(self, data: st.DataObject, status: str | None = None) -> int:
            """A known id (with the given status) most of the time, else any id."""
            known = sorted(i for i, s in self.model.status.items() if status in (None, s))
            if known and data.draw(st.integers(0, 4)) < 4:
                return data.draw(st.sampled_from(known))
            return data.draw(IDS)

        @rule(data=st.data())
        def complete(self, data: st.DataObject) -> None:
            task_id = self.pick(data, PROCESSING)
            got = outcome(self.queue.complete_task, task_id)
            assert got == outcome(self.model.complete, task_id)

        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            task_id = self.pick(data)
            got = outcome(self.queue.cancel_task, task_id)
            assert got == outcome(self.model.cancel, task_id)

        @rule(data=st.data())
        def status(self, data: st.DataObject) -> None:
            task_id = self.pick(data)
            assert self.queue.get_status(task_id) == self.model.status.get(task_id)

        @precondition(lambda self: len(self.model.status) >= 6)  # not before some work
        @rule()
        def shutdown(self) -> None:
            self.queue.shutdown()
            self.model.shut_down = True

        @invariant()
        def length_matches(self) -> None:
            assert len(self.queue) == self.model.queued()

        @invariant()
        def snapshot_matches(self) -> None:
            snap = self.queue.snapshot()
            model = self.model
            assert snap.statuses == model.status
            assert snap.added == model.added
            assert sorted((-e.priority, e.task_id, e.status) for e in snap.heap) == sorted(
                (p, task_id, model.status[task_id]) for p, _, task_id in model.entries
            )
            for child in range(1, len(snap.heap)):  # heap-array order: parent first
                assert snap.heap[(child - 1) // 2].priority >= snap.heap[child].priority

    StrategyMatchesModel.TestCase.settings = MACHINE_SETTINGS
    return StrategyMatchesModel


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_strategy_behaves_like_reference_model(strategy: str, traced: bool) -> None:
    make_machine(STRATEGIES[strategy], traced).TestCase().runTest()


class LastInFirstOut(GlobalLockQueue):
    """Serves the newest of equal priorities first: a bug the model test must catch."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._order = itertools.count(0, -1)


def test_model_test_catches_a_wrong_order() -> None:
    machine = make_machine(LastInFirstOut, traced=False)
    machine.TestCase.settings = settings(
        MACHINE_SETTINGS, phases=[Phase.generate], report_multiple_bugs=False, database=None
    )
    with pytest.raises(AssertionError):
        machine.TestCase().runTest()

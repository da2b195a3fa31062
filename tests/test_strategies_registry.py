"""The registry, the strategies' descriptions, and the locking each one promises.

The lock view and the code panel explain each strategy by its events: re-entry
shows as depth 2, readers as shared holds, the PriorityQueue's mutex as a lock of
its own.  These tests pin those promises down.
"""

from __future__ import annotations

import importlib
import threading
from operator import itemgetter

import pytest

from visualizer.events import (
    LOCK_ACQUIRED,
    LOCK_CREATED,
    LOCK_RELEASED,
    READ,
    WRITE,
    Event,
    Recorder,
    expand_held,
)
from visualizer.queues import STRATEGIES, Tracer

CONTRACT_NAMES = [
    "unsafe",
    "global-lock",
    "rlock",
    "rwlock",
    "rwlock-writers",
    "condition",
    "priority-queue",
    "complete",
]


def traced(strategy: str):
    recorder = Recorder()
    return STRATEGIES[strategy](Tracer(recorder)), recorder


def acquisitions(recorder: Recorder) -> list[Event]:
    """The acquisitions so far in time order, a whole hold (LOCK_HELD) counting as one."""
    in_order = sorted(expand_held(recorder.drain().events), key=itemgetter(0))
    return [Event(*raw) for raw in in_order if raw[2] == LOCK_ACQUIRED]


def test_registry_names() -> None:
    assert list(STRATEGIES) == CONTRACT_NAMES
    for name, cls in STRATEGIES.items():
        assert cls.name == name


@pytest.mark.parametrize("strategy", CONTRACT_NAMES)
def test_strategy_describes_itself(strategy: str) -> None:
    cls = STRATEGIES[strategy]
    assert cls.title and len(cls.title) <= 40
    assert "\n" not in cls.summary and len(cls.summary) > 100  # one plain paragraph
    assert isinstance(cls.blocking, bool) and isinstance(cls.safe, bool)
    assert len(importlib.import_module(cls.__module__).__doc__ or "") > 200  # idea and cost


@pytest.mark.parametrize("strategy", CONTRACT_NAMES)
def test_constructs_with_and_without_tracer(strategy: str) -> None:
    cls = STRATEGIES[strategy]
    for queue in (cls(), cls(Tracer()), cls(tracer=Tracer(Recorder()))):
        queue.add_task(1, 1)
        assert len(queue) == 1


def test_only_unsafe_takes_a_race_window() -> None:
    assert STRATEGIES["unsafe"](race_window=0.01).race_window == 0.01
    with pytest.raises(TypeError):
        STRATEGIES["global-lock"](race_window=0.01)


@pytest.mark.parametrize("strategy", CONTRACT_NAMES)
def test_every_traced_lock_is_announced(strategy: str) -> None:
    queue, recorder = traced(strategy)
    created = {raw[3] for raw in recorder.drain().events if raw[2] == LOCK_CREATED}
    assert created == {primitive.name for primitive in queue.tracer.primitives}
    assert (created == set()) == (strategy == "unsafe")


@pytest.mark.parametrize(("strategy", "lock"), [("rlock", "queue"), ("complete", "queue")])
def test_rlock_strategies_re_enter(strategy: str, lock: str) -> None:
    queue, recorder = traced(strategy)
    queue.add_task("a", 1)
    queue.add_task("b", 1)
    acquisitions(recorder)
    assert queue.cancel_task("b")
    depths = [e.b for e in acquisitions(recorder) if e.subject == lock]
    assert depths == [1, 2]


def test_rlock_complete_re_enters() -> None:
    queue, recorder = traced("rlock")
    queue.add_task("a", 1)
    queue.get_next_task()
    acquisitions(recorder)
    queue.complete_task("a")
    assert [e.b for e in acquisitions(recorder)] == [1, 2]


@pytest.mark.parametrize("strategy", ["rwlock", "rwlock-writers"])
def test_rwlock_readers_and_writers(strategy: str) -> None:
    queue, recorder = traced(strategy)

    def mode_of(call) -> list[str]:
        acquisitions(recorder)
        call()
        return [e.a for e in acquisitions(recorder)]

    assert mode_of(lambda: queue.add_task("a", 1)) == [WRITE]
    assert mode_of(lambda: queue.get_status("a")) == [READ]
    assert mode_of(lambda: len(queue)) == [READ]
    assert mode_of(queue.snapshot) == [READ]
    assert mode_of(queue.get_next_task) == [WRITE]
    assert mode_of(lambda: queue.complete_task("a")) == [WRITE]
    assert mode_of(lambda: queue.cancel_task("a")) == [WRITE]
    assert mode_of(queue.shutdown) == [WRITE]


def test_rwlock_variants_differ_in_policy_only() -> None:
    readers_first, writers_first = STRATEGIES["rwlock"](), STRATEGIES["rwlock-writers"]()
    assert not readers_first._rw.prefer_writers
    assert writers_first._rw.prefer_writers


def test_priority_queue_traces_its_internal_mutex() -> None:
    queue, recorder = traced("priority-queue")
    names = {primitive.name for primitive in queue.tracer.primitives}
    assert names == {
        "table",
        "PriorityQueue.mutex",
        "PriorityQueue.not_empty",
        "PriorityQueue.not_full",
        "PriorityQueue.all_tasks_done",
    }
    queue.add_task("a", 1)
    assert [e.subject for e in acquisitions(recorder)] == ["table", "PriorityQueue.mutex"]
    queue.get_next_task()
    assert [e.subject for e in acquisitions(recorder)] == ["PriorityQueue.mutex", "table"]


def test_priority_queue_lock_order_is_table_then_mutex() -> None:
    """Never the table while holding the mutex: replay every thread's holds."""
    recorder = Recorder()
    queue = STRATEGIES["priority-queue"](Tracer(recorder))

    def work(offset: int) -> None:
        for number in range(300):
            queue.add_task(offset + number, number % 4)
            if number % 7 == 0:
                queue.cancel_task(offset + number)
            queue.snapshot()
            task = queue.get_next_task(timeout=0)
            if task is not None:
                queue.complete_task(task.task_id)

    threads = [threading.Thread(target=work, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    queue.shutdown()
    held: dict[int, list[str]] = {}
    for raw in recorder.drain().events:
        e = Event(*raw)
        if e.subject not in ("table", "PriorityQueue.mutex"):
            continue
        mine = held.setdefault(e.thread, [])
        if e.kind == LOCK_ACQUIRED:
            assert not (e.subject == "table" and "PriorityQueue.mutex" in mine)
            mine.append(e.subject)
        elif e.kind == LOCK_RELEASED:
            mine.remove(e.subject)
    assert all(not locks for locks in held.values())

"""The stale-read search: where the bytecode reads and writes shared state, and the
schedules that let another thread write between a read and its use."""

from __future__ import annotations

import dis
from dataclasses import replace

import pytest
import user_queues as uq

from visualizer.engine import Workload
from visualizer.engine.scheduler.access import accesses
from visualizer.events import DOUBLE_DELIVERY, ILLEGAL_TRANSITION, LOST_UPDATE, WORKER_ERROR
from visualizer.stepping.search import search
from visualizer.stepping.subject import Subject

SOURCE = """
import heapq

class Q:
    def touch(self, x, key):
        self.status[key] = x
        heapq.heappop(self.heap)
        self.items.append(x)
        count = self.count
        self.count = count + 1
        self.log.write(x)
        return len(self.seen)
"""


def _accesses() -> tuple[set[str], set[str]]:
    namespace: dict = {}
    exec(compile(SOURCE, "q.py", "exec"), namespace)
    found = accesses(dis.get_instructions(namespace["Q"].touch))
    reads = {name for r, _ in found.values() for name in r}
    writes = {name for _, w in found.values() for name in w}
    return reads, writes


def test_a_dict_lookup_is_a_read_and_a_queue_take_a_write():
    namespace: dict = {}
    source = (
        "class Q:\n"
        "    def f(self, key):\n"
        "        self.table.get(key)\n"
        "        self.table.get(key, 0)\n"
        "    def g(self):\n"
        "        self.a.get()\n"
        "        self.b.get(timeout=1)\n"
        "        self.c.get(True, 1)\n"
    )
    exec(compile(source, "q.py", "exec"), namespace)
    lookups = accesses(dis.get_instructions(namespace["Q"].f))
    assert not {name for _, w in lookups.values() for name in w}
    takes = accesses(dis.get_instructions(namespace["Q"].g))
    assert {name for _, w in takes.values() for name in w} == {"a", "b", "c"}


def test_the_bytecode_says_which_attributes_are_read_and_which_written():
    reads, writes = _accesses()
    assert {"count", "seen", "heap", "items"} <= reads
    # An item store, a mutating call (as receiver or argument), an attribute store.
    assert writes == {"status", "heap", "items", "count"}
    # Calling a method that is not a known mutator, or len(), writes nothing.
    assert "log" not in writes and "seen" not in writes


def _subject(tmp_path, name, text, cls, **changes) -> Subject:
    settings = {"producers": 2, "workers": 2, "tasks": 3, "rate": 0.0, "work_time": 0.0}
    settings.update(changes)
    return Subject(Workload(queue=uq.write(tmp_path, name, text, cls), **settings))


@pytest.mark.parametrize("scenario", ["lost-update", "double-delivery", "check-then-act"])
def test_a_read_made_stale_breaks_the_scenario_in_the_first_schedule(scenario):
    s = Subject(scenario=scenario)
    granularity, model = s.shape()
    found = search(s.make_run, granularity, model, methods=("stale",), budget_seconds=60)
    assert found.played is not None and found.method == "stale"
    assert found.progress.schedules == 1
    assert found.played.model.anomalies


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_whole_search_finds_check_then_act_in_its_first_schedule(seed):
    """The client peeks at the heap, then checks the order's status, then cancels it.

    Standing back after the peek would let a worker take that very order, and
    the status check would then see it taken: only the check is the read to
    make stale (a worker takes the order after it, and the cancel is illegal).
    """
    s = Subject(scenario="check-then-act")
    granularity, model = s.shape()
    found = search(s.make_run, granularity, model, seed=seed, budget_seconds=60)
    assert found.played is not None and found.progress.schedules == 1
    assert {v.kind for v in found.played.model.anomalies} == {ILLEGAL_TRANSITION}


@pytest.mark.parametrize(("producers", "tasks"), [(1, 2), (2, 2), (2, 3)])
def test_the_homework_queue_breaks_in_the_first_schedule(tmp_path, producers, tasks):
    """Peek at the top, check its status, set it, pop: each step locked alone.

    A worker that stands back after its status check lets the other pass the
    same check: both take the task on top, and the second pop takes another.
    """
    s = _subject(tmp_path, "homework.py", uq.HOMEWORK, "HomeworkQueue", producers=producers)
    s = Subject(replace(s.workload, tasks=tasks))
    for seed in (0, 1, 2):
        found = search(s.make_run, "instruction", "gil", seed=seed, budget_seconds=60)
        assert found.played is not None and found.progress.schedules == 1
        assert DOUBLE_DELIVERY in {v.kind for v in found.played.model.anomalies}


def test_the_stale_search_breaks_the_unlocked_queue(tmp_path):
    s = _subject(tmp_path, "unlocked.py", uq.UNLOCKED, "UnlockedQueue")
    found = search(s.make_run, "instruction", "free", methods=("stale",), budget_seconds=60)
    assert found.played is not None
    kinds = {v.kind for v in found.played.model.anomalies}
    # A count update lost, a task taken twice, or a pop from a heap another emptied.
    assert kinds & {LOST_UPDATE, DOUBLE_DELIVERY, WORKER_ERROR}


@pytest.mark.parametrize(
    ("name", "text", "cls"),
    [
        ("one_lock.py", uq.ONE_LOCK, "LockedQueue"),
        ("condition.py", uq.CONDITION, "BlockingQueue"),
        ("complete.py", uq.COMPLETE, "CompleteQueue"),
    ],
)
def test_stale_reads_under_a_lock_are_no_false_alarm(tmp_path, name, text, cls):
    """Every reading step made stale in turn; a correct queue never breaks."""
    s = _subject(tmp_path, name, text, cls)
    found = search(s.make_run, "instruction", "gil", methods=("stale",), budget_seconds=120)
    assert found.played is None
    assert found.progress.schedules > 2  # it did try (not vacuous): one per reading step
    assert not found.exhausted  # only the DFS may claim the bounded space is clean

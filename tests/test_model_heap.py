"""The heap replica: exact against every real strategy, right sift paths, never crashes."""

from __future__ import annotations

import heapq

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visualizer.events import PROCESSING, QUEUED, Recorder
from visualizer.model import HeapMirror, RunModel
from visualizer.model.heap import MAX_AHEAD
from visualizer.queues import STRATEGIES, Tracer


def mirror_of(*priorities: int) -> HeapMirror:
    heap = HeapMirror()
    for task_id, priority in enumerate(priorities):
        heap.push(task_id, priority)
    return heap


def test_push_path_runs_from_the_new_leaf_up_to_where_it_settles() -> None:
    heap = mirror_of(5, 3, 4)
    heap.push("new", 9)
    assert heap.entries == [(9, "new"), (5, 0), (4, 2), (3, 1)]
    assert heap.last_path == [3, 1, 0]
    assert (heap.last_op, heap.last_task) == ("push", "new")


def test_equal_priorities_stay_first_in_first_out() -> None:
    heap = mirror_of(5)
    heap.push(1, 5)
    assert heap.entries == [(5, 0), (5, 1)]
    assert heap.last_path == [1]
    heap.pop(0)
    assert heap.entries == [(5, 1)]
    assert heap.last_path == [0]


def test_pop_path_runs_from_the_root_down_to_where_the_last_entry_settles() -> None:
    heap = mirror_of(9, 5, 8, 1)  # array: 9, 5, 8, 1
    heap.pop(0)
    # The last entry (1) replaces the root and sinks past the larger child (8, slot 2).
    assert heap.entries == [(8, 2), (5, 1), (1, 3)]
    assert heap.last_path == [0, 2]
    assert (heap.last_op, heap.last_task) == ("pop", 0)
    heap.pop(2)
    assert heap.entries == [(5, 1), (1, 3)]
    assert heap.last_path == [0, 1]
    heap.pop(1)
    heap.pop(3)
    assert heap.entries == [] and heap.last_path == [0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.data())
def test_every_sift_matches_heapq_and_its_path_is_a_chain(priorities, data) -> None:
    heap = HeapMirror()
    real: list[tuple[int, int, int]] = []
    for order, priority in enumerate(priorities):
        heap.push(order, priority)
        heapq.heappush(real, (-priority, order, order))
        path = heap.last_path
        assert path[0] == len(real) - 1 and heap.entries[path[-1]][1] == order
        assert all(b == (a - 1) // 2 for a, b in zip(path, path[1:], strict=False))
        assert heap.entries == [(-p, t) for p, _, t in real]
    for _ in range(data.draw(st.integers(0, len(priorities)))):
        moved = real[-1][2]
        top = heapq.heappop(real)[2]
        heap.pop(top)
        assert heap.entries == [(-p, t) for p, _, t in real]
        path = heap.last_path
        assert path[0] == 0
        assert all(a == (b - 1) // 2 for a, b in zip(path, path[1:], strict=False))
        if real and moved != top:
            assert heap.entries[path[-1]][1] == moved


# --- against the real strategies --------------------------------------------------
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 4)),
        st.tuples(st.just("get"), st.just(0)),
        st.tuples(st.just("complete"), st.integers(0, 50)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
    ),
    max_size=60,
)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@settings(max_examples=60, deadline=None)
@given(operations=OPERATIONS)
def test_replica_equals_the_real_heap_after_any_operations(name, operations) -> None:
    """Single-threaded, every strategy's stream rebuilds its heap exactly, step by step."""
    recorder = Recorder()
    queue = STRATEGIES[name](Tracer(recorder))
    model = RunModel(recorder.thread_name)
    added = 0
    for op, value in operations:
        if op == "add":
            queue.add_task(added, value)
            added += 1
        elif op == "get":
            queue.get_next_task(timeout=0)
        elif added:
            task_id = value % added
            status = queue.get_status(task_id)
            if op == "complete" and status == PROCESSING:
                queue.complete_task(task_id)
            elif op == "cancel" and status in (QUEUED, PROCESSING):
                queue.cancel_task(task_id)
        model.apply(recorder.drain())
        snapshot = queue.snapshot()
        assert model.heap.entries == [(e.priority, e.task_id) for e in snapshot.heap]
        assert model.tasks.status == snapshot.statuses
        assert {k: v for k, v in model.tasks.counts().items() if k != "added"} == snapshot.counts()
        assert model.tasks.counts()["added"] == snapshot.added
        assert model.tasks.reconciled()
    assert model.heap.resyncs == model.heap.reordered == 0
    assert model.anomalies == []


# --- a stream the replica cannot follow exactly --------------------------------------
def test_pops_reported_out_of_order_are_replayed_in_heap_order() -> None:
    """Two getters may record their pops in the opposite order to the heap's."""
    heap = mirror_of(5, 4, 3)
    heap.pop(1)  # task 0 left first; its event comes later
    assert heap.entries == [(3, 2)]
    heap.pop(0)
    assert heap.entries == [(3, 2)]
    assert (heap.reordered, heap.resyncs) == (1, 0)


def test_pops_the_replica_cannot_explain_never_crash() -> None:
    heap = mirror_of(*range(MAX_AHEAD + 5))
    heap.pop("never pushed")
    assert heap.resyncs == 1 and len(heap) == MAX_AHEAD + 5 and heap.last_path == []
    heap.pop(0)  # the lowest priority: far too many entries ahead of it to be a reorder
    assert heap.resyncs == 2 and len(heap) == MAX_AHEAD + 4
    real = [(-p, p, p) for p in range(1, MAX_AHEAD + 5)]
    heapq.heapify(real)
    assert sorted(heap.entries, reverse=True) == sorted(((-k, t) for k, _, t in real), reverse=True)
    keys = [(-p, t) for p, t in heap.entries]
    assert all(keys[(i - 1) // 2] <= keys[i] for i in range(1, len(keys)))  # still a heap


def test_a_pop_recorded_before_its_push_cancels_the_late_push() -> None:
    """The unsafe queue records an add after its gap, when a worker may have popped it."""
    heap = mirror_of(5)
    heap.pop("late")
    heap.push("late", 9)
    assert heap.entries == [(5, 0)] and heap.resyncs == 1


def test_slots_read_the_replica_in_place_like_entries():
    mirror = HeapMirror()
    for task, priority in enumerate([3, 9, 1, 9, 5, 0, 7]):
        mirror.push(task, priority)
    slots = mirror.slots
    assert len(slots) == len(mirror.entries)
    assert list(slots) == mirror.entries
    assert slots[:3] == mirror.entries[:3]
    assert slots[-1] == mirror.entries[-1]


class CountingList(list):
    """A heap array that counts how many slots are read."""

    reads = 0

    def __getitem__(self, index):
        CountingList.reads += 1
        return super().__getitem__(index)


def test_a_pop_out_of_order_in_a_deep_heap_reads_only_the_entries_near_the_top() -> None:
    """Issue 15: finding a reordered pop's entry walks the few entries ahead of it, never
    the whole array, so a 100,000-deep replica costs what a shallow one does (log n)."""
    heap = mirror_of(*[0] * 100_000)  # equal priorities: first in, first out
    heap._heap = CountingList(heap._heap)
    CountingList.reads = 0
    heap.pop(3)  # 0, 1 and 2 were popped first; their events are still to come
    assert heap.reordered == 3 and heap.resyncs == 0
    for task_id in (0, 1, 2):
        heap.pop(task_id)  # checked off, nothing moves
    assert len(heap) == 100_000 - 4 and heap.entries[0] == (0, 4)
    assert CountingList.reads < 400  # four sift-downs of ~17 levels, and the walk
    CountingList.reads = 0
    heap.pop(50_000)  # far down: the replica is out of step; marked, dropped when on top
    assert heap.resyncs == 1 and CountingList.reads < 300
    assert len(heap) == 100_000 - 4
    for task_id in range(4, 50_000):
        heap.pop(task_id)
    assert heap.entries[0] == (0, 50_001)  # the marked entry was dropped as it surfaced

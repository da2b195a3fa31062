"""An endless run keeps bounded memory: finished tasks past a horizon are folded into
counts, and the checker still catches a task handed out again long after it finished."""

from __future__ import annotations

import pytest

from visualizer.events import (
    HEAP_DISCARDED,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
    Batch,
)
from visualizer.model import RunModel
from visualizer.model.heap import MAX_PENDING, HeapMirror
from visualizer.queues import GlobalLockQueue
from visualizer.queues.base import FINISHED_KEPT, FOLD_AT
from visualizer.queues.finished import FinishedIds


def cycle(task: int, t: int) -> list[tuple]:
    """A task's whole life: added by thread 1, delivered to and completed by thread 2."""
    return [
        (t, 1, TASK_ADDED, task, task % 7, task),
        (t + 1, 2, TASK_POPPED, task, task % 7, None),
        (t + 2, 2, TASK_COMPLETED, task, "processing", None),
    ]


def test_retired_ids_keep_two_bits_an_id_and_drop_what_is_all_done():
    ids = FinishedIds(keep=1024)
    for task in range(1, 200_001):  # numbering from 1: id 0 never comes
        ids.add(task, "completed" if task % 5 else "cancelled")
    assert ids.get(199_999) == "completed" and ids.get(200_000) == "cancelled"
    assert ids.get(200_001) is None and ids.get("a string id") is None
    assert len(ids) < 4 * 1024  # the leading, all-finished bytes were dropped
    assert ids.get(1) is None  # long gone: an event about it reads as about an unknown task


def test_retired_ids_grow_down_and_refuse_ids_too_far_apart():
    ids = FinishedIds()
    assert ids.add(1000, "completed") and ids.add(10, "cancelled")
    assert ids.get(10) == "cancelled" and ids.get(1000) == "completed" and ids.get(11) is None
    assert not ids.add(10 + FinishedIds.SPAN, "completed")  # the caller keeps that one
    assert not ids.add(-(2**62), "completed")


def test_an_endless_stream_keeps_a_bounded_model(monkeypatch):
    monkeypatch.setattr("visualizer.model.checker.COUNTER_WINDOW", 8192)
    model = RunModel(keep_finished=1000)
    for start in range(1, 150_001, 3000):
        events = [e for task in range(start, start + 3000) for e in cycle(task, 10 * task)]
        model.apply(Batch(3 * (start - 1), events, 0))
    tasks = model.tasks
    assert tasks.counts()["completed"] == tasks.added == 150_000 and tasks.reconciled()
    assert len(tasks.status) == 1000 and len(tasks.worker_of) <= 1000
    assert len(tasks.retired) < FinishedIds.KEEP + 150_000 // 4 + 2048  # all ids fit, no more
    assert len(model.checker._counter_seen) <= 8192 + 4096  # the added-counter's window
    # A lost increment in the window is still named; the end-of-run count catches any.
    model.apply(Batch(450_000, [(10**7, 1, TASK_ADDED, 150_001, 0, 150_000)], 0))
    assert [v.kind for v in model.anomalies] == ["lost-update"]
    model.finish(drained=False)
    assert [v.kind for v in model.anomalies] == ["lost-update", "lost-update"]


def test_a_task_handed_out_again_long_after_it_finished_is_still_caught():
    model = RunModel(keep_finished=10)
    events = [e for task in range(1, 101) for e in cycle(task, 10 * task)]
    events += [
        (5000, 3, TASK_POPPED, 5, 5, None),  # task 5 finished 95 tasks ago
        (5001, 1, TASK_ADDED, 6, 1, None),  # and task 6 is added again
    ]
    model.apply(Batch(0, events[:-2], 0))
    assert 5 not in model.tasks.status and model.tasks.status_of(5) == "completed"  # folded
    model.apply(Batch(len(events) - 2, events[-2:], 0))
    kinds = [(v.kind, v.task) for v in model.anomalies]
    assert kinds == [("double-delivery", 5), ("duplicate-id", 6)]


def test_a_task_cancelled_long_ago_may_leave_the_heap_late_without_a_report():
    model = RunModel(keep_finished=10)
    events = [
        (0, 1, TASK_ADDED, 1000, 0, None),
        (1, 1, TASK_CANCELLED, 1000, "queued", None),
    ]
    events += [e for task in range(1, 101) for e in cycle(task, 10 * task)]
    events += [(5000, 2, HEAP_DISCARDED, 1000, None, None)]  # lazy deletion, much later
    model.apply(Batch(0, events, 0))
    assert model.tasks.status_of(1000) == "cancelled" and 1000 not in model.tasks.status
    assert model.anomalies == []
    model.finish(drained=True)
    assert model.anomalies == []


def test_the_heap_replica_does_bounded_work_per_pop_and_bounded_pending_sets():
    heap = HeapMirror()
    for task in range(20_000):
        heap.push(task, 0)  # equal priorities: task 0 at the root, 19 999 last
    for task in range(19_999, 19_000, -1):  # popped from the wrong end: out of step
        heap.pop(task)
    assert heap.resyncs == 999 and len(heap._stale) == 999
    for task in range(19_001):  # the ones in turn; the stale ones drop once at the root
        heap.pop(task)
    assert len(heap) == 0 and not heap._stale
    for task in range(MAX_PENDING * 2):
        heap.pop(f"never pushed {task}")  # pops whose pushes never come (dropped events)
    assert len(heap._unpushed) == MAX_PENDING


def test_the_queue_forgets_finished_tasks_past_a_horizon_and_still_reconciles():
    queue = GlobalLockQueue()
    total = FOLD_AT + 500  # folding happens a batch at a time, past FOLD_AT
    for task in range(total):
        queue.add_task(task, task % 3)
    cancelled = {task for task in range(0, total, 10) if queue.cancel_task(task)}
    while (task := queue.get_next_task()) is not None:
        queue.complete_task(task.task_id)
    snap = queue.snapshot()
    assert snap.counts() == {
        "queued": 0,
        "processing": 0,
        "completed": total - len(cancelled),
        "cancelled": len(cancelled),
    }
    listed, folded_count = len(snap.statuses), sum(snap.forgotten.values())
    assert FINISHED_KEPT <= listed <= FOLD_AT and listed + folded_count == total
    assert queue.get_status(total - 1) in ("completed", "cancelled")
    # A task folded long ago is still answered for: too late to cancel, completed already.
    folded = [task for task in range(total) if task not in snap.statuses]
    assert len(folded) == folded_count >= 500
    oldest = next(task for task in folded if task not in cancelled)
    assert queue.get_status(oldest) == "completed" and queue.cancel_task(oldest) is False
    with pytest.raises(ValueError, match="is completed, not processing"):
        queue.complete_task(oldest)
    with pytest.raises(KeyError, match="unknown task id"):
        queue.complete_task(10**9)


def _folded(fast: bool, monkeypatch) -> tuple:
    """Fold a mixed batch (in and out of the bits, below them, string ids, a
    status moved on, a missing one) the C way or the Python way."""
    import visualizer.queues.finished as finished

    if not fast:
        monkeypatch.setattr(finished, "_fold_native", None)
    ids = FinishedIds()
    ids.add(5000, "completed")  # the bits now cover 5000 on (and some room past it)
    statuses: dict = {}
    batch: list = []
    for task in [*range(5001, 5300), 4990, 3, 90_000, *range(20_000, 21_000), 10**30]:
        statuses[task] = "cancelled" if task % 7 == 0 else "completed"
        batch.append(task)
    statuses["a string id"] = "completed"
    statuses[5100] = "queued"  # moved again since it finished (the unsafe queue may)
    del statuses[5101]  # nothing known about it: skipped
    batch += ["a string id", 5100, 5101]
    forgotten = {"completed": 0, "cancelled": 0}
    ids.fold(batch, statuses, forgotten)
    return bytes(ids.bits), ids.base, ids.lowest, ids._added, statuses, forgotten


def test_folding_in_c_and_in_python_leaves_the_same_bits_and_table(monkeypatch):
    import visualizer.queues.finished as finished

    if finished._fold_native is None:
        pytest.skip("the C speedups are not built")
    fast = _folded(True, monkeypatch)
    slow = _folded(False, monkeypatch)
    assert fast == slow
    bits, base, lowest, added, statuses, forgotten = fast
    # Only the ids that cannot be folded are still listed: the string id, the
    # re-queued one and the one too far away.
    assert set(statuses) == {"a string id", 5100, 10**30}
    assert lowest == 3 and sum(forgotten.values()) == added - 1 == 1300


def test_the_python_fold_sets_in_place_what_add_would_one_id_at_a_time(monkeypatch):
    """Without the C speedups ``fold`` sets the usual id straight into the bits; over
    batches that cross trims, grow the bits both ways and hold ids no bits can, it
    leaves exactly what ``add``, one id at a time, leaves."""
    import random

    import visualizer.queues.finished as finished

    monkeypatch.setattr(finished, "_fold_native", None)
    rng = random.Random(7)
    inline, one_by_one = FinishedIds(keep=64), FinishedIds(keep=64)
    statuses: dict = {}
    tables = ({}, {})
    next_id = 100
    for _ in range(24):
        batch: list = []
        for _ in range(rng.randrange(500, 3000)):
            next_id += rng.choice((1, 1, 1, 2, 7))
            task = rng.choice((next_id, next_id, next_id, next_id - 4000, 3, 10**12, "x"))
            statuses[task] = rng.choice(("completed", "completed", "cancelled", "queued"))
            batch.append(task)
        for table in tables:
            table.update(statuses)
        inline.fold(batch, tables[0], forgotten_inline := {"completed": 0, "cancelled": 0})
        kept = tables[1]
        forgotten = {"completed": 0, "cancelled": 0}
        for task in batch:
            status = kept.get(task)
            if status in ("completed", "cancelled") and one_by_one.add(task, status):
                del kept[task]
                forgotten[status] += 1
        assert forgotten_inline == forgotten
        assert (inline.bits, inline.base, inline.lowest, inline._added) == (
            one_by_one.bits,
            one_by_one.base,
            one_by_one.lowest,
            one_by_one._added,
        )
        assert tables[0] == tables[1]
        statuses.clear()
    assert inline._added > 3 * 4096  # the batches crossed trims

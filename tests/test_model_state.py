"""RunModel as a whole: threads, timelines, metrics, bookkeeping, summary."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict

import numpy as np
import pytest

from visualizer.events import (
    EXCLUSIVE,
    LOCK_ACQUIRED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    MARK,
    PROCESSING,
    TASK_ADDED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    Batch,
    Recorder,
)
from visualizer.model import SERIES, RunModel, Segment
from visualizer.queues import GlobalLockQueue, Tracer

MS = 1_000_000


def test_threads_get_names_roles_and_colours_in_order_of_appearance() -> None:
    model = RunModel({3: "MainThread"}.get)
    model.apply(
        Batch(
            0,
            [
                (1, 3, MARK, "run started", None, None),
                (2, 5, THREAD_STARTED, "producer-1", "producer", None),
                (3, 6, THREAD_STARTED, "worker-1", "worker", None),
                (4, 9, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
                (5, 6, THREAD_ENDED, "worker-1", "worker", None),
            ],
            0,
        )
    )
    threads = model.threads
    assert [(i, t.name, t.role, t.color_index, t.alive) for i, t in threads.items()] == [
        (3, "MainThread", "", 0, True),
        (5, "producer-1", "producer", 1, True),
        (6, "worker-1", "worker", 2, False),
        (9, "thread-9", "", 3, True),
    ]
    assert model.timeline.threads() == [3, 5, 6, 9]
    # The OS may hand an ended thread's ident to a new thread: it gets its own colour.
    model.apply(Batch(5, [(6, 6, THREAD_STARTED, "worker-5", "worker", None)], 0))
    assert (threads[6].name, threads[6].color_index, threads[6].alive) == ("worker-5", 4, True)


def test_counts_reconcile_after_every_single_event() -> None:
    recorder = Recorder()
    queue = GlobalLockQueue(Tracer(recorder))
    rng = random.Random(3)
    for task_id in range(200):
        queue.add_task(task_id, rng.randrange(5))
        if rng.random() < 0.5:
            task = queue.get_next_task()
            if rng.random() < 0.8:
                queue.complete_task(task.task_id)
        if rng.random() < 0.2:
            queue.cancel_task(rng.randrange(task_id + 1))
    model = RunModel(recorder.thread_name)
    for event in recorder.drain().events:
        model.apply(Batch(model.events_applied, [event], 0))
        assert model.tasks.reconciled()
    snapshot = queue.snapshot()
    assert {k: v for k, v in model.tasks.counts().items() if k != "added"} == snapshot.counts()
    assert model.tasks.counts()["added"] == 200
    processing = [t for t, s in snapshot.statuses.items() if s == PROCESSING]
    assert processing and model.anomalies == []
    assert model.tasks.worker_of[processing[0]] == threading.get_ident()


def test_work_and_wait_segments_per_thread() -> None:
    model = RunModel()
    w = 4
    model.apply(
        Batch(
            0,
            [
                (0, 1, TASK_ADDED, 5, 1, 1),
                (10, w, LOCK_REQUESTED, "queue", EXCLUSIVE, 1),
                (30, w, LOCK_ACQUIRED, "queue", EXCLUSIVE, 1),
                (35, w, TASK_POPPED, 5, 1, None),
                (38, w, LOCK_RELEASED, "queue", EXCLUSIVE, 0),
                (40, w, TASK_STARTED, 5, None, None),
            ],
            0,
        )
    )
    assert model.timeline.segments(w) == [
        Segment(10, 30, "wait", "queue"),
        Segment(40, None, "work", "5"),
    ]
    model.apply(
        Batch(
            6,
            [
                (90, w, TASK_COMPLETED, 5, "processing", None),
                (95, w, LOCK_REQUESTED, "queue", EXCLUSIVE, 1),
                (99, w, THREAD_ENDED, "worker-1", "worker", None),  # a stopped thread waits no more
            ],
            0,
        )
    )
    assert model.timeline.segments(w) == [
        Segment(10, 30, "wait", "queue"),
        Segment(40, 90, "work", "5"),
        Segment(95, 99, "wait", "queue"),
    ]


def test_timeline_keeps_only_the_window() -> None:
    model = RunModel(window_s=0.5)
    events = []
    for i in range(10):  # one 10 ms piece of work every 100 ms
        events.append((i * 100 * MS, 1, TASK_ADDED, i, 1, i + 1))
        events.append((i * 100 * MS, 2, TASK_POPPED, i, 1, None))
        events.append((i * 100 * MS, 2, TASK_STARTED, i, None, None))
        events.append((i * 100 * MS + 10 * MS, 2, TASK_COMPLETED, i, "processing", None))
    model.apply(Batch(0, events, 0))
    assert [s.label for s in model.timeline.segments(2)] == ["4", "5", "6", "7", "8", "9"]


def test_metric_series_in_100_ms_buckets() -> None:
    model = RunModel(window_s=30)
    model.apply(
        Batch(
            0,
            [
                (0, 1, TASK_ADDED, 1, 1, 1),
                (10 * MS, 1, TASK_ADDED, 2, 1, 2),
                (20 * MS, 1, TASK_ADDED, 3, 1, 3),
                (50 * MS, 2, TASK_POPPED, 1, 1, None),
                (120 * MS, 3, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
                (121 * MS, 4, LOCK_REQUESTED, "q", EXCLUSIVE, 3),
                (124 * MS, 3, LOCK_RELEASED, "q", EXCLUSIVE, 0),
                (125 * MS, 4, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
                (130 * MS, 2, TASK_COMPLETED, 1, "processing", None),
                (450 * MS, 2, TASK_POPPED, 2, 1, None),  # buckets 2 and 3 are empty
            ],
            0,
        )
    )
    series = model.metrics.series()
    assert set(series) == set(SERIES)
    t_s, added = series["added_per_s"]
    np.testing.assert_allclose(t_s, [0.1, 0.2, 0.3, 0.4])  # the open bucket (4) is not shown
    np.testing.assert_allclose(added, [30, 0, 0, 0])
    np.testing.assert_allclose(series["completed_per_s"][1], [0, 10, 0, 0])
    np.testing.assert_allclose(series["queue_depth"][1], [2, 2, 2, 2])
    np.testing.assert_allclose(series["lock_wait_ms"][1], [0, 4, 0, 0])
    np.testing.assert_allclose(series["events_per_s"][1], [40, 50, 0, 0])
    model.finish(drained=False)
    t_s, depth = model.metrics.series()["queue_depth"]
    assert t_s[-1] == pytest.approx(0.5) and depth[-1] == 1


def test_metrics_keep_only_the_window() -> None:
    model = RunModel(window_s=0.3)
    model.apply(Batch(0, [(i * 100 * MS, 1, TASK_ADDED, i, 1, i + 1) for i in range(20)], 0))
    t_s, added = model.metrics.series()["added_per_s"]
    np.testing.assert_allclose(t_s, [1.7, 1.8, 1.9])
    np.testing.assert_allclose(added, [10, 10, 10])
    model.apply(Batch(20, [(3600 * 10**9, 1, MARK, "an hour later", None, None)], 0))
    t_s, added = model.metrics.series()["added_per_s"]
    assert len(t_s) == 3 and t_s[-1] == pytest.approx(3600.0) and not added.any()


def test_version_dropped_and_events_applied() -> None:
    model = RunModel()
    model.apply(Batch(0, [], 0))
    assert model.version == 0
    model.apply(Batch(7, [(5, 1, MARK, "x", None, None)], 7))
    assert (model.version, model.dropped, model.events_applied, model.t0_ns) == (1, 7, 1, 5)
    model.apply(Batch(8, [], 2))
    assert (model.version, model.dropped) == (2, 9)
    assert model.checker.dropped == 9


def test_finish_reports_once_and_anomalies_is_the_checker_list() -> None:
    model = RunModel()
    model.apply(Batch(0, [(1, 1, TASK_ADDED, "a", 2, 1)], 0))
    version = model.version
    found = model.finish()
    assert [v.kind for v in found] == ["lost-task"] and model.anomalies == found
    assert model.version == version + 1
    assert model.finish() == []


def test_finished_task_details_are_bounded_but_counts_exact() -> None:
    model = RunModel(keep_finished=2)
    events = []
    for i in range(5):
        events += [
            (i, 1, TASK_ADDED, i, 1, i + 1),
            (i, 2, TASK_POPPED, i, 1, None),
            (i, 2, TASK_COMPLETED, i, "processing", None),
        ]
    model.apply(Batch(0, events, 0))
    # Past the horizon a finished task is only counted: its id joins a range of ids.
    assert model.tasks.counts()["completed"] == 5 and len(model.tasks.status) == 2
    assert model.tasks.status_of(0) == "completed" and model.tasks.retired_count == 3
    assert model.tasks.history(0) == [] and 0 not in model.tasks.worker_of
    assert [s for _, s, _ in model.tasks.history(4)] == ["queued", "processing", "completed"]
    assert model.tasks.worker_of[4] == 2 and model.tasks.priority[4] == 1


def test_summary_for_the_command_line() -> None:
    model = RunModel({1: "producer-1", 2: "worker-1"}.get)
    events = [
        (0, 1, TASK_ADDED, 1, 1, 1),
        (0, 1, TASK_ADDED, 2, 1, 1),  # a lost update
        (100 * MS, 2, LOCK_ACQUIRED, "queue", EXCLUSIVE, 1),
        (100 * MS, 2, TASK_POPPED, 1, 1, None),
        (100 * MS + 3000, 2, LOCK_RELEASED, "queue", EXCLUSIVE, 0),
        (100 * MS + 3000, 2, TASK_COMPLETED, 1, "processing", None),
        (2000 * MS, 2, TASK_POPPED, 2, 1, None),
        (2000 * MS, 2, TASK_COMPLETED, 2, "processing", None),
    ]
    model.apply(Batch(0, events, 0))
    model.finish()
    summary = model.summary()
    assert summary.duration_s == pytest.approx(2.0)
    assert summary.completed_per_s == pytest.approx(1.0)
    assert summary.events == 8 and summary.dropped == 0
    [lock] = summary.locks
    assert (lock.name, lock.acquisitions, lock.contention) == ("queue", 1, 0.0)
    assert lock.hold_p50_us == pytest.approx(3.0, rel=0.02)
    assert summary.violations == {"lost-update": 2}  # the collision, and the short final count
    assert asdict(summary)["locks"][0]["name"] == "queue"
    empty = RunModel().summary()
    assert (empty.duration_s, empty.locks, empty.violations) == (0.0, [], {})


def test_advance_clock_lets_an_open_wait_grow_without_events():
    """A deadlock sends no more events; the wait must still be seen to grow."""
    model = RunModel()
    t0 = 1_000_000_000
    model.apply(
        Batch(
            0,
            [
                (t0, 1, THREAD_STARTED, "worker-1", "worker", None),
                (t0 + 10, 1, LOCK_REQUESTED, "queue", "x", 2),
            ],
            0,
        )
    )
    version = model.version
    (wait,) = [s for s in model.timeline.segments(1) if s.kind == "wait"]
    assert wait.end_ns is None and model.now_ns == t0 + 10

    model.advance_clock(t0 + 5_000_000_000)
    assert model.now_ns == t0 + 5_000_000_000
    assert model.version == version + 1, "views must repaint to show the longer wait"

    model.advance_clock(t0)  # the clock never runs backwards
    assert model.now_ns == t0 + 5_000_000_000
    assert model.version == version + 1


def test_cpu_samples_give_each_thread_its_share_of_a_core() -> None:
    from visualizer.events import THREAD_CPU

    model = RunModel()
    s = 1_000_000_000
    model.apply(
        Batch(
            0,
            [
                (0, 5, THREAD_STARTED, "worker-1", "worker", None),
                (1 * s, 5, THREAD_CPU, "worker-1", 0.10, None),
                (3 * s, 5, THREAD_CPU, "worker-1", 1.10, None),
            ],
            0,
        )
    )
    info = model.threads[5]
    assert info.cpu_s == 1.10 and info.cpu_share == pytest.approx(0.5)
    assert info.cpu_at == 3 * s

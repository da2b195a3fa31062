"""The lesson workloads and what they are built from: status readers, a backlog, bursts,
CPU samples, and a Stop that shuts a blocking queue down the way a program would."""

from __future__ import annotations

import pytest
from test_engine_run import TIMEOUT, Stream, fast, kinds

from visualizer.engine import Run, Workload
from visualizer.engine.lessons import LESSON_TEXTS, LESSONS, lesson_workload
from visualizer.engine.scheduler import Control
from visualizer.events import (
    COND_NOTIFY,
    COND_WAIT,
    COND_WOKEN,
    LOCK_ACQUIRED,
    READ,
    TASK_ADDED,
    TASK_COMPLETED,
    THREAD_CPU,
    THREAD_ENDED,
    Batch,
)
from visualizer.model import RunModel
from visualizer.queues import STRATEGIES


@pytest.fixture
def runs():
    made: list[Run] = []
    yield made
    for run in made:
        assert run.stop(2.0), "a run did not stop within 2 s"


def test_every_strategy_has_a_lesson_that_runs_until_stopped():
    assert set(LESSONS) == set(STRATEGIES) == set(LESSON_TEXTS)
    for name in STRATEGIES:
        workload = lesson_workload(name)
        workload.validate()
        assert workload.strategy == name and workload.tasks == 0
    assert lesson_workload("rwlock").readers > 0, "a read-write lock needs readers to show"
    assert lesson_workload("complete").cancel_probability > 0


@pytest.mark.parametrize("field", ["readers", "backlog", "burst"])
def test_new_fields_are_validated(field):
    low = {"readers": -1, "backlog": -1, "burst": 0}[field]
    with pytest.raises(ValueError, match=f"^{field}: must be between"):
        Workload(**{field: low}).validate()


def test_status_readers_read_together_and_end_with_the_work(runs):
    run = Run(fast(strategy="rwlock", producers=1, workers=2, readers=3, tasks=400))
    runs.append(run)
    stream = Stream(run.recorder)
    run.start()
    assert run.wait(TIMEOUT) and run.errors == []
    stream.pull()
    readers = {t.ident for t in run.threads() if t.role == "reader"}
    assert len(readers) == 3
    reads = [e for e in kinds(stream.events, LOCK_ACQUIRED) if e[1] in readers]
    assert reads and all(e[4] == READ for e in reads), "a reader only ever reads"
    ended = {e[3] for e in kinds(stream.events, THREAD_ENDED)}
    assert {"reader-1", "reader-2", "reader-3"} <= ended


def test_a_backlog_bounds_what_is_queued(runs):
    run = Run(fast(producers=2, workers=1, tasks=600, backlog=40))
    runs.append(run)
    stream = Stream(run.recorder)
    run.start()
    assert run.wait(TIMEOUT)
    stream.pull()
    in_flight = most = 0
    for event in stream.events:
        if event[2] == TASK_ADDED:
            in_flight += 1
            most = max(most, in_flight)
        elif event[2] == TASK_COMPLETED:
            in_flight -= 1
    # Each producer looks at the count, then adds: at most one more each than the limit.
    assert 40 <= most <= 40 + 2
    assert len(kinds(stream.events, TASK_COMPLETED)) == 600


def test_threads_report_their_cpu_except_under_the_scheduler(runs):
    free = Run(fast(producers=1, workers=1, tasks=5_000))
    runs.append(free)
    stream = Stream(free.recorder)
    free.start()
    assert free.wait(TIMEOUT)
    stream.pull()
    assert {e[3] for e in kinds(stream.events, THREAD_CPU)} >= {"producer-1", "worker-1"}
    controlled = Run(fast(producers=1, workers=1, tasks=3), control=Control())
    runs.append(controlled)
    controlled.start()
    assert controlled.wait(TIMEOUT)
    assert not kinds(controlled.recorder.drain().events, THREAD_CPU)


def test_stop_shuts_a_complete_queue_down_and_every_sleeper_wakes(runs):
    """The shutdown() a program would call: notify_all wakes every sleeping worker."""
    run = Run(Workload(strategy="complete", producers=1, workers=3, tasks=0, rate=0.5))
    runs.append(run)
    stream = Stream(run.recorder)
    run.start()

    def all_asleep(events: list[tuple]) -> bool:
        model = RunModel()
        model.apply(Batch(0, events, 0))
        state = model.locks.locks.get("not_empty")
        return state is not None and len(state.cond_waiters) == 3

    assert stream.until(all_asleep)
    assert run.stop(2.0)
    stream.pull()
    (shutdown,) = [e for e in kinds(stream.events, COND_NOTIFY) if e[4] == 3]
    woken = [e for e in kinds(stream.events, COND_WOKEN) if e[0] >= shutdown[0]]
    assert len(woken) == 3 and all(e[4] is True for e in woken), "notified, not timed out"
    assert run.errors == []
    model = RunModel(run.recorder.thread_name)
    model.apply(Batch(0, stream.events, 0))
    sleeps = [s for i in model.timeline.threads() for s in model.timeline.segments(i)]
    assert any(s.kind == "sleep" and s.label == "not_empty" for s in sleeps)
    assert len(kinds(stream.events, COND_WAIT)) >= 3

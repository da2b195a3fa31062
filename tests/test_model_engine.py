"""The model folding real engine runs, drained every 16 ms as the window does."""

from __future__ import annotations

import time

import pytest

from visualizer.engine import Run, RunState, Workload
from visualizer.model import RunModel
from visualizer.queues import STRATEGIES


def fold_run(workload: Workload) -> tuple[Run, RunModel]:
    run = Run(workload)
    model = RunModel(run.recorder.thread_name)
    run.start()
    deadline = time.monotonic() + 30
    while not run.wait(0.016) and time.monotonic() < deadline:
        model.apply(run.recorder.drain())
    assert run.stop(timeout=5)
    model.apply(run.recorder.drain())
    model.finish(drained=run.state is RunState.FINISHED)
    return run, model


@pytest.mark.parametrize("name", sorted(n for n, cls in STRATEGIES.items() if cls.safe))
def test_safe_strategies_run_clean_and_the_model_agrees_with_the_queue(name: str) -> None:
    workload = Workload(
        strategy=name, producers=3, workers=3, tasks=600, rate=0, work_time=0,
        cancel_probability=0.1,
    )  # fmt: skip
    run, model = fold_run(workload)
    assert run.state is RunState.FINISHED and run.errors == []
    assert model.anomalies == [] and model.dropped == 0
    snapshot = run.queue.snapshot()
    assert model.tasks.status == snapshot.statuses
    assert model.tasks.reconciled() and model.tasks.counts()["added"] == snapshot.added == 600
    assert model.heap.entries == [(e.priority, e.task_id) for e in snapshot.heap]
    assert model.heap.resyncs == 0
    assert all(not state.holders and not state.waiters for state in model.locks.locks.values())
    roles = sorted(info.role for info in model.threads.values() if info.role)
    assert roles == ["producer"] * 3 + ["worker"] * 3


def test_the_unsafe_strategy_is_caught() -> None:
    workload = Workload(
        strategy="unsafe", producers=4, workers=4, tasks=400, rate=0, work_time=0,
        race_window=0.001,
    )  # fmt: skip
    run, model = fold_run(workload)
    assert model.checker.violation_counts["lost-update"] > 0
    # The model follows the stream, which for every task ends where the queue's table does.
    assert model.tasks.status == run.queue.snapshot().statuses

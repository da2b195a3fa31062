"""Run time: the views' clock stands still while the run is paused, and runs during a step."""

from __future__ import annotations

from time import perf_counter_ns

from visualizer.engine import Run, Workload
from visualizer.events import (
    EXCLUSIVE,
    GATE_WAIT,
    LOCK_ACQUIRED,
    LOCK_REQUESTED,
    MARK,
    PAUSED_MARK,
    RESUMED_MARK,
    STEP_MARK,
    TASK_ADDED,
    THREAD_STARTED,
    Batch,
)
from visualizer.model import RunModel

S = 1_000_000_000
GUI, WORKER, OTHER = 1, 2, 3


def fold(*events: tuple) -> RunModel:
    model = RunModel()
    model.apply(Batch(0, list(events), 0))
    return model


def test_time_spent_paused_is_not_run_time() -> None:
    model = fold(
        (0, GUI, MARK, "run started", None, None),
        (1 * S, WORKER, TASK_ADDED, 1, 5, 1),
        (2 * S, GUI, MARK, PAUSED_MARK, None, None),
        (2 * S + 5, OTHER, TASK_ADDED, 2, 5, 2),  # work finishing after the pause: at 2 s
        (62 * S, GUI, MARK, RESUMED_MARK, None, None),  # a minute of talking
        (63 * S, WORKER, LOCK_REQUESTED, "q", EXCLUSIVE, None),
        (64 * S, WORKER, TASK_ADDED, 3, 5, 3),
    )
    assert model.now_ns - model.t0_ns == 4 * S
    history = model.tasks.history
    assert [history(task)[0][0] for task in (1, 2, 3)] == [1 * S, 2 * S, 4 * S]
    model.advance_clock(70 * S)  # the status timer's wall clock, turned into run time
    assert model.now_ns == 10 * S


def test_a_step_runs_the_clock_until_the_stepped_thread_parks_again() -> None:
    model = fold(
        (0, GUI, MARK, "run started", None, None),
        (0, GUI, MARK, PAUSED_MARK, None, None),  # started paused (Step, F10)
        (1, WORKER, THREAD_STARTED, "worker-1", "worker", None),
        (20 * S, GUI, MARK, STEP_MARK, None, WORKER),
        (20 * S + 300, WORKER, LOCK_ACQUIRED, "q", EXCLUSIVE, 1),
        (20 * S + 500, OTHER, GATE_WAIT, "acquire q", ("x.py", 1), None),  # not the stepped one
        (20 * S + 700, WORKER, GATE_WAIT, "add", ("x.py", 2), None),  # the step is over here
        (45 * S, WORKER, TASK_ADDED, 9, 1, 1),  # still paused: lands on the step's end
    )
    assert model.now_ns == 700
    assert model.tasks.history(9)[0][0] == 700
    assert not model.clock.stepping and model.clock.frozen


def test_violations_keep_their_wall_time_for_the_trace() -> None:
    model = fold(
        (0, GUI, MARK, "run started", None, None),
        (1 * S, GUI, MARK, PAUSED_MARK, None, None),
        (9 * S, GUI, MARK, RESUMED_MARK, None, None),
        (10 * S, WORKER, TASK_ADDED, 1, 5, 1),
        (10 * S + 1, OTHER, TASK_ADDED, 1, 5, 2),  # the same id twice
    )
    (violation,) = model.anomalies
    assert violation.t_ns == 2 * S + 1
    assert violation.wall_ns == 10 * S + 1


def test_a_paused_run_stays_still_on_every_axis() -> None:
    run = Run(Workload(producers=1, workers=1, tasks=0, rate=100.0, work_time=0.001))
    model = RunModel(thread_name=run.recorder.thread_name)
    try:
        run.start()
        run.pause()
        assert run.gate.wait_parked(2, 10)  # both threads stand at a traced point
        model.apply(run.recorder.drain())
        before = model.now_ns
        model.advance_clock(perf_counter_ns())  # later on the wall clock, not in run time
        assert model.now_ns == before
        run.resume()
        model.apply(run.recorder.drain())
        model.advance_clock(perf_counter_ns())
        assert model.now_ns > before
    finally:
        run.stop()

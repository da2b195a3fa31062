"""What scenarios added below the window: programs in a Run, code positions, CPU, writer waits."""

from __future__ import annotations

from pathlib import Path
from time import monotonic

import pytest

from visualizer.cli.scenarios import play
from visualizer.engine import Drainer, Run, Workload
from visualizer.engine.scenarios import Context, Program, ThreadSpec, load_scenario
from visualizer.events import (
    CANCELLED,
    GATE_WAIT,
    PROCESSING,
    QUEUED,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    WRITE,
    Batch,
)
from visualizer.model import PositionLog, RunModel
from visualizer.model.figures import duration
from visualizer.model.locks import LockTable
from visualizer.queues import Gate
from visualizer.queues.gate import caller_location, skip_frames_of

TIMEOUT = 10.0


def test_a_program_runs_its_own_threads_after_its_setup():
    run = load_scenario("double-delivery").make_run(fixed=True, tasks=4)
    assert run.queue is None
    assert [(t.name, t.role) for t in run.threads()] == [
        ("worker-1", "worker"),
        ("worker-2", "worker"),
    ]
    events: list[tuple] = []
    with Drainer(run.recorder, lambda batch: events.extend(batch.events)):
        run.start()
        assert run.wait(TIMEOUT)
    started = {e[3]: e[1] for e in events if e[2] == THREAD_STARTED}
    assert set(started) == {"setup", "worker-1", "worker-2"}
    assert len(set(started.values())) == 3, "the setup thread's ident is not reused by a worker"
    assert {e[1] for e in events if e[2] == TASK_ADDED} == {started["setup"]}
    ended = [e for e in events if e[2] == THREAD_ENDED]
    assert len(ended) == 3
    assert all(isinstance(e[5], float) and e[5] >= 0 for e in ended), "CPU seconds in b"


def test_ordinary_runs_report_cpu_when_threads_end_too():
    run = Run(Workload(producers=1, workers=1, tasks=5, rate=0.0, work_time=0.0))
    model = RunModel(thread_name=run.recorder.thread_name)
    with Drainer(run.recorder, model.apply):
        run.start()
        assert run.wait(TIMEOUT)
    assert set(model.summary().cpu_s) == {"producer-1", "worker-1"}


def test_stop_ends_deadlocked_scenario_threads_within_two_seconds():
    run = load_scenario("lock-ordering").make_run(race_window=0.05)
    model = RunModel(thread_name=run.recorder.thread_name)
    drainer = Drainer(run.recorder, model.apply).start()
    run.start()
    try:
        deadline = monotonic() + TIMEOUT
        while not model.anomalies and monotonic() < deadline:
            run.wait(0.02)
        assert [v.kind for v in model.anomalies] == ["deadlock"]
        cycle = model.locks.deadlock_cycle()
        assert cycle is not None and set(cycle[1::2]) == {"account A", "account B"}
    finally:
        started = monotonic()
        assert run.stop(timeout=2.0)
        assert monotonic() - started < 2.5
        drainer.stop()
    assert all(not t.alive for t in run.threads())


def test_a_scenario_run_can_be_paused_and_resumed_like_any_run():
    run = load_scenario("slow-io").make_run(fixed=True, io_time=0.001, tasks=8)
    model = RunModel(thread_name=run.recorder.thread_name)
    with Drainer(run.recorder, model.apply):
        run.start(paused=True)
        assert run.gate.wait_parked(4, TIMEOUT), "every worker waits at its first traced point"
        run.resume()
        assert run.wait(TIMEOUT)
    assert model.tasks.counts()["completed"] == 8


class _Parked(Program):
    """Parks once at a rwlock and once in a helper of this test file."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.rw = ctx.tracer.rwlock("rw")

    def body(self) -> None:
        with self.rw.read_locked():  # line reported for the first park
            pass

    def threads(self) -> list[ThreadSpec]:
        return [ThreadSpec("reader", "reader", self.body)]


def test_positions_name_the_callers_line_even_through_contextlib():
    run = Run(Workload(), program=lambda run: _Parked(Context(run, {}, False)))
    model = RunModel(thread_name=run.recorder.thread_name)
    run.start(paused=True)
    try:
        assert run.gate.wait_parked(1, TIMEOUT)
        model.apply(run.recorder.drain())
        (position,) = model.positions.latest.values()
        assert position.file == __file__ and position.label == "read-acquire rw"
        source = Path(__file__).read_text(encoding="utf-8").splitlines()
        assert "line reported for the first park" in source[position.line - 1]
    finally:
        assert run.stop(timeout=2.0)


def _helper(gate: Gate) -> tuple[str, int]:
    return caller_location()


def test_skipped_files_are_looked_past(monkeypatch):
    import visualizer.queues.gate as gate_module

    monkeypatch.setattr(gate_module, "_PACKAGE_INTERNALS", gate_module._PACKAGE_INTERNALS)
    assert _helper(Gate())[0] == __file__
    skip_frames_of(__file__)
    assert _helper(Gate())[0] != __file__  # every frame here is machinery now: pytest's remain


def test_position_log_walks_history_and_forgets_ended_threads():
    log = PositionLog(capacity=4)
    log.parked(0, 0, 1, "a", ("f.py", 10))
    log.parked(1, 1, 2, "b", ("f.py", 20))
    log.parked(2, 2, 1, "c", ("g.py", 5))
    log.thread_ended(3, 3, 2)
    log.parked(4, 4, 3, "bad", ("f.py", 0))  # malformed: skipped
    log.parked(5, 5, 3, "bad", "nowhere")
    assert len(log) == 4
    assert {t: p.line for t, p in log.at(1).items()} == {1: 10, 2: 20}
    assert {t: p.line for t, p in log.at(2).items()} == {1: 5, 2: 20}
    assert {t: p.line for t, p in log.at(3).items()} == {1: 5}
    assert set(log.latest) == {1}
    assert log.files() == ["f.py", "g.py"]
    log.parked(6, 6, 1, "d", ("f.py", 30))  # the oldest position drops out; indices stay
    assert log.first_index == 1 and len(log) == 5
    assert log[4].label == "d" and log.at(4)[1].line == 30


def test_model_folds_gate_waits_and_cpu_samples():
    model = RunModel()
    model.apply(
        Batch(
            0,
            [
                (1, 7, THREAD_STARTED, "worker-1", "worker", None),
                (2, 7, GATE_WAIT, "acquire queue", ("q.py", 12), None),
                (3, 7, THREAD_ENDED, "worker-1", "worker", 0.25),
            ],
            0,
        )
    )
    assert model.threads[7].cpu_s == 0.25
    assert [p.line for p in (model.positions[0], model.positions[1])] == [12, 0]
    assert model.positions.latest == {}


def test_writer_waits_are_kept_apart_from_reader_waits():
    table = LockTable()
    table.requested(0, 1, "rw", "r")
    table.acquired(10, 1, "rw", "r", 1)
    table.requested(10, 2, "rw", WRITE)
    table.acquired(1_000, 2, "rw", WRITE, 1)
    state = table.locks["rw"]
    assert state.wait_stats.count == 2
    assert state.write_wait_stats.count == 1 and state.write_wait_stats.max == 990


def test_durations_read_well():
    assert [duration(s) for s in (0.00085, 0.0123, 1.4167)] == ["850 µs", "12.3 ms", "1.42 s"]


def test_a_headless_play_stops_at_its_time_limit():
    scenario = load_scenario("writer-starvation")
    started = monotonic()
    run, model = play(scenario, time_limit=0.5, duration=30.0)
    assert monotonic() - started < 3.0
    assert run.state.value == "stopped" and model.finished


def test_task_helpers_take_named_details_and_record_the_strategies_layout():
    run = Run(Workload())
    ctx = Context(run, {}, False)
    run.recorder.drain()  # the run's own queue announced its lock
    ctx.added(7, priority=3, counter=1)
    ctx.added(8)
    ctx.taken(7)
    ctx.started(7)
    ctx.completed(7)
    ctx.cancelled(8)
    ctx.completed(8, was=CANCELLED)
    with pytest.raises(TypeError):
        ctx.added(9, 0, 9)  # details are named, never positional
    recorded = [e[2:] for e in run.recorder.drain().events]
    assert recorded == [
        (TASK_ADDED, 7, 3, 1),
        (TASK_ADDED, 8, 0, None),
        (TASK_POPPED, 7, 3, None),  # the priority it was added with
        (TASK_STARTED, 7, None, None),
        (TASK_COMPLETED, 7, PROCESSING, None),
        (TASK_CANCELLED, 8, QUEUED, None),
        (TASK_COMPLETED, 8, CANCELLED, None),
    ]

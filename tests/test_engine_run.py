"""The engine: runs finish, pause/step/resume/stop behave, seeds reproduce, errors are kept.

Every wait here is on a condition with a generous timeout; the one fixed wait
(``stays_quiet``) checks that *nothing* happens, which cannot be observed any
other way.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
from collections.abc import Callable
from time import monotonic

import pytest

from visualizer.engine import Drainer, Run, RunState, Workload
from visualizer.events import (
    GATE_WAIT,
    LOCK_ACQUIRED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    MARK,
    STEP_MARK,
    TASK_ADDED,
    TASK_COMPLETED,
    THREAD_ENDED,
    VIOLATION,
    Batch,
    Recorder,
)
from visualizer.model import InvariantChecker, RunModel
from visualizer.queues import STRATEGIES, GlobalLockQueue, Tracer

TIMEOUT = 10.0


class Stream:
    """Drains a recorder on the test thread and keeps every event seen."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.events: list[tuple] = []

    def pull(self) -> list[tuple]:
        new = self.recorder.drain().events
        self.events.extend(new)
        return new

    def until(self, predicate: Callable[[list[tuple]], bool], timeout: float = TIMEOUT) -> bool:
        """Drain until ``predicate(all events so far)`` holds; False on timeout."""
        deadline = monotonic() + timeout
        pause = threading.Event()
        while monotonic() < deadline:
            self.pull()
            if predicate(self.events):
                return True
            pause.wait(0.005)
        return False

    def stays_quiet(self, seconds: float) -> bool:
        """Nothing new is recorded for ``seconds``."""
        self.pull()
        threading.Event().wait(seconds)
        return self.recorder.pending() == 0


def kinds(events: list[tuple], kind: int) -> list[tuple]:
    return [e for e in events if e[2] == kind]


def fast(**changes: object) -> Workload:
    """A workload with no pacing and no work time: finishes in milliseconds."""
    return Workload(**{"rate": 0.0, "work_time": 0.0, **changes})


@pytest.fixture
def runs():
    """Runs made by a test; any still going at the end is stopped (and must stop)."""
    made: list[Run] = []
    yield made
    for run in made:
        assert run.stop(2.0), "a run did not stop within 2 s"


# --- finishing ----------------------------------------------------------------------
def test_global_lock_run_completes_or_cancels_every_task(runs):
    run = Run(fast(producers=2, workers=3, tasks=300, cancel_probability=0.2))
    runs.append(run)
    run.start()
    assert run.wait(TIMEOUT)
    assert run.state is RunState.FINISHED
    counts = run.queue.snapshot().counts()
    assert counts["queued"] == counts["processing"] == 0
    assert counts["completed"] + counts["cancelled"] == 300
    assert counts["cancelled"] > 0
    assert run.produced == 300 and run.cancel_requests > 0
    assert run.errors == []
    assert not any(info.alive for info in run.threads())
    events = run.recorder.drain().events
    ended = {e[3] for e in kinds(events, THREAD_ENDED)}
    assert ended == {"producer-1", "producer-2", "worker-1", "worker-2", "worker-3"}
    model = RunModel(run.recorder.thread_name)
    model.apply(Batch(0, events, 0))
    assert model.finish() == [] and model.anomalies == []


@pytest.mark.parametrize("strategy", [name for name in STRATEGIES if name != "unsafe"])
def test_every_safe_strategy_runs_to_the_end(strategy, runs):
    run = Run(fast(strategy=strategy, producers=2, workers=2, tasks=100))
    runs.append(run)
    run.start()
    assert run.wait(TIMEOUT), f"{strategy} did not finish"
    assert run.state is RunState.FINISHED
    assert run.queue.snapshot().counts()["completed"] == 100
    assert run.errors == []


def test_duration_limits_an_unbounded_run(runs):
    run = Run(fast(tasks=0, duration=0.2, rate=200.0))
    runs.append(run)
    run.start()
    assert run.wait(TIMEOUT)
    assert run.state is RunState.FINISHED
    assert run.produced > 0
    assert run.queue.snapshot().counts()["completed"] == run.produced


# --- pause, step, resume ------------------------------------------------------------
def settled(run: Run) -> Callable[[list[tuple]], bool]:
    """Every run thread is parked, or waits for a lock that a parked thread holds.

    A thread blocked behind a parked holder never reaches the gate itself, so
    "parked" alone cannot be the test.  And a waiter whose holder has already
    released the lock is about to move, so the holder must still hold it.
    """
    idents = {info.ident for info in run.threads()}

    def check(events: list[tuple]) -> bool:
        last: dict[int, tuple] = {}
        holder: dict[object, int | None] = {}
        for event in events:
            last[event[1]] = event
            if event[2] == LOCK_ACQUIRED:
                holder[event[3]] = event[1]
            elif event[2] == LOCK_RELEASED:
                holder[event[3]] = None

        def parked(ident: int | None) -> bool:
            return ident in last and last[ident][2] == GATE_WAIT

        def stuck(ident: int) -> bool:
            event = last.get(ident)
            return event is not None and event[2] == LOCK_REQUESTED and parked(holder.get(event[3]))

        return all(parked(ident) or stuck(ident) for ident in idents)

    return check


def test_pause_stops_progress_and_resume_continues(runs):
    run = Run(Workload(producers=1, workers=2, tasks=0, rate=200.0, work_time=0.002))
    runs.append(run)
    stream = Stream(run.recorder)
    run.start()
    assert stream.until(lambda ev: len(kinds(ev, TASK_COMPLETED)) >= 5)
    run.pause()
    assert run.state is RunState.PAUSED
    assert run.gate.wait_parked(1, TIMEOUT)
    assert stream.until(settled(run))
    assert stream.stays_quiet(0.3), "events kept coming while paused"
    done_before = len(kinds(stream.events, TASK_COMPLETED))
    run.resume()
    assert run.state is RunState.RUNNING
    assert stream.until(lambda ev: len(kinds(ev, TASK_COMPLETED)) >= done_before + 5)


def test_step_lets_exactly_one_traced_point_pass(runs):
    run = Run(fast(producers=1, workers=1, tasks=3))
    runs.append(run)
    stream = Stream(run.recorder)
    run.start(paused=True)
    assert run.gate.wait_parked(2, TIMEOUT)  # both at their first lock acquire
    stream.pull()
    producer = next(info.ident for info in run.threads() if info.name == "producer-1")
    seen = len(stream.events)
    run.step(producer)
    assert stream.until(lambda ev: any(e[1] == producer for e in kinds(ev[seen:], GATE_WAIT)))
    assert stream.stays_quiet(0.1)
    mark, *after = stream.events[seen:]
    # The step is marked first (by whoever stepped, naming the thread: the views' clock
    # runs for that step alone), then exactly one traced point passes.
    assert mark[2] == MARK and mark[3] == STEP_MARK and mark[5] == producer
    assert [e[2] for e in after] == [LOCK_ACQUIRED, GATE_WAIT]
    assert all(e[1] == producer for e in after)
    assert after[1][3] == "task_added 1"  # parked at the next traced point: the task event
    run.resume()
    assert run.wait(TIMEOUT) and run.state is RunState.FINISHED


def test_slow_motion_steps_a_closed_gate(runs):
    run = Run(fast(producers=1, workers=1, tasks=0, rate=100.0))
    runs.append(run)
    stream = Stream(run.recorder)
    run.set_pace(200.0)  # before start: the run starts in slow motion
    run.start()
    assert run.gate.closed
    assert stream.until(lambda ev: len(kinds(ev, TASK_COMPLETED)) >= 2)
    run.set_pace(None)
    assert not run.gate.closed
    with pytest.raises(ValueError, match="pace"):
        run.set_pace(0)


# --- stop ---------------------------------------------------------------------------
def test_stop_mid_run_ends_every_thread_and_keeps_statistics(runs):
    run = Run(Workload(producers=2, workers=3, tasks=0, rate=100.0, work_time=0.05))
    runs.append(run)
    stream = Stream(run.recorder)
    run.start()
    assert stream.until(lambda ev: len(kinds(ev, TASK_COMPLETED)) >= 3)
    started = monotonic()
    assert run.stop(2.0)
    assert monotonic() - started < 2.0
    assert run.state is RunState.STOPPED
    assert not any(info.alive for info in run.threads())
    assert run.produced > 0 and run.ended_ns is not None and run.elapsed() > 0
    counts = run.queue.snapshot().counts()  # the queue still answers after a stop
    assert sum(counts.values()) == run.produced
    stream.pull()
    assert "run stopped" in [e[3] for e in kinds(stream.events, MARK)]
    assert run.stop() is True  # stopping again is harmless


class DeadlockQueue(GlobalLockQueue):
    """Adds take lock a then b; gets take b then a; the barrier makes them cross."""

    name = "test-deadlock"

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self._a = self.tracer.lock("a")
        self._b = self.tracer.lock("b")
        self._cross = threading.Barrier(2, timeout=TIMEOUT)

    def add_task(self, task_id, priority, payload=None) -> None:
        with self._a:
            self._cross.wait()
            with self._b:
                self._push(task_id, priority, payload)

    def get_next_task(self, timeout=None):
        with self._b:
            self._cross.wait()
            with self._a:
                return self._pop()


def test_stop_ends_a_real_deadlock_within_two_seconds(monkeypatch, runs):
    monkeypatch.setitem(STRATEGIES, DeadlockQueue.name, DeadlockQueue)
    run = Run(fast(strategy=DeadlockQueue.name, producers=1, workers=1, tasks=1))
    runs.append(run)
    model = RunModel(run.recorder.thread_name)
    stream = Stream(run.recorder)
    run.start()
    assert stream.until(lambda ev: len(kinds(ev, LOCK_REQUESTED)) == 2)
    model.apply(Batch(0, stream.events, 0))
    assert [v.kind for v in model.anomalies] == ["deadlock"]
    assert model.locks.deadlock_cycle() is not None
    assert not run.wait(0.1)  # really stuck
    started = monotonic()
    assert run.stop(2.0)
    assert monotonic() - started < 2.0
    assert not any(info.alive for info in run.threads())


# --- workload -----------------------------------------------------------------------
def produced_priorities(seed: int) -> dict[int, int]:
    run = Run(fast(producers=3, workers=2, tasks=60, seed=seed, cancel_probability=0.1))
    run.start()
    assert run.wait(TIMEOUT)
    return {e[3]: e[4] for e in kinds(run.recorder.drain().events, TASK_ADDED)}


def test_a_seed_reproduces_the_produced_priorities():
    first, again, other = produced_priorities(7), produced_priorities(7), produced_priorities(8)
    assert sorted(first) == list(range(1, 61))  # ids 1..tasks, unique across producers
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"workers": 0}, "workers: must be between 1 and 64"),
        ({"producers": 65}, "producers: must be between 1 and 64"),
        ({"tasks": -1}, "tasks: must be between 0 and 10000000"),
        ({"tasks": 2.5}, "tasks: must be a whole number"),
        ({"workers": True}, "workers: must be a whole number"),
        ({"strategy": "nope"}, "strategy: unknown 'nope'"),
        ({"rate": -1.0}, "rate: must be between 0 and 1000000"),
        ({"rate": math.nan}, "rate: must be a number"),
        ({"work_time": "slow"}, "work_time: must be a number"),
        ({"cancel_probability": 1.5}, "cancel_probability: must be between 0 and 1"),
        ({"race_window": 2.0}, "race_window: must be between 0 and 1"),
        ({"duration": 0.0}, "duration: must be more than 0 and at most 86400 s"),
        ({"switch_interval": 0.0}, "switch_interval: must be more than 0 and at most 1 s"),
        ({"priority_spread": 0}, "priority_spread: must be between 1 and 1000"),
        ({"work_distribution": "normal"}, "work_distribution: must be one of exponential"),
        ({"capacity": 10}, "capacity: must be between 1000 and 100000000"),
        ({"seed": -1}, "seed: must be between 0 and"),
    ],
)
def test_validate_names_the_field(changes, message):
    workload = Workload().replace(**changes)
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        workload.validate()
    with pytest.raises(ValueError):
        Run(workload)


def test_defaults_validate_and_convert_to_a_dict():
    workload = Workload()
    workload.validate()
    assert dataclasses.asdict(workload)["strategy"] == "global-lock"
    assert workload.replace(workers=8).workers == 8 and workload.workers == 4
    assert sum(Workload(tasks=10, producers=3).quota(i) for i in range(3)) == 10
    assert Workload(tasks=0).quota(0) is None


def test_switch_interval_is_set_for_the_run_and_restored(runs):
    before = sys.getswitchinterval()
    run = Run(Workload(tasks=0, rate=50.0, switch_interval=0.0001))
    runs.append(run)
    run.start()
    assert sys.getswitchinterval() == pytest.approx(0.0001)
    assert run.stop()
    assert sys.getswitchinterval() == before


# --- errors -------------------------------------------------------------------------
class FaultyQueue(GlobalLockQueue):
    """Completing task 3 fails, as does adding task 5 (once)."""

    name = "test-faulty"

    def complete_task(self, task_id) -> None:
        if task_id == 3:
            raise ValueError("task 3 cannot be completed")
        super().complete_task(task_id)

    def add_task(self, task_id, priority, payload=None) -> None:
        if task_id == 5:
            raise RuntimeError("no room for task 5")
        super().add_task(task_id, priority, payload)


def test_exceptions_in_run_threads_are_kept_and_do_not_hang_the_run(monkeypatch, runs):
    monkeypatch.setitem(STRATEGIES, FaultyQueue.name, FaultyQueue)
    run = Run(fast(strategy=FaultyQueue.name, producers=1, workers=2, tasks=10))
    runs.append(run)
    run.start()
    assert run.wait(TIMEOUT)
    assert run.state is RunState.FINISHED
    assert len(run.errors) == 2
    assert any(e.startswith("worker-") and "ValueError: task 3" in e for e in run.errors)
    assert any(e.startswith("producer-1: RuntimeError: no room") for e in run.errors)
    violations = kinds(run.recorder.drain().events, VIOLATION)
    assert {(v[3], v[4]) for v in violations} == {("worker-error", 3), ("worker-error", 5)}
    assert run.queue.snapshot().counts()["completed"] == 8  # all but 3 (stuck) and 5 (never added)


# --- the drainer ------------------------------------------------------------------------
def test_drainer_delivers_everything_and_reraises_callback_errors():
    recorder = Recorder()
    got: list[tuple] = []
    drainer = Drainer(recorder, lambda batch: got.extend(batch.events), interval=0.01).start()
    for n in range(1000):
        recorder.record(MARK, n)
    drainer.stop()
    assert [e[3] for e in got] == list(range(1000))

    def broken(_batch: object) -> None:
        raise KeyError("model bug")

    failing = Drainer(recorder, broken, interval=0.01).start()
    recorder.record(MARK, "boom")
    with pytest.raises(KeyError, match="model bug"):
        failing.stop()


# --- the unsafe queue is caught -----------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unsafe_with_a_race_window_is_caught_within_ten_seconds(seed, runs):
    """The issue's done-means: the checker reports a violation within 10 s, every time."""
    workload = Workload(
        strategy="unsafe",
        producers=4,
        workers=4,
        tasks=0,
        rate=0.0,
        work_time=0.0,
        race_window=0.001,
        seed=seed,
    )
    run = Run(workload)
    runs.append(run)
    checker = InvariantChecker(run.recorder.thread_name)
    found = threading.Event()

    def check(batch) -> None:
        if checker.apply(batch):
            found.set()

    drainer = Drainer(run.recorder, check, interval=0.02).start()
    started = monotonic()
    run.start()
    try:
        assert found.wait(10.0), "no violation within 10 s"
    finally:
        assert run.stop(2.0)
        drainer.stop()
    assert monotonic() - started < 10.0
    assert {v.kind for v in checker.violations} & {"lost-update", "double-delivery", "lost-task"}


def test_race_window_goes_only_to_strategies_that_take_it(runs):
    run = Run(fast(strategy="global-lock", tasks=5, race_window=0.5))  # no TypeError
    runs.append(run)
    run.start()
    assert run.wait(TIMEOUT) and run.state is RunState.FINISHED
    assert Run(Workload(strategy="unsafe", race_window=0.25)).queue.race_window == 0.25

"""The controlled scheduler driving real threads: headless, no timing assumptions.

Every run here is deterministic: exactly one thread moves at a time, and the
schedule (or the default order after it) says which.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from visualizer.engine import Run, Workload
from visualizer.engine.scenarios import load_scenario
from visualizer.engine.scheduler import Control, Schedule, Scheduler
from visualizer.events import LOCK_REQUESTED, THREAD_CPU, THREAD_ENDED, Kind
from visualizer.queues import STRATEGIES
from visualizer.stepping import play
from visualizer.stepping.explore import explore

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")

ROOT = Path(__file__).resolve().parents[1]
SCHEDULED = [
    "lost-update",
    "double-delivery",
    "check-then-act",
    "self-deadlock",
    "lock-ordering",
    "forgotten-release",
    "semaphore",
]


def maker(name, fixed=False, **overrides):
    scenario = load_scenario(name)
    return lambda control: scenario.make_run(fixed=fixed, control=control, **overrides)


def kinds(played):
    return {v.kind for v in played.model.anomalies}


@pytest.mark.parametrize("name", SCHEDULED)
def test_the_bug_schedule_shows_the_bug_and_the_good_one_does_not(name):
    scenario = load_scenario(name)
    bad = play(maker(name), scenario.bug_schedule)
    assert bad.outcome in ("finished", "deadlock")
    assert (set(scenario.expect_violations) | {"orphaned-lock"}) & kinds(bad)
    if scenario.good_schedule is not None:
        good = play(maker(name), scenario.good_schedule)
        assert good.outcome == "finished" and not kinds(good) and not good.run.errors
    fixed = play(maker(name, fixed=True), scenario.bug_schedule, strict=False)
    assert fixed.outcome == "finished" and not kinds(fixed) and not fixed.run.errors


def _stream(played):
    """The events with thread names for idents, without clock readings."""
    name = played.run.recorder.thread_name
    out = []
    for raw in played.events:
        _t, ident, kind, subject, a, b = raw
        if kind == THREAD_CPU:
            continue
        if kind == THREAD_ENDED:
            b = None
        elif kind == LOCK_REQUESTED:  # b names the holder(s) by ident: a run's own numbers
            b = tuple(map(name, b)) if isinstance(b, tuple) else b if b is None else name(b)
        out.append((name(ident), Kind(kind).name, subject, a, b))
    return out


def test_the_same_schedule_gives_the_same_events_every_time():
    schedule = load_scenario("lost-update").bug_schedule
    first = None
    for _ in range(100):
        played = play(maker("lost-update", tasks=4), schedule)
        stream = _stream(played)
        assert stream, "the play recorded nothing"
        if first is None:
            first = stream
        assert stream == first


def test_with_the_gil_an_increment_is_one_step_and_no_schedule_loses_one():
    """CPython with a GIL never switches inside `self.counter += 1`: say so, truthfully."""
    found = explore(maker("lost-update", tasks=2), "instruction", "gil", max_preemptions=2)
    assert found.played is None and found.exhausted and found.schedules > 10
    free = explore(maker("lost-update", tasks=2), "instruction", "free", max_preemptions=1)
    assert free.played is not None and "lost-update" in kinds(free.played)


def test_a_paused_start_puts_every_thread_before_its_first_line():
    scenario = load_scenario("lost-update")
    run = scenario.make_run(control=Control(granularity="line", model="free"))
    run.start(paused=True)
    try:
        scheduler = run.gate
        assert isinstance(scheduler, Scheduler) and scheduler.wait_idle(10)
        source = Path(scenario.program_class.clerk.__code__.co_filename).read_text().splitlines()
        for runner in scheduler.runners:
            assert source[runner.position.line - 1].strip().startswith("def clerk(")
        assert scheduler.history == [] and run.recorder.pending() > 0
    finally:
        run.stop()


def test_a_step_the_program_cannot_make_is_a_misfit_naming_the_step():
    schedule = Schedule.parse("instruction/gil: worker-1*3 nobody")
    played = play(maker("check-then-act"), schedule)
    assert played.outcome == "misfit"
    assert played.detail.startswith("step 4: there is no thread 'nobody'")


def test_a_thread_that_waits_forever_is_a_deadlock_at_that_step_not_a_hang():
    found = explore(
        maker("lock-ordering"),
        "sync",
        "gil",
        max_preemptions=2,
        wanted=lambda p: p.outcome == "deadlock",
    )
    assert found.played is not None
    played = found.played
    assert played.outcome == "deadlock" and "deadlock" in kinds(played)
    assert f"at step {len(played.schedule)}" in played.detail and "waits" in played.detail
    again = play(maker("lock-ordering"), found.schedule)
    assert again.outcome == "deadlock" and again.detail == played.detail


def test_a_schedule_longer_than_the_program_is_a_misfit():
    played = play(maker("lost-update", tasks=2), Schedule.parse("instruction/free: clerk-1*500"))
    assert played.outcome == "misfit"
    assert "has already ended" in played.detail or "planned step(s) left" in played.detail
    played = play(
        maker("lost-update", tasks=2),
        Schedule.parse("instruction/free: clerk-1*20 clerk-2*20 clerk-1"),
    )
    assert played.outcome == "misfit" and "every thread has ended" in played.detail, played.detail


def test_a_lenient_plan_skips_what_it_cannot_do():
    schedule = Schedule.parse("instruction/gil: nobody worker-1")
    played = play(maker("check-then-act"), schedule, strict=False)
    assert played.outcome == "finished" and played.run.gate.skipped == 1


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_sys_monitoring_gives_the_same_steps_as_settrace(version):
    """3.12+ uses sys.monitoring, 3.11 sys.settrace: one rule, the same switch points."""
    python = next(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python"), None)
    if python is None:
        pytest.skip(f"no CPython {version} here (pyenv)")
    code = (  # the engine alone: the child of a run needs no numpy, no Qt
        "from visualizer.engine.scenarios import load_scenario\n"
        "from visualizer.engine.scheduler import Control, Schedule, continue_in_order\n"
        "c = Control('instruction', 'gil', policy=continue_in_order)\n"
        "run = load_scenario('lost-update').make_run(control=c, tasks=2)\n"
        "run.start()\n"
        "assert run.wait(60)\n"
        "print(Schedule('instruction', 'gil', tuple(run.gate.history)).text())\n"
        "print([(r.name, r.position.line) for r in run.gate.runners])\n"
    )
    other = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if other.returncode != 0 and "No module named" in other.stderr:
        pytest.skip(f"CPython {version} lacks a module the core needs: {other.stderr[-200:]}")
    assert other.returncode == 0, other.stderr
    here = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert other.stdout.strip() == here.stdout.strip() != ""


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_replays_the_same_under_the_scheduler(strategy):
    """Blocking gets time out on the run's virtual clock: no wall time leaks into a replay."""

    def make(control):
        workload = Workload(
            strategy=strategy, producers=2, workers=2, tasks=4, rate=0.0, work_time=0.0
        )
        return Run(workload, control=control)

    schedule = Schedule.parse("instruction/gil: producer-2*3 worker-1*2")
    runs = [play(make, schedule, strict=False) for _ in range(3)]
    assert {p.outcome for p in runs} == {"finished"}
    assert len({p.schedule for p in runs}) == 1
    assert len({tuple(_stream(p)) for p in runs}) == 1
    assert not runs[0].model.anomalies or strategy == "unsafe"

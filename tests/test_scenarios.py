"""Every teaching scenario, headless: without the fix its bug is detected, with it the run is clean.

A data race is shown by playing the scenario's bug schedule under the
controlled scheduler (the bug shows every time, whatever the machine's load);
the other pitfalls run freely, made likely by their race windows; the
performance pitfalls are judged by measured figures with wide margins.  Runs end
by themselves or, when stuck on purpose, shortly after the checker reports it
(see ``visualizer.cli.scenarios.play``).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from visualizer.cli.scenarios import play
from visualizer.engine.scenarios import PROGRAMS, load_all, load_scenario
from visualizer.stepping import play as play_schedule

VIOLATION_SCENARIOS = [
    "lost-update",
    "double-delivery",
    "check-then-act",
    "self-deadlock",
    "lock-ordering",
    "forgotten-release",
    "semaphore",
]
FIGURE_SCENARIOS = ["slow-io", "writer-starvation", "busy-polling"]


def test_every_program_has_a_scenario_file_and_every_file_loads():
    scenarios, errors = load_all()
    assert errors == []
    assert sorted(s.program for s in scenarios) == sorted(PROGRAMS)
    assert sorted(VIOLATION_SCENARIOS + FIGURE_SCENARIOS) == sorted(s.name for s in scenarios)
    assert [s.order for s in scenarios] == sorted(s.order for s in scenarios)
    for scenario in scenarios:
        assert (scenario.figure is None) == (scenario.name in VIOLATION_SCENARIOS)


@pytest.mark.parametrize("name", VIOLATION_SCENARIOS)
def test_bug_is_detected_without_the_fix(name):
    scenario = load_scenario(name)
    if scenario.bug_schedule is not None:
        played = play_schedule(lambda c: scenario.make_run(control=c), scenario.bug_schedule)
        run, model = played.run, played.model
    else:
        run, model = play(scenario, fixed=False)
    found = set(model.checker.violation_counts)
    expected = set(scenario.expect_violations)
    if name == "forgotten-release":
        # The held lock stops either its holder (waiting for itself) or, if the bad
        # entry was its last, leaves with it: both are the forgotten release.
        expected = {"deadlock", "orphaned-lock"}
    assert found & expected, f"{name}: expected one of {expected}, found {found}"
    assert all(not t.alive for t in run.threads())


@pytest.mark.parametrize("name", VIOLATION_SCENARIOS + FIGURE_SCENARIOS)
def test_the_fix_runs_clean(name):
    run, model = play(load_scenario(name), fixed=True)
    assert model.anomalies == [], [v.detail for v in model.anomalies[:3]]
    assert run.errors == []
    assert model.finished and run.state.value == "finished"


def lock(summary, name):
    return next(lock for lock in summary.locks if lock.name == name)


def test_slow_io_holds_the_lock_for_the_io_and_the_fix_lets_fetches_overlap():
    scenario = load_scenario("slow-io")
    io_us = scenario.params["io_time"] * 1e6
    _, slow = play(scenario, fixed=False)
    _, fast = play(scenario, fixed=True)
    slow_cache, fast_cache = lock(slow.summary(), "cache"), lock(fast.summary(), "cache")
    assert slow_cache.hold_p50_us >= 0.9 * io_us  # the I/O happens inside the lock
    assert slow_cache.wait_p99_us >= io_us  # ... and the other workers wait for it
    assert fast_cache.hold_p50_us < 0.25 * io_us
    assert fast.summary().completed_per_s > 1.5 * slow.summary().completed_per_s


def test_writer_starves_under_readers_and_not_when_writers_are_preferred():
    _, starved = play(load_scenario("writer-starvation"), fixed=False)
    _, served = play(load_scenario("writer-starvation"), fixed=True)
    starved_wait = lock(starved.summary(), "settings").write_wait_max_us / 1e6
    served_wait = lock(served.summary(), "settings").write_wait_max_us / 1e6
    assert starved_wait >= 0.5, starved_wait  # the readers read for 1.5 s
    assert served_wait < 0.5, served_wait  # a read takes 40 ms


def test_polling_workers_burn_cpu_and_blocking_ones_do_not():
    def worker_cpu(fixed: bool) -> float:
        _, model = play(load_scenario("busy-polling"), fixed=fixed)
        cpu = model.summary().cpu_s
        assert {"worker-1", "worker-2"} <= set(cpu)
        return sum(seconds for name, seconds in cpu.items() if name.startswith("worker"))

    polling, blocking = worker_cpu(False), worker_cpu(True)
    assert polling > 0.1, polling
    assert polling > 5 * blocking, (polling, blocking)


def test_the_same_seed_replays_the_same_workload():
    scenario = load_scenario("double-delivery")
    first = scenario.make_run(seed=11)
    second = scenario.make_run(seed=11)
    other = scenario.make_run(seed=12)
    assert first.workload.seed == 11
    first.program.setup()
    second.program.setup()
    other.program.setup()
    assert first.program.heap == second.program.heap
    assert first.program.heap != other.program.heap


def test_forgotten_release_names_the_exception_and_the_release_it_skipped():
    scenario = load_scenario("forgotten-release")
    played = play_schedule(lambda c: scenario.make_run(control=c), scenario.bug_schedule)
    stuck = [v for v in played.model.anomalies if v.kind in ("deadlock", "orphaned-lock")]
    assert stuck
    detail = stuck[0].detail
    source = inspect.getsource(type(played.run.program).post_acquire_release).splitlines()
    assert "ValueError: invalid literal for int()" in detail
    assert "which skipped line" in detail and "self.ledger_lock.release()" in detail
    (noted,) = played.model.checker.caught.values()
    _t, _sentence, (path, raised, skipped) = noted
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    assert "int(self.entries[entry])" in lines[raised - 1]
    assert lines[skipped - 1].strip().startswith("self.ledger_lock.release()")
    assert any("release()" in line for line in source)


def test_the_database_says_which_connection_it_refused_and_why():
    from visualizer.engine.scenarios.stand_ins import Database, TooManyConnections

    db = Database(3)
    for _ in range(3):
        db.connect()
    with pytest.raises(TooManyConnections) as refused:
        db.connect()
    assert str(refused.value) == (
        "connection 4 refused: the database allows at most 3 at once, and 3 are open"
    )

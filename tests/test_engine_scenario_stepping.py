"""Per-thread stepping: a lecturer can force the exact bad interleaving, one traced point at a time.

The test is the only consumer of the run's recorder: it drains it itself and
waits, after each step, for the stepped thread to park again (a new
``GATE_WAIT`` of its own), so every step is complete before the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from time import monotonic

from visualizer.engine import Run
from visualizer.engine.scenarios import load_scenario
from visualizer.events import GATE_WAIT, TASK_POPPED, THREAD_ENDED
from visualizer.model import RunModel

TIMEOUT = 10.0


class Stepper:
    """Steps chosen threads of a paused run and folds what they did into a model."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.model = RunModel(thread_name=run.recorder.thread_name)
        self.events: list[tuple] = []

    def pull(self) -> None:
        batch = self.run.recorder.drain()
        self.events.extend(batch.events)
        self.model.apply(batch)

    def until(self, predicate: Callable[[], bool]) -> None:
        deadline = monotonic() + TIMEOUT
        nap = threading.Event()
        while not predicate():
            assert monotonic() < deadline, "the run did not get there in time"
            nap.wait(0.002)
            self.pull()

    def parks(self, ident: int) -> int:
        return sum(1 for e in self.events if e[1] == ident and e[2] in (GATE_WAIT, THREAD_ENDED))

    def step(self, ident: int) -> None:
        """Let ``ident`` pass one traced point; wait until it parks at the next or blocks.

        A thread let through to a lock that a parked thread holds waits for the
        lock, not at the gate: the model shows it among the lock's waiters.
        """
        self.pull()
        before = self.parks(ident)
        self.run.step(ident)
        self.until(lambda: self.parks(ident) > before or ident in self.model.locks.waiting_on)


def test_four_chosen_steps_force_a_double_delivery():
    # No race window: only the order of the steps decides what happens.
    run = load_scenario("double-delivery").make_run(race_window=0.0, work_time=0.0)
    stepper = Stepper(run)
    run.start(paused=True)
    try:
        assert run.gate.wait_parked(2, TIMEOUT)
        stepper.pull()
        parked = run.gate.parked()
        by_name = {run.recorder.thread_name(ident): ident for ident in parked}
        w1, w2 = by_name["worker-1"], by_name["worker-2"]
        # Both workers have looked at the top of the heap and wait in the gap.
        (label1, where1), (label2, where2) = parked[w1], parked[w2]
        assert label1 == label2 and label1.startswith("saw task ")
        task = int(label1.split()[2])
        assert where1 == where2 and where1[0].endswith("double_delivery.py")

        stepper.step(w1)  # worker-1 pops the top task and is about to report it
        stepper.step(w1)  # ... reports it: task delivered to worker-1
        stepper.step(w2)  # worker-2 pops what is on top now (another task) ...
        assert stepper.model.anomalies == []
        stepper.step(w2)  # ... and reports the task it saw before: delivered twice
        stepper.pull()

        pops = [e for e in stepper.events if e[2] == TASK_POPPED]
        assert [(e[1], e[3]) for e in pops] == [(w1, task), (w2, task)]
        violations = stepper.model.anomalies
        assert [v.kind for v in violations] == ["double-delivery"]
        assert violations[0].task == task
        assert violations[0].threads == ("worker-1", "worker-2")
        # The code panel's history has every park, each at a line of the scenario's file.
        positions = stepper.model.positions
        assert len(positions) == 6  # two first parks, then one after each of four steps
        assert all(positions[i].file.endswith("double_delivery.py") for i in range(6))
        assert set(positions.latest) == {w1, w2}
    finally:
        assert run.stop(timeout=2.0)


def test_the_fixed_queue_cannot_be_stepped_into_a_double_delivery():
    run = load_scenario("double-delivery").make_run(fixed=True, race_window=0.0, work_time=0.0)
    stepper = Stepper(run)
    run.start(paused=True)
    try:
        assert run.gate.wait_parked(2, TIMEOUT)
        stepper.pull()
        by_name = {run.recorder.thread_name(ident): ident for ident in run.gate.parked()}
        w1, w2 = by_name["worker-1"], by_name["worker-2"]
        # The interleaving that broke the unsafe queue: both workers move in turn.
        # Whoever takes the lock first makes the other wait at it, so each step
        # goes to a parked thread, whichever that is.
        for _ in range(12):
            parked = run.gate.parked()
            stepper.step(w2 if w2 in parked else w1)
        stepper.pull()
        popped = [e[3] for e in stepper.events if e[2] == TASK_POPPED]
        assert popped and len(popped) == len(set(popped))
        assert stepper.model.anomalies == []
    finally:
        assert run.stop(timeout=2.0)


def test_stepping_a_locked_strategy_shows_the_strategys_own_lines():
    """Task events recorded in TaskTable's shared helpers park the thread at the line of
    the strategy that called them (the file the code panel shows), never in base.py."""
    from visualizer.engine import Workload
    from visualizer.queues import global_lock

    run = Run(Workload(strategy="global-lock", producers=1, workers=1, tasks=3, rate=0.0))
    stepper = Stepper(run)
    run.start(paused=True)
    try:
        assert run.gate.wait_parked(2, TIMEOUT)
        seen: dict[str, tuple[str, int]] = {}
        for _ in range(40):
            stepper.pull()
            parked = run.gate.parked()
            if not parked:
                break
            for label, where in parked.values():
                seen.setdefault(label.split()[0], where)
            stepper.step(next(iter(parked)))
        source = Path(global_lock.__file__).read_text(encoding="utf-8").splitlines()
        for kind, call in (("task_added", "self._push("), ("task_popped", "self._pop()")):
            file, line = seen[kind]
            assert file == global_lock.__file__, f"{kind} parked in {file}"
            assert call in source[line - 1]
        assert all(not file.endswith("base.py") for file, _line in seen.values())
    finally:
        assert run.stop(timeout=2.0)

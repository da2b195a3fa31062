"""Stepping by hand: a lecturer forces the exact bad interleaving, one step at a time, and back.

The controlled scheduler moves exactly the thread asked for, from one switch
point to the next, so these tests need no timing: each step is complete when
``Session.step`` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from time import monotonic

import pytest

from visualizer.engine import Run
from visualizer.engine.scenarios import load_scenario
from visualizer.events import GATE_WAIT, TASK_POPPED, THREAD_ENDED
from visualizer.model import RunModel
from visualizer.stepping.session import Session

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")

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


def session(fixed: bool = False) -> Session:
    scenario = load_scenario("double-delivery")
    return Session(
        lambda control: scenario.make_run(fixed=fixed, work_time=0.0, control=control),
        "instruction",
        "free",
    )


def line_of(runner) -> str:
    return Path(runner.position.file).read_text().splitlines()[runner.position.line - 1]


def step_until(s: Session, name: str, text: str, limit: int = 200) -> None:
    """Move ``name`` until its next instruction is on the line containing ``text``."""
    runner = next(r for r in s.runners if r.name == name)
    for _ in range(limit):
        if text in line_of(runner):
            return
        s.step(name)
    raise AssertionError(f"{name} never reached {text!r}")


def fold(s: Session) -> tuple[RunModel, list[tuple]]:
    finished = s.outcome == "finished"
    s.run.stop()
    batch = s.run.recorder.drain()
    model = RunModel(thread_name=s.run.recorder.thread_name)
    model.apply(batch)
    model.finish(drained=finished)
    return model, batch.events


def test_both_workers_look_before_either_pops_and_the_task_goes_to_both():
    s = session()
    try:
        assert {line_of(r).strip() for r in s.runners} == {"def worker(self) -> None:"}
        step_until(s, "worker-1", "heapq.heappop(self.heap)")  # worker-1 has looked ...
        step_until(s, "worker-2", "heapq.heappop(self.heap)")  # ... and so has worker-2
        step_until(s, "worker-2", "ctx.started(task_id)")  # worker-2 pops and delivers the task ...
        step_until(
            s, "worker-1", "ctx.started(task_id)"
        )  # ... worker-1 pops another, delivers it too
        s.play()
        assert s.outcome == "finished"
        model, events = fold(s)
        takers: dict[object, set[int]] = {}
        for e in events:
            if e[2] == TASK_POPPED:
                takers.setdefault(e[3], set()).add(e[1])
        assert [task for task, who in takers.items() if len(who) == 2], "one task, two workers"
        kinds = [v.kind for v in model.anomalies]
        assert kinds[0] == "double-delivery" and "lost-task" in kinds
        assert model.anomalies[0].threads == ("worker-2", "worker-1")  # in delivery order
        # The code panel's history: every stop is at a line of the scenario's own file.
        parks = [e for e in events if e[2] == GATE_WAIT]
        assert parks and all(e[4][0].endswith("double_delivery.py") for e in parks)
    finally:
        s.close()


def test_the_fixed_queue_cannot_be_stepped_into_a_double_delivery():
    s = session(fixed=True)
    try:
        # The same attempt: worker-1 goes as far as the pop, then worker-2 tries.
        step_until(s, "worker-1", "heapq.heappop(self.heap)")
        worker2 = next(r for r in s.runners if r.name == "worker-2")
        for _ in range(50):
            if "worker-2" not in s.scheduler.movable():
                break
            s.step("worker-2")
        assert "waiting for lock 'queue'" in worker2.waits()
        s.play()
        model, events = fold(s)
        popped = [e[3] for e in events if e[2] == TASK_POPPED]
        assert popped and len(popped) == len(set(popped))
        assert model.anomalies == []
    finally:
        s.close()


def test_undo_takes_back_steps_exactly_and_redo_replays_them():
    s = session()
    try:
        step_until(s, "worker-1", "heapq.heappop(self.heap)")
        before = [(r.name, r.position.line, r.position.offset) for r in s.runners]
        history = s.history
        s.step("worker-2")
        s.step("worker-2")
        s.undo(2)
        assert s.history == history
        assert [(r.name, r.position.line, r.position.offset) for r in s.runners] == before
        s.redo()
        s.redo()
        assert s.history == (*history, "worker-2", "worker-2")
        s.undo(len(s.history))
        assert s.history == () and {line_of(r).strip() for r in s.runners} == {
            "def worker(self) -> None:"
        }
    finally:
        s.close()


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

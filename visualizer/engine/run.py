"""A run: one workload's producer and worker threads, and the controls over them.

Control goes through the queue's :class:`Gate`, the one place every traced point
passes: pause closes it, resume opens it, a step lets one parked thread pass one
traced point, slow motion is a :class:`Pacer` stepping a closed gate, and stop
aborts it so that every traced point (and every sliced lock wait, deadlocks
included) raises :class:`RunStopped` in the run's threads.

A run's threads are the workload's producers and workers, or, given a
``program`` (a teaching scenario, see :mod:`visualizer.engine.scenarios`), the
threads that program asks for; either way they get the same controls.

Locking: ``_control`` (a Condition) guards ``state``, the live-thread count and
the pace.  It is never held while waiting for run threads, and run threads only
take it on their way out, so a controller can never deadlock with them.
"""

from __future__ import annotations

import inspect
import math
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import partial
from time import perf_counter_ns, thread_time
from typing import TYPE_CHECKING, Any, NamedTuple

from visualizer.engine import userqueue
from visualizer.engine.pacing import Pacer
from visualizer.engine.scheduler.switching import continue_in_order
from visualizer.engine.workers import produce, read, work
from visualizer.engine.workload import Workload
from visualizer.events import (
    LOST_UPDATE,
    MARK,
    PAUSED_MARK,
    RESUMED_MARK,
    STEP_MARK,
    THREAD_ENDED,
    VIOLATION,
    WORKER_ERROR,
    Recorder,
    clip_text,
)
from visualizer.queues import STRATEGIES, Gate, RunStopped, Tracer
from visualizer.queues.gate import skip_frames_of

skip_frames_of(__file__)  # a thread sleeping through Run.sleep is shown at the line that slept

if TYPE_CHECKING:
    from visualizer.engine.scenarios.program import Program
    from visualizer.engine.scheduler import Control, Scheduler, StudyTracer


SHUTDOWN_GRACE_S = 0.5
"""How long Stop lets a free-running run's threads leave by themselves after ``shutdown()``
(a complete queue's sleepers wake and return) before it aborts the rest."""


class RunState(Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"  # every task produced, the queue drained, every thread ended
    STOPPED = "stopped"  # ended by stop()


class ThreadInfo(NamedTuple):
    name: str
    ident: int | None  # None until the thread has started
    role: str  # "producer" or "worker" (a program's threads name their own roles)
    alive: bool


def run_label(strategy: str, scenario: Mapping[str, Any] | None = None) -> str:
    """What a run is, in a few words: its scenario and whether fixed, else its strategy.

    The status bar, a saved log's replay and an exported trace all name a run
    with it, so one run is called the same everywhere.
    """
    if scenario is None:
        return strategy
    return f"{scenario['name']} ({'fixed' if scenario.get('fixed') else 'not fixed'})"


def make_queue(workload: Workload, tracer: Tracer) -> Any:
    """The workload's strategy, given only the options its constructor takes (or a user's queue).

    A user's queue that cannot be built raises a one-line ``ValueError`` naming its file.
    """
    if workload.queue is not None:
        return userqueue.build(userqueue.QueueRef.parse(workload.queue), tracer)
    cls = STRATEGIES[workload.strategy]
    options = {"race_window": workload.race_window}
    accepted = inspect.signature(cls).parameters
    return cls(tracer, **{key: value for key, value in options.items() if key in accepted})


class Run:
    """Runs ``workload`` on its own threads, reporting to ``recorder``.

    A run is started once.  Its statistics (:attr:`produced`, :attr:`errors`,
    the recorder, the queue's :meth:`snapshot`) stay readable after it ends.

    With ``program`` (called with this run, returning a scenario
    :class:`~visualizer.engine.scenarios.program.Program`), the program's
    threads run instead of producers and workers; the workload then only
    supplies the seed, the switch interval and the recorder's capacity, and
    :attr:`queue` is None (the program keeps its own shared state).
    """

    def __init__(
        self,
        workload: Workload,
        recorder: Recorder | None = None,
        program: Callable[[Run], Program] | None = None,
        control: Control | None = None,
    ) -> None:
        workload.validate()
        self.workload = workload
        self.label = workload.subject  # what the run is, in a status bar; a scenario names itself
        # A scenario's name, variant and parameters (plain data, for a recording's header).
        self.scenario: dict[str, Any] | None = None
        self.recorder = recorder if recorder is not None else Recorder(workload.capacity)
        self.control = control
        self.study: StudyTracer | None = None
        self.scheduler: Scheduler | None = None  # a controlled run's gate
        if control is None:
            self.gate = Gate(self.recorder.record)  # parked threads show up in this run's stream
        else:
            if workload.tasks == 0 and program is None:
                raise ValueError("a controlled run needs a number of tasks (tasks > 0)")
            self.gate = self.scheduler = control.scheduler(self.recorder.record)
        self.tracer = Tracer(self.recorder, self.gate)
        # A program brings its own shared state: no strategy, so no unused lock in the views.
        self.queue: Any = make_queue(workload, self.tracer) if program is None else None
        self.state = RunState.IDLE
        self.errors: list[str] = []
        self.started_ns: int | None = None
        self.ended_ns: int | None = None
        self.stop_event = threading.Event()  # wakes pacing, back-off and work waits
        self.producers_done = threading.Event()
        self._ended = threading.Event()
        self._control = threading.Condition()
        self._pace: float | None = None
        self._pacer: Pacer | None = None
        self._saved_switch_interval: float | None = None
        self._produced = [0] * workload.producers  # one slot per producer: no shared +=
        self._cancel_requests = [0] * workload.producers
        self._cancelled = [0] * workload.producers
        self._completed = [0] * workload.workers
        self._live = 0
        self.program = program(self) if program is not None else None
        specs: list[tuple[str, str, Callable[[], None]]]
        if self.program is None:
            specs = [
                (f"{role}-{index + 1}", role, partial(body, self, index))
                for role, count, body in (
                    ("producer", workload.producers, produce),
                    ("worker", workload.workers, work),
                    ("reader", workload.readers, read),
                )
                for index in range(count)
            ]
        else:
            specs = list(self.program.threads())
        self._threads: list[tuple[threading.Thread, str]] = [
            (
                threading.Thread(
                    target=self._thread_main, args=(role, body), name=name, daemon=True
                ),
                role,
            )
            for name, role, body in specs
        ]
        self._producers_left = sum(1 for _, role in self._threads if role == "producer")
        if control is not None and self.scheduler is not None:
            self.scheduler.expect([thread.name for thread, _ in self._threads])
            self.study = control.study(self.scheduler, self)

    # --- statistics ------------------------------------------------------------
    @property
    def produced(self) -> int:
        """Tasks added to the queue so far."""
        return sum(self._produced)

    @property
    def cancel_requests(self) -> int:
        """Cancels the producers asked for (successful or not)."""
        return sum(self._cancel_requests)

    def in_flight(self) -> int:
        """Tasks added and neither completed nor cancelled yet (queued or being worked on).

        Counted by the run's own threads, without asking the queue (and taking its lock).
        """
        return sum(self._produced) - sum(self._completed) - sum(self._cancelled)

    def threads(self) -> list[ThreadInfo]:
        return [ThreadInfo(t.name, t.ident, role, t.is_alive()) for t, role in self._threads]

    def elapsed(self) -> float:
        """Seconds from start to the end (or to now while running); 0 before start."""
        if self.started_ns is None:
            return 0.0
        end = self.ended_ns if self.ended_ns is not None else perf_counter_ns()
        return (end - self.started_ns) / 1e9

    # --- control ---------------------------------------------------------------
    def start(self, paused: bool = False) -> None:
        """Start every thread; with ``paused`` they stop at their first traced point."""
        with self._control:
            if self.state is not RunState.IDLE:
                raise RuntimeError(f"a run starts once; this one is {self.state.value}")
            self.state = RunState.PAUSED if paused else RunState.RUNNING
            if self.workload.switch_interval is not None:
                self._saved_switch_interval = sys.getswitchinterval()
                sys.setswitchinterval(self.workload.switch_interval)
            self.started_ns = perf_counter_ns()
            self.recorder.record(MARK, "run started")
            if paused:
                self.recorder.record(MARK, PAUSED_MARK)  # the views' clock stands still
            if self.study is not None:
                self.study.open()
            setup = (
                self._start_setup() if self.program is not None and self.program.has_setup else None
            )
            self._apply_control()
            self._live = len(self._threads)
            for thread, _role in self._threads:
                thread.start()
            if setup is not None:
                setup.release.set()
                setup.thread.join()  # type: ignore[union-attr]  # _start_setup made it

    def _start_setup(self) -> _Setup:
        """Run the program's setup on a thread of its own; return once it is done.

        A thread of its own, so the events it records (the tasks it queues) are
        named "setup" in every view rather than after whoever pressed Start.  It
        runs before the gate can close, so a paused start does not park it, and it
        stays alive until the program's threads have started: an ended thread's
        ident may be given to the next thread started, and the tasks it added
        would then seem to come from that thread.
        """
        setup = _Setup(threading.Event(), threading.Event(), None)
        setup.thread = threading.Thread(
            target=self._setup_main, args=(setup,), name="setup", daemon=True
        )
        setup.thread.start()
        setup.done.wait()
        return setup

    def _setup_main(self, setup: _Setup) -> None:
        self.recorder.register_thread("setup")
        try:
            self.program.setup()  # type: ignore[union-attr]  # runs only for a program

        except Exception as exc:
            self.report_error(exc, None)
        finally:
            setup.done.set()
            setup.release.wait()
            self.recorder.record(THREAD_ENDED, "setup", "setup", round(thread_time(), 6))

    def pause(self) -> None:
        """Threads stop at their next traced point (a thread mid-work finishes it first)."""
        with self._control:
            if self.state is RunState.RUNNING:
                self.state = RunState.PAUSED
                self.recorder.record(MARK, PAUSED_MARK)
                self._apply_control()

    def resume(self) -> None:
        with self._control:
            if self.state is RunState.PAUSED:
                self.state = RunState.RUNNING
                self.recorder.record(MARK, RESUMED_MARK)
                self._apply_control()

    def step(self, ident: int | None = None) -> None:
        """Let one parked thread (``ident``, or the one parked longest) pass one traced point.

        The step is marked in the stream with the thread it lets through, so the
        views' clock runs for exactly as long as that thread moves.
        """
        moving = ident
        if moving is None and self.scheduler is None:  # the free gate moves the oldest
            moving = next(iter(self.gate.parked()), None)
        self.recorder.record(MARK, STEP_MARK, None, moving)
        self.gate.step(ident)

    def set_pace(self, ops_per_s: float | None) -> None:
        """Slow motion: let ``ops_per_s`` traced points pass per second; None = full speed."""
        if ops_per_s is not None and not _is_positive(ops_per_s):
            raise ValueError("pace: must be a positive number of steps per second, or None")
        with self._control:
            self._pace = ops_per_s
            if ops_per_s is not None and self._pacer is None:
                self._pacer = Pacer(self.gate)
            if self.state in (RunState.RUNNING, RunState.PAUSED):
                self._apply_control()

    def _apply_control(self) -> None:
        """Set the gate and the pacer from state and pace (caller holds ``_control``)."""
        running = self.state is RunState.RUNNING
        if self.scheduler is not None:
            # A controlled run moves on its own only while running at full speed (in
            # the default order); paused, the user picks; in slow motion, the pacer.
            free = running and self._pace is None
            policy = (self.control and self.control.policy) or continue_in_order
            self.scheduler.set_policy(policy if free else None)
            if self._pacer is not None:
                self._pacer.set_rate(self._pace if running else None)
            return
        if running and self._pace is None:
            self.gate.open()
        else:
            self.gate.close()
        if self._pacer is not None:
            self._pacer.set_rate(self._pace if running else None)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is over (FINISHED or STOPPED) and its threads have
        returned; False on timeout.

        The last thread concludes the run on its way out, a moment before it has
        returned: joining too means that "over" never finds a thread still alive.
        """
        deadline = None if timeout is None else perf_counter_ns() + int(timeout * 1e9)
        if not self._ended.wait(timeout):
            return False
        for thread, _role in self._threads:
            if thread.ident is None or thread is threading.current_thread():
                continue
            left = None if deadline is None else max(0.0, (deadline - perf_counter_ns()) / 1e9)
            thread.join(left)
            if thread.is_alive():
                return False
        return True

    def stop(self, timeout: float = 2.0) -> bool:
        """End every run thread; True if all ended within ``timeout`` seconds.

        Aborting the gate unwinds threads parked at it or blocked in a traced
        lock (deadlocks included); the stop Event wakes pacing and work waits;
        ``shutdown`` tells the queue (it may itself raise RunStopped at its lock).
        Once every thread has ended the gate is reset, so the queue can still be
        asked for a snapshot of where the run stopped.
        """
        with self._control:
            if self.state is RunState.IDLE:
                self._conclude(RunState.STOPPED)
                return True
            if self.state in (RunState.FINISHED, RunState.STOPPED):
                return self._join_all(timeout)
            # Free running, the queue can shut down as a program would: its sleepers
            # are woken by shutdown() itself and every thread leaves on its own.
            graceful = (
                self.state is RunState.RUNNING
                and self._pace is None
                and self.program is None
                and self.scheduler is None
            )
            self.state = RunState.STOPPING
        deadline = perf_counter_ns() + int(timeout * 1e9)
        if graceful:
            self.stop_event.set()
            self._shut_down()
            self._join_all(min(SHUTDOWN_GRACE_S, timeout / 2))
        self.gate.abort()  # whoever is still in a traced point unwinds now
        self.stop_event.set()
        if not graceful:
            self._shut_down()
        ended = self._join_all(max(0.0, (deadline - perf_counter_ns()) / 1e9))
        with self._control:
            self._conclude(RunState.STOPPED)
        if ended:
            # No run thread is left to unwind: un-abort the gate so the queue's
            # locks work again for snapshot() and get_status() after the run.
            self.gate.aborted = False
            self.gate.open()
        return ended

    def _shut_down(self) -> None:
        """Tell the queue (or the program) to shut down; a failure is reported, not raised."""
        try:
            if self.program is None:
                self.queue.shutdown()
            else:
                self.program.shutdown()
        except RunStopped:
            pass
        except Exception as exc:
            self.report_error(exc, None)

    def close(self) -> None:
        """Nothing to release here; a run in a run process (``RemoteRun``) ends it in close()."""

    def _join_all(self, timeout: float) -> bool:
        deadline = perf_counter_ns() + int(timeout * 1e9)
        waiting: list[threading.Thread] = [t for t, _ in self._threads if t.ident is not None]
        if self._pacer is not None:
            self._pacer.close()
        for thread in waiting:
            thread.join(max(0.0, (deadline - perf_counter_ns()) / 1e9))
        pacer_ended = self._pacer is None or self._pacer.join(
            max(0.0, (deadline - perf_counter_ns()) / 1e9)
        )
        return pacer_ended and not any(t.is_alive() for t in waiting)

    def _conclude(self, state: RunState) -> None:
        """Enter a final state (caller holds ``_control``)."""
        self.state = state
        if self.started_ns is not None:
            self.ended_ns = perf_counter_ns()
            self.recorder.record(MARK, f"run {state.value}")
        if self._saved_switch_interval is not None:
            sys.setswitchinterval(self._saved_switch_interval)
            self._saved_switch_interval = None
        if self._pacer is not None:
            self._pacer.close()
        if self.study is not None:
            self.study.close()
        self._ended.set()

    def audit(self) -> None:
        """After a run that finished by itself: the queue's own end-of-run check, if it has one.

        A user's queue (``userqueue.UserQueue``) compares its ``len()`` with what the
        calls added and took; a disagreement is recorded as a lost update.
        """
        check = getattr(self.queue, "audit", None)
        if check is None or self.state is not RunState.FINISHED:
            return
        problem = check()
        if problem:
            self.recorder.record(VIOLATION, LOST_UPDATE, None, problem)

    # --- called from run threads -----------------------------------------------
    def report_error(self, exc: BaseException, task_id: object) -> None:
        """Keep and record an exception a run thread caught, naming the thread."""
        message = clip_text(f"{threading.current_thread().name}: {type(exc).__name__}: {exc}")
        self.errors.append(message)
        self.recorder.record(VIOLATION, WORKER_ERROR, task_id, message)

    def count_produced(self, producer: int) -> None:
        self._produced[producer] += 1

    def count_cancel_request(self, producer: int) -> None:
        self._cancel_requests[producer] += 1

    def count_cancelled(self, producer: int) -> None:
        self._cancelled[producer] += 1

    def count_completed(self, worker: int) -> None:
        self._completed[worker] += 1

    def sleep(self, seconds: float) -> bool:
        """Pacing, back-off or simulated work; True if the run was stopped meanwhile.

        A controlled run has no wall clock: the sleep lasts until no other thread
        can move (see ``Scheduler.sleep``).
        """
        if self.control is not None:
            self.gate.sleep(seconds)
            return self.stop_event.is_set()
        return self.stop_event.wait(seconds)

    def _thread_main(self, role: str, body: Callable[[], None]) -> None:
        name = threading.current_thread().name
        study, scheduler = self.study, self.scheduler
        try:
            if study is not None and scheduler is not None:
                scheduler.enter()  # in a controlled run threads start one at a time, in order
                study.thread_started()
            elif hasattr(self.queue, "guard_thread"):
                self.queue.guard_thread()  # a user's queue: Stop must reach its loops
            self.recorder.register_thread(role)
            body()
        except RunStopped:
            pass
        except Exception as exc:
            self.report_error(exc, None)
        finally:
            if study is not None:
                study.thread_ended()
            elif hasattr(self.queue, "guard_thread"):
                sys.settrace(None)
            # The CPU this thread used: what tells busy polling from sleeping.
            self.recorder.record(THREAD_ENDED, name, role, round(thread_time(), 6))
            self._thread_exited(role)
            if scheduler is not None:
                scheduler.leave()

    def _thread_exited(self, role: str) -> None:
        with self._control:
            if role == "producer":
                self._producers_left -= 1
                if not self._producers_left:
                    self.producers_done.set()
                    # With the count, so the checker can tell a task that never showed up.
                    self.recorder.record(MARK, "producers done", self.produced)
            self._live -= 1
            if not self._live and self.state in (RunState.RUNNING, RunState.PAUSED):
                self._conclude(RunState.FINISHED)


@dataclass(slots=True)
class _Setup:
    """The setup thread and the two hand-overs between it and :meth:`Run.start`."""

    done: threading.Event  # setup has finished
    release: threading.Event  # the program's threads have started: the setup thread may end
    thread: threading.Thread | None


def _is_positive(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return math.isfinite(value) and value > 0

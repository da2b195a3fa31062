"""What every scenario program is made of: its parameters, its context, its threads.

A scenario program is a short module a student reads in the code panel: a few
threads doing one thing wrong (or, with the fix switched on, right).  Everything
they share with the rest of the application comes through a :class:`Context`:

* the run's :class:`~visualizer.queues.Tracer`, so every lock they take is a
  traced one that the lock view, the lanes and the step gate see;
* ``added`` / ``taken`` / ``started`` / ``completed`` / ``cancelled`` /
  ``discarded``: task events for the views and the invariant checker, with the
  details named (``ctx.added(task, priority=3)``, ``ctx.completed(task,
  was=QUEUED)``), recorded in the layout the queue strategies use;
* ``step(label)``: a step point between a read and the write that depends on it;
* ``pause(seconds)`` (simulated work or I/O) and ``race(label)`` (a step point
  widened by the scenario's race window), both woken at once by Stop.

This module's frames are skipped like the tracer's, so when a paused thread parks
in one of these helpers, :func:`~visualizer.queues.gate.caller_location` names the
scenario's own line, which is where the code panel puts the thread's marker (and
the controlled scheduler does not study this file: the helpers are no switch points).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from time import monotonic, thread_time
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from visualizer.engine.scenarios.caught import describe as describe_caught
from visualizer.events import (
    CAUGHT,
    HEAP_DISCARDED,
    MARK,
    PROCESSING,
    QUEUED,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_CPU,
)
from visualizer.queues.gate import RunStopped, skip_frames_of

if TYPE_CHECKING:
    from visualizer.engine.run import Run

skip_frames_of(__file__)  # a thread parked in Context.race is shown at the line calling it

CPU_REPORT_INTERVAL = 0.1
"""Seconds between two CPU samples of one thread (see :meth:`Context.report_cpu`)."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter a program takes from its scenario file's ``[run]`` table.

    ``kind`` is ``int`` or ``float``; bounds are inclusive.  The error messages
    name the parameter and its range, so a lecturer editing a file sees at once
    what is allowed.
    """

    name: str
    kind: type  # int or float
    low: int | float
    high: int | float
    default: int | float

    def check(self, value: object) -> int | float:
        """The value if it is allowed, else ``ValueError("must be ...")``."""
        number = None if isinstance(value, bool) or not isinstance(value, int | float) else value
        if self.kind is int:
            if not isinstance(number, int) or not self.low <= number <= self.high:
                raise ValueError(f"must be an integer from {self.low} to {self.high}")
            return number
        if number is None or not self.low <= number <= self.high:
            raise ValueError(f"must be a number from {self.low:g} to {self.high:g}")
        return float(number)


# Parameters several programs share, so they mean (and are bounded) the same everywhere.
THREADS = Param("threads", int, 1, 16, 2)  # threads doing the work
TASKS = Param("tasks", int, 1, 10_000, 20)  # tasks in all
RACE_WINDOW = Param("race_window", float, 0.0, 1.0, 0.0)  # s a race's gap is held open
WORK_TIME = Param("work_time", float, 0.0, 5.0, 0.0)  # s of simulated work per task
TIME_LIMIT = Param("time_limit", float, 0.5, 600.0, 20.0)  # s before a headless run stops


class ThreadSpec(NamedTuple):
    """One thread a program runs: its name, its role (lanes, legend) and its body."""

    name: str
    role: str
    target: Callable[[], None]


class Context:
    """A program's access to its run: parameters, tracer, task events, timing."""

    def __init__(self, run: Run, params: Mapping[str, Any], fixed: bool) -> None:
        self.params = dict(params)
        self.fixed = fixed
        self.seed = run.workload.seed
        self.tracer = tracer = run.tracer
        self.stop = run.stop_event
        self.report_error = run.report_error
        self.race_window = float(self.params.get("race_window", 0.0))
        self._record = tracer.record
        self._priorities: dict[Hashable, int] = {}  # as added: what a take reports

        self.step: Callable[[str], None] = tracer.checkpoint
        self.controlled = run.control is not None
        self._sleep = run.sleep
        self._recorder = run.recorder
        self._last_cpu: dict[int, float] = {}

    # --- task events (their fields as in visualizer.events.KIND_FIELDS) ----------------
    def added(self, task: Hashable, *, priority: int = 0, counter: int | None = None) -> None:
        """``task`` joins the queue.  ``counter``: the shared added-counter as this add
        left it, when the program keeps one (two adds leaving the same value are a
        lost update, which the checker reports)."""
        self._priorities[task] = priority
        self._record(TASK_ADDED, task, priority, counter)

    def taken(self, task: Hashable) -> None:
        """A worker took ``task`` off the queue (recorded with the priority it was added
        with): it is processing now."""
        self._record(TASK_POPPED, task, self._priorities.get(task))

    def started(self, task: Hashable) -> None:
        """The worker begins the work on ``task``."""
        self._record(TASK_STARTED, task)

    def completed(self, task: Hashable, *, was: str = PROCESSING) -> None:
        """``task`` is done; ``was`` is its status as the program saw it before."""
        self._record(TASK_COMPLETED, task, was)

    def cancelled(self, task: Hashable, *, was: str = QUEUED) -> None:
        """``task`` is cancelled; ``was`` is its status as the program saw it before."""
        self._record(TASK_CANCELLED, task, was)

    def discarded(self, task: Hashable) -> None:
        """A cancelled ``task`` left the heap (lazy deletion)."""
        self._record(HEAP_DISCARDED, task)

    # --- timing, randomness, remarks ----------------------------------------------------
    def rng(self, stream: str) -> random.Random:
        """A random source for one named stream of choices: the seed replays it exactly."""
        return random.Random(f"{self.seed}:{stream}")

    def pause(self, seconds: float) -> None:
        """Simulated work or I/O: sleeps, but Stop ends it at once."""
        if seconds > 0 and self._sleep(seconds):
            raise RunStopped

    def race(self, label: str) -> None:
        """A step point in a race's gap, held open for the race window.

        Sleeping hands the GIL to the other threads, which is what lets them run
        into the same gap within seconds rather than once in a million tries.
        """
        self.step(label)
        if not self.controlled:  # under the scheduler, the gap is as wide as the schedule makes it
            self.pause(self.race_window)

    def note(self, text: str) -> None:
        """A plain remark in the event stream (a MARK), for example a rejected task."""
        self._recorder.record(MARK, text)

    def caught(self, exc: BaseException) -> None:
        """The calling thread handled ``exc``: record where it was raised and what it skipped.

        A MARK marked :data:`~visualizer.events.CAUGHT`, with the sentence and
        ``(file, raised line, skipped line)``: the checker names it when a lock the
        thread holds is never given back, and the code panel marks both lines.
        """
        program_file = sys._getframe(1).f_code.co_filename
        sentence, where = describe_caught(exc, program_file)
        self._recorder.record(MARK, sentence, CAUGHT, where)

    def report_cpu(self, force: bool = False) -> None:
        """Record this thread's CPU time so far, at most every 100 ms unless ``force``.

        ``time.thread_time`` counts only time this thread ran on a CPU, not time it
        slept or waited: the figure that tells busy polling from blocking.
        """
        if self.controlled:
            return  # a controlled run has no wall clock; samples would differ run to run
        me = threading.get_ident()
        now = monotonic()
        if force or now - self._last_cpu.get(me, 0.0) >= CPU_REPORT_INTERVAL:
            self._last_cpu[me] = now
            name = threading.current_thread().name
            self._recorder.record(THREAD_CPU, name, thread_time())


class Program:
    """Base of the scenario programs.

    Subclasses set ``params`` (the :class:`Param` they take), may override
    :meth:`setup` (runs before the other threads, on a thread named ``setup``)
    and :meth:`shutdown` (wake anything Stop must interrupt that the stop
    event does not), and return their threads from :meth:`threads`.
    """

    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def setup(self) -> None:
        """Prepare shared state (for example fill a queue) before any thread starts."""

    @property
    def has_setup(self) -> bool:
        """Whether :meth:`setup` does anything (else no setup thread is started)."""
        return type(self).setup is not Program.setup

    def threads(self) -> list[ThreadSpec]:
        raise NotImplementedError

    def shutdown(self) -> None:
        """Called by Stop after the gate is aborted; most programs need nothing here."""

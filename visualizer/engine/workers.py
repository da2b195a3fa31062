"""What producer and worker threads do, one loop each.

Both loops wait through ``run.sleep`` (the run's stop Event, never
``time.sleep``) for pacing, back-off and simulated work, so Stop wakes them at
once, and a controlled run can turn each wait into a step of its own.  Traced points inside
the queue raise :class:`RunStopped` once the run is aborted; the loops let it
through (it is an ``Exception`` too, so each handler re-raises it first) and the
thread wrapper in ``run.py`` ends the thread quietly.

Every other exception from the queue (the unsafe queue tripping over its own
races, ``ValueError`` for completing a task twice) is reported to the run and the
loop carries on with the next task: one broken operation should be seen, not
end the experiment.  A thread that fails :data:`MAX_ERRORS_IN_A_ROW` times in a
row gives up, so a queue broken beyond use cannot keep a run alive forever.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from time import monotonic, thread_time
from typing import TYPE_CHECKING

from visualizer.events import TASK_STARTED, THREAD_CPU
from visualizer.queues.base import QueueShutDown
from visualizer.queues.gate import RunStopped

if TYPE_CHECKING:
    from visualizer.engine.run import Run

GET_TIMEOUT = 0.05
"""How long a worker blocks in a blocking strategy's get before re-checking the run."""

IDLE_BACKOFF = (0.001, 0.02)
"""First and longest pause (s) of a worker polling a non-blocking queue that is empty.

It doubles on every empty poll, so an idle worker costs a few polls a second, not a
busy loop, and picks up new work within milliseconds while tasks keep coming."""

MAX_ERRORS_IN_A_ROW = 100

RECENT_FOR_CANCEL = 64
"""A producer cancels one of its last this-many tasks (older ones are long done)."""

BACKLOG_WAIT = 0.005
"""How long a producer waits before looking again while the backlog is full (s)."""

READ_PAUSE = 0.002
"""A status reader's pause between two snapshots (s): a page refreshed all the time."""

CPU_SAMPLE_S = 0.2
"""Seconds between two CPU-time reports of one thread (the lanes' CPU meter)."""


class _CpuMeter:
    """Reports the calling thread's CPU time now and then (``THREAD_CPU``).

    ``time.thread_time`` counts only the time the thread ran on a CPU: a worker
    sleeping on a condition uses none, one polling an empty queue some, a reader
    copying the heap a lot.  A controlled run has no wall clock and reports
    nothing: its events must be the same every time its schedule is replayed.
    """

    __slots__ = ("due", "name", "record")

    def __init__(self, run: Run) -> None:
        self.record = run.recorder.record if run.control is None else None
        self.name = threading.current_thread().name
        self.due = 0.0

    def tick(self) -> None:
        if self.record is None:
            return
        now = monotonic()
        if now >= self.due:
            self.due = now + CPU_SAMPLE_S
            self.record(THREAD_CPU, self.name, thread_time())


class _ErrorStreak:
    """One thread's failed operations in a row: each is reported, too many end the loop."""

    __slots__ = ("run", "count")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.count = 0  # reset by the loop after each operation that succeeds

    def failed(self, exc: Exception, task_id: object) -> bool:
        """Report ``exc`` to the run; True once the thread should give up."""
        self.run.report_error(exc, task_id)
        self.count += 1
        return self.count >= MAX_ERRORS_IN_A_ROW


def produce(run: Run, index: int) -> None:
    """Producer ``index`` (0-based): add its share of tasks at the configured rate."""
    workload = run.workload
    queue = run.queue
    stop = run.stop_event
    rng = random.Random(f"{workload.seed}:producer:{index}")
    quota = workload.quota(index)
    # A controlled run has no wall clock: it paces nothing and runs until its tasks are made.
    timed = run.control is None
    interval = 1.0 / workload.rate if workload.rate and timed else 0.0
    end = None if workload.duration is None or not timed else monotonic() + workload.duration
    recent: deque[int] = deque(maxlen=RECENT_FOR_CANCEL)
    due = monotonic()
    errors = _ErrorStreak(run)
    n = 0
    throttle = run.recorder.throttle
    backlog = workload.backlog
    burst = workload.burst
    cpu = _CpuMeter(run)
    while quota is None or n < quota:
        throttle()  # between tasks, holding no lock: let a busy consumer catch up
        cpu.tick()
        # Counted by the run, not asked of the queue: len() would take its lock, and a
        # producer would show up among the readers of a read-write lock.
        if backlog and run.in_flight() >= backlog:
            if run.sleep(BACKLOG_WAIT):
                return
            continue
        if interval and n % burst == 0:  # a burst's first task waits for its time
            delay = due - monotonic()
            if delay > 0 and run.sleep(delay):
                return
            # Late (paused, or the lock was busy)? Carry on from now rather than catch up.
            due = max(due, monotonic()) + interval * burst
        elif stop.is_set():
            return
        if end is not None and monotonic() >= end:
            return
        # Draw everything for this task up front, in a fixed order, so the seed
        # reproduces the workload whatever the queue does with it.
        task_id = workload.task_id(index, n)
        priority = rng.randrange(workload.priority_spread)
        work_time = workload.draw_work_time(rng)
        cancel = rng.random() < workload.cancel_probability
        victim = rng.choice(recent) if cancel and recent else None
        n += 1
        try:
            queue.add_task(task_id, priority, work_time)
        except QueueShutDown:
            return
        except RunStopped:
            raise
        except Exception as exc:
            if errors.failed(exc, task_id):
                return
            continue
        errors.count = 0
        run.count_produced(index)
        if victim is not None:
            run.count_cancel_request(index)
            try:
                if queue.cancel_task(victim):
                    run.count_cancelled(index)
            except RunStopped:
                raise
            except Exception as exc:
                run.report_error(exc, victim)
        recent.append(task_id)


def work(run: Run, index: int) -> None:
    """Worker ``index``: take tasks, "work" on each, complete it; exit when all is done.

    The exit test reads "producers done" *before* asking for a task: if they were
    done then and the queue still had nothing, no task can arrive any more.
    """
    queue = run.queue
    stop = run.stop_event
    producers_done = run.producers_done
    record = run.tracer.record
    blocking = queue.blocking
    backoff = IDLE_BACKOFF[0]
    errors = _ErrorStreak(run)
    throttle = run.recorder.throttle
    cpu = _CpuMeter(run)
    while not stop.is_set():
        throttle()
        cpu.tick()
        done_before = producers_done.is_set()
        task_id = None
        try:
            task = queue.get_next_task(timeout=GET_TIMEOUT) if blocking else queue.get_next_task()
            if task is None:
                if done_before:
                    return
                if not blocking:
                    run.sleep(backoff)
                    backoff = min(backoff * 2, IDLE_BACKOFF[1])
                continue
            backoff = IDLE_BACKOFF[0]
            task_id = task.task_id
            record(TASK_STARTED, task_id)
            seconds = task.payload
            if seconds and run.sleep(seconds):
                return
            queue.complete_task(task_id)
            run.count_completed(index)
            errors.count = 0
        except RunStopped:
            raise
        except Exception as exc:
            if errors.failed(exc, task_id):
                return
            run.sleep(backoff)


def read(run: Run, index: int) -> None:
    """Status reader ``index``: a page showing the whole queue, refreshed again and again.

    A snapshot only reads, so a read-write lock lets readers in together, and
    with the readers-first policy their overlapping reads can keep every writer
    out; under one plain lock each reader makes every other thread wait.  It
    ends with the workers: once the producers are done and nothing is left.
    """
    queue = run.queue
    stop = run.stop_event
    producers_done = run.producers_done
    errors = _ErrorStreak(run)
    throttle = run.recorder.throttle
    cpu = _CpuMeter(run)
    while not stop.is_set():
        throttle()
        cpu.tick()
        if producers_done.is_set() and not run.in_flight():
            return
        try:
            queue.snapshot()
            errors.count = 0
        except RunStopped:
            raise
        except Exception as exc:  # the unsafe queue can change under a reader's feet
            if errors.failed(exc, None):
                return
        if run.sleep(READ_PAUSE):
            return

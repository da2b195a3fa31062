"""The commands a run process obeys: a name, plain arguments, a plain reply.

The window sends ``(name, args)``; the run process looks the name up here and
nowhere else, so the pipe can only ever reach these functions.  Each takes the
:class:`~visualizer.engine.Run` first and returns plain data (or None).  Adding
a command is one decorated function; a run feature that needs no reply (a
controlled scheduler's ``undo``, say) is one line calling its method.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from visualizer.engine.run import Run

Command = Callable[..., Any]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    """Register ``function`` as the command ``name``."""

    def register(function: Command) -> Command:
        COMMANDS[name] = function
        return function

    return register


@command("start")
def start(run: Run, paused: bool = False) -> None:
    run.start(paused=paused)


@command("pause")
def pause(run: Run) -> None:
    run.pause()


@command("resume")
def resume(run: Run) -> None:
    run.resume()


@command("step")
def step(run: Run, ident: int | None = None) -> None:
    run.step(ident)


@command("move")
def move(run: Run, name: str | None = None) -> None:
    """A controlled run: let thread ``name`` (or the next in the default order) move one step."""
    if run.scheduler is None:
        raise ValueError("not a controlled run")
    run.scheduler.move(name)


@command("follow_plan")
def follow_plan(run: Run, name: str) -> None:
    """The user moves ``name``: a plan being followed loses its first step, else all of it."""
    plan = run.scheduler.plan if run.scheduler is not None else None
    if plan:
        if plan[0] == name:
            plan.popleft()
        else:
            plan.clear()


@command("set_pace")
def set_pace(run: Run, ops_per_s: float | None) -> None:
    run.set_pace(ops_per_s)


@command("stop")
def stop(run: Run, timeout: float) -> bool:
    """True if every run thread ended within ``timeout`` (the caller kills us otherwise)."""
    return run.stop(timeout=timeout)


@command("set_backlog")
def set_backlog(run: Run, backlog: int | None) -> None:
    """Backpressure: run threads wait between tasks while this many events are unsent."""
    run.recorder.backlog = backlog


@command("threads")
def threads(run: Run) -> list[tuple[Any, ...]]:
    return [tuple(info) for info in run.threads()]


@command("snapshot")
def snapshot(run: Run) -> tuple[list[tuple[Any, ...]], dict[Any, str], int] | None:
    """The queue's heap (priority, task id, status per slot), status table and added-counter.

    Read without the queue's lock: taking it would park this thread at the gate
    of a paused run (or wait behind a parked holder) and would show up in the
    run's own lock statistics.  ``list()`` and ``dict()`` of the heap and the
    table are single C calls, so under the GIL each copy is whole; while the run
    is paused no thread moves between them either.  None for a scenario program.
    """
    queue = run.queue
    if queue is None:
        return None
    heap = list(queue._heap)
    statuses = dict(queue._status)
    slots = [(task.priority, task.task_id, statuses.get(task.task_id)) for _, _, task in heap]
    return slots, statuses, queue._added


@command("cpu")
def cpu(_run: Run) -> float:
    """CPU seconds this process has used (the bench sets it against the window's)."""
    return time.process_time()

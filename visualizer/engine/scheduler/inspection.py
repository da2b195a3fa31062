"""What a paused controlled run looks like inside: each thread's line, instructions, variables.

Read only while every run thread is parked (the scheduler is idle), so nothing
moves underneath.  Everything returned is plain text and tuples: it can cross
a process boundary as it is, and showing it runs no code of the program (a
value that is not a plain int, string, list, tuple or dict of those is shown
by its type's name, never through its ``__repr__``).
"""

from __future__ import annotations

import dis
from collections.abc import Hashable
from dataclasses import dataclass
from types import CodeType, FrameType

from visualizer.engine.scheduler.describe import describe, is_plain
from visualizer.engine.scheduler.switching import Runner, Scheduler
from visualizer.engine.scheduler.tracing import PRIVATE, QUIET

HANDLERS = frozenset(
    {
        "PUSH_EXC_INFO",
        "POP_EXCEPT",
        "RERAISE",
        "WITH_EXCEPT_START",
        "CHECK_EXC_MATCH",
        "CLEANUP_THROW",
        "RETURN_GENERATOR",
    }
)
"""Instructions that run only while an exception unwinds (a ``with``'s exit path)."""

MAX_TEXT = 80
"""Longest value text shown for one variable."""


@dataclass(frozen=True, slots=True)
class ThreadView:
    """One controlled thread as the code panel shows it while paused."""

    name: str
    file: str
    line: int
    what: str  # the next step, in words ("" before the thread started)
    waits: str  # what it waits for ("" if it can move, "ended" once done)
    steps: tuple[tuple[str, bool], ...]  # the line's instructions in words, the next one True
    locals: tuple[tuple[str, str], ...]  # (name, value) of its frame's local variables


def threads(scheduler: Scheduler) -> list[ThreadView]:
    """Every run thread, in order, as it stands."""
    return [_thread(runner) for runner in scheduler.runners]


def shared(subject: object) -> list[tuple[str, str]]:
    """The plain data attributes of the program or queue object (its shared state)."""
    try:
        fields = object.__getattribute__(subject, "__dict__")
    except AttributeError:
        return []
    out = []
    for name, value in fields.items():
        if name.startswith("_") and not name.startswith("_heap") and name != "_status":
            continue
        if is_plain(value):
            out.append((f"self.{name}", text_of(value)))
    return out


OWN_HEAP_SLOTS = 256
"""Most slots of a user's heapq list sent to the window (the view draws fewer)."""


def real_heap(subject: object) -> list[tuple[int, Hashable]] | None:
    """The program's or queue's own heap list as ``(priority, task id)`` slots, if it keeps one.

    Entries are read as this project's code stores them: ``(-priority, task id)``
    in the scenarios, ``(-priority, order, Task)`` in the strategies, and as the
    adapter finds them in a user's queue.  None when there is no such list (a
    queue built on ``queue.PriorityQueue``, say).
    """
    own_heap = getattr(type(subject), "own_heap", None)
    if own_heap is not None:  # a user's queue: the adapter knows its heapq list
        return own_heap(subject, OWN_HEAP_SLOTS)[1]
    try:
        fields = object.__getattribute__(subject, "__dict__")
    except AttributeError:
        return None
    heap = fields.get("heap", fields.get("_heap"))
    if type(heap) is not list:
        return None
    slots: list[tuple[int, Hashable]] = []
    for entry in list(heap):  # one C call: a whole copy under the GIL
        if type(entry) is not tuple or len(entry) < 2 or type(entry[0]) is not int:
            return None
        last = entry[-1]
        task_id = getattr(last, "task_id", last) if len(entry) > 2 else last
        slots.append((-entry[0], task_id))
    return slots


def _thread(runner: Runner) -> ThreadView:
    position = runner.position
    frame = position.frame
    steps: tuple[tuple[str, bool], ...] = ()
    local_values: tuple[tuple[str, str], ...] = ()
    if frame is not None and not runner.done:
        steps = line_steps(frame.f_code, position.line, position.offset, frame)
        local_values = tuple(
            (name, text_of(value))
            for name, value in frame.f_locals.items()
            if name != "self" and is_plain(value)
        )
    return ThreadView(
        runner.name,
        position.file,
        position.line,
        position.what,
        runner.waits(),
        steps,
        local_values,
    )


def line_steps(
    code: CodeType, line: int, current: int, frame: FrameType | None = None
) -> tuple[tuple[str, bool], ...]:
    """The instructions of ``line`` (those that do something shared), the ``current`` marked."""
    out = []
    previous = None
    for ins in dis.get_instructions(code):
        number = ins.positions.lineno if ins.positions is not None else None
        here = ins.offset == current
        hidden = ins.opname in QUIET or ins.opname in HANDLERS
        shown = not hidden and (ins.opname not in PRIVATE or here)
        if number == line and shown:
            out.append((describe(code, ins, previous, frame if here else None), here))
        previous = ins
    return tuple(out)


def text_of(value: object) -> str:
    text = repr(value) if is_plain(value) else type(value).__name__
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."

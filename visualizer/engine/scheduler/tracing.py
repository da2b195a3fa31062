"""Switch points inside the code under study: where a run thread may be preempted.

Two *models* say where CPython can hand the interpreter to another thread:

``gil`` (CPython with its global interpreter lock, 3.11-3.13 by default):
    a running thread lets another one in only where the interpreter checks its
    "eval breaker": when a function starts (``RESUME``), when a loop jumps back
    (only when the jump is taken: a loop that ends does not check), and after a
    call into C returns (``heapq.heappop``, ``len``, a class
    being instantiated).  Between two such points a thread runs alone, so
    ``self.counter += 1`` with no call inside is one step, as real CPython makes
    it (since 3.10 the classic two-thread ``+=`` demo loses no update).  A Python
    function's own call is inlined: its switch point is its ``RESUME``.
``free`` (free-threaded CPython, 3.13t and later):
    threads truly run at once, so another thread can act between any two
    instructions: ``self.counter += 1`` is a read, an add and a write.

Granularity picks which of the model's switch points are offered: ``instruction``
(all of them), ``line`` (a switch the model allows is taken at the start of the
next line: each line runs as a unit), or ``sync`` (none: only the traced locks,
conditions and semaphores switch).  Traced synchronisation operations are
switch points in every granularity.

Mechanism: ``sys.monitoring`` where it exists (3.12+), events enabled only on the
code objects of the study files; ``sys.settrace`` with opcode events on 3.11,
installed in the run's threads only.  Either way each event goes through
:meth:`StudyTracer.instruction`, so both interpreters share one rule.
"""

from __future__ import annotations

import dis
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import CodeType, FrameType, FunctionType, MethodType, ModuleType
from typing import Any

from visualizer.engine.scheduler.access import Access, accesses
from visualizer.engine.scheduler.describe import describe
from visualizer.engine.scheduler.operations import Operations
from visualizer.engine.scheduler.switching import Position, Runner, Scheduler

GRANULARITIES = ("instruction", "line", "sync")
MODELS = ("gil", "free")

CALLS = frozenset({"CALL", "CALL_FUNCTION_EX", "CALL_KW"})
"""Instructions after which the eval breaker is checked (unless the callee was Python code)."""
QUIET = frozenset({"CACHE", "EXTENDED_ARG", "NOP", "PRECALL", "PUSH_NULL", "KW_NAMES", "NOT_TAKEN"})
"""Instructions with no effect of their own: never a switch point, even when free."""
PRIVATE = frozenset(
    {
        "LOAD_FAST",
        "LOAD_FAST_CHECK",
        "LOAD_FAST_AND_CLEAR",
        "LOAD_FAST_LOAD_FAST",
        "STORE_FAST",
        "STORE_FAST_LOAD_FAST",
        "STORE_FAST_STORE_FAST",
        "LOAD_CONST",
        "RETURN_CONST",
        "RETURN_VALUE",
        "COPY",
        "SWAP",
        "POP_TOP",
        "UNPACK_SEQUENCE",
        "BUILD_TUPLE",
        "BUILD_STRING",
        "FORMAT_VALUE",
        "FORMAT_SIMPLE",
        "FORMAT_WITH_SPEC",
        "CONVERT_VALUE",
        "POP_JUMP_BACKWARD_IF_FALSE",
        "POP_JUMP_BACKWARD_IF_TRUE",
        "POP_JUMP_BACKWARD_IF_NONE",
        "POP_JUMP_BACKWARD_IF_NOT_NONE",
        "POP_JUMP_FORWARD_IF_FALSE",
        "POP_JUMP_FORWARD_IF_TRUE",
        "POP_JUMP_FORWARD_IF_NONE",
        "POP_JUMP_FORWARD_IF_NOT_NONE",
        "POP_JUMP_IF_FALSE",
        "POP_JUMP_IF_TRUE",
        "POP_JUMP_IF_NONE",
        "POP_JUMP_IF_NOT_NONE",
        "JUMP_FORWARD",
        "GET_ITER",
        "END_FOR",
        "TO_BOOL",
    }
)
"""Instructions that touch only the thread's own frame (its locals and value stack).

Another thread can do nothing between two of them that it could not do just as
well before or after, so even free-threaded they need no switch point of their
own (the partial-order argument of model checkers): steps stay few and every
outcome stays reachable.  ``BINARY_OP`` stays a step though, so that "add 1"
shows between the read and the write of ``+=``."""


def interpreter_model() -> str:
    """The model of the running interpreter: ``free`` only if its GIL is off."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return "free" if is_gil_enabled is not None and not is_gil_enabled() else "gil"


@dataclass(slots=True)
class CodeInfo:
    """What the models need to know of one code object, computed once."""

    opnames: dict[int, str]  # offset -> instruction name
    lines: dict[int, int]  # offset -> line number
    gil_points: frozenset[int]  # always a switch point under the GIL
    after_calls: frozenset[int]  # a switch point if the call before it went to C
    line_starts: frozenset[int]
    instructions: dict[int, dis.Instruction] = field(default_factory=dict)
    previous: dict[int, dis.Instruction] = field(default_factory=dict)  # in code order
    access: dict[int, Access] = field(default_factory=dict)  # shared state read / written


def code_info(code: CodeType) -> CodeInfo:
    instructions = list(dis.get_instructions(code))
    opnames = {i.offset: i.opname for i in instructions}
    lines: dict[int, int] = {}
    line = code.co_firstlineno
    starts = set()
    for ins in instructions:
        if ins.starts_line is not None and not isinstance(ins.starts_line, bool):
            line = ins.starts_line  # 3.11-3.12: the line number itself
            starts.add(ins.offset)
        elif getattr(ins, "line_number", None) is not None:
            if ins.starts_line:  # 3.13: a flag, and the number in line_number
                starts.add(ins.offset)
            line = ins.line_number  # type: ignore[attr-defined]  # 3.13+
        lines[ins.offset] = line
    gil = {i.offset for i in instructions if i.opname == "RESUME" and (i.arg or 0) < 2}
    after = {
        nxt.offset
        for ins, nxt in zip(instructions, instructions[1:], strict=False)
        if ins.opname in CALLS
    }
    return CodeInfo(
        opnames,
        lines,
        frozenset(gil),
        frozenset(after),
        frozenset(starts),
        {i.offset: i for i in instructions},
        {nxt.offset: ins for ins, nxt in zip(instructions, instructions[1:], strict=False)},
        accesses(instructions),
    )


def study_codes(files: Iterable[str]) -> list[CodeType]:
    """Every code object defined in the loaded modules of ``files`` (nested ones too)."""
    wanted = set(files)
    found: dict[int, CodeType] = {}

    def add_code(code: CodeType) -> None:
        if id(code) in found or code.co_filename not in wanted:
            return
        found[id(code)] = code
        for const in code.co_consts:
            if isinstance(const, CodeType):
                add_code(const)

    def visit(value: Any, seen: set[int]) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, FunctionType):
            add_code(value.__code__)
        elif isinstance(value, staticmethod | classmethod):
            visit(value.__func__, seen)
        elif isinstance(value, property):
            for part in (value.fget, value.fset, value.fdel):
                if part is not None:
                    visit(part, seen)
        elif isinstance(value, type):
            for item in vars(value).values():
                visit(item, seen)

    for module in study_modules(frozenset(wanted)):
        seen: set[int] = set()
        for item in vars(module).values():
            visit(item, seen)
    return list(found.values())


_module_names: dict[frozenset[str], tuple[int, list[str]]] = {}


def study_modules(files: frozenset[str]) -> list[ModuleType]:
    """The loaded modules of ``files``.

    Looking at every loaded module takes longer than a short controlled run, so
    the names found are kept while no module is loaded or unloaded (a user's
    queue file runs as a fresh module under the same name each time).
    """
    known = _module_names.get(files)
    if known is not None and known[0] == len(sys.modules):
        modules = [sys.modules.get(name) for name in known[1]]
        if all(getattr(module, "__file__", None) in files for module in modules):
            return modules  # type: ignore[return-value]  # checked just above
    names = [
        name
        for name, module in list(sys.modules.items())
        if isinstance(module, ModuleType) and getattr(module, "__file__", None) in files
    ]
    _module_names[files] = (len(sys.modules), names)
    return [sys.modules[name] for name in names]


class _ThreadState:
    __slots__ = ("pending", "python_callee", "last", "runner")

    def __init__(self, runner: Runner | None) -> None:
        self.runner = runner  # where its reads and writes are noted (None: not a run thread)
        self.pending = False  # a switch the model allowed, waiting for a line start
        self.python_callee: set[int] = set()  # ids of frames whose last call went to Python
        self.last: dict[int, int] = {}  # id(frame) -> offset of its last instruction seen


class StudyTracer:
    """Turns instructions of the study files into the scheduler's switch points."""

    def __init__(
        self, scheduler: Scheduler, files: Iterable[str], granularity: str, model: str
    ) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity: must be one of {', '.join(GRANULARITIES)}")
        if model not in MODELS:
            raise ValueError(f"model: must be one of {', '.join(MODELS)}")
        self.scheduler = scheduler
        self.files = frozenset(files)
        self.granularity = granularity
        self.model = model
        self._infos: dict[CodeType, CodeInfo] = {}
        self._states: dict[int, _ThreadState] = {}
        self._backend: _Backend | None = None
        self.shared: frozenset[str] = frozenset()  # names some study code writes
        self.operations: Operations | None = None

    def info(self, code: CodeType) -> CodeInfo:
        info = self._infos.get(code)
        if info is None:
            info = self._infos[code] = cached_code_info(code)
        return info

    # --- life cycle --------------------------------------------------------------
    def open(self) -> None:
        """Install the hooks (once, before the run's threads start)."""
        if self.granularity == "sync":
            return
        # Only what some code under study writes after construction can be shared
        # state worth noting: a method's name, a constant, a helper or a bound
        # method chosen once in ``__init__`` are left out.
        codes = study_codes(self.files)
        self.operations = Operations.of(self.files, codes, lambda code: self.info(code).access)
        self.shared = self.operations.shared
        backend_class = _Monitoring if hasattr(sys, "monitoring") else _SetTrace
        self._backend = backend_class(self)
        self._backend.open()

    def thread_started(self) -> None:
        """In each run thread, first thing: hook it (3.11) and give it its state."""
        ident = threading.get_ident()
        self._states[ident] = _ThreadState(self.scheduler.runner_of(ident))
        if self._backend is not None:
            self._backend.thread_started()

    def thread_ended(self) -> None:
        if self._backend is not None:
            self._backend.thread_ended()

    def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    # --- the rule ------------------------------------------------------------------
    def called(self, caller: FrameType, inline: bool) -> None:
        """A call from a study frame; ``inline`` if it enters a study function directly.

        Such a call's switch point is the callee's own ``RESUME``.  Any other call
        (into C, or into Python code not under study, which runs as one step)
        gets a switch point when it returns.
        """
        state = self._states.get(threading.get_ident())
        if state is not None and inline:
            state.python_callee.add(id(caller))

    def entered(self, frame: FrameType) -> None:
        """A study function starts: the switch point of its ``RESUME``.

        A new frame may reuse a dead frame's ``id``: what was noted of that one
        (a call left half-way by an exception, its last offset) is forgotten here.
        """
        state = self._states.get(threading.get_ident())
        if state is not None:
            state.python_callee.discard(id(frame))
            state.last.pop(id(frame), None)
        code = frame.f_code
        resume = next(
            (offset for offset, name in self.info(code).opnames.items() if name == "RESUME"), None
        )
        if resume is not None:
            self.instruction(frame, code, resume)

    def instruction(self, frame: FrameType, code: CodeType, offset: int) -> None:
        """Before an instruction of study code runs: switch here if the model allows."""
        state = self._states.get(threading.get_ident())
        if state is None:
            return  # not a run thread
        info = self.info(code)
        opname = info.opnames.get(offset)
        if opname is None or opname in QUIET:
            return
        key = id(frame)
        looped = offset < state.last.get(key, -1)  # execution jumped back: a loop's back-edge
        state.last[key] = offset
        if self.model == "free":
            allowed = opname not in PRIVATE
        elif looped or offset in info.gil_points:
            allowed = True
        elif offset in info.after_calls:
            allowed = id(frame) not in state.python_callee
            state.python_callee.discard(id(frame))
        else:
            allowed = False
        if self.granularity == "line":
            state.pending = state.pending or allowed
            allowed = offset in info.line_starts and state.pending
            if allowed:
                state.pending = False
        if allowed:
            if self.granularity == "line":
                what = f"line {info.lines[offset]}"
            else:
                ins = info.instructions[offset]
                what = describe(code, ins, info.previous.get(offset), frame)
            position = Position(what, code.co_filename, info.lines[offset], offset, frame)
            self.scheduler.switch(position)
        # The instruction runs in the step that starts here: what it touches is noted now.
        touched = info.access.get(offset)
        if touched is not None and state.runner is not None:
            runner = state.runner
            read = self.shared.intersection(touched[0])
            if read:
                runner.read.update(read)
                if self.operations is not None:
                    runner.checked.update(self.operations.checks(frame, offset, read))
            runner.written.update(touched[1])


_code_infos: dict[CodeType, CodeInfo] = {}
CODE_CACHE_SIZE = 256
"""Code objects whose :class:`CodeInfo` is kept between runs: a search builds thousands
of runs of the same code, and a user's queue file keeps its code objects from run to
run (see ``userqueue.source``).  Code objects that compare equal read the same."""


def cached_code_info(code: CodeType) -> CodeInfo:
    info = _code_infos.get(code)
    if info is None:
        if len(_code_infos) >= CODE_CACHE_SIZE:
            _code_infos.clear()
        info = _code_infos[code] = code_info(code)
    return info


def _studied_function(callable_: object, files: frozenset[str]) -> bool:
    """Whether calling ``callable_`` enters a study function inline (3.12+: CALL events)."""
    if isinstance(callable_, MethodType):
        callable_ = callable_.__func__
    return isinstance(callable_, FunctionType) and callable_.__code__.co_filename in files


class _Backend:
    def __init__(self, tracer: StudyTracer) -> None:
        self.tracer = tracer

    def open(self) -> None: ...

    def thread_started(self) -> None: ...

    def thread_ended(self) -> None: ...

    def close(self) -> None: ...


class _SetTrace(_Backend):
    """3.11: ``sys.settrace`` in each run thread, opcode events in study frames only."""

    def thread_started(self) -> None:
        files = self.tracer.files
        tracer = self.tracer
        instruction = tracer.instruction

        def local(frame: FrameType, event: str, _arg: object) -> Any:
            if event == "opcode":
                instruction(frame, frame.f_code, frame.f_lasti)
            return local

        def global_(frame: FrameType, event: str, _arg: object) -> Any:
            if event != "call":
                return None
            caller = frame.f_back
            studied = frame.f_code.co_filename in files
            if caller is not None and caller.f_code.co_filename in files:
                name = frame.f_code.co_name
                # A dunder entered from a study frame was called by C machinery
                # (a class's __init__, a heap's __lt__): the call was not inlined.
                dunder = name.startswith("__") and name.endswith("__")
                tracer.called(caller, studied and not dunder)
            if not studied:
                return None
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
            # 3.11 reports no opcode event for RESUME: the call event stands for it.
            tracer.entered(frame)
            return local

        sys.settrace(global_)

    def thread_ended(self) -> None:
        sys.settrace(None)


_tool_lock = threading.Lock()
_tool_in_use: list[int] = []


class _Monitoring(_Backend):
    """3.12+: ``sys.monitoring`` INSTRUCTION and CALL events on the study code only."""

    def open(self) -> None:
        mon = sys.monitoring  # type: ignore[attr-defined]
        with _tool_lock:
            for tool in (3, 4):
                if mon.get_tool(tool) is None:
                    mon.use_tool_id(tool, "queue-visualizer scheduler")
                    break
            else:
                raise RuntimeError("no sys.monitoring tool id is free for the scheduler")
            _tool_in_use.append(tool)
        self.tool = tool
        tracer = self.tracer
        instruction = tracer.instruction
        called = tracer.called
        getframe = sys._getframe

        entered = tracer.entered

        def on_instruction(code: CodeType, offset: int) -> None:
            instruction(getframe(1), code, offset)

        def on_start(code: CodeType, _offset: int) -> None:
            entered(getframe(1))  # INSTRUCTION events skip RESUME: this stands for it

        files = tracer.files

        def on_call(code: CodeType, _offset: int, callable_: object, _arg0: object) -> None:
            called(getframe(1), _studied_function(callable_, files))

        events = mon.events
        mon.register_callback(tool, events.INSTRUCTION, on_instruction)
        mon.register_callback(tool, events.CALL, on_call)
        mon.register_callback(tool, events.PY_START, on_start)
        self.codes = study_codes(tracer.files)
        for code in self.codes:
            mon.set_local_events(tool, code, events.INSTRUCTION | events.CALL | events.PY_START)

    def close(self) -> None:
        mon = sys.monitoring  # type: ignore[attr-defined]
        for code in self.codes:
            mon.set_local_events(self.tool, code, 0)
        mon.register_callback(self.tool, mon.events.INSTRUCTION, None)
        mon.register_callback(self.tool, mon.events.CALL, None)
        mon.register_callback(self.tool, mon.events.PY_START, None)
        mon.free_tool_id(self.tool)
        with _tool_lock:
            _tool_in_use.remove(self.tool)

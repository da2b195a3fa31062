"""Read a queue file: compile it once, learn what can be learnt without running it,
and execute it as a fresh module whose ``threading``, ``queue`` and ``time`` are
the run's own.

Compiling is cached by the file's path, size and modification time, so a search
that builds thousands of runs compiles once; every run executes the module anew
(a few microseconds for a small file), so every lock the file creates, at module
level too, belongs to that run's tracer.  The code objects stay the same from
run to run, which is what the scheduler's switch points are keyed on.

Nothing here runs the file except :func:`execute`; :func:`facts` reads its syntax
tree only, so the window can check a file without running a line of it.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import CodeType, ModuleType
from typing import Any

from visualizer.engine.userqueue.ref import QueueRef

MAX_BYTES = 2_000_000
"""Largest queue file read: far beyond any queue class, short of a memory problem."""

HEAPQ_FUNCTIONS = frozenset({"heappush", "heappop", "heapify", "heapreplace", "heappushpop"})
PRIORITY_QUEUES = frozenset({"PriorityQueue"})


@dataclass(frozen=True)
class Compiled:
    code: CodeType
    tree: ast.Module
    key: tuple[int, int]  # size, mtime_ns


_cache: dict[str, Compiled] = {}


def compiled(ref: QueueRef) -> Compiled:
    """The file's code and syntax tree (cached); :class:`UserQueueError` if unreadable."""
    try:
        stat = os.stat(ref.path)
    except FileNotFoundError:
        raise ref.problem("no such file") from None
    except OSError as exc:
        raise ref.problem(f"cannot read it: {exc.strerror or exc}") from None
    if os.path.isdir(ref.path):
        raise ref.problem("is a folder, not a Python file")
    key = (stat.st_size, stat.st_mtime_ns)
    hit = _cache.get(ref.path)
    if hit is not None and hit.key == key:
        return hit
    if stat.st_size > MAX_BYTES:
        raise ref.problem(f"is over {MAX_BYTES} bytes: not a queue class")
    try:
        with open(ref.path, "rb") as handle:
            source = handle.read()
    except OSError as exc:
        raise ref.problem(f"cannot read it: {exc.strerror or exc}") from None
    try:
        tree = ast.parse(source, ref.path)
        code = compile(tree, ref.path, "exec")
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        raise ref.problem(f"{where}syntax error: {exc.msg}") from None
    except ValueError as exc:  # null bytes
        raise ref.problem(f"not a Python source file ({exc})") from None
    result = _cache[ref.path] = Compiled(code, tree, key)
    return result


@dataclass(frozen=True)
class Facts:
    """What the syntax tree says about the class, without running anything."""

    defined: bool  # a top-level ``class ClassName``
    methods: frozenset[str]  # defined in its own body
    bases: tuple[str, ...]  # as written
    heap: str | None  # the attribute holding a heapq list ("_heap", "pq.queue"), if one is seen


_facts: dict[QueueRef, tuple[tuple[int, int], Facts]] = {}


def facts(ref: QueueRef) -> Facts:
    """What the file's syntax says of the class (kept as long as the file is unchanged)."""
    source = compiled(ref)
    kept = _facts.get(ref)
    if kept is not None and kept[0] == source.key:
        return kept[1]
    found = _read_facts(ref, source.tree)
    _facts[ref] = (source.key, found)
    return found


def _read_facts(ref: QueueRef, tree: ast.Module) -> Facts:
    cls = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.ClassDef) and node.name == ref.class_name
        ),
        None,
    )
    if cls is None:
        return Facts(False, frozenset(), (), None)
    methods = frozenset(
        node.name for node in cls.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )
    bases = tuple(ast.unparse(base) for base in cls.bases)
    return Facts(True, methods, bases, _heap_attribute(cls, bases))


def class_names(ref: QueueRef) -> list[str]:
    """The classes defined at the top of the file, those with an ``add_task`` first."""
    tree = compiled(ref).tree
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]

    def has_add(node: ast.ClassDef) -> bool:
        return any(getattr(item, "name", "") == "add_task" for item in node.body)

    return [node.name for node in sorted(classes, key=lambda node: not has_add(node))]


def _self_attribute(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    ):
        return node.attr
    return None


def _heap_attribute(cls: ast.ClassDef, bases: tuple[str, ...]) -> str | None:
    """The list the class keeps as a heap: the first ``self.X`` handed to a heapq function,
    or ``self.X.queue`` of a ``queue.PriorityQueue`` it holds (or ``queue`` if it is one)."""
    if any(base.rpartition(".")[2] in PRIORITY_QUEUES for base in bases):
        return "queue"
    for node in ast.walk(cls):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in HEAPQ_FUNCTIONS:
            attr = _self_attribute(node.args[0])
            if attr is not None:
                return attr
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in PRIORITY_QUEUES:
                for target in node.targets:
                    attr = _self_attribute(target)
                    if attr is not None:
                        return f"{attr}.queue"
    return None


def module_name(ref: QueueRef) -> str:
    """A name of its own in ``sys.modules``: the scheduler finds study code through it."""
    digest = hashlib.sha1(ref.path.encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(ref.file_name)[0])
    return f"_user_queue_{stem}_{digest}"


def execute(ref: QueueRef, replacements: Mapping[str, Any]) -> ModuleType:
    """Run the file as a new module, ``import X`` giving ``replacements[X]`` where named.

    Raises :class:`UserQueueError` if executing it raises.
    """
    code = compiled(ref).code
    name = module_name(ref)
    module = ModuleType(name)
    module.__file__ = ref.path
    real_import = builtins.__import__

    def import_(
        what: str,
        globals_: Any = None,
        locals_: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        if level == 0 and what in replacements:
            return replacements[what]
        return real_import(what, globals_, locals_, fromlist, level)

    own_builtins = dict(vars(builtins))
    own_builtins["__import__"] = import_
    module.__dict__["__builtins__"] = own_builtins
    sys.modules[name] = module  # dataclasses and the scheduler look the module up by name
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        raise ref.problem(f"running the file raised {type(exc).__name__}: {exc}") from None
    except SystemExit:
        raise ref.problem("running the file called exit()") from None
    return module

"""Bring your own queue: a class from a file of the user's, run like a strategy.

* :mod:`.ref` names it as plain data (``PATH.py:ClassName``);
* :mod:`.source` compiles the file once, reads what it can without running it,
  and executes it as a fresh module per run;
* :mod:`.primitives` gives that module the run's own ``threading``, ``queue``
  and ``time``, so every lock it creates is traced, without editing a line;
* :mod:`.api` checks the class against the task-queue API;
* :mod:`.adapter` wraps an instance in the interface the engine's workers use
  and records the task events from the calls;
* :mod:`.probe` tries it once (build, add, get) so bad input is one line, not a
  run that fails; ``python -m visualizer.engine.userqueue PATH:Class`` does the
  same in a process of its own, for the window.
"""

from __future__ import annotations

from typing import Any

from visualizer.engine.userqueue.adapter import UserQueue, task_id_of
from visualizer.engine.userqueue.api import QueueApi, check_class
from visualizer.engine.userqueue.primitives import namespaces
from visualizer.engine.userqueue.ref import QueueRef, UserQueueError
from visualizer.engine.userqueue.source import execute, facts
from visualizer.queues import Tracer


def load(ref: QueueRef, tracer: Tracer) -> tuple[Any, QueueApi]:
    """Execute the file for one run (its primitives from ``tracer``); the class and its API."""
    known = facts(ref)  # a syntax error or a missing file is named before anything runs
    if not known.defined and known.methods == frozenset() and not _maybe_defined(ref):
        raise ref.problem(f"no class {ref.class_name} in it")
    module = execute(ref, namespaces(tracer))
    return check_class(ref, module, known.heap)


def _maybe_defined(ref: QueueRef) -> bool:
    """A class made some other way (assigned, imported) may still be there once it runs."""
    from visualizer.engine.userqueue.source import compiled

    return ref.class_name in compiled(ref).code.co_names


def build(ref: QueueRef, tracer: Tracer) -> UserQueue:
    """A new instance of the user's class for one run, wrapped for the workers."""
    cls, api = load(ref, tracer)
    try:
        instance = cls()
    except Exception as exc:
        raise ref.problem(f"{ref.class_name}() raised {type(exc).__name__}: {exc}") from None
    return UserQueue(instance, api, tracer)


__all__ = [
    "QueueApi",
    "QueueRef",
    "UserQueue",
    "UserQueueError",
    "build",
    "load",
    "task_id_of",
]

"""Does a class follow the task-queue API, and how is it called?

The API the project teaches: ``add_task(task_id, priority, payload)`` and
``get_next_task(...)`` are required; ``get_next_task`` may take ``timeout``
(then workers block in it, a little at a time) or ``block`` (then they poll
with ``block=False``).  ``complete_task``, ``get_status``, ``cancel_task``,
``shutdown`` and ``__len__`` are optional: what is missing is named once and
left out of the workload.  The answer is plain data (:class:`QueueApi`), so a
check made in one process can be shown in another.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from visualizer.engine.userqueue.ref import QueueRef

REQUIRED = ("add_task", "get_next_task")
OPTIONAL = ("complete_task", "get_status", "cancel_task", "shutdown", "__len__")


@dataclass(frozen=True)
class QueueApi:
    """How the adapter calls one class."""

    ref: QueueRef
    get_takes: str  # "timeout", "block" or "" (neither)
    add_takes_payload: bool
    present: tuple[str, ...]  # optional methods the class has
    heap: str | None  # attribute holding its heapq list, if seen in the source

    @property
    def blocking(self) -> bool:
        """Workers block in ``get_next_task(timeout=...)`` rather than poll."""
        return self.get_takes == "timeout"

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in OPTIONAL if name not in self.present)

    def note(self) -> str:
        """The one notice about what is left out ("" if nothing is)."""
        if not self.missing:
            return ""
        names = ", ".join(self.missing)
        left = {
            "complete_task": "tasks count as completed when a worker finishes them",
            "cancel_task": "producers cancel nothing",
            "get_status": "statuses come from the calls alone",
            "shutdown": "Stop does not tell the queue",
            "__len__": "its length is not checked at the end",
        }
        reasons = "; ".join(left[name] for name in self.missing)
        return f"{self.ref.label} has no {names}: {reasons}"

    def to_data(self) -> dict[str, Any]:
        return {
            "path": self.ref.path,
            "class_name": self.ref.class_name,
            "get_takes": self.get_takes,
            "add_takes_payload": self.add_takes_payload,
            "present": list(self.present),
            "heap": self.heap,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> QueueApi:
        return cls(
            QueueRef(data["path"], data["class_name"]),
            data["get_takes"],
            data["add_takes_payload"],
            tuple(data["present"]),
            data["heap"],
        )


def check_class(ref: QueueRef, module: Any, heap: str | None) -> tuple[Any, QueueApi]:
    """The class ``ref`` names in the executed ``module``, and how to call it."""
    cls: Any = getattr(module, ref.class_name, None)
    if cls is None:
        raise ref.problem(f"no class {ref.class_name} in it")
    if not isinstance(cls, type):
        raise ref.problem(f"{ref.class_name} is not a class")
    for name in REQUIRED:
        if not callable(getattr(cls, name, None)):
            raise ref.problem(f"{ref.class_name} has no {name} method")
    _check_constructor(ref, cls)
    add = _signature(vars_of(cls, "add_task"))
    if add is not None and not _binds(add, 3):
        if not _binds(add, 2):
            raise ref.problem(
                f"{ref.class_name}.add_task must take (task_id, priority, payload); it takes {add}"
            )
        takes_payload = False
    else:
        takes_payload = True
    get = _signature(vars_of(cls, "get_next_task"))
    get_takes = ""
    if get is not None:
        if "timeout" in get.parameters:
            get_takes = "timeout"
        elif "block" in get.parameters:
            get_takes = "block"
        elif not _binds(get, 0):
            raise ref.problem(
                f"{ref.class_name}.get_next_task must be callable with no argument "
                f"(or with timeout=/block=); it takes {get}"
            )
    present = tuple(name for name in OPTIONAL if callable(getattr(cls, name, None)))
    return cls, QueueApi(ref, get_takes, takes_payload, present, heap)


def vars_of(cls: Any, name: str) -> Any:
    """The class's method ``name`` (looked up as ``cls.name`` would)."""
    return getattr(cls, name)


def _check_constructor(ref: QueueRef, cls: type) -> None:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    needed = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if needed:
        raise ref.problem(
            f"{ref.class_name}() needs arguments ({', '.join(needed)}): "
            "give them default values so it can be built with none"
        )


def _signature(method: Any) -> inspect.Signature | None:
    """The signature without ``self`` (None if Python cannot tell, as for some C methods)."""
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    return signature.replace(parameters=params)


def _binds(signature: inspect.Signature, count: int) -> bool:
    try:
        signature.bind(*range(count))
    except TypeError:
        return False
    return True

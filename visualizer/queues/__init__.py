"""Queue strategies and the traced synchronisation primitives they are built from.

``STRATEGIES`` maps each strategy's short name (as used on the command line and
in the strategy picker) to its class.  Every class takes an optional
:class:`Tracer` and offers the :class:`TaskQueue` API.
"""

from visualizer.queues.base import (
    CANCELLED,
    COMPLETED,
    PROCESSING,
    QUEUED,
    STATUSES,
    HeapEntry,
    QueueShutDown,
    Snapshot,
    Task,
    TaskQueue,
    TaskTable,
)
from visualizer.queues.gate import Gate, RunStopped
from visualizer.queues.global_lock import GlobalLockQueue
from visualizer.queues.tracer import Tracer

STRATEGIES: dict[str, type[TaskTable]] = {
    cls.name: cls
    for cls in (GlobalLockQueue,)
}

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "PROCESSING",
    "QUEUED",
    "STATUSES",
    "STRATEGIES",
    "Gate",
    "HeapEntry",
    "QueueShutDown",
    "RunStopped",
    "Snapshot",
    "Task",
    "TaskQueue",
    "TaskTable",
    "Tracer",
]

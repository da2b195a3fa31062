"""Queue strategies and the traced synchronisation primitives they are built from.

``STRATEGIES`` maps each strategy's short name (as used on the command line and
in the strategy picker) to its class.  Every class takes an optional
:class:`Tracer` and offers the :class:`TaskQueue` API.
"""

from visualizer.queues.base import (
    HeapEntry,
    QueueShutDown,
    Snapshot,
    Task,
    TaskQueue,
    TaskTable,
)
from visualizer.queues.complete import CompleteQueue
from visualizer.queues.condition_queue import ConditionQueue
from visualizer.queues.gate import Gate, RunStopped
from visualizer.queues.global_lock import GlobalLockQueue
from visualizer.queues.priority_queue import PriorityQueueStrategy
from visualizer.queues.rlock_queue import RLockQueue
from visualizer.queues.rwlock_queue import RWLockQueue, WriterPreferringRWLockQueue
from visualizer.queues.tracer import Tracer
from visualizer.queues.unsafe import UnsafeQueue

STRATEGIES: dict[str, type[TaskTable]] = {
    cls.name: cls
    for cls in (
        UnsafeQueue,
        GlobalLockQueue,
        RLockQueue,
        RWLockQueue,
        WriterPreferringRWLockQueue,
        ConditionQueue,
        PriorityQueueStrategy,
        CompleteQueue,
    )
}

__all__ = [
    "STRATEGIES",
    "CompleteQueue",
    "ConditionQueue",
    "Gate",
    "GlobalLockQueue",
    "HeapEntry",
    "PriorityQueueStrategy",
    "QueueShutDown",
    "RLockQueue",
    "RWLockQueue",
    "RunStopped",
    "Snapshot",
    "Task",
    "TaskQueue",
    "TaskTable",
    "Tracer",
    "UnsafeQueue",
    "WriterPreferringRWLockQueue",
]

"""View state folded from the event stream: no Qt here, so it is testable and reusable.

``RunModel`` is what the window and the command line hold; ``InvariantChecker``
can also run on its own (for example over a recorded stream in a test).
"""

from visualizer.model.checker import InvariantChecker, Violation
from visualizer.model.figures import FIGURES
from visualizer.model.heap import HeapMirror
from visualizer.model.locks import LockState, LockTable, Waiter
from visualizer.model.metrics import SERIES, Metrics
from visualizer.model.positions import Position, PositionLog
from visualizer.model.state import RunModel, ThreadInfo
from visualizer.model.stats import Stats
from visualizer.model.summary import LockSummary, RunSummary
from visualizer.model.tasks import TaskBoard
from visualizer.model.timeline import Segment, Timeline

__all__ = [
    "FIGURES",
    "SERIES",
    "HeapMirror",
    "InvariantChecker",
    "LockState",
    "LockSummary",
    "LockTable",
    "Metrics",
    "Position",
    "PositionLog",
    "RunModel",
    "RunSummary",
    "Segment",
    "Stats",
    "TaskBoard",
    "ThreadInfo",
    "Timeline",
    "Violation",
    "Waiter",
]

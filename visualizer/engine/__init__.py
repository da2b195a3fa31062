"""The engine: producer and worker threads running a workload against a strategy.

Pure Python, no Qt: the window, the command line and the tests all drive runs
through this package the same way.
"""

from visualizer.engine.drain import Drainer
from visualizer.engine.run import Run, RunState, ThreadInfo, make_queue, run_label
from visualizer.engine.workload import WORK_DISTRIBUTIONS, Workload

__all__ = [
    "WORK_DISTRIBUTIONS",
    "Drainer",
    "Run",
    "RunState",
    "ThreadInfo",
    "Workload",
    "make_queue",
    "run_label",
]

"""Runs in a process of their own: the window watches, the run process runs.

The run's threads, its queue, gate and recorder live in a child Python process
(:mod:`.child`, started by :class:`Launcher` under any CPython 3.11+); the
window keeps the model and the views.  Events cross in batches on a pipe
(:mod:`.outbox`, :mod:`.wire`, :mod:`.stream`: blocks of a compact binary form
where the C speedups are built, pickled tuples where not); commands go back
as ``(name, args)`` to an allowlist (:mod:`.commands`); :class:`RemoteRun`
(:mod:`.proxy`) mirrors the run for the window with a
:class:`~visualizer.engine.Run`'s interface.  The engine itself does not
change: the child builds an ordinary ``Run`` from a :class:`RunSpec`, which
the command line and the tests build in-process.
"""

from visualizer.engine.host.launcher import WINDOW_NICE, Launcher, check_interpreter
from visualizer.engine.host.process import EngineProcess, ExitReport
from visualizer.engine.host.proxy import (
    STOP_TIMEOUT_S,
    RemoteError,
    RemoteRun,
    SchedulerMirror,
)
from visualizer.engine.host.spec import RunSpec

__all__ = [
    "STOP_TIMEOUT_S",
    "WINDOW_NICE",
    "EngineProcess",
    "ExitReport",
    "Launcher",
    "RemoteError",
    "RemoteRun",
    "RunSpec",
    "SchedulerMirror",
    "check_interpreter",
]

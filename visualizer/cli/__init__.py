"""The command line: ``python -m visualizer [run | bench | scenarios | replay | ... | gui]``.

``run`` composes the same layers as the window (a :class:`Run` from the engine,
its events drained into a :class:`RunModel`) and prints what the views would
show: throughput, lock wait and hold times, contention, invariant violations.
``bench`` times every strategy with tracing on and off.  With no sub-command the
window opens; Qt is imported only then, so ``run`` and ``bench`` work without it.

One module per command (``run``, ``bench``, ``recording`` for replay, export and
compare, ``scenarios``); ``dispatch`` parses and hands over, ``common`` and
``report`` hold what several commands share.

Exit status (for scripts):
    0  success; for ``run`` and ``replay``: no invariant violation, no error in a run
       thread, and every event checked
    1  ``run``, ``replay``: the invariant checker found violations, or a run thread raised
    2  invalid arguments, an unreadable event log, or a log that could not be written
       (a one-line message on stderr)
    3  the window could not be opened (the GUI is not installed or failed to load)
    4  ``run``, ``replay``, ``compare``: no violation found, but events were dropped, so
       the checker could not verify the run (the summary's last line says so)
"""

from visualizer.cli.common import (
    EXIT_NO_GUI,
    EXIT_OK,
    EXIT_UNVERIFIED,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
)
from visualizer.cli.dispatch import build_parser, main

__all__ = [
    "EXIT_NO_GUI",
    "EXIT_OK",
    "EXIT_UNVERIFIED",
    "EXIT_USAGE",
    "EXIT_VIOLATIONS",
    "build_parser",
    "main",
]

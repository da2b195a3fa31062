"""What every command shares: exit statuses and the one-line usage error.

The parser class and the workload options (``run`` and ``compare`` take the same
ones as the window) come from :mod:`visualizer.engine.options`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from visualizer.engine.options import USAGE_STATUS

if TYPE_CHECKING:
    from visualizer.model import RunModel

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = USAGE_STATUS
EXIT_NO_GUI = 3
EXIT_UNVERIFIED = 4
"""No violation found, but events were dropped: the checker could not verify the run."""


def run_status(model: RunModel, errors: Sequence[str]) -> int:
    """The status of a run (or a replayed log): violations or errors, else unverified, else ok."""
    if model.anomalies or errors:
        return EXIT_VIOLATIONS
    return EXIT_UNVERIFIED if model.unverified() else EXIT_OK


def usage_error(command: str, message: str) -> int:
    """One line on stderr, pointing at --help; returns the usage exit status."""
    print(f"visualizer {command}: error: {message} (see --help)", file=sys.stderr)
    return EXIT_USAGE

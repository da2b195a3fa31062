"""What every command shares: exit statuses and the one-line usage error.

The parser class and the workload options (``run`` and ``compare`` take the same
ones as the window) come from :mod:`visualizer.engine.options`."""

from __future__ import annotations

import sys

from visualizer.engine.options import USAGE_STATUS

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = USAGE_STATUS
EXIT_NO_GUI = 3


def usage_error(command: str, message: str) -> int:
    """One line on stderr, pointing at --help; returns the usage exit status."""
    print(f"visualizer {command}: error: {message} (see --help)", file=sys.stderr)
    return EXIT_USAGE

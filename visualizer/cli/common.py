"""What every command shares: exit statuses, the one-line-error parser, usage errors
and the workload options (``run`` and ``compare`` take the same ones)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_NO_GUI = 3


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# Option, Workload field, type, metavar, help.  Defaults live in Workload alone:
# an option left out leaves its field at the default.
RUN_OPTIONS: list[tuple[str, str, type, str, str]] = [
    ("--producers", "producers", int, "N", "producer threads"),
    ("--workers", "workers", int, "N", "worker threads"),
    ("--tasks", "tasks", int, "N", "tasks to produce in all (0 = until --duration or Ctrl-C)"),
    ("--duration", "duration", float, "S", "stop producing after S seconds"),
    ("--rate", "rate", float, "R", "tasks per second per producer (0 = flat out)"),
    ("--priority-spread", "priority_spread", int, "N", "priorities are drawn from 0..N-1"),
    ("--work-time", "work_time", float, "S", "mean seconds of work per task (0 = none)"),
    ("--work-distribution", "work_distribution", str, "D", "exponential, fixed or uniform"),
    ("--cancel-probability", "cancel_probability", float, "P", "chance to cancel an earlier task"),
    ("--race-window", "race_window", float, "S", "seconds to widen the unsafe queue's races"),
    ("--switch-interval", "switch_interval", float, "S", "sys.setswitchinterval for the run"),
    ("--seed", "seed", int, "N", "seed of every producer's random choices"),
    ("--capacity", "capacity", int, "N", "events the recorder holds before dropping"),
]


def add_workload_options(parser: argparse.ArgumentParser) -> None:
    """Add the ``RUN_OPTIONS`` to ``parser``, each left None when not given."""
    from visualizer.engine import Workload

    defaults = {f.name: f.default for f in fields(Workload)}
    for option, field_name, kind, metavar, text in RUN_OPTIONS:
        default = defaults[field_name]
        parser.add_argument(
            option,
            dest=field_name,
            type=kind,
            metavar=metavar,
            help=f"{text} (default: {'none' if default is None else default})",
        )


def workload_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The ``RUN_OPTIONS`` given on the command line, by Workload field name."""
    return {
        field_name: getattr(args, field_name)
        for _option, field_name, *_rest in RUN_OPTIONS
        if getattr(args, field_name) is not None
    }


def usage_error(command: str, message: str) -> int:
    """One line on stderr, pointing at --help; returns the usage exit status."""
    print(f"visualizer {command}: error: {message} (see --help)", file=sys.stderr)
    return EXIT_USAGE

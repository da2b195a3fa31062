"""The workload's command-line options, described once for every parser that takes them.

The window (``queue-visualizer``) and the command line (``run``, ``compare``)
accept the same workload options, with the same names, help and checks; this
table is the one place they are written.  Defaults live in :class:`Workload`
alone: an option left out leaves its field as the workload had it (the
defaults, or the window's saved settings).  Units are the engine's: seconds
and fractions.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any, NoReturn

from visualizer.engine.workload import WORK_DISTRIBUTIONS, Workload

USAGE_STATUS = 2
"""Exit status for a bad argument, the same for the window and the command line."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_STATUS, f"{self.prog}: error: {message} (see --help)\n")


@dataclass(frozen=True)
class WorkloadOption:
    """One ``--option`` that sets the :class:`Workload` field of the same name."""

    field: str
    kind: type
    metavar: str
    help: str

    @property
    def flag(self) -> str:
        return flag(self.field)


WORKLOAD_OPTIONS = (
    WorkloadOption("producers", int, "N", "producer threads"),
    WorkloadOption("workers", int, "N", "worker threads"),
    WorkloadOption("tasks", int, "N", "tasks to produce in all (0 = until stopped or --duration)"),
    WorkloadOption("duration", float, "S", "stop producing after S seconds"),
    WorkloadOption("rate", float, "R", "tasks per second per producer (0 = flat out)"),
    WorkloadOption("priority_spread", int, "N", "priorities are drawn from 0 .. N-1"),
    WorkloadOption("work_time", float, "S", "mean seconds of work per task (0 = none)"),
    WorkloadOption("work_distribution", str, "D", f"one of {', '.join(WORK_DISTRIBUTIONS)}"),
    WorkloadOption("cancel_probability", float, "P", "chance (0..1) to cancel an earlier task"),
    WorkloadOption("race_window", float, "S", "seconds the unsafe strategy sleeps in its races"),
    WorkloadOption("switch_interval", float, "S", "sys.setswitchinterval seconds for the run"),
    WorkloadOption("readers", int, "N", "status reader threads: they snapshot the queue"),
    WorkloadOption("backlog", int, "N", "producers wait while N tasks are queued (0 = no limit)"),
    WorkloadOption("burst", int, "N", "each producer adds N tasks at once, then waits"),
    WorkloadOption("seed", int, "N", "seed of the priorities, work times and cancels"),
    WorkloadOption("capacity", int, "N", "events the recorder holds before dropping"),
)


def flag(field: str) -> str:
    """The option that sets ``field``: ``work_time`` -> ``--work-time``."""
    return "--" + field.replace("_", "-")


def add_workload_options(parser: argparse.ArgumentParser) -> None:
    """Add every workload option to ``parser``, each left None when not given."""
    defaults = {f.name: f.default for f in fields(Workload)}
    for option in WORKLOAD_OPTIONS:
        default = defaults[option.field]
        parser.add_argument(
            option.flag,
            dest=option.field,
            type=option.kind,
            metavar=option.metavar,
            help=f"{option.help} (default: {'none' if default is None else default})",
        )


def workload_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The workload options given on the command line, by Workload field name."""
    return {
        option.field: getattr(args, option.field)
        for option in WORKLOAD_OPTIONS
        if getattr(args, option.field) is not None
    }


def option_message(error: ValueError) -> str:
    """:meth:`Workload.validate`'s ``"field: problem"`` as ``"--field: problem"``."""
    field, _, problem = str(error).partition(": ")
    return f"{flag(field)}: {problem}" if problem else str(error)

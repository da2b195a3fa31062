"""``python -m visualizer explore``: search schedules until an invariant breaks.

Composes the stepping layer's search (:mod:`visualizer.stepping.search`: bounded
DFS, PCT and random in turns) and shrinking with a subject from the command
line (a strategy, a user's queue file or a scenario), prints the violation and
the schedule as text, and with ``--save`` writes the counterexample as a
recording that the window opens paused at its start, ready to step and undo.

Exit status: 1 a violation was found, 0 none within the budget (or in the whole
bounded space), 2 bad input (one line naming the file and the problem).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from typing import Any, TextIO

from visualizer.cli.common import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS
from visualizer.engine import Workload
from visualizer.engine.options import add_workload_options, option_message, workload_changes
from visualizer.engine.scheduler import GRANULARITIES, MODELS
from visualizer.engine.userqueue import QueueRef, UserQueueError
from visualizer.stepping.explore import preemptions, trim
from visualizer.stepping.search import METHODS, Progress, search
from visualizer.stepping.shrink import first_kind, same_bug, shrink
from visualizer.stepping.subject import SMALL, Subject

DEFAULT_BUDGET = "30s"
DEFAULT_PREEMPTIONS = 2


def add_command(commands: Any) -> None:
    explore = commands.add_parser(
        "explore",
        help="search thread interleavings until an invariant breaks",
        description="Play schedules of the controlled scheduler (bounded-preemption DFS, PCT "
        "and random walks, in turns) until the invariant checker finds a violation; shrink "
        "it and print it with its schedule. Exit status 1 if one was found, 0 if none, "
        "2 for bad input.",
    )
    what = explore.add_mutually_exclusive_group(required=True)
    what.add_argument("--strategy", metavar="NAME", help="a built-in strategy")
    what.add_argument("--queue", metavar="PATH.py:CLASS", help="your own queue class")
    what.add_argument("--scenario", metavar="NAME", help="a teaching scenario")
    explore.add_argument("--fixed", action="store_true", help="with --scenario: apply the fix")
    add_workload_options(explore)
    explore.set_defaults(**{key: None for key in SMALL})
    explore.add_argument(
        "--granularity",
        choices=GRANULARITIES,
        help="switch points: every instruction (default), every line, or only locks",
    )
    explore.add_argument(
        "--model",
        choices=MODELS,
        help="where threads may switch: 'gil' (CPython with its GIL, the default here) or "
        "'free' (free-threaded CPython: between any two instructions)",
    )
    explore.add_argument(
        "--search",
        default="all",
        metavar="M[,M]",
        help=f"searchers taking turns: {', '.join(METHODS)} or all (default: all)",
    )
    explore.add_argument(
        "--max-preemptions",
        type=int,
        default=DEFAULT_PREEMPTIONS,
        metavar="K",
        help=f"the DFS's bound (default: {DEFAULT_PREEMPTIONS})",
    )
    explore.add_argument(
        "--budget",
        default=DEFAULT_BUDGET,
        metavar="N|Ns",
        help=f"schedules (500) or seconds (10s) to search at most (default: {DEFAULT_BUDGET})",
    )
    explore.add_argument(
        "--save", metavar="FILE", help="save the counterexample as a recording (.jsonl[.gz])"
    )
    explore.add_argument("--quiet", action="store_true", help="no progress on stderr")


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """``500`` schedules or ``10s`` seconds (``2m`` minutes too)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|)\s*", text)
    if not match:
        raise ValueError("--budget: give a number of schedules (500) or seconds (10s)")
    number, unit = float(match.group(1)), match.group(2)
    if unit == "":
        if not number.is_integer() or number < 1:
            raise ValueError("--budget: a number of schedules must be a whole number >= 1")
        return int(number), None
    seconds = number * (60 if unit == "m" else 1)
    if seconds <= 0:
        raise ValueError("--budget: seconds must be more than 0")
    return None, seconds


def subject_from(args: argparse.Namespace) -> Subject:
    changes = {**SMALL, **workload_changes(args)}
    if args.scenario is not None:
        return Subject(Workload(seed=changes.get("seed", 0)), args.scenario, args.fixed)
    if args.fixed:
        raise ValueError("--fixed: only with --scenario")
    if args.queue is not None:
        QueueRef.parse(args.queue)
        workload = Workload(queue=QueueRef.parse(args.queue).text(), **changes)
    else:
        workload = Workload(strategy=args.strategy, **changes)
    try:
        workload.validate()
    except ValueError as exc:
        raise ValueError(option_message(exc)) from None
    if workload.tasks == 0:
        raise ValueError("--tasks: a search needs a number of tasks (1 or more)")
    return Subject(workload)


def explore_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = sys.stderr
    try:
        budget_schedules, budget_seconds = parse_budget(args.budget)
        methods = METHODS if args.search == "all" else tuple(args.search.split(","))
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise ValueError(f"--search: unknown {unknown[0]!r} (choose from {', '.join(METHODS)})")
        if args.max_preemptions < 0:
            raise ValueError("--max-preemptions: must be 0 or more")
        subject = subject_from(args)
        subject.check()
    except (ValueError, UserQueueError) as exc:
        print(f"visualizer explore: error: {exc}", file=err)
        return EXIT_USAGE
    granularity, model = subject.shape()
    granularity = args.granularity or granularity
    model = args.model or model
    print(f"{subject.describe()}; {granularity} steps, {model} model", file=out)
    dfs_words = f"dfs (at most {_preemptions(args.max_preemptions)})"
    words = ", ".join(dfs_words if m == "dfs" else m for m in methods)
    limit = f"{budget_schedules} schedules" if budget_schedules else f"{budget_seconds:g} s"
    print(f"searching: {words}; budget {limit}; seed {subject.workload.seed}", file=out)
    out.flush()
    meter = _Meter(err, quiet=args.quiet)
    found = search(
        subject.make_run,
        granularity,
        model,
        methods=methods,
        max_preemptions=args.max_preemptions,
        budget_schedules=budget_schedules,
        budget_seconds=budget_seconds,
        seed=subject.workload.seed,
        progress=meter.show,
    )
    meter.clear()
    state = found.progress
    if found.played is None:
        if found.exhausted:
            print(
                f"no violation in all {state.dfs_schedules} schedules with at most "
                f"{_preemptions(args.max_preemptions)} ({state.distinct} distinct schedules "
                f"played in all, {state.seconds:.1f} s)",
                file=out,
            )
        else:
            print(
                f"no violation in {state.distinct} schedules (budget; {state.schedules} played "
                f"in {state.seconds:.1f} s)",
                file=out,
            )
        return EXIT_OK
    print(
        f"found by {found.method} after {state.schedules} schedules ({state.seconds:.2f} s)",
        file=out,
    )
    played, tries = shrink(subject.make_run, found.played, same_bug(found.played))
    schedule = trim(played.schedule, played.options)
    count = preemptions(played.schedule.steps, played.options)
    print(
        f"shrunk in {tries} tries: {count} preemption{'s' if count != 1 else ''}, "
        f"{len(schedule)} steps before the default order takes over",
        file=out,
    )
    for line in violation_lines(played):
        print(line, file=out)
    print(f"schedule: {schedule.text()}", file=out)
    print(f"replay:   {replay_command(subject, schedule.text())}", file=out)
    if args.save:
        problem = save(args.save, subject, played, schedule.text())
        if problem:
            print(f"visualizer explore: error: --save: {problem}", file=err)
            return EXIT_USAGE
        print(f"saved:    {args.save} (queue-visualizer --open {shlex.quote(args.save)})", file=out)
    return EXIT_VIOLATIONS


def _preemptions(count: int) -> str:
    return f"{count} preemption{'' if count == 1 else 's'}"


def violation_lines(played: Any) -> list[str]:
    lines = [f"violation: {v.kind}: {v.detail}" for v in played.model.anomalies[:3]]
    lines += [f"error: {e}" for e in played.run.errors[:3] if not played.model.anomalies]
    if not lines:
        lines.append(f"violation: {first_kind(played) or played.outcome}: {played.detail}")
    return lines


def replay_command(subject: Subject, schedule: str) -> str:
    """The ``run`` command line that plays ``schedule`` again."""
    parts = ["python", "-m", "visualizer", "run"]
    if subject.scenario is not None:
        parts += ["--scenario", subject.scenario] + (["--fixed"] if subject.fixed else [])
    else:
        w = subject.workload
        if w.queue is not None:
            parts += ["--queue", w.queue]
        else:
            parts += ["--strategy", w.strategy]
        defaults = Workload()
        for key in ("producers", "workers", "tasks", "rate", "work_time", "seed"):
            value = getattr(w, key)
            if value != getattr(defaults, key) or key in SMALL:
                parts += ["--" + key.replace("_", "-"), f"{value:g}"]
    parts += ["--schedule", schedule]
    return shlex.join(parts)


def save(path: str, subject: Subject, played: Any, schedule: str) -> str | None:
    """Write the counterexample's events with its subject and schedule; a problem, or None."""
    from dataclasses import asdict

    from visualizer.events import Batch
    from visualizer.recording import LogWriter

    run = played.run
    try:
        writer = LogWriter(
            path,
            settings=asdict(run.workload),
            strategy=run.label,
            thread_name=run.recorder.thread_name,
            subject=subject.to_data(),
            schedule=schedule,
        )
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    with writer:
        writer.write_batch(Batch(0, list(played.events), 0))
    return None


class _Meter:
    """Progress on stderr: one line redrawn in place on a terminal, else one a second."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.next = 0.0
        self.width = 0

    def show(self, state: Progress) -> None:
        if self.quiet or state.seconds < self.next:
            return
        self.next = state.seconds + (0.1 if self.tty else 1.0)
        line = (
            f"explored {state.schedules} schedules ({state.distinct} distinct), "
            f"dfs at {state.bound} preemption{'s' if state.bound != 1 else ''}, "
            f"{state.seconds:.1f} s"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()

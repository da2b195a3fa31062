"""Compare strategies: one workload, same seed, run against two to four strategies in turn.

Why one after another rather than side by side: the runs share one interpreter
and one GIL, so running them at once would make each one's figures depend on
the others.  In turn, each strategy gets the machine to itself and the seed
makes every run produce the same tasks with the same priorities and work times,
so what differs is the strategy.

Qt-free, like the engine and the model: the command line prints
:func:`format_table`, and the window's Compare dialog shows the same rows and
plots the same series (:mod:`visualizer.ui.compare_plot` draws them).
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TextIO

import numpy as np

from visualizer.engine import Drainer, Run, RunState, Workload
from visualizer.model import RunModel
from visualizer.queues import STRATEGIES

MIN_STRATEGIES = 2
MAX_STRATEGIES = 4
WINDOW_S = 600.0
"""Seconds of metrics each run keeps: the plots show the whole of any sensible comparison."""
POLL_S = 0.1
"""How often a waiting comparison looks at its cancel flag."""

PLOTTED = ("completed_per_s", "queue_depth", "lock_wait_ms")
"""The series the plots show, top to bottom, on time axes shared across strategies."""

Series = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class CompareRow:
    """One strategy's run, as the summary table shows it.

    ``lock_wait_p99_us`` is the worst primitive's p99 wait over the waits that
    happened (None when no acquisition had to wait): a comparison asks which
    strategy makes some thread wait longest, and one busy lock says that.
    """

    strategy: str
    state: str
    elapsed_s: float
    completed: int
    throughput: float  # completed tasks per second of the run
    lock_wait_p99_us: float | None
    violations: int
    errors: int
    events: int
    dropped: int


@dataclass
class CompareResult:
    """Every run's row and plotted series, in the order the strategies were given."""

    workload: Workload
    rows: list[CompareRow] = field(default_factory=list)
    series: dict[str, Series] = field(default_factory=dict)
    interrupted: bool = False  # cancelled: the rows cover the runs done so far


def check_strategies(names: Sequence[str]) -> list[str]:
    """Validate a strategy list; raises ``ValueError`` with a message fit for a user."""
    chosen = [name.strip() for name in names if name.strip()]
    # A user's queue is given as PATH.py:ClassName (see ``subject_of``).
    unknown = [name for name in chosen if name not in STRATEGIES and ":" not in name]
    if unknown:
        raise ValueError(f"unknown {unknown[0]!r} (choose from: {', '.join(STRATEGIES)})")
    if len(set(chosen)) != len(chosen):
        raise ValueError("each strategy may be given once")
    if not MIN_STRATEGIES <= len(chosen) <= MAX_STRATEGIES:
        raise ValueError(f"give {MIN_STRATEGIES} to {MAX_STRATEGIES} strategies, not {len(chosen)}")
    return chosen


def subject_of(workload: Workload, name: str) -> Workload:
    """``workload`` running strategy ``name``, or the user's queue ``PATH.py:ClassName``."""
    if ":" in name:
        return workload.replace(queue=name)
    return workload.replace(strategy=name, queue=None)


def check_workload(workload: Workload) -> None:
    """A comparison must end by itself: it needs a task count or a duration."""
    workload.validate()
    if not workload.tasks and workload.duration is None:
        raise ValueError("tasks: a comparison needs a task count or a duration to end")


MakeRun = Callable[[Workload], Any]
"""Builds a run of a workload: :class:`Run` itself (in this process), or the window's
launcher, whose runs go in a run process and have the same interface."""


def run_one(
    workload: Workload, cancel: threading.Event | None = None, make_run: MakeRun = Run
) -> tuple[Any, RunModel]:
    """Run ``workload`` to its end (or until ``cancel`` is set) and fold its events.

    The model is folded on a :class:`Drainer` thread while the run goes, as the
    command line's ``run`` does, and finished once every run thread has ended.
    A ``KeyboardInterrupt`` stops the run cleanly and is raised again.
    """
    run = make_run(workload)
    model = RunModel(thread_name=run.recorder.thread_name, window_s=WINDOW_S)
    drainer = Drainer(run.recorder, model.apply)
    drainer.start()
    try:
        run.start()
        while not run.wait(POLL_S):
            if cancel is not None and cancel.is_set():
                run.stop()
    except KeyboardInterrupt:
        run.stop()
        raise
    finally:
        drainer.stop()
        model.finish(drained=run.state is RunState.FINISHED)
        run.close()
    return run, model


def row_of(run: Any, model: RunModel) -> CompareRow:
    summary = model.summary()
    elapsed = run.elapsed()
    completed = summary.counts["completed"]
    waits = [lock.wait_p99_us for lock in summary.locks if lock.contended]
    return CompareRow(
        strategy=run.workload.subject,
        state=getattr(run, "outcome", None) or run.state.value,  # a run process may crash
        elapsed_s=elapsed,
        completed=completed,
        throughput=completed / elapsed if elapsed > 0 else 0.0,
        lock_wait_p99_us=max(waits) if waits else None,
        violations=sum(summary.violations.values()),
        errors=len(run.errors),
        events=summary.events,
        dropped=summary.dropped,
    )


def compare(
    workload: Workload,
    strategies: Sequence[str],
    *,
    cancel: threading.Event | None = None,
    on_row: Callable[[CompareRow], object] | None = None,
    make_run: MakeRun = Run,
) -> CompareResult:
    """Run ``workload`` (its seed included) once per strategy, in the order given.

    ``on_row`` is called after each run (progress for a caller); setting
    ``cancel`` stops the current run and skips the rest (``interrupted``).  A
    ``KeyboardInterrupt`` ends the comparison the same way.
    """
    result = CompareResult(workload)
    for name in strategies:
        try:
            run, model = run_one(subject_of(workload, name), cancel, make_run)
        except KeyboardInterrupt:
            result.interrupted = True
            break
        row = row_of(run, model)
        series = model.metrics.series()
        result.rows.append(row)
        result.series[row.strategy] = {key: series[key] for key in PLOTTED}
        if on_row is not None:
            on_row(row)
        if cancel is not None and cancel.is_set():
            result.interrupted = True
            break
    return result


COLUMNS: tuple[tuple[str, str], ...] = (
    ("strategy", "strategy"),
    ("state", "state"),
    ("elapsed_s", "time s"),
    ("completed", "completed"),
    ("throughput", "tasks/s"),
    ("lock_wait_p99_us", "lock wait p99 µs"),
    ("violations", "violations"),
    ("errors", "errors"),
)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table_cells(result: CompareResult) -> tuple[list[str], list[list[str]]]:
    """Headings and formatted cells: one layout for the terminal and the dialog."""
    headings = [heading for _, heading in COLUMNS]
    cells = [[_cell(getattr(row, key)) for key, _ in COLUMNS] for row in result.rows]
    return headings, cells


def describe(workload: Workload) -> str:
    """The workload in one line, as the table's heading and the dialog say it."""
    if workload.tasks:
        amount = f"{workload.tasks} tasks"
    elif workload.duration is not None:
        amount = f"{workload.duration:g} s"
    else:
        amount = "no limit"
    rate = "flat out" if not workload.rate else f"{workload.rate:g}/s each"
    return (
        f"{workload.producers} producers ({amount}, {rate}), {workload.workers} workers "
        f"(work {workload.work_time:g} s {workload.work_distribution}), seed {workload.seed}"
    )


def format_table(result: CompareResult) -> str:
    """The summary table as text: the workload, then one line per strategy."""
    lines = [f"compare: {describe(result.workload)}", ""]
    headings, cells = table_cells(result)
    widths = [max(len(text) for text in column) for column in zip(headings, *cells, strict=False)]
    for values in [headings, ["-" * width for width in widths], *cells]:
        first = values[0].ljust(widths[0])
        rest = (value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True))
        lines.append("  ".join([first, *rest]).rstrip())
    lines.append("")
    lines.append("lock wait p99: the most-waited-for primitive's p99 over the waits that happened")
    if result.interrupted:
        lines.append("interrupted: the table covers the runs that were done")
    unverified = [row.strategy for row in result.rows if row.dropped]
    if unverified:
        lines.append(
            f"verdict: unverified: events were dropped in {', '.join(unverified)}, so those "
            "runs' checks were incomplete and their figures are partial"
        )
    return "\n".join(lines)


def write_csv(result: CompareResult, out: str | os.PathLike[str] | TextIO) -> int:
    """The table as CSV, unformatted numbers and every column; returns the row count."""
    keys = [f.name for f in fields(CompareRow)]
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8", newline="") as file:
            return write_csv(result, file)
    writer = csv.DictWriter(out, fieldnames=keys)
    writer.writeheader()
    for row in result.rows:
        writer.writerow(asdict(row))
    return len(result.rows)

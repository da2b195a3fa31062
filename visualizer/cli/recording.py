"""The command line's record, replay, export and compare commands.

Kept apart from :mod:`visualizer.cli.dispatch` (which registers and dispatches them) so
each command reads in one place.  Like ``run``, none of them imports Qt, except
``compare --png``, which needs Qt to draw and imports it only then (offscreen:
no window opens, no display is needed).

A log may come from anywhere, so every way a file can be bad (cut short,
malformed, a newer version, too big, not a log at all) ends the same way: one
line on stderr naming the file and the problem, exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from typing import Any

from visualizer.cli.common import (
    EXIT_OK,
    EXIT_UNVERIFIED,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
    run_status,
)
from visualizer.cli.report import format_summary
from visualizer.engine.options import add_workload_options, option_message, workload_changes


def _error(command: str, message: str) -> int:
    print(f"visualizer {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _writable(path: str) -> str | None:
    """Why ``path`` cannot be written, or None: checked before minutes of running."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return f"{path} is a folder"
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} is not writable"
    return None


# --- recording a run ---------------------------------------------------------------
RUN_MAX_PENDING = 200_000
"""Events ``run --record`` leaves unencoded: what is left to write once the run stops
(Ctrl-C, a signal) takes a fraction of a second, so ``run`` ends within 2 s."""


def open_recording(
    path: str, workload: Any, recorder: Any, scenario: dict[str, Any] | None = None
) -> Any:
    """A :class:`LogWriter` for ``run --record``: the workload's settings in the header
    (and for a scenario's run its name, fix switch, parameters and steps).

    Raises ``OSError`` (the file cannot be created) before the run starts, so
    a typo in the path costs nothing.  ``.gz`` at the end compresses.
    """
    from visualizer.recording import LogWriter

    problem = _writable(path)
    if problem:
        raise OSError(problem)
    return LogWriter(
        path,
        settings=asdict(workload),
        strategy=workload.strategy,
        thread_name=recorder.thread_name,
        max_pending=RUN_MAX_PENDING,
        scenario=scenario,
    )


def recording_problem(path: str) -> str | None:
    """Why ``run --record PATH`` could not write there (None: it can), asked before the run."""
    return _writable(path)


def close_recording(writer: Any) -> bool:
    """Finish the log (encoding what waited, then the end line); False if that failed."""
    try:
        writer.close()
    except OSError as exc:
        _error("run", f"--record: the log {writer.path} is incomplete: {exc}")
        return False
    print(f"recorded {writer.events_written} events to {writer.path}", file=sys.stderr)
    return True


# --- parsers -----------------------------------------------------------------------
def add_commands(commands: Any) -> None:
    """Register ``replay``, ``export`` and ``compare`` on the sub-command action.

    Sub-parsers take the parent's class, so their errors too are one line, status 2.
    """
    from visualizer.compare import MAX_STRATEGIES, MIN_STRATEGIES
    from visualizer.queues import STRATEGIES

    replay = commands.add_parser(
        "replay",
        help="fold an event log into the model and print the run's summary",
        description="Replay a log recorded with `run --record` (or saved from the window) "
        "through the same model as a live run, and print the summary `run` printed. "
        "Exit status 1 if the log shows violations, 2 if it is not a readable log.",
    )
    _add_log_arguments(replay)

    export = commands.add_parser(
        "export",
        help="export an event log as a Chrome trace or its anomalies as CSV",
        description="Write a log as a Chrome trace / Perfetto JSON file (one track per "
        "thread, lock hold and wait slices, hand-off arrows, the checker's violations on "
        "the threads involved) and/or the invariant violations found by replaying it as CSV.",
    )
    export.add_argument(
        "--chrome-trace",
        metavar="OUT.json",
        help="write a Chrome trace (gzip-compressed if the name ends in .gz)",
    )
    export.add_argument("--anomalies-csv", metavar="OUT.csv", help="write the anomaly list")
    _add_log_arguments(export)

    compare = commands.add_parser(
        "compare",
        help="run one workload against 2-4 strategies and compare them",
        description="Run the same workload (same seed, so the same tasks) against each "
        "strategy in turn and print throughput, lock wait p99 and violations side by side.",
    )
    compare.add_argument(
        "--strategies",
        metavar="A,B[,C,D]",
        help=f"{MIN_STRATEGIES} to {MAX_STRATEGIES} (with --queue) of: {', '.join(STRATEGIES)}",
    )
    compare.add_argument(
        "--queue",
        action="append",
        metavar="PATH.py:CLASS",
        help="your own queue class, compared with the strategies (repeatable)",
    )
    add_workload_options(compare)
    compare.add_argument("--png", metavar="OUT.png", help="write the plots on shared axes")
    compare.add_argument("--csv", metavar="OUT.csv", help="write the table as CSV")


def _add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """The log that ``replay`` and ``export`` read, and whether a cut-off one will do."""
    parser.add_argument("log", metavar="LOG", help="the event log (.jsonl or .jsonl.gz)")
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="load what a cut-off log holds instead of refusing it",
    )


def run_command(args: argparse.Namespace) -> int:
    """Dispatch a parsed ``replay``, ``export`` or ``compare``."""
    if args.command == "replay":
        return _replay(args)
    if args.command == "export":
        return _export(args)
    return _compare(args)


# --- replay and export -------------------------------------------------------------
def _stream(command: str, path: str, allow_truncated: bool) -> Any:
    """The log opened for streaming, or a one-line error on stderr (returned as an int)."""
    from visualizer.recording import LogError, LogReader

    try:
        return LogReader().stream(path, allow_truncated=allow_truncated)
    except LogError as exc:
        return _error(command, f"{path}: {exc}")


def _warn_if_cut(command: str, path: str, stream: Any) -> None:
    if not stream.complete:
        print(f"visualizer {command}: warning: {path}: {stream.problem}", file=sys.stderr)


def _replay(args: argparse.Namespace) -> int:
    """Fold the log as it is read (a log of any length replays in constant memory)."""
    folded = _fold_stream("replay", args.log, args.allow_truncated)
    if isinstance(folded, int):
        return folded
    model, run, stream = folded
    print(format_summary(run, model, stream.scenario))
    return run_status(model, run.errors)


def _fold_stream(command: str, path: str, allow_truncated: bool) -> Any:
    """The log folded as it is read: (model, run, the closed stream, which still says
    what its header and end said), or the exit status of a one-line error on stderr (an
    int); a log cut short is warned about."""
    from visualizer.recording import LogError
    from visualizer.recording.replay import StreamFold

    stream = _stream(command, path, allow_truncated)
    if isinstance(stream, int):
        return stream
    with stream:
        try:
            fold = StreamFold(stream)
            fold.fold()
            model, run = fold.finish()
        except LogError as exc:
            return _error(command, f"{path}: {exc}")
    _warn_if_cut(command, path, stream)
    return model, run, stream


def _same_file(one: str, other: str) -> bool:
    """Do two paths name one file (the same path, a symlink to it, or a hard link)?"""
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return os.path.realpath(one) == os.path.realpath(other)


def _export(args: argparse.Namespace) -> int:
    """Stream the log into the model, then into the trace (nothing kept per event here)."""
    from visualizer.export import export_anomalies_csv, export_chrome_trace
    from visualizer.recording import LogError
    from visualizer.recording.replay import StreamNames, title_of

    given = (("--chrome-trace", args.chrome_trace), ("--anomalies-csv", args.anomalies_csv))
    outputs = [(flag, path) for flag, path in given if path is not None]
    if not outputs:
        return _error("export", "give --chrome-trace OUT.json and/or --anomalies-csv OUT.csv")
    for flag, path in outputs:
        if not path.strip():
            return _error("export", f"{flag}: give a file name")
        if _same_file(path, args.log):
            return _error("export", f"{flag}: {path} is the log being read; choose another file")
        problem = _writable(path)
        if problem:
            return _error("export", f"cannot write {path}: {problem}")
    if len(outputs) == 2 and _same_file(outputs[0][1], outputs[1][1]):
        return _error("export", "--chrome-trace and --anomalies-csv name the same file")
    # Two passes over the file, neither keeping the events: the first finds the checker's
    # violations (the trace shows them on the threads they name) and where the recording
    # ends; the second feeds the trace.
    folded = _fold_stream("export", args.log, args.allow_truncated)
    if isinstance(folded, int):
        return folded
    model, _run, stream = folded
    try:
        if args.chrome_trace:
            again = _stream("export", args.log, args.allow_truncated)
            if isinstance(again, int):
                return again
            with again:
                count = export_chrome_trace(
                    (event for batch in again.batches() for event in batch.events),
                    StreamNames(again),
                    args.chrome_trace,
                    title=title_of(again),
                    violations=model.anomalies,
                    end_ns=stream.until_ns,
                )
            print(f"wrote {count} trace events to {args.chrome_trace}")
        if args.anomalies_csv:
            count = export_anomalies_csv(model.anomalies, args.anomalies_csv)
            print(f"wrote {count} anomalies to {args.anomalies_csv}")
    except LogError as exc:  # the file changed between the two passes
        return _error("export", f"{args.log}: {exc}")
    except OSError as exc:
        return _error("export", f"cannot write: {exc.strerror or exc}")
    return EXIT_OK


# --- compare -----------------------------------------------------------------------
def _compare(args: argparse.Namespace) -> int:
    from visualizer.compare import check_strategies, check_workload, compare, format_table
    from visualizer.engine import Workload
    from visualizer.engine.userqueue import QueueRef, UserQueueError
    from visualizer.engine.userqueue.probe import probe

    if not args.strategies and not args.queue:
        message = "the following arguments are required: --strategies (or --queue)"
        return _error("compare", f"{message} (see --help)")
    try:
        queues = [QueueRef.parse(text) for text in args.queue or ()]
        for ref in queues:
            probe(ref)
    except UserQueueError as exc:
        return _error("compare", str(exc))
    try:
        names = args.strategies.split(",") if args.strategies else []
        strategies = check_strategies(names + [ref.text() for ref in queues])
    except ValueError as exc:
        return _error("compare", f"--strategies: {exc} (see --help)")
    first = strategies[0] if ":" not in strategies[0] else "global-lock"
    workload = Workload(strategy=first, **workload_changes(args))
    try:
        check_workload(workload)
    except ValueError as exc:
        return _error("compare", f"{option_message(exc)} (see --help)")

    for path in (args.png, args.csv):
        problem = path and _writable(path)
        if problem:
            return _error("compare", f"cannot write {path}: {problem}")

    def announce(row: Any) -> None:
        print(f"{row.strategy}: {row.state} after {row.elapsed_s:.2f} s", file=sys.stderr)

    result = compare(workload, strategies, on_row=announce)
    print(format_table(result))
    try:
        if args.csv:
            from visualizer.compare import write_csv

            write_csv(result, args.csv)
        if args.png:
            _write_png(result, args.png)
    except OSError as exc:
        return _error("compare", f"cannot write: {exc}")
    if any(row.violations or row.errors for row in result.rows):
        return EXIT_VIOLATIONS
    return EXIT_UNVERIFIED if any(row.dropped for row in result.rows) else EXIT_OK


def _write_png(result: Any, path: str) -> None:
    """Draw the plots offscreen; the GUI libraries are loaded only for this."""
    try:
        from visualizer.ui.compare_plot import render_png_offscreen
    except ImportError as exc:
        raise OSError(f"--png needs the GUI libraries (PySide6, pyqtgraph): {exc}") from None
    render_png_offscreen(result, path)

"""The parser of every sub-command and the dispatch to each command's module.

Only what a command needs is imported, and only once it is chosen: with no
sub-command the window opens, and its start-up must not pay for the engine
twice, nor ``run`` for Qt.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import fields

from visualizer import __version__
from visualizer.cli.common import EXIT_NO_GUI, EXIT_OK, EXIT_USAGE
from visualizer.engine.options import Parser, add_workload_options

_OWN_FLAGS = ("-h", "--help", "--version")
"""Top-level options the command line answers itself; any other leading option is the window's."""


def build_parser() -> argparse.ArgumentParser:
    from visualizer.bench import SECTIONS
    from visualizer.cli.explore import add_command as add_explore_command
    from visualizer.cli.fuzz import add_command as add_fuzz_command
    from visualizer.cli.recording import add_commands as add_recording_commands
    from visualizer.engine import Workload
    from visualizer.queues import STRATEGIES

    parser = Parser(
        prog="visualizer",
        description="Watch a priority task queue under different locking strategies.",
        epilog="Without a sub-command the window opens. Exit status: 0 ok, 1 violations "
        "found (run, replay), 2 invalid arguments or a file that cannot be read or written, "
        "3 the window could not be opened, 4 events were dropped, so a run is unverified.",
    )
    parser.add_argument("--version", action="version", version=f"queue-visualizer {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="{run,explore,bench,scenarios,replay,export,compare,fuzz,gui}"
    )

    defaults = {f.name: f.default for f in fields(Workload)}
    run = commands.add_parser(
        "run",
        help="run one workload headless and print a summary",
        description="Run one workload without a window, then print throughput, lock wait "
        "and hold times, contention and invariant violations. Ctrl-C, SIGTERM and SIGHUP "
        "stop the run and still print the summary and finish the log. Exit status 1 if the "
        "checker found violations or a run thread raised, 2 if the log could not be "
        "written, 4 if events were dropped (the run is unverified).",
    )
    what = run.add_mutually_exclusive_group()
    what.add_argument(
        "--strategy",
        metavar="NAME",
        help=f"one of: {', '.join(STRATEGIES)} (default: {defaults['strategy']})",
    )
    what.add_argument(
        "--queue",
        metavar="PATH.py:CLASS",
        help="run your own queue class instead (add_task, get_next_task, ...; see README)",
    )
    add_workload_options(run)
    run.add_argument(
        "--record",
        metavar="FILE",
        help="record every event to FILE (.jsonl, or .jsonl.gz to compress) for replay",
    )
    run.add_argument(
        "--scenario",
        metavar="NAME",
        help="run a teaching scenario instead (see 'scenarios'); takes only --fixed and --seed",
    )
    run.add_argument("--fixed", action="store_true", help="with --scenario: apply the fix")
    schedule = run.add_mutually_exclusive_group()
    schedule.add_argument(
        "--schedule",
        metavar="TEXT",
        help="play this schedule under the controlled scheduler, e.g. "
        "'instruction/free: clerk-2*17 clerk-1' (exit 1 if it breaks an invariant, "
        "2 if it does not fit the program); a scenario's default: its own bug schedule",
    )
    schedule.add_argument("--schedule-file", metavar="FILE", help="the schedule text from FILE")
    schedule.add_argument(
        "--free",
        action="store_true",
        help="with --scenario: run its threads freely, as the operating system schedules them",
    )

    bench = commands.add_parser(
        "bench",
        help="time every strategy, traced and untraced",
        description="Every strategy on the same workload: operations per second with "
        "tracing off and on, and their ratio, measured in one run.",
    )
    bench.add_argument("--quick", action="store_true", help="a short run (for tests and CI)")
    bench.add_argument("--json", action="store_true", help="print machine-readable JSON")
    bench.add_argument(
        "--section",
        action="append",
        choices=list(SECTIONS),
        help="run only this section (repeatable)",
    )
    bench.add_argument(
        "--strategy",
        action="append",
        dest="strategies",
        metavar="NAME",
        help="bench only this strategy (repeatable; default: all)",
    )
    bench.add_argument(
        "--queue",
        action="append",
        metavar="PATH.py:CLASS",
        help="bench your own queue class too (repeatable; alone: only it)",
    )

    commands.add_parser(
        "scenarios",
        help="list the teaching scenarios",
        description="List the teaching scenarios (run one with: run --scenario NAME).",
    )
    add_explore_command(commands)
    add_recording_commands(commands)
    add_fuzz_command(commands)
    # Listed for --help only: main() hands "gui ..." to the window's own parser untouched.
    commands.add_parser("gui", help="open the window (the default); takes the window's options")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (``python -m visualizer``, ``queue-visualizer-cli``); returns the exit
    status instead of raising SystemExit."""
    try:
        status = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``... | head``): nothing left to say, and no traceback.
        # Point stdout at devnull so the interpreter's own flush at exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


def _dispatch(args_list: list[str]) -> int:

    if args_list[:1] == ["gui"]:
        return _gui(args_list[1:])
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in _OWN_FLAGS):
        return _gui(args_list)  # no sub-command: the window, with any options it takes
    try:
        args = build_parser().parse_args(args_list)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command == "run":
        from visualizer.cli.run import run_command

        return run_command(args)
    if args.command == "explore":
        from visualizer.cli.explore import explore_command

        return explore_command(args)
    if args.command == "bench":
        from visualizer.cli.bench import bench_command

        return bench_command(args)
    if args.command == "fuzz":
        from visualizer.cli.fuzz import fuzz_command

        return fuzz_command(args)
    if args.command == "scenarios":
        from visualizer.cli.scenarios import list_scenarios

        return list_scenarios()
    from visualizer.cli.recording import run_command as recording_command

    return recording_command(args)


def _gui(argv: list[str]) -> int:
    try:
        from visualizer.ui.app import main as gui_main
    except ImportError as exc:
        print(f"visualizer: error: the window is not available: {exc}", file=sys.stderr)
        return EXIT_NO_GUI
    status = gui_main(argv)
    return status if isinstance(status, int) else EXIT_OK

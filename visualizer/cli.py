"""The command line: ``python -m visualizer [run | bench | scenarios | replay | ... | gui]``.

``run`` composes the same layers as the window (a :class:`Run` from the engine,
its events drained into a :class:`RunModel`) and prints what the views would
show: throughput, lock wait and hold times, contention, invariant violations.
``bench`` times every strategy with tracing on and off.  With no sub-command the
window opens; Qt is imported only then, so ``run`` and ``bench`` work without it.
``replay``, ``export`` and ``compare`` live in :mod:`visualizer.cli_recording`;
``scenarios`` and ``run --scenario`` in :mod:`visualizer.cli_scenarios`.

Exit status (for scripts):
    0  success; for ``run``: no invariant violation and no error in a run thread
    1  ``run`` only: the invariant checker found violations, or a run thread raised
    2  invalid arguments or an unreadable event log (a one-line message on stderr)
    3  the window could not be opened (the GUI is not installed or failed to load)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from time import monotonic
from typing import Any, NoReturn, TextIO

from visualizer import __version__

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_NO_GUI = 3

_OWN_FLAGS = ("-h", "--help", "--version")
"""Top-level options the command line answers itself; any other leading option is the window's."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# Option, Workload field, type, metavar, help.  Defaults live in Workload alone:
# an option left out leaves its field at the default.
_RUN_OPTIONS: list[tuple[str, str, type, str, str]] = [
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
    """Add the ``_RUN_OPTIONS`` to ``parser``, each left None when not given."""
    from visualizer.engine import Workload

    defaults = {f.name: f.default for f in fields(Workload)}
    for option, field_name, kind, metavar, text in _RUN_OPTIONS:
        default = defaults[field_name]
        parser.add_argument(
            option,
            dest=field_name,
            type=kind,
            metavar=metavar,
            help=f"{text} (default: {'none' if default is None else default})",
        )


def workload_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The ``_RUN_OPTIONS`` given on the command line, by Workload field name."""
    return {
        field_name: getattr(args, field_name)
        for _option, field_name, *_rest in _RUN_OPTIONS
        if getattr(args, field_name) is not None
    }


def lock_table(
    locks: Sequence[Any], columns: Sequence[tuple[str, str, Callable[[Any], object]]]
) -> list[str]:
    """Lines of a table of ``locks`` by name: after the name, a column per
    (title, format spec, value of a lock) triple, two spaces apart."""
    width = max(len("lock"), *(len(lock.name) for lock in locks))
    lines = [f"{'lock':<{width}}" + "".join(f"  {title:{spec}}" for title, spec, _ in columns)]
    for lock in sorted(locks, key=lambda lock: lock.name):
        cells = "".join(f"  {value(lock):{spec}}" for _, spec, value in columns)
        lines.append(f"{lock.name:<{width}}{cells}")
    return lines


def build_parser() -> argparse.ArgumentParser:
    from visualizer.bench import SECTIONS
    from visualizer.cli_recording import add_commands as add_recording_commands
    from visualizer.engine import Workload
    from visualizer.queues import STRATEGIES

    parser = _Parser(
        prog="visualizer",
        description="Watch a priority task queue under different locking strategies.",
        epilog="Without a sub-command the window opens. Exit status: 0 ok, 1 violations "
        "found (run), 2 invalid arguments, 3 the window could not be opened.",
    )
    parser.add_argument("--version", action="version", version=f"queue-visualizer {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="{run,bench,scenarios,replay,export,compare,gui}"
    )

    defaults = {f.name: f.default for f in fields(Workload)}
    run = commands.add_parser(
        "run",
        help="run one workload headless and print a summary",
        description="Run one workload without a window, then print throughput, lock wait "
        "and hold times, contention and invariant violations. Exit status 1 if the checker "
        "found violations or a run thread raised.",
    )
    run.add_argument(
        "--strategy",
        default=defaults["strategy"],
        metavar="NAME",
        help=f"one of: {', '.join(STRATEGIES)} (default: {defaults['strategy']})",
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

    commands.add_parser(
        "scenarios",
        help="list the teaching scenarios",
        description="List the teaching scenarios (run one with: run --scenario NAME).",
    )
    add_recording_commands(commands)
    # Listed for --help only: main() hands "gui ..." to the window's own parser untouched.
    commands.add_parser("gui", help="open the window (the default); takes the window's options")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status instead of raising SystemExit."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["gui"]:
        return _gui(args_list[1:])
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in _OWN_FLAGS):
        return _gui(args_list)  # no sub-command: the window, with any options it takes
    try:
        args = build_parser().parse_args(args_list)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command == "run":
        return _run(args)
    if args.command == "bench":
        return _bench(args)
    if args.command == "scenarios":
        from visualizer.cli_scenarios import list_scenarios

        return list_scenarios()
    from visualizer.cli_recording import run_command

    return run_command(args)


def _usage_error(command: str, message: str) -> int:
    print(f"visualizer {command}: error: {message} (see --help)", file=sys.stderr)
    return EXIT_USAGE


def _gui(argv: list[str]) -> int:
    try:
        from visualizer.ui.app import main as gui_main
    except ImportError as exc:
        print(f"visualizer: error: the window is not available: {exc}", file=sys.stderr)
        return EXIT_NO_GUI
    status = gui_main(argv)
    return status if isinstance(status, int) else EXIT_OK


# --- run ----------------------------------------------------------------------------
def _workload_from(args: argparse.Namespace) -> Any:
    from visualizer.engine import Workload

    workload = Workload(strategy=args.strategy, **workload_changes(args))
    workload.validate()
    return workload


def _run(args: argparse.Namespace) -> int:
    from visualizer.cli_recording import close_recording, open_recording
    from visualizer.engine import Drainer, Run, RunState
    from visualizer.model import RunModel

    if args.scenario is not None or args.fixed:
        from visualizer.cli_scenarios import run_scenario_command

        return run_scenario_command(args, [option[:2] for option in _RUN_OPTIONS])
    try:
        workload = _workload_from(args)
    except ValueError as exc:
        field_name, _, message = str(exc).partition(": ")
        return _usage_error("run", f"--{field_name.replace('_', '-')}: {message}")

    run = Run(workload)
    model = RunModel(thread_name=run.recorder.thread_name)
    progress = Progress(sys.stderr, run, model)
    recording = None
    if args.record:
        try:
            recording = open_recording(args.record, workload, run.recorder)
        except OSError as exc:
            return _usage_error("run", f"--record: cannot write {args.record}: {exc}")

    def on_batch(batch: Any) -> None:
        if recording is not None:
            recording.write_batch(batch)  # keeps the batch; encoding waits for close()
        model.apply(batch)
        progress.show()

    drainer = Drainer(run.recorder, on_batch)
    drainer.start()
    run.start()
    if not workload.tasks and workload.duration is None:
        print("running until Ctrl-C ...", file=sys.stderr)
    try:
        while not run.wait(0.25):
            pass
    except KeyboardInterrupt:
        run.stop()
    finally:
        drainer.stop()
        progress.clear()
        recorded = recording is None or close_recording(recording)
    # Tasks left queued after a Stop are not lost: only a drained run is checked for them.
    model.finish(drained=run.state is RunState.FINISHED)
    print(format_summary(run, model))
    if not recorded:
        return EXIT_USAGE
    return EXIT_VIOLATIONS if model.anomalies or run.errors else EXIT_OK


class Progress:
    """One status line on stderr: redrawn in place on a terminal, else a line a second."""

    def __init__(self, stream: TextIO, run: Any, model: Any) -> None:
        self.stream = stream
        self.run = run
        self.model = model
        self.tty = stream.isatty()
        self.interval = 0.1 if self.tty else 1.0
        self._next = monotonic() + self.interval
        self._width = 0

    def show(self) -> None:
        """Print the line if it is due (called after every batch the model applied)."""
        now = monotonic()
        if now < self._next:
            return
        self._next = now + self.interval
        counts = self.model.tasks.counts()
        total = f"/{self.run.workload.tasks}" if self.run.workload.tasks else ""
        line = (
            f"{self.run.elapsed():6.1f} s  produced {self.run.produced}{total}  "
            f"completed {counts['completed']}  cancelled {counts['cancelled']}  "
            f"queued {counts['queued']}  processing {counts['processing']}  "
            f"violations {len(self.model.anomalies)}"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


def counts_text(counts: dict[str, int]) -> str:
    """Where a run's tasks ended up, from :attr:`RunSummary.counts`."""
    return (
        f"added {counts['added']}, completed {counts['completed']}, "
        f"cancelled {counts['cancelled']}, still queued {counts['queued']}, "
        f"processing {counts['processing']}"
    )


def violation_lines(summary: Any, model: Any, examples: int) -> list[str]:
    """The invariant violations by kind, most frequent first, with a few examples each."""
    if not summary.violations:
        return ["invariant violations: none"]
    lines = [f"invariant violations: {sum(summary.violations.values())}"]
    for kind, count in sorted(summary.violations.items(), key=lambda item: -item[1]):
        lines.append(f"  {kind}: {count}")
        details = [v.detail for v in model.anomalies if v.kind == kind][:examples]
        lines.extend(f"    {detail}" for detail in details)
    return lines


_SUMMARY_LOCK_COLUMNS: list[tuple[str, str, Callable[[Any], object]]] = [
    ("acquisitions", ">12", lambda lock: lock.acquisitions),
    ("contended", ">17", lambda lock: f"{lock.contended} ({lock.contention:.1%})"),
    (
        "wait p50 / p99 µs",
        ">19",
        lambda lock: f"{lock.wait_p50_us:.1f} / {lock.wait_p99_us:.1f}" if lock.contended else "-",
    ),
    ("hold p50 / p99 µs", ">19", lambda lock: f"{lock.hold_p50_us:.1f} / {lock.hold_p99_us:.1f}"),
]


def format_summary(run: Any, model: Any) -> str:
    """The report ``run`` prints: settings, throughput, locks, violations, errors.

    The figures come from the model's :class:`RunSummary`, the same digest the
    window exports, so "p99 wait" means one thing everywhere.
    """
    workload = run.workload
    summary = model.summary()
    elapsed = run.elapsed()
    rate = "flat out" if not workload.rate else f"{workload.rate:g}/s each"
    tasks = f"{workload.tasks} tasks" if workload.tasks else "no task limit"
    lines = [
        f"strategy {workload.strategy}: {workload.producers} producers ({tasks}, {rate}), "
        f"{workload.workers} workers (work {workload.work_time:g} s "
        f"{workload.work_distribution}), seed {workload.seed}",
        f"{run.state.value} after {elapsed:.2f} s: {counts_text(summary.counts)}",
        f"throughput: {summary.counts['completed'] / elapsed if elapsed else 0.0:.1f} tasks/s "
        f"({summary.events:,} events, {summary.events_per_s:,.0f}/s)",
        "",
    ]
    if summary.locks:
        lines += lock_table(summary.locks, _SUMMARY_LOCK_COLUMNS)
    else:
        lines.append("locks: none taken")
    lines.append("")
    lines += violation_lines(summary, model, examples=3)
    if run.errors:
        lines.append(f"errors caught in run threads: {len(run.errors)}")
        lines.extend(f"  {message}" for message in run.errors[:5])
        if len(run.errors) > 5:
            lines.append(f"  ... and {len(run.errors) - 5} more")
    else:
        lines.append("errors caught in run threads: none")
    if summary.dropped:
        lines.append(f"warning: the recorder dropped {summary.dropped} events; figures are partial")
    return "\n".join(lines)


# --- bench --------------------------------------------------------------------------
def _bench(args: argparse.Namespace) -> int:
    from visualizer.bench import BenchConfig, format_results, results_json, run_sections
    from visualizer.queues import STRATEGIES

    strategies = tuple(args.strategies or STRATEGIES)
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown:
        choices = ", ".join(STRATEGIES)
        return _usage_error("bench", f"--strategy: unknown {unknown[0]!r} (choose from: {choices})")
    config = BenchConfig(quick=args.quick, strategies=strategies)
    sections = args.section or None
    if args.json:
        import json

        print(json.dumps(results_json(run_sections(config, sections), config), indent=2))
    else:
        for text in format_results(run_sections(config, sections)):
            print(text, flush=True)
    return EXIT_OK

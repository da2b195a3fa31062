"""``python -m visualizer scenarios`` and ``run --scenario NAME``: the teaching scenarios headless.

Like ``run`` for a strategy, this composes the engine (a scenario's
:class:`~visualizer.engine.Run`) with the model (a :class:`RunModel` folding its
events), here so that :func:`play` can also serve the tests.  A scenario may
deadlock on purpose, so a headless run cannot simply wait for its end: it stops
once a deadlock has been reported and had a moment to show, or at the
scenario's time limit, whichever comes first.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Callable
from time import monotonic
from typing import Any, TextIO

from visualizer.cli.common import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS
from visualizer.cli.recording import close_recording, open_recording, recording_problem
from visualizer.cli.report import counts_text, lock_table, violation_lines
from visualizer.engine import Drainer, Run, RunState
from visualizer.engine.options import flag, workload_changes
from visualizer.engine.scenarios import Scenario, ScenarioError, load_all, load_scenario
from visualizer.engine.scenarios.loader import SEED
from visualizer.engine.scheduler import Schedule, ScheduleError, interpreter_model
from visualizer.events import STUCK_KINDS, Batch
from visualizer.model import FIGURES, RunModel
from visualizer.model.figures import duration
from visualizer.stepping import Played
from visualizer.stepping import play as play_schedule

DEADLOCK_GRACE_S = 0.3
"""After a deadlock is reported, how long the run goes on (to show it) before it is stopped."""

MAX_SCHEDULE_FILE = 4_000_000
"""Largest schedule file read (bytes): far beyond any real schedule, short of a memory problem."""


def play(
    scenario: Scenario,
    fixed: bool = False,
    seed: int | None = None,
    time_limit: float | None = None,
    keep: Callable[[Batch], None] | None = None,
    **overrides: Any,
) -> tuple[Run, RunModel]:
    """Run a scenario to its end (or its deadlock, or its time limit); return run and model.

    ``keep`` is handed every batch as it is folded (``run --record`` writes them).

    The model is finished: drained-run checks (lost tasks) apply only when the run
    ended by itself, since tasks left over by a Stop are not lost.
    """
    run = scenario.make_run(fixed=fixed, seed=seed, **overrides)
    model = RunModel(thread_name=run.recorder.thread_name)
    limit = scenario.time_limit if time_limit is None else time_limit

    def fold(batch: Batch) -> None:
        if keep is not None:
            keep(batch)
        model.apply(batch)

    drainer = Drainer(run.recorder, fold)
    drainer.start()
    run.start()
    deadline = monotonic() + limit
    stuck_since = None
    try:
        while not run.wait(0.05):
            now = monotonic()
            if stuck_since is None and _stuck(model):
                stuck_since = now
            if now >= deadline or (
                stuck_since is not None and now - stuck_since >= DEADLOCK_GRACE_S
            ):
                break
    finally:
        run.stop()
        drainer.stop()
    model.finish(drained=run.state is RunState.FINISHED)
    return run, model


def list_scenarios(out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print every scenario (name and title); broken files are named on stderr."""
    out, err = out or sys.stdout, err or sys.stderr
    scenarios, errors = load_all()
    width = max((len(s.name) for s in scenarios), default=0)
    for scenario in scenarios:
        print(f"{scenario.name:<{width}}  {scenario.title}", file=out)
    for error in errors:
        print(f"visualizer scenarios: error: {error}", file=err)
    return EXIT_USAGE if errors else EXIT_OK


def run_scenario_command(args: Namespace) -> int:
    """``run --scenario NAME [--fixed] [--seed N]``: refuse the options a scenario sets itself."""
    if args.scenario is None:
        option = next(
            flag
            for flag, given in (
                ("--schedule", args.schedule),
                ("--schedule-file", args.schedule_file),
                ("--free", args.free),
                ("--fixed", True),
            )
            if given
        )
        return _usage(f"{option}: only with --scenario NAME")
    given = [flag(field) for field in workload_changes(args) if field != "seed"]
    if getattr(args, "strategy", None) is not None:
        given.insert(0, "--strategy")  # a scenario runs its own program, not a strategy
    if given:
        return _usage(
            f"{given[0]}: a scenario sets its own parameters "
            "(give only --fixed, --seed, --record and a schedule)"
        )
    if args.record:
        problem = recording_problem(args.record)
        if problem:
            return _usage(f"--record: cannot write {args.record}: {problem}")
    try:
        schedule = read_schedule(args)
    except ValueError as exc:
        return _usage(str(exc))
    return run_scenario(
        args.scenario, args.fixed, args.seed, schedule=schedule, free=args.free, record=args.record
    )


def read_schedule(args: Namespace) -> Schedule | None:
    """The schedule ``--schedule`` or ``--schedule-file`` gives (None if neither);
    ``ValueError("--option: problem")`` if it cannot be read."""
    schedule_text = args.schedule
    if args.schedule_file is not None:
        try:
            with open(args.schedule_file, encoding="utf-8") as handle:
                schedule_text = handle.read(MAX_SCHEDULE_FILE + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"--schedule-file: cannot read {args.schedule_file}: {_reason(exc)}"
            ) from None
        if len(schedule_text) > MAX_SCHEDULE_FILE:
            raise ValueError(
                f"--schedule-file: {args.schedule_file} is over {MAX_SCHEDULE_FILE} bytes"
            )
    if schedule_text is None:
        return None
    try:
        return Schedule.parse(schedule_text, default_model=interpreter_model())
    except ScheduleError as exc:
        option = "--schedule" if args.schedule is not None else "--schedule-file"
        raise ValueError(f"{option}: {exc}") from None


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _usage(message: str, err: TextIO | None = None) -> int:
    print(f"visualizer run: error: {message} (see --help)", file=err or sys.stderr)
    return EXIT_USAGE


def run_scenario(
    name: str,
    fixed: bool,
    seed: int | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    schedule: Schedule | None = None,
    free: bool = False,
    record: str | None = None,
) -> int:
    """``run --scenario NAME``: the title, a run, its summary; status 1 if it broke an invariant.

    A scenario with a bug schedule plays it under the controlled scheduler
    (leniently with ``--fixed``: the fixed program may wait where the buggy one
    ran on); ``schedule`` plays that one, strictly; ``free`` runs the threads as
    the operating system schedules them.  ``record`` saves the run's events to that
    log, with the scenario (and the steps played) in its header, so the window
    reopens it under the scenario's name and can step on from its end.
    """
    out = out or sys.stdout
    try:
        scenario = load_scenario(name)
    except ScenarioError as exc:
        return _usage(f"--scenario: {exc}", err)
    if seed is not None:
        try:
            SEED.check(seed)
        except ValueError as exc:
            return _usage(f"--seed: {exc}", err)
    print(f"{scenario.title}  ({'with' if fixed else 'without'} the fix)", file=out, flush=True)
    given = schedule is not None
    if schedule is None and not free:
        schedule = scenario.bug_schedule
    batches: list[Batch] = []
    try:
        if schedule is None:
            run, model = play(scenario, fixed, seed, keep=batches.append)
            taken = None
        else:
            played = play_schedule(
                lambda control: scenario.make_run(fixed=fixed, seed=seed, control=control),
                schedule,
                strict=given or not fixed,
            )
            if played.outcome == "misfit":
                return _usage(f"--schedule: {played.detail}", err)
            run, model = played.run, played.model
            batches.append(Batch(0, played.events, 0))
            taken = played.schedule
            print(f"schedule: {schedule.text()}", file=out)
            print(f"played {len(played.schedule)} steps ({_ending(played)})", file=out)
    except KeyboardInterrupt:
        return EXIT_USAGE
    if record is not None and not _save(record, run, batches, taken, err):
        return EXIT_USAGE
    print(
        format_scenario_summary(scenario, fixed, run, model, scheduled=schedule is not None),
        file=out,
    )
    return EXIT_VIOLATIONS if model.anomalies or run.errors else EXIT_OK


def _save(
    path: str, run: Run, batches: list[Batch], taken: Schedule | None, err: TextIO | None
) -> bool:
    """Write the run's events to ``path``, the scenario and the steps played in the header."""
    scenario = dict(run.scenario or {})
    if taken is not None:
        scenario["schedule"] = taken.text()
    try:
        writer = open_recording(path, run.workload, run.recorder, scenario)
        for batch in batches:
            writer.write_batch(batch)
    except (OSError, ValueError) as exc:
        _usage(f"--record: cannot write {path}: {_reason(exc)}", err)
        return False
    return close_recording(writer)


def _ending(played: Played) -> str:
    if played.outcome == "finished":
        return "then every thread ended"
    return played.detail


_LOCK_COLUMNS = [
    ("kind", "<26", lambda lock: lock.kind_label),
    ("acquired", ">8", lambda lock: lock.acquisitions),
    ("waited", ">6", lambda lock: lock.contended),
    ("wait p99", ">9", lambda lock: _duration(lock.wait_p99_us) if lock.wait_p99_us else "-"),
    ("hold p50", ">9", lambda lock: _duration(lock.hold_p50_us)),
]


def format_scenario_summary(
    scenario: Scenario, fixed: bool, run: Run, model: RunModel, scheduled: bool = False
) -> str:
    """What a headless scenario run prints: settings, outcome, locks, figure, verdict."""
    summary = model.summary()
    settings = ", ".join(f"{key} {value:g}" for key, value in scenario.params.items())
    variant = f"fixed: {scenario.fix_label}" if fixed else "not fixed (--fixed applies the fix)"
    how = {
        RunState.FINISHED: "finished",
        RunState.STOPPED: "stopped (stuck)" if _stuck(model) else "stopped at the time limit",
    }.get(run.state, run.state.value)
    lines = [
        f"scenario {scenario.name}, {variant}; seed {run.workload.seed}; {settings}",
        f"{how} after {run.elapsed():.2f} s: {counts_text(summary.counts)}",
        "",
    ]
    if summary.locks:
        lines += lock_table(summary.locks, _LOCK_COLUMNS)
        lines.append("")
    if scenario.figure is not None:
        lines.append(f"{scenario.figure}: {FIGURES[scenario.figure](summary)}")
        lines.append("")
    lines += violation_lines(summary, model, examples=2)
    lines.append(verdict(scenario, fixed, model, scheduled))
    return "\n".join(lines)


def verdict(scenario: Scenario, fixed: bool, model: RunModel, scheduled: bool = False) -> str:
    """One sentence: did the run show what the scenario is about?"""
    found = set(model.checker.violation_counts)
    if scenario.figure is not None:
        other = "without" if fixed else "with"
        flag = "" if fixed else " --fixed"
        extra = f" (but the checker found: {', '.join(sorted(found))})" if found else ""
        return (
            f"compare the {scenario.figure} figure with a run {other} the fix: "
            f"python -m visualizer run --scenario {scenario.name}{flag}{extra}"
        )
    if fixed:
        if found:
            return f"NOT clean with the fix: {', '.join(sorted(found))}"
        return "clean: the fix holds, no invariant broke"
    shown = [kind for kind in scenario.expect_violations if kind in found]
    if shown:
        return f"the bug showed: {', '.join(shown)} detected; add --fixed to see the fix"
    if scheduled:
        return "this schedule breaks nothing: the bug needs another order of steps"
    return "the bug did not show this time; run it again, or step through it in the window"


def _stuck(model: RunModel) -> bool:
    return any(v.kind in STUCK_KINDS for v in model.anomalies)


def _duration(us: float) -> str:
    return duration(us / 1e6)

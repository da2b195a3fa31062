"""``python -m visualizer run``: one workload headless, its events drained into the same
model the window folds, then a summary (``run --scenario`` hands over to
:mod:`visualizer.cli.scenarios`)."""

from __future__ import annotations

import argparse
import sys
from time import monotonic
from typing import Any, TextIO

from visualizer.cli.common import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, usage_error
from visualizer.cli.recording import close_recording, open_recording
from visualizer.cli.report import format_summary
from visualizer.cli.scenarios import read_schedule, run_scenario_command
from visualizer.engine import Drainer, Run, RunState, Workload
from visualizer.engine.options import option_message, workload_changes
from visualizer.engine.scheduler import Schedule
from visualizer.engine.userqueue import QueueRef, UserQueueError
from visualizer.engine.userqueue.probe import probe
from visualizer.model import RunModel
from visualizer.stepping import play


def _workload_from(args: argparse.Namespace) -> Any:
    queue = QueueRef.parse(args.queue).text() if args.queue is not None else None
    workload = Workload(strategy=args.strategy, queue=queue, **workload_changes(args))
    try:
        workload.validate()
    except ValueError as exc:
        raise ValueError(option_message(exc)) from None
    return workload


def run_command(args: argparse.Namespace) -> int:
    """Run the workload the options describe (or a scenario) and print its summary."""
    if args.scenario is not None or args.fixed or args.free:
        return run_scenario_command(args)
    try:
        workload = _workload_from(args)
        schedule = read_schedule(args)
        if workload.queue is not None:
            note = probe(QueueRef.parse(workload.queue)).note()
            if note:
                print(f"note: {note}", file=sys.stderr)
    except ValueError as exc:
        message = str(exc)
        if isinstance(exc, UserQueueError):
            print(f"visualizer run: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        return usage_error("run", message)
    if schedule is not None:
        return _run_schedule(workload, schedule)

    run = Run(workload)
    model = RunModel(thread_name=run.recorder.thread_name)
    progress = Progress(sys.stderr, run, model)
    recording = None
    if args.record:
        try:
            recording = open_recording(args.record, workload, run.recorder)
        except OSError as exc:
            return usage_error("run", f"--record: cannot write {args.record}: {exc}")

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


def _run_schedule(workload: Workload, schedule: Schedule) -> int:
    """``run --strategy/--queue ... --schedule TEXT``: play it, print what it broke."""
    if not workload.tasks:
        return usage_error("run", "--schedule: a controlled run needs --tasks (1 or more)")
    played = play(lambda control: Run(workload, control=control), schedule)
    if played.outcome == "misfit":
        return usage_error("run", f"--schedule: {played.detail}")
    print(f"schedule: {schedule.text()}")
    ending = "then every thread ended" if played.outcome == "finished" else played.detail
    print(f"played {len(played.schedule)} steps ({ending})")
    print(format_summary(played.run, played.model))
    broken = played.model.anomalies or played.run.errors
    return EXIT_VIOLATIONS if broken else EXIT_OK


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

"""``python -m visualizer run``: one workload headless, its events drained into the same
model the window folds, then a summary (``run --scenario`` hands over to
:mod:`visualizer.cli.scenarios`).

Ending it: the workload's own limit, or Ctrl-C, ``kill`` (SIGTERM) or a closed
terminal (SIGHUP), which all stop the run the same way: every thread ends, the
last events are drained, the log gets its end line and the summary is printed.
A log that cannot be written (a full disk) stops the run too, at once, with one
line saying so; the exit status is then 2.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from time import monotonic
from typing import Any, TextIO

from visualizer.cli.common import EXIT_USAGE, run_status, usage_error
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

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _workload_from(args: argparse.Namespace) -> Any:
    queue = QueueRef.parse(args.queue).text() if args.queue is not None else None
    changes = workload_changes(args)
    if args.strategy is not None:  # given: a scenario may not take one (see scenarios.py)
        changes["strategy"] = args.strategy
    workload = Workload(queue=queue, **changes)
    try:
        workload.validate()
    except ValueError as exc:
        raise ValueError(option_message(exc)) from None
    return workload


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, Ctrl-C, SIGTERM and SIGHUP only set ``stop`` (no KeyboardInterrupt).

    An exception raised at an arbitrary point of the shutdown (a second Ctrl-C
    while the log is being finished) could leave the log without its end line;
    a flag the main loop polls cannot.  Only the main thread may set handlers:
    elsewhere (an embedding program's thread) the signals stay as they were.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_command(args: argparse.Namespace) -> int:
    """Run the workload the options describe (or a scenario) and print its summary."""
    if args.record is not None and not args.record.strip():
        return usage_error("run", "--record: give a file name (an empty one would record nothing)")
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
    if args.record is not None:
        try:
            recording = open_recording(args.record, workload, run.recorder)
        except OSError as exc:
            return usage_error("run", f"--record: cannot write {args.record}: {_reason(exc)}")
    stop = threading.Event()
    failures: list[str] = []

    def on_batch(batch: Any) -> None:
        nonlocal recording
        if recording is not None:
            try:
                recording.write_batch(batch)  # keeps the batch; encoding waits for close()
            except OSError as exc:  # the disk is full: stop, rather than lose events silently
                failures.append(
                    f"--record: writing {recording.path} failed ({_reason(exc)}); the run was "
                    f"stopped and the log keeps the first {recording.events_written} events"
                )
                recording.abandon()
                recording = None
                stop.set()
        model.apply(batch)
        progress.show()

    drainer = Drainer(run.recorder, on_batch)
    with stop_on_signals(stop):
        drainer.start()
        run.start()
        if not workload.tasks and workload.duration is None:
            print("running until Ctrl-C ...", file=sys.stderr)
        try:
            while not run.wait(0.1):
                if stop.is_set():
                    if failures:
                        progress.clear()
                        print(f"visualizer run: error: {failures[0]}", file=sys.stderr, flush=True)
                    run.stop()
        except KeyboardInterrupt:  # only where handlers could not be set (not the main thread)
            run.stop()
        finally:
            drainer.stop()
            progress.clear()
            recorded = recording is None or close_recording(recording)
    # Tasks left queued after a Stop are not lost: only a drained run is checked for them.
    model.finish(drained=run.state is RunState.FINISHED)
    print(format_summary(run, model))
    if failures or not recorded:
        return EXIT_USAGE
    return run_status(model, run.errors)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


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
    return run_status(played.model, played.run.errors)


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

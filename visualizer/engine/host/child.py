"""The run process: builds the run it is sent, streams its events, obeys commands.

Started by :class:`~visualizer.engine.host.process.EngineProcess` as
``python -m visualizer.engine.host --events-fd N --control-fd M --parent-pid P``
under whichever interpreter the window was told to use; it imports only the
Qt-free core.  Three channels, so that no one of them can hold up another:

* **stdin** carries commands from the window: first ``("run", spec)``, then
  ``(id, name, args)`` tuples looked up in :data:`~.commands.COMMANDS`.  End of
  file means the window is done with us (or gone): stop the run and exit.
* **events** (``--events-fd``) carries event batches, written by the pump thread
  (as blocks of the compact binary form when the window asks with ``--blocks``:
  see :mod:`.outbox`).
  Nobody reads them while the window is behind, so that pipe fills up and the
  pump blocks; events then pile up in the run's recorder, whose backlog makes
  the run's threads wait between tasks.  That is the window's backpressure,
  reaching across the process boundary without a message of its own.
* **control** (``--control-fd``) carries everything else to the window: replies,
  and a status (state, threads, parked threads, errors, events recorded) sent
  whenever it changes and at least every :data:`HEARTBEAT_S`, so the window can
  tell a busy run from a hung process.

Thread idents in events are this process's; each batch carries the names of
threads it mentions for the first time, so the window names them as we do.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from visualizer.engine.host.commands import COMMANDS
from visualizer.engine.host.outbox import Outbox
from visualizer.engine.host.spec import RunSpec
from visualizer.engine.host.wire import FrameReader, decode, encode, widen_pipe, write_all
from visualizer.engine.run import Run, RunState
from visualizer.engine.scheduler import Scheduler, inspection

PUMP_INTERVAL_S = 1 / 60
"""How often the pump sends what the run recorded: the window drains at 30 Hz."""

TICK_EVENTS = 65_536
"""At most this many events a tick (about what a 1 MB pipe holds): a backlog goes in
several ticks' worth of writes, the pump looping without waiting."""

STATUS_INTERVAL_S = 0.02
OWN_HEAP_EVERY = 5
"""A user's heapq list is copied every this many statuses (10 times a second)."""
HEARTBEAT_S = 0.25
"""A status goes out at least this often, changed or not: the window's sign of life."""

CLOSE_STOP_S = 1.0
"""Stop timeout when the window goes away: it kills us shortly after anyway."""

OVER = (RunState.FINISHED, RunState.STOPPED)


class Host:
    """Serves one run over the three channels (see the module docstring)."""

    def __init__(self, run: Run, control_fd: int, events_fd: int, blocks: bool = False) -> None:
        self.run = run
        self._outbox = Outbox(run.recorder, run.recorder.thread_name, blocks)
        self._control_fd = control_fd
        self._events_fd = events_fd
        self._write_lock = threading.Lock()  # replies (main thread) and status share the fd
        self._count_lock = threading.Lock()  # drain vs "how many recorded": one consistent cut
        self._closing = threading.Event()
        self._wake_status = threading.Event()
        self._ack = 0  # id of the last command carried out
        self._flushed = False  # the run is over and every event it recorded has been sent
        self._sent: dict[str, Any] = {}
        self._errors_sent = 0
        self._statuses = 0  # statuses made (a user's heap goes with every OWN_HEAP_EVERY-th)
        self._steps_sent = 0
        self._inspected: tuple[int, str] | None = None  # (steps, state) last inspected
        self._command_lock = threading.Lock()  # no command runs while paused threads are read
        self._threads = [
            threading.Thread(target=self._pump, name="host-pump", daemon=True),
            threading.Thread(target=self._report, name="host-status", daemon=True),
        ]

    def serve(self, commands: FrameReader) -> None:
        """Carry out commands until the window closes stdin; then stop and return."""
        for thread in self._threads:
            thread.start()
        while True:
            frame = commands.next_frame()
            if frame is None:
                if not commands.fill() and commands.next_frame() is None:
                    break  # EOF: the window is done with this run, or gone
                continue
            ident, name, args = decode(frame[0])
            self._carry_out(ident, name, args)
        self._closing.set()
        if self.run.state not in OVER:
            self.run.stop(timeout=CLOSE_STOP_S)

    def _carry_out(self, ident: int, name: str, args: Sequence[Any]) -> None:
        function = COMMANDS.get(name)
        if function is None:
            reply = ("reply", ident, False, f"unknown command {name!r}")
        else:
            with self._command_lock:
                try:
                    reply = ("reply", ident, True, function(self.run, *args))
                except Exception as exc:  # a refused command is an answer, not a crash
                    reply = ("reply", ident, False, f"{type(exc).__name__}: {exc}")
        self._ack = ident
        self._send(reply)
        self._wake_status.set()  # the window sees the command's effect at once

    def _send(self, message: Any) -> None:
        data = encode(message)
        with self._write_lock:
            write_all(self._control_fd, data)

    # --- the pump: events out ---------------------------------------------------------
    def _pump(self) -> None:
        """Every tick, send what the run recorded: one write, however many frames.

        One write a tick matters with many run threads: a write releases the GIL,
        and taking it back behind dozens of busy threads costs a switch interval
        (5 ms) each time, so a write per frame would slow the pump to a crawl.
        """
        over_seen = False
        while True:
            closing = self._closing.wait(PUMP_INTERVAL_S)
            over = self.run.state in OVER and not any(t.alive for t in self.run.threads())
            if over and not over_seen:
                try:
                    self.run.audit()  # a user's queue: does its len() agree with the calls?
                except Exception as exc:  # the user's len() raised: say so, go on
                    self.run.report_error(exc, None)
            sent = 0
            while True:
                with self._count_lock:
                    data, count, dropped = self._outbox.frames(TICK_EVENTS)
                if not count and not dropped:
                    break
                try:
                    write_all(self._events_fd, data)
                except OSError:
                    return  # the window closed its end: nobody wants the events any more
                sent += count
                if count < TICK_EVENTS:
                    break
            if over_seen and not sent and not self._flushed:
                self._flushed = True  # over for a whole tick and nothing more came: all sent
                self._wake_status.set()
            over_seen = over
            if closing:
                return

    # --- the status: everything else out -----------------------------------------------
    def _report(self) -> None:
        last = 0.0
        while not self._closing.is_set():
            self._wake_status.wait(STATUS_INTERVAL_S)
            self._wake_status.clear()
            changes = self._changes()
            now = time.monotonic()
            if changes or now - last >= HEARTBEAT_S:
                try:
                    self._send(("status", changes))
                except OSError:
                    return
                last = now

    def _changes(self) -> dict[str, Any]:
        """The status fields that changed since the last status sent.

        ``recorded`` is read last: a thread seen parked (or ended) recorded its
        GATE_WAIT (or THREAD_ENDED) before, so the count includes it, and a
        window that has every event counted knows why each thread is where.
        """
        run = self.run
        status: dict[str, Any] = {
            "ack": self._ack,
            "state": run.state.value,
            "started_ns": run.started_ns,
            "ended_ns": run.ended_ns,
            "threads": [tuple(info) for info in run.threads()],
            "parked": run.gate.parked(),
            "closed": run.gate.closed,
            "produced": run.produced,
            "cancel_requests": run.cancel_requests,
            "flushed": self._flushed,
        }
        own_heap = getattr(type(run.queue), "own_heap", None)
        if own_heap is not None and self._statuses % OWN_HEAP_EVERY == 0:
            # A user's queue: its own heapq list, live, for the Heap view to draw.
            status["own_heap"] = own_heap(run.queue, inspection.OWN_HEAP_SLOTS)
        self._statuses += 1
        with self._count_lock:
            status["recorded"] = run.recorder.next_seq + run.recorder.pending()
        changes: dict[str, Any] = {
            key: value for key, value in status.items() if self._sent.get(key) != value
        }
        self._sent.update(changes)
        errors = run.errors
        if len(errors) > self._errors_sent:
            changes["errors"] = errors[self._errors_sent :]
            self._errors_sent += len(changes["errors"])
        if run.scheduler is not None:
            self._scheduler_changes(run.scheduler, changes)
        return changes

    def _scheduler_changes(self, scheduler: Scheduler, changes: dict[str, Any]) -> None:
        """A controlled run's steps, who may move, how it ended, and (paused) its insides.

        ``idle`` is read first: once it says no thread moves, the steps read after
        it include the last one.  The history goes out as what was added since the
        last status (it only grows: undo is a fresh run, in a fresh process).
        """
        idle = scheduler.wait_idle(0)
        steps = len(scheduler.history)
        status = {
            "idle": idle,
            "movable": scheduler.movable() if idle else [],
            "outcome": scheduler.outcome,
            "detail": scheduler.detail,
            "runners": [
                (
                    r.name,
                    r.index,
                    r.ident,
                    r.position.what,
                    r.position.file,
                    r.position.line,
                    r.position.offset,
                    r.started,
                    r.done,
                    r.parked,
                )
                for r in scheduler.runners
            ],  # fmt: skip
            "plan": list(scheduler.plan),
        }
        for key, value in status.items():
            if self._sent.get(key) != value:
                changes[key] = self._sent[key] = value
        if steps > self._steps_sent:
            changes["steps"] = scheduler.history[self._steps_sent : steps]
            self._steps_sent = steps
        state = self.run.state
        fresh = self._inspected != (steps, state.value)
        # Read only while no command can make a thread move underneath.
        if idle and state is RunState.PAUSED and fresh and self._command_lock.acquire(False):
            try:
                subject = self.run.program if self.run.program is not None else self.run.queue
                changes["inspection"] = (
                    inspection.threads(scheduler),
                    inspection.shared(subject),
                    inspection.real_heap(subject),
                )
                self._inspected = (steps, state.value)
            finally:
                self._command_lock.release()


def die_with_parent(parent_pid: int) -> None:
    """Never outlive the window, even when it is killed (no orphan run process).

    On Linux the kernel sends us SIGKILL when the thread that started us ends
    (``PR_SET_PDEATHSIG``), which also works while one of the run's threads
    holds the GIL.  Everywhere, stdin's end of file ends :meth:`Host.serve`.
    If the parent died before we got here, we were reparented already: leave.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(3)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.engine.host")
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority")
    parser.add_argument(
        "--blocks", action="store_true", help="send events as blocks (the window reads them)"
    )
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    if args.nice:
        with contextlib.suppress(OSError):  # not allowed here: run at the window's priority
            os.nice(args.nice)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the window's
    faulthandler.enable()  # a crash prints every thread's stack: the window shows its tail
    widen_pipe(args.events_fd)
    control = args.control_fd
    write_all(control, encode(("hello", {"pid": os.getpid(), "python": sys.version})))
    commands = FrameReader(0)
    frame = commands.next_frame()
    while frame is None and commands.fill():
        frame = commands.next_frame()
    if frame is None:
        return 0  # closed before being given a run: a spare process nobody needed
    _kind, data = decode(frame[0])
    try:
        run = RunSpec.from_data(data).build()
    except Exception as exc:  # the window checked the spec; this is a message, not a trace
        write_all(control, encode(("failed", f"{type(exc).__name__}: {exc}")))
        return 2
    write_all(control, encode(("ready", {"label": run.label, "scenario": run.scenario})))
    Host(run, control, args.events_fd, blocks=args.blocks).serve(commands)
    return 0


if __name__ == "__main__":
    sys.exit(main())

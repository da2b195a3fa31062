"""The window's stand-in for a run that lives in a run process.

:class:`RemoteRun` has the interface the window, the compare dialog and
:func:`visualizer.compare.run_one` use on a :class:`~visualizer.engine.Run`:
``state``, ``label``, ``workload``, ``errors``, ``recorder`` (an
:class:`~.stream.EventStream`), ``gate`` (a mirror with ``parked()`` and
``closed``), ``threads()``, ``elapsed()``, ``start/pause/resume/step/set_pace/
stop/wait``.  Nothing it answers waits on the other process: every attribute
is a mirror the listener thread keeps current from the process's status
messages, so a run process that hangs holding its GIL cannot freeze the window.

Why some changes show before the run process confirms them: Pause, Resume,
Stop and the pace take effect in the mirror at once (as they would on a local
run), and a status from the run process replaces them only once it has carried
out the command that made them; a status sent before that is stale for those
fields.  If the run process refuses (pausing a run that had just finished),
its next status puts the mirror right.

Timestamps: ``started_ns``/``ended_ns`` and every event's time come from the run
process's ``perf_counter_ns``.  That is CLOCK_MONOTONIC on Linux (and a
system-wide counter on macOS and Windows), so they compare with this process's
clock: :meth:`elapsed` and the model's live clock need no translation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any

from visualizer.engine.host.process import EngineProcess, ExitReport, describe_exit
from visualizer.engine.host.spec import RunSpec
from visualizer.engine.host.stream import EventStream
from visualizer.engine.run import RunState, ThreadInfo
from visualizer.engine.scheduler import Position

OVER = (RunState.FINISHED, RunState.STOPPED)
ACTIVE = (RunState.RUNNING, RunState.PAUSED)

STOP_TIMEOUT_S = 2.0
"""A run process that has not stopped its run this long after Stop is killed."""

CHILD_STOP_SHARE = 0.75
"""The share of the stop timeout the run process itself may spend joining its threads,
so that its answer arrives before the deadline kills it."""

SILENT_S = 1.0
"""No word from a running run process for this long: the window calls it not responding."""


class RemoteError(RuntimeError):
    """The run process refused a command, or is gone; the message says which."""


class GateMirror:
    """What the window asks a run's gate: who is parked where, and whether it is closed."""

    def __init__(self, step: Callable[[int | None], None]) -> None:
        self.closed = False
        self.aborted = False
        self._parked: dict[int, tuple[str, tuple[str, int]]] = {}
        self._changed = threading.Condition()
        self.step = step

    def parked(self) -> dict[int, tuple[str, tuple[str, int]]]:
        """Threads parked at the gate: ident -> (label, (file, line)), oldest first."""
        return dict(self._parked)

    def wait_parked(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._parked) >= count, timeout)

    def _update(self, parked: dict[int, tuple[str, tuple[str, int]]]) -> None:
        with self._changed:
            self._parked = parked
            self._changed.notify_all()


@dataclass(frozen=True, slots=True)
class RunnerView:
    """A controlled thread as its run process last described it (a Runner's plain fields)."""

    name: str
    index: int
    ident: int | None
    position: Position  # where it stands (without its frame: that stays in the run process)
    started: bool
    done: bool
    parked: bool

    @classmethod
    def of(cls, fields: tuple[Any, ...]) -> RunnerView:
        name, index, ident, what, file, line, offset, started, done, parked = fields
        return cls(name, index, ident, Position(what, file, line, offset), started, done, parked)


class SchedulerMirror(GateMirror):
    """A controlled run's scheduler, as the window sees it (the run's gate, too).

    ``history``, ``movable()``, ``outcome``, ``detail`` and ``inspection`` come
    with the run process's status; :meth:`move` is a command.  After a move,
    :meth:`wait_idle` waits until the run process reports the step done: its
    status is idle again, and was sent after it carried the move out.
    """

    def __init__(self, run: RemoteRun) -> None:
        super().__init__(run.step)
        self._run = run
        self.history: list[str] = []
        self.outcome: str | None = None
        self.detail = ""
        # (thread views, shared variables, real heap) while paused and idle, else None.
        self.inspection: tuple[list[Any], list[tuple[str, str]], list[Any] | None] | None = None
        self.runners: list[RunnerView] = []
        self.plan: list[str] = []  # what is left of the plan it follows
        self._movable: list[str] = []
        self._idle = False

    def movable(self) -> list[str]:
        """Names of the threads that can move now (as of the last status)."""
        return list(self._movable)

    def move(self, name: str | None = None) -> None:
        """Let ``name`` (or the next in the default order) move one step."""
        ident = self._run._command("move", name)
        self._run._expect["idle"] = ident
        self._set_idle(False)

    def follow_plan(self, name: str) -> None:
        """The user is about to move ``name``: a plan it follows keeps the rest, else is dropped."""
        self._run._command("follow_plan", name)

    def runner_of(self, ident: int) -> RunnerView | None:
        return next((runner for runner in self.runners if runner.ident == ident), None)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no run thread moves (as the run process last said)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._idle, timeout)

    def _set_idle(self, idle: bool) -> None:
        with self._changed:
            self._idle = idle
            if not idle:
                self.inspection = None  # what it showed is about to change
            self._changed.notify_all()

    def _update_status(self, status: dict[str, Any], changes: dict[str, Any]) -> None:
        self.history.extend(changes.get("steps", ()))
        if "inspection" in changes:
            self.inspection = changes["inspection"]
        self.outcome = status.get("outcome")
        self.detail = status.get("detail", "")
        self._movable = list(status.get("movable", ()))
        if "runners" in changes:
            self.runners = [RunnerView.of(fields) for fields in changes["runners"]]
        if "plan" in changes:
            self.plan = list(changes["plan"])
        if status.get("ack", 0) >= self._run._expect.get("idle", 0):
            self._set_idle(bool(status.get("idle")))


class _Reply:
    __slots__ = ("done", "ok", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: Any = None


class RemoteRun:
    """A run in a run process, driven and watched like a local :class:`Run`."""

    def __init__(self, spec: RunSpec, process: EngineProcess) -> None:
        self.spec = spec
        self.workload = spec.workload
        self.label = spec.label()
        self.process = process
        self.python: str | None = None  # the run process's sys.version, once it says hello
        self.recorder = EventStream(process.take_events(), self._send_backlog)
        self.control = spec.control
        self.scenario: dict[str, Any] | None = None  # name, fixed, params: once it is built
        self.scheduler = SchedulerMirror(self) if spec.control is not None else None
        self.gate: GateMirror = self.scheduler or GateMirror(self.step)
        self.state = RunState.IDLE
        self.errors: list[str] = []
        self.started_ns: int | None = None
        self.ended_ns: int | None = None
        self.produced = 0
        self.cancel_requests = 0
        # A user's queue: (its heapq list's name, first slots or None, length), live.
        self.own_heap: tuple[str, list[tuple[int, Any]] | None, int] | None = None
        self.exit_report: ExitReport | None = None
        self.last_heard = time.monotonic()
        self._threads: list[ThreadInfo] = []
        self._status: dict[str, Any] = {}
        self._pace: float | None = None
        self._next_id = 0
        self._id_lock = threading.Lock()
        self._expect: dict[str, int] = {}  # mirrored field -> id of the command that set it
        self._replies: dict[int, _Reply] = {}
        self._stop_id: int | None = None
        self._stop_ended: bool | None = None
        self._stop_done = threading.Event()
        self._over = threading.Event()  # over, and every event sent (or the process gone)
        self._exited = threading.Event()
        process.listen(self._on_message, self._on_exit)
        process.send(("run", spec.to_data()))

    # --- the Run interface ---------------------------------------------------------------
    def threads(self) -> list[ThreadInfo]:
        return list(self._threads)

    def elapsed(self) -> float:
        """Seconds from start to the end (or to now while running); 0 before start."""
        if self.started_ns is None:
            return 0.0
        end = self.ended_ns if self.ended_ns is not None else perf_counter_ns()
        return max(0.0, (end - self.started_ns) / 1e9)

    def start(self, paused: bool = False) -> None:
        if self.state is not RunState.IDLE:
            raise RuntimeError(f"a run starts once; this one is {self.state.value}")
        ident = self._command("start", paused)
        self._expect_value("state", RunState.PAUSED if paused else RunState.RUNNING, ident)
        self._expect_value("closed", paused or self._pace is not None, ident)

    def pause(self) -> None:
        if self.state is RunState.RUNNING:
            ident = self._command("pause")
            self._expect_value("state", RunState.PAUSED, ident)
            self._expect_value("closed", True, ident)

    def resume(self) -> None:
        if self.state is RunState.PAUSED:
            ident = self._command("resume")
            self._expect_value("state", RunState.RUNNING, ident)
            self._expect_value("closed", self._pace is not None, ident)

    def step(self, ident: int | None = None) -> None:
        """Let one parked thread (``ident``, the run process's, or the oldest) pass one point."""
        command = self._command("step", ident)
        if self.scheduler is not None:
            self._expect["idle"] = command
            self.scheduler._set_idle(False)

    def set_pace(self, ops_per_s: float | None) -> None:
        self._pace = ops_per_s
        ident = self._command("set_pace", ops_per_s)
        if self.state in ACTIVE:
            running = self.state is RunState.RUNNING
            self._expect_value("closed", not running or ops_per_s is not None, ident)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is over and all its events are sent (or its process ended)."""
        return self._over.wait(timeout)

    def request_stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask the run to stop and return at once; killed if not stopped within ``timeout``.

        The mirror says STOPPING until the run process confirms (or is killed).
        """
        if self.state in OVER or self._stop_id is not None or self._exited.is_set():
            if self._stop_id is None and self._stop_ended is None:  # over before any Stop
                self._stop_ended = not any(t.alive for t in self._threads)
            self._stop_done.set()
            return
        if self.state is RunState.IDLE:
            self._set("state", RunState.STOPPED)
            self._over.set()
        elif self.state is not RunState.STOPPING:
            self._set("state", RunState.STOPPING)
        self._stop_id = self._command("stop", timeout * CHILD_STOP_SHARE)
        self._expect["state"] = self._stop_id
        self.process.kill_after(
            timeout, f"did not stop its run within {timeout:g} s of Stop and was killed"
        )

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """End the run (its process killed if need be); True if its threads ended by themselves."""
        self.request_stop(timeout)
        if not self._stop_done.wait(timeout + 1.0):  # the kill itself is on the listener
            self.process.kill("did not answer Stop and was killed")
            self._stop_done.wait(1.0)
        return bool(self._stop_ended)

    def close(self, wait: bool = True) -> None:
        """End the run process (it stops the run if need be); killed if it lingers.

        Without ``wait`` this returns at once and the listener thread finishes
        the job within :data:`STOP_TIMEOUT_S` (the window, discarding a run).
        """
        self.recorder.close()  # first: a pump blocked on a full pipe fails and lets go
        self.process.close(STOP_TIMEOUT_S, wait=wait)
        if wait:
            self._exited.wait(STOP_TIMEOUT_S)

    # --- asking the run process ------------------------------------------------------------
    def call(self, name: str, *args: Any, timeout: float = 1.0) -> Any:
        """Send command ``name`` and wait for its answer; RemoteError or TimeoutError otherwise."""
        reply = _Reply()
        with self._id_lock:
            self._next_id += 1
            ident = self._next_id
            self._replies[ident] = reply
        if not self.process.send((ident, name, args)):
            self._replies.pop(ident, None)
            raise RemoteError(f"the run process cannot take {name!r} now (not responding)")
        if not reply.done.wait(timeout):
            self._replies.pop(ident, None)
            raise TimeoutError(f"the run process did not answer {name!r} within {timeout:g} s")
        if not reply.ok:
            raise RemoteError(str(reply.value))
        return reply.value

    def snapshot(self, timeout: float = 1.0) -> Any:
        """The queue's state in the run process: (heap slots, statuses, added), or None."""
        return self.call("snapshot", timeout=timeout)

    @property
    def responding(self) -> bool:
        """False while an active run process has said nothing for :data:`SILENT_S`."""
        if self.state not in (*ACTIVE, RunState.STOPPING) or self._exited.is_set():
            return True
        return time.monotonic() - self.last_heard < SILENT_S

    @property
    def outcome(self) -> str | None:
        """How the process ended if not as asked ("crashed", "killed", ...), else None."""
        return self.exit_report.how if self.exit_report is not None else None

    # --- inside: commands and the mirror ----------------------------------------------------
    def _command(self, name: str, *args: Any) -> int:
        with self._id_lock:
            self._next_id += 1
            ident = self._next_id
        self.process.send((ident, name, args))
        return ident

    def _send_backlog(self, backlog: int | None) -> None:
        self._command("set_backlog", backlog)

    def _expect_value(self, key: str, value: Any, ident: int) -> None:
        """Show ``value`` now; the run process's ``key`` counts once it has done ``ident``."""
        self._expect[key] = ident
        self._set(key, value)

    def _set(self, key: str, value: Any) -> None:
        if key == "state":
            self.state = value
        elif key == "closed" and self.scheduler is None:  # a scheduler is always closed
            self.gate.closed = value

    def _on_message(self, message: tuple) -> None:
        """On the listener thread: fold one message from the run process into the mirror."""
        self.last_heard = time.monotonic()
        kind = message[0]
        if kind == "status":
            self._on_status(message[1])
        elif kind == "reply":
            self._on_reply(*message[1:])
        elif kind == "hello":
            self.python = message[1]["python"]
        elif kind == "ready":
            self.label = message[1]["label"]
            self.scenario = message[1]["scenario"]
        elif kind == "failed":
            self.exit_report = ExitReport("failed", f"The run could not start: {message[1]}")

    def _on_status(self, changes: dict[str, Any]) -> None:
        status = self._status
        status.update(changes)
        ack = status.get("ack", 0)
        for key in ("state", "closed"):
            if key in status and ack >= self._expect.get(key, 0):
                value = status[key]
                self._set(key, RunState(value) if key == "state" else value)
        if "errors" in changes:
            self.errors.extend(changes["errors"])
        if "threads" in changes:
            self._threads = [ThreadInfo(*info) for info in changes["threads"]]
        if "parked" in changes:
            self.gate._update(changes["parked"])
        if self.scheduler is not None:
            self.scheduler._update_status(status, changes)
        for key in ("started_ns", "ended_ns", "produced", "cancel_requests", "own_heap"):
            if key in changes:
                setattr(self, key, changes[key])
        if "recorded" in changes:
            self.recorder.announce(changes["recorded"])
        if status.get("flushed") and self.state in OVER:
            self._over.set()

    def _on_reply(self, ident: int, ok: bool, value: Any) -> None:
        if ident == self._stop_id:
            self._stop_ended = bool(ok and value)
            if self._stop_ended:
                self.process.disarm()
            else:  # threads that ignore Stop end only with their process
                self.process.kill("was killed: some run threads did not stop")
            self._stop_done.set()
            return
        reply = self._replies.pop(ident, None)
        if reply is not None:
            reply.ok, reply.value = ok, value
            reply.done.set()

    def _on_exit(self, returncode: int) -> None:
        """On the listener thread, after the process was reaped: settle the mirror for good."""
        process = self.process
        if self.exit_report is None:
            if process.killed:
                self.exit_report = ExitReport("killed", f"The run process {process.kill_reason}.")
            elif not process.closing or returncode != 0:
                was = "exited" if returncode == 0 else "crashed"
                self.exit_report = ExitReport(
                    was,
                    f"The run process {describe_exit(returncode)} while the run was "
                    f"{self.state.value}.",
                )
        report = self.exit_report
        if report is not None:
            report.returncode = returncode
            report.stderr_tail = process.stderr_tail.decode("utf-8", "replace")
            report.events = self.recorder.describe_last_events
        if self.state not in OVER:
            self.state = RunState.STOPPED
            self.ended_ns = self.ended_ns or perf_counter_ns()
        self._threads = [info._replace(alive=False) for info in self._threads]
        self.gate._update({})
        if self.scheduler is not None:
            self.scheduler._set_idle(True)  # nothing will move again
        self.recorder.end()
        self._exited.set()
        self._over.set()
        self._stop_done.set()
        for reply in list(self._replies.values()):
            reply.value = "the run process has ended"
            reply.done.set()

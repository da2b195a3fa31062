"""The controlled scheduler: exactly one run thread moves at a time, and it decides who.

Every run thread is a real CPython thread.  At each *switch point* (an
instruction or line of the code under study, see :mod:`.tracing`, or a traced
synchronisation operation, see ``visualizer.queues.traced``) the running thread
stops and the scheduler picks the thread that moves next: the next name of a
planned schedule, a search policy's pick, or, when neither says, the user's
command (:meth:`Scheduler.move`).  The thread picked runs from where it stands
to its next switch point; everything between two switch points (C calls, the
standard library, this package's plumbing) is one step, as the GIL makes it.

Hand-over: each thread has a private lock it sleeps on while parked.  The
running thread wakes the next one by releasing that lock, then sleeps on its
own.  So the scheduler needs no thread of its own, and whoever runs holds the
"baton"; the shared state below is guarded by ``_state`` all the same, because
the window (or a test) reads it and sends commands from another thread.

Blocking is modelled, not done: a thread that must wait (a held lock, an empty
condition, a sleep) parks with a ``ready`` test instead of blocking in the
operating system.  It is only picked once ``ready()`` holds.  A wait with a
timeout (and a sleep) is picked to time out only when no other thread can move:
time passes in a controlled run only when everybody waits.  When nobody can move
and nothing can time out, the run is deadlocked at that step.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from time import monotonic
from types import FrameType

from visualizer.events import DEADLOCK, GATE_WAIT, MARK, VIOLATION
from visualizer.queues.gate import Gate, RunStopped, caller_location, skip_frames_of

skip_frames_of(__file__)  # a thread parked at a lock is shown at the line that took it

OUTSIDER_POLL = 0.05
"""Longest sleep (s) of a thread outside the run waiting for one of its locks."""

Policy = Callable[[list["Runner"], "Runner | None", int], "Runner | None"]
"""Picks the next runner among those that can move (the last mover and the step
number are given); None hands the decision to the user."""


@dataclass(slots=True)
class Position:
    """Where a parked thread stands: about to run ``what`` at ``file``:``line``."""

    what: str  # "line", "instruction", "acquire 'queue'", "start", "sleep", ...
    file: str
    line: int
    offset: int = -1  # the next instruction's byte offset, when known
    frame: FrameType | None = None  # the study frame, to read its variables while parked


class Runner:
    """One controlled thread: its baton lock, where it stands, what it waits for."""

    __slots__ = (
        "name",
        "index",
        "ident",
        "position",
        "ready",
        "deadline",
        "started",
        "done",
        "parked",
        "woken_ready",
        "read",
        "written",
        "checked",
        "stands_back",
        "_go",
    )

    def __init__(self, name: str, index: int) -> None:
        self.name = name
        self.index = index
        self.ident: int | None = None
        self.position = Position("start", "", 0)
        self.ready: Callable[[], bool] | None = None  # None: can move now
        self.deadline: float | None = None  # virtual time its wait times out at, if it can
        self.started = False  # has reached its first switch point
        self.done = False
        self.parked = False
        self.woken_ready = True  # whether ready() held when it was picked
        # Attribute names of shared state it read and wrote (see tracing.py): filled
        # as it moves, emptied by a policy that wants to know what each step touched.
        self.read: set[str] = set()
        self.written: set[str] = set()
        # Of ``read``, those read as a check: the last look before its operation
        # writes, of a name the operation writes too (see scheduler.operations).
        self.checked: set[str] = set()
        self.stands_back = False  # a policy holds it back: it moves only if nobody else can
        self._go = threading.Lock()
        self._go.acquire()

    def can_move(self) -> bool:
        return not self.done and (self.ready is None or self.ready())

    def waits(self) -> str:
        """What the runner waits for, in words ("" if it can move)."""
        if self.done:
            return "ended"
        if self.ready is None or self.ready():
            return ""
        return self.position.what


class ScheduleMisfit(Exception):
    """The planned schedule asks for a move the program cannot make."""


class Scheduler(Gate):
    """A gate that lets exactly one thread move at a time, at every switch point."""

    controlled = True
    events_are_steps = False
    _record: Callable[..., None]  # required here, where Gate's is optional

    def __init__(
        self,
        record: Callable[..., None],
        plan: Iterable[str] = (),
        policy: Policy | None = None,
        max_steps: int | None = None,
        advance: bool = True,
        strict: bool = True,
    ) -> None:
        super().__init__(record)
        self.closed = True  # traced primitives take their slow path, into this class
        self._state = threading.Condition(threading.Lock())
        self.runners: list[Runner] = []
        self._by_ident: dict[int, Runner] = {}
        self._expected = 0
        self.plan: deque[str] = deque(plan)
        self.policy = policy
        self.max_steps = max_steps
        self.advance = advance  # bring each thread to its first switch point before step 1
        self.strict = strict  # a planned step that cannot be made ends the run (else: skipped)
        self.skipped = 0  # planned steps a lenient plan could not make
        self.auto_plan = True  # the plan plays itself; else each planned step waits for a move()
        self.history: list[str] = []  # the name that moved at each step
        self.options: list[tuple[str, ...]] = []  # who could have moved at each step
        self.last: Runner | None = None
        self.running: Runner | None = None
        self._offered: tuple[str, ...] = ()
        self.now = 0.0  # virtual seconds: advanced only when every thread waits
        self.outcome: str | None = None  # "finished", "deadlock" or "misfit" once settled
        self.detail = ""
        self.on_step: Callable[[], None] | None = None  # called (baton held) after each choice
        self._outsiders = 0  # threads outside the run waiting for one of its locks

    # --- set-up ---------------------------------------------------------------
    def expect(self, names: list[str]) -> None:
        """The run's threads, in their fixed order, before any of them starts."""
        self.runners = [Runner(name, index) for index, name in enumerate(names)]
        self._expected = len(names)

    def enter(self) -> None:
        """First thing in a run thread: wait until it is this thread's turn to start.

        With ``advance``, the threads are then brought one after the other to
        their first switch point (before their first line of study code);
        without it they stay at their start and the first step of each takes it
        there.
        """
        me = self._runner_named(threading.current_thread().name)
        with self._state:
            me.ident = threading.get_ident()
            self._by_ident[me.ident] = me
            me.parked = True
            if not self.advance:
                me.started = True
            if len(self._by_ident) == self._expected:  # the last one in starts the run
                first = self.runners[0] if self.advance else self._decide(me)
                if first is me:
                    me.parked = False
                    self.running = me
                    return
                if first is not None:
                    self._wake(first)
        self._sleep(me)

    def leave(self) -> None:
        """Last thing in a run thread: it has ended; the next thread moves."""
        me = self._by_ident.get(threading.get_ident())
        if me is None:
            return
        with self._state:
            me.done = me.started = True
            if self.aborted:
                return
            nxt = self._decide(me)
            if nxt is not None:
                self._wake(nxt)

    # --- switch points, called by the running thread ---------------------------
    def checkpoint(self, label: str) -> None:
        """A traced synchronisation operation (or a program's step point)."""
        file, line = caller_location()
        self.switch(Position(label, file, line))

    def switch(self, position: Position) -> None:
        """A switch point: stop here; return when this thread is picked again."""
        me = self._by_ident.get(threading.get_ident())
        # Not a run thread (the window reading a queue), or a new thread given the
        # ident of a run thread that has ended: never held.
        if me is None or me.done:
            if self.aborted:
                raise RunStopped
            return
        self._park(me, position, None, None)

    def block(self, ready: Callable[[], bool], timeout: float | None, label: str) -> bool:
        """Wait until ``ready()``; False if the wait timed out instead."""
        me = self._by_ident.get(threading.get_ident())
        if me is None or me.done:
            return self._outsider_wait(ready, timeout)
        file, line = caller_location()
        return self._park(me, Position(label, file, line), ready, timeout)

    def sleep(self, seconds: float) -> None:
        """Simulated work or I/O: it ends when no other thread can move (see ``now``)."""
        if seconds > 0:
            self.block(_never, seconds, f"sleep {seconds:g} s")

    def _park(
        self,
        me: Runner,
        position: Position,
        ready: Callable[[], bool] | None,
        timeout: float | None,
    ) -> bool:
        with self._state:
            if self.aborted:
                raise RunStopped
            me.position = position
            me.ready = ready
            me.deadline = None if timeout is None else self.now + max(0.0, timeout)
            me.started = True
            # Where it stands after its step, for the code panel (as the free gate records it).
            self._record(GATE_WAIT, position.what, (position.file, position.line))
            nxt = self._decide(me)
            if nxt is me:
                return self._resumed(me)
            me.parked = True
            if nxt is not None:
                self._wake(nxt)
        self._sleep(me)
        return self._resumed(me)

    def _outsider_wait(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """A thread outside the run (the window after a stop, say) waits for real.

        It is woken at every step of the run, so it sees a lock freed as soon as
        the run frees it; Stop wakes it too.
        """
        deadline = None if timeout is None else monotonic() + timeout
        with self._state:
            self._outsiders += 1
            try:
                while not ready():
                    if self.aborted:
                        raise RunStopped
                    left = None if deadline is None else deadline - monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._state.wait(OUTSIDER_POLL if left is None else min(left, OUTSIDER_POLL))
            finally:
                self._outsiders -= 1
        return True

    def _resumed(self, me: Runner) -> bool:
        me.ready = None
        me.deadline = None
        return me.woken_ready

    def _sleep(self, me: Runner) -> None:
        me._go.acquire()
        if self.aborted:
            raise RunStopped

    def _wake(self, runner: Runner) -> None:
        """Let ``runner`` move (caller holds ``_state``)."""
        runner.parked = False
        self.running = runner
        runner._go.release()

    # --- the decision -----------------------------------------------------------
    def _decide(self, me: Runner) -> Runner | None:
        """Who moves next (caller holds ``_state``); None: nobody until a command."""
        self.running = None
        if self.advance:  # bring every thread to its first switch point, in order
            for runner in self.runners:
                if not runner.started and not runner.done:
                    return runner
        movable = self._movable()
        if not movable:
            self._settle_stuck()
            return None
        if self.max_steps is not None and len(self.history) >= self.max_steps:
            self._settle("limit", f"the run took {self.max_steps} steps without ending")
            return None
        self._offered = tuple(r.name for r in movable)
        if self.plan and (self.policy is not None or self.auto_plan):
            name = self.plan.popleft()
            chosen = next((r for r in movable if r.name == name), None)
            if chosen is None:
                if self.strict:
                    step = len(self.history) + 1
                    self._settle("misfit", f"step {step}: {self._why_not(name)}")
                    return None
                self.skipped += 1
                chosen = movable[0] if self.last not in movable else self.last
        elif self.policy is not None:
            chosen = self.policy(movable, self.last, len(self.history))
            if chosen is None:
                self._state.notify_all()
                return None
        else:
            self._state.notify_all()  # idle: the user decides
            return None
        return self._choose(chosen)

    def _movable(self) -> list[Runner]:
        """Who may move: those who can, else (time passes) the waits that time out first.

        A controlled run keeps a virtual clock (:attr:`now`): it only advances
        when every thread waits, to the earliest deadline among them, so a
        sleep of 0.1 s ends before one of 0.2 s whatever the machine does.
        """
        movable = [r for r in self.runners if r.can_move()]
        eager = [r for r in movable if not r.stands_back]
        if eager:
            return eager
        # Held back by a search: others' waits time out first, if any can.
        timed = [r for r in self.runners if not r.done and r.deadline is not None]
        timed = [r for r in timed if r not in movable]
        if not timed:
            return movable
        first = min(r.deadline for r in timed if r.deadline is not None)
        return [r for r in timed if r.deadline == first]

    def _choose(self, chosen: Runner) -> Runner:
        chosen.woken_ready = chosen.ready is None or chosen.ready()
        if not chosen.woken_ready and chosen.deadline is not None:
            self.now = max(self.now, chosen.deadline)  # its wait times out: time passes
        self.options.append(self._offered)
        self.history.append(chosen.name)
        self.last = chosen
        if self._outsiders:
            self._state.notify_all()  # outsiders waiting for a lock look again
        if self.on_step is not None:
            self.on_step()
        return chosen

    def _why_not(self, name: str) -> str:
        runner = next((r for r in self.runners if r.name == name), None)
        if runner is None:
            known = ", ".join(r.name for r in self.runners)
            return f"there is no thread '{name}' (threads: {known})"
        if runner.done:
            return f"{name} has already ended"
        return f"{name} cannot move: it waits ({runner.position.what})"

    def _settle_stuck(self) -> None:
        alive = [r for r in self.runners if not r.done]
        if not alive:
            if self.plan and self.strict:
                step = len(self.history) + 1
                detail = (
                    f"step {step}: every thread has ended, {len(self.plan)} planned step(s) left"
                )
                self._settle("misfit", detail)
                return
            self._settle("finished", "every thread ended")
            return
        waits = "; ".join(f"{r.name} waits ({r.position.what})" for r in alive)
        detail = f"no thread can move at step {len(self.history)}: {waits}"
        self._settle("deadlock", detail)
        self._record(VIOLATION, DEADLOCK, None, detail)

    def _settle(self, outcome: str, detail: str) -> None:
        self.outcome = outcome
        self.detail = detail
        if outcome == "misfit":
            self._record(MARK, f"schedule does not fit: {detail}")

        self._state.notify_all()

    def clock(self) -> float:
        """Seconds for deadlines: the virtual clock, so a wait that times out is past due.

        It starts at 0 in every run, so a replay reads the same times.
        """
        return self.now

    # --- called by the controller (the window, the command line, a test) ----------
    def wait_idle(self, timeout: float) -> bool:
        """Block until no run thread moves: waiting for a command, or settled."""
        with self._state:
            return self._state.wait_for(self._is_idle, timeout)

    def _is_idle(self) -> bool:
        return self.aborted or (
            self.running is None
            and all(r.parked or r.done for r in self.runners)
            and len(self._by_ident) == self._expected
        )

    def movable(self) -> list[str]:
        """Names of the threads that can move now (read while idle)."""
        with self._state:
            return [r.name for r in self._movable()]

    def move(self, name: str | None = None) -> None:
        """Let thread ``name`` (or, without a name, the next by the default order) move one step."""
        with self._state:
            if self.aborted or self.outcome is not None:
                return
            if not self._is_idle():
                raise RuntimeError("a thread is still moving")
            movable = self._movable()
            self._offered = tuple(r.name for r in movable)
            if name is None and self.plan:  # a plan played step by step (slow motion)
                name = self.plan.popleft()
            if name is None:
                chosen = continue_in_order(movable, self.last, len(self.history))
            else:
                chosen = next((r for r in movable if r.name == name), None)
                if chosen is None:
                    raise ScheduleMisfit(self._why_not(name))
            if chosen is None:
                return
            self._wake(self._choose(chosen))

    def set_policy(self, policy: Policy | None) -> None:
        """Hand decisions to ``policy`` (None: to the user); starts moving if idle."""
        with self._state:
            self.policy = policy
            if policy is None or self.aborted or self.outcome is not None:
                return
            if self._is_idle():
                movable = self._movable()
                self._offered = tuple(r.name for r in movable)
                chosen = policy(movable, self.last, len(self.history)) if movable else None
                if chosen is not None:
                    self._wake(self._choose(chosen))

    def abort(self) -> None:
        """Stop: every parked thread wakes and unwinds with RunStopped."""
        with self._state:
            self.aborted = True
            for runner in self.runners:
                if runner.parked:
                    self._wake(runner)
            self.running = None
            self._state.notify_all()

    def open(self) -> None:
        """A controlled run is never free-running; once its threads ended, its locks are plain."""
        if all(r.done for r in self.runners):
            self.closed = False

    def close(self) -> None:
        """Pausing a controlled run changes nothing: it moves only when told to."""

    def step(self, ident: int | None = None) -> None:
        """The free gate's per-thread step, by ident (slow motion, the step button).

        Ignored while a thread is still moving: a pacer's tick then simply waits
        for the next one.
        """
        runner = self._by_ident.get(ident) if ident is not None else None
        with self._state:
            if not self._is_idle():
                return
        self.move(runner.name if runner is not None else None)

    def parked(self) -> dict[int, tuple[str, tuple[str, int]]]:
        """Threads that could move now (blocked ones wait for a lock, not for a step)."""
        with self._state:
            return {
                r.ident: (r.position.what, (r.position.file, r.position.line))
                for r in self._movable()
                if r.parked and r.ident is not None
            }

    def wait_parked(self, count: int, timeout: float) -> bool:
        with self._state:
            return self._state.wait_for(
                lambda: self._is_idle() and sum(r.parked for r in self.runners) >= count,
                timeout,
            )

    def runner_of(self, ident: int) -> Runner | None:
        return self._by_ident.get(ident)

    def _runner_named(self, name: str) -> Runner:
        for runner in self.runners:
            if runner.name == name and runner.ident is None:
                return runner
        raise RuntimeError(f"thread {name!r} was not announced to the scheduler")


def continue_in_order(movable: list[Runner], last: Runner | None, _step: int) -> Runner | None:
    """The default order: the last mover keeps moving while it can, else the first in order.

    This is what a run does after its planned schedule ends, so a schedule only
    needs to say where it departs from running each thread as far as it goes.
    """
    if not movable:
        return None
    if last is not None and last in movable:
        return last
    return movable[0]


def _never() -> bool:
    return False

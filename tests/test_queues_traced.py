"""The traced Lock, RLock, Condition and Semaphore: the events tell the truth.

The views and the invariant checker rebuild who holds what from the event stream
alone, so these tests rebuild it the same way and compare with what the threads
did: requests before acquisitions, a release before the next holder's
acquisition, recursion depths, waits and notifies, permits in use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from visualizer.events import (
    COND_NOTIFY,
    COND_WAIT,
    COND_WOKEN,
    LOCK_ACQUIRED,
    LOCK_CREATED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    PERMIT,
    Event,
    Recorder,
    expand_held,
)
from visualizer.queues import RunStopped, Tracer

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")


class EventLog:
    """Everything a recorder produced so far, drained on demand."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.tracer = Tracer(self.recorder)
        self.events: list[Event] = []

    def update(self) -> list[Event]:
        """Every event so far, a whole hold recorded as one (LOCK_HELD, the C fast
        path's) taken apart where it stands in the stream, as the model folds it."""
        self.events.extend(Event(*raw) for raw in expand_held(self.recorder.drain().events))
        return self.events

    def of(self, kind: int, subject: object = None, thread: int | None = None) -> list[Event]:
        return [
            e
            for e in self.update()
            if e.kind == kind
            and (subject is None or e.subject == subject)
            and (thread is None or e.thread == thread)
        ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "expected events did not appear"
            time.sleep(0.001)


def start(*targets: Callable[[], None]) -> list[threading.Thread]:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    return threads


def join(threads: list[threading.Thread], timeout: float = 5.0) -> None:
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads)


def holders_replay(events: list[Event], name: str) -> list[str]:
    """Replay one exclusive lock's events; return every inconsistency found."""
    problems = []
    holder, depth = None, 0
    requested: set[int] = set()
    for e in events:
        if e.subject != name:
            continue
        if e.kind == LOCK_REQUESTED:
            requested.add(e.thread)
        elif e.kind == LOCK_ACQUIRED:
            if holder not in (None, e.thread):
                problems.append(f"{e.thread} acquired while {holder} held")
            holder, depth = e.thread, e.b
            requested.discard(e.thread)
        elif e.kind == LOCK_RELEASED:
            if holder != e.thread:
                problems.append(f"{e.thread} released a lock held by {holder}")
            depth = e.b
            holder = e.thread if depth else None
    if holder is not None or requested:
        problems.append(f"at the end: holder {holder}, still requesting {requested}")
    return problems


@pytest.mark.parametrize("factory", ["lock", "rlock"])
def test_contended_lock_events_are_ordered(factory: str) -> None:
    log = EventLog()
    lock = getattr(log.tracer, factory)("L")
    inside = [0]
    overlaps = []

    def hammer() -> None:
        for _ in range(300):
            with lock:
                inside[0] += 1
                overlaps.append(inside[0])
                time.sleep(0)  # invite a switch while holding
                inside[0] -= 1

    join(start(*[hammer] * 4))
    events = log.update()
    assert max(overlaps) == 1
    assert holders_replay(events, "L") == []
    acquired = log.of(LOCK_ACQUIRED, "L")
    assert len(acquired) == len(log.of(LOCK_RELEASED, "L")) == 1200
    requests = log.of(LOCK_REQUESTED, "L")
    assert requests, "4 threads never contended"
    for request in requests:  # each request is followed by that thread's acquisition
        index = events.index(request)
        assert any(
            e.kind == LOCK_ACQUIRED and e.thread == request.thread for e in events[index + 1 :]
        )


def test_uncontended_lock_records_no_request() -> None:
    log = EventLog()
    lock = log.tracer.lock("L")
    with lock:
        pass
    assert lock.acquire(blocking=False)
    lock.release()
    kinds = [e.kind for e in log.update()]
    assert kinds == [LOCK_CREATED] + [LOCK_ACQUIRED, LOCK_RELEASED] * 2


def test_try_acquire_of_a_held_lock_fails_without_events() -> None:
    log = EventLog()
    lock = log.tracer.lock("L")
    got: list[bool] = []
    with lock:
        join(start(lambda: got.append(lock.acquire(blocking=False))))
        join(start(lambda: got.append(lock.acquire(timeout=0.05))))
    assert got == [False, False]
    kinds = [e.kind for e in log.update()][1:]
    # only the timed attempt waited: request, time-out
    assert kinds[1:3] == [LOCK_REQUESTED, LOCK_TIMED_OUT]


def test_rlock_reports_depth() -> None:
    log = EventLog()
    rlock = log.tracer.rlock("R")
    with rlock, rlock, rlock:
        pass
    marks = [(e.kind, e.b) for e in log.update() if e.kind in (LOCK_ACQUIRED, LOCK_RELEASED)]
    assert marks == [
        (LOCK_ACQUIRED, 1),
        (LOCK_ACQUIRED, 2),
        (LOCK_ACQUIRED, 3),
        (LOCK_RELEASED, 2),
        (LOCK_RELEASED, 1),
        (LOCK_RELEASED, 0),
    ]
    with pytest.raises(RuntimeError):
        rlock.release()


def test_condition_wait_and_notify_events() -> None:
    log = EventLog()
    lock = log.tracer.lock("L")
    cond = log.tracer.condition("C", lock)
    ready = []

    def waiter() -> None:
        with cond:
            while not ready:
                cond.wait()

    threads = start(waiter)
    (waiter_ident,) = [t.ident for t in threads]
    log.wait_for(lambda: log.of(COND_WAIT, "C", waiter_ident))
    with cond:
        ready.append(True)
        cond.notify()
    join(threads)

    events = [e for e in log.update() if e.subject in ("L", "C")]
    notify = next(e for e in events if e.kind == COND_NOTIFY)
    assert notify.a == 1 and notify.thread != waiter_ident
    woken = [e for e in events if e.kind == COND_WOKEN and e.a is True]
    assert len(woken) == 1 and woken[0].thread == waiter_ident
    assert events.index(notify) < events.index(woken[0])
    # The waiter gives the lock up in every wait and has it back before each wake-up
    # (its sliced wait may wake early and go round the loop again).
    mine = [e.kind for e in events if e.thread == waiter_ident]
    for index, kind in enumerate(mine):
        if kind == COND_WAIT:
            assert mine[index + 1] == LOCK_RELEASED
        if kind == COND_WOKEN:
            assert mine[index - 1] == LOCK_ACQUIRED
    assert holders_replay(events, "L") == []


def test_notify_with_nobody_waiting_records_nothing_and_still_checks_the_holder() -> None:
    """A notify nobody waits for is skipped (an add notifies every time), but a notify
    by a thread that does not hold the lock is still the standard library's error."""
    log = EventLog()
    lock = log.tracer.lock("L")
    rlock = log.tracer.rlock("R")
    for owner in (lock, rlock):
        cond = log.tracer.condition(f"C-{owner.name}", owner)
        assert not owner._is_owned()
        with pytest.raises(RuntimeError, match="un-acquired"):
            cond.notify()
        with cond:
            assert owner._is_owned()
            cond.notify()
            cond.notify_all()
        assert not owner._is_owned()
    held = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            done.wait(5)

    threads = start(hold)
    assert held.wait(5)
    assert not lock._is_owned()  # held, but by another thread
    done.set()
    join(threads)
    assert log.of(COND_NOTIFY) == []


def test_condition_wait_times_out() -> None:
    log = EventLog()
    cond = log.tracer.condition("C", log.tracer.lock("L"))
    with cond:
        assert cond.wait(0.02) is False  # shorter than one slice: a plain timeout
        start_time = time.monotonic()
        # Longer waits are sliced and may return early, so keep a deadline (as wait_for does).
        assert cond.wait_for(lambda: False, timeout=0.12) is False
        assert time.monotonic() - start_time >= 0.12
    assert log.of(COND_WOKEN, "C")[-1].a is False


def test_condition_over_rlock_releases_every_level_while_waiting() -> None:
    log = EventLog()
    rlock = log.tracer.rlock("R")
    cond = log.tracer.condition("C", rlock)
    with rlock, cond:  # depth 2
        cond.wait(0.01)
        assert rlock.depth == 2
    marks = [(e.kind, e.b) for e in log.update() if e.subject == "R"]
    assert marks[1:] == [
        (LOCK_ACQUIRED, 1),
        (LOCK_ACQUIRED, 2),
        (LOCK_RELEASED, 0),  # wait() let go of both levels at once
        (LOCK_ACQUIRED, 2),  # and took both back
        (LOCK_RELEASED, 1),
        (LOCK_RELEASED, 0),
    ]


def test_semaphore_never_exceeds_its_permits() -> None:
    log = EventLog()
    sem = log.tracer.semaphore("S", 2)
    inside = [0]
    seen = []
    guard = threading.Lock()

    def user() -> None:
        for _ in range(100):
            with sem:
                with guard:
                    inside[0] += 1
                    seen.append(inside[0])
                time.sleep(0)
                with guard:
                    inside[0] -= 1

    join(start(*[user] * 6))
    assert max(seen) <= 2
    in_use = 0
    peak = 0
    for e in log.update():
        if e.subject != "S":
            continue
        if e.kind == LOCK_ACQUIRED:
            in_use += 1
            assert e.a == PERMIT and e.b == in_use <= 2
        elif e.kind == LOCK_RELEASED:
            in_use -= 1
            assert e.b == in_use
        peak = max(peak, in_use)
    assert in_use == 0
    assert peak == 2
    assert log.of(LOCK_CREATED, "S")[0].a == "Semaphore(2)"


def test_untraced_tracer_gives_plain_primitives() -> None:
    tracer = Tracer()
    assert type(tracer.lock("L")) is type(threading.Lock())
    assert type(tracer.rlock("R")) is type(threading.RLock())
    assert type(tracer.condition("C")) is threading.Condition
    assert type(tracer.semaphore("S", 2)) is threading.Semaphore


def test_abort_unwinds_a_real_deadlock() -> None:
    """Two threads, two locks, opposite order: Stop ends both within 2 s."""
    log = EventLog()
    first, second = log.tracer.lock("A"), log.tracer.lock("B")
    both_hold = threading.Barrier(2, timeout=5)
    outcomes: dict[str, BaseException | None] = {}

    def crosser(name: str, mine, theirs) -> Callable[[], None]:
        def run() -> None:
            try:
                with mine:
                    both_hold.wait()
                    with theirs:
                        outcomes[name] = None
            except BaseException as exc:
                outcomes[name] = exc

        return run

    threads = start(crosser("t1", first, second), crosser("t2", second, first))
    idents = [t.ident for t in threads]
    # Deadlocked: each has asked for the lock the other holds, naming it as holder.
    log.wait_for(lambda: len(log.of(LOCK_REQUESTED)) == 2)
    requests = {e.thread: (e.subject, e.b) for e in log.of(LOCK_REQUESTED)}
    assert requests == {idents[0]: ("B", idents[1]), idents[1]: ("A", idents[0])}

    aborted_at = time.monotonic()
    log.tracer.gate.abort()
    join(threads, timeout=2.0)
    assert time.monotonic() - aborted_at < 2.0
    assert all(isinstance(outcomes[name], RunStopped) for name in ("t1", "t2")), outcomes
    assert not first.locked() and not second.locked()


@pytest.mark.parametrize("factory", ["lock", "rlock"])
def test_abort_during_condition_wait_raises_run_stopped(factory: str) -> None:
    """Stop while a waiter must take the lock back, held by another thread.

    The waiter cannot get the lock back, so it must unwind with RunStopped and
    leave the other thread's hold alone (not release it, not raise RuntimeError).
    """
    log = EventLog()
    lock = getattr(log.tracer, factory)("L")
    cond = log.tracer.condition("C", lock)
    outcome: list[BaseException] = []

    def waiter() -> None:
        try:
            with cond:
                while True:
                    cond.wait()
        except BaseException as exc:
            outcome.append(exc)

    threads = start(waiter)
    log.wait_for(lambda: log.of(COND_WAIT, "C"))
    lock.acquire()
    try:
        log.tracer.gate.abort()
        join(threads, timeout=2.0)
        assert len(outcome) == 1 and isinstance(outcome[0], RunStopped), outcome
        assert lock.owner == threading.get_ident()  # still ours
    finally:
        with pytest.raises(RunStopped):  # releasing at a stopped gate still releases, then raises
            lock.release()
    assert lock.owner is None


def test_a_long_wait_reports_the_line_the_thread_is_stuck_on():
    """Past one wait slice, a blocked thread says where it waits (for the code panel);
    a brief contention does not pay for finding that line."""
    from pathlib import Path

    import visualizer.events as events
    from visualizer.queues.traced import WAIT_SLICE

    recorder = events.Recorder()
    lock = Tracer(recorder).lock("queue")
    holding, release = threading.Event(), threading.Event()

    def holder():
        with lock:
            holding.set()
            release.wait(30)

    def waiter():
        with lock:  # the line the event must name
            pass

    first = threading.Thread(target=holder, name="holder")
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=waiter, name="waiter")
    second.start()
    deadline = time.monotonic() + 30
    blocked = []
    while not blocked and time.monotonic() < deadline:
        blocked = [e for e in recorder.drain().events if e[2] == events.THREAD_BLOCKED]
        if not blocked:
            release.wait(WAIT_SLICE)
    release.set()
    first.join(30)
    second.join(30)

    assert len(blocked) == 1
    _t, ident, _kind, label, (file, line), _b = blocked[0]
    assert ident == second.ident and label == "waiting for lock 'queue'"
    assert file == __file__
    source = Path(__file__).read_text(encoding="utf-8").splitlines()[line - 1]
    assert "with lock:  # the line the event must name" in source

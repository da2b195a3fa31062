"""The read-write lock: readers share, writers are alone, and the policy decides who starves.

The starvation tests are deterministic: each reader and the writer is a thread
driven by events of the test (enter, leave), and the test waits for the lock's
own events (requested, acquired) before taking the next step, so the outcome
does not depend on timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from visualizer.events import (
    LOCK_ACQUIRED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    READ,
    WRITE,
    Event,
    Recorder,
)
from visualizer.queues import RunStopped, Tracer
from visualizer.queues.rwlock import ReadWriteLock

# Every test here runs on both tracing fast paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")


class Harness:
    """A traced read-write lock, its events, and threads that hold it on command."""

    def __init__(self, prefer_writers: bool = False) -> None:
        self.recorder = Recorder()
        self.tracer = Tracer(self.recorder)
        self.lock: ReadWriteLock = self.tracer.rwlock("rw", prefer_writers)
        self.events: list[Event] = []
        self.threads: dict[str, threading.Thread] = {}
        self.started: dict[str, int] = {}  # thread name -> index of the first event it can own
        self.leave: dict[str, threading.Event] = {}
        self.errors: list[BaseException] = []

    def update(self) -> list[Event]:
        self.events.extend(Event(*raw) for raw in self.recorder.drain().events)
        return self.events

    def ident(self, name: str) -> int:
        return self.threads[name].ident

    def name_of(self, index: int, ident: int) -> str:
        """Which of our threads made event ``index``.

        Idents are reused once a thread ends, so it is the latest thread with
        that ident started before the event.
        """
        return max(
            (start, name)
            for name, start in self.started.items()
            if start <= index and self.threads[name].ident == ident
        )[1]

    def has(self, kind: int, name: str) -> bool:
        events = self.update()
        return any(
            e.kind == kind and self.name_of(i, e.thread) == name
            for i, e in enumerate(events[self.started[name] :], self.started[name])
        )

    def wait_for(self, kind: int, name: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.has(kind, name):
            assert time.monotonic() < deadline, f"{name}: no event {kind} in time"
            time.sleep(0.001)

    def hold(self, name: str, mode: str) -> None:
        """Start a thread that takes the lock in ``mode`` and keeps it until released."""
        leave = self.leave[name] = threading.Event()
        locked = self.lock.read_locked if mode == READ else self.lock.write_locked

        def run() -> None:
            try:
                with locked():
                    leave.wait(10)
            except BaseException as exc:
                self.errors.append(exc)

        self.threads[name] = thread = threading.Thread(target=run, name=name)
        self.started[name] = len(self.update())
        thread.start()

    def release(self, name: str) -> None:
        self.leave[name].set()
        self.threads[name].join(5)
        assert not self.threads[name].is_alive()

    def order(self, kind: int) -> list[str]:
        """Thread names in the order of their ``kind`` events."""
        events = self.update()
        return [self.name_of(i, e.thread) for i, e in enumerate(events) if e.kind == kind]

    def finish(self) -> None:
        """Let every holder go at once (one may still be waiting behind another)."""
        for leave in self.leave.values():
            leave.set()
        for thread in self.threads.values():
            thread.join(5)
            assert not thread.is_alive()
        assert self.errors == []


@pytest.fixture
def harness_factory():
    made: list[Harness] = []

    def make(prefer_writers: bool = False) -> Harness:
        made.append(Harness(prefer_writers))
        return made[-1]

    yield make
    for harness in made:  # end every holder even when an assertion failed
        for leave in harness.leave.values():
            leave.set()
        for thread in harness.threads.values():
            thread.join(5)


def test_readers_overlap(harness_factory: Callable[..., Harness]) -> None:
    h = harness_factory()
    for name in ("r1", "r2", "r3"):
        h.hold(name, READ)
    for name in ("r1", "r2", "r3"):
        h.wait_for(LOCK_ACQUIRED, name)
    assert sorted(h.lock.readers) == sorted(h.ident(n) for n in ("r1", "r2", "r3"))
    assert [e.b for e in h.update() if e.kind == LOCK_ACQUIRED] == [1, 2, 3]  # readers inside
    h.finish()
    assert h.lock.readers == []


def test_writer_is_exclusive(harness_factory: Callable[..., Harness]) -> None:
    h = harness_factory()
    h.hold("w1", WRITE)
    h.wait_for(LOCK_ACQUIRED, "w1")
    h.hold("r1", READ)
    h.hold("w2", WRITE)
    h.wait_for(LOCK_REQUESTED, "r1")
    h.wait_for(LOCK_REQUESTED, "w2")
    requested = {e.thread: e.b for e in h.update() if e.kind == LOCK_REQUESTED}
    assert requested[h.ident("r1")] == h.ident("w1")  # names the writer inside
    h.release("w1")
    h.finish()
    # whoever went next, nobody was inside together with a writer
    inside: dict[int, str] = {}
    for e in h.update():
        if e.kind == LOCK_ACQUIRED:
            if e.a == WRITE:
                assert not inside
            else:
                assert WRITE not in inside.values()
            inside[e.thread] = e.a
        elif e.kind == LOCK_RELEASED:
            del inside[e.thread]


def test_reader_preferring_lets_readers_pass_a_waiting_writer(
    harness_factory: Callable[..., Harness],
) -> None:
    """Overlapping readers hand the lock on to each other; the writer waits them all out."""
    h = harness_factory(prefer_writers=False)
    h.hold("r1", READ)
    h.wait_for(LOCK_ACQUIRED, "r1")
    h.hold("writer", WRITE)
    h.wait_for(LOCK_REQUESTED, "writer")
    previous = "r1"
    for number in range(2, 6):  # each new reader enters before the previous one leaves
        name = f"r{number}"
        h.hold(name, READ)
        h.wait_for(LOCK_ACQUIRED, name)  # let in at once, although a writer is waiting
        h.release(previous)
        assert not h.has(LOCK_ACQUIRED, "writer")  # the reader count never reached zero
        previous = name
    assert not h.has(LOCK_REQUESTED, "r5")  # no reader ever had to wait
    h.release(previous)
    h.wait_for(LOCK_ACQUIRED, "writer")
    h.finish()
    assert h.order(LOCK_ACQUIRED) == ["r1", "r2", "r3", "r4", "r5", "writer"]


def test_writer_preferring_stops_new_readers_behind_a_waiting_writer(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(prefer_writers=True)
    h.hold("r1", READ)
    h.wait_for(LOCK_ACQUIRED, "r1")
    h.hold("writer", WRITE)
    h.wait_for(LOCK_REQUESTED, "writer")
    h.hold("r2", READ)
    h.wait_for(LOCK_REQUESTED, "r2")  # r2 queues behind the waiting writer ...
    assert not h.has(LOCK_ACQUIRED, "r2")
    h.release("r1")
    h.wait_for(LOCK_ACQUIRED, "writer")  # ... so the writer goes as soon as r1 leaves
    assert not h.has(LOCK_ACQUIRED, "r2")
    h.release("writer")
    h.wait_for(LOCK_ACQUIRED, "r2")
    h.finish()
    assert h.order(LOCK_ACQUIRED) == ["r1", "writer", "r2"]


def test_abort_unwinds_a_waiting_writer(harness_factory: Callable[..., Harness]) -> None:
    h = harness_factory()
    h.hold("r1", READ)
    h.wait_for(LOCK_ACQUIRED, "r1")
    h.hold("writer", WRITE)
    h.wait_for(LOCK_REQUESTED, "writer")
    h.tracer.gate.abort()
    h.threads["writer"].join(2.0)
    assert not h.threads["writer"].is_alive()
    assert len(h.errors) == 1 and isinstance(h.errors[0], RunStopped)
    assert h.lock.writers_waiting == 0
    h.errors.clear()
    h.finish()


def test_untraced_rwlock_records_nothing() -> None:
    tracer = Tracer()
    lock = tracer.rwlock("rw", prefer_writers=True)
    with lock.read_locked():
        assert lock.readers == [threading.get_ident()]
    with lock.write_locked():
        assert lock.writer == threading.get_ident()
    assert lock.kind_label == "RWLock (writer-preferring)"

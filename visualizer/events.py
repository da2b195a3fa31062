"""Event kinds, the event record, and the recorder that threads append to.

Why raw tuples: a traced point is hit several times per queue operation, so the
hot path must cost little more than building a tuple and one ``list.append``
(a single atomic C call under the GIL, needing no lock of our own).  Every event
is a 6-tuple with the layout of :class:`Event`::

    (t_ns, thread_ident, kind, subject, a, b)

(With the C speedups the fast paths make no tuple at all: the recorder's store
keeps a C record per event and makes the tuple only for a consumer in this
process that asks for one; see :class:`Recorder`.)

``subject`` is a lock name, a task id or a thread name; ``a`` and ``b`` depend on
the kind (see :data:`KIND_FIELDS`).  Readers that want names use ``Event(*raw)``.

Ordering: the buffer's append order *is* the order of the stream.  Traced locks
append ``LOCK_ACQUIRED`` after acquiring and ``LOCK_RELEASED`` before releasing,
so for any one lock the stream never shows two holders at once, even though a
thread switch can fall between taking a time stamp and appending.  With the C
speedups an uncontended hold is one ``LOCK_HELD`` at its release, and a hold
that must be seen sooner (someone waits for it, the run pauses in it, a drain
comes) has its ``LOCK_ACQUIRED`` appended then, stamped with when it began: so
a lock's events keep this order, but a thread's events are in time order only
once sorted by time (see :func:`expand_held`).  Sequence
numbers are given out by the single consumer as it drains, so they are dense and
match the stream order exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from time import perf_counter_ns
from typing import Any, ClassVar, NamedTuple, Protocol


class Kind(IntEnum):
    """What happened.  Plain ints on the hot path; IntEnum for readers."""

    # Threads (subject = thread name, a = role).
    THREAD_STARTED = 1
    THREAD_ENDED = 2  # b = CPU seconds the thread used (time.thread_time), or None
    THREAD_CPU = 3  # subject = thread name, a = CPU seconds used so far (a live sample)
    # Locks of every sort (subject = lock name, a = mode, b = depth or count).
    LOCK_CREATED = 9  # a = type label ("Lock", "RLock", "Semaphore(3)", ...)
    LOCK_REQUESTED = 10  # only when the lock was contended: the thread must wait
    LOCK_ACQUIRED = 11
    LOCK_RELEASED = 12  # appended while still holding, just before the release
    LOCK_TIMED_OUT = 13  # an acquire with a timeout gave up
    # A whole uncontended hold, recorded at its end: LOCK_ACQUIRED at ``b`` (depth 1)
    # and LOCK_RELEASED at ``t_ns`` (depth 0) in one event (see :func:`expand_held`).
    LOCK_HELD = 14  # a = mode, b = when it was acquired (ns)
    # Conditions (subject = condition name).
    COND_WAIT = 20  # a = timeout (s) or None
    COND_WOKEN = 21  # a = True if notified, False on timeout
    COND_NOTIFY = 22  # a = how many waiters were asked to wake
    # Tasks (subject = task id).
    TASK_ADDED = 30  # a = priority, b = the queue's added-counter after this add
    TASK_POPPED = 31  # a = priority; the task is now "processing"
    TASK_STARTED = 32  # the worker begins the work (engine level)
    TASK_COMPLETED = 33  # a = status before
    TASK_CANCELLED = 34  # a = status before
    HEAP_DISCARDED = 35  # a cancelled entry left the heap (lazy deletion)
    # Run control and the checker.
    GATE_WAIT = 40  # subject = checkpoint label: the thread is parked at a step gate
    THREAD_BLOCKED = 41  # subject = what it waits for, a = (file, line): blocked a whole slice
    VIOLATION = 50  # subject = violation kind, a = task id or lock, b = detail text
    MARK = 60  # subject = free text (run started, stopped, scenario phase)


# Hot-path aliases: module-level ints are cheaper than enum attribute lookups.
THREAD_STARTED = int(Kind.THREAD_STARTED)
THREAD_ENDED = int(Kind.THREAD_ENDED)
THREAD_CPU = int(Kind.THREAD_CPU)
LOCK_CREATED = int(Kind.LOCK_CREATED)
LOCK_REQUESTED = int(Kind.LOCK_REQUESTED)
LOCK_ACQUIRED = int(Kind.LOCK_ACQUIRED)
LOCK_RELEASED = int(Kind.LOCK_RELEASED)
LOCK_TIMED_OUT = int(Kind.LOCK_TIMED_OUT)
LOCK_HELD = int(Kind.LOCK_HELD)
COND_WAIT = int(Kind.COND_WAIT)
COND_WOKEN = int(Kind.COND_WOKEN)
COND_NOTIFY = int(Kind.COND_NOTIFY)
TASK_ADDED = int(Kind.TASK_ADDED)
TASK_POPPED = int(Kind.TASK_POPPED)
TASK_STARTED = int(Kind.TASK_STARTED)
TASK_COMPLETED = int(Kind.TASK_COMPLETED)
TASK_CANCELLED = int(Kind.TASK_CANCELLED)
HEAP_DISCARDED = int(Kind.HEAP_DISCARDED)
GATE_WAIT = int(Kind.GATE_WAIT)
THREAD_BLOCKED = int(Kind.THREAD_BLOCKED)
VIOLATION = int(Kind.VIOLATION)
MARK = int(Kind.MARK)

# Task statuses: where a task is (every view's colours and counts), and the ``a``
# ("status before") of TASK_COMPLETED and TASK_CANCELLED.
QUEUED = "queued"
PROCESSING = "processing"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUSES = (QUEUED, PROCESSING, COMPLETED, CANCELLED)
TERMINAL = frozenset((COMPLETED, CANCELLED))

# Violation kinds: the ``subject`` of VIOLATION events, the checker's reports, the
# names scenario files expect.  A run records WORKER_ERROR itself; the checker finds
# the others in the stream.
DOUBLE_DELIVERY = "double-delivery"
LOST_TASK = "lost-task"
LOST_UPDATE = "lost-update"
ILLEGAL_TRANSITION = "illegal-transition"
ORPHANED_LOCK = "orphaned-lock"
DEADLOCK = "deadlock"
DUPLICATE_ID = "duplicate-id"
WORKER_ERROR = "worker-error"
VIOLATION_KINDS = (
    DOUBLE_DELIVERY,
    LOST_TASK,
    LOST_UPDATE,
    ILLEGAL_TRANSITION,
    ORPHANED_LOCK,
    DEADLOCK,
    DUPLICATE_ID,
    WORKER_ERROR,
)
STUCK_KINDS = frozenset((DEADLOCK, ORPHANED_LOCK))
"""Violations after which a run's threads can never all finish by themselves."""

PAUSED_MARK = "paused"
RESUMED_MARK = "resumed"
STEP_MARK = "step"
"""MARKs a run records when it is paused, resumed and stepped (``b``: the stepped
thread's ident, if known): the model's run clock stands still while paused."""

CAUGHT = "caught"
"""``a`` of a MARK telling of an exception a thread handled: subject is the sentence,
``b`` is ``(file, raised line, skipped line)`` (see ``Context.caught``)."""

# Lock modes carried in ``a`` of lock events.

EXCLUSIVE = "x"
READ = "r"
WRITE = "w"
PERMIT = "s"  # a semaphore permit

MAX_TEXT = 4096
"""Longest string an event may carry: what a log reader accepts (see recording/schema.py).

Names and labels are far shorter; only text the run composes from an exception
could be longer, and :func:`clip_text` shortens that before it is recorded."""


def clip_text(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT` characters (marked with an ellipsis when cut)."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "\u2026"


KIND_FIELDS: dict[Kind, tuple[str, str, str]] = {
    Kind.THREAD_STARTED: ("thread name", "role", "-"),
    Kind.THREAD_ENDED: ("thread name", "role", "CPU seconds or None"),
    Kind.THREAD_CPU: ("thread name", "CPU seconds so far", "-"),
    Kind.LOCK_CREATED: ("lock", "type", "-"),
    Kind.LOCK_REQUESTED: ("lock", "mode", "holder ident(s) or None"),
    Kind.LOCK_ACQUIRED: ("lock", "mode", "depth / readers / permits in use"),
    Kind.LOCK_RELEASED: ("lock", "mode", "depth / readers / permits left in use"),
    Kind.LOCK_TIMED_OUT: ("lock", "mode", "-"),
    Kind.LOCK_HELD: ("lock", "mode", "acquired at (ns)"),
    Kind.COND_WAIT: ("condition", "timeout", "-"),
    Kind.COND_WOKEN: ("condition", "notified", "-"),
    Kind.COND_NOTIFY: ("condition", "count", "-"),
    Kind.TASK_ADDED: ("task", "priority", "added counter"),
    Kind.TASK_POPPED: ("task", "priority", "-"),
    Kind.TASK_STARTED: ("task", "-", "-"),
    Kind.TASK_COMPLETED: ("task", "status before", "-"),
    Kind.TASK_CANCELLED: ("task", "status before", "-"),
    Kind.HEAP_DISCARDED: ("task", "-", "-"),
    Kind.GATE_WAIT: ("checkpoint", "-", "-"),
    Kind.THREAD_BLOCKED: ("what it waits for", "(file, line)", "-"),
    Kind.VIOLATION: ("violation", "task or lock", "detail"),
    Kind.MARK: ("text", "'caught' or -", "(file, raised line, skipped line) or -"),
}


def expand_held(events: Iterable[tuple]) -> Iterator[tuple]:
    """The events with each ``LOCK_HELD`` as the acquisition and release it stands for.

    For readers that want every hold as two events (a trace's begin and end).  The
    acquisition keeps its own time, earlier than the events before it in the
    stream that happened during the hold: sort by time for a thread's own order.
    """
    for event in events:
        if event[2] == LOCK_HELD:
            t, ident, _, lock, mode, since = event
            yield (since, ident, LOCK_ACQUIRED, lock, mode, 1)
            yield (t, ident, LOCK_RELEASED, lock, mode, 0)
        else:
            yield event


class Event(NamedTuple):
    """A readable view of one raw event tuple (same field order)."""

    t_ns: int
    thread: int
    kind: int
    subject: object
    a: object = None
    b: object = None


@dataclass(frozen=True, slots=True)
class Batch:
    """Events drained together; ``first_seq`` numbers the first of them."""

    first_seq: int
    events: list[tuple]
    dropped: int  # dropped by the recorder since the previous batch

    def numbered(self):
        """Yield ``(seq, raw_event)`` pairs."""
        return enumerate(self.events, self.first_seq)


@dataclass(frozen=True, slots=True)
class BlockBatch:
    """Events drained together as parts: each a block of the compact binary form (or,
    where the form could not hold a value, a list of tuples), its count of events, and
    the idents of the threads it names.  ``first_seq`` numbers the first event."""

    first_seq: int
    parts: list[tuple[bytes | list[tuple], int, list[int]]]
    dropped: int  # dropped by the recorder since the previous batch


class EventSource(Protocol):
    """What a consumer of a run's events uses: a :class:`Recorder`, or the stream of a
    run in another process (``visualizer.engine.host.stream.EventStream``)."""

    backlog: int | None
    dropped: int

    def drain(self, limit: int | None = None) -> Batch: ...
    def pending(self) -> int: ...
    def thread_name(self, ident: int) -> str: ...
    @property
    def next_seq(self) -> int: ...


class Recorder:
    """Bounded, thread-safe event buffer with one consumer.

    Where the events wait: a list of tuples, or, once the C speedups are loaded,
    their ``Store`` (:attr:`store_factory`), which keeps what the traced locks'
    fast paths record as C records and makes tuples only for a consumer that
    asks for them (:meth:`drain`); :meth:`drain_blocks` hands them out in the
    compact binary form the run process sends to the window.  Both keep every
    event in the order it was appended.

    Producers call :meth:`record` (or the bound :attr:`append` with a ready
    tuple).  ``list.append`` is atomic, so recording takes no lock.  The single
    consumer calls :meth:`drain`; if more than ``capacity`` events are waiting it
    keeps the newest ``capacity`` and counts the rest in :attr:`dropped`, so a
    consumer that falls behind never makes memory grow past one drain interval's
    worth beyond the bound, and nothing is lost without being counted.

    Backpressure, so that nothing need be dropped at all: a consumer that wants
    every event sets :attr:`backlog` (events waiting before producers should
    yield), and run threads call :meth:`throttle` between tasks.  Above the
    backlog they sleep until the consumer has drained, which also hands the GIL
    to the consumer: eight threads running flat out would otherwise leave the
    GUI thread a ninth of the interpreter and far more events than it can fold.
    Nothing on the per-event path changes; throttle costs one ``len`` per task.
    """

    store_factory: ClassVar[Callable[[], Any] | None] = None
    """Makes the event store of new recorders (None: a list).  The C speedups set it
    (``visualizer.queues.speedups``) when they load."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        if capacity < 1:
            raise ValueError("recorder capacity must be at least 1")
        self.capacity = capacity
        factory = Recorder.store_factory
        self._store: Any = factory() if factory is not None else None
        self._buffer: list[tuple] = []  # appended at the end, taken from the front
        self.append: Callable[[tuple], None] = (
            self._buffer.append if self._store is None else self._store.append
        )
        self._taken = 0  # entries at the front already handed out (deleted in bulk)
        self._next_seq = 0
        self.dropped = 0
        self._names: dict[int, str] = {}
        self.backlog: int | None = None  # off until a consumer asks for backpressure
        self._drained = threading.Condition(threading.Lock())
        # Called first thing in every drain: the C speedups' publish_pending, so that a
        # hold still going on is in the batch (see visualizer/queues/_speedups.c).
        self.before_drain: list[Callable[[], object]] = []

    def record(self, kind: int, subject: object, a: object = None, b: object = None) -> None:
        """Append one event stamped with the time and the calling thread."""
        self.append((perf_counter_ns(), threading.get_ident(), kind, subject, a, b))

    def register_thread(self, role: str) -> None:
        """Announce the calling thread by name (call first thing in a thread)."""
        thread = threading.current_thread()
        self._names[threading.get_ident()] = thread.name
        self.record(THREAD_STARTED, thread.name, role)

    def thread_name(self, ident: int) -> str:
        """The name a thread registered with, else its live name, else its ident."""
        name = self._names.get(ident)
        if name is None:
            for thread in threading.enumerate():
                if thread.ident == ident:
                    name = self._names[ident] = thread.name
                    break
            else:
                name = f"thread-{ident}"
        return name

    def pending(self) -> int:
        if self._store is not None:
            return len(self._store)
        return len(self._buffer) - self._taken

    def throttle(self, timeout: float = 0.1) -> None:
        """Wait (at most ``timeout``) while more than :attr:`backlog` events wait.

        Call it only where the thread holds no lock.  The timeout keeps a thread
        moving if the consumer has gone away; Stop is never held up longer.
        """
        backlog = self.backlog
        if backlog is None or self.pending() <= backlog:
            return
        with self._drained:
            self._drained.wait_for(lambda: self.pending() <= backlog // 2, timeout)

    def drain(self, limit: int | None = None) -> Batch:
        """Take waiting events (at most ``limit``) in stream order."""
        for hook in self.before_drain:
            hook()
        if self._store is not None:
            self._store.anchor()
            dropped = self._drop_excess()
            events = self._store.take(len(self._store) if limit is None else limit)
            return self._batch(events, dropped)
        buffer = self._buffer
        start = self._taken
        waiting = len(buffer) - start
        dropped = 0
        # Producers only ever append at the end, one atomic list.append each, so the
        # entries from ``start`` on stay put while we copy them out (one call into C,
        # atomic under the GIL): whatever is appended meanwhile lands after them and
        # waits for the next drain.  No Python step per event.
        if waiting > self.capacity:
            dropped = waiting - self.capacity
            start += dropped
            self.dropped += dropped
            waiting = self.capacity
        count = waiting if limit is None else min(limit, waiting)
        events = buffer[start : start + count]
        start += count
        if start * 2 >= len(buffer):
            # What was handed out goes in one delete once it is half the list or more,
            # so each entry is moved a bounded number of times whatever the limit.
            del buffer[:start]
            start = 0
        self._taken = start
        return self._batch(events, dropped)

    def drain_blocks(self, limit: int, per_block: int) -> BlockBatch | None:
        """Take waiting events (at most ``limit``) as blocks of at most ``per_block``
        events in the compact binary form (``visualizer/_block.h``), for another
        process to decode; None where the events are kept as a list (no C speedups).

        A block that would hold a value the form cannot (only plain values are
        events, but a user's queue may record its own objects) goes as a list of
        tuples instead.
        """
        store = self._store
        if store is None:
            return None
        for hook in self.before_drain:
            hook()
        store.anchor()
        dropped = self._drop_excess()
        first_seq = self._next_seq + dropped
        parts: list[tuple[bytes | list[tuple], int, list[int]]] = []
        left = min(limit, len(store))
        while left > 0:
            try:
                part = store.take_block(min(left, per_block))
            except (TypeError, ValueError, OverflowError):  # nothing was taken
                events = store.take(min(left, per_block))
                part = (events, len(events), [event[1] for event in events])
            parts.append(part)
            left -= part[1]
        taken = sum(part[1] for part in parts)
        self._next_seq += dropped + taken
        self._notify_drained()
        return BlockBatch(first_seq, parts, dropped)

    def _drop_excess(self) -> int:
        """Forget (and count) the oldest waiting events beyond the capacity."""
        dropped = len(self._store) - self.capacity
        if dropped <= 0:
            return 0
        self._store.discard(dropped)
        self.dropped += dropped
        return dropped

    def _batch(self, events: list[tuple], dropped: int) -> Batch:
        batch = Batch(self._next_seq + dropped, events, dropped)
        self._next_seq += dropped + len(events)
        self._notify_drained()
        return batch

    def _notify_drained(self) -> None:
        if self.backlog is not None:
            with self._drained:
                self._drained.notify_all()

    @property
    def next_seq(self) -> int:
        """Sequence number the next drained event will get."""
        return self._next_seq

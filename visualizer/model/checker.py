"""The invariant checker: folds the event stream and says, in plain words, what broke.

A safe strategy promises that no task is handed out twice, none is lost, every
status change is legal, the added-counter counts every add, no thread dies
holding a lock, and threads never wait for each other in a circle.  Each promise
can be checked from the events alone, at the moment it breaks, so the anomaly
panel can point at the exact event (``seq``) and threads involved.

Each broken task is reported once: after a double delivery, the second worker's
completion of the same task is a consequence, not news, and would drown the
first report in an unsafe run.  If the recorder dropped events, checks that a
missing event could fake (an illegal transition, a lost task, a deadlock, an
orphaned lock) are switched off from then on; the drop count itself is shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, cast

from visualizer.events import (
    CANCELLED,
    CAUGHT,
    COMPLETED,
    COND_NOTIFY,
    COND_WAIT,
    COND_WOKEN,
    DEADLOCK,
    DOUBLE_DELIVERY,
    DUPLICATE_ID,
    HEAP_DISCARDED,
    ILLEGAL_TRANSITION,
    LOCK_ACQUIRED,
    LOCK_CREATED,
    LOCK_HELD,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    LOST_TASK,
    LOST_UPDATE,
    MARK,
    ORPHANED_LOCK,
    PROCESSING,
    QUEUED,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    VIOLATION,
    Batch,
)
from visualizer.model.locks import LockTable
from visualizer.model.tasks import TaskBoard

_FRAGILE = frozenset((LOST_TASK, ILLEGAL_TRANSITION, ORPHANED_LOCK, DEADLOCK))
"""Kinds a dropped event could fake (a missing pop, release or add)."""

_RING = 4096
"""How many recent counter writes are remembered by writer, to name both sides of a lost update."""

NAMED_IN_CYCLE = 12
"""Threads a deadlock's report names one by one; a longer cycle is summed up."""

PRODUCERS_DONE = "producers done"
"""The mark a run records when its last producer ends, with how many tasks they added."""

COUNTER_WINDOW = 1 << 20
"""Most added-counter values remembered one by one (a byte each), the newest ones."""

Handler = Callable[[int, int, int, Any, Any, Any], None]
"""``handler(seq, t, ident, subject, a, b)``: the last three carry what the event's kind
says (see :class:`~visualizer.events.Kind`), so each handler types them for its kind."""
_DERIVED = frozenset(("_acquired", "_released", "handlers"))
"""Attributes :meth:`InvariantChecker._bind_handlers` makes: rebuilt on unpickling, never saved."""


def _increments(n: int) -> str:
    return "1 increment was" if n == 1 else f"{n} increments were"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant, worded so a lecturer can read ``detail`` aloud.

    ``threads`` names the threads involved; ``idents`` are the same threads by
    ident, in the same order, so an export can put the violation on each one's
    track.  ``locks`` lists every lock involved: for a deadlock, ``locks[i]`` is
    the lock ``threads[i]`` waits for (``lock`` is the first of them).
    """

    kind: str
    t_ns: int
    seq: int
    threads: tuple[str, ...]
    task: Hashable | None
    lock: str | None
    detail: str
    idents: tuple[int, ...] = ()
    locks: tuple[str, ...] = ()
    wall_ns: int = 0  # t_ns as the events' own clock stamps it (t_ns is run time, see clock.py)

    def __reduce__(self) -> tuple[type[Violation], tuple[object, ...]]:
        """Pickled as its fields in order: a replay checkpoint can hold 10,000 of these,
        and the generic state of a slotted dataclass pickles twenty times slower."""
        return (Violation, _violation_fields(self))


_violation_fields = attrgetter(*(f.name for f in fields(Violation)))


class InvariantChecker:
    """Folds batches into task statuses and a lock table, and checks them as it goes.

    ``tasks`` (a :class:`TaskBoard`) and ``locks`` (a :class:`LockTable`) are the
    checker's own state; :class:`~visualizer.model.state.RunModel` shows them
    rather than folding the same events twice.  At most ``max_violations`` are
    kept in :attr:`violations`; :attr:`violation_counts` stays exact.
    """

    def __init__(
        self,
        thread_name: Callable[[int], str] | None = None,
        *,
        keep_finished: int = 10_000,
        max_violations: int = 10_000,
    ) -> None:
        self.tasks = TaskBoard(keep_finished)
        self.locks = LockTable()
        self.violations: list[Violation] = []
        self.violation_counts: Counter[str] = Counter()
        self.max_violations = max_violations
        self.dropped = 0
        self._thread_name = thread_name
        self._names: dict[int, str] = {}
        self._last_seq = -1
        self._last_t = 0
        self._cycles: set[frozenset[int | str]] = set()
        self._orphans: set[tuple[str, int]] = set()
        # Exceptions a thread handled (Context.caught): ident -> (time, sentence, where),
        # where = (file, raised line, skipped line). A lock the thread has held since
        # before that time was never given back because of it.
        self.caught: dict[int, tuple[int, str, object]] = {}
        self._finished = False
        self._produced: int | None = None  # adds the producers made, once they are done
        self.clock_offset = 0  # wall minus run time, kept current by RunModel (clock.py)
        # Lost updates: which added-counter values were written, and recently by whom.
        self._counter_seen = bytearray()  # 1 for each value seen, from _counter_base on
        self._counter_base = 0
        self._counted_adds = 0
        self._highest_counter = 0  # below the number of adds only if an increment was lost
        self._ring_counter: list[int] = [-1] * _RING
        self._ring_ident: list[int] = [0] * _RING
        self._ring_task: list[Hashable] = [None] * _RING
        self._bind_handlers()

    def _bind_handlers(self) -> None:
        """Build the dispatch table: bound methods and closures over ``self.locks``.

        Derived state, so :meth:`__getstate__` leaves it out and :meth:`__setstate__`
        builds it again: a copy (``copy.deepcopy``, or a replay's pickled
        checkpoint) must dispatch to its own lock table, not to the original's
        (a deep copy keeps functions as they are, closures included).
        """
        locks = self.locks
        self._acquired = locks.acquired
        self._released = locks.released
        # kind -> handler(seq, t, ident, subject, a, b) for every kind but acquire and
        # release; RunModel dispatches through it directly, sparing a call per event.
        self.handlers: dict[int, Handler] = {
            TASK_ADDED: self._on_added,
            TASK_POPPED: self._on_popped,
            TASK_COMPLETED: self._on_completed,
            TASK_STARTED: self._on_started,
            LOCK_REQUESTED: self._on_requested,
            TASK_CANCELLED: self._on_cancelled,
            HEAP_DISCARDED: self._on_discarded,
            COND_WAIT: lambda seq, t, ident, name, a, b: locks.cond_wait(ident, name),
            COND_WOKEN: lambda seq, t, ident, name, a, b: locks.cond_woken(ident, name),
            COND_NOTIFY: lambda seq, t, ident, name, a, b: locks.cond_notified(name, a),
            LOCK_TIMED_OUT: lambda seq, t, ident, name, a, b: locks.timed_out(ident),
            LOCK_CREATED: lambda seq, t, ident, name, label, b: locks.created(name, label),
            THREAD_STARTED: self._on_thread_started,
            THREAD_ENDED: self._on_thread_ended,
            VIOLATION: self._on_violation,
            MARK: self._on_mark,
        }

    def __getstate__(self) -> dict[str, object]:
        return {key: value for key, value in vars(self).items() if key not in _DERIVED}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._bind_handlers()

    @property
    def statuses(self) -> dict[Hashable, str]:
        """Task id -> status, as the stream says (not necessarily as the queue thinks)."""
        return self.tasks.status

    # --- folding ---------------------------------------------------------------
    def apply(self, batch: Batch) -> list[Violation]:
        """Fold a batch; returns the violations it revealed."""
        mark = len(self.violations)
        self.note_batch(batch)
        fold = self.fold
        for seq, (t, ident, kind, subject, a, b) in enumerate(batch.events, batch.first_seq):
            fold(seq, t, ident, kind, subject, a, b)
        return self.violations[mark:]

    def note_batch(self, batch: Batch) -> None:
        """Count drops and remember where the stream has got to (for end-of-run reports)."""
        self.dropped += batch.dropped
        if batch.events:
            self._last_seq = batch.first_seq + len(batch.events) - 1
            self._last_t = batch.events[-1][0]

    def fold(self, seq: int, t: int, ident: int, kind: int, subject: Any, a: Any, b: Any) -> None:
        """Fold one event.  Lock traffic, two thirds of all events, skips the table lookup."""
        if kind == LOCK_ACQUIRED:
            self._acquired(t, ident, subject, a, b)
        elif kind == LOCK_RELEASED:
            self._released(t, ident, subject, a, b)
        elif kind == LOCK_HELD:  # a whole uncontended hold: taken at b, let go at t
            self._acquired(b, ident, subject, a, 1)
            self._released(t, ident, subject, a, 0)
        else:
            handler = self.handlers.get(kind)
            if handler is not None:
                handler(seq, t, ident, subject, a, b)

    def finish(self, drained: bool = True) -> list[Violation]:
        """End-of-run checks; returns the violations they found (only the first call counts).

        ``drained`` says the run ended with every produced task dealt with; after a
        user's Stop, tasks still queued or in progress are not lost, so pass False.
        """
        if self._finished:
            return []
        self._finished = True
        mark = len(self.violations)
        if drained:
            self._report_unfinished()
        produced, added = self._produced, self.tasks.added
        if produced is not None and produced > added:
            missing = produced - added
            self._report(
                LOST_TASK,
                self._last_seq,
                self._last_t,
                (),
                f"The producers added {produced} tasks, but the stream shows only {added} "
                f"adds: {missing} {'task' if missing == 1 else 'tasks'} vanished without a "
                "single event (the queue dropped them without a trace).",
            )
        adds, counter = self._counted_adds, self._highest_counter
        if counter < adds:
            self._report(
                LOST_UPDATE,
                self._last_seq,
                self._last_t,
                (),
                f"The queue's added-counter reached only {counter}, but {adds} tasks were "
                f"added: {_increments(adds - counter)} lost.",
            )
        return self.violations[mark:]

    # --- naming ----------------------------------------------------------------
    def name_of(self, ident: int) -> str:
        """A thread's name: as it announced itself, else as the recorder knows it."""
        name = self._names.get(ident)
        if name is None:
            name = self._thread_name(ident) if self._thread_name is not None else ""
            name = name or f"thread-{ident}"
        return name

    def _report(
        self,
        kind: str,
        seq: int,
        t: int,
        threads: tuple[int, ...],
        detail: str,
        *,
        task: Hashable | None = None,
        lock: str | None = None,
        locks: tuple[str, ...] | None = None,
    ) -> None:
        if self.dropped and kind in _FRAGILE:
            return
        if task is not None:
            self.tasks.flagged.add(task)
        self.violation_counts[kind] += 1
        if len(self.violations) < self.max_violations:
            names = tuple(self.name_of(ident) for ident in threads)
            if locks is None:
                locks = () if lock is None else (lock,)
            self.violations.append(
                Violation(
                    kind,
                    t,
                    seq,
                    names,
                    task,
                    lock,
                    detail,
                    tuple(threads),
                    locks,
                    t + self.clock_offset,
                )
            )

    # --- task events -------------------------------------------------------------
    def _on_added(
        self, seq: int, t: int, ident: int, task: Hashable, priority: int, counter: object
    ) -> None:
        before = self.tasks.add(t, ident, task, priority)
        if before is not None and not self.tasks.is_flagged(task):
            self._report(
                DUPLICATE_ID,
                seq,
                t,
                (ident,),
                f"{self.name_of(ident)} added task {task} again while it was {before}.",
                task=task,
            )
        if type(counter) is int and counter > 0:
            self._check_counter(seq, t, ident, task, counter)

    def _check_counter(self, seq: int, t: int, ident: int, task: Hashable, counter: int) -> None:
        """Two adds that leave the same counter value mean one increment was lost.

        The values seen are kept for the last :data:`COUNTER_WINDOW` or so values
        (one byte each): two racing adds write the same value within moments of
        each other, and an increment lost longer ago still shows at the end, as a
        counter short of the adds.
        """
        self._counted_adds += 1
        if counter > self._highest_counter:
            self._highest_counter = counter
        seen = self._counter_seen
        offset = counter - self._counter_base
        if offset < 0:
            return  # older than the window: only the end-of-run comparison covers it
        if offset >= len(seen):
            if counter > 2 * self._counted_adds + len(seen) + self._counter_base + 65_536:
                return  # not a counter of adds: do not let it size our memory
            seen.extend(bytes(offset + 1 - len(seen) + 4096))
            if len(seen) > COUNTER_WINDOW:
                forget = len(seen) - COUNTER_WINDOW // 2
                del seen[:forget]
                self._counter_base += forget
                offset -= forget
                if offset < 0:
                    return
        slot = counter % _RING
        if seen[offset]:
            other = self._ring_ident[slot] if self._ring_counter[slot] == counter else None
            me = self.name_of(ident)
            threads: tuple[int, ...]
            if other is None:
                threads, who = (ident,), f"{me} and an earlier add"
            else:
                threads = (other, ident)
                who = f"{self.name_of(other)} (task {self._ring_task[slot]}) and {me} (task {task})"
            self._report(
                LOST_UPDATE,
                seq,
                t,
                threads,
                f"{who} both set the queue's added-counter to {counter}: "
                "one of the two increments was lost.",
            )
        else:
            seen[offset] = 1
        self._ring_counter[slot] = counter
        self._ring_ident[slot] = ident
        self._ring_task[slot] = task

    def _on_popped(
        self, seq: int, t: int, ident: int, task: Hashable, a: object, b: object
    ) -> None:
        tasks = self.tasks
        previous_worker = tasks.worker_of.get(task)
        before = tasks.pop(t, ident, task)
        if before == QUEUED or tasks.is_flagged(task):
            return
        me = self.name_of(ident)
        if before is None:
            self._report(
                ILLEGAL_TRANSITION,
                seq,
                t,
                (ident,),
                f"{me} received task {task} before it was added.",
                task=task,
            )
        elif before == CANCELLED:
            self._report(
                ILLEGAL_TRANSITION,
                seq,
                t,
                (ident,),
                f"{me} received task {task} after it had been cancelled.",
                task=task,
            )
        elif previous_worker is None:
            self._report(
                DOUBLE_DELIVERY,
                seq,
                t,
                (ident,),
                f"{me} received task {task}, which had already been handed out.",
                task=task,
            )
        else:
            self._report(
                DOUBLE_DELIVERY,
                seq,
                t,
                (previous_worker, ident),
                f"{self.name_of(previous_worker)} and {me} both received task {task}.",
                task=task,
            )

    def _on_completed(
        self, seq: int, t: int, ident: int, task: Hashable, a: object, b: object
    ) -> None:
        before = self.tasks.complete(t, ident, task)
        if before != PROCESSING and not self.tasks.is_flagged(task):
            self._illegal(seq, t, ident, task, COMPLETED, before)

    def _on_cancelled(
        self, seq: int, t: int, ident: int, task: Hashable, a: object, b: object
    ) -> None:
        before = self.tasks.cancel(t, ident, task)
        if before != QUEUED and not self.tasks.is_flagged(task):
            self._illegal(seq, t, ident, task, CANCELLED, before)

    def _on_started(
        self, seq: int, t: int, ident: int, task: Hashable, a: object, b: object
    ) -> None:
        status = self.tasks.status.get(task)
        if status != PROCESSING and not self.tasks.is_flagged(task):
            self._illegal(seq, t, ident, task, "started work on", status)

    def _illegal(
        self, seq: int, t: int, ident: int, task: Hashable, verb: str, status: str | None
    ) -> None:
        state = "before it was added" if status is None else f"while it was {status}"
        self._report(
            ILLEGAL_TRANSITION,
            seq,
            t,
            (ident,),
            f"{self.name_of(ident)} {verb} task {task} {state}.",
            task=task,
        )

    def _on_discarded(
        self, seq: int, t: int, ident: int, task: Hashable, a: object, b: object
    ) -> None:
        """Only a cancelled task's heap entry may be thrown away; any other is lost with it."""
        status = self.tasks.status.get(task)
        if status != CANCELLED:  # a task cancelled long ago may leave the heap only now
            status = self.tasks.status_of(task)
        if status != CANCELLED and not self.tasks.is_flagged(task):
            self._report(
                LOST_TASK,
                seq,
                t,
                (ident,),
                f"{self.name_of(ident)} threw away the heap entry of task {task} while it was "
                f"{status or 'unknown'}: nobody will ever receive it.",
                task=task,
            )

    def _report_unfinished(self) -> None:
        """After a drained run every task is completed or cancelled; name the rest."""
        tasks = self.tasks
        seq, t = self._last_seq, self._last_t
        for task, status in tasks.status.items():
            if (status != QUEUED and status != PROCESSING) or tasks.is_flagged(task):
                continue
            history = tasks.history(task)
            if status == QUEUED:
                adder = (history[0][2],) if history else ()
                by = f" by {self.name_of(adder[0])}" if adder else ""
                priority = tasks.priority.get(task)
                what = f"Task {task}" if priority is None else f"Task {task} (priority {priority})"
                self._report(
                    LOST_TASK,
                    seq,
                    t,
                    adder,
                    f"{what} was added{by} but never delivered nor cancelled.",
                    task=task,
                )
            else:
                worker = tasks.worker_of.get(task)
                threads = () if worker is None else (worker,)
                who = "A worker" if worker is None else self.name_of(worker)
                self._report(
                    LOST_TASK,
                    seq,
                    t,
                    threads,
                    f"{who} received task {task} but never completed it.",
                    task=task,
                )

    # --- locks and threads -------------------------------------------------------
    def _on_requested(
        self, seq: int, t: int, ident: int, lock: str, mode: str, holder: object
    ) -> None:
        locks = self.locks
        locks.requested(t, ident, lock, mode)
        cycle = locks.cycle_through(ident)
        if cycle is None:
            return
        key = frozenset(cycle)
        if key in self._cycles:
            return
        self._cycles.add(key)
        threads = cast(tuple[int, ...], tuple(cycle[0::2]))  # even places: thread idents
        names = [self.name_of(thread) for thread in threads]
        if len(threads) == 1:
            detail = (
                f"{names[0]} waits for lock '{cycle[1]}', which it already holds itself: "
                "it can never go on (deadlock)."
            )
            detail += self._why_still_held(threads[0], str(cycle[1]))
        else:
            holders = names[1:] + names[:1]
            waits = [
                f"{waiter} waits for lock '{lock}' held by {holder}"
                for waiter, lock, holder in zip(names, cycle[1::2], holders, strict=True)
            ]
            if len(waits) > NAMED_IN_CYCLE:  # a log can hold a cycle of thousands
                more = len(waits) - NAMED_IN_CYCLE
                waits = [*waits[:NAMED_IN_CYCLE], f"... and {more} more threads in the cycle"]
            detail = "; ".join(waits) + ": none of them can ever go on (deadlock)."
        waited = tuple(str(lock) for lock in cycle[1::2])  # threads[i] waits for waited[i]
        named = slice(0, NAMED_IN_CYCLE)  # a cycle of thousands names its first few
        self._report(DEADLOCK, seq, t, threads[named], detail, lock=waited[0], locks=waited[named])

    def _on_thread_started(
        self, seq: int, t: int, ident: int, name: object, role: object, b: object
    ) -> None:
        self._names[ident] = str(name)

    def _on_thread_ended(
        self, seq: int, t: int, ident: int, name: object, role: object, b: object
    ) -> None:
        for lock in self.locks.thread_ended(ident):
            key = (lock, ident)
            if key in self._orphans:
                continue
            self._orphans.add(key)
            self._report(
                ORPHANED_LOCK,
                seq,
                t,
                (ident,),
                f"{self.name_of(ident)} ended while still holding lock '{lock}': "
                "every thread that needs it will wait forever." + self._why_still_held(ident, lock),
                lock=lock,
            )

    def _on_mark(self, seq: int, t: int, ident: int, text: object, a: object, b: object) -> None:
        """Two marks matter here: the producers' count of adds, once they are done (every
        add must be in the stream), and an exception a thread caught (see _why_still_held)."""
        if text == PRODUCERS_DONE and type(a) is int:
            self._produced = a
        elif a == CAUGHT:
            self.caught[ident] = (t, str(text), b)

    def _why_still_held(self, ident: int, lock: str) -> str:
        """ " It still holds it because it caught ...": an exception skipped the release."""
        state = self.locks.locks.get(lock)
        since = state.held_since.get(ident) if state is not None else None
        note = self.caught.get(ident)
        if since is None or note is None or note[0] < since:
            return ""
        return f" It still holds '{lock}' because it {note[1]}."

    def _on_violation(
        self, seq: int, t: int, ident: int, kind: object, target: object, detail: object
    ) -> None:
        """A violation recorded by the run itself (for example a worker's exception).

        The controlled scheduler records a deadlock when no thread can move; a
        wait-for cycle already reported is the same deadlock, told better.
        """
        if kind == DEADLOCK and self._cycles:
            return
        lock = target if isinstance(target, str) and target in self.locks.locks else None
        self._report(
            str(kind),
            seq,
            t,
            (ident,),
            str(detail) if detail else str(kind),
            task=target if lock is None else None,
            lock=lock,
        )

"""The invariant checker on hand-made streams: each kind of break, reported once, in words."""

from __future__ import annotations

from visualizer.events import (
    EXCLUSIVE,
    HEAP_DISCARDED,
    LOCK_ACQUIRED,
    LOCK_CREATED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    PERMIT,
    READ,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    VIOLATION,
    WRITE,
    Batch,
)
from visualizer.model import InvariantChecker, Violation

P1, P2, W1, W2, W3 = 1, 2, 11, 12, 13
NAMES = {P1: "producer-1", P2: "producer-2", W1: "worker-1", W2: "worker-2", W3: "worker-3"}


class Stream:
    """Builds raw event tuples 1 µs apart and feeds them to a checker in one batch."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.seq = 0
        self.checker = InvariantChecker(NAMES.get)

    def __call__(self, ident: int, kind: int, subject: object, a=None, b=None) -> Stream:
        self.events.append((1000 * (self.seq + len(self.events) + 1), ident, kind, subject, a, b))
        return self

    def apply(self, dropped: int = 0) -> list[Violation]:
        batch = Batch(self.seq + dropped, self.events, dropped)  # as Recorder.drain numbers
        self.seq += dropped + len(self.events)
        self.events = []
        return self.checker.apply(batch)

    def add(self, ident: int, task: int, priority: int = 1, counter: int | None = None) -> Stream:
        if counter is None:
            counter = (
                self.checker.tasks.added + len([e for e in self.events if e[2] == TASK_ADDED]) + 1
            )
        return self(ident, TASK_ADDED, task, priority, counter)

    def serve(self, ident: int, task: int) -> Stream:
        self(ident, TASK_POPPED, task, 1)
        self(ident, TASK_STARTED, task)
        return self(ident, TASK_COMPLETED, task, "processing")


def kinds(violations: list[Violation]) -> list[str]:
    return [v.kind for v in violations]


def test_a_clean_stream_has_no_violations() -> None:
    s = Stream()
    s.add(P1, 1).add(P1, 2).add(P2, 3)
    s(P1, TASK_CANCELLED, 3, "queued")
    s.serve(W1, 1).serve(W2, 2)
    s(W2, HEAP_DISCARDED, 3)
    assert s.apply() == []
    assert s.checker.finish() == []
    assert s.checker.tasks.reconciled()
    assert s.checker.statuses == {1: "completed", 2: "completed", 3: "cancelled"}


def test_double_delivery_names_both_workers_once() -> None:
    s = Stream()
    s.add(P1, 17)
    s(W2, TASK_POPPED, 17, 1)
    s(W3, TASK_POPPED, 17, 1)
    s(W2, TASK_COMPLETED, 17, "processing")
    s(W3, TASK_COMPLETED, 17, "processing")  # a consequence, not reported again
    found = s.apply()
    assert kinds(found) == ["double-delivery"]
    v = found[0]
    assert v.threads == ("worker-2", "worker-3")
    assert v.task == 17 and v.lock is None and v.seq == 2 and v.t_ns == 3000
    assert v.detail == "worker-2 and worker-3 both received task 17."
    assert s.checker.finish() == []  # task 17 is already accounted for


def test_a_delivery_after_completion_is_also_double() -> None:
    s = Stream()
    s.add(P1, 4).serve(W1, 4)
    s(W2, TASK_POPPED, 4, 1)
    assert kinds(s.apply()) == ["double-delivery"]


def test_lost_update_of_the_added_counter() -> None:
    s = Stream()
    s.add(P1, 1, counter=1)
    s.add(P1, 2, counter=2)
    s.add(P2, 3, counter=2)  # read 1 before producer-1 wrote 2: one increment lost
    s.add(P1, 4, counter=3)
    for task in (1, 2, 3, 4):
        s.serve(W1, task)
    found = s.apply()
    assert kinds(found) == ["lost-update"]
    assert found[0].threads == ("producer-1", "producer-2")
    assert "producer-1 (task 2) and producer-2 (task 3)" in found[0].detail
    assert "added-counter to 2" in found[0].detail
    at_end = s.checker.finish()
    assert kinds(at_end) == ["lost-update"]
    assert at_end[0].detail == (
        "The queue's added-counter reached only 3, but 4 tasks were added: 1 increment was lost."
    )


def test_illegal_transitions() -> None:
    s = Stream()
    s.add(P1, 1).add(P1, 2).add(P1, 3)
    s(W1, TASK_COMPLETED, 1, "queued")  # completed while queued
    s(W1, TASK_POPPED, 2, 1)
    s(P1, TASK_CANCELLED, 2, "processing")  # cancelled while processing
    s(P1, TASK_CANCELLED, 3, "queued")
    s(W2, TASK_POPPED, 3, 1)  # received after cancellation
    s(W3, TASK_POPPED, 99, 1)  # not added (yet)
    found = s.apply()
    assert kinds(found) == ["illegal-transition"] * 4
    assert [v.task for v in found] == [1, 2, 3, 99]
    assert found[0].detail == "worker-1 completed task 1 while it was queued."
    assert found[1].detail == "producer-1 cancelled task 2 while it was processing."
    assert found[2].detail == "worker-2 received task 3 after it had been cancelled."
    assert found[3].detail == "worker-3 received task 99 before it was added."
    assert s.checker.statuses[99] == "processing"  # shown as the stream says...
    assert not s.checker.tasks.reconciled()  # ...but not counted as added


def test_an_add_recorded_after_the_pop_completes_the_count() -> None:
    """The unsafe queue records its add after the gap, when a worker may have the task."""
    s = Stream()
    s(W1, TASK_POPPED, 5, 1)
    s(W1, TASK_COMPLETED, 5, "processing")
    s.add(P1, 5)
    found = s.apply()
    assert [v.detail for v in found] == ["worker-1 received task 5 before it was added."]
    assert s.checker.statuses[5] == "completed" and s.checker.tasks.reconciled()
    assert [status for _, status, _ in s.checker.tasks.history(5)] == [
        "queued",
        "processing",
        "completed",
    ]
    assert s.checker.finish() == []


def test_work_started_on_a_queued_task_is_illegal() -> None:
    s = Stream()
    s.add(P1, 5)
    s(W1, TASK_STARTED, 5)
    assert [v.detail for v in s.apply()] == ["worker-1 started work on task 5 while it was queued."]


def test_duplicate_id() -> None:
    s = Stream()
    s.add(P1, 8).add(P2, 8)
    found = s.apply()
    assert kinds(found) == ["duplicate-id"]
    assert found[0].detail == "producer-2 added task 8 again while it was queued."
    assert not s.checker.tasks.reconciled()  # two adds, one task


def test_lost_tasks_at_the_end_of_a_drained_run() -> None:
    s = Stream()
    s.add(P1, 1, priority=7).add(P2, 2).add(P1, 3)
    s(W1, TASK_POPPED, 2, 1)
    s.serve(W2, 3)
    assert s.apply() == []
    found = s.checker.finish(drained=True)
    assert kinds(found) == ["lost-task", "lost-task"]
    assert found[0].detail == (
        "Task 1 (priority 7) was added by producer-1 but never delivered nor cancelled."
    )
    assert found[0].threads == ("producer-1",)
    assert found[1].detail == "worker-1 received task 2 but never completed it."
    assert s.checker.finish() == []  # only the first call checks


def test_a_stopped_run_loses_nothing() -> None:
    s = Stream()
    s.add(P1, 1)
    s.apply()
    assert s.checker.finish(drained=False) == []


def test_a_heap_entry_thrown_away_while_queued_is_a_lost_task() -> None:
    s = Stream()
    s.add(P1, 6)
    s(W1, HEAP_DISCARDED, 6)
    found = s.apply()
    assert kinds(found) == ["lost-task"]
    assert "nobody will ever receive it" in found[0].detail
    assert s.checker.finish() == []  # reported once


def test_orphaned_lock_reported_once_per_lock_and_thread() -> None:
    s = Stream()
    s(W1, THREAD_STARTED, "worker-1", "worker")
    s(W1, LOCK_ACQUIRED, "queue", EXCLUSIVE, 1)
    s(W1, THREAD_ENDED, "worker-1", "worker")
    s(W1, THREAD_ENDED, "worker-1", "worker")
    found = s.apply()
    assert kinds(found) == ["orphaned-lock"]
    assert found[0].lock == "queue" and found[0].threads == ("worker-1",)
    assert found[0].detail.startswith("worker-1 ended while still holding lock 'queue'")


def test_a_released_lock_is_not_orphaned() -> None:
    s = Stream()
    s(W1, LOCK_ACQUIRED, "queue", EXCLUSIVE, 1)
    s(W1, LOCK_RELEASED, "queue", EXCLUSIVE, 0)
    s(W1, THREAD_ENDED, "worker-1", "worker")
    assert s.apply() == []


def test_two_lock_deadlock_reported_once_naming_both_threads() -> None:
    s = Stream()
    s(W1, LOCK_ACQUIRED, "A", EXCLUSIVE, 1)
    s(W2, LOCK_ACQUIRED, "B", EXCLUSIVE, 1)
    s(W1, LOCK_REQUESTED, "B", EXCLUSIVE, W2)
    assert s.apply() == []
    s(W2, LOCK_REQUESTED, "A", EXCLUSIVE, W1)
    found = s.apply()
    assert kinds(found) == ["deadlock"]
    v = found[0]
    assert v.threads == ("worker-2", "worker-1") and v.lock == "A" and v.seq == 3
    assert v.detail == (
        "worker-2 waits for lock 'A' held by worker-1; worker-1 waits for lock 'B' held by "
        "worker-2: none of them can ever go on (deadlock)."
    )
    # worker-2 gives up and tries again: the same cycle, not a new deadlock.
    s(W2, LOCK_TIMED_OUT, "A", EXCLUSIVE)
    s(W2, LOCK_REQUESTED, "A", EXCLUSIVE, W1)
    assert s.apply() == []
    assert s.checker.violation_counts["deadlock"] == 1


def test_waiting_for_a_lock_one_holds_is_a_deadlock() -> None:
    s = Stream()
    s(W1, LOCK_ACQUIRED, "queue", EXCLUSIVE, 1)
    s(W1, LOCK_REQUESTED, "queue", EXCLUSIVE, W1)
    found = s.apply()
    assert kinds(found) == ["deadlock"]
    assert found[0].threads == ("worker-1",)
    assert "which it already holds itself" in found[0].detail


def test_a_writer_waiting_for_a_reader_who_waits_for_the_writer() -> None:
    s = Stream()
    s(W1, LOCK_CREATED, "rw", "RWLock")
    s(W1, LOCK_ACQUIRED, "rw", READ, 1)
    s(W2, LOCK_ACQUIRED, "rw", READ, 2)
    s(W3, LOCK_ACQUIRED, "table", EXCLUSIVE, 1)
    s(W3, LOCK_REQUESTED, "rw", WRITE, (W1, W2))
    s(W2, LOCK_RELEASED, "rw", READ, 1)
    assert s.apply() == []
    s(W1, LOCK_REQUESTED, "table", EXCLUSIVE, W3)
    found = s.apply()
    assert kinds(found) == ["deadlock"]
    assert set(found[0].threads) == {"worker-1", "worker-3"}


def test_a_semaphore_waiter_is_stuck_only_when_every_permit_holder_is() -> None:
    s = Stream()
    s(W1, LOCK_ACQUIRED, "pool", PERMIT, 1)
    s(W2, LOCK_ACQUIRED, "pool", PERMIT, 2)
    s(W3, LOCK_ACQUIRED, "L", EXCLUSIVE, 1)
    s(W3, LOCK_REQUESTED, "pool", PERMIT, None)
    s(W1, LOCK_REQUESTED, "L", EXCLUSIVE, W3)
    assert s.apply() == []  # worker-2 can still give its permit back
    s(W2, LOCK_REQUESTED, "L", EXCLUSIVE, W3)
    assert kinds(s.apply()) == ["deadlock"]


def test_errors_recorded_by_the_run_pass_through() -> None:
    s = Stream()
    s.add(P1, 5)
    s(W1, TASK_POPPED, 5, 1)
    s(W1, VIOLATION, "worker-error", 5, "worker-1: ValueError: boom")
    found = s.apply()
    assert kinds(found) == ["worker-error"]
    assert found[0].task == 5 and found[0].detail == "worker-1: ValueError: boom"
    assert found[0].threads == ("worker-1",)
    assert s.checker.finish() == []  # task 5 was already reported


def test_after_dropped_events_only_undeniable_breaks_are_reported() -> None:
    s = Stream()
    s.add(P1, 1)
    s.apply()
    s(W1, TASK_COMPLETED, 2, "processing")  # its add may be among the dropped events
    s(W1, TASK_POPPED, 1, 1)
    s(W2, TASK_POPPED, 1, 1)  # two pops stay two pops, whatever was dropped
    found = s.apply(dropped=5)
    assert kinds(found) == ["double-delivery"]
    assert s.checker.dropped == 5
    assert found[0].seq == 1 + 5 + 2


def test_stored_violations_are_capped_but_counted() -> None:
    s = Stream()
    s.checker.max_violations = 3
    for task in range(10):
        s(W1, TASK_POPPED, task, 1)
    assert len(s.apply()) == 3
    assert s.checker.violation_counts["illegal-transition"] == 10


def test_names_fall_back_to_the_ident() -> None:
    checker = InvariantChecker()
    checker.apply(Batch(0, [(1, 77, TASK_POPPED, 1, 1, None)], 0))
    assert checker.violations[0].threads == ("thread-77",)

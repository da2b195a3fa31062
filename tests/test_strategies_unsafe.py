"""The unsafe strategy breaks, visibly, and without crashing.

First deterministically: the step gate parks two threads in the same
read-modify-write gap, then lets them go, which is exactly the interleaving a
student can produce by stepping in the window.  Then statistically: with a race
window, 4 producers and 4 workers free-running show the damage within seconds.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest

from visualizer.events import TASK_ADDED, TASK_POPPED, Recorder
from visualizer.queues import STRATEGIES, Tracer, UnsafeQueue


def test_registered_as_unsafe() -> None:
    assert STRATEGIES["unsafe"] is UnsafeQueue
    assert not UnsafeQueue.safe
    assert [name for name, cls in STRATEGIES.items() if not cls.safe] == ["unsafe"]


def test_negative_race_window_is_refused() -> None:
    with pytest.raises(ValueError):
        UnsafeQueue(race_window=-0.1)


def run_parked(tracer: Tracer, *calls: Callable[[], object]) -> tuple[list[str], list]:
    """Run each call in its own thread, all parked in the gap, then release them together."""
    gate = tracer.gate
    results: list = []
    gate.close()
    threads = [threading.Thread(target=lambda c=c: results.append(c())) for c in calls]
    for thread in threads:
        thread.start()
    try:
        assert gate.wait_parked(len(calls), timeout=5)
        labels = sorted(label for label, _where in gate.parked().values())
    finally:
        gate.open()
        for thread in threads:
            thread.join(5)
    assert len(results) == len(calls)
    return labels, results


def test_two_adds_in_the_gap_lose_an_update() -> None:
    recorder = Recorder()
    tracer = Tracer(recorder)
    queue = UnsafeQueue(tracer)
    labels, _ = run_parked(tracer, lambda: queue.add_task("a", 1), lambda: queue.add_task("b", 1))
    assert labels == ["add a: read added=0", "add b: read added=0"]
    assert len(queue) == 2  # both tasks are there ...
    assert queue.snapshot().added == 1  # ... but the counter says one
    counters = [b for _t, _th, kind, _s, _a, b in recorder.drain().events if kind == TASK_ADDED]
    assert counters == [1, 1]


def test_two_gets_in_the_gap_deliver_one_task_twice_and_lose_another() -> None:
    recorder = Recorder()
    tracer = Tracer(recorder)
    queue = UnsafeQueue(tracer)
    queue.add_task("top", 9)
    queue.add_task("next", 1)
    labels, results = run_parked(tracer, queue.get_next_task, queue.get_next_task)
    assert labels == ["get: saw top on top"] * 2
    assert [task.task_id for task in results] == ["top", "top"]
    assert queue.get_next_task() is None  # "next" was popped in the gap and never delivered
    assert queue.get_status("next") == "queued"
    popped = [s for _t, _th, kind, s, _a, _b in recorder.drain().events if kind == TASK_POPPED]
    assert popped == ["top", "top"]


def test_two_gets_of_the_last_task_do_not_raise() -> None:
    """Both saw the one task; the second pop finds an empty heap: empty, not IndexError."""
    tracer = Tracer()
    queue = UnsafeQueue(tracer)
    queue.add_task("only", 1)
    _labels, results = run_parked(tracer, queue.get_next_task, queue.get_next_task)
    assert sorted(str(task and task.task_id) for task in results) == ["None", "only"]


def test_race_window_breaks_it_free_running() -> None:
    """4 producers + 4 workers, 1 ms window: lost updates and double deliveries in seconds."""
    recorder = Recorder()
    queue = UnsafeQueue(Tracer(recorder), race_window=0.001)
    per_producer = 150
    producers_done = threading.Event()
    crashes: list[BaseException] = []
    refused_completes = Counter()

    def producer(index: int) -> None:
        for number in range(per_producer):
            queue.add_task((index, number), number % 5)

    def worker() -> None:
        while True:
            finished = producers_done.is_set()
            task = queue.get_next_task()
            if task is None:
                if finished:
                    return
                producers_done.wait(0.001)
                continue
            try:
                queue.complete_task(task.task_id)
            except ValueError:  # the other receiver of a double delivery completed it first
                refused_completes[task.task_id] += 1

    def guarded(body: Callable[..., None], *args: object) -> threading.Thread:
        def run() -> None:
            try:
                body(*args)
            except BaseException as exc:
                crashes.append(exc)

        return threading.Thread(target=run)

    producers = [guarded(producer, index) for index in range(4)]
    workers = [guarded(worker) for _ in range(4)]
    for thread in workers + producers:
        thread.start()
    for thread in producers:
        thread.join(30)
    producers_done.set()
    for thread in workers:
        thread.join(30)

    assert crashes == []  # broken, but it does not raise internal errors
    adds = 4 * per_producer
    assert len(queue.snapshot().statuses) == adds
    popped = Counter(
        s for _t, _th, kind, s, _a, _b in recorder.drain().events if kind == TASK_POPPED
    )
    lost_updates = adds - queue.snapshot().added
    double_deliveries = sum(count > 1 for count in popped.values())
    assert lost_updates > 0
    assert double_deliveries > 0

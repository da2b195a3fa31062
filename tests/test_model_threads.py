"""The model against real multi-threaded streams: no false alarms, real deadlocks caught.

Also measures how fast the model folds a realistic stream (run with ``-s`` to
see it, or ``PYTHONPATH=. python tests/test_model_threads.py``); nothing here
asserts on time, since the machine's load is not ours to control.
"""

from __future__ import annotations

import random
import threading
import time

from visualizer.events import TASK_STARTED, THREAD_ENDED, Batch, Recorder
from visualizer.model import RunModel
from visualizer.queues import GlobalLockQueue, RunStopped, Tracer, UnsafeQueue
from visualizer.queues.base import CANCELLED, COMPLETED


def run_global_lock(
    producers: int = 4,
    workers: int = 4,
    tasks_each: int = 500,
    cancel_rate: float = 0.1,
    recorder: Recorder | None = None,
) -> tuple[Recorder, GlobalLockQueue]:
    """Drive a global-lock queue with real threads, the way the engine does, until drained.

    Every thread announces itself and records ``THREAD_ENDED`` on exit; workers
    record ``TASK_STARTED`` before their (empty) work.  All threads are joined.
    """
    if recorder is None:
        recorder = Recorder(capacity=50_000_000)
    queue = GlobalLockQueue(Tracer(recorder))
    producers_done = threading.Event()
    # Everyone alive at once, as in an engine run: an ended thread's ident can be reused.
    all_started = threading.Barrier(producers + workers)

    def producer(index: int) -> None:
        recorder.register_thread("producer")
        all_started.wait()
        rng = random.Random(index)
        for i in range(tasks_each):
            task_id = index * tasks_each + i
            queue.add_task(task_id, rng.randrange(10))
            if rng.random() < cancel_rate:
                queue.cancel_task(task_id - rng.randrange(min(i, 5) + 1))
        recorder.record(THREAD_ENDED, threading.current_thread().name, "producer")

    def worker() -> None:
        recorder.register_thread("worker")
        all_started.wait()
        while True:
            task = queue.get_next_task()
            if task is None:
                if producers_done.is_set() and len(queue) == 0:
                    break
                time.sleep(0.0002)
                continue
            queue.tracer.record(TASK_STARTED, task.task_id)
            queue.complete_task(task.task_id)
        recorder.record(THREAD_ENDED, threading.current_thread().name, "worker")

    making = [
        threading.Thread(target=producer, args=(i,), name=f"producer-{i + 1}")
        for i in range(producers)
    ]
    working = [threading.Thread(target=worker, name=f"worker-{i + 1}") for i in range(workers)]
    for thread in making + working:
        thread.start()
    for thread in making:
        thread.join()
    producers_done.set()
    for thread in working:
        thread.join()
    return recorder, queue


def fold_in_random_batches(model: RunModel, recorder: Recorder, seed: int = 0) -> None:
    rng = random.Random(seed)
    while recorder.pending():
        model.apply(recorder.drain(rng.randrange(1, 5000)))
        assert model.tasks.reconciled()


def test_correct_threaded_run_raises_no_alarm() -> None:
    recorder, queue = run_global_lock()
    model = RunModel(recorder.thread_name)
    fold_in_random_batches(model, recorder)
    assert model.finish(drained=True) == []
    assert model.anomalies == []

    snapshot = queue.snapshot()
    counts = model.tasks.counts()
    assert counts["added"] == 2000 == snapshot.added
    assert counts["queued"] == counts["processing"] == 0
    assert counts["completed"] + counts["cancelled"] == 2000
    assert model.tasks.status == snapshot.statuses
    assert set(snapshot.statuses.values()) <= {COMPLETED, CANCELLED}
    assert model.heap.entries == [(e.priority, e.task_id) for e in snapshot.heap]
    assert model.heap.resyncs == 0

    queue_lock = model.locks.locks["queue"]
    assert queue_lock.holders == {} and queue_lock.waiters == []
    assert queue_lock.acquisitions == queue_lock.hold_stats.count
    assert queue_lock.wait_stats.count == queue_lock.contended
    roles = sorted(info.role for info in model.threads.values() if info.role)
    assert roles == ["producer"] * 4 + ["worker"] * 4
    assert not any(info.alive for info in model.threads.values() if info.role)
    workers = [ident for ident, info in model.threads.items() if info.role == "worker"]
    work = [s for ident in workers for s in model.timeline.segments(ident) if s.kind == "work"]
    assert len(work) == counts["completed"]
    assert all(s.end_ns is not None for ident in workers for s in model.timeline.segments(ident))


def test_real_two_lock_deadlock_is_reported_once_with_both_threads() -> None:
    recorder = Recorder()
    tracer = Tracer(recorder)
    lock_a, lock_b = tracer.lock("A"), tracer.lock("B")
    both_hold_one = threading.Barrier(2)

    def grab(first, second) -> None:
        recorder.register_thread("worker")
        try:
            with first:
                both_hold_one.wait()
                with second:
                    pass  # never reached: each thread holds what the other needs
        except RunStopped:
            pass
        recorder.record(THREAD_ENDED, threading.current_thread().name, "worker")

    threads = [
        threading.Thread(target=grab, args=(lock_a, lock_b), name="worker-1"),
        threading.Thread(target=grab, args=(lock_b, lock_a), name="worker-2"),
    ]
    for thread in threads:
        thread.start()
    model = RunModel(recorder.thread_name)
    deadline = time.monotonic() + 10
    while not model.anomalies and time.monotonic() < deadline:
        model.apply(recorder.drain())
        time.sleep(0.01)
    cycle = model.locks.deadlock_cycle()
    tracer.gate.abort()  # unwinds both sliced waits with RunStopped
    for thread in threads:
        thread.join(timeout=5)
    model.apply(recorder.drain())

    assert [v.kind for v in model.anomalies] == ["deadlock"]
    deadlock = model.anomalies[0]
    assert sorted(deadlock.threads) == ["worker-1", "worker-2"]
    assert "worker-1" in deadlock.detail and "worker-2" in deadlock.detail
    assert cycle is not None and set(cycle[1::2]) == {"A", "B"}
    assert model.locks.deadlock_cycle() is None  # both threads ended: nobody waits now
    assert model.locks.waiting_on == {}


def test_unsafe_races_are_caught() -> None:
    """Two producers and two workers in the unsafe queue's widened gaps: the checker sees it."""
    recorder = Recorder()
    queue = UnsafeQueue(Tracer(recorder), race_window=0.001)
    produced = threading.Barrier(4)

    def produce(first: int) -> None:
        for task_id in range(first, first + 40):
            queue.add_task(task_id, task_id % 3)
        produced.wait()

    def consume() -> None:
        produced.wait()
        while queue.get_next_task() is not None:
            pass

    threads = [threading.Thread(target=produce, args=(i * 40,)) for i in range(2)]
    threads += [threading.Thread(target=consume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    model = RunModel(recorder.thread_name)
    fold_in_random_batches(model, recorder)
    model.finish(drained=True)
    assert "lost-update" in model.checker.violation_counts
    assert model.checker.violation_counts.keys() <= {
        "lost-update",
        "double-delivery",
        "lost-task",
        "illegal-transition",
    }


def measure_fold_speed(producers: int = 4, workers: int = 4, tasks_each: int = 5000) -> float:
    """Fold a recorded global-lock stream in 5000-event batches; returns events per CPU second."""
    recorder, _queue = run_global_lock(producers, workers, tasks_each)
    events = recorder.drain().events
    batches = [Batch(i, events[i : i + 5000], 0) for i in range(0, len(events), 5000)]
    model = RunModel(recorder.thread_name)
    start = time.thread_time()  # CPU time of this thread: other processes' load does not count
    for batch in batches:
        model.apply(batch)
    elapsed = time.thread_time() - start
    assert model.anomalies == []
    return len(events) / elapsed


def measure_live_fold(tasks_each: int = 5000) -> tuple[float, int, float]:
    """Fold while 4 producers and 4 workers run flat out, draining every 16 ms like the GUI.

    Returns (events folded per second of folding, events folded, share of wall time
    the folding thread spent folding), all under contention for the GIL.
    """
    recorder = Recorder()
    runner = threading.Thread(
        target=run_global_lock, kwargs={"tasks_each": tasks_each, "recorder": recorder}
    )
    model = RunModel(recorder.thread_name)
    folding = 0.0
    began = time.perf_counter()
    runner.start()
    while runner.is_alive() or recorder.pending():
        start = time.perf_counter()
        model.apply(recorder.drain())
        folding += time.perf_counter() - start
        time.sleep(0.016)
    runner.join()
    wall = time.perf_counter() - began
    assert model.dropped == 0 and model.anomalies == []
    return model.events_applied / folding, model.events_applied, folding / wall


def test_fold_speed_is_measured() -> None:
    rate = measure_fold_speed(tasks_each=2500)
    live_rate, events, share = measure_live_fold(tasks_each=1000)
    print(f"\nRunModel folds {rate:,.0f} events/s (recorded global-lock stream, 4+4 threads)")
    print(
        f"live: {live_rate:,.0f} events/s while the run goes on ({events} events, "
        f"{share:.0%} of wall time folding)"
    )
    assert rate > 0 and live_rate > 0


if __name__ == "__main__":
    for _ in range(3):
        print(f"recorded stream: RunModel folds {measure_fold_speed():,.0f} events/s")
        live_rate, events, share = measure_live_fold()
        print(
            f"live run: {live_rate:,.0f} events/s folded ({events} events, "
            f"{share:.0%} of wall time folding)"
        )

"""The model against real multi-threaded streams: no false alarms, real deadlocks caught.

How fast the model folds a realistic stream is printed, not asserted (run with
``-s`` to see it, or ``PYTHONPATH=. python tests/test_model_threads.py``): the
machine's load is not ours to control, and the bench measures speed.
"""

from __future__ import annotations

import random
import threading
import time

from visualizer.events import CANCELLED, COMPLETED, TASK_STARTED, THREAD_ENDED, Batch, Recorder
from visualizer.model import RunModel
from visualizer.queues import GlobalLockQueue, RunStopped, Tracer


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
    """Two producers and two workers on the unsafe queue: the checker sees the lost update.

    The controlled scheduler searches the interleavings (no race window, no sleep), so the
    race is found every time, and the same schedule replayed shows it again.
    """
    from visualizer.engine import Run, Workload
    from visualizer.stepping import play
    from visualizer.stepping.explore import explore

    def make(control):  # type: ignore[no-untyped-def]
        workload = Workload(
            strategy="unsafe", producers=2, workers=2, tasks=4, rate=0.0, work_time=0.0
        )
        return Run(workload, control=control)

    def kinds(played):  # type: ignore[no-untyped-def]
        return {v.kind for v in played.model.anomalies}

    found = explore(make, "instruction", "gil", 2, wanted=lambda p: "lost-update" in kinds(p))
    assert found.played is not None and found.schedule is not None
    assert kinds(found.played) <= {
        "lost-update",
        "double-delivery",
        "lost-task",
        "illegal-transition",
    }
    assert "lost-update" in kinds(play(make, found.schedule))


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


def fold_live(
    recorder: Recorder, tasks_each: int = 5000
) -> tuple[RunModel, list[tuple], float, float]:
    """Fold while 4 producers and 4 workers run flat out, draining every 16 ms like the GUI.

    Returns the model, every event it was given (in order), the seconds spent
    folding and the wall time of the whole run, all under contention for the GIL.
    """
    runner = threading.Thread(
        target=run_global_lock, kwargs={"tasks_each": tasks_each, "recorder": recorder}
    )
    model = RunModel(recorder.thread_name)
    given: list[tuple] = []
    folding = 0.0
    began = time.perf_counter()
    runner.start()
    while runner.is_alive() or recorder.pending():
        batch = recorder.drain()
        given.extend(batch.events)
        start = time.perf_counter()
        model.apply(batch)
        folding += time.perf_counter() - start
        time.sleep(0.016)
    runner.join()
    return model, given, folding, time.perf_counter() - began


def test_folding_a_live_run_in_drains_equals_folding_its_whole_stream() -> None:
    recorder = Recorder()
    live, given, folding, wall = fold_live(recorder, tasks_each=1000)
    assert live.dropped == 0 and live.anomalies == []
    assert live.events_applied == len(given) > 4000 * 4, "every event of 4000 tasks, folded"
    at_once = RunModel(recorder.thread_name)
    at_once.apply(Batch(0, given, 0))
    counts = live.tasks.counts()
    assert counts == at_once.tasks.counts()
    assert counts["added"] == 4000 == counts["completed"] + counts["cancelled"]
    assert live.summary().locks == at_once.summary().locks
    assert dict(live.checker.violation_counts) == {}
    print(
        f"\nlive: {len(given) / folding:,.0f} events/s folded while the run went on "
        f"({len(given)} events, {folding / wall:.0%} of wall time folding)"
    )


if __name__ == "__main__":
    for _ in range(3):
        print(f"recorded stream: RunModel folds {measure_fold_speed():,.0f} events/s")
        model, given, folding, wall = fold_live(Recorder())
        print(
            f"live run: {len(given) / folding:,.0f} events/s folded ({len(given)} events, "
            f"{folding / wall:.0%} of wall time folding)"
        )

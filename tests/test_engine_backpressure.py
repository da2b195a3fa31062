"""Backpressure: a consumer that asks for it gets every event instead of drops."""

from __future__ import annotations

import threading

from visualizer.engine import Run, Workload
from visualizer.engine.drain import Drainer
from visualizer.events import TASK_COMPLETED, Recorder

TIMEOUT = 30


def test_throttle_is_free_without_a_backlog():
    recorder = Recorder()
    for i in range(1000):
        recorder.record(0, i)
    recorder.throttle(timeout=TIMEOUT)  # returns at once: nobody asked for backpressure
    assert recorder.pending() == 1000


def test_throttle_waits_until_the_consumer_drains():
    recorder = Recorder()
    recorder.backlog = 10
    for i in range(20):
        recorder.record(0, i)
    passed = threading.Event()

    def run_thread():
        recorder.throttle(timeout=TIMEOUT)
        passed.set()

    thread = threading.Thread(target=run_thread)
    thread.start()
    assert not passed.wait(0.2), "a thread must wait while the backlog is over the limit"
    assert len(recorder.drain().events) == 20
    assert passed.wait(TIMEOUT)
    thread.join(TIMEOUT)


def test_a_slow_consumer_slows_the_run_rather_than_losing_events():
    """Flat out, 2+2 threads; the consumer is slow on purpose; nothing is dropped."""
    recorder = Recorder(capacity=5_000)
    completed = 0
    workload = Workload(producers=2, workers=2, tasks=3_000, rate=0, work_time=0)
    run = Run(workload, recorder)

    def slow_consumer(batch):
        nonlocal completed
        completed += sum(1 for event in batch.events if event[2] == TASK_COMPLETED)
        threading.Event().wait(0.002 * len(batch.events) / 100)  # a deliberately slow fold

    drainer = Drainer(recorder, slow_consumer, backlog=2_000)
    drainer.start()
    run.start()
    try:
        assert run.wait(TIMEOUT)
    finally:
        run.stop()
        drainer.stop()
    assert recorder.dropped == 0
    assert completed == 3_000

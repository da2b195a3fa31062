"""What recording and loading cost, measured on realistic events (for ``bench``).

Recording has a budget (a few per cent of a run beyond tracing itself), so its
cost is measured, not guessed: :func:`measure_write` times the writer alone on
events from a real traced run, both what a run pays while it records
(``write_batch``) and what encoding costs afterwards (``close``);
:func:`measure_load` times loading a log back.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass

from visualizer.events import Batch, Recorder
from visualizer.queues import GlobalLockQueue, Tracer
from visualizer.recording.reader import LogReader
from visualizer.recording.writer import DEFAULT_MAX_PENDING, LogWriter

SAMPLE_TASKS = 2000


@dataclass(frozen=True)
class WriteFigures:
    events: int
    run_seconds: float  # spent in write_batch: what the run itself pays
    seconds: float  # everything, encoding and the end line included
    bytes: int

    @property
    def events_per_s(self) -> float:
        """Encoding throughput."""
        return self.events / self.seconds if self.seconds else float("inf")

    @property
    def run_ns_per_event(self) -> float:
        return self.run_seconds * 1e9 / self.events if self.events else 0.0

    @property
    def bytes_per_10k_events(self) -> float:
        return self.bytes * 10_000 / self.events if self.events else 0.0


@dataclass(frozen=True)
class LoadFigures:
    events: int
    seconds: float
    bytes: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def _traced_run(tasks: int) -> list[tuple]:
    """Events of a producer and a worker thread sharing the reference strategy."""
    recorder = Recorder(capacity=10_000_000)
    queue = GlobalLockQueue(Tracer(recorder))

    def produce() -> None:
        recorder.register_thread("producer")
        for task_id in range(tasks):
            queue.add_task(task_id, task_id % 10)

    def work() -> None:
        recorder.register_thread("worker")
        done = 0
        while done < tasks:
            task = queue.get_next_task()
            if task is None:
                time.sleep(0)  # let the producer run
                continue
            queue.complete_task(task.task_id)
            done += 1

    threads = [
        threading.Thread(target=produce, name="producer-1"),
        threading.Thread(target=work, name="worker-1"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder.drain().events


def sample_events(n_events: int) -> list[tuple]:
    """``n_events`` raw events: one real traced run, repeated later in time as needed."""
    template = _traced_run(SAMPLE_TASKS)
    span = template[-1][0] - template[0][0] + 1
    events: list[tuple] = []
    shift = 0
    while len(events) < n_events:
        events.extend((t + shift, *rest) for t, *rest in template[: n_events - len(events)])
        shift += span
    return events


def _batches(events: list[tuple], batch_size: int) -> list[Batch]:
    return [
        Batch(start, events[start : start + batch_size], 0)
        for start in range(0, len(events), batch_size)
    ]


def measure_write(
    n_events: int = 200_000,
    *,
    batch_size: int = 1000,
    compress: bool = False,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> WriteFigures:
    """Time :class:`LogWriter` on ``n_events`` events fed in drain-sized batches.

    1000 events a batch is what a 60 Hz consumer drains from a run recording
    60 000 events a second.  ``max_pending=0`` measures encoding as the run goes.
    """
    batches = _batches(sample_events(n_events), batch_size)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.jsonl.gz" if compress else "run.jsonl")
        writer = LogWriter(
            path,
            settings={},
            strategy=GlobalLockQueue.name,
            compress=compress,
            max_pending=max_pending,
        )
        start = time.perf_counter()
        for batch in batches:
            writer.write_batch(batch)
        run_seconds = time.perf_counter() - start
        writer.close()
        seconds = time.perf_counter() - start
        return WriteFigures(n_events, run_seconds, seconds, os.path.getsize(path))


def measure_load(n_events: int = 1_000_000, *, compress: bool = False) -> LoadFigures:
    """Write a log of ``n_events`` events, then time loading it with default limits."""
    events = sample_events(n_events)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.jsonl.gz" if compress else "run.jsonl")
        with LogWriter(path, settings={}, strategy=GlobalLockQueue.name, compress=compress) as w:
            for batch in _batches(events, 4096):
                w.write_batch(batch)
        del events
        start = time.perf_counter()
        run = LogReader().load(path)
        seconds = time.perf_counter() - start
        return LoadFigures(len(run.events), seconds, os.path.getsize(path))

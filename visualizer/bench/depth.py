"""Folding at depth: what one event costs the model with 1,000 and with 100,000 tasks waiting.

The window folds every event of a run (``RunModel.apply``), live and when it
replays a log; nothing it does per event may grow with the queue's length
faster than a heap operation does (``log n``).  So for every strategy this
section records the same steady traffic (4 producers and 4 workers adding,
taking and completing tasks flat out) on a queue filled to a shallow and to a
deep level first, then times folding that traffic into a model that already
holds the filled queue.  ``priority-queue`` matters most: its pops reach the
stream out of heap order, and finding such an entry must not mean searching the
whole heap.

The target (issue 15): at 100k, a folded event costs at most 3x what it costs at
1k.  CPU time of the fold alone, median of interleaved rounds; the filled model
is restored from a pickle each round, outside the timing.
"""

from __future__ import annotations

import gc
import pickle
import sys
import threading
import time
from typing import Any

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.bench.queues import build_queue
from visualizer.bench.rounds import interleaved, median, ratio
from visualizer.events import Batch, Recorder
from visualizer.model import RunModel
from visualizer.queues import Tracer, speedups

TARGET = 3.0
"""Per-event fold cost at the deep level / at the shallow level."""
FOLD_BATCH = 4096
PRODUCERS = WORKERS = 4
SWITCH_INTERVAL = 1e-5


def _batches(events: list[tuple], first_seq: int) -> list[Batch]:
    return [
        Batch(first_seq + start, events[start : start + FOLD_BATCH], 0)
        for start in range(0, len(events), FOLD_BATCH)
    ]


def record_traffic(name: str, depth: int, tasks: int) -> tuple[bytes, list[Batch]]:
    """A model holding a queue filled to ``depth`` (pickled) and the batches of ``tasks``
    steady add / get / complete cycles on it by 4 producers and 4 workers."""
    recorder = Recorder(capacity=50_000_000)
    queue: Any = build_queue(name, Tracer(recorder))
    recorder.register_thread("bench")
    for task_id in range(depth):
        queue.add_task(("fill", task_id), task_id % 10)
    filled = recorder.drain()
    model = RunModel()  # no names: a model that pickles (the fold does not need them)
    for batch in _batches(filled.events, 0):
        model.apply(batch)
    blob = pickle.dumps(model, pickle.HIGHEST_PROTOCOL)

    taken = [0]
    count = threading.Lock()

    def produce(index: int) -> None:
        recorder.register_thread("producer")
        for task_id in range(index, tasks, PRODUCERS):
            try:
                queue.add_task(task_id, task_id % 10)
            except Exception:  # the unsafe queue trips over its races: go on
                continue

    def work() -> None:
        recorder.register_thread("worker")
        get, complete = queue.get_next_task, queue.complete_task
        give_up = time.monotonic() + 60  # the unsafe queue can lose tasks for good
        while time.monotonic() < give_up:
            with count:
                if taken[0] >= tasks:
                    return
                taken[0] += 1
            try:
                task = get(timeout=0.05) if queue.blocking else get()
                while task is None and time.monotonic() < give_up:
                    time.sleep(0)  # a producer is behind: let it run
                    task = get(timeout=0.05) if queue.blocking else get()
                if task is not None:
                    complete(task.task_id)
            except Exception:
                continue

    threads = [
        threading.Thread(target=produce, args=(i,), name=f"producer-{i + 1}")
        for i in range(PRODUCERS)
    ] + [threading.Thread(target=work, name=f"worker-{i + 1}") for i in range(WORKERS)]
    # Threads switch every 10 µs instead of 5 ms, as the window's runs may: pops then
    # often reach the stream out of heap order, the case that must stay cheap.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        sys.setswitchinterval(interval)
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"bench: the {name} traffic did not finish")
    return blob, _batches(recorder.drain().events, filled.first_seq + len(filled.events))


def fold_seconds(blob: bytes, batches: list[Batch]) -> float:
    """CPU seconds to fold ``batches`` into the model pickled in ``blob`` (restored first)."""
    return fold(blob, batches)[0]


def fold(blob: bytes, batches: list[Batch]) -> tuple[float, RunModel]:
    model: RunModel = pickle.loads(blob)
    gc.collect()
    start = time.thread_time()
    for batch in batches:
        model.apply(batch)
    return time.thread_time() - start, model


@section("depth", "Folding at depth: per-event cost, shallow and deep queue")
def depth(config: BenchConfig) -> Table:
    shallow, deep = (200, 5_000) if config.quick else (1_000, 100_000)
    tasks, rounds = (1_000, 2) if config.quick else (10_000, 5)
    table = Table(
        f"Folding at depth: {tasks:,} tasks of traffic (4 producers, 4 workers) on a queue "
        f"holding {shallow:,} or {deep:,} tasks (CPU time, median of {rounds} rounds)",
        [
            ("strategy", "strategy"),
            ("events", "events"),
            ("shallow_us", f"µs/event at {shallow:,}"),
            ("deep_us", f"µs/event at {deep:,}"),
            ("ratio", "deep/shallow"),
            ("spread", "±"),
            ("reordered", "pops out of order"),
        ],
    )
    for name in config.strategies:
        recorded = {level: record_traffic(name, level, tasks) for level in (shallow, deep)}
        cases = {
            str(level): (lambda blob=blob, batches=batches: fold_seconds(blob, batches))
            for level, (blob, batches) in recorded.items()
        }
        samples = interleaved(cases, rounds)
        counts = {
            str(level): sum(len(b.events) for b in batches)
            for level, (_blob, batches) in recorded.items()
        }
        per_event = {level: [s / counts[level] for s in samples[level]] for level in samples}
        steep = ratio(per_event, str(deep), str(shallow))
        _seconds, folded = fold(*recorded[deep])
        table.rows.append(
            {
                "strategy": name,
                "events": counts[str(deep)],
                "shallow_us": median(per_event, str(shallow)).median * 1e6,
                "deep_us": median(per_event, str(deep)).median * 1e6,
                "ratio": steep.median,
                "spread": steep.spread,
                "reordered": folded.heap.reordered + folded.heap.resyncs,
            }
        )
    if table.rows:
        worst = max(table.rows, key=lambda row: row["ratio"])
        table.headline = {
            "max_ratio": worst["ratio"],
            "target_ratio": TARGET,
            "shallow": shallow,
            "deep": deep,
            "accelerator": speedups.PATH,
        }
        verdict = "within" if worst["ratio"] <= TARGET else "OVER"
        table.notes.append(
            f"deep/shallow: worst {worst['ratio']:.2f}x ({worst['strategy']}), {verdict} the "
            f"{TARGET:g}x target"
        )
    return table

"""Queue throughput, with tracing off and on: what the instrumentation costs.

Every strategy runs the same operations twice, once built from a plain
``Tracer()`` (standard-library locks, task events dropped) and once from
``Tracer(Recorder())`` (traced locks, every event recorded).  The ratio of the
two times is the overhead of leaving tracing on.

Noise control: each configuration runs several times, traced and untraced
blocks interleaved (alternating which goes first), and the best time of each is
kept, as ``timeit`` does: the fastest run is the one least disturbed by the rest
of the machine.

Draining: the traced loop drains its recorder once per frame (``FRAME``), as the
window's consumer does; an undrained deque would grow without bound and the
garbage collector's passes over it would dominate.  The cadence matters: events
drained within a few hundred cycles die before the collector ever sees them, so
draining more often than the real consumer would flatter the ratio.  The drain
is timed with the traced side, since under the GIL the consumer's work takes time
from the workers too.
"""

from __future__ import annotations

import gc
import math
import threading
from time import perf_counter
from typing import Any

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.engine import userqueue
from visualizer.engine.drain import Drainer
from visualizer.events import Recorder
from visualizer.queues import STRATEGIES, Tracer

FRAME = 1 / 60
"""Seconds between two drains: the window drains its recorder once per frame."""

BLOCK = 100
"""Cycles between two looks at the clock (both loops look, so both pay for it)."""

TARGET_RATIO = 2.0
"""The issue's goal: tracing on costs at most twice the untraced operations."""

PRODUCERS = 4
WORKERS = 4
GET_TIMEOUT = 0.05
THREAD_DEADLINE = 60.0
"""Longest a threaded measurement may take before the bench reports it as hung."""


def _nothing() -> None:
    """The untraced loop's stand-in for draining, so both loops run the same code."""


def _new_queue(name: str, traced: bool) -> tuple[Any, Recorder | None]:
    """Strategy ``name``, or a user's queue given as ``PATH.py:ClassName``."""
    recorder = Recorder() if traced else None
    if ":" in name:
        return userqueue.build(userqueue.QueueRef.parse(name), Tracer(recorder)), recorder
    return STRATEGIES[name](Tracer(recorder)), recorder


def single_thread_time(name: str, traced: bool, cycles: int) -> float:
    """Seconds for ``cycles`` add / get / complete cycles on one thread."""
    queue, recorder = _new_queue(name, traced)
    drain = recorder.drain if recorder is not None else _nothing
    add, get, complete = queue.add_task, queue.get_next_task, queue.complete_task
    gc.collect()
    start = perf_counter()
    next_drain = start + FRAME
    for base in range(0, cycles, BLOCK):
        for task_id in range(base, base + BLOCK):
            add(task_id, task_id % 10)
            complete(get().task_id)
        now = perf_counter()
        if now >= next_drain:
            drain()
            next_drain = now + FRAME
    drain()
    return perf_counter() - start


def threaded_time(name: str, traced: bool, tasks: int) -> tuple[float, int]:
    """Seconds for ``tasks`` cycles by 4 producers and 4 workers flat out, and errors seen.

    Errors (only the unsafe queue has them) are counted, not raised: a bench
    must finish whatever the strategy does.
    """
    queue, recorder = _new_queue(name, traced)
    blocking = queue.blocking
    producers_done = threading.Event()
    idle = threading.Event()  # never set: an interruptible pause for empty polls
    errors = [0] * (PRODUCERS + WORKERS)

    def produce(index: int) -> None:
        for task_id in range(index, tasks, PRODUCERS):
            try:
                queue.add_task(task_id, task_id % 10)
            except Exception:
                errors[index] += 1

    def consume(index: int) -> None:
        get, complete = queue.get_next_task, queue.complete_task
        while True:
            done_before = producers_done.is_set()
            try:
                task = get(timeout=GET_TIMEOUT) if blocking else get()
                if task is None:
                    if done_before:
                        return
                    if not blocking:
                        idle.wait(0.0005)
                    continue
                complete(task.task_id)
            except Exception:
                errors[index] += 1

    producers = [
        threading.Thread(target=produce, args=(i,), name=f"bench-producer-{i + 1}", daemon=True)
        for i in range(PRODUCERS)
    ]
    workers = [
        threading.Thread(
            target=consume, args=(PRODUCERS + i,), name=f"bench-worker-{i + 1}", daemon=True
        )
        for i in range(WORKERS)
    ]
    drainer = Drainer(recorder, _discard, interval=FRAME) if recorder is not None else None
    gc.collect()
    start = perf_counter()
    if drainer is not None:
        drainer.start()
    for thread in producers + workers:
        thread.start()
    for thread in producers:
        thread.join(THREAD_DEADLINE)
    producers_done.set()
    for thread in workers:
        thread.join(THREAD_DEADLINE)
    elapsed = perf_counter() - start
    if drainer is not None:
        drainer.stop()
    if any(thread.is_alive() for thread in producers + workers):
        raise RuntimeError(f"bench: {name} threads did not finish in {THREAD_DEADLINE:g} s")
    return elapsed, sum(errors)


def _discard(_batch: object) -> None:
    """The threaded bench's consumer: drain, and throw the events away."""


def _geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else 0.0


def _overhead_table(title: str, times: dict[str, dict[bool, float]], work: int) -> Table:
    table = Table(
        title,
        [
            ("strategy", "strategy"),
            ("untraced", "untraced cycles/s"),
            ("traced", "traced cycles/s"),
            ("ratio", "overhead (traced/untraced time)"),
        ],
    )
    ratios = []
    for name, best in times.items():
        ratio = best[True] / best[False]
        ratios.append(ratio)
        table.rows.append(
            {
                "strategy": name,
                "untraced": work / best[False],
                "traced": work / best[True],
                "ratio": ratio,
            }
        )
    if ratios:
        table.headline = {
            "max_ratio": max(ratios),
            "geometric_mean_ratio": _geometric_mean(ratios),
            "target_ratio": TARGET_RATIO,
        }
        table.notes.append(
            f"tracing overhead: worst {max(ratios):.2f}x, geometric mean "
            f"{_geometric_mean(ratios):.2f}x (target: at most {TARGET_RATIO:g}x)"
        )
    return table


@section("single", "Single thread: add / get / complete cycles")
def single_thread(config: BenchConfig) -> Table:
    cycles, repeats = (2_000, 2) if config.quick else (20_000, 5)
    best: dict[str, dict[bool, float]] = {name: {} for name in config.strategies}
    for repeat in range(repeats):
        for name in config.strategies:
            for traced in (False, True) if repeat % 2 == 0 else (True, False):
                seconds = single_thread_time(name, traced, cycles)
                best[name][traced] = min(seconds, best[name].get(traced, math.inf))
    table = _overhead_table(
        f"Single thread: add / get / complete cycles ({cycles:,} per run, best of {repeats})",
        best,
        cycles,
    )
    table.notes.append(
        "A cycle is three queue operations. Traced runs drain the recorder once per "
        f"{FRAME * 1000:.0f} ms frame, as the window does, and that drain is timed too."
    )
    return table


@section("threads", f"{PRODUCERS} producers + {WORKERS} workers, flat out")
def threaded(config: BenchConfig) -> Table:
    tasks, repeats = (1_000, 1) if config.quick else (20_000, 3)
    best: dict[str, dict[bool, float]] = {name: {} for name in config.strategies}
    errors: dict[str, int] = dict.fromkeys(config.strategies, 0)
    for repeat in range(repeats):
        for name in config.strategies:
            for traced in (False, True) if repeat % 2 == 0 else (True, False):
                seconds, failed = threaded_time(name, traced, tasks)
                best[name][traced] = min(seconds, best[name].get(traced, math.inf))
                errors[name] += failed
    table = _overhead_table(
        f"{PRODUCERS} producers + {WORKERS} workers, flat out ({tasks:,} tasks per run, "
        f"best of {repeats})",
        best,
        tasks,
    )
    table.columns.append(("errors", "errors"))
    for row in table.rows:
        row["errors"] = errors[row["strategy"]]
    table.notes.append(
        "Threads share one GIL, so this measures lock hand-offs and contention more "
        "than parallel speed; errors are the unsafe queue tripping over its races."
    )
    return table

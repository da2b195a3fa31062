"""Queue throughput: each strategy against its textbook, untraced and traced.

Three queues do the same operations in every round:

* **textbook**: the strategy's design written as a textbook would, with none
  of this project's code (:mod:`visualizer.bench.textbook`);
* **untraced**: the strategy built from a plain ``Tracer()`` (standard-library
  primitives, task events dropped): what the project's structure costs;
* **traced**: the strategy built from ``Tracer(Recorder())`` (traced
  primitives, every event recorded), with the recorder drained as the run
  process drains it for the window (:class:`~visualizer.engine.host.outbox.Outbox`:
  into frames for the pipe, blocks where the C speedups are built, pickled
  tuples where not), the drain timed too: what watching costs the watched
  process.

Times are CPU seconds over interleaved rounds (see :mod:`.rounds`); each ratio
is taken within a round and reported as the median and spread of the rounds.

Issue 15's targets: untraced within 1.3x of its textbook; traced within 1.3x of
untraced on one thread and 1.2x with 4 producers and 4 workers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.bench.rounds import Figure, interleaved, ratio, timed
from visualizer.bench.textbook import same_design
from visualizer.engine import userqueue
from visualizer.engine.host.outbox import Outbox
from visualizer.events import Recorder
from visualizer.queues import STRATEGIES, Tracer, speedups

KINDS = ("textbook", "untraced", "traced")

UNTRACED_TARGET = 1.3
"""Untraced strategy / its textbook queue."""
SINGLE_TARGET = 1.3
"""Traced / untraced, one thread."""
THREADED_TARGET = 1.2
"""Traced / untraced, 4 producers and 4 workers."""

DRAIN_EVERY = 1000
"""Single thread: cycles between two drains (about 6,000 events: a frame's worth)."""

WIRE_TICK = 65_536
"""Events a drain takes at a time: the run process's pump takes as many a tick."""

FRAME = 1 / 60
"""Seconds between two drains of the threaded runs' consumer (the window's frame)."""

PRODUCERS = 4
WORKERS = 4
GET_TIMEOUT = 0.05
THREAD_DEADLINE = 60.0
"""Longest a threaded measurement may take before the bench reports it as hung."""


def _nothing() -> None:
    """The untraced loops' stand-in for draining, so every loop runs the same code."""


def build_queue(name: str, tracer: Tracer) -> Any:
    """Strategy ``name``, or a user's queue given as ``PATH.py:ClassName``."""
    if ":" in name:
        return userqueue.build(userqueue.QueueRef.parse(name), tracer)
    return STRATEGIES[name](tracer)


def new_queue(kind: str, name: str) -> tuple[Any, Recorder | None]:
    """A ``kind`` queue (textbook, untraced or traced) of strategy ``name``, and its
    recorder.  A user's queue is set against the reference textbook queue."""
    if kind == "textbook":
        return same_design(name)(), None
    recorder = Recorder() if kind == "traced" else None
    return build_queue(name, Tracer(recorder)), recorder


def wire_drain(recorder: Recorder) -> Callable[[], object]:
    """Drain ``recorder`` into frames for the window's pipe, as the run process does."""
    outbox = Outbox(recorder, recorder.thread_name, blocks=speedups.decode_block is not None)

    def drain() -> None:
        while outbox.frames(WIRE_TICK)[1] == WIRE_TICK:
            pass

    return drain


def single_thread_time(kind: str, name: str, cycles: int) -> float:
    """CPU seconds for ``cycles`` add / get / complete cycles on one thread."""
    queue, recorder = new_queue(kind, name)
    drain = wire_drain(recorder) if recorder is not None else _nothing
    add, get, complete = queue.add_task, queue.get_next_task, queue.complete_task

    def work() -> None:
        for base in range(0, cycles, DRAIN_EVERY):
            for task_id in range(base, min(base + DRAIN_EVERY, cycles)):
                add(task_id, task_id % 10)
                complete(get().task_id)
            drain()

    return timed(work)


def threaded_time(kind: str, name: str, tasks: int) -> tuple[float, int]:
    """CPU seconds (all threads) for ``tasks`` cycles by 4 producers and 4 workers
    flat out, and the errors seen.

    Errors (only the unsafe queue has them) are counted, not raised: a bench
    must finish whatever the strategy does.
    """
    queue, recorder = new_queue(kind, name)
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
    pump = _Pump(recorder) if recorder is not None else None

    def work() -> None:
        if pump is not None:
            pump.start()
        for thread in producers + workers:
            thread.start()
        for thread in producers:
            thread.join(THREAD_DEADLINE)
        producers_done.set()
        for thread in workers:
            thread.join(THREAD_DEADLINE)
        if pump is not None:
            pump.stop()

    seconds = timed(work, threads=True)
    if any(thread.is_alive() for thread in producers + workers):
        raise RuntimeError(f"bench: {name} threads did not finish in {THREAD_DEADLINE:g} s")
    return seconds, sum(errors)


class _Pump:
    """The run process's pump, as the threaded runs' consumer: every frame, drain the
    recorder into frames for the pipe (then thrown away), and once more at the end."""

    def __init__(self, recorder: Recorder) -> None:
        self._drain = wire_drain(recorder)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-pump", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(THREAD_DEADLINE)

    def _loop(self) -> None:
        while not self._stop.wait(FRAME):
            self._drain()
        self._drain()


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else 0.0


def _compare(
    config: BenchConfig, rounds: int, work: int, measure: Callable[[str, str], float]
) -> tuple[dict[str, dict[str, list[float]]], Table]:
    """Every strategy's three kinds over interleaved rounds; the table's rows."""
    samples: dict[str, dict[str, list[float]]] = {}
    for name in config.strategies:
        cases = {kind: (lambda kind=kind, name=name: measure(kind, name)) for kind in KINDS}
        samples[name] = interleaved(cases, rounds)
    table = Table(
        "",
        [
            ("strategy", "strategy"),
            ("textbook_us", "textbook µs"),
            ("untraced_us", "untraced µs"),
            ("traced_us", "traced µs"),
            ("untraced_vs_textbook", "untraced/textbook"),
            ("untraced_vs_textbook_spread", "±"),
            ("traced_vs_untraced", "traced/untraced"),
            ("traced_vs_untraced_spread", "±"),
        ],
    )
    for name, by_kind in samples.items():
        untraced = ratio(by_kind, "untraced", "textbook")
        traced = ratio(by_kind, "traced", "untraced")
        row: dict[str, Any] = {"strategy": name}
        for kind in KINDS:
            row[f"{kind}_us"] = Figure.of(by_kind[kind]).median * 1e6 / work
        row["untraced_vs_textbook"] = untraced.median
        row["untraced_vs_textbook_spread"] = untraced.spread
        row["traced_vs_untraced"] = traced.median
        row["traced_vs_untraced_spread"] = traced.spread
        table.rows.append(row)
    return samples, table


def _verdicts(table: Table, traced_target: float) -> None:
    """Headline figures and one line per target, worst strategy named."""
    rows = table.rows
    if not rows:
        return
    worst_untraced = max(rows, key=lambda row: row["untraced_vs_textbook"])
    worst_traced = max(rows, key=lambda row: row["traced_vs_untraced"])
    safe = [row for row in rows if getattr(STRATEGIES.get(row["strategy"]), "safe", False)]
    table.headline = {
        "accelerator": speedups.PATH,
        "max_untraced_vs_textbook": worst_untraced["untraced_vs_textbook"],
        "untraced_target": UNTRACED_TARGET,
        "max_traced_vs_untraced": worst_traced["traced_vs_untraced"],
        "geometric_mean_traced_vs_untraced": geometric_mean(
            [row["traced_vs_untraced"] for row in rows]
        ),
        "traced_target": traced_target,
        "safe_strategies_max_traced_vs_untraced": max(
            (row["traced_vs_untraced"] for row in safe), default=0.0
        ),
    }

    def verdict(label: str, row: dict[str, Any], key: str, target: float) -> str:
        value = row[key]
        within = "within" if value <= target else "OVER"
        return f"{label}: worst {value:.2f}x ({row['strategy']}), {within} the {target:g}x target"

    table.notes.append(
        verdict("untraced/textbook", worst_untraced, "untraced_vs_textbook", UNTRACED_TARGET)
    )
    table.notes.append(
        verdict("traced/untraced", worst_traced, "traced_vs_untraced", traced_target)
        + f" (geometric mean {table.headline['geometric_mean_traced_vs_untraced']:.2f}x)"
    )
    table.notes.append(f"tracing fast path: {speedups.PATH}")


@section("single", "Single thread: add / get / complete cycles")
def single_thread(config: BenchConfig) -> Table:
    cycles, rounds = (2_000, 3) if config.quick else (50_000, 15)
    _, table = _compare(
        config, rounds, cycles, lambda kind, name: single_thread_time(kind, name, cycles)
    )
    table.title = (
        f"Single thread: add / get / complete cycles ({cycles:,} per run, CPU time, "
        f"median of {rounds} interleaved rounds)"
    )
    _verdicts(table, SINGLE_TARGET)
    table.notes.append(
        "µs: CPU time per cycle (three queue operations). ±: spread (max - min) of the "
        f"per-round ratios. Traced runs drain the recorder every {DRAIN_EVERY:,} cycles, "
        "as the window's consumer would, and that drain is timed too."
    )
    return table


@section("threads", f"{PRODUCERS} producers + {WORKERS} workers, flat out")
def threaded(config: BenchConfig) -> Table:
    tasks, rounds = (1_000, 2) if config.quick else (50_000, 21)
    errors: dict[str, int] = dict.fromkeys(config.strategies, 0)

    def measure(kind: str, name: str) -> float:
        seconds, failed = threaded_time(kind, name, tasks)
        errors[name] += failed
        return seconds

    _, table = _compare(config, rounds, tasks, measure)
    table.title = (
        f"{PRODUCERS} producers + {WORKERS} workers, flat out ({tasks:,} tasks per run, "
        f"CPU time of every thread, median of {rounds} interleaved rounds)"
    )
    table.columns.append(("errors", "errors"))
    for row in table.rows:
        row["errors"] = errors[row["strategy"]]
    _verdicts(table, THREADED_TARGET)
    table.notes.append(
        "Threads share one GIL, so this measures lock hand-offs and contention more "
        "than parallel speed; errors are the unsafe queue tripping over its races. "
        f"{tasks:,} tasks a run: with 20,000 one round's ratio ranged from 0.7 to 3.5 "
        "(who waits for whom swings from run to run on two cores). Even so, two runs of "
        "the same untraced unsafe queue differed by a ratio of 0.74 to 1.33 over 15 pairs "
        "(half of them outside 0.93-1.16): one run falls into long lock convoys, the next "
        "does not. Over 9 or 15 rounds the median still moved by 0.1 to 0.2 from run to "
        f"run (45 rounds of global-lock resampled: 15 in a row read 1.01x-1.24x, 21 in a "
        f"row 1.02x-1.14x, 5 % to 95 %), so it takes {rounds}."
    )
    return table

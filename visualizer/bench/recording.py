"""What recording costs: run time with recording on vs off, log size, load and replay time.

The issue's budget: recording may slow a run by at most a few per cent beyond
tracing itself.  So the baseline is a traced run whose consumer drains and
discards (what tracing costs already), and the measurement is the same run
whose consumer hands each batch to a :class:`LogWriter`, both timed in CPU time
(every thread of the process) from the run's start to its end, in interleaved
rounds whose per-round ratios give the median and spread (see :mod:`.rounds`).  The
writer defers encoding to ``close`` (see :mod:`visualizer.recording.writer`), so
that cost is reported apart, as the wait after the run; a third configuration
encodes every batch as it arrives, to show what deferring saves.

Loading is measured on a real run's log (not a repeated sample: replaying it
must fold like a run), as the time to parse it and the time the window then
spends folding it with checkpoints (:class:`~visualizer.recording.replay.Replay`).
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from time import perf_counter, process_time, thread_time
from typing import Any

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.bench.log_costs import measure_write
from visualizer.bench.rounds import interleaved, median, ratio
from visualizer.engine import Drainer, Run, RunState, Workload
from visualizer.events import Batch
from visualizer.recording import LogWriter, load_log
from visualizer.recording.replay import Replay

TARGET_OVERHEAD = 1.05
"""The issue's "a few per cent": recording on may take at most 5 % longer than tracing alone."""
EVENTS_PER_TASK = 7
"""About what a flat-out run records per task (add, pop, complete, their lock traffic:
with the C speedups an uncontended hold is one event, with pure Python two, about 10)."""
SEEKS = 20


def _workload(tasks: int) -> Workload:
    """Flat out, no work: the most events a second, where recording costs most."""
    return Workload(tasks=tasks, rate=0.0, work_time=0.0, capacity=50_000_000)


def record_run(path: str, workload: Workload) -> tuple[bool, int]:
    """Run ``workload`` with the window's own writer recording it to ``path``: whether
    it finished within ten minutes, and the events written."""
    run = Run(workload)
    with LogWriter(
        path,
        settings=asdict(workload),
        strategy=workload.strategy,
        thread_name=run.recorder.thread_name,
    ) as writer:
        with Drainer(run.recorder, writer.write_batch):
            run.start()
            finished = run.wait(600)
        run.stop()
    return finished, writer.events_written  # counted as the writer closed


def _discard(_batch: Batch) -> None:
    """Tracing only: the consumer drains and lets the batch go."""


def timed_run(tasks: int, mode: str, folder: str) -> tuple[float, float, int]:
    """One run: (run CPU seconds, CPU seconds spent closing the log, events).

    ``mode`` is ``"off"`` (tracing only), ``"on"`` (recording, encoding deferred)
    or ``"eager"`` (recording, every batch encoded as it is drained).
    """
    workload = _workload(tasks)
    run = Run(workload)
    writer = None
    consume: Callable[[Batch], object] = _discard
    if mode != "off":
        writer = LogWriter(
            os.path.join(folder, f"{mode}.jsonl"),
            settings=asdict(workload),
            strategy=workload.strategy,
            thread_name=run.recorder.thread_name,
            max_pending=0 if mode == "eager" else 500_000,
        )
        consume = writer.write_batch
    drainer = Drainer(run.recorder, consume)
    gc.collect()
    started = process_time()
    drainer.start()
    run.start()
    finished = run.wait(120)
    drainer.stop()
    seconds = process_time() - started
    if not finished or run.state is not RunState.FINISHED:
        run.stop()
        raise RuntimeError(f"bench: the recording run did not finish ({run.state.value})")
    closing = 0.0
    events = 0
    if writer is not None:
        started = thread_time()
        writer.close()
        closing = thread_time() - started
        events = writer.events_written
    return seconds, closing, events


def _load_figures(tasks: int, folder: str) -> dict[str, Any]:
    """Record a real run, then time loading it and folding it for the window."""
    path = os.path.join(folder, "load.jsonl")
    record_run(path, _workload(tasks))
    started = thread_time()
    recorded = load_log(path)
    load_s = thread_time() - started
    replay = Replay(recorded)
    started = thread_time()
    replay.build()
    build_s = thread_time() - started
    worst = 0.0
    step = max(1, replay.total // SEEKS)
    for position in range(replay.total - step // 2, 0, -step):  # backwards: the slow way
        started = perf_counter()
        replay.seek(position)
        worst = max(worst, perf_counter() - started)
    return {
        "events": replay.total,
        "bytes": os.path.getsize(path),
        "load_s": load_s,
        "build_s": build_s,
        "checkpoints": len(replay.checkpoints),
        "checkpoint_mb": replay.checkpoint_bytes / 1e6,
        "seek_ms": worst * 1000,
    }


@section("recording", "Recording: overhead on a run, log size, load and replay time")
def recording(config: BenchConfig) -> Table:
    tasks, rounds = (2_000, 2) if config.quick else (20_000, 5)
    load_events = 50_000 if config.quick else 1_000_000
    closing: dict[str, list[float]] = {"off": [], "on": [], "eager": []}
    written = [0]
    with tempfile.TemporaryDirectory() as folder:

        def case(mode: str) -> Callable[[], float]:
            def measure() -> float:
                seconds, closed, events = timed_run(tasks, mode, folder)
                closing[mode].append(closed)
                written[0] = max(written[0], events)
                return seconds

            return measure

        samples = interleaved({mode: case(mode) for mode in closing}, rounds)
        loaded = _load_figures(load_events // EVENTS_PER_TASK, folder)
    events = written[0]
    plain = measure_write(50_000 if config.quick else 200_000)
    packed = measure_write(50_000 if config.quick else 200_000, compress=True)

    overhead = ratio(samples, "on", "off")
    eager = ratio(samples, "eager", "off")
    closed = median(closing, "on").median
    table = Table(
        f"Recording ({tasks:,} tasks flat out, about {events:,} events a run, CPU time, "
        f"median of {rounds} interleaved rounds; a {loaded['events']:,}-event log loaded)",
        [("what", "what"), ("value", "value"), ("spread", "±"), ("unit", "unit")],
    )
    rows = [
        ("run, tracing only", tasks / median(samples, "off").median, None, "tasks/CPU s"),
        ("run, tracing + recording", tasks / median(samples, "on").median, None, "tasks/CPU s"),
        ("recording overhead (run CPU ratio)", overhead.median, overhead.spread, "x"),
        ("writing the log after the run", closed * 1000, None, "CPU ms"),
        ("encoding as it goes instead (ratio)", eager.median, eager.spread, "x"),
        ("log size per 10k events, .jsonl", plain.bytes_per_10k_events / 1024, None, "KiB"),
        ("log size per 10k events, .jsonl.gz", packed.bytes_per_10k_events / 1024, None, "KiB"),
        (f"load a {loaded['events']:,}-event log", loaded["load_s"], None, "CPU s"),
        ("replay: fold it with checkpoints", loaded["build_s"], None, "CPU s"),
        ("replay: checkpoints kept", loaded["checkpoint_mb"], None, "MB"),
        ("replay: slowest seek backwards", loaded["seek_ms"], None, "ms"),
    ]
    table.rows = [
        {"what": what, "value": value, "spread": spread, "unit": unit}
        for what, value, spread, unit in rows
    ]
    table.headline = {
        "overhead_ratio": overhead.median,
        "overhead_spread": overhead.spread,
        "target_ratio": TARGET_OVERHEAD,
        "bytes_per_10k_events": plain.bytes_per_10k_events,
        "gz_bytes_per_10k_events": packed.bytes_per_10k_events,
        "load_events": loaded["events"],
        "load_s": loaded["load_s"],
        "replay_build_s": loaded["build_s"],
        "seek_worst_ms": loaded["seek_ms"],
    }
    table.notes.append(
        f"recording overhead: {overhead.median:.3f}x the traced run (target: at most "
        f"{TARGET_OVERHEAD:g}x); encoding is deferred to the end of the run, "
        f"{closed * 1e9 / max(events, 1):.0f} ns an event"
    )
    return table

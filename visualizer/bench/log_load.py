"""Opening a log in the window: load time against ``json.loads``, and memory per event.

* **load**: CPU time of :class:`~visualizer.recording.reader.LogReader` loading a
  log, against ``json.loads`` of the same lines alone (the least any loader that
  checks its input can do), interleaved rounds, median and spread of the per-round
  ratio.  Target (issue 15): at most 1.5x.
* **memory**: what the window keeps once it has loaded the log and folded it with
  its seek checkpoints (:class:`~visualizer.recording.replay.Replay`), measured
  with ``tracemalloc`` in a pass of its own: bytes per event for the loaded log,
  for the checkpoints, and at the peak, and the peak projected to ten million
  events.  Target: under 1 GB for 10M events.

The log is a real run's (the default workload, flat out, on ``global-lock``),
recorded by the window's own writer.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import time
import tracemalloc

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.bench.recording import EVENTS_PER_TASK, record_run
from visualizer.bench.rounds import interleaved, median, ratio
from visualizer.engine import Workload
from visualizer.recording import reader
from visualizer.recording.reader import LogReader
from visualizer.recording.replay import Replay

LOAD_TARGET = 1.5
"""Loading / json.loads of the same lines."""
MEMORY_TARGET_BYTES = 1 << 30
PROJECTED_EVENTS = 10_000_000


def write_log(path: str, n_events: int) -> int:
    """Record a real flat-out run of about ``n_events`` events to ``path``; the events."""
    workload = Workload(tasks=max(1, n_events // EVENTS_PER_TASK), rate=0.0, work_time=0.0)
    finished, events = record_run(path, workload)
    if not finished:
        raise RuntimeError("bench: the run to record did not finish")
    return events


def json_seconds(path: str) -> float:
    """CPU seconds for ``json.loads`` of every line, and nothing else."""
    gc.collect()
    start = time.thread_time()
    with open(path, "rb") as lines:
        for line in lines:
            json.loads(line)
    return time.thread_time() - start


def load_seconds(path: str) -> float:
    """CPU seconds for loading the log (freeing it afterwards is not timed)."""
    gc.collect()
    start = time.thread_time()
    loaded = LogReader(max_events=50_000_000, max_bytes=1 << 34).load(path)
    seconds = time.thread_time() - start
    del loaded
    return seconds


def memory_figures(path: str) -> dict[str, float]:
    """Bytes per event: the loaded log, its checkpoints, and the peak of load + fold."""
    gc.collect()
    tracemalloc.start()
    try:
        loaded = LogReader(max_events=50_000_000, max_bytes=1 << 34).load(path)
        after_load, _ = tracemalloc.get_traced_memory()
        replay = Replay(loaded)
        replay.build()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    events = replay.total
    return {
        "events": events,
        "loaded": after_load / events,
        "checkpoints": replay.checkpoint_bytes / events,
        "checkpoint_count": len(replay.checkpoints),
        "peak": peak / events,
    }


@section("log", "Opening a log: load time against json.loads, memory per event")
def log_load(config: BenchConfig) -> Table:
    n_events, rounds = (100_000, 3) if config.quick else (1_000_000, 5)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.jsonl")
        n_events = write_log(path, n_events)
        samples = interleaved(
            {"json": lambda: json_seconds(path), "load": lambda: load_seconds(path)}, rounds
        )
        memory = memory_figures(path)
    load = ratio(samples, "load", "json")
    projected = memory["peak"] * PROJECTED_EVENTS
    table = Table(
        f"Opening a {n_events:,}-event log (CPU time, median of {rounds} interleaved rounds; "
        "memory by tracemalloc)",
        [("what", "what"), ("value", "value"), ("spread", "±"), ("unit", "unit")],
    )
    rows = [
        (
            "json.loads of its lines",
            median(samples, "json").median * 1e6 / n_events,
            None,
            "µs/event",
        ),
        ("load the log", median(samples, "load").median * 1e6 / n_events, None, "µs/event"),
        ("load / json.loads", load.median, load.spread, "x"),
        ("loaded log", memory["loaded"], None, "bytes/event"),
        ("checkpoints", memory["checkpoints"], None, "bytes/event"),
        ("peak while loading and folding", memory["peak"], None, "bytes/event"),
        (f"peak projected to {PROJECTED_EVENTS:,} events", projected / 1e6, None, "MB"),
    ]
    table.rows = [
        {"what": what, "value": value, "spread": spread, "unit": unit}
        for what, value, spread, unit in rows
    ]
    table.headline = {
        "load_vs_json": load.median,
        "load_target": LOAD_TARGET,
        "loaded_bytes_per_event": memory["loaded"],
        "checkpoint_bytes_per_event": memory["checkpoints"],
        "peak_bytes_per_event": memory["peak"],
        "projected_10m_mb": projected / 1e6,
        "reader_path": reader.PATH,
    }
    load_verdict = "within" if load.median <= LOAD_TARGET else "OVER"
    memory_verdict = "within" if projected < MEMORY_TARGET_BYTES else "OVER"
    table.notes.append(
        f"load: {load.median:.2f}x json.loads ({load_verdict} the {LOAD_TARGET:g}x target); "
        f"10M events: about {projected / 1e6:,.0f} MB ({memory_verdict} 1 GB)"
    )
    table.notes.append(f"converting events: {reader.PATH}")
    return table

"""Real logs to mutate: short runs recorded by the program itself, as ``run --record`` does.

Mutating what the program really writes (rather than made-up files) puts the
fuzz where bugs live: every kind of event, the header and end line, gzip,
violations, a deadlock, parked threads with their ``(file, line)``, dropped
events.  Each run is kept short (a few thousand events) so thousands of
mutated copies replay in minutes.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from visualizer.engine import Drainer, Run, Workload
from visualizer.engine.scenarios import load_scenario
from visualizer.events import Recorder
from visualizer.recording import LogWriter

RUN_TIMEOUT_S = 20.0
SCENARIO_TIMEOUT_S = 0.5
"""A scenario that deadlocks is stopped after this long (its log then shows the cycle)."""

WORKLOADS: tuple[tuple[str, Workload], ...] = (
    ("global-lock", Workload(strategy="global-lock", tasks=120, rate=0, work_time=0.0005)),
    (
        "unsafe-races",
        Workload(strategy="unsafe", tasks=200, rate=0, work_time=0, race_window=0.0002, seed=3),
    ),
    (
        "rwlock-cancels",
        Workload(strategy="rwlock", tasks=150, rate=0, work_time=0, cancel_probability=0.3),
    ),
    ("condition", Workload(strategy="condition", producers=3, workers=2, tasks=90, rate=0)),
    ("priority-queue", Workload(strategy="priority-queue", tasks=100, rate=0, work_time=0)),
    ("complete", Workload(strategy="complete", tasks=80, rate=0, work_time=0.0002)),
)
SCENARIOS = ("lock-ordering", "double-delivery", "forgotten-release", "semaphore", "check-then-act")


def _record(
    run: Run, path: Path, recorder: Recorder, timeout: float = RUN_TIMEOUT_S, steps: int = 0
) -> Path:
    """Drain ``run`` into a log at ``path`` until it ends (or is stopped at the time limit)."""
    writer = LogWriter(
        path,
        settings=dataclasses.asdict(run.workload),
        strategy=run.workload.strategy,
        thread_name=recorder.thread_name,
    )
    with Drainer(recorder, writer.write_batch):
        run.start(paused=steps > 0)
        for _ in range(steps):  # parked threads record where they stand: (file, line)
            if not _wait_for_park(run):
                break
            run.step()
        run.resume()
        if not run.wait(timeout):
            run.stop()
    writer.close()
    return path


def _wait_for_park(run: Run, timeout: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while not run.gate.parked():
        if time.monotonic() > deadline or run.wait(0.005):
            return False
    return True


def record_seed_logs(folder: Path) -> list[Path]:
    """Record the seed logs into ``folder``; returns their paths (some gzip-compressed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (name, workload) in enumerate(WORKLOADS):
        run = Run(workload)
        suffix = ".jsonl.gz" if index % 2 else ".jsonl"
        paths.append(_record(run, folder / f"{name}{suffix}", run.recorder))
    # Dropped events: a recorder that holds almost nothing, drained rarely.
    small = Run(Workload(strategy="global-lock", tasks=400, rate=0, work_time=0, capacity=1000))
    paths.append(_record_with_drops(small, folder / "dropped.jsonl"))
    for index, name in enumerate(SCENARIOS):
        scenario = load_scenario(name)
        run = scenario.make_run(fixed=False)
        run.label = name
        suffix = ".jsonl.gz" if index % 2 else ".jsonl"
        path = folder / f"scenario-{name}{suffix}"
        paths.append(_record(run, path, run.recorder, SCENARIO_TIMEOUT_S, steps=12))
    return paths


def _record_with_drops(run: Run, path: Path) -> Path:
    """A run drained only at its end: the recorder keeps its newest events, counts the rest."""
    recorder = run.recorder
    writer = LogWriter(
        path,
        settings=dataclasses.asdict(run.workload),
        strategy=run.workload.strategy,
        thread_name=recorder.thread_name,
    )
    run.start()
    if not run.wait(RUN_TIMEOUT_S):
        run.stop()
    writer.write_batch(recorder.drain())
    writer.close()
    return path

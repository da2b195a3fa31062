"""``bench --section explore``: how fast ``explore`` finds each bug, beside frontrun.

For the unsafe strategy, a user-file copy of it, and the lost-update,
double-delivery, check-then-act and lock-ordering scenarios: schedules played
and seconds until the first violation (median over seeds; our search is the
default portfolio: stale reads, random, PCT and DFS in turns).  For a queue with one lock:
schedules per second while exhausting the DFS's bound, per second of wall time and of
CPU time, in rounds that take turns with frontrun's.

frontrun (``pip install .[bench]``) is measured on the same code written its
way (:mod:`.frontrun_cases`), run as ``frontrun python script.py`` in a
process of its own: its random search (median over seeds) and its DPOR.
Without frontrun the table says so and shows our side alone.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.bench.frontrun_cases import LOCKED, UNSAFE_COPY, script
from visualizer.engine import Workload
from visualizer.stepping.search import search
from visualizer.stepping.subject import Subject

QUEUE_WORKLOAD: dict[str, Any] = {
    "producers": 2,
    "workers": 2,
    "tasks": 2,
    "rate": 0.0,
    "work_time": 0.0,
}
FRONTRUN_TIMEOUT_S = 120.0
EXHAUST_ROUNDS = 3
EXHAUST_SECONDS = 20.0
"""The one-lock rate: rounds per side, taking turns, and seconds each."""


def _frontrun() -> str | None:
    beside = Path(sys.executable).with_name("frontrun")
    return str(beside) if beside.exists() else shutil.which("frontrun")


def _ours(subject: Subject, seeds: range, model: str | None = None) -> tuple[float, float]:
    """Median schedules and seconds to the first violation."""
    granularity, shape_model = subject.shape()
    counts, seconds = [], []
    for seed in seeds:
        found = search(
            subject.make_run, granularity, model or shape_model, seed=seed, budget_seconds=60
        )
        counts.append(found.progress.schedules if found.played else float("nan"))
        seconds.append(found.progress.seconds)
    return statistics.median(counts), statistics.median(seconds)


def _theirs(
    tool: str, folder: Path, case: str, strategy: str, seed: int, timeout: float, extra: str = "{}"
) -> dict:
    path = folder / f"{case.replace(' ', '_')}_{strategy}_{seed}.py"
    path.write_text(script(case, strategy, seed, timeout, extra))
    try:
        done = subprocess.run(
            [tool, sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout + 60,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"explored": None, "holds": None, "error": "timed out"}
    for line in done.stdout.splitlines():
        if line.startswith("FRONTRUN "):
            return json.loads(line[len("FRONTRUN ") :])
    return {"explored": None, "holds": None, "error": (done.stderr.strip() or "no answer")[-80:]}


def _verdict(answer: dict) -> str:
    if answer.get("error"):
        return f"raised {answer['error'][:40]}"
    if answer["holds"] is False:
        return f"{answer['explored']} ({answer['seconds']:.2f} s)"
    return f"missed: holds after {answer['explored']}"


def _median_random(tool: str, folder: Path, case: str, seeds: range) -> str:
    answers = [_theirs(tool, folder, case, "random", seed, 60) for seed in seeds]
    found = [a for a in answers if a.get("holds") is False]
    if len(found) < len(answers):
        return f"found in {len(found)}/{len(answers)} seeds"
    return (
        f"{statistics.median(a['explored'] for a in found):g} "
        f"({statistics.median(a['seconds'] for a in found):.2f} s)"
    )


@section("explore", "explore: schedules to the first violation, beside frontrun")
def explore_bench(config: BenchConfig) -> Table:
    seeds = range(3 if config.quick else 7)
    tool = _frontrun()
    table = Table(
        f"explore: schedules (and seconds) to the first violation; medians over {len(seeds)} seeds",
        [
            ("case", "case"),
            ("ours", "explore: schedules"),
            ("ours_s", "explore: s"),
            ("fr_random", "frontrun random"),
            ("fr_dpor", "frontrun DPOR"),
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy = folder / "unsafe_copy.py"
        copy.write_text(UNSAFE_COPY)
        locked = folder / "locked.py"
        locked.write_text(LOCKED)
        cases = [
            ("unsafe strategy", Subject(Workload(strategy="unsafe", **QUEUE_WORKLOAD)), None),
            (
                "unsafe copy (user file)",
                Subject(Workload(queue=f"{copy}:UnsafeCopy", **QUEUE_WORKLOAD)),
                "unsafe copy",
            ),
        ]
        cases += [
            (name, Subject(scenario=name), name)
            for name in ("lost-update", "double-delivery", "check-then-act", "lock-ordering")
        ]
        for name, subject, theirs in cases:
            schedules, seconds = _ours(subject, seeds)
            row = {"case": name, "ours": schedules, "ours_s": round(seconds, 3)}
            if tool is not None and theirs is not None:
                row["fr_random"] = _median_random(tool, folder, theirs, seeds)
                row["fr_dpor"] = _verdict(_theirs(tool, folder, theirs, "dpor", 0, 60))
            table.rows.append(row)
        table.rows.append(_exhaust(config, tool, folder, locked))
    if tool is None:
        table.notes.append("frontrun is not installed here: pip install '.[bench]'")
    table.notes.append(
        "Ours: the default search (stale reads, random, PCT, bounded DFS in turns), 2 producers, "
        "2 workers, 2 tasks for the queues, each scenario as its bug schedule steps it "
        "(lost update and double delivery free-threaded, the rest with the GIL). "
        "frontrun: the same code as 2 adders and 2 getters (or the scenario's own "
        "threads), run by `frontrun python script.py`."
    )
    return table


def _exhaust(config: BenchConfig, tool: str | None, folder: Path, locked: Path) -> dict:
    """Schedules per second while exhausting a bound on the one-lock queue.

    In rounds that take turns (ours, then frontrun's DPOR, ``ROUNDS`` times), so
    that a machine shared with other work slows both sides alike; each side's
    rate is given per second of wall time and per second of CPU time (all of
    its threads), as the median of the rounds and their spread.
    """
    rounds, seconds = (1, 5.0) if config.quick else (EXHAUST_ROUNDS, EXHAUST_SECONDS)
    subject = Subject(Workload(queue=f"{locked}:LockedQueue", **QUEUE_WORKLOAD))
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    answer: dict = {}
    exhausted = False
    for _ in range(rounds):
        cpu = time.process_time()
        found = search(
            subject.make_run,
            "instruction",
            "gil",
            methods=("dfs",),
            max_preemptions=2,
            budget_seconds=seconds,
        )
        state = found.progress
        exhausted = exhausted or found.exhausted
        ours.append(_rates(state.schedules, state.seconds, time.process_time() - cpu))
        if tool is not None:
            answer = _theirs(
                tool, folder, "locked queue", "dpor", 0, seconds, "{'preemption_bound': 2}"
            )
            if answer.get("explored"):
                theirs.append(
                    _rates(answer["explored"], answer["seconds"], answer.get("cpu_seconds", 0.0))
                )
    row = {
        "case": "locked queue: schedules/s (DFS, 2 preemptions)",
        "ours": _rate_text(ours),
        "ours_s": "exhausted" if exhausted else f"{rounds} x {seconds:.0f} s",
    }
    if tool is not None:
        if theirs:
            held = "holds" if answer.get("holds") else "timed out"
            row["fr_dpor"] = f"{_rate_text(theirs)} ({held})"
        else:
            row["fr_dpor"] = _verdict(answer)
    return row


def _rates(schedules: int, wall: float, cpu: float) -> tuple[float, float]:
    return (schedules / wall if wall else 0.0), (schedules / cpu if cpu else 0.0)


def _rate_text(rates: list[tuple[float, float]]) -> str:
    """``median/s wall, median/s CPU`` with the spread of the rounds."""
    if not rates:
        return "-"
    parts = []
    for which, label in ((0, "wall"), (1, "CPU")):
        values = [rate[which] for rate in rates]
        spread = f" [{min(values):.0f}-{max(values):.0f}]" if len(values) > 1 else ""
        parts.append(f"{statistics.median(values):.0f}/s {label}{spread}")
    return ", ".join(parts)

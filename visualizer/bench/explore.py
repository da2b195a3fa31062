"""``bench --section explore``: how fast ``explore`` finds each bug, beside frontrun.

For the unsafe strategy, a user-file copy of it, and the lost-update,
double-delivery, check-then-act and lock-ordering scenarios: schedules played
and seconds until the first violation (median over seeds; our search is the
default portfolio: stale reads, random, PCT and DFS in turns).  For a queue with one lock:
schedules per second while exhausting the DFS's bound.

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
    """Schedules per second while exhausting a bound on the one-lock queue."""
    seconds = 10.0 if config.quick else 60.0
    subject = Subject(Workload(queue=f"{locked}:LockedQueue", **QUEUE_WORKLOAD))
    found = search(
        subject.make_run,
        "instruction",
        "gil",
        methods=("dfs",),
        max_preemptions=2,
        budget_seconds=seconds,
    )
    state = found.progress
    rate = state.schedules / state.seconds if state.seconds else 0.0
    done = "exhausted" if found.exhausted else f"{state.schedules} in {state.seconds:.0f} s"
    row = {
        "case": "locked queue: schedules/s (DFS, 2 preemptions)",
        "ours": f"{rate:.0f}/s",
        "ours_s": done,
    }
    if tool is not None:
        answer = _theirs(
            tool, folder, "locked queue", "dpor", 0, seconds, "{'preemption_bound': 2}"
        )
        if answer.get("explored"):
            held = "holds" if answer["holds"] else "timed out"
            row["fr_dpor"] = f"{answer['explored'] / answer['seconds']:.0f}/s ({held})"
        else:
            row["fr_dpor"] = _verdict(answer)
    return row

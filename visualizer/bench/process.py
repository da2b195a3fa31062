"""The run in its own process: what the window costs the run, and the run the window.

Each figure comes from the window itself, started as a child with
``QT_QPA_PLATFORM=offscreen`` and ``--fresh`` (every view visible), as in the
``gui`` section; the run it starts goes in a run process of its own.

* For 4+4, 8+8 and 32+32 threads flat out on ``global-lock``: the GUI event
  loop's lateness (p50, p99), the events folded per second and per CPU-second
  of the window's process, the tasks the run completed per second while watched,
  and the same run's tasks per second headless (``python -m visualizer run``:
  one process, its model folded on a thread).
* Start to first event: the window clicks Start several times, each time with a
  run process waiting as it keeps one, and times the click to the first batch
  folded into the views (``--measure-start``).

Targets (issue 10): p99 under 50 ms at every thread count; events folded per
window CPU-second at 32+32 at least 0.8 of 4+4; the watched run's throughput at
least 0.8 of headless; start to first event under 300 ms.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.bench.gui import APP, CHILD_TIMEOUT_S, _env, _number

LATENCY_TARGET_MS = 50.0
FOLD_RATIO_TARGET = 0.8
WATCHED_RATIO_TARGET = 0.8
START_TARGET_MS = 300.0
THREADS = (4, 8, 32)

_WINDOW = re.compile(
    r"p50 (?P<p50>[0-9.]+) ms, p99 (?P<p99>[0-9.]+) ms over [0-9,]+ ticks; "
    r"folded (?P<events>[0-9,]+) events in (?P<seconds>[0-9.]+) s .*; "
    r"dropped (?P<dropped>[0-9,]+); "
    r"completed (?P<completed>[0-9,]+) tasks; "
    r"CPU window (?P<cpu_window>[0-9.]+) s, run process (?P<cpu_run>[0-9.na]+) s"
)
_HEADLESS = re.compile(r"throughput: (?P<tasks_s>[0-9.]+) tasks/s \((?P<events>[0-9,]+) events")
_START = re.compile(r"start to first event: median (?P<median>[0-9]+) ms, max (?P<max>[0-9]+) ms")


def _flat_out(threads: int) -> list[str]:
    return [
        "--strategy", "global-lock", "--producers", str(threads), "--workers", str(threads),
        "--rate", "0", "--tasks", "0", "--work-time", "0",
    ]  # fmt: skip


def watched(threads: int, seconds: float) -> dict[str, float]:
    """One flat-out run in the window: latency, events folded, CPU, tasks per second."""
    argv = [*APP, "--run", *_flat_out(threads), "--quit-after", f"{seconds:g}", "--measure-latency"]
    result = subprocess.run(
        argv, env=_env(), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S + seconds
    )
    match = _WINDOW.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"bench: the window run failed: {result.stderr.strip()[-500:]}")
    found = {key: _number(value) for key, value in match.groupdict().items()}
    run_s = found["seconds"] or float("nan")
    found["events_per_s"] = found["events"] / run_s
    found["events_per_cpu_s"] = found["events"] / (found["cpu_window"] or float("nan"))
    found["tasks_per_s"] = found["completed"] / run_s
    return found


def headless(threads: int, seconds: float) -> float:
    """Tasks per second of the same run without a window (the command line's run)."""
    argv = [sys.executable, "-m", "visualizer", "run", *_flat_out(threads), "--duration",
            f"{seconds:g}"]  # fmt: skip
    result = subprocess.run(
        argv, env=_env(), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S + seconds
    )
    match = _HEADLESS.search(result.stdout)
    if match is None:
        raise RuntimeError(f"bench: the headless run failed: {result.stderr.strip()[-500:]}")
    return float(match["tasks_s"])


def start_latency(starts: int) -> tuple[float, float]:
    """Median and worst milliseconds from clicking Start to the first events shown."""
    argv = [*APP, "--measure-start", str(starts), *_flat_out(4)]
    result = subprocess.run(
        argv, env=_env(), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S
    )
    match = _START.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"bench: the start probe failed: {result.stderr.strip()[-500:]}")
    return float(match["median"]), float(match["max"])


@section("process", "The run in its own process: window latency and throughput")
def measure_process(config: BenchConfig) -> Table:
    seconds = 4.0 if config.quick else 10.0
    rows: list[dict[str, Any]] = []
    for threads in THREADS[::2] if config.quick else THREADS:
        found = watched(threads, seconds)
        alone = headless(threads, seconds * 0.7)
        rows.append(
            {
                "threads": f"{threads}+{threads}",
                "p50_ms": found["p50"],
                "p99_ms": found["p99"],
                "events_per_s": found["events_per_s"],
                "events_per_cpu_s": found["events_per_cpu_s"],
                "dropped": int(found["dropped"]),
                "tasks_per_s": found["tasks_per_s"],
                "headless_tasks_per_s": alone,
                "watched_ratio": found["tasks_per_s"] / alone if alone else float("nan"),
            }
        )
    median_ms, max_ms = start_latency(3 if config.quick else 9)
    table = Table(
        "Window and run process: global-lock flat out, every view visible",
        [
            ("threads", "threads"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
            ("events_per_s", "folded/s"), ("events_per_cpu_s", "folded/CPU-s"),
            ("dropped", "dropped"), ("tasks_per_s", "tasks/s watched"),
            ("headless_tasks_per_s", "tasks/s headless"), ("watched_ratio", "watched/headless"),
        ],
        rows,
    )  # fmt: skip
    worst_p99 = max(row["p99_ms"] for row in rows)
    fold_ratio = rows[-1]["events_per_cpu_s"] / rows[0]["events_per_cpu_s"]
    watched_ratio = min(row["watched_ratio"] for row in rows)
    dropped = sum(row["dropped"] for row in rows)
    table.headline = {
        "worst_p99_ms": worst_p99,
        "fold_ratio": fold_ratio,
        "watched_ratio": watched_ratio,
        "dropped": dropped,
        "start_median_ms": median_ms,
        "start_max_ms": max_ms,
    }

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    table.notes += [
        f"process: worst p99 {worst_p99:.1f} ms (target < {LATENCY_TARGET_MS:g}: "
        f"{verdict(worst_p99 < LATENCY_TARGET_MS)}); {dropped:,} events dropped",
        f"process: folded per window CPU-second, {rows[-1]['threads']} vs {rows[0]['threads']}: "
        f"{fold_ratio:.2f} (target >= {FOLD_RATIO_TARGET:g}: "
        f"{verdict(fold_ratio >= FOLD_RATIO_TARGET)})",
        f"process: run throughput watched / headless, worst {watched_ratio:.2f} (target >= "
        f"{WATCHED_RATIO_TARGET:g}: {verdict(watched_ratio >= WATCHED_RATIO_TARGET)})",
        f"process: start to first event median {median_ms:.0f} ms, max {max_ms:.0f} ms "
        f"(target < {START_TARGET_MS:g}: {verdict(max_ms < START_TARGET_MS)})",
    ]
    return table

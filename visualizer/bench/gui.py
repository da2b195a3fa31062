"""The window's speed: how long it takes to appear, and how responsive it stays flat out.

Why a child process: start-up time only means something from a cold interpreter
(imports included), and the bench itself must stay Qt-free (it runs where no Qt
is installed too).  So both sections run ``python -m visualizer.ui.app`` with
``QT_QPA_PLATFORM=offscreen`` and ``--fresh`` (default layout, every view
visible, no saved settings read or written) and read what it prints:

* ``startup``: ``--print-paint-time`` prints the wall-clock time of the window's
  first paint; the time from spawning the child to that paint is one sample.
  Target (issue 6): under 2 s.
* ``gui``: ``--measure-latency`` runs 4 producers and 4 workers flat out on
  ``global-lock`` and prints a precise timer's lateness (p50/p99) and the events
  folded and dropped.  Target (issue 3): p99 under 50 ms while ingesting at least
  100k events/s with none dropped.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time

from visualizer.bench.core import BenchConfig, Table, section

STARTUP_TARGET_S = 2.0
LATENCY_TARGET_MS = 50.0
INGEST_TARGET = 100_000
CHILD_TIMEOUT_S = 120.0
APP = (sys.executable, "-m", "visualizer.ui.app", "--fresh")

_PAINTED = re.compile(r"^window painted at (?P<time>[0-9.]+)$", re.MULTILINE)
_LATENCY = re.compile(
    r"latency: p50 (?P<p50>[0-9.]+) ms, p99 (?P<p99>[0-9.]+) ms over (?P<ticks>[0-9,]+) ticks; "
    r"folded (?P<events>[0-9,]+) events in (?P<seconds>[0-9.]+) s .*; dropped (?P<dropped>[0-9,]+)"
)


def _env() -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def startup_once() -> float:
    """Seconds from spawning the app to its window's first paint."""
    spawned = time.time()
    result = subprocess.run(
        [*APP, "--print-paint-time"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    match = _PAINTED.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"bench: the window did not start: {result.stderr.strip()[-500:]}")
    return float(match["time"]) - spawned


@section("startup", "Window start-up")
def measure_startup(config: BenchConfig) -> Table:
    runs = 3 if config.quick else 7
    samples = [startup_once() for _ in range(runs)]
    median, worst = statistics.median(samples), max(samples)
    table = Table(
        "Window start-up: process start to first paint (offscreen)",
        [("launch", "launch"), ("seconds", "seconds")],
        [{"launch": str(n), "seconds": s} for n, s in enumerate(samples, start=1)],
    )
    table.headline = {"median_s": median, "max_s": worst, "target_s": STARTUP_TARGET_S}
    verdict = "within" if worst < STARTUP_TARGET_S else "OVER"
    table.notes.append(
        f"start-up: median {median:.2f} s, max {worst:.2f} s over {runs} launches "
        f"({verdict} the {STARTUP_TARGET_S:g} s target)"
    )
    return table


def gui_latency(seconds: float) -> dict[str, float]:
    """One flat-out window run: latency percentiles, events/s folded, events dropped."""
    argv = [
        *APP,
        "--strategy",
        "global-lock",
        "--run",
        "--producers",
        "4",
        "--workers",
        "4",
        "--rate",
        "0",
        "--tasks",
        "0",
        "--work-time",
        "0",
        "--quit-after",
        f"{seconds:g}",
        "--measure-latency",
    ]
    result = subprocess.run(
        argv, env=_env(), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S + seconds
    )
    match = _LATENCY.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"bench: the window run failed: {result.stderr.strip()[-500:]}")
    values = {key: _number(match[key]) for key in ("p50", "p99", "events", "seconds", "dropped")}
    values["events_per_s"] = values["events"] / values["seconds"] if values["seconds"] else 0.0
    values["dropped_per_s"] = values["dropped"] / values["seconds"] if values["seconds"] else 0.0
    return values


@section("gui", "GUI event-loop latency, flat out")
def measure_gui(config: BenchConfig) -> Table:
    seconds = 4.0 if config.quick else 12.0
    found = gui_latency(seconds)
    table = Table(
        "GUI event loop: global-lock, 4 producers + 4 workers flat out, every view visible",
        [
            ("p50_ms", "p50 ms"),
            ("p99_ms", "p99 ms"),
            ("events_per_s", "events/s folded"),
            ("dropped", "dropped"),
            ("dropped_per_s", "dropped/s"),
            ("seconds", "run s"),
        ],
        [
            {
                "p50_ms": found["p50"],
                "p99_ms": found["p99"],
                "events_per_s": found["events_per_s"],
                "dropped": int(found["dropped"]),
                "dropped_per_s": found["dropped_per_s"],
                "seconds": found["seconds"],
            }
        ],
    )
    table.headline = {
        "p50_ms": found["p50"],
        "p99_ms": found["p99"],
        "events_per_s": found["events_per_s"],
        "dropped": int(found["dropped"]),
    }
    met = (
        found["p99"] < LATENCY_TARGET_MS
        and found["events_per_s"] >= INGEST_TARGET
        and found["dropped"] == 0
    )
    table.notes.append(
        f"gui: p99 {found['p99']:.1f} ms at {found['events_per_s']:,.0f} events/s, "
        f"{int(found['dropped']):,} dropped (target: p99 < {LATENCY_TARGET_MS:g} ms at "
        f">= {INGEST_TARGET:,} events/s, none dropped: {'met' if met else 'NOT met'})"
    )
    return table

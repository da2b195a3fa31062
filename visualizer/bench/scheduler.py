"""What the controlled scheduler costs: per step, per undo, per schedule searched.

* **step**: CPU microseconds per step of a controlled run (lost update, 200
  tasks, every instruction a switch point), against the same program run
  freely, per task; on this interpreter (``sys.settrace`` on 3.11,
  ``sys.monitoring`` on 3.12+) and on every other CPython found under pyenv.
* **undo**: taking back one step of a 500-step history (a fresh run replays
  499 steps), wall and CPU time, median and spread of interleaved rounds.
* **search**: schedules played per second while exhausting a bounded space.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from visualizer.bench.core import BenchConfig, Table, section
from visualizer.engine import Run
from visualizer.engine.scenarios import load_scenario
from visualizer.engine.scheduler import Control
from visualizer.stepping.explore import explore
from visualizer.stepping.session import Session

UNDO_HISTORY = 500

_STEP_SCRIPT = """
import statistics, sys, time
from visualizer.engine.scenarios import load_scenario
from visualizer.engine.scheduler import Control, continue_in_order
scenario = load_scenario("lost-update")
per_step, per_task = [], []
for _ in range(ROUNDS):
    run = scenario.make_run(control=Control("instruction", "free", policy=continue_in_order,
                                            max_steps=None), tasks=TASKS)
    cpu = time.process_time()
    run.start()
    assert run.wait(120)
    cpu = time.process_time() - cpu
    steps = len(run.gate.history)
    free = scenario.make_run(tasks=TASKS)
    free_cpu = time.process_time()
    free.start()
    assert free.wait(120)
    free_cpu = time.process_time() - free_cpu
    per_step.append(cpu * 1e6 / steps)
    per_task.append(free_cpu * 1e6 / TASKS)
def figure(values):
    return "%.2f %.2f" % (statistics.median(values), max(values) - min(values))
print(sys.version.split()[0], figure(per_step), steps, figure(per_task))
"""


def _other_pythons() -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for minor in ("3.12", "3.13", "3.14"):
        found.extend(sorted(root.glob(f"{minor}.*/bin/python"))[-1:])
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    return [path for path in found if here not in path.parent.parent.name]


def _step_cost(python: str, tasks: int, rounds: int) -> list[str] | None:
    script = _STEP_SCRIPT.replace("ROUNDS", str(rounds)).replace("TASKS", str(tasks))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [python, "-c", script], capture_output=True, text=True, timeout=600, env=env
    )
    if done.returncode != 0:
        return None
    return done.stdout.split()


@section("scheduler", "The controlled scheduler: step, undo and search costs")
def measure(config: BenchConfig) -> Table:
    tasks = 40 if config.quick else 200
    rounds = 2 if config.quick else 5
    table = Table(
        "Controlled scheduler",
        [
            ("what", "measure"),
            ("python", "Python"),
            ("value", "value"),
            ("spread", "spread"),
            ("unit", "unit"),
        ],
    )
    for python in [sys.executable, *map(str, _other_pythons())]:
        figures = _step_cost(python, tasks, rounds)
        if figures is None:
            table.notes.append(f"{python}: could not run the step measurement")
            continue
        version, per_step, step_spread, steps, per_task, task_spread = figures
        table.rows.append(
            {
                "what": f"one step ({steps} steps, lost update, free model)",
                "python": version,
                "value": float(per_step),
                "spread": float(step_spread),
                "unit": "CPU µs/step",
            }
        )
        table.rows.append(
            {
                "what": "the same program run freely",
                "python": version,
                "value": float(per_task),
                "spread": float(task_spread),
                "unit": "CPU µs/task",
            }
        )

    history = UNDO_HISTORY if not config.quick else 200
    scenario = load_scenario("lost-update")

    def make(control: Control) -> Run:
        return scenario.make_run(control=control, tasks=200)

    session = Session(make, "instruction", "free")
    try:
        for _ in range(history):
            session.step()
        walls, cpus = [], []
        for _ in range(rounds * 2):
            session.step()
            wall, cpu = time.perf_counter(), time.process_time()
            session.undo()
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    finally:
        session.close()
    for label, values in (("wall ms", walls), ("CPU ms", cpus)):
        table.rows.append(
            {
                "what": f"undo one step of {history}",
                "python": sys.version.split()[0],
                "value": statistics.median(values),
                "spread": max(values) - min(values),
                "unit": label,
            }
        )
    table.headline["undo_ms_median"] = round(statistics.median(walls), 1)

    lost = load_scenario("lost-update")
    start = time.perf_counter()
    found = explore(
        lambda control: lost.make_run(control=control, tasks=2), "instruction", "gil", 2
    )
    seconds = time.perf_counter() - start
    table.rows.append(
        {
            "what": f"search: all {found.schedules} schedules, <= 2 preemptions (lost update, GIL)",
            "python": sys.version.split()[0],
            "value": found.schedules / seconds,
            "spread": None,
            "unit": "schedules/s",
        }
    )
    table.notes.append("median and spread (max - min) of the rounds")
    return table


__all__ = ["measure"]

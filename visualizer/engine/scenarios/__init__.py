"""Teaching scenarios: pitfalls you can watch go wrong, then fix.

Each scenario is a TOML file in ``resources/scenarios/`` (the story, the
parameters, the fix switch; format in :mod:`.loader`) naming one of the
programs below: a short module with the buggy and the fixed code side by side,
run by an ordinary :class:`~visualizer.engine.Run` so that pause, step, slow
motion and stop work as for any strategy.
"""

from visualizer.engine.scenarios.busy_polling import BusyPolling
from visualizer.engine.scenarios.check_then_act import CheckThenAct
from visualizer.engine.scenarios.double_delivery import DoubleDelivery
from visualizer.engine.scenarios.forgotten_release import ForgottenRelease
from visualizer.engine.scenarios.loader import (
    FIGURES,
    Scenario,
    ScenarioError,
    available,
    load_all,
    load_scenario,
    scenario_dir,
)
from visualizer.engine.scenarios.lock_ordering import LockOrdering
from visualizer.engine.scenarios.lost_update import LostUpdate
from visualizer.engine.scenarios.program import Context, Param, Program, ThreadSpec
from visualizer.engine.scenarios.self_deadlock import SelfDeadlock
from visualizer.engine.scenarios.semaphore_limit import SemaphoreLimit
from visualizer.engine.scenarios.slow_io import SlowIO
from visualizer.engine.scenarios.writer_starvation import WriterStarvation

PROGRAMS: dict[str, type[Program]] = {
    "lost-update": LostUpdate,
    "double-delivery": DoubleDelivery,
    "check-then-act": CheckThenAct,
    "self-deadlock": SelfDeadlock,
    "lock-ordering": LockOrdering,
    "slow-io": SlowIO,
    "forgotten-release": ForgottenRelease,
    "writer-starvation": WriterStarvation,
    "busy-polling": BusyPolling,
    "semaphore": SemaphoreLimit,
}

__all__ = [
    "FIGURES",
    "PROGRAMS",
    "BusyPolling",
    "CheckThenAct",
    "Context",
    "DoubleDelivery",
    "ForgottenRelease",
    "LockOrdering",
    "LostUpdate",
    "Param",
    "Program",
    "Scenario",
    "ScenarioError",
    "SelfDeadlock",
    "SemaphoreLimit",
    "SlowIO",
    "ThreadSpec",
    "WriterStarvation",
    "available",
    "load_all",
    "load_scenario",
    "scenario_dir",
]

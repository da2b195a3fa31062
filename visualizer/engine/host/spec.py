"""What to run, as plain data: the one thing the window hands the run process.

A :class:`RunSpec` names a run the way a user chose it (a workload with its
strategy, or a scenario with its fix switch, seed and parameters) rather than
holding the objects that make it, so it crosses a pipe as a dict and builds the
same :class:`~visualizer.engine.Run` in any process: :meth:`RunSpec.build` is
what the run process calls, and what a test or the command line may call
in-process.  Fields for later options (a user's queue file, controlled
stepping) go here too, each with a default that means "as before".
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from visualizer.engine.run import Run
from visualizer.engine.scheduler import Control, Policy, continue_in_order
from visualizer.engine.userqueue import QueueRef
from visualizer.engine.userqueue.source import class_names
from visualizer.engine.workload import Workload
from visualizer.events import Recorder
from visualizer.queues import STRATEGIES


@dataclass(frozen=True)
class RunSpec:
    """A run to build: ``workload``, or the ``scenario`` (a name or a .toml path) instead.

    ``strategies`` are extra strategy classes, each ``"module:Class"``, that
    the building process imports from its own path and registers under their
    ``name`` first, so the workload may name them (a test's hostile queue).
    ``control`` makes the run a controlled one (see ``visualizer.engine.scheduler``);
    of its policies only the default order crosses a pipe (:data:`POLICIES`).
    """

    workload: Workload = field(default_factory=Workload)
    scenario: str | None = None
    fixed: bool = False
    seed: int | None = None  # a scenario's seed; None: the file's
    params: Mapping[str, Any] = field(default_factory=dict)  # scenario parameter overrides
    strategies: tuple[str, ...] = ()
    control: Control | None = None

    def label(self) -> str:
        """What the run is, in a status bar (the same text :attr:`Run.label` gets)."""
        if self.scenario is None:
            return self.workload.strategy
        name = Path(self.scenario).stem if self.scenario.endswith(".toml") else self.scenario
        return f"{name} ({'fixed' if self.fixed else 'not fixed'})"

    def build(self, recorder: Recorder | None = None) -> Run:
        """The run, not yet started; ``ValueError`` (one line) if it cannot be built."""
        self._register_strategies()
        if self.scenario is None:
            return Run(self.workload, recorder, control=self.control)
        from visualizer.engine.scenarios import load_scenario

        scenario = load_scenario(self.scenario)
        return scenario.make_run(
            self.fixed, self.seed, recorder, control=self.control, **dict(self.params)
        )

    def check(self) -> None:
        """Raise the one-line ``ValueError`` :meth:`build` would, without building anything.

        Called where the run is asked for, so a bad setting is refused at once
        instead of by a run process a moment later.
        """
        extra = self._extra_strategies()
        if self.control is not None:
            _control_data(self.control)  # only a policy with a name can cross
        if self.scenario is None:
            workload = self.workload
            if workload.strategy in extra:  # registered only where the run is built
                workload = workload.replace(strategy=next(iter(STRATEGIES)))
            workload.validate()
            if workload.queue is not None:
                _check_queue_file(QueueRef.parse(workload.queue))
            return
        from visualizer.engine.scenarios import load_scenario

        scenario = load_scenario(self.scenario)
        by_name = {param.name: param for param in scenario.program_class.params}
        for key, value in self.params.items():
            if key not in by_name:
                raise ValueError(f"{key}: not a parameter of program {scenario.program}")
            try:
                by_name[key].check(value)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None

    def source_file(self) -> str | None:
        """The module a code panel shows for this run: the strategy's, or the program's."""
        try:
            if self.scenario is None and self.workload.queue is not None:
                return QueueRef.parse(self.workload.queue).path  # a user's queue: its own file
            if self.scenario is None:
                known = {**STRATEGIES, **self._extra_strategies()}
                return inspect.getsourcefile(known[self.workload.strategy])
            from visualizer.engine.scenarios import load_scenario

            return inspect.getsourcefile(load_scenario(self.scenario).program_class)
        except (KeyError, TypeError, ValueError):
            return None

    def _extra_strategies(self) -> dict[str, type]:
        classes = (_strategy_class(entry) for entry in self.strategies)
        return {getattr(cls, "name"): cls for cls in classes}  # noqa: B009 (a plain type)

    def _register_strategies(self) -> None:
        STRATEGIES.update(self._extra_strategies())

    # --- crossing the pipe -----------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        return {
            "workload": asdict(self.workload),
            "scenario": self.scenario,
            "fixed": self.fixed,
            "seed": self.seed,
            "params": dict(self.params),
            "strategies": list(self.strategies),
            "control": None if self.control is None else _control_data(self.control),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RunSpec:
        return cls(
            workload=Workload(**data["workload"]),
            scenario=data["scenario"],
            fixed=data["fixed"],
            seed=data["seed"],
            params=dict(data["params"]),
            strategies=tuple(data["strategies"]),
            control=None if data["control"] is None else _control_of(data["control"]),
        )


def _check_queue_file(ref: QueueRef) -> None:
    """The file reads, parses and defines the class, checked without running a line of it.

    A user's code runs only in the run process; this catches at Start what a
    window can say at once (a moved file, a typo in the class name).
    """
    if ref.class_name not in class_names(ref):
        raise ref.problem(f"defines no class {ref.class_name}")


def _strategy_class(entry: str) -> type:
    """The class ``"module:Class"`` names; ``ValueError`` (one line) if there is none."""
    module_name, _, class_name = entry.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"strategy {entry!r}: {exc}") from None
    if not isinstance(cls, type) or not getattr(cls, "name", ""):
        raise ValueError(f"strategy {entry!r}: not a strategy class with a name")
    return cls


POLICIES: dict[str, Policy] = {"in-order": continue_in_order}
"""The policies a controlled run can be given across a pipe, by name."""


def _control_data(control: Control) -> dict[str, Any]:
    data = asdict(control)
    policy = control.policy
    if policy is None:
        data["policy"] = None
    else:
        names = [name for name, known in POLICIES.items() if known is policy]
        if not names:
            raise ValueError(f"control: the policy {policy!r} cannot be sent to a run process")
        data["policy"] = names[0]
    data["plan"] = list(control.plan)
    data["extra_files"] = list(control.extra_files)
    return data


def _control_of(data: Mapping[str, Any]) -> Control:
    fields = dict(data)
    policy = fields.pop("policy")
    return Control(
        **{
            **fields,
            "plan": tuple(fields["plan"]),
            "extra_files": tuple(fields["extra_files"]),
            "policy": None if policy is None else POLICIES[policy],
        }
    )

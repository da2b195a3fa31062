"""What a search or a saved counterexample runs, as plain data: a strategy, a user's queue
or a scenario, with its workload.

A :class:`Subject` is what the command line was given and what a recording's
header keeps (:meth:`to_data`), so the window can build the very same run
again from a saved file and step it.  It builds runs for any controlled
:class:`~visualizer.engine.scheduler.Control` (``make_run``), in this process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from visualizer.engine import Run, Workload
from visualizer.engine.scheduler import Control, interpreter_model
from visualizer.engine.userqueue import QueueRef

SMALL: dict[str, Any] = {"producers": 2, "workers": 2, "tasks": 3, "rate": 0.0, "work_time": 0.0}
"""A search's default workload: every schedule short, the bugs still reachable."""


@dataclass(frozen=True)
class Subject:
    workload: Workload = field(default_factory=lambda: Workload(**SMALL))
    scenario: str | None = None
    fixed: bool = False

    @property
    def kind(self) -> str:
        if self.scenario is not None:
            return "scenario"
        return "queue" if self.workload.queue is not None else "strategy"

    @property
    def label(self) -> str:
        if self.scenario is not None:
            return f"scenario {self.scenario}{' (fixed)' if self.fixed else ''}"
        return self.workload.subject

    def describe(self) -> str:
        """One line: what runs, and with how many threads and tasks."""
        if self.scenario is not None:
            return self.label
        w = self.workload
        return f"{self.label}: {w.producers} producers, {w.workers} workers, {w.tasks} tasks"

    def shape(self) -> tuple[str, str]:
        """Granularity and model a search uses unless told: a scenario's own, else instructions."""
        if self.scenario is not None:
            bug = self._scenario().bug_schedule
            if bug is not None:
                return bug.granularity, bug.model
        return "instruction", interpreter_model()

    def make_run(self, control: Control | None) -> Run:
        if self.scenario is not None:
            return self._scenario().make_run(
                fixed=self.fixed, seed=self.workload.seed, control=control
            )
        return Run(self.workload, control=control)

    def check(self) -> None:
        """Raise a one-line ``ValueError`` if the subject cannot run (a queue is tried once)."""
        if self.scenario is not None:
            self._scenario()
            return
        self.workload.validate()
        if self.workload.queue is not None:
            from visualizer.engine.userqueue.probe import probe

            probe(QueueRef.parse(self.workload.queue))

    def _scenario(self) -> Any:
        from visualizer.engine.scenarios import ScenarioError, load_scenario

        try:
            return load_scenario(self.scenario or "")
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None

    # --- as plain data (a recording's header) ----------------------------------------
    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "label": self.label}
        if self.scenario is not None:
            data.update(scenario=self.scenario, fixed=self.fixed, seed=self.workload.seed)
        else:
            data["workload"] = asdict(self.workload)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Subject:
        """The subject a header names; ``ValueError`` (one line) if it cannot be read."""
        try:
            if data.get("scenario") is not None:
                seed = data.get("seed", 0)
                return cls(Workload(seed=seed), str(data["scenario"]), bool(data.get("fixed")))
            known = {f.name for f in fields(Workload)}
            values = {k: v for k, v in dict(data["workload"]).items() if k in known}
            workload = Workload(**values)
            workload.validate()
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the recorded subject cannot be read: {exc}") from None
        return cls(workload)

"""Scenario files: the format, its validation, and the :class:`Scenario` they load into.

A scenario is a TOML file in ``resources/scenarios/`` named after the scenario
(``lost-update.toml`` holds the scenario ``lost-update``).  Every field::

    name = "lost-update"          # required; the file's name without .toml
    title = "Lost update: ..."    # required; one line, at most 80 characters
    order = 1                     # optional (default 100); menus list scenarios by it

    [story]                       # required; plain sentences a lecturer can read aloud
    watch = "..."                 # what to look at while it runs
    why = "..."                   # why it happens
    fix = "..."                   # what the fix changes

    [run]                         # required
    program = "lost-update"       # required; which program runs (see PROGRAMS)
    seed = 1                      # optional (default 0); replays the same random choices
    time_limit = 20.0             # optional (default 20 s); a headless run stops after it
    threads = 2                   # ... and the program's own parameters (each optional,
    race_window = 0.01            #     see the program's ``params`` for names and ranges)

    [fix]                         # required
    label = "Lock the counter"    # required; the text of the "Apply fix" switch

    [detect]                      # required; exactly one of:
    violations = ["lost-update"]  # violation kinds the checker reports without the fix
    figure = "cpu"                # or the measured figure that shows the problem:
                                  # "lock-wait", "writer-wait" or "cpu"

Long strings may span lines (TOML's ``\"\"\"``); line breaks and runs of spaces
read as single spaces, so the window can wrap the text to its width.

Anything wrong gives a :class:`ScenarioError` whose message names the file and
the field, for example ``lost-update.toml: [run] threads: must be an integer
from 1 to 16``; unknown keys are errors too, so a typo cannot pass silently.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visualizer.engine.scenarios.program import TIME_LIMIT, Context, Param, Program
from visualizer.engine.scheduler.schedule import Schedule, ScheduleError
from visualizer.engine.workload import Workload
from visualizer.events import VIOLATION_KINDS, Recorder
from visualizer.paths import resource

if TYPE_CHECKING:
    from visualizer.engine.run import Run
    from visualizer.engine.scheduler import Control

FIGURES = {
    "lock-wait": "lock wait and hold times, and throughput",
    "writer-wait": "how long the writer waited for the read-write lock",
    "cpu": "CPU seconds each thread used",
}

SEED = Param("seed", int, 0, 2**63 - 1, 0)  # of the program's random choices
TITLE_MAX = 80
STORY_MAX = 1000
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid; the message says where and why."""


@dataclass(frozen=True)
class Scenario:
    """One loaded, validated scenario file."""

    name: str
    title: str
    order: int
    watch: str
    why: str
    fix: str
    program: str
    params: Mapping[str, Any]  # every parameter of the program, defaults filled in
    seed: int
    time_limit: float
    fix_label: str
    expect_violations: tuple[str, ...]
    figure: str | None
    path: Path = field(compare=False)
    bug_schedule: Schedule | None = None  # plays the bug under the controlled scheduler
    good_schedule: Schedule | None = None  # an order of the same threads that stays correct

    @property
    def program_class(self) -> type[Program]:
        from visualizer.engine.scenarios import PROGRAMS

        return PROGRAMS[self.program]

    def workload(self, seed: int | None = None) -> Workload:
        """The workload a run of this scenario carries (only its seed matters to it)."""
        return Workload(seed=self.seed if seed is None else seed)

    def make_run(
        self,
        fixed: bool = False,
        seed: int | None = None,
        recorder: Recorder | None = None,
        control: Control | None = None,
        **overrides: Any,
    ) -> Run:
        """A run of this scenario's program, buggy or ``fixed``, not yet started.

        ``overrides`` change program parameters for this run (tests use it to
        take the race window out while they step by hand); they are checked
        against the same ranges as the file.
        """
        from visualizer.engine.run import Run, run_label

        params = dict(self.params)
        by_name = {param.name: param for param in self.program_class.params}
        for key, value in overrides.items():
            if key not in by_name:
                raise ValueError(f"{key}: not a parameter of program {self.program}")
            try:
                params[key] = by_name[key].check(value)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        program: Callable[[Run], Program] = partial(_build, self.program_class, params, fixed)
        run = Run(self.workload(seed), recorder, program=program, control=control)
        run.scenario = {"name": self.name, "fixed": fixed, "params": params}
        run.label = run_label(run.workload.strategy, run.scenario)
        return run


def _build(cls: type[Program], params: Mapping[str, Any], fixed: bool, run: Run) -> Program:
    return cls(Context(run, params, fixed))


# --- loading ------------------------------------------------------------------------
def scenario_dir() -> Path:
    return resource("scenarios")


def scenario_path(name: str) -> Path:
    return scenario_dir() / f"{name}.toml"


def available() -> list[str]:
    """Names of the scenario files present (valid or not), sorted."""
    folder = scenario_dir()
    return sorted(path.stem for path in folder.glob("*.toml")) if folder.is_dir() else []


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load one scenario by name (from the resources) or by path; raises ScenarioError."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        if not _NAME.fullmatch(str(name_or_path)):
            raise ScenarioError(f"unknown scenario {str(name_or_path)!r}")
        path = scenario_path(str(name_or_path))
        if not path.is_file():
            choices = ", ".join(available()) or "none installed"
            raise ScenarioError(f"unknown scenario {path.stem!r} (choose from: {choices})")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path.name}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of nesting
        raise ScenarioError(f"{path.name}: not valid TOML: nested too deep") from None
    try:
        return _parse(data, path)
    except _FieldError as exc:
        raise ScenarioError(f"{path.name}: {exc}") from None


def load_all() -> tuple[list[Scenario], list[ScenarioError]]:
    """Every scenario in the resources, in menu order, and the errors of the broken ones."""
    scenarios, errors = [], []
    for name in available():
        try:
            scenarios.append(load_scenario(name))
        except ScenarioError as exc:
            errors.append(exc)
    scenarios.sort(key=lambda s: (s.order, s.name))
    return scenarios, errors


# --- validation ---------------------------------------------------------------------
class _FieldError(Exception):
    """A bad field; the message starts with the field's name ("[run] threads: ...")."""


def _parse(data: dict[str, Any], path: Path) -> Scenario:
    from visualizer.engine.scenarios import PROGRAMS

    _no_unknown(data, "", {"name", "title", "order", "story", "run", "fix", "detect", "schedule"})
    name = _text(data, "", "name", 60)
    if name != path.stem:
        raise _FieldError(f"name: must match the file name ({path.stem!r}), not {name!r}")
    title = _text(data, "", "title", TITLE_MAX)
    order = data.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= 999:
        raise _FieldError("order: must be an integer from 1 to 999")

    story = _table(data, "story")
    _no_unknown(story, "story", {"watch", "why", "fix"})
    watch, why, fix = (_text(story, "story", key, STORY_MAX) for key in ("watch", "why", "fix"))

    run = _table(data, "run")
    program_name = _text(run, "run", "program", 60)
    if program_name not in PROGRAMS:
        choices = ", ".join(sorted(PROGRAMS))
        raise _FieldError(f"[run] program: unknown {program_name!r} (choose from: {choices})")
    program = PROGRAMS[program_name]
    own = {param.name: param for param in program.params}
    common = {SEED.name: SEED, TIME_LIMIT.name: TIME_LIMIT}
    allowed = {**own, **common}
    for key in run:
        if key != "program" and key not in allowed:
            takes = ", ".join(["program", *allowed])
            raise _FieldError(
                f"[run] {key}: unknown parameter (program {program_name} takes: {takes})"
            )
    values = {}
    for key, param in allowed.items():
        try:
            values[key] = param.check(run.get(key, param.default))
        except ValueError as exc:
            raise _FieldError(f"[run] {key}: {exc}") from None

    fix_table = _table(data, "fix")
    _no_unknown(fix_table, "fix", {"label"})
    fix_label = _text(fix_table, "fix", "label", TITLE_MAX)

    detect = _table(data, "detect")
    _no_unknown(detect, "detect", {"violations", "figure"})
    if ("violations" in detect) == ("figure" in detect):
        raise _FieldError("[detect]: give exactly one of 'violations' or 'figure'")
    expect: tuple[str, ...] = ()
    figure = None
    if "violations" in detect:
        kinds = detect["violations"]
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
            raise _FieldError("[detect] violations: must be a non-empty list of violation kinds")
        for kind in kinds:
            if kind not in VIOLATION_KINDS:
                choices = ", ".join(VIOLATION_KINDS)
                raise _FieldError(
                    f"[detect] violations: unknown kind {kind!r} (choose from: {choices})"
                )
        expect = tuple(kinds)
    else:
        figure = detect["figure"]
        if not isinstance(figure, str) or figure not in FIGURES:
            raise _FieldError(f"[detect] figure: must be one of {', '.join(FIGURES)}")

    bug_schedule = good_schedule = None
    if "schedule" in data:
        table = _table(data, "schedule")
        _no_unknown(table, "schedule", {"bug", "good"})
        bug_schedule = _schedule(table, "bug")
        # No good order exists for a bug that does not depend on timing (a lock never released).
        good_schedule = _schedule(table, "good") if "good" in table else None

    seed = int(values.pop(SEED.name))
    time_limit = values.pop(TIME_LIMIT.name)
    return Scenario(
        name=name,
        title=title,
        order=order,
        watch=watch,
        why=why,
        fix=fix,
        program=program_name,
        params=values,
        seed=seed,
        time_limit=time_limit,
        fix_label=fix_label,
        expect_violations=expect,
        figure=figure,
        path=path,
        bug_schedule=bug_schedule,
        good_schedule=good_schedule,
    )


def _schedule(table: dict[str, Any], key: str) -> Schedule:
    text = _text(table, "schedule", key, STORY_MAX)
    try:
        return Schedule.parse(text)
    except ScheduleError as exc:
        raise _FieldError(f"[schedule] {key}: {exc}") from None


def _where(section: str, key: str) -> str:
    return f"[{section}] {key}" if section else key


def _table(data: dict[str, Any], section: str) -> dict[str, Any]:
    table = data.get(section)
    if table is None:
        raise _FieldError(f"[{section}]: missing (see resources/scenarios/README.md)")
    if not isinstance(table, dict):
        raise _FieldError(f"[{section}]: must be a table ([{section}] on a line of its own)")
    return table


def _text(table: dict[str, Any], section: str, key: str, limit: int) -> str:
    where = _where(section, key)
    if key not in table:
        raise _FieldError(f"{where}: missing")
    value = table[key]
    if not isinstance(value, str):
        raise _FieldError(f"{where}: must be a string")
    text = " ".join(value.split())
    if not text:
        raise _FieldError(f"{where}: must not be empty")
    if len(text) > limit:
        raise _FieldError(f"{where}: too long ({len(text)} characters, at most {limit})")
    return text


def _no_unknown(table: dict[str, Any], section: str, known: set[str]) -> None:
    for key in table:
        if key not in known:
            expected = ", ".join(sorted(known))
            raise _FieldError(f"{_where(section, key)}: unknown key (expected: {expected})")

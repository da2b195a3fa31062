"""Scenario files: a broken one gets one clear message naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from visualizer.engine.scenarios import ScenarioError, load_all, load_scenario
from visualizer.engine.scenarios.loader import FIGURES as FIGURE_NAMES
from visualizer.events import DEADLOCK, VIOLATION_KINDS
from visualizer.model import FIGURES

GOOD = """\
name = "lost-update"
title = "Lost update"

[story]
watch = "The counter."
why = "A read and a write."
fix = "A lock."

[run]
program = "lost-update"
threads = 2

[fix]
label = "Lock it"

[detect]
violations = ["lost-update"]
"""


def write(tmp_path: Path, text: str, name: str = "lost-update.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_with_defaults_filled_in(tmp_path):
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.name == "lost-update" and scenario.order == 100
    assert scenario.params == {"threads": 2, "tasks": 20}
    assert scenario.bug_schedule is None and scenario.good_schedule is None
    assert scenario.seed == 0 and scenario.time_limit == 20.0
    assert scenario.expect_violations == ("lost-update",) and scenario.figure is None


def test_multi_line_story_text_reads_as_one_paragraph(tmp_path):
    text = GOOD.replace('watch = "The counter."', 'watch = """\nThe  counter\ngoes wrong.\n"""')
    assert load_scenario(write(tmp_path, text)).watch == "The counter goes wrong."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("threads = 2", "threads = 40"), "[run] threads: must be an integer from 1 to 16"),
        (("threads = 2", 'threads = "two"'), "[run] threads: must be an integer from 1 to 16"),
        (("threads = 2", "threads = 2.5"), "[run] threads: must be an integer from 1 to 16"),
        (("threads = 2", "tasks = 0"), "[run] tasks: must be an integer from 1 to 10000"),
        (
            ("[fix]", '[schedule]\nbug = "clerk-1"\ngood = "line: clerk-1"\n[fix]'),
            "[schedule] bug: a schedule starts with its granularity",
        ),
        (
            ("[fix]", '[schedule]\nbug = "line: a"\ngood = "line: a"\nugly = 1\n[fix]'),
            "[schedule] ugly: unknown",
        ),
        (("threads = 2", "thredas = 2"), "[run] thredas: unknown parameter (program lost-update"),
        (("threads = 2", "seed = -3"), "[run] seed: must be an integer from 0 to"),
        (("threads = 2", "time_limit = 0"), "[run] time_limit: must be a number from 0.5 to 600"),
        (('program = "lost-update"', 'program = "nope"'), "[run] program: unknown 'nope'"),
        (('program = "lost-update"\n', ""), "[run] program: missing"),
        (('name = "lost-update"', 'name = "other"'), "name: must match the file name"),
        (('title = "Lost update"', "title = 3"), "title: must be a string"),
        (('title = "Lost update"', 'title = "  "'), "title: must not be empty"),
        (('title = "Lost update"', f'title = "{"x" * 81}"'), "title: too long (81 characters"),
        (('title = "Lost update"\n', 'title = "t"\norder = 0\n'), "order: must be an integer"),
        (('title = "Lost update"\n', 'title = "t"\ncolour = 1\n'), "colour: unknown key"),
        (('why = "A read and a write."\n', ""), "[story] why: missing"),
        (('why = "A read and a write."', 'how = "x"'), "[story] how: unknown key"),
        (('[fix]\nlabel = "Lock it"\n', ""), "[fix]: missing"),
        (('violations = ["lost-update"]', 'violations = ["oops"]'), "unknown kind 'oops'"),
        (('violations = ["lost-update"]', "violations = []"), "[detect] violations: must be a"),
        (('violations = ["lost-update"]', 'figure = "speed"'), "[detect] figure: must be one of"),
        (
            ('violations = ["lost-update"]', 'violations = ["lost-update"]\nfigure = "cpu"'),
            "[detect]: give exactly one of",
        ),
        (("[story]", "[story"), "not valid TOML: "),
        # Item 6: these raised TypeError and RecursionError, crashing the menu at start.
        (('violations = ["lost-update"]', "figure = []"), "[detect] figure: must be one of"),
        (('violations = ["lost-update"]', "figure = {a = 1}"), "[detect] figure: must be one"),
        (("threads = 2", "threads = " + "[" * 5000 + "]" * 5000), "nested too deep"),
        (("threads = 2", "threads = " + "{a=" * 3000 + "1" + "}" * 3000), "nested too deep"),
    ],
)
def test_broken_files_name_the_file_and_the_field(tmp_path, change, message):
    old, new = change
    assert old in GOOD
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, GOOD.replace(old, new, 1)))
    text = str(caught.value)
    assert text.startswith("lost-update.toml: "), text
    assert message in text, text
    assert "\n" not in text


def test_a_table_given_as_a_value_is_named(tmp_path):
    text = GOOD.replace('[run]\nprogram = "lost-update"\nthreads = 2\n', "")
    text = text.replace('title = "Lost update"\n', 'title = "Lost update"\nrun = 1\n')
    with pytest.raises(ScenarioError, match=r"lost-update.toml: \[run\]: must be a table"):
        load_scenario(write(tmp_path, text))


def test_not_utf8_and_unknown_names_are_clear(tmp_path):
    path = tmp_path / "lost-update.toml"
    path.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ScenarioError, match="lost-update.toml: not UTF-8 text"):
        load_scenario(path)
    with pytest.raises(
        ScenarioError, match="unknown scenario 'no-such'.*choose from: .*lost-update"
    ):
        load_scenario("no-such")
    with pytest.raises(ScenarioError, match="unknown scenario '../etc'"):
        load_scenario("../etc")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_parameter_overrides_are_checked_like_the_file():
    scenario = load_scenario("lost-update")
    with pytest.raises(ValueError, match="threads: must be an integer from 1 to 16"):
        scenario.make_run(threads=0)
    with pytest.raises(ValueError, match="speed: not a parameter of program lost-update"):
        scenario.make_run(speed=1)


def test_detect_names_are_the_shared_kinds_and_the_models_figures():
    scenarios, errors = load_all()
    assert scenarios and not errors
    expected = {kind for scenario in scenarios for kind in scenario.expect_violations}
    assert DEADLOCK in expected and expected <= set(VIOLATION_KINDS)
    assert set(FIGURE_NAMES) == set(FIGURES)


def test_a_broken_file_among_the_resources_is_listed_with_its_error(tmp_path, monkeypatch):
    """Item 6: a broken file in resources/scenarios/ crashed `scenarios` and the window."""
    import io

    from visualizer.cli.scenarios import list_scenarios
    from visualizer.engine.scenarios import load_all, loader

    write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace('violations = ["lost-update"]', "figure = []"), "bad.toml")
    write(tmp_path, "x = " + "[" * 5000 + "]" * 5000, "deep.toml")
    monkeypatch.setattr(loader, "scenario_dir", lambda: tmp_path)
    scenarios, errors = load_all()
    assert [s.name for s in scenarios] == ["lost-update"]
    assert sorted(str(e).split(":")[0] for e in errors) == ["bad.toml", "deep.toml"]
    out, err = io.StringIO(), io.StringIO()
    assert list_scenarios(out, err) == 2
    assert out.getvalue().startswith("lost-update") and len(err.getvalue().splitlines()) == 2

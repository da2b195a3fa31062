"""``scenarios`` and ``run --scenario``: a title, a summary and a verdict; one-line errors."""

from __future__ import annotations

import pytest

from visualizer.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main
from visualizer.engine.scenarios import load_all
from visualizer.events import TASK_COMPLETED


def test_scenarios_lists_every_scenario_with_its_title(capsys):
    assert main(["scenarios"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    scenarios, _ = load_all()
    assert len(lines) == len(scenarios) == 10
    for line, scenario in zip(lines, scenarios, strict=True):
        assert line.split()[0] == scenario.name and line.endswith(scenario.title)


def test_run_scenario_shows_the_bug_and_exits_1(capsys):
    assert main(["run", "--scenario", "self-deadlock"]) == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0] == "Self-deadlock: a Lock taken twice by its owner  (without the fix)"
    )
    assert "stopped (stuck)" in out
    assert "deadlock: 1" in out and "which it already holds itself" in out
    assert "the bug showed: deadlock detected" in out


def test_run_scenario_fixed_is_clean_and_the_seed_is_shown(capsys):
    assert main(["run", "--scenario", "self-deadlock", "--fixed", "--seed", "42"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "(with the fix)" in out and "fixed: Use an RLock; seed 42" in out
    assert "invariant violations: none" in out
    assert "clean: the fix holds" in out


def test_a_figure_scenario_prints_its_figure(capsys):
    assert main(["run", "--scenario", "busy-polling", "--fixed"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "cpu: CPU used: " in out and "worker-1" in out
    assert "run --scenario busy-polling" in out  # how to get the other half of the comparison


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--scenario", "nope"], "--scenario: unknown scenario 'nope' (choose from: "),
        (["run", "--scenario", "lost-update", "--workers", "3"], "--workers: a scenario sets"),
        (
            ["run", "--scenario", "lost-update", "--record", "/no/such/folder/x.jsonl"],
            "--record: cannot write /no/such/folder/x.jsonl: the folder",
        ),
        (["run", "--fixed"], "--fixed: only with --scenario NAME"),
        (["run", "--scenario", "lost-update", "--seed", "-1"], "--seed: must be an integer from 0"),
    ],
)
def test_bad_scenario_arguments_get_one_line_and_status_2(argv, fragment, capsys):
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("visualizer run: error: ") and fragment in line


def test_a_broken_scenario_file_is_one_line_naming_file_and_field(tmp_path, capsys):
    bad = tmp_path / "mine.toml"
    bad.write_text(
        'name = "mine"\ntitle = "Mine"\n[story]\nwatch = "w"\nwhy = "y"\nfix = "f"\n'
        '[run]\nprogram = "lost-update"\nthreads = 99\n[fix]\nlabel = "l"\n'
        '[detect]\nviolations = ["lost-update"]\n'
    )
    assert main(["run", "--scenario", str(bad)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "visualizer run: error: --scenario: mine.toml: [run] threads: must be an integer "
        "from 1 to 16 (see --help)"
    ]


def test_a_scenario_run_is_recorded_with_its_scenario_and_steps(tmp_path, capsys):
    from visualizer.recording.reader import LogReader

    path = tmp_path / "lost.jsonl.gz"
    assert main(["run", "--scenario", "lost-update", "--record", str(path)]) == EXIT_VIOLATIONS
    assert f"to {path}" in capsys.readouterr().err
    recorded = LogReader().load(str(path))
    scenario = recorded.scenario
    assert scenario["name"] == "lost-update" and scenario["fixed"] is False
    assert scenario["params"]["tasks"] >= 1
    assert scenario["schedule"].startswith("instruction/free: clerk-2")  # the bug, as played
    assert recorded.events  # and its events
    assert main(["replay", str(path)]) == EXIT_VIOLATIONS
    assert capsys.readouterr().out.startswith("scenario lost-update (without the fix), seed ")


def test_a_free_scenario_run_is_recorded_too(tmp_path, capsys):
    from visualizer.recording.reader import LogReader

    path = tmp_path / "slow.jsonl"
    argv = ["run", "--scenario", "slow-io", "--fixed", "--record", str(path)]
    assert main(argv) == EXIT_OK
    recorded = LogReader().load(str(path))
    assert recorded.scenario["name"] == "slow-io" and recorded.scenario["fixed"] is True
    assert "schedule" not in recorded.scenario
    assert any(event[2] == TASK_COMPLETED for event in recorded.events)

"""Mutated real logs through replay, export and the window: every one is accepted or
refused with one clear line (issue 14's fuzz, a few hundred cases; thousands run with
``python -m visualizer fuzz``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from visualizer.cli.fuzz import command_answer
from visualizer.fuzz import CLEAN, OUTCOMES, Child, Mutator, Result, classify_command, harness
from visualizer.fuzz.seeds import record_seed_logs
from visualizer.recording import reader

ROOT = Path(__file__).resolve().parents[1]
CLI_CASES = 300
WINDOW_CASES = 40


@pytest.fixture(scope="module")
def mutator(tmp_path_factory) -> Mutator:
    seeds = record_seed_logs(tmp_path_factory.mktemp("seeds"))
    return Mutator([path.read_bytes() for path in seeds], seed=14)


def test_the_mutator_makes_the_same_case_every_time(mutator):
    assert mutator.case(7) == mutator.case(7)
    assert mutator.case(7) != mutator.case(8)


@pytest.mark.parametrize("command", ["replay", "export"])
def test_every_mutated_log_is_accepted_or_refused_with_one_line(mutator, tmp_path, command):
    answer = command_answer(command)
    outcomes: dict[str, int] = {}
    bad = []
    for index in range(CLI_CASES):
        data, how = mutator.case(index)
        case = tmp_path / f"case-{index}.jsonl"
        case.write_bytes(data)
        result = answer({"path": str(case), "truncated": index % 3 == 0})
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        if result.outcome not in CLEAN:
            bad.append(f"case {index} ({how}): {result}")
    assert not bad, "\n".join(bad)
    # Both paths are exercised: many logs get through to the model, many are refused.
    assert outcomes["accepted"] > CLI_CASES // 5 and outcomes["refused"] > CLI_CASES // 5


def test_the_window_opens_every_mutated_log_without_a_crash(mutator, open_window, tmp_path):
    from visualizer.ui.fuzz_window import WindowCase

    case = WindowCase(open_window())
    bad = []
    try:
        for index in range(WINDOW_CASES):
            data, how = mutator.case(index)
            path = tmp_path / f"case-{index}.jsonl"
            path.write_bytes(data)
            result = case.answer({"path": str(path)})
            if result.outcome not in CLEAN:
                bad.append(f"case {index} ({how}): {result}")
    finally:
        case.restore()
    assert not bad, "\n".join(bad)


def test_the_harness_tells_a_crash_and_a_hang_from_an_answer(monkeypatch, tmp_path):
    crash = "import sys; sys.stdin.readline(); sys.exit(3)"
    hang = "import sys, time; sys.stdin.readline(); time.sleep(60)"
    answer = 'import sys; sys.stdin.readline(); print(\'{"outcome": "refused"}\', flush=True)'
    for name, code in (("crash", crash), ("hang", hang), ("answer", answer)):
        monkeypatch.setitem(harness.TARGETS, name, [sys.executable, "-c", code])
        monkeypatch.setitem(harness.TIMEOUTS, name, 5.0)
    child = Child("crash")
    assert child.run(str(tmp_path)).outcome == "crash"
    child = Child("hang", timeout=1.0)
    assert child.run(str(tmp_path)).outcome == "hang" and child.process is None
    child = Child("answer")
    assert child.run(str(tmp_path)) == Result("refused", "")
    child.close()


@pytest.mark.parametrize(
    ("status", "err", "outcome"),
    [
        (2, "visualizer replay: error: x: line 2: bad\n", "refused"),
        (2, "visualizer replay: error: a\nvisualizer replay: error: b\n", "other"),
        (1, "", "accepted"),
        (4, "visualizer replay: warning: cut short\n", "accepted"),
        (0, 'Traceback (most recent call last):\n  File "x"\nValueError: no\n', "traceback"),
        (3, "", "other"),
    ],
)
def test_outcomes_of_a_command(status, err, outcome):
    assert classify_command("replay", status, err).outcome == outcome


def test_the_fuzz_command_prints_the_outcome_counts():
    result = subprocess.run(
        [sys.executable, "-m", "visualizer", "fuzz", "--cases", "6", "--target", "replay"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fuzz: 6 mutated logs")
    assert lines[1].split() == ["target", *OUTCOMES]
    counts = lines[2].split()
    assert counts[0] == "replay" and sum(map(int, counts[1:])) == 6


@pytest.mark.skipif(reader.native is None, reason=reader.PATH)
def test_the_c_and_python_loaders_agree_on_every_mutated_log(mutator, tmp_path, monkeypatch):
    """The C fast path takes plain events under the same rules and limits as the Python
    loop: on every case both accept the same events or refuse with the same message, when
    the window loads the log (C: into compact blocks, decoded again) and when the command
    line streams it (C: into tuples).  Events are compared by ``repr``, which tells 1 from
    1.0 and True, and a NaN from another float (a NaN is not equal to itself)."""

    def load(path):
        try:
            run = reader.LogReader().load(path, allow_truncated=True)
        except reader.LogError as exc:
            return str(exc)
        return repr(list(run.events)), list(run.seqs), run.thread_names, run.dropped

    def stream(path):
        try:
            with reader.LogReader().stream(path, allow_truncated=True) as log:
                lines = [(events, list(seqs)) for _line, events, seqs in log.lines()]
        except reader.LogError as exc:
            return str(exc)
        return repr(lines), log.thread_names, log.dropped, log.complete

    path = tmp_path / "case.jsonl"
    loaded = 0
    for index in range(CLI_CASES):
        path.write_bytes(mutator.case(index)[0])
        with_c = load(path), stream(path)
        with monkeypatch.context() as patch:
            patch.setattr(reader, "native", None)
            in_python = load(path), stream(path)
        assert with_c == in_python, f"case {index}: {mutator.case(index)[1]}"
        loaded += type(with_c[0]) is tuple
    assert 0 < loaded < CLI_CASES  # some cases load, some are refused

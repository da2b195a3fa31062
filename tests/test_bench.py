"""The bench: ``--quick`` prints every strategy with its overhead ratio; sections are pluggable."""

from __future__ import annotations

import json

import pytest

from visualizer.bench import SECTIONS, BenchConfig, Table, format_table, section
from visualizer.bench.queues import single_thread_time, threaded_time
from visualizer.bench.rounds import Figure, interleaved, ratio
from visualizer.bench.textbook import same_design
from visualizer.cli import EXIT_OK, main
from visualizer.queues import STRATEGIES, speedups


@pytest.mark.slow
def test_bench_quick_prints_the_table_with_the_ratio(capsys):
    assert main(["bench", "--quick", "--section", "single", "--section", "threads"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Single thread" in out and "4 producers + 4 workers" in out
    assert "textbook µs" in out and "untraced/textbook" in out and "traced/untraced" in out
    assert out.count("traced/untraced: worst") == 2
    assert out.count(f"tracing fast path: {speedups.PATH}") == 2
    for name in STRATEGIES:
        assert f"\n{name} " in out


def test_bench_json_is_machine_readable(capsys):
    argv = ["bench", "--quick", "--json", "--section", "single", "--strategy", "global-lock"]
    assert main(argv) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["quick"] is True and data["accelerator"] == speedups.PATH
    single = data["sections"]["single"]
    assert [row["strategy"] for row in single["rows"]] == ["global-lock"]
    row = single["rows"][0]
    assert row["textbook_us"] > 0 and row["untraced_us"] > 0 and row["traced_us"] > 0
    assert row["traced_vs_untraced"] > 0 and row["traced_vs_untraced_spread"] >= 0
    assert row["untraced_vs_textbook"] > 0 and row["untraced_vs_textbook_spread"] >= 0
    headline = single["headline"]
    assert headline["max_traced_vs_untraced"] == pytest.approx(row["traced_vs_untraced"])
    assert headline["accelerator"] == speedups.PATH and headline["traced_target"] == 1.3


@pytest.mark.parametrize("kind", ["textbook", "untraced", "traced"])
def test_measurements_run_the_operations_they_claim(kind):
    assert single_thread_time(kind, "global-lock", 1000) > 0
    seconds, errors = threaded_time(kind, "condition", 400)
    assert seconds > 0 and errors == 0


def test_every_strategy_has_a_textbook_of_its_design_that_does_the_same_work():
    for name in STRATEGIES:
        queue = same_design(name)()
        for task_id in range(5):
            queue.add_task(task_id, task_id % 2)
        order = [queue.get_next_task(timeout=0.01).task_id for _ in range(5)]
        assert order == [1, 3, 0, 2, 4], name  # larger priority first, then first added
        for task_id in order:
            queue.complete_task(task_id)
        assert queue.get_next_task(timeout=0.01) is None
        with pytest.raises(ValueError):
            queue.complete_task(0)  # completed already


def test_rounds_rotate_the_order_and_ratios_are_taken_within_a_round():
    calls: list[str] = []
    clock = iter(range(1, 100))

    def case(name: str, seconds: float):
        def run() -> float:
            calls.append(name)
            return seconds * next(clock)  # the machine slows down round after round

        return run

    samples = interleaved({"a": case("a", 2.0), "b": case("b", 1.0)}, 4)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    figure = ratio(samples, "a", "b")
    assert len(figure.values) == 4 and figure.median == pytest.approx(2.0, rel=0.5)
    assert Figure.of([3.0, 1.0, 2.0]) == Figure(2.0, 2.0, (3.0, 1.0, 2.0))
    assert Figure.of([1.0, 1.2]).text() == "1.10 ± 0.10"
    with pytest.raises(ValueError):
        interleaved({"a": case("a", 1.0)}, 0)


def test_a_new_section_is_one_registered_function(monkeypatch):
    monkeypatch.setattr("visualizer.bench.core.SECTIONS", dict(SECTIONS))
    from visualizer.bench import core

    @section("example", "Start-up time")
    def startup(config: BenchConfig) -> Table:
        return Table("Start-up", [("what", "what"), ("ms", "ms")], [{"what": "import", "ms": 1.5}])

    assert "example" in core.SECTIONS and "example" not in SECTIONS
    [(chosen, table)] = list(core.run_sections(BenchConfig(quick=True), ["example"]))
    assert chosen.title == "Start-up time"
    assert format_table(table).splitlines() == [
        "Start-up",
        "what      ms",
        "------  ----",
        "import  1.50",
    ]
    with pytest.raises(ValueError, match="registered twice"):
        section("example", "again")(startup)


@pytest.mark.slow
def test_the_scheduler_section_measures_steps_undo_and_search(capsys):
    assert main(["bench", "--quick", "--json", "--section", "scheduler"]) == EXIT_OK
    table = json.loads(capsys.readouterr().out)["sections"]["scheduler"]
    by_what = {(row["what"].split(" (")[0], row["unit"]): row for row in table["rows"]}
    assert by_what[("one step", "CPU µs/step")]["value"] > 0
    assert by_what[("undo one step of 200", "wall ms")]["value"] > 0
    assert by_what[("undo one step of 200", "wall ms")]["spread"] >= 0
    (search,) = [row for row in table["rows"] if row["unit"] == "schedules/s"]
    assert search["value"] > 0 and table["headline"]["undo_ms_median"] > 0

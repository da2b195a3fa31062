"""The bench: ``--quick`` prints every strategy with its overhead ratio; sections are pluggable."""

from __future__ import annotations

import json

import pytest

from visualizer.bench import SECTIONS, BenchConfig, Table, format_table, section
from visualizer.bench.queues import single_thread_time, threaded_time
from visualizer.cli import EXIT_OK, main
from visualizer.queues import STRATEGIES


@pytest.mark.slow
def test_bench_quick_prints_the_table_with_the_ratio(capsys):
    assert main(["bench", "--quick"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Single thread" in out and "4 producers + 4 workers" in out
    assert "untraced cycles/s" in out and "traced cycles/s" in out
    assert "overhead (traced/untraced time)" in out
    assert out.count("tracing overhead: worst") == 2
    for name in STRATEGIES:
        assert f"\n{name} " in out


def test_bench_json_is_machine_readable(capsys):
    argv = ["bench", "--quick", "--json", "--section", "single", "--strategy", "global-lock"]
    assert main(argv) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["quick"] is True
    single = data["sections"]["single"]
    assert [row["strategy"] for row in single["rows"]] == ["global-lock"]
    row = single["rows"][0]
    assert row["untraced"] > 0 and row["traced"] > 0
    assert row["ratio"] == pytest.approx(row["untraced"] / row["traced"])
    assert single["headline"]["max_ratio"] == pytest.approx(row["ratio"])


def test_measurements_run_the_operations_they_claim():
    assert single_thread_time("global-lock", True, 1000) > 0
    seconds, errors = threaded_time("condition", True, 400)
    assert seconds > 0 and errors == 0


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

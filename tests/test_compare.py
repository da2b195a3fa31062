"""Compare: one workload, same seed, 2-4 strategies; a table, a CSV and a PNG on shared axes."""

from __future__ import annotations

import csv
import io
import struct
import threading
from pathlib import Path

import pytest
from helpers import run_python

from visualizer.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main
from visualizer.compare import (
    PLOTTED,
    check_strategies,
    compare,
    format_table,
    write_csv,
)
from visualizer.engine import Workload

WORKLOAD = ["--tasks", "150", "--rate", "0", "--work-time", "0.0005", "--seed", "7"]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_compare_prints_a_row_per_strategy(capsys):
    argv = ["compare", "--strategies", "global-lock,condition,rlock", *WORKLOAD]
    assert main(argv) == EXIT_OK
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert (
        lines[0].startswith("compare: 2 producers (150 tasks, flat out)") and "seed 7" in lines[0]
    )
    header = next(line for line in lines if line.startswith("strategy"))
    for heading in ("tasks/s", "lock wait p99 µs", "violations"):
        assert heading in header
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1]}
    for name in ("global-lock", "condition", "rlock"):
        assert rows[name][1] == "finished" and rows[name][3] == "150"
        assert f"{name}: finished after" in captured.err


def test_compare_writes_a_png_and_a_csv(tmp_path, capsys):
    png, table = tmp_path / "plots.png", tmp_path / "table.csv"
    argv = ["compare", "--strategies", "global-lock,priority-queue", *WORKLOAD]
    assert main([*argv, "--png", str(png), "--csv", str(table)]) == EXIT_OK
    assert png_size(png) == (1200, 900)
    assert png.stat().st_size > 20_000  # axes, labels and curves, not a blank image
    with open(table, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["strategy"] for row in rows] == ["global-lock", "priority-queue"]
    assert all(int(row["completed"]) == 150 and float(row["throughput"]) > 0 for row in rows)


def test_a_broken_strategy_shows_its_violations_and_status_1(capsys):
    argv = ["compare", "--strategies", "unsafe,global-lock", "--producers", "4", "--workers", "4"]
    argv += ["--tasks", "400", "--rate", "0", "--work-time", "0", "--race-window", "0.001"]
    assert main(argv) == EXIT_VIOLATIONS
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line}
    assert int(rows["unsafe"][6]) > 0 and rows["global-lock"][6] == "0"


def test_the_same_seed_gives_every_strategy_the_same_tasks():
    result = compare(Workload(tasks=100, rate=0, work_time=0, seed=3), ["rlock", "complete"])
    assert [row.completed for row in result.rows] == [100, 100]
    assert set(result.series) == {"rlock", "complete"}
    for series in result.series.values():
        assert set(series) == set(PLOTTED)
    assert "rlock" in format_table(result) and not result.interrupted


def test_cancel_stops_the_running_strategy_and_skips_the_rest():
    cancel = threading.Event()
    cancel.set()  # seen at the first poll: the first run stops, the second never starts
    endless = Workload(tasks=0, duration=600.0, rate=5, work_time=0.01)
    result = compare(endless, ["global-lock", "rlock"], cancel=cancel)
    assert [(row.strategy, row.state) for row in result.rows] == [("global-lock", "stopped")]
    assert result.interrupted and "interrupted" in format_table(result)


def test_csv_has_every_column_unformatted():
    result = compare(Workload(tasks=50, rate=0, work_time=0), ["global-lock", "rwlock"])
    buffer = io.StringIO(newline="")
    assert write_csv(result, buffer) == 2
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert set(rows[0]) >= {"strategy", "throughput", "lock_wait_p99_us", "violations", "events"}


@pytest.mark.parametrize(
    ("strategies", "fragment"),
    [
        ("global-lock", "give 2 to 4 strategies, not 1"),
        ("a,b,c,d,e", "unknown 'a'"),
        ("rlock,rlock", "each strategy may be given once"),
        ("rlock,global-lock,condition,rwlock,complete", "give 2 to 4 strategies, not 5"),
    ],
)
def test_bad_strategy_lists(strategies, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_strategies(strategies.split(","))


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--strategies", "rlock"], "--strategies: give 2 to 4 strategies"),
        (["--strategies", "rlock,nope"], "--strategies: unknown 'nope'"),
        (["--strategies", "rlock,complete", "--tasks", "0"], "--tasks: a comparison needs"),
        (["--strategies", "rlock,complete", "--workers", "0"], "--workers: must be between"),
        (["--strategies", "rlock,complete", "--png", "/no/such/dir/p.png"], "does not exist"),
        ([], "the following arguments are required: --strategies"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(capsys, extra, fragment):
    assert main(["compare", *extra]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert fragment in line


def test_compare_without_png_never_imports_qt():
    code = (
        "import sys\n"
        "from visualizer.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules\n"
        "raise SystemExit(status)\n"
    )
    argv = ["compare", "--strategies", "global-lock,rlock", *WORKLOAD]
    result = run_python("-c", code, *argv, timeout=120)
    assert result.returncode == EXIT_OK, result.stderr
    assert "global-lock" in result.stdout


def test_plots_share_their_time_axis(qtbot):
    from visualizer.ui.compare_plot import ComparePlots

    result = compare(Workload(tasks=60, rate=0, work_time=0), ["global-lock", "condition"])
    plots = ComparePlots()
    qtbot.addWidget(plots)
    plots.show_result(result)
    assert set(plots.curves) == {(s, key) for s in ("global-lock", "condition") for key in PLOTTED}
    top = plots.plots[PLOTTED[0]]
    for key in PLOTTED[1:]:
        assert plots.plots[key].getViewBox().linkedView(0) is top.getViewBox()
    names = [label.text for _sample, label in plots.legend.items]
    assert names == ["global-lock", "condition"]


def test_a_run_with_dropped_events_makes_the_comparison_unverified(capsys, monkeypatch):
    """Issue 14, item 9: dropped events leave a run unchecked; compare must not say clean."""
    import dataclasses

    from visualizer import compare as compare_module
    from visualizer.cli import EXIT_UNVERIFIED

    original = compare_module.row_of
    monkeypatch.setattr(
        compare_module,
        "row_of",
        lambda run, model: dataclasses.replace(original(run, model), dropped=12),
    )
    argv = ["compare", "--strategies", "global-lock,rlock", *WORKLOAD]
    assert main(argv) == EXIT_UNVERIFIED
    verdict = capsys.readouterr().out.strip().splitlines()[-1]
    assert verdict.startswith("verdict: unverified: events were dropped in global-lock, rlock")

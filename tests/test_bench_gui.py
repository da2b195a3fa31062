"""The bench's window sections: start-up time and flat-out GUI latency, from a child process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from visualizer.cli import EXIT_OK, main


def test_the_bench_stays_qt_free():
    code = "import sys, visualizer.bench; assert 'PySide6' not in sys.modules, 'Qt imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.slow
def test_startup_and_gui_sections_report_their_figures(capsys):
    argv = ["bench", "--quick", "--json", "--section", "startup", "--section", "gui"]
    assert main(argv) == EXIT_OK
    sections = json.loads(capsys.readouterr().out)["sections"]

    startup = sections["startup"]["headline"]
    assert 0 < startup["median_s"] <= startup["max_s"] < 30
    assert len(sections["startup"]["rows"]) == 3

    gui = sections["gui"]["headline"]
    assert 0 <= gui["p50_ms"] <= gui["p99_ms"]
    assert gui["events_per_s"] > 0
    assert gui["dropped"] >= 0
    assert any(note.startswith("gui: p99 ") for note in sections["gui"]["notes"])


@pytest.mark.slow
def test_the_process_section_reports_latency_throughput_and_start(capsys):
    assert main(["bench", "--quick", "--json", "--section", "process"]) == EXIT_OK
    section = json.loads(capsys.readouterr().out)["sections"]["process"]
    rows = {row["threads"]: row for row in section["rows"]}
    assert set(rows) == {"4+4", "32+32"}
    for row in rows.values():
        assert 0 <= row["p50_ms"] <= row["p99_ms"]
        assert row["events_per_s"] > 0 and row["events_per_cpu_s"] > 0
        assert row["tasks_per_s"] > 0 and row["headless_tasks_per_s"] > 0
        assert row["dropped"] == 0, "backpressure: the window loses nothing"
    headline = section["headline"]
    assert 0 < headline["start_median_ms"] <= headline["start_max_ms"]
    assert headline["fold_ratio"] > 0 and headline["watched_ratio"] > 0
    notes = section["notes"]
    assert [note.split(":")[0] for note in notes] == ["process"] * 4

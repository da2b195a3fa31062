"""The bench's recording section: overhead, log size, load and replay figures, as JSON."""

from __future__ import annotations

import json

import pytest

from visualizer.bench import SECTIONS, log_costs
from visualizer.bench.log_costs import measure_load, measure_write
from visualizer.cli import EXIT_OK, main
from visualizer.recording import LogWriter
from visualizer.recording.writer import DEFAULT_MAX_PENDING


@pytest.mark.slow
def test_recording_section_reports_the_issue_figures(capsys):
    assert "recording" in SECTIONS
    assert main(["bench", "--quick", "--json", "--section", "recording"]) == EXIT_OK
    section = json.loads(capsys.readouterr().out)["sections"]["recording"]
    headline = section["headline"]
    assert headline["overhead_ratio"] > 0 and headline["target_ratio"] == 1.05
    assert 0 < headline["gz_bytes_per_10k_events"] < headline["bytes_per_10k_events"]
    assert headline["load_events"] >= 40_000 and headline["load_s"] > 0
    assert headline["replay_build_s"] > 0 and headline["seek_worst_ms"] > 0
    what = [row["what"] for row in section["rows"]]
    assert "recording overhead (run CPU ratio)" in what
    assert headline["overhead_spread"] >= 0
    assert any(text.startswith("recording overhead: ") for text in section["notes"])


def test_write_costs_time_what_the_run_pays_apart_from_encoding(monkeypatch):
    """``run_seconds`` is what a recording run pays: by default every batch waits
    unencoded for ``close``; with ``max_pending=0`` each is encoded as it comes."""
    at_close: list[tuple[int, int, int]] = []

    class Spy(LogWriter):
        def close(self) -> None:
            at_close.append((self.max_pending, self.pending, self.events_written))
            super().close()

    monkeypatch.setattr(log_costs, "LogWriter", Spy)
    deferred = measure_write(3000, batch_size=500)
    at_once = measure_write(3000, batch_size=500, max_pending=0)
    assert at_close == [(DEFAULT_MAX_PENDING, 3000, 0), (0, 0, 3000)]
    for figures in (deferred, at_once):
        assert figures.events == 3000 and 0 < figures.run_seconds <= figures.seconds
        assert 200_000 < figures.bytes_per_10k_events < 2_000_000


def test_load_costs_load_every_event_written():
    loaded = measure_load(5000, compress=True)
    assert loaded.events == 5000 and loaded.seconds > 0 and loaded.bytes > 0

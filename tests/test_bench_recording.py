"""The bench's recording section: overhead, log size, load and replay figures, as JSON."""

from __future__ import annotations

import json

from visualizer.bench import SECTIONS
from visualizer.cli import EXIT_OK, main


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
    assert "recording overhead (run time ratio)" in what
    assert any(text.startswith("recording overhead: ") for text in section["notes"])

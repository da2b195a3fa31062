"""Exporting from the window while a scenario deadlocks: named after it, lasting until now."""

from __future__ import annotations

import gzip
import json
import os
from time import perf_counter_ns

from PySide6.QtWidgets import QFileDialog
from test_export_chrome_trace import slices, tracks_by_name

from visualizer.recording import load_log

WAIT_MS = 15_000


def test_a_scenario_exported_mid_deadlock(open_window, qtbot, tmp_path, monkeypatch):
    window = open_window()
    window.scenarios.select("lock-ordering")
    assert window.start_run()
    qtbot.waitUntil(
        lambda: any(v.kind == "deadlock" for v in window.model.anomalies), timeout=WAIT_MS
    )
    actions = window.file_actions

    asked: list[tuple[str, str]] = []

    def no_dialog(_parent, _title, path, filters):
        asked.append((path, filters))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", no_dialog)
    actions.ask_chrome_trace()
    actions.ask_save()
    assert [os.path.basename(path) for path, _ in asked] == [
        "lock-ordering-not-fixed.json",
        "lock-ordering-not-fixed.jsonl.gz",
    ]
    assert "*.json.gz" in asked[0][1]

    before = perf_counter_ns()
    path = tmp_path / "deadlock.json.gz"
    actions.export_chrome_trace(str(path))
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    trace = json.loads(gzip.decompress(path.read_bytes()))
    (process,) = [e for e in trace["traceEvents"] if e["name"] == "process_name"]
    assert process["args"]["name"] == "lock-ordering (not fixed)"
    tracks = tracks_by_name(trace)
    origin = trace["otherData"]["time_origin_ns"]
    for teller in ("teller-1", "teller-2"):
        (instant,) = [e for e in tracks[teller] if e.get("cat") == "violation"]
        assert instant["args"]["kind"] == "deadlock"
        assert set(instant["args"]["locks"].split(", ")) == {"account A", "account B"}
        *_, (_begin, end, args) = slices(tracks[teller], "wait account")
        assert args["unfinished"] is True and end >= (before - origin) / 1000

    log = tmp_path / "deadlock.jsonl"
    actions.save_recording(str(log))
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    recorded = load_log(log)
    assert recorded.scenario is not None and recorded.scenario["name"] == "lock-ordering"
    assert recorded.scenario["fixed"] is False
    assert recorded.until_ns is not None and recorded.until_ns >= before
    assert window.stop_run()

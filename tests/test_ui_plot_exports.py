"""Exporting the throughput plots: an SVG the size of the view, CSV columns named as the key."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from visualizer.cli import EXIT_OK, main
from visualizer.ui.views import ThroughputView

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def log_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plots") / "run.jsonl.gz"
    argv = ["run", "--tasks", "300", "--rate", "150", "--work-time", "0.001"]
    assert main([*argv, "--record", str(path)]) == EXIT_OK
    return path


@pytest.fixture
def window(open_window, monkeypatch, log_path, qtbot):
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kwargs: pytest.fail(str(args)))
    window = open_window()
    actions = window.file_actions
    assert actions.open_recording(str(log_path)) is not None
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    window._frame()  # noqa: SLF001 -- paint the plots before exporting them
    return window


def throughput(window) -> ThroughputView:
    return next(v for v in window.views if isinstance(v, ThroughputView))


def test_the_svg_is_the_size_of_the_view_however_the_scene_grew(window, tmp_path):
    layout = throughput(window).layout_widget
    viewport = layout.viewport().size()
    scene = layout.scene()
    # An item once far below the plots leaves the scene's rectangle grown for good.
    far = scene.addRect(0, 0, 10, 5 * viewport.height())
    assert scene.sceneRect().height() > 4 * viewport.height()
    scene.removeItem(far)
    assert scene.sceneRect().height() > 4 * viewport.height()

    path = tmp_path / "plots.svg"
    assert window.file_actions.export_plots(str(path))
    root = ET.parse(path).getroot()
    view_box = [float(v) for v in root.get("viewBox").split()]
    assert view_box == [0, 0, viewport.width(), viewport.height()]
    # Shown at the view's size by a browser (96 pixels to the inch).
    width_mm = float(root.get("width").removesuffix("mm"))
    assert width_mm / 25.4 * 96 == pytest.approx(viewport.width(), abs=0.5)
    text = path.read_text(encoding="utf-8")
    assert "tasks/s" in text and ("<path" in text or "<polyline" in text)


def test_plot_csvs_name_their_columns_after_the_curves(window, tmp_path):
    written = window.file_actions.export_plot_data(str(tmp_path / "series.csv"))
    headers, rows = {}, {}
    for name in written:
        with open(name, encoding="utf-8", newline="") as file:
            table = list(csv.reader(file))
        key = Path(name).stem.rsplit("-", 1)[1]
        headers[key], rows[key] = table[0], table[1:]
    assert headers == {
        "rates": ["time (s)", "added (tasks/s)", "completed (tasks/s)"],
        "depth": ["time (s)", "queue depth (tasks)"],
        "wait": ["time (s)", "mean lock wait (ms)"],
    }
    series = window.model.metrics.series()
    t_s, completed = series["completed_per_s"]
    assert len(rows["rates"]) == len(t_s) > 5
    np.testing.assert_allclose([float(r[0]) for r in rows["rates"]], t_s)
    np.testing.assert_allclose([float(r[2]) for r in rows["rates"]], completed)
    assert sum(float(r[2]) for r in rows["rates"]) > 0

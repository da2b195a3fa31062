"""The Compare dialog: runs the chosen strategies on the panel's workload, table and plots."""

from __future__ import annotations

import csv

from PySide6.QtWidgets import QWidget

from visualizer.compare import PLOTTED
from visualizer.engine import Workload
from visualizer.ui.compare_dialog import CompareDialog

WAIT_MS = 30_000
QUICK = Workload(tasks=80, rate=0.0, work_time=0.0002, seed=4)


def test_runs_the_chosen_strategies_and_fills_table_and_plots(qtbot, tmp_path):
    dialog = CompareDialog(QUICK)
    qtbot.addWidget(dialog)
    assert dialog.chosen() == ["global-lock", "condition"]
    dialog.boxes["rlock"].setChecked(True)
    assert dialog.start()
    assert not dialog.run_button.isEnabled() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert dialog.status.text() == "Done."
    model = dialog.table_model
    assert model.rowCount() == 3
    assert [model.item(row, 0).text() for row in range(3)] == ["global-lock", "rlock", "condition"]
    assert all(model.item(row, 3).text() == "80" for row in range(3))
    assert len(dialog.plots.curves) == 3 * len(PLOTTED)

    png, table = tmp_path / "compare.png", tmp_path / "compare.csv"
    assert dialog.save_png(str(png)) and png.read_bytes()[:4] == b"\x89PNG"
    assert dialog.save_csv(str(table))
    with open(table, encoding="utf-8", newline="") as file:
        assert len(list(csv.DictReader(file))) == 3


def test_too_few_strategies_or_an_endless_workload_cannot_start(qtbot):
    dialog = CompareDialog(QUICK)
    qtbot.addWidget(dialog)
    dialog.boxes["condition"].setChecked(False)
    assert not dialog.run_button.isEnabled() and not dialog.start()
    endless = CompareDialog(QUICK.replace(tasks=0))
    qtbot.addWidget(endless)
    assert not endless.start() and "needs a task count or a duration" in endless.status.text()
    assert not CompareDialog(None).run_button.isEnabled()


def test_closing_stops_the_comparison_and_its_threads(qtbot):
    slow = Workload(tasks=0, duration=600.0, rate=5.0, work_time=0.01)
    dialog = CompareDialog(slow)
    qtbot.addWidget(dialog)
    assert dialog.start()
    thread = dialog.worker
    dialog.close()
    assert thread is not None and not thread.is_alive()


def test_the_window_closing_stops_a_running_comparison(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = CompareDialog(Workload(tasks=0, duration=600.0, rate=5.0, work_time=0.01), parent)
    assert dialog.start()
    thread = dialog.worker
    parent.close()
    assert thread is not None and not thread.is_alive()

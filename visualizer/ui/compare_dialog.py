"""The Compare dialog: the control panel's workload against 2-4 strategies, same seed.

The runs go one after another on a background thread (each run in a run
process of its own, under the window's engine interpreter, and a
:class:`~visualizer.engine.Drainer` folding its model here), as
``python -m visualizer compare`` runs them in one process.  The thread only
calls :func:`visualizer.compare.compare` and reports through queued signals; the
table and the plots are filled on the GUI thread.  Closing the dialog cancels
the comparison and waits for its thread.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from visualizer.compare import (
    MAX_STRATEGIES,
    MIN_STRATEGIES,
    CompareResult,
    CompareRow,
    check_strategies,
    check_workload,
    compare,
    describe,
    table_cells,
    write_csv,
)
from visualizer.engine import Workload
from visualizer.engine.host import Launcher, RunSpec
from visualizer.queues import STRATEGIES
from visualizer.ui.compare_plot import ComparePlots, render_png

DEFAULT_CHOICE = ("global-lock", "condition")


class _Relay(QObject):
    """Carries the comparison thread's news to the GUI thread (queued signals)."""

    row = Signal(object)
    done = Signal(object)


class CompareDialog(QDialog):
    """Pick strategies, run them on one workload, read the table and the shared plots."""

    def __init__(
        self,
        workload: Workload | None,
        parent: QWidget | None = None,
        engine_python: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare Strategies")
        self.workload = workload
        self.engine_python = engine_python
        self.comparison: CompareResult | None = None
        self.cancel = threading.Event()
        self.worker: threading.Thread | None = None
        self.relay = _Relay(self)
        self.relay.row.connect(self._row_done, Qt.ConnectionType.QueuedConnection)
        self.relay.done.connect(self._all_done, Qt.ConnectionType.QueuedConnection)
        if parent is not None:
            parent.installEventFilter(self)  # the window closing ends the comparison too

        choices = QGroupBox(f"Strategies ({MIN_STRATEGIES} to {MAX_STRATEGIES})")
        grid = QGridLayout(choices)
        self.boxes: dict[str, QCheckBox] = {}
        for index, (name, cls) in enumerate(STRATEGIES.items()):
            box = QCheckBox(name)
            box.setToolTip(cls.title)
            box.setChecked(name in DEFAULT_CHOICE)
            box.toggled.connect(self._update_buttons)
            grid.addWidget(box, index // 4, index % 4)
            self.boxes[name] = box

        self.about = QLabel(self._describe())
        self.about.setWordWrap(True)
        self.status = QLabel()
        self.run_button = QPushButton("&Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.stop_button = QPushButton("&Stop")
        self.stop_button.clicked.connect(self.cancel.set)
        self.png_button = QPushButton("Save &PNG\u2026")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QPushButton("Save &CSV\u2026")
        self.csv_button.clicked.connect(self._ask_csv)

        self.table_model = QStandardItemModel(0, 0, self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(160)
        self.plots = ComparePlots()

        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.run_button, self.stop_button, self.png_button, self.csv_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(choices)
        layout.addWidget(self.about)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        layout.addWidget(self.plots, 1)
        self.resize(900, 760)
        self._update_buttons()

    def _describe(self) -> str:
        workload = self.workload
        if workload is None:
            return "The control panel's settings are not valid: fix them first."
        return (
            f"Workload from the control panel: {describe(workload)}. Every strategy gets "
            "the same tasks; they run one after another."
        )

    def chosen(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    @property
    def running(self) -> bool:
        return self.worker is not None

    @Slot()
    def _update_buttons(self, *_args: object) -> None:
        count = len(self.chosen())
        valid = self.workload is not None and MIN_STRATEGIES <= count <= MAX_STRATEGIES
        self.run_button.setEnabled(valid and not self.running)
        self.stop_button.setEnabled(self.running)
        for box in self.boxes.values():
            box.setEnabled(not self.running)
        has_rows = self.comparison is not None and bool(self.comparison.rows) and not self.running
        self.png_button.setEnabled(has_rows)
        self.csv_button.setEnabled(has_rows)

    # --- running --------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        """Run the chosen strategies; False (with the reason shown) if it cannot start."""
        if self.running or self.workload is None:
            return False
        try:
            strategies = check_strategies(self.chosen())
            check_workload(self.workload)
        except ValueError as exc:
            self.status.setText(f"Cannot compare: {exc}")
            return False
        self.cancel.clear()
        self.comparison = CompareResult(self.workload)
        self._fill_table()
        self.plots.show_result(self.comparison)
        workload = self.workload

        python = self.engine_python

        def work() -> None:
            # Spawned from this thread, which outlives each of its runs (see host/process.py).
            launcher = Launcher(python, spare=False)
            result = compare(
                workload,
                strategies,
                cancel=self.cancel,
                on_row=self.relay.row.emit,
                make_run=lambda w: launcher.launch(RunSpec(w)),
            )
            self.relay.done.emit(result)

        self.worker = threading.Thread(target=work, name="compare", daemon=True)
        self.status.setText(f"Running {strategies[0]} (1 of {len(strategies)})\u2026")
        self.worker.start()
        self._update_buttons()
        return True

    @Slot(object)
    def _row_done(self, row: CompareRow) -> None:
        if self.comparison is None:
            return
        self.comparison.rows.append(row)
        self._fill_table()
        remaining = [
            name for name in self.chosen() if name not in {r.strategy for r in self.comparison.rows}
        ]
        if remaining and not self.cancel.is_set():
            done = len(self.comparison.rows)
            total = done + len(remaining)
            self.status.setText(f"Running {remaining[0]} ({done + 1} of {total})\u2026")

    @Slot(object)
    def _all_done(self, result: CompareResult) -> None:
        if self.worker is not None:
            self.worker.join()
            self.worker = None
        self.comparison = result
        self._fill_table()
        self.plots.show_result(result)
        self.status.setText("Stopped." if result.interrupted else "Done.")
        self._update_buttons()

    def _fill_table(self) -> None:
        result = self.comparison
        if result is None:
            return
        headings, cells = table_cells(result)
        self.table_model.clear()
        self.table_model.setHorizontalHeaderLabels(headings)
        for values in cells:
            items = []
            for column, text in enumerate(values):
                item = QStandardItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                items.append(item)
            self.table_model.appendRow(items)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the comparison and wait for its thread (its run ends within 2 s)."""
        self.cancel.set()
        if self.worker is not None:
            self.worker.join(timeout)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self.stop()
        return False

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.stop()
        super().closeEvent(event)

    def reject(self) -> None:
        self.stop()
        super().reject()

    # --- saving ---------------------------------------------------------------------
    def _ask(self, title: str, name: str, filters: str) -> str | None:
        path, _chosen = QFileDialog.getSaveFileName(self, title, name, filters)
        return path or None

    @Slot()
    def _ask_png(self) -> None:
        path = self._ask("Save Plots", "compare.png", "PNG image (*.png)")
        if path:
            self.save_png(path)

    @Slot()
    def _ask_csv(self) -> None:
        path = self._ask("Save Table", "compare.csv", "CSV (*.csv)")
        if path:
            self.save_csv(path)

    def save_png(self, path: str) -> bool:
        return self._save(lambda result: render_png(result, path), path)

    def save_csv(self, path: str) -> bool:
        return self._save(lambda result: write_csv(result, path), path)

    def _save(self, write: Any, path: str) -> bool:
        if self.comparison is None or not self.comparison.rows:
            return False
        try:
            write(self.comparison)
        except OSError as exc:
            QMessageBox.warning(self, "Compare", f"Cannot write {path}:\n{exc.strerror or exc}")
            return False
        self.status.setText(f"Saved {os.path.basename(path)}.")
        return True


def compare_action(window: Any) -> QAction:
    """Run > Compare Strategies: a dialog on the control panel's current workload.

    ``window`` is the main window (its ``controls`` give the workload); the
    dialog is its child and closes with it.
    """
    action = QAction("&Compare Strategies\u2026", window)
    action.setStatusTip("Run the panel's workload against 2-4 strategies, same seed, side by side")

    def open_dialog() -> None:
        dialog = CompareDialog(window.controls.workload(), window, window.launcher.python)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    action.triggered.connect(lambda _checked=False: open_dialog())
    return action

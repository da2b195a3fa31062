"""Plots of a comparison: one curve per strategy on shared axes, and their PNG.

Three stacked plots (completed tasks per second, queue depth, mean lock wait)
with their time axes linked, each holding every strategy's curve, so the same
height means the same value for every strategy and the same x the same second
since its run started.  The window's Compare dialog shows the widget; the
command line's ``compare --png`` renders it offscreen through pyqtgraph's
:class:`~pyqtgraph.exporters.ImageExporter`.
"""

from __future__ import annotations

import os

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication, QWidget

from visualizer.compare import PLOTTED, CompareResult
from visualizer.ui.theme import background, foreground, thread_color

PLOT_LABELS = {
    "completed_per_s": ("completed", "tasks/s"),
    "queue_depth": ("queue depth", "tasks"),
    "lock_wait_ms": ("mean lock wait", "ms"),
}
PNG_SIZE = (1200, 900)
"""Pixels of the command line's PNG: legible on a slide and in a bug report."""


class ComparePlots(pg.GraphicsLayoutWidget):
    """The plots of one :class:`CompareResult`; :meth:`show_result` replaces what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.legend: pg.LegendItem | None = None
        self.setBackground(background(self))
        ink = pg.mkPen(foreground(self))
        first: pg.PlotItem | None = None
        for row, key in enumerate(PLOTTED):
            title, unit = PLOT_LABELS[key]
            plot = self.addPlot(row=row, col=0)
            plot.setTitle(title, color=foreground(self).name())
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=True, y=False)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(ink)
                axis.setTextPen(ink)
                axis.enableAutoSIPrefix(False)  # "ms (x0.001)" reads worse than 0.002
            plot.setLabel("left", unit)
            if first is None:
                first = plot
                self.legend = plot.addLegend(offset=(-10, 10), labelTextColor=foreground(self))
            else:
                plot.setXLink(first)
            self.plots[key] = plot
        self.plots[PLOTTED[-1]].setLabel("bottom", "seconds since the run started")

    def show_result(self, result: CompareResult) -> None:
        """Draw every strategy's series, in the order of the table's rows."""
        for plot in self.plots.values():
            plot.clear()
        if self.legend is not None:
            self.legend.clear()
        self.curves.clear()
        for index, row in enumerate(result.rows):
            pen = pg.mkPen(thread_color(index), width=2)
            for key, plot in self.plots.items():
                t_s, values = result.series[row.strategy][key]
                name = row.strategy if key == PLOTTED[0] else None
                curve = plot.plot(t_s, values, pen=pen, name=name)
                self.curves[(row.strategy, key)] = curve
        for plot in self.plots.values():
            plot.enableAutoRange()


def render_png(
    result: CompareResult, path: str | os.PathLike[str], size: tuple[int, int] = PNG_SIZE
) -> None:
    """Write the plots of ``result`` to a PNG file (needs a QApplication; no window shown)."""
    plots = ComparePlots()
    try:
        # A widget never shown is never laid out: give the scene its size directly.
        plots.resize(*size)
        plots.setSceneRect(QRectF(0, 0, *size))
        plots.ci.setGeometry(QRectF(0, 0, *size))
        plots.show_result(result)
        exporter = ImageExporter(plots.scene())
        exporter.parameters()["width"] = size[0]
        if not exporter.export(os.fspath(path)):
            raise OSError(f"cannot write {os.fspath(path)}")
    finally:
        plots.deleteLater()


def render_png_offscreen(result: CompareResult, path: str | os.PathLike[str]) -> None:
    """:func:`render_png` for the command line: no screen needed, no window shown.

    Makes the QApplication if there is none; the platform variable must be set
    before that, and keeping both here keeps Qt out of the command-line modules.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QApplication.instance() or QApplication(["visualizer"])  # alive while drawing
    render_png(result, path)

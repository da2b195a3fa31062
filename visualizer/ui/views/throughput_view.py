"""Scrolling plots: tasks added and completed per second, queue depth, lock wait time.

The curves are created once and fed with ``setData`` each frame (no items are
made per frame); the model's series are 100 ms buckets over its window, a few
hundred points, and clipping plus peak downsampling keep even a long window
cheap.  Ranges are set by the view, not by the mouse, so a stray click during
a lecture cannot freeze the scrolling.  Colours follow the rest of the window:
"added" and the queue depth in the *queued* colour, "completed" in the
*completed* colour, lock waits in the warning red used for waits everywhere.

Why "added" is a shaded area and "completed" a thick line over it: in a steady
run the two rates are nearly equal, and two thin lines of a blue and a green
on top of each other cannot be told apart from the back of a room; an area and
a line can.  Why each plot's key is a line above it rather than a legend box:
a box inside the plot hides the newest data (the curves grow from the left and
fill the whole width once the window scrolls).
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QVBoxLayout, QWidget

from visualizer.events import COMPLETED, QUEUED, STATUSES
from visualizer.model import RunModel
from visualizer.ui.theme import (
    ALERT_COLOR,
    STATUS_COLORS,
    background,
    foreground,
    view_font,
)
from visualizer.ui.views.base import RunView

DASH = Qt.PenStyle.DashLine

MIN_SPAN_S = 10.0
"""The x axis shows at least this many seconds, so a new run grows from the left."""

PLOTS = (
    # (key, left axis label: the unit)
    ("rates", "tasks/s"),
    ("depth", "tasks"),
    ("wait", "ms"),
)

CURVES = (
    # (series name, plot, key name, colour, filled, line width); drawn in this order
    ("added_per_s", "rates", "added", STATUS_COLORS[QUEUED], True, 1.5),
    ("completed_per_s", "rates", "completed", STATUS_COLORS[COMPLETED], False, 3.0),
    ("queue_depth", "depth", "queue depth", STATUS_COLORS[QUEUED], True, 2.0),
    ("lock_wait_ms", "wait", "mean lock wait", ALERT_COLOR, True, 2.0),
)

LINE_SWATCH = "\u2501\u2501"
"""The key's sample of a line curve (two heavy box-drawing dashes)."""

AREA_SWATCH = "\u2588\u2588"
"""The key's sample of a shaded curve (two full blocks)."""


class ThroughputView(RunView):
    """Three stacked plots sharing one time axis (seconds since the run's first event)."""

    title = "Throughput"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected: Hashable | None = None
        self._y_tops: dict[str, float] = {}  # the y range's top per plot, as last set
        self._plotted_bucket = -1  # model.metrics.bucket_end when the curves were last fed
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.ci.setSpacing(2)
        self.layout_widget.ci.setContentsMargins(2, 4, 8, 2)
        self.plots: dict[str, pg.PlotItem] = {}
        for row, (key, _label) in enumerate(PLOTS):
            plot = self.layout_widget.addPlot(row=row, col=0)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.showGrid(x=True, y=True, alpha=0.2)
            left = plot.getAxis("left")
            left.setWidth(60)
            # The top label sits on the plot's edge; pyqtgraph would hide it as overlapping.
            left.setStyle(hideOverlappingLabels=False)
            if row:
                plot.setXLink(self.plots[PLOTS[0][0]])
            if row < len(PLOTS) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
            plot.vb.sigResized.connect(lambda _vb, key=key: self._fit_unit(key))
            self.plots[key] = plot
        self.curves: dict[str, pg.PlotDataItem] = {}
        for series, plot, _name, color, filled, width in CURVES:
            curve = self.plots[plot].plot(
                pen=pg.mkPen(color, width=width),
                fillLevel=0 if filled else None,
                brush=pg.mkBrush(_translucent(color, 0.35)) if filled else None,
            )
            self.curves[series] = curve
        self.markers: dict[str, list[pg.InfiniteLine]] = {
            key: [
                pg.InfiniteLine(angle=90, pen=pg.mkPen(STATUS_COLORS[s], width=2, style=DASH))
                for s in STATUSES
            ]
            for key in self.plots
        }
        for key, lines in self.markers.items():
            for line in lines:
                line.hide()
                self.plots[key].addItem(line, ignoreBounds=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        self._apply_palette()
        self.set_model(None)

    # --- colours -----------------------------------------------------------------
    def restyle(self) -> None:
        """Axis fonts after a zoom (they are set with the palette)."""
        self._apply_palette()

    def _apply_palette(self) -> None:
        """Axes, labels and background from the palette, so light and dark both read."""
        ink = foreground(self)
        self.layout_widget.setBackground(background(self))
        tick_font = view_font(small=True)
        label_size = f"{tick_font.pointSizeF():.0f}pt"
        for row, (key, label) in enumerate(PLOTS):
            plot = self.plots[key]
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(ink))
                axis.setTextPen(pg.mkPen(ink))
                axis.setTickFont(tick_font)
            plot.setLabel("left", label, color=ink.name(), **{"font-size": label_size})
            if row == len(PLOTS) - 1:
                plot.setLabel("bottom", "time (s)", color=ink.name(), **{"font-size": label_size})
        for key, plot in self.plots.items():
            self._set_key(plot, key_html(key), ink, label_size)

    def _fit_unit(self, key: str) -> None:
        """The unit beside the axis only where the plot is as tall as its text: on a short
        screen three plots are short, and the rotated units ran into each other (the key
        names the unit too)."""
        plot = self.plots[key]
        axis = plot.getAxis("left")
        text = dict(PLOTS)[key]
        needed = QFontMetrics(view_font(small=True)).horizontalAdvance(text) + 6
        fits = plot.vb.height() >= needed
        if fits != axis.label.isVisible():
            axis.showLabel(fits)

    @staticmethod
    def _set_key(plot: pg.PlotItem, html: str, ink: QColor, size: str) -> None:
        """The plot's title row as its key: left-aligned, one text line high (pyqtgraph: 30 px)."""
        label = plot.titleLabel
        label.setAttr("justify", "left")
        plot.setTitle(html, color=ink.name(), size=size)
        label.item.document().setDocumentMargin(0)
        height = int(label.item.boundingRect().height()) + 1
        label.setMaximumHeight(height)
        plot.layout.setRowFixedHeight(0, height)

    def key_text(self, plot: str) -> str:
        """The plain text of a plot's key (tests check every curve is named)."""
        return self.plots[plot].titleLabel.item.toPlainText()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    # --- the protocol ----------------------------------------------------------------
    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.selected = None
        self._plotted_bucket = -1
        empty = np.zeros(0)
        for curve in self.curves.values():
            curve.setData(empty, empty)
        self._show_markers()
        self.plots["rates"].setXRange(0, MIN_SPAN_S, padding=0)
        self._y_tops.clear()
        for key in self.plots:
            self._set_y_top(key, 1.0)

    def _set_y_top(self, key: str, top: float) -> None:
        """Y from 0 to a round number, labelled at half and top only.

        The plots are short (a third of a dock each): three labels stay legible
        where pyqtgraph's automatic ticks would print five overlapping ones.
        """
        if self._y_tops.get(key) == top:
            return
        self._y_tops[key] = top
        plot = self.plots[key]
        # Headroom above the top tick keeps its label inside the axis, where it is drawn.
        plot.setYRange(-0.03 * top, 1.2 * top, padding=0)
        # 0 is the filled baseline and needs no label; half and top are labelled.
        ticks = [(0.0, ""), (top / 2, _tick_text(top / 2)), (top, _tick_text(top))]
        plot.getAxis("left").setTicks([ticks, []])

    def refresh(self) -> None:
        model = self.model
        if model is None:
            return
        # The series only change when a 100 ms bucket closes, which moves bucket_end:
        # most frames have nothing new to plot and skip building the arrays.
        closed = model.metrics.bucket_end
        if closed == self._plotted_bucket:
            return
        self._plotted_bucket = closed
        series = model.metrics.series()
        end = 0.0
        for name, curve in self.curves.items():
            t_s, values = series[name]
            curve.setData(t_s, values)
            if len(t_s):
                end = max(end, float(t_s[-1]))
        start = max(0.0, end - model.window_s)
        self.plots["rates"].setXRange(start, max(end, start + MIN_SPAN_S), padding=0)
        for key in self.plots:
            top = max(
                (
                    robust_top(series[name][1])
                    for name, where, *_ in CURVES
                    if where == key and len(series[name][1])
                ),
                default=0.0,
            )
            self._set_y_top(key, nice_ceiling(top * 1.1))
        if self.selected is not None:
            self._show_markers()

    def select_task(self, task_id: Hashable | None) -> None:
        """Mark when the task was added, received, finished, as dashed lines in status colours."""
        self.selected = task_id
        self._show_markers()

    def _show_markers(self) -> None:
        model = self.model
        when: dict[str, float] = {}
        if model is not None and self.selected is not None and model.t0_ns is not None:
            t0 = model.t0_ns
            history = model.tasks.history(self.selected)
            when = {status: (t_ns - t0) / 1e9 for t_ns, status, _ident in history}

        for lines in self.markers.values():
            for status, line in zip(STATUSES, lines, strict=True):
                if status in when:
                    line.setValue(when[status])
                    line.show()
                else:
                    line.hide()

    def plot_table(self, plot: str) -> tuple[list[str], list[np.ndarray]]:
        """A plot's data as columns: the shared time, then each curve in its unit.

        Headers name the curves as the plot's key does, with the axis's unit
        (``completed (tasks/s)``); the data is the whole series, not what the
        view clips and downsamples.
        """
        unit = dict(PLOTS)[plot]
        header = ["time (s)"]
        columns: list[np.ndarray] = []
        for series, where, name, *_ in CURVES:
            if where != plot:
                continue
            x, y = self.curves[series].getOriginalDataset()
            if x is None or y is None:
                x, y = np.zeros(0), np.zeros(0)
            if not columns:
                columns.append(np.asarray(x, dtype=float))
            header.append(f"{name} ({unit})")
            columns.append(np.asarray(y, dtype=float))
        return header, columns

    def curve_data(self, series: str) -> tuple[np.ndarray, np.ndarray]:
        """What a curve shows now (x in s, y in the plot's unit)."""
        x, y = self.curves[series].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)

    def axis_label(self, plot: str, side: str) -> str:
        """The plain text of an axis label (tests check units are named)."""
        return self.plots[plot].getAxis(side).labelText


RECENT_BUCKETS = 20
"""The last two seconds of a series always fit under the plot's top."""


def robust_top(values: np.ndarray) -> float:
    """The top a plot needs: every value but a lone burst (a backlog filled at the start
    runs past the top, drawn as a cut peak, rather than flattening the rest to a line)."""
    peak = float(values.max())
    if len(values) < 2 * RECENT_BUCKETS:
        return peak
    usual = float(np.percentile(values, 95)) * 1.5
    recent = float(values[-RECENT_BUCKETS:].max())
    return min(peak, max(usual, recent))


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``value`` (at least 1)."""
    if value <= 1.0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if value <= step * power:
            return step * power
    return 10.0 * power


def _tick_text(value: float) -> str:
    """Short tick labels (the axis is narrow): 0.5, 20, 500, 20k, 1.5M."""
    for limit, scale, suffix in ((1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if value >= limit:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def key_html(plot: str) -> str:
    """A plot's key: a swatch in each curve's colour (a bar if shaded), then its name,
    then the unit."""
    names = "&nbsp;&nbsp;".join(
        f'<span style="color:{color.name()}">{AREA_SWATCH if filled else LINE_SWATCH}</span>'
        f"&nbsp;{name}"
        for _series, where, name, color, filled, _width in CURVES
        if where == plot
    )
    return f"{names}&nbsp;({dict(PLOTS)[plot]})"


def _translucent(color: QColor, alpha: float) -> QColor:
    faded = QColor(color)
    faded.setAlphaF(alpha)
    return faded

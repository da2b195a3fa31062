"""The wait-for graph: threads above, locks below, "waits for" and "held by" arrows between.

Why two fixed rows rather than a force layout: nodes keep their places from
frame to frame (threads in colour order, locks in creation order), so when the
arrows flicker at full speed the eye follows arrows, not jumping nodes.  A
wait arrow bows one way and a hold arrow the other, so a two-thread deadlock
(A waits for L1 held by B, B waits for L2 held by A) reads as a closed loop,
drawn thick and red.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from visualizer.ui.theme import ALERT_COLOR, foreground, muted, text_on, view_font
from visualizer.ui.views.labels import short_name


@dataclass(frozen=True, slots=True)
class GraphState:
    """What to draw: nodes, edges and the cycle (as a set of edges) if any."""

    threads: Sequence[tuple[int, str, QColor]] = ()  # ident, name, colour
    locks: Sequence[str] = ()
    waits: Sequence[tuple[int, str]] = ()  # thread waits for lock
    holds: Sequence[tuple[str, int]] = ()  # lock held by thread
    cycle_edges: frozenset[tuple[object, object]] = frozenset()
    cycle_text: str = ""


class WaitForGraph(QWidget):
    """Custom-painted wait-for graph; :attr:`state` is replaced whole on every refresh."""

    def __init__(self) -> None:
        super().__init__()
        self.node_font = view_font(bold=True)
        self.note_font = view_font(small=True)
        self.state = GraphState()
        self.marked: int | None = None
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(400, 200)

    def set_state(self, state: GraphState) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def set_marked(self, ident: int | None) -> None:
        """Ring one thread (the worker of the task selected elsewhere)."""
        self.marked = ident
        self.update()

    def cycle_drawn(self) -> bool:
        """Is a deadlock cycle being drawn (in red)?"""
        return bool(self.state.cycle_edges)

    def edge_color(self, source: object, target: object) -> QColor:
        """The colour an edge is drawn in: red on the cycle, else the palette's."""
        if (source, target) in self.state.cycle_edges:
            return QColor(ALERT_COLOR)
        return foreground(self)

    # --- layout --------------------------------------------------------------------
    def _positions(self) -> tuple[dict[int, QRectF], dict[str, QRectF], float]:
        state = self.state
        note_h = QFontMetrics(self.note_font).height() * 2 + 8
        height = self.height() - note_h
        width = float(self.width())
        node_h = QFontMetrics(self.node_font).height() + 14
        thread_y = max(4.0, height * 0.18)
        lock_y = max(thread_y + node_h * 2, height * 0.82 - node_h)
        threads: dict[int, QRectF] = {}
        count = max(1, len(state.threads))
        slot = width / count
        diameter = min(node_h + 8, slot - 6)
        for i, (ident, _name, _color) in enumerate(state.threads):
            cx = slot * (i + 0.5)
            threads[ident] = QRectF(cx - diameter / 2, thread_y, diameter, diameter)
        locks: dict[str, QRectF] = {}
        count = max(1, len(state.locks))
        slot = width / count
        metrics = QFontMetrics(self.node_font)
        for i, name in enumerate(state.locks):
            w = min(slot - 10, metrics.horizontalAdvance(name) + 20)
            cx = slot * (i + 0.5)
            locks[name] = QRectF(cx - w / 2, lock_y, w, node_h)
        return threads, locks, height

    # --- painting ------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        state = self.state
        threads, locks, height = self._positions()
        if not state.locks:
            painter.setPen(muted(self))
            painter.setFont(self.note_font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "The wait-for graph appears when the run creates its locks")
            return
        for ident, lock in state.waits:
            if ident in threads and lock in locks:
                self._arrow(painter, threads[ident], locks[lock], ident, lock, dashed=True)
        for lock, ident in state.holds:
            if ident in threads and lock in locks:
                self._arrow(painter, locks[lock], threads[ident], lock, ident, dashed=False)
        painter.setFont(self.node_font)
        metrics = QFontMetrics(self.node_font)
        on_cycle = {node for edge in state.cycle_edges for node in edge}
        for ident, name, color in state.threads:
            rect = threads[ident]
            ring = QPen(ALERT_COLOR, 4) if ident in on_cycle else QPen(color.darker(150), 1)
            painter.setPen(ring)
            painter.setBrush(color)
            painter.drawEllipse(rect)
            if ident == self.marked:
                painter.setPen(QPen(foreground(self), 2, Qt.PenStyle.DashLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(rect.adjusted(-5, -5, 5, 5))
            painter.setPen(text_on(color))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, short_name(name))
        ink = foreground(self)
        for name in state.locks:
            rect = locks[name]
            painter.setPen(QPen(ALERT_COLOR, 4) if name in on_cycle else QPen(ink, 1.5))
            painter.setBrush(self.palette().base())
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(ink)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignCenter,
                metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, int(rect.width()) - 8),
            )
        self._paint_notes(painter, height)

    def _paint_notes(self, painter: QPainter, top: float) -> None:
        painter.setFont(self.note_font)
        metrics = QFontMetrics(self.note_font)
        line = QRectF(6, top + 4, self.width() - 12, metrics.height())
        if self.state.cycle_text:
            bold = view_font(small=True, bold=True)
            painter.setFont(bold)
            painter.setPen(ALERT_COLOR)
            painter.drawText(line, Qt.AlignmentFlag.AlignLeft, metrics.elidedText(
                self.state.cycle_text, Qt.TextElideMode.ElideRight, int(line.width())))
            painter.setFont(self.note_font)
        line.translate(0, metrics.height() + 2)
        painter.setPen(muted(self, 0.8))
        painter.drawText(line, Qt.AlignmentFlag.AlignLeft,
                         "dashed: thread waits for lock \u00b7 solid: lock held by thread")

    def _arrow(
        self, painter: QPainter, source: QRectF, target: QRectF,
        source_id: object, target_id: object, *, dashed: bool,
    ) -> None:
        """A bowed arrow between two nodes' facing edges (waits bow left, holds right)."""
        downward = target.center().y() > source.center().y()
        start = QPointF(source.center().x(), source.bottom() if downward else source.top())
        end = QPointF(target.center().x(), target.top() if downward else target.bottom())
        mid = (start + end) / 2
        dx, dy = end.x() - start.x(), end.y() - start.y()
        length = math.hypot(dx, dy) or 1.0
        bow = 0.18 * length * (1 if dashed else -1)
        control = QPointF(mid.x() - dy / length * bow, mid.y() + dx / length * bow)
        color = self.edge_color(source_id, target_id)
        on_cycle = (source_id, target_id) in self.state.cycle_edges
        pen = QPen(color, 4 if on_cycle else 1.8)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        if not on_cycle:
            color.setAlphaF(0.75)
            pen.setColor(color)
        path = QPainterPath(start)
        path.quadTo(control, end)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        angle = math.atan2(end.y() - control.y(), end.x() - control.x())
        size = 12 if on_cycle else 9
        head = QPolygonF([
            end,
            end - QPointF(math.cos(angle - 0.4) * size, math.sin(angle - 0.4) * size),
            end - QPointF(math.cos(angle + 0.4) * size, math.sin(angle + 0.4) * size),
        ])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(head)


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

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from visualizer.ui.theme import ALERT_COLOR, foreground, muted, text_on, view_font
from visualizer.ui.views.labels import short_name

NO_RUN = "The wait-for graph appears when a run starts"
NO_LOCKS = "This run takes no traced locks, so nothing can wait for one"

LEGEND = "- - \u25b8 waits for     \u2014\u25b8 held by"

LEGEND_MIN_HEIGHT = 150
"""Below this height the legend gives its line to the nodes (and moves to the tooltip)."""


@dataclass(frozen=True, slots=True)
class GraphState:
    """What to draw: nodes, edges and the cycle (as a set of edges) if any."""

    threads: Sequence[tuple[int, str, QColor]] = ()  # ident, name, colour
    locks: Sequence[str] = ()
    waits: Sequence[tuple[int, str]] = ()  # thread waits for lock
    holds: Sequence[tuple[str, int]] = ()  # lock held by thread
    cycle_edges: frozenset[tuple[object, object]] = frozenset()
    cycle_text: str = ""
    note: str = ""  # what was left out, in place of the legend


class WaitForGraph(QWidget):
    """Custom-painted wait-for graph; :attr:`state` is replaced whole on every refresh."""

    def restyle(self) -> None:
        self.node_font = view_font(bold=True)
        self.small_node_font = view_font(small=True, bold=True)
        self.note_font = view_font(small=True)
        self.update()

    def __init__(self) -> None:
        super().__init__()
        self.restyle()
        self.state = GraphState()
        self.marked: int | None = None
        self.empty_text = NO_RUN
        self.setToolTip(
            "Wait-for graph. Circles: threads; boxes: locks.\n"
            "Dashed arrow: the thread waits for the lock. Solid arrow: the lock is held by the "
            "thread.\nA closed loop of arrows is a deadlock, drawn in red."
        )
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(400, 200)

    def set_state(self, state: GraphState, empty_text: str = NO_RUN) -> None:
        """Show ``state``; ``empty_text`` says why when it has no locks."""
        if state != self.state or empty_text != self.empty_text:
            self.state = state
            self.empty_text = empty_text
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
    def _legend_shown(self) -> bool:
        """The arrow legend only when there is room for it (else it is in the tooltip)."""
        return self.height() >= LEGEND_MIN_HEIGHT

    def _cycle_height(self) -> int:
        """Height of the deadlock line, wrapped at the width: it is never cut short."""
        metrics = QFontMetrics(view_font(small=True, bold=True))
        box = QRect(0, 0, max(40, self.width() - 12), 10_000)
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
        return metrics.boundingRect(box, flags, self.state.cycle_text).height()

    def _bands(self) -> tuple[float, float]:
        """Top and bottom of the node area: the deadlock line above it, the legend below."""
        line = QFontMetrics(self.note_font).height() + 4
        top = self._cycle_height() + 6 if self.state.cycle_text else 2.0
        bottom = self.height() - line - 2 if self._legend_shown() else self.height() - 2.0
        return top, bottom

    def _positions(self) -> tuple[dict[int, QRectF], dict[str, QRectF]]:
        state = self.state
        top, bottom = self._bands()
        width = float(self.width())
        # Two rows of nodes and the arrows between them share what height there is.
        node_h = min(QFontMetrics(self.node_font).height() + 12, (bottom - top) / 3)
        threads: dict[int, QRectF] = {}
        count = max(1, len(state.threads))
        slot = width / count
        thread_y = top + 4
        lock_y = bottom - node_h - 4  # the locks along the bottom, however short the graph:
        # on a short one the circles shrink so the arrows keep 12 px, rather than the lock
        # row being pushed below the widget's edge and clipped.
        diameter = max(8.0, min(node_h + 6, slot - 6, lock_y - thread_y - 12))
        for i, (ident, _name, _color) in enumerate(state.threads):
            cx = slot * (i + 0.5)
            threads[ident] = QRectF(cx - diameter / 2, thread_y, diameter, diameter)
        locks: dict[str, QRectF] = {}
        x = 0.0
        for name, slot, w in zip(state.locks, *self._lock_widths(width), strict=True):
            locks[name] = QRectF(x + (slot - w) / 2, lock_y, w, node_h)
            x += slot
        return threads, locks

    def _lock_widths(self, width: float) -> tuple[list[float], list[float]]:
        """Each lock's slot along the row and its box's width.

        A box is wide enough for its name and for its arrows to arrive about 18 px
        apart; the row's room is shared out by those widths, not in equal slots, so
        a long name (``PriorityQueue.mutex``) beside a short one (``table``) is not cut.
        """
        state = self.state
        metrics = QFontMetrics(self.node_font)
        degree = dict.fromkeys(state.locks, 0)
        for _ident, lock in state.waits:
            degree[lock] = degree.get(lock, 0) + 1
        for lock, _ident in state.holds:
            degree[lock] = degree.get(lock, 0) + 1
        wanted = [
            float(max(metrics.horizontalAdvance(name) + 20, 18 * (degree[name] + 1)))
            for name in state.locks
        ]
        gap = 10.0
        total = sum(wanted) + gap * len(wanted)
        if total <= width:  # room for all: the rest spaces them out evenly
            spare = (width - sum(wanted)) / max(1, len(wanted))
            return [w + spare for w in wanted], wanted
        share = max(0.0, width - gap * len(wanted)) / max(1.0, sum(wanted))
        boxes = [w * share for w in wanted]
        return [box + gap for box in boxes], boxes

    # --- painting ------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        state = self.state
        threads, locks = self._positions()
        if not state.locks:
            painter.setPen(muted(self))
            painter.setFont(self.note_font)
            painter.drawText(
                QRectF(self.rect()).adjusted(8, 4, -8, -4),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            return
        ports = self._lock_ports(threads, locks)
        for ident, lock in state.waits:
            if ident in threads and lock in locks:
                start = QPointF(threads[ident].center().x(), threads[ident].bottom())
                self._arrow(painter, start, ports[lock, ident], ident, lock, dashed=True)
        for lock, ident in state.holds:
            if ident in threads and lock in locks:
                end = QPointF(threads[ident].center().x(), threads[ident].bottom())
                self._arrow(painter, ports[lock, ident], end, lock, ident, dashed=False)
        painter.setFont(self.node_font)
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
            font, text = self.lock_label(name, int(rect.width()) - 8)
            painter.setFont(font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        self._paint_notes(painter)

    def lock_label(self, name: str, room: int) -> tuple[QFont, str]:
        """The font and text a lock's box shows in ``room`` pixels: the name whole in the
        node font, else whole in the small one (``PriorityQueue.mutex`` on a narrow
        graph), and cut in the middle only when even that is too wide."""
        if QFontMetrics(self.node_font).horizontalAdvance(name) <= room:
            return self.node_font, name
        small = QFontMetrics(self.small_node_font)
        return self.small_node_font, small.elidedText(name, Qt.TextElideMode.ElideMiddle, room)

    def _paint_notes(self, painter: QPainter) -> None:
        """The deadlock, spelled out in red along the top; the arrow legend along the bottom."""
        metrics = QFontMetrics(self.note_font)
        width = self.width() - 12
        if self.state.cycle_text:
            painter.setFont(view_font(small=True, bold=True))
            painter.setPen(ALERT_COLOR)
            box = QRectF(6, 2, width, self._cycle_height())
            painter.drawText(
                box, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, self.state.cycle_text
            )
        if not self._legend_shown():
            return
        painter.setFont(self.note_font)
        painter.setPen(muted(self, 0.8))
        _top, bottom = self._bands()
        painter.drawText(
            QRectF(6, bottom + 2, width, metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            f"{LEGEND}     ({self.state.note})" if self.state.note else LEGEND,
        )

    def _lock_ports(
        self, threads: dict[int, QRectF], locks: dict[str, QRectF]
    ) -> dict[tuple[str, int], QPointF]:
        """Where each thread's arrow meets a lock: spread along its top edge in thread order.

        Arrows from eight threads into one lock would otherwise meet in one point
        and their heads pile up into a blot.
        """
        linked: dict[str, list[int]] = {name: [] for name in locks}
        for ident, lock in self.state.waits:
            if lock in linked and ident in threads:
                linked[lock].append(ident)
        for lock, ident in self.state.holds:
            if lock in linked and ident in threads:
                linked[lock].append(ident)
        ports: dict[tuple[str, int], QPointF] = {}
        for lock, idents in linked.items():
            rect = locks[lock]
            ordered = sorted(set(idents), key=lambda ident: threads[ident].center().x())
            for i, ident in enumerate(ordered):
                x = rect.left() + rect.width() * (i + 1) / (len(ordered) + 1)
                ports[lock, ident] = QPointF(x, rect.top())
        return ports

    def _arrow(
        self,
        painter: QPainter,
        start: QPointF,
        end: QPointF,
        source_id: object,
        target_id: object,
        *,
        dashed: bool,
    ) -> None:
        """A slightly bowed arrow (waits bow one way, holds the other, so a 2-cycle is a loop)."""
        mid = (start + end) / 2
        dx, dy = end.x() - start.x(), end.y() - start.y()
        length = math.hypot(dx, dy) or 1.0
        bow = 0.12 * length * (1 if dashed else -1)
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
        head = QPolygonF(
            [
                end,
                end - QPointF(math.cos(angle - 0.4) * size, math.sin(angle - 0.4) * size),
                end - QPointF(math.cos(angle + 0.4) * size, math.sin(angle + 0.4) * size),
            ]
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(head)

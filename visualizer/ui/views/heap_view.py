"""The binary heap as a tree, with its array underneath and the last sift path lit up.

Why custom paint and not a QGraphicsScene: only the first few levels are ever
drawn (at most 31 nodes, fewer when the dock is narrow), so one ``paintEvent``
walking a list is cheaper than keeping scene items in step with a heap that
changes thousands of times a second, and nothing is rebuilt per frame.  Deeper
levels collapse into a "+N more" marker so a 20 000-entry heap costs the same
to draw as a 31-entry one.

The tree and the strip both draw slot ``i`` of ``model.heap.entries`` (children
of ``i`` at ``2i+1`` and ``2i+2``), each filled with its task's status colour;
a cancelled task still in the heap (lazy deletion) is hatched and struck out.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from visualizer.model import RunModel
from visualizer.queues import CANCELLED
from visualizer.ui.theme import (
    foreground,
    hatch_brush,
    muted,
    status_color,
    text_on,
    view_font,
)

MAX_LEVELS = 5
"""Most tree levels drawn (31 nodes); deeper ones are summarised."""

SNAPSHOT_SLOTS = 96
"""Slots copied (with their statuses) at each refresh: the tree's 31 plus a wide strip."""

Entry = tuple[int, Hashable]


@dataclass(slots=True)
class _Fonts:
    priority: QFont
    task: QFont
    index: QFont

    @classmethod
    def make(cls) -> _Fonts:
        return cls(view_font(1.1, bold=True), view_font(small=True), view_font(small=True))


def _paint_entry(
    painter: QPainter,
    rect: QRectF,
    entry: Entry,
    status: str | None,
    fonts: _Fonts,
    *,
    on_path: bool,
    selected: bool,
    ink: QColor,
) -> None:
    """One heap slot: status fill, priority over task id; hatched and struck if cancelled."""
    priority, task = entry
    fill = status_color(status)
    radius = min(8.0, rect.height() / 4)
    painter.setPen(QPen(ink if on_path else fill.darker(150), 3.0 if on_path else 1.0))
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, radius, radius)
    cancelled = status == CANCELLED
    if cancelled:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(hatch_brush())
        painter.drawRoundedRect(rect, radius, radius)
    if selected:
        ring = QPen(ink, 2.0, Qt.PenStyle.DashLine)
        painter.setPen(ring)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(-5, -5, 5, 5), radius + 4, radius + 4)
    text = text_on(fill)
    painter.setPen(text)
    half = rect.height() / 2
    top = QRectF(rect.left(), rect.top() + 1, rect.width(), half)
    bottom = QRectF(rect.left(), rect.top() + half - 2, rect.width(), half)
    painter.setFont(fonts.priority)
    painter.drawText(top, Qt.AlignmentFlag.AlignCenter, str(priority))
    task_font = QFont(fonts.task)
    task_font.setStrikeOut(cancelled)
    painter.setFont(task_font)
    painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, f"#{task}")


class _HeapPicture(QWidget):
    """Shared state of the tree and the strip: the first slots, statuses, path and selection.

    Statuses are copied at refresh, never read from the live model while painting:
    the model folds batches between frames, and a repaint in between (an expose, a
    screenshot) would otherwise colour a stale slot with its task's newer status.
    """

    clicked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.fonts = _Fonts.make()
        self.entries: Sequence[Entry] = ()
        self.statuses: Sequence[str | None] = ()
        self.total = 0
        self.path: frozenset[int] = frozenset()
        self.path_order: list[int] = []
        self.selected: Hashable | None = None
        self._hits: list[tuple[QRectF, Hashable]] = []
        self.setMouseTracking(False)

    def set_state(
        self,
        entries: Sequence[Entry],
        statuses: Sequence[str | None],
        total: int,
        path: list[int],
        selected: Hashable | None,
    ) -> None:
        """``entries`` are the first slots of a heap of ``total`` entries."""
        self.entries = entries
        self.statuses = statuses
        self.total = total
        self.path_order = list(path)
        self.path = frozenset(path)
        self.selected = selected
        self.relayout()
        self.update()

    def relayout(self) -> None:
        """Recompute what is drawn where (on new state and on resize)."""

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.relayout()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        point = event.position()
        for rect, task in self._hits:
            if rect.contains(point):
                self.clicked.emit(task)
                return
        super().mousePressEvent(event)

    def _paint_slot(self, painter: QPainter, rect: QRectF, index: int) -> None:
        entry = self.entries[index]
        _paint_entry(
            painter,
            rect,
            entry,
            self.statuses[index],
            self.fonts,
            on_path=index in self.path,
            selected=self.selected is not None and entry[1] == self.selected,
            ink=foreground(self),
        )


class HeapTree(_HeapPicture):
    """The first levels of the heap as a tree; the rest as one "+N more" marker."""

    def __init__(self) -> None:
        super().__init__()
        self.levels = 0
        self._rects: list[QRectF] = []
        self.setMinimumSize(220, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # --- what is shown ----------------------------------------------------------
    def node_count(self) -> int:
        """Nodes drawn (the whole heap if it fits, else its first complete levels)."""
        return len(self._rects)

    def hidden_count(self) -> int:
        """Entries in deeper levels, summarised by the marker."""
        return self.total - len(self._rects)

    def node_min_width(self) -> float:
        metrics = QFontMetrics(self.fonts.task)
        return max(metrics.horizontalAdvance("#00000"), 44) + 8

    def relayout(self) -> None:
        n = self.total
        width, height = float(self.width()), float(self.height())
        node_h = QFontMetrics(self.fonts.priority).height() + QFontMetrics(
            self.fonts.task
        ).height()
        marker_h = QFontMetrics(self.fonts.index).height() + 10
        min_w = self.node_min_width()
        levels = 0
        # Deepest level count that fits: 2**(levels-1) nodes across, and one row per level.
        while (
            levels < MAX_LEVELS
            and (1 << levels) - 1 < n
            and (1 << levels) * min_w <= width
            and (levels + 1) * (node_h + 18) + marker_h <= height
        ):
            levels += 1
        levels = max(levels, 1 if n else 0)
        self.levels = levels
        shown = min(n, (1 << levels) - 1)
        rects: list[QRectF] = []
        if shown:
            slot_w = width / (1 << (levels - 1))
            node_w = min(slot_w - 6, 86.0)
            usable = height - marker_h - node_h - 8
            step = min(usable / max(1, levels - 1), node_h * 2.4)
            for index in range(shown):
                depth = (index + 1).bit_length() - 1
                across = index - ((1 << depth) - 1)
                span = width / (1 << depth)
                cx = span * (across + 0.5)
                top = 4 + depth * step
                rects.append(QRectF(cx - node_w / 2, top, node_w, node_h))
        self._rects = rects
        self._hits = [(rect, self.entries[i][1]) for i, rect in enumerate(rects)]

    # --- painting ------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rects = self._rects
        n = self.total
        if not rects:
            painter.setPen(muted(self))
            painter.setFont(self.fonts.task)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "The heap is empty"
            )
            return
        ink = foreground(self)
        thin = QPen(muted(self, 0.45), 1.5)
        bold = QPen(ink, 4.0)
        path = self.path
        for child in range(1, len(rects)):
            parent = (child - 1) >> 1
            on_path = child in path and parent in path
            painter.setPen(bold if on_path else thin)
            painter.drawLine(
                QPointF(rects[parent].center().x(), rects[parent].bottom()),
                QPointF(rects[child].center().x(), rects[child].top()),
            )
        hidden = n - len(rects)
        if hidden:
            self._paint_stubs(painter, thin)
        for index, rect in enumerate(rects):
            self._paint_slot(painter, rect, index)
        if hidden:
            painter.setFont(self.fonts.index)
            painter.setPen(ink)
            area = QRectF(0, self.height() - QFontMetrics(self.fonts.index).height() - 6,
                          self.width(), QFontMetrics(self.fonts.index).height() + 4)
            deeper = self._deeper_path()
            note = f"+{hidden:,} more in deeper levels"
            if deeper:
                note += f" (path continues to slot {deeper})"
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, note)

    def _paint_stubs(self, painter: QPainter, pen: QPen) -> None:
        """Short dashed stubs under bottom nodes whose children exist but are not drawn."""
        rects = self._rects
        n = self.total
        first_bottom = (1 << (self.levels - 1)) - 1
        dashed = QPen(pen)
        dashed.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(dashed)
        for index in range(first_bottom, len(rects)):
            if 2 * index + 1 >= n:
                break
            rect = rects[index]
            start = QPointF(rect.center().x(), rect.bottom())
            painter.drawLine(start, start + QPointF(-8, 10))
            if 2 * index + 2 < n:
                painter.drawLine(start, start + QPointF(8, 10))

    def _deeper_path(self) -> int | None:
        """The deepest slot on the last path when it lies below the drawn levels."""
        beyond = [i for i in self.path_order if i >= len(self._rects)]
        return max(beyond) if beyond else None

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(520, 260)


class HeapStrip(_HeapPicture):
    """The heap array itself, slot by slot with indices, as far as the width allows."""

    def __init__(self) -> None:
        super().__init__()
        self._cells: list[QRectF] = []
        self._more = QRectF()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self._cell_height() + QFontMetrics(self.fonts.index).height() + 8)

    def _cell_height(self) -> int:
        return QFontMetrics(self.fonts.priority).height() + QFontMetrics(self.fonts.task).height()

    def cell_width(self) -> float:
        return max(QFontMetrics(self.fonts.task).horizontalAdvance("#00000") + 10, 50.0)

    def shown_count(self) -> int:
        return len(self._cells)

    def relayout(self) -> None:
        n = self.total
        cw = self.cell_width()
        more_w = QFontMetrics(self.fonts.index).horizontalAdvance("+00000 more") + 8
        fits = int((self.width() - 4) // cw)
        if n > fits:
            fits = max(0, int((self.width() - 4 - more_w) // cw))
        shown = min(n, fits, len(self.entries))
        top = QFontMetrics(self.fonts.index).height() + 4
        height = self._cell_height()
        self._cells = [QRectF(2 + i * cw, top, cw - 4, height) for i in range(shown)]
        self._more = QRectF(2 + shown * cw, top, more_w, height) if n > shown else QRectF()
        self._hits = [(rect, self.entries[i][1]) for i, rect in enumerate(self._cells)]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        index_h = QFontMetrics(self.fonts.index).height()
        for index, rect in enumerate(self._cells):
            painter.setFont(self.fonts.index)
            painter.setPen(foreground(self) if index in self.path else muted(self))
            painter.drawText(
                QRectF(rect.left(), 0, rect.width(), index_h + 2),
                Qt.AlignmentFlag.AlignCenter,
                f"[{index}]",
            )
            self._paint_slot(painter, rect, index)
        if not self._more.isNull():
            painter.setFont(self.fonts.index)
            painter.setPen(foreground(self))
            painter.drawText(
                self._more,
                Qt.AlignmentFlag.AlignCenter,
                f"+{self.total - len(self._cells):,} more",
            )


class HeapView(QWidget):
    """Heap tree over heap array, with a caption naming the last push or pop and its path."""

    title = "Heap"
    task_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(view_font())
        self.model: RunModel | None = None
        self.selected: Hashable | None = None
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        self.tree = HeapTree()
        self.strip = HeapStrip()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.strip)
        for picture in (self.tree, self.strip):
            picture.clicked.connect(self.task_selected)
        self.set_model(None)

    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.selected = None
        self.refresh()

    def refresh(self) -> None:
        model = self.model
        if model is None:
            for picture in (self.tree, self.strip):
                picture.set_state((), (), 0, [], None)
            self.caption.setText("No run yet: press Start to fill the heap")
            return
        heap = model.heap
        total = len(heap)
        entries = heap.entries[:SNAPSHOT_SLOTS]
        status = model.tasks.status
        statuses = [status.get(task) for _priority, task in entries]
        path = list(heap.last_path)
        for picture in (self.tree, self.strip):
            picture.set_state(entries, statuses, total, path, self.selected)
        self.caption.setText(self._caption(total))

    def _caption(self, size: int) -> str:
        heap = self.model.heap
        noun = "entry" if size == 1 else "entries"
        text = f"{size:,} {noun}; highest priority on top. Node: priority over #task."
        if heap.last_op is not None and heap.last_path:
            direction = "sifted up" if heap.last_op == "push" else "sifted down"
            slots = " \u2192 ".join(str(i) for i in heap.last_path)
            text += f"\nLast {heap.last_op}: task {heap.last_task}, {direction} via slots {slots}"
        elif heap.last_op is not None:
            text += f"\nLast {heap.last_op}: task {heap.last_task}"
        return text

    def select_task(self, task_id: Hashable | None) -> None:
        self.selected = task_id
        self.refresh()

"""The binary heap as a tree, with its array underneath and the last sift path lit up.

Why custom paint and not a QGraphicsScene: only the first few levels are ever
drawn (at most 31 nodes, fewer when the dock is narrow), so one ``paintEvent``
walking a list is cheaper than keeping scene items in step with a heap that
changes thousands of times a second, and nothing is rebuilt per frame.  Deeper
levels collapse into a "+N more" marker so a 20 000-entry heap costs the same
to draw as a 31-entry one.

The tree and the strip both draw slot ``i`` of ``model.heap.slots`` (children
of ``i`` at ``2i+1`` and ``2i+2``), each filled with its task's status colour;
a cancelled task still in the heap (lazy deletion) is hatched and struck out.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from PySide6.QtCore import QLineF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from visualizer.events import CANCELLED, QUEUED
from visualizer.model import HeapMirror, RunModel
from visualizer.ui.theme import (
    foreground,
    hatch_brush,
    muted,
    status_color,
    text_on,
    view_font,
)
from visualizer.ui.views.base import RunView

MAX_LEVELS = 5
"""Most tree levels drawn (31 nodes); deeper ones are summarised."""

SNAPSHOT_SLOTS = 96
"""Slots copied (with their statuses) at each refresh: the tree's 31 plus a wide strip."""

Entry = tuple[int, Hashable]


class _HeapPicture(QWidget):
    """Shared state of the tree and the strip: the first slots, statuses, path and selection.

    Statuses are copied at refresh, never read from the live model while painting:
    the model folds batches between frames, and a repaint in between (an expose, a
    screenshot) would otherwise colour a stale slot with its task's newer status.
    """

    clicked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._fonts()
        self.entries: Sequence[Entry] = ()
        self.statuses: Sequence[str | None] = ()
        self.total = 0
        self.path: frozenset[int] = frozenset()
        self.selected: Hashable | None = None
        self.empty_text = "The heap is empty"
        self._hits: list[tuple[QRectF, Hashable]] = []

    def set_state(
        self,
        entries: Sequence[Entry],
        statuses: Sequence[str | None],
        total: int,
        path: Sequence[int],
        selected: Hashable | None,
    ) -> None:
        """``entries`` are the first slots of a heap of ``total`` entries."""
        path_set = frozenset(path)
        if (entries, statuses, total, path_set, selected) == (
            self.entries,
            self.statuses,
            self.total,
            self.path,
            self.selected,
        ):
            return  # nothing visible changed: skip the repaint
        self.entries = entries
        self.statuses = statuses
        self.total = total
        self.path = path_set
        self.selected = selected
        self.relayout()
        self.update()

    def _fonts(self) -> None:
        self.priority_font = view_font(bold=True)
        self.task_font = view_font(small=True)
        self.struck_font = QFont(self.task_font)
        self.struck_font.setStrikeOut(True)
        self.note_font = view_font(small=True)
        self.note_metrics = QFontMetrics(self.note_font)
        self.node_height = (
            QFontMetrics(self.priority_font).height() + QFontMetrics(self.task_font).height()
        )
        self.node_width = max(QFontMetrics(self.task_font).horizontalAdvance("#00000"), 44) + 8

    def restyle(self) -> None:
        """Fonts and node sizes after a zoom."""
        self._fonts()
        self.relayout()
        self.update()

    def relayout(self) -> None:
        """Recompute what is drawn where (on new state and on resize)."""
        raise NotImplementedError

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

    def _paint_slot(self, painter: QPainter, rect: QRectF, index: int, ink: QColor) -> None:
        """One heap slot: status fill, priority over task id; hatched and struck if cancelled."""
        priority, task = self.entries[index]
        status = self.statuses[index]
        fill = status_color(status)
        on_path = index in self.path
        radius = min(8.0, rect.height() / 4)
        painter.setPen(QPen(ink, 3.0) if on_path else QPen(fill.darker(150), 1.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, radius, radius)
        cancelled = status == CANCELLED
        if cancelled:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hatch_brush())
            painter.drawRoundedRect(rect, radius, radius)
        if self.selected is not None and task == self.selected:
            painter.setPen(QPen(ink, 2.0, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-5, -5, 5, 5), radius + 4, radius + 4)
        painter.setPen(text_on(fill))
        half = rect.height() / 2
        painter.setFont(self.priority_font)
        painter.drawText(
            QRectF(rect.left(), rect.top() + 1, rect.width(), half),
            Qt.AlignmentFlag.AlignCenter,
            str(priority),
        )
        painter.setFont(self.struck_font if cancelled else self.task_font)
        painter.drawText(
            QRectF(rect.left(), rect.top() + half - 2, rect.width(), half),
            Qt.AlignmentFlag.AlignCenter,
            f"#{task}",
        )


class HeapTree(_HeapPicture):
    """The first levels of the heap as a tree; the rest as one "+N more" marker."""

    def __init__(self) -> None:
        super().__init__()
        self.levels = 0
        self._rects: list[QRectF] = []
        self.setMinimumSize(200, 72)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(520, 260)

    def node_count(self) -> int:
        """Nodes drawn (the whole heap if it fits, else its first complete levels)."""
        return len(self._rects)

    def hidden_count(self) -> int:
        """Entries in deeper levels, summarised by the marker."""
        return self.total - len(self._rects)

    def relayout(self) -> None:
        n = self.total
        width, height = float(self.width()), float(self.height())
        node_h = self.node_height
        marker_h = self.note_metrics.height() + 10
        levels = 0
        # The deepest level count that fits: 2**(levels-1) nodes across, one row per level.
        while (
            levels < MAX_LEVELS
            and (1 << levels) - 1 < n
            and (1 << levels) * self.node_width <= width
            and (levels + 1) * (node_h + 14) + marker_h <= height
        ):
            levels += 1
        levels = max(levels, 1 if n else 0)
        self.levels = levels
        shown = min(n, (1 << levels) - 1, len(self.entries))
        rects: list[QRectF] = []
        if shown:
            node_w = min(width / (1 << (levels - 1)) - 6, 86.0)
            usable = height - marker_h - node_h - 8
            step = min(usable / max(1, levels - 1), node_h * 2.4)
            for index in range(shown):
                depth = (index + 1).bit_length() - 1
                across = index - ((1 << depth) - 1)
                cx = width / (1 << depth) * (across + 0.5)
                rects.append(QRectF(cx - node_w / 2, 4 + depth * step, node_w, node_h))
        self._rects = rects
        self._hits = [(rect, self.entries[i][1]) for i, rect in enumerate(rects)]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rects = self._rects
        if not rects:
            painter.setPen(muted(self))
            painter.setFont(self.note_font)
            painter.drawText(
                self.rect().adjusted(8, 0, -8, 0),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            return
        ink = foreground(self)
        thin = QPen(muted(self, 0.45), 1.5)
        bold = QPen(ink, 4.0)
        path = self.path
        edges: tuple[list[QLineF], list[QLineF]] = ([], [])
        for child in range(1, len(rects)):
            parent = (child - 1) >> 1
            edges[child in path and parent in path].append(
                QLineF(
                    rects[parent].center().x(),
                    rects[parent].bottom(),
                    rects[child].center().x(),
                    rects[child].top(),
                )
            )
        for pen, lines in zip((thin, bold), edges, strict=True):
            painter.setPen(pen)
            painter.drawLines(lines)
        hidden = self.total - len(rects)
        if hidden:
            self._paint_stubs(painter, thin)
        for index, rect in enumerate(rects):
            self._paint_slot(painter, rect, index, ink)
        if hidden:
            line_h = self.note_metrics.height()
            painter.setFont(self.note_font)
            painter.setPen(ink)
            painter.drawText(
                QRectF(0, rects[-1].bottom() + 12, self.width(), line_h + 4),
                Qt.AlignmentFlag.AlignCenter,
                f"+{hidden:,} more in deeper levels",
            )

    def _paint_stubs(self, painter: QPainter, pen: QPen) -> None:
        """Short dotted stubs under bottom nodes whose children exist but are not drawn."""
        rects = self._rects
        dotted = QPen(pen)
        dotted.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(dotted)
        stubs: list[QLineF] = []
        for index in range((1 << (self.levels - 1)) - 1, len(rects)):
            for child, dx in ((2 * index + 1, -8), (2 * index + 2, 8)):
                if child < self.total:
                    x, y = rects[index].center().x(), rects[index].bottom()
                    stubs.append(QLineF(x, y, x + dx, y + 10))
        painter.drawLines(stubs)


class HeapStrip(_HeapPicture):
    """The heap array itself, slot by slot with indices, as far as the width allows."""

    def __init__(self) -> None:
        super().__init__()
        self._cells: list[QRectF] = []
        self._more = QRectF()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fit()

    def _fit(self) -> None:
        self.cell_width = max(QFontMetrics(self.task_font).horizontalAdvance("#000000") + 12, 50)
        self.setFixedHeight(self.node_height + self.note_metrics.height() + 8)

    def restyle(self) -> None:
        self._fonts()
        self._fit()
        self.relayout()
        self.update()

    def shown_count(self) -> int:
        return len(self._cells)

    def relayout(self) -> None:
        n = self.total
        cw = self.cell_width
        more_w = self.note_metrics.horizontalAdvance(f"+{n:,} more") + 8
        fits = int((self.width() - 4) // cw)
        if n > fits:
            fits = max(0, int((self.width() - 4 - more_w) // cw))
        shown = min(n, fits, len(self.entries))
        top = self.note_metrics.height() + 4
        self._cells = [QRectF(2 + i * cw, top, cw - 4, self.node_height) for i in range(shown)]
        more = n > shown
        self._more = QRectF(2 + shown * cw, top, more_w, self.node_height) if more else QRectF()
        self._hits = [(rect, self.entries[i][1]) for i, rect in enumerate(self._cells)]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = foreground(self)
        faint = muted(self)
        index_h = self.note_metrics.height()
        for index, rect in enumerate(self._cells):
            painter.setFont(self.note_font)
            painter.setPen(ink if index in self.path else faint)
            painter.drawText(
                QRectF(rect.left(), 0, rect.width(), index_h + 2),
                Qt.AlignmentFlag.AlignCenter,
                f"[{index}]",
            )
            self._paint_slot(painter, rect, index, ink)
        if not self._more.isNull():
            painter.setFont(self.note_font)
            painter.setPen(ink)
            painter.drawText(
                self._more,
                Qt.AlignmentFlag.AlignCenter,
                f"+{self.total - len(self._cells):,} more",
            )


ARROW = " \u2192 "
SLOTS = "slots "
"""The caption's sift path: ``through slots 2995 → 1497 → …``."""


def fitted(line: str, metrics: QFontMetrics, width: int) -> str:
    """``line`` within ``width`` pixels. A sift path too long for it loses slots from its
    middle, not its end: where the task came to rest (slot 0: it is on top now) is the
    point of the line; narrower still, the line says only that ("sifted up to slot 0").
    Anything else is cut at its end. The caption's tooltip has every line whole.
    """
    if metrics.horizontalAdvance(line) <= width:
        return line
    head, marker, chain = line.partition(SLOTS)
    slots = chain.split(ARROW)
    if marker:
        shorter = [
            head + marker + ARROW.join([*slots[:keep], "\u2026", slots[-1]])
            for keep in range(len(slots) - 2, 0, -1)
        ]
        for line in [*shorter, f"{head.removesuffix('through ')}to slot {slots[-1]}"]:
            if metrics.horizontalAdvance(line) <= width:
                return line
    return metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)


EXACT_COUNT_LIMIT = 4_096
"""Heaps up to this size are searched for queued tasks; bigger ones give a lower bound."""


def missing_from_heap(model: RunModel) -> int:
    """How many tasks the events call queued have no slot in the heap (the unsafe queue).

    A safe queue keeps every queued task in its heap, so this is 0; the unsafe one
    overwrites slots in its races and loses them while their status stays queued.
    """
    queued = model.tasks.by_status[QUEUED]
    heap = model.heap
    if len(heap) > EXACT_COUNT_LIMIT:
        return max(0, queued - len(heap))
    status = model.tasks.status
    in_heap = len({task for _priority, task in heap.slots[:] if status.get(task) == QUEUED})
    return max(0, queued - in_heap)


class HeapView(RunView):
    """Heap tree over heap array, with a caption naming the last push or pop and its path."""

    title = "Heap"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected: Hashable | None = None
        self.truth: list[Entry] | None = None  # the program's own heap, read while paused
        # A user's queue: (its heapq list's name, first slots or None if it keeps no
        # heapq list, length), sent by the run process while it runs.
        self.own: tuple[str, list[Entry] | None, int] | None = None
        # Two elided lines rather than word wrap: a long sift path must not eat tree levels.
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.caption.setMinimumWidth(1)
        self._caption_lines: list[str] = []
        self._caption_why = ""  # the tooltip's explanation of the caption, if any
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
        self.restyle()
        self.set_model(None)

    def restyle(self) -> None:
        self.caption.setFixedHeight(2 * self.caption.fontMetrics().lineSpacing() + 10)
        self._caption_lines, lines = [], self._caption_lines
        self._set_caption(lines, self._caption_why)

    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.selected = None
        self.refresh()

    def refresh(self) -> None:
        model = self.model
        if model is None:
            for picture in (self.tree, self.strip):
                picture.set_state((), (), 0, (), None)
            self._set_caption(["No run yet: press Start"])
            return
        heap = model.heap
        status_of = model.tasks.status_of  # a cancelled entry may outlive the task's details
        if self.truth is not None:
            self._show_truth(self.truth, heap)
            return
        if self.own is not None:
            name, slots, size = self.own
            if slots is not None:
                self._show_own(name, slots, size)
                return
        total = len(heap)
        entries = model.heap.slots[:SNAPSHOT_SLOTS]
        statuses = [status_of(task) for _priority, task in entries]
        missing = missing_from_heap(model)
        self.tree.empty_text = (
            f"The heap is empty, yet {missing:,} task{'s are' if missing != 1 else ' is'} "
            "queued: lost from the heap, no worker can ever get them"
            if missing and not total
            else "The heap is empty"
        )
        for picture in (self.tree, self.strip):
            picture.set_state(entries, statuses, total, heap.last_path, self.selected)
        lines = self._caption(heap, total)
        if self.own is not None:  # a user's queue that keeps no heapq list
            lines = [
                "No heapq list in your queue: the heap its calls imply",
                f"{total:,} queued by add_task and get_next_task, highest on top",
            ]
        if missing:
            lines[1:] = [
                f"{missing:,} queued task{'s are' if missing != 1 else ' is'} in no slot: "
                "lost from the heap"
            ]
        self._set_caption(lines)

    def set_truth(self, entries: list[Entry] | None) -> None:
        """Show the program's real heap (read while paused); None: the replica again."""
        if entries == self.truth:
            return
        self.truth = entries
        self.refresh()

    def set_own(self, own: tuple[str, list[Entry] | None, int] | None) -> None:
        """Show a user's queue's own heapq list (None: not a user's queue)."""
        own = None if own is None else (own[0], None if own[1] is None else list(own[1]), own[2])
        if own == self.own:
            return
        self.own = own
        self.refresh()

    def _show_own(self, name: str, slots: list[Entry], total: int) -> None:
        """The user's heapq list as it is now, slot by slot (its entries' tasks found by the
        adapter); statuses as the calls say."""
        assert self.model is not None
        status = self.model.tasks.status
        entries = [(priority, task) for priority, task in slots[:SNAPSHOT_SLOTS]]
        statuses = [status.get(task) for _priority, task in entries]
        self.tree.empty_text = f"self.{name} is empty"
        for picture in (self.tree, self.strip):
            picture.set_state(entries, statuses, total, (), self.selected)
        noun = "entry" if total == 1 else "entries"
        self._set_caption(
            [
                f"Your own heapq list self.{name}: {total:,} {noun}",
                "Read from the list itself, not from the events",
            ]
        )

    def _show_truth(self, truth: list[Entry], heap: HeapMirror) -> None:
        """The real heap, with the slots where the replica built from events differs lit up."""
        assert self.model is not None
        status_of = self.model.tasks.status_of
        replica = heap.slots[:]
        if self.own is not None:
            self._show_own_paused(truth, replica)
            return
        differ = [
            i
            for i in range(max(len(truth), len(replica)))
            if i >= len(truth) or i >= len(replica) or truth[i] != replica[i]
        ]
        entries = truth[:SNAPSHOT_SLOTS]
        statuses = [status_of(task) for _priority, task in entries]
        for picture in (self.tree, self.strip):
            picture.set_state(entries, statuses, len(truth), differ, self.selected)
        noun = "entry" if len(truth) == 1 else "entries"
        # Short lines: the dock beside the code is a third of a 1024-pixel projector, and
        # these two say what the pause is for.  The tooltip explains.
        lines = [f"Paused, the real heap: {len(truth):,} {noun}"]
        if differ:
            lines.append(f"The events say {len(replica):,}: {len(differ)} differ, lit up")
            why = "A slot lit up: a task lost or doubled where no event shows it"
        else:
            lines.append("The events tell the same heap")
            why = "The heap the events describe is the program's own, slot for slot"
        self._set_caption(lines, why)

    def _show_own_paused(self, truth: list[Entry], replica: list[Entry]) -> None:
        """A user's heapq list while stepping, against what its calls imply.

        The class orders equal priorities its own way, so tasks are compared, not
        slots: a task in the list twice, or that the calls say is gone, is lit up;
        one the calls say is queued but is in no slot is named.
        """
        assert self.model is not None and self.own is not None
        status = self.model.tasks.status
        expected = {task for _priority, task in replica}
        seen: set[Hashable] = set()
        differ = []
        for i, (_priority, task) in enumerate(truth):
            if task not in expected or task in seen:
                differ.append(i)
            seen.add(task)
        absent = [task for _priority, task in replica if task not in seen]
        entries = truth[:SNAPSHOT_SLOTS]
        statuses = [status.get(task) for _priority, task in entries]
        self.tree.empty_text = f"self.{self.own[0]} is empty"
        for picture in (self.tree, self.strip):
            picture.set_state(entries, statuses, len(truth), differ, self.selected)
        noun = "entry" if len(truth) == 1 else "entries"
        lines = [f"Your own heapq list self.{self.own[0]}, paused: {len(truth):,} {noun}"]
        problems = []
        if absent:
            names = ", ".join(f"#{task}" for task in absent[:5])
            problems.append(f"{names} queued by the calls but in no slot (lost)")
        if differ:
            problems.append(f"{len(differ)} slot(s) lit up: doubled, or already handed out")
        lines.append("; ".join(problems) if problems else "The calls imply the same tasks")
        self._set_caption(lines)

    def _caption(self, heap: HeapMirror, size: int) -> list[str]:

        noun = "entry" if size == 1 else "entries"
        lines = [f"{size:,} {noun}, highest priority on top"]
        if heap.last_op is not None:
            direction = "sifted up" if heap.last_op == "push" else "sifted down"
            line = f"Last {heap.last_op}: #{heap.last_task}"
            if heap.last_path:
                slots = ARROW.join(str(i) for i in heap.last_path)
                line += f", {direction} through {SLOTS}{slots}"
            lines.append(line)
        return lines

    def _set_caption(self, lines: list[str], why: str = "") -> None:
        if lines == self._caption_lines and self.caption.text():
            return
        self._caption_lines = lines
        self._caption_why = why
        metrics = self.caption.fontMetrics()
        width = max(10, self.caption.width())
        self.caption.setText("\n".join(fitted(line, metrics, width) for line in lines))
        tip = [*lines, why] if why else lines
        self.caption.setToolTip("\n".join([*tip, "Each node: its priority over its task (#id)"]))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._caption_lines, lines = [], self._caption_lines
        self._set_caption(lines, self._caption_why)

    def select_task(self, task_id: Hashable | None) -> None:
        self.selected = task_id
        self.refresh()

"""Status lanes (queued -> processing -> completed / cancelled) over a per-thread timeline.

The lanes read left to right the way a task travels.  Each shows its exact
count and a few task chips: the next ones up for *queued* (highest priority
first, found by a short best-first walk of the heap), the newest for the
others; a big lane says how many are not shown.

Finding the newest tasks of a status without scanning every task: dicts keep
insertion order, and ``model.tasks.worker_of`` gains a task when a worker first
receives it, so walking it backwards meets tasks in reverse delivery order:
the ones still processing and the latest completed come first.  Cancelled tasks
were never delivered; they are found walking ``model.tasks.status`` (in order of
adding) backwards.  Both walks stop after a fixed budget.

The timeline is :class:`~visualizer.ui.views.timeline_widget.TimelineWidget`.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Sequence
from itertools import islice
from typing import cast

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QFrame,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from visualizer.events import CANCELLED, COMPLETED, PROCESSING, QUEUED, STATUSES
from visualizer.model import RunModel
from visualizer.ui.theme import foreground, muted, status_color, text_on, view_font
from visualizer.ui.views.base import RunView
from visualizer.ui.views.chips import GAP, STRIPE, chip_width, paint_chip
from visualizer.ui.views.labels import thread_colors
from visualizer.ui.views.timeline_widget import MIN_HEIGHT, TimelineWidget

CHIPS_PER_LANE = 24
"""Most chips gathered per lane (fewer are drawn if they do not fit)."""

SCAN_BUDGET = 3_000
"""Most tasks looked at per lane per frame while looking for the newest ones."""

LANE_HINTS = {
    QUEUED: "Queued: highest priority first (the next to be served on the left)",
    PROCESSING: "Processing: received by a worker (the stripe is its colour), not finished yet",
    COMPLETED: "Completed: newest first",
    CANCELLED: "Cancelled: newest first",
}


def newest_with_status(
    order: Iterable[Hashable], status: dict[Hashable, str], wanted: str, limit: int
) -> list[Hashable]:
    """Up to ``limit`` tasks of ``order`` (walked as given) whose status is ``wanted``."""
    found: list[Hashable] = []
    if limit <= 0:
        return found
    for task in islice(order, SCAN_BUDGET):
        if status.get(task) == wanted:
            found.append(task)
            if len(found) == limit:
                break
    return found


def next_up(
    entries: Sequence[tuple[int, Hashable]], status: dict[Hashable, str], limit: int
) -> list[Hashable]:
    """The ``limit`` queued tasks a pop would serve first, best first.

    A best-first walk down the heap from the root: a slot's children are never
    better than it, so only the slots next to those already taken need looking
    at, about ``limit * log(limit)`` steps however big the heap.  Cancelled
    entries still in the heap are stepped over (their children still count).
    Ties are broken by slot, which is close to, but not exactly, arrival order.
    """
    found: list[Hashable] = []
    size = len(entries)
    frontier = [(-entries[0][0], 0)] if size else []
    while frontier and len(found) < limit:
        _key, slot = heapq.heappop(frontier)
        task = entries[slot][1]
        if status.get(task) == QUEUED:
            found.append(task)
        for child in (2 * slot + 1, 2 * slot + 2):
            if child < size:
                heapq.heappush(frontier, (-entries[child][0], child))
    return found


def lane_tasks(model: RunModel, limit: int = CHIPS_PER_LANE) -> dict[str, list[Hashable]]:
    """The tasks each lane shows as chips (see the module docstring for how they are found)."""
    tasks = model.tasks
    status = tasks.status
    count = tasks.by_status
    return {
        QUEUED: next_up(model.heap.slots, status, limit),
        PROCESSING: newest_with_status(
            reversed(tasks.worker_of), status, PROCESSING, min(limit, count[PROCESSING])
        ),
        COMPLETED: newest_with_status(
            reversed(tasks.worker_of), status, COMPLETED, min(limit, count[COMPLETED])
        ),
        CANCELLED: newest_with_status(
            reversed(status), status, CANCELLED, min(limit, count[CANCELLED])
        ),
    }


class StatusLanes(QWidget):
    """Four side-by-side lanes: header (status, count), task chips, and "+N more"."""

    clicked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.restyle()
        self.counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        self.tasks: dict[str, list[Hashable]] = {status: [] for status in STATUSES}
        self.workers: dict[Hashable, QColor] = {}
        self.selected: Hashable | None = None
        self._hits: list[tuple[QRectF, Hashable]] = []
        self._shown: dict[str, int] = dict.fromkeys(STATUSES, 0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def restyle(self) -> None:
        """Fonts and the sizes that follow from them (at start, and after a zoom)."""
        self.header_font = view_font(bold=True)
        self.small_header_font = view_font(small=True, bold=True)
        self.count_font = view_font(1.5, bold=True)
        self.chip_font = view_font(small=True)
        header = QFontMetrics(self.header_font)
        self.chip_metrics = QFontMetrics(self.chip_font)
        self.widest_name = max(header.horizontalAdvance(status) for status in STATUSES)
        small = QFontMetrics(self.small_header_font)
        self.widest_small_name = max(small.horizontalAdvance(status) for status in STATUSES)
        # Status name on one line, the count (large) under it: both fit a narrow lane.
        self.header_height = header.height() + QFontMetrics(self.count_font).height() + 6
        self.chip_height = self.chip_metrics.height() + 6
        self.note_height = self.chip_metrics.height() + 2
        self._fit_minimum()
        # Two lanes side by side at least (four where the width allows), each wide
        # enough for its name in the small font: a status name is never cut.
        self.setMinimumWidth(round(self._lane_need()))
        if hasattr(self, "tasks"):
            self._layout_chips()
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(
            520, round(self.header_height + 3 * (self.chip_height + GAP) + self.note_height)
        )

    def set_state(
        self,
        counts: dict[str, int],
        tasks: dict[str, list[Hashable]],
        workers: dict[Hashable, QColor],
        selected: Hashable | None,
    ) -> None:
        """``workers`` colours each processing chip's stripe with its worker's thread colour."""
        if (counts, tasks, workers, selected) == (
            self.counts,
            self.tasks,
            self.workers,
            self.selected,
        ):
            return  # nothing visible changed: skip the repaint
        self.counts = counts
        self.tasks = tasks
        self.workers = workers
        self.selected = selected
        self._layout_chips()
        self.update()

    def _compact_height(self) -> float:
        return QFontMetrics(self.small_header_font).height() + 8

    def _short_lane(self, lane: QRectF) -> bool:
        """Too short for the two-line header and a row of chips: a one-line header."""
        return lane.height() < self.header_height + self.chip_height + 8

    def clipped(self) -> list[str]:
        """Header texts (status names, counts) that would not fit their lane now: none, or
        it is a bug the lecture-hall test catches."""
        out = []
        header_metrics = QFontMetrics(self.header_font)
        small_metrics = QFontMetrics(self.small_header_font)
        count_metrics = QFontMetrics(self.count_font)
        for column, status in enumerate(STATUSES):
            lane = self._lane_rect(column)
            room = lane.width() - 16
            count = f"{self.counts.get(status, 0):,}"
            if self._short_lane(lane):
                one_line = small_metrics.horizontalAdvance(f"{status} {count}")
                if one_line > lane.width() - 12:
                    out.append(f"{status} {count}")
                if lane.height() < self._compact_height():
                    out.append(f"{status} (no room for its header)")
                continue
            big = header_metrics.horizontalAdvance(status) <= room
            metrics = header_metrics if big else small_metrics
            if metrics.horizontalAdvance(status) > room:
                out.append(status)
            if count_metrics.horizontalAdvance(count) > room:
                out.append(f"{status} {count}")
        return out

    def shown_chips(self, status: str) -> int:
        """How many chips the lane draws (the rest are counted in "+N more")."""
        return self._shown[status]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_minimum()
        self._layout_chips()

    def _fit_minimum(self) -> None:
        """Room for a row of full lanes where four fit across, else for the short ones
        the width leaves: two rows of two, or four one above the other."""
        compact = QFontMetrics(self.small_header_font).height() + 8
        full = self.header_height + self.chip_height + self.note_height + 10
        small = QFontMetrics(self.small_header_font)
        one_line = self.widest_small_name + small.horizontalAdvance("00,000") + 30
        if self.width() >= len(STATUSES) * self._lane_need():
            least = full
        elif self.width() >= 2 * one_line:
            least = max(full, 2 * compact + 12)
        else:
            least = 4 * compact + 16
        if self.minimumHeight() != round(least):
            self.setMinimumHeight(round(least))

    def _lane_need(self) -> float:
        """Width a lane needs for its status name in the small font, padding included."""
        return self.widest_small_name + 24

    def per_row(self) -> int:
        """Lanes per row: all four where they fit, else two rows of two, else one above
        the other (a short lane needs room for its name and its count on one line)."""
        small = QFontMetrics(self.small_header_font)
        widest_count = small.horizontalAdvance("00,000")
        for per_row in (len(STATUSES), 2):
            rows = -(-len(STATUSES) // per_row)
            short = self.height() / rows - 4 < self.header_height + self.chip_height + 8
            need = self.widest_small_name + (widest_count + 30 if short else 24)
            if self.width() / per_row >= need:
                return per_row
        return 1

    def _lane_rect(self, column: int) -> QRectF:
        per_row = self.per_row()
        rows = -(-len(STATUSES) // per_row)
        width = self.width() / per_row
        height = self.height() / rows
        row, place = divmod(column, per_row)
        return QRectF(place * width + 2, row * height + 2, width - 4, height - 4)

    def _body(self, column: int) -> QRectF:
        """Where a lane's chips go: under the header, above the "+N more" line."""
        return self._lane_rect(column).adjusted(
            6, self.header_height + 6, -6, -4 - self.note_height
        )

    def _layout_chips(self) -> None:
        """Place chips row by row in each lane body, as many as fit."""
        metrics = self.chip_metrics
        chip_h = self.chip_height
        hits: list[tuple[QRectF, Hashable]] = []
        for column, status in enumerate(STATUSES):
            body = self._body(column)
            x, y = body.left(), body.top()
            shown = 0
            for task in self.tasks.get(status, []):
                width = chip_width(metrics, str(task)) + (STRIPE if task in self.workers else 0)
                if x + width > body.right() and x > body.left():
                    x, y = body.left(), y + chip_h + GAP
                if y + chip_h > body.bottom() or width > body.width():
                    break
                hits.append((QRectF(x, y, width, chip_h), task))
                x += width + GAP
                shown += 1
            self._shown[status] = shown
        self._hits = hits

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = foreground(self)
        note_pen = muted(self, 0.8)
        hit = iter(self._hits)
        for column, status in enumerate(STATUSES):
            lane = self._lane_rect(column)
            fill = status_color(status)
            faint = status_color(status)
            faint.setAlphaF(0.14)
            painter.setPen(QPen(fill, 1.5))
            painter.setBrush(faint)
            painter.drawRoundedRect(lane, 6, 6)
            count = self.counts.get(status, 0)
            short = self._short_lane(lane)
            height = self._compact_height() if short else self.header_height
            header = QRectF(lane.left(), lane.top(), lane.width(), min(height, lane.height()))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(header, 6, 6)
            painter.setPen(text_on(fill))
            if short:  # a short lane: name and count on one line, its header is all of it
                painter.setFont(self.small_header_font)
                text_box = header.adjusted(6, 0, -6, 0)
                middle = Qt.AlignmentFlag.AlignVCenter
                painter.drawText(text_box, middle | Qt.AlignmentFlag.AlignLeft, status)
                painter.drawText(text_box, middle | Qt.AlignmentFlag.AlignRight, f"{count:,}")
            else:
                narrow = (
                    QFontMetrics(self.header_font).horizontalAdvance(status) > lane.width() - 16
                )
                painter.setFont(self.small_header_font if narrow else self.header_font)
                painter.drawText(
                    header.adjusted(8, 3, -8, 0),
                    Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                    status,
                )
                painter.setFont(self.count_font)
                painter.drawText(
                    header.adjusted(8, 0, -8, -2),
                    Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                    f"{count:,}",
                )
            painter.setFont(self.chip_font)
            for _ in range(self._shown[status]):
                rect, task = next(hit)
                selected = self.selected is not None and task == self.selected
                paint_chip(
                    painter,
                    rect,
                    str(task),
                    fill,
                    hatched=status == CANCELLED,
                    outline=ink if selected else None,
                    outline_width=3.0 if selected else 1.0,
                    stripe=self.workers.get(task) if status == PROCESSING else None,
                )
            self._paint_note(painter, column, lane, count - self._shown[status], count, note_pen)

    def _paint_note(
        self, painter: QPainter, column: int, lane: QRectF, rest: int, count: int, pen: QColor
    ) -> None:
        """ "none", or how many tasks the chips leave out (" more" dropped if it won't fit)."""
        if count and rest <= 0:
            return
        body = self._body(column)
        if body.bottom() < lane.top() + self.header_height:
            return  # a short lane (two rows of lanes): its header says it all
        note = "none" if count == 0 else f"+{rest:,} more"
        if self.chip_metrics.horizontalAdvance(note) > body.width():
            note = f"+{rest:,}"
        painter.setPen(pen)
        painter.drawText(
            QRectF(body.left(), body.bottom(), body.width(), lane.bottom() - body.bottom()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            note,
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        for rect, task in self._hits:
            if rect.contains(event.position()):
                self.clicked.emit(task)
                return
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        """Tooltips say what each lane's chips are (newest first, or next up)."""
        if event.type() == QEvent.Type.ToolTip:
            help_event = cast(QHelpEvent, event)  # what Qt sends with the ToolTip type
            point = help_event.pos()
            column = next(
                (i for i in range(len(STATUSES)) if self._lane_rect(i).contains(point)), 0
            )
            status = STATUSES[column]
            QToolTip.showText(help_event.globalPos(), LANE_HINTS[status], self)

            return True
        return super().event(event)


class LanesView(RunView):
    """Where every task is now (lanes) and what every thread did lately (timeline)."""

    title = "Status lanes"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected: Hashable | None = None
        self.lanes = StatusLanes()
        self.timeline = TimelineWidget()
        # Every thread gets a row at least a name high; more threads than the dock has
        # room for scroll here, rather than overlap or push the window off its screen.
        self.timeline_area = QScrollArea()
        self.timeline_area.setWidget(self.timeline)
        self.timeline_area.setWidgetResizable(True)
        self.timeline_area.setFrameShape(QFrame.Shape.NoFrame)
        self.timeline_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline_area.setMinimumHeight(MIN_HEIGHT)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.lanes)
        splitter.addWidget(self.timeline_area)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self.lanes.clicked.connect(self.task_selected)
        self.timeline.clicked.connect(self.task_selected)
        self.set_model(None)

    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.selected = None
        self.timeline.set_model(model)
        self.refresh()

    def refresh(self) -> None:
        model = self.model
        if model is None:
            self.lanes.set_state(dict.fromkeys(STATUSES, 0), {s: [] for s in STATUSES}, {}, None)
            return
        tasks = lane_tasks(model)
        colors, _ = thread_colors(model)
        worker_of = model.tasks.worker_of
        workers = {
            task: colors[worker_of[task]]
            for task in tasks[PROCESSING]
            if worker_of.get(task) in colors
        }
        self.lanes.set_state(model.tasks.counts(), tasks, workers, self.selected)
        self.timeline.refresh()

    def select_task(self, task_id: Hashable | None) -> None:
        self.selected = task_id
        self.timeline.select_task(task_id)
        self.lanes.selected = task_id
        self.lanes.update()

    def counts_shown(self) -> dict[str, int]:
        """The counts the lane headers display (for tests and screen readers)."""
        return {status: self.lanes.counts.get(status, 0) for status in STATUSES}

"""Status lanes (queued -> processing -> completed / cancelled) over a per-thread timeline.

The lanes read left to right the way a task travels.  Each shows its exact
count and a few task chips: the next ones up for *queued* (highest priority
first), the newest for the others; a big lane says how many are not shown.

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
from collections.abc import Hashable, Iterable
from itertools import islice
from operator import itemgetter

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QSplitter, QToolTip, QVBoxLayout, QWidget

from visualizer.model import RunModel
from visualizer.queues import CANCELLED, COMPLETED, PROCESSING, QUEUED, STATUSES
from visualizer.ui.theme import foreground, muted, status_color, text_on, view_font
from visualizer.ui.views.chips import GAP, chip_width, paint_chip
from visualizer.ui.views.timeline_widget import TimelineWidget

CHIPS_PER_LANE = 24
"""Most chips gathered per lane (fewer are drawn if they do not fit)."""

SCAN_BUDGET = 3_000
"""Most tasks looked at per lane per frame while looking for the newest ones."""

LANE_HINTS = {
    QUEUED: "Queued: highest priority first (the next to be served on the left)",
    PROCESSING: "Processing: received by a worker, not finished yet",
    COMPLETED: "Completed: newest first",
    CANCELLED: "Cancelled: newest first",
}


def newest_with_status(
    order: Iterable[Hashable], status: dict[Hashable, str], wanted: str, limit: int
) -> list[Hashable]:
    """Up to ``limit`` tasks of ``order`` (walked as given) whose status is ``wanted``."""
    found: list[Hashable] = []
    for task in islice(order, SCAN_BUDGET):
        if status.get(task) == wanted:
            found.append(task)
            if len(found) == limit:
                break
    return found


def lane_tasks(model: RunModel, limit: int = CHIPS_PER_LANE) -> dict[str, list[Hashable]]:
    """The tasks each lane shows as chips (see the module docstring for how they are found)."""
    tasks = model.tasks
    status = tasks.status
    entries = model.heap.entries
    queued_entries = (entry for entry in entries if status.get(entry[1]) == QUEUED)
    # Stable: among equal priorities, heap-array order (roughly arrival order) is kept.
    top = heapq.nlargest(limit, islice(queued_entries, SCAN_BUDGET * 4), key=itemgetter(0))
    delivered = reversed(tasks.worker_of)
    return {
        QUEUED: [task for _priority, task in top],
        PROCESSING: newest_with_status(delivered, status, PROCESSING, limit),
        COMPLETED: newest_with_status(reversed(tasks.worker_of), status, COMPLETED, limit),
        CANCELLED: newest_with_status(reversed(status), status, CANCELLED, limit),
    }


class StatusLanes(QWidget):
    """Four side-by-side lanes: header (status, count) and the lane's task chips."""

    clicked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.header_font = view_font(bold=True)
        self.count_font = view_font(1.5, bold=True)
        self.chip_font = view_font(small=True)
        self.counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        self.tasks: dict[str, list[Hashable]] = {status: [] for status in STATUSES}
        self.selected: Hashable | None = None
        self._hits: list[tuple[QRectF, Hashable]] = []
        self._shown: dict[str, int] = dict.fromkeys(STATUSES, 0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(self._header_height() + 2 * self._chip_height() + 16)

    def _header_height(self) -> int:
        """Status name on one line, the count (large) under it: both fit a narrow lane."""
        return QFontMetrics(self.header_font).height() + QFontMetrics(self.count_font).height() + 6

    def _chip_height(self) -> int:
        return QFontMetrics(self.chip_font).height() + 6

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(520, self._header_height() + 3 * (self._chip_height() + GAP) + 12)

    def set_state(
        self,
        counts: dict[str, int],
        tasks: dict[str, list[Hashable]],
        selected: Hashable | None,
    ) -> None:
        self.counts = counts
        self.tasks = tasks
        self.selected = selected
        self._layout_chips()
        self.update()

    def shown_chips(self, status: str) -> int:
        """How many chips the lane draws (the rest are counted in "+N more")."""
        return self._shown[status]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._layout_chips()

    def _lane_rect(self, column: int) -> QRectF:
        width = self.width() / len(STATUSES)
        return QRectF(column * width + 2, 2, width - 4, self.height() - 4)

    def _layout_chips(self) -> None:
        """Place chips row by row in each lane, keeping room for the "+N more" note."""
        metrics = QFontMetrics(self.chip_font)
        chip_h = self._chip_height()
        hits: list[tuple[QRectF, Hashable]] = []
        for column, status in enumerate(STATUSES):
            lane = self._lane_rect(column).adjusted(6, self._header_height() + 6, -6, -4)
            x, y = lane.left(), lane.top()
            shown = 0
            count = self.counts.get(status, 0)
            more_w = metrics.horizontalAdvance(f"+{count:,}") + 4
            tasks = self.tasks.get(status, [])
            for task in tasks:
                width = chip_width(metrics, str(task))
                if x + width > lane.right():
                    x, y = lane.left(), y + chip_h + GAP
                last_row = y + 2 * chip_h + GAP > lane.bottom()
                if y + chip_h > lane.bottom() or (last_row and x + width + more_w > lane.right()):
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
        hit = iter(self._hits)
        for column, status in enumerate(STATUSES):
            lane = self._lane_rect(column)
            fill = status_color(status)
            faint = status_color(status)
            faint.setAlphaF(0.14)
            painter.setPen(QPen(fill, 1.5))
            painter.setBrush(faint)
            painter.drawRoundedRect(lane, 6, 6)
            header = QRectF(lane.left(), lane.top(), lane.width(), self._header_height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(header, 6, 6)
            painter.setPen(text_on(fill))
            painter.setFont(self.header_font)
            painter.drawText(
                header.adjusted(8, 3, -8, 0),
                Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                status,
            )
            painter.setFont(self.count_font)
            painter.drawText(
                header.adjusted(8, 0, -8, -2),
                Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                f"{self.counts.get(status, 0):,}",
            )
            painter.setFont(self.chip_font)
            last = None
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
                )
                last = rect
            count = self.counts.get(status, 0)
            rest = count - self._shown[status]
            body = lane.adjusted(6, self._header_height() + 6, -6, -4)
            painter.setPen(muted(self, 0.8))
            if count == 0:
                painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                                 "none")
            elif rest > 0:
                where = (
                    QRectF(last.right() + GAP, last.top(), body.right() - last.right(),
                           last.height())
                    if last is not None
                    else body
                )
                painter.drawText(where, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 f"+{rest:,}")

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        for rect, task in self._hits:
            if rect.contains(event.position()):
                self.clicked.emit(task)
                return
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        """Tooltips say what each lane's chips are (newest first, or next up)."""
        if event.type() == QEvent.Type.ToolTip:
            column = int(event.pos().x() // max(1, self.width() / len(STATUSES)))
            status = STATUSES[min(column, len(STATUSES) - 1)]
            QToolTip.showText(event.globalPos(), LANE_HINTS[status], self)
            return True
        return super().event(event)


class LanesView(QWidget):
    """Where every task is now (lanes) and what every thread did lately (timeline)."""

    title = "Status lanes"
    task_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(view_font())
        self.model: RunModel | None = None
        self.selected: Hashable | None = None
        self.lanes = StatusLanes()
        self.timeline = TimelineWidget()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.lanes)
        splitter.addWidget(self.timeline)
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
            self.lanes.set_state(dict.fromkeys(STATUSES, 0), {s: [] for s in STATUSES}, None)
            return
        counts = model.tasks.counts()
        self.lanes.set_state(counts, lane_tasks(model), self.selected)
        self.timeline.refresh()

    def select_task(self, task_id: Hashable | None) -> None:
        self.selected = task_id
        self.timeline.select_task(task_id)
        self.lanes.selected = task_id
        self.lanes.update()

    def counts_shown(self) -> dict[str, int]:
        """The counts the lane headers display (for tests and screen readers)."""
        return {status: self.lanes.counts.get(status, 0) for status in STATUSES}


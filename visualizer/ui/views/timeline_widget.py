"""Per-thread timeline: which task each thread worked on when, and when it waited for a lock.

Why a cache of merged runs: at full speed a thread ends thousands of segments
a second, far more than there are pixels.  Each frame folds only the segments
that ended since the last frame (found from the end of the model's list, which
is ordered by end time), merging ones narrower than :data:`RESOLUTION_NS` into
a run, so drawing costs at most a few hundred rectangles per lane whatever the
rate, and refreshing costs in proportion to what happened, not to the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from visualizer.model import RunModel
from visualizer.ui.theme import (
    ALERT_COLOR,
    foreground,
    hatch_brush,
    muted,
    text_on,
    thread_color,
    view_font,
)
from visualizer.ui.views.chips import paint_chip
from visualizer.ui.views.labels import task_from_label

SPAN_NS = 10_000_000_000
"""The scrolling window: the last ten seconds."""
MAX_ROWS = 64
"""Most thread rows drawn; threads past that (busy ones first) are left out."""

RESOLUTION_NS = SPAN_NS // 800
"""Segments shorter than this merge with their neighbours (about a pixel at full width)."""

WORK = "work"
WAIT = "wait"
SLEEP = "sleep"

MIN_HEIGHT = 96
"""Least height of the timeline with few threads (px)."""

CPU_STALE_NS = 1_500_000_000
"""A CPU sample older than this (run time) is not shown: the thread has not looked since."""


@dataclass(slots=True)
class _Run:
    """Merged segments: ``label`` is the task id text, or None when several tasks merged."""

    start: int
    end: int
    label: str | None


@dataclass(slots=True)
class _Lane:
    cursor: int = -1  # end time of the newest finished segment folded so far
    work: deque[_Run] = field(default_factory=deque)
    wait: deque[_Run] = field(default_factory=deque)
    sleep: deque[_Run] = field(default_factory=deque)
    open_work: _Run | None = None
    open_wait: _Run | None = None
    open_sleep: _Run | None = None

    def runs_of(self, kind: str) -> deque[_Run]:
        return self.work if kind == WORK else self.wait if kind == WAIT else self.sleep

    def fold(self, start: int, end: int, kind: str, label: str) -> None:
        runs = self.runs_of(kind)
        if runs:
            last = runs[-1]
            small = last.end - last.start < RESOLUTION_NS or end - start < RESOLUTION_NS
            # Waits and sleeps merge whenever they nearly touch; work only while tiny,
            # so tasks long enough to see keep their own bar and label.
            if start - last.end <= RESOLUTION_NS and (kind != WORK or small):
                if end > last.end:
                    last.end = end
                if last.label != label:
                    last.label = None
                return
        runs.append(_Run(start, end, label))

    def prune(self, horizon: int) -> None:
        for runs in (self.work, self.wait, self.sleep):
            while runs and runs[0].end < horizon:
                runs.popleft()

    def empty(self) -> bool:
        return not (
            self.work
            or self.wait
            or self.sleep
            or self.open_work
            or self.open_wait
            or self.open_sleep
        )

    def open_run(self, kind: str) -> _Run | None:
        if kind == WORK:
            return self.open_work
        return self.open_wait if kind == WAIT else self.open_sleep


class TimelineWidget(QWidget):
    """One row per thread: work bars in the thread's colour, lock waits as red hatched bars."""

    clicked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.restyle()
        self.model: RunModel | None = None
        self.selected: str | None = None
        self._lanes: dict[int, _Lane] = {}
        self._rows: list[int] = []
        self._now = 0
        self._hits: list[tuple[QRectF, str]] = []
        self.setMinimumHeight(MIN_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(520, 220)

    def restyle(self) -> None:
        """Fonts, and the height every row needs, at start and after a zoom."""
        self.name_font = view_font(small=True)
        self.axis_font = view_font(small=True)
        if hasattr(self, "_rows"):
            self._fit_rows(len(self._rows))
            self.update()

    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.selected = None
        self._lanes.clear()
        self._rows = []
        self._now = 0
        self.setMinimumHeight(MIN_HEIGHT)
        self.update()

    def select_task(self, task_id: Hashable | None) -> None:
        self.selected = None if task_id is None else str(task_id)
        self.update()

    def rows(self) -> list[int]:
        """Thread idents with a row, top to bottom."""
        return list(self._rows)

    def runs(self, ident: int, kind: str) -> list[tuple[int, int | None, str | None]]:
        """What a row draws, ``(start_ns, end_ns or None if open, label)``: for tests."""
        lane = self._lanes.get(ident)
        if lane is None:
            return []
        runs: list[tuple[int, int | None, str | None]] = [
            (r.start, r.end, r.label) for r in lane.runs_of(kind)
        ]
        still = lane.open_run(kind)
        if still is not None:
            runs.append((still.start, None, still.label))
        return runs

    # --- folding new segments ------------------------------------------------------
    def refresh(self) -> None:
        model = self.model
        if model is None or model.t0_ns is None:
            self.update()
            return
        timeline = model.timeline
        now = model.now_ns
        horizon = now - SPAN_NS
        rows = []
        for ident in timeline.threads():
            lane = self._lanes.get(ident)
            if lane is None:
                lane = self._lanes[ident] = _Lane()
            self._fold_new(lane, timeline.segments(ident))
            lane.prune(horizon)
            info = model.threads.get(ident)
            # A thread that never announced a role (the GUI thread that built the queue)
            # gets a row only once it has something to show; the run's own threads keep
            # theirs after they end (their names greyed), so a finished run still shows
            # who took part.
            if not lane.empty() or (info is not None and info.role not in ("", "setup")):
                rows.append(ident)
        # A log can hold thousands of threads: the busy ones first, at most MAX_ROWS rows
        # (each row a name high, so a few thousand would make the view miles tall).
        if len(rows) > MAX_ROWS:
            busy = [ident for ident in rows if not self._lanes[ident].empty()]
            rows = list(dict.fromkeys([*busy, *rows]))[:MAX_ROWS]
        if len(rows) != len(self._rows):
            self._fit_rows(len(rows))
        self._rows = rows
        self._now = now
        self.update()

    def _fit_rows(self, count: int) -> None:
        """Never so short that two thread names overlap: every row at least a name high."""
        row = QFontMetrics(self.name_font).height()
        axis = QFontMetrics(self.axis_font).height() + 8
        legend = self._legend_height()
        self.setMinimumHeight(max(MIN_HEIGHT, round(legend + axis + count * row + 6)))

    @staticmethod
    def _fold_new(lane: _Lane, segments: list) -> None:
        lane.open_work = lane.open_wait = lane.open_sleep = None
        end = len(segments)
        while end and segments[end - 1].end_ns is None:
            end -= 1
            start, _, kind, label = segments[end]
            if kind == WORK:
                lane.open_work = _Run(start, start, label)
            elif kind == WAIT:
                lane.open_wait = _Run(start, start, label)
            else:
                lane.open_sleep = _Run(start, start, label)
        first = end
        cursor = lane.cursor
        while first and segments[first - 1].end_ns > cursor:
            first -= 1
        for start, stop, kind, label in segments[first:end]:
            lane.fold(start, stop, kind, label)
        if end > first:
            lane.cursor = segments[end - 1].end_ns

    # --- painting ----------------------------------------------------------------------
    def _geometry(self) -> tuple[float, float, float, float]:
        """(left edge of the bars, bar area width, row height, axis top)."""
        metrics = QFontMetrics(self.name_font)
        names = [self._name(ident) for ident in self._rows] or ["worker-0"]
        label_w = max(metrics.horizontalAdvance(name) for name in names) + 16.0
        label_w += self._cpu_width()
        legend_h = self._legend_height()
        rows = max(1, len(self._rows))
        row_h = min(44.0, self._row_space() / rows)
        return label_w + 6, self.width() - label_w - 14, row_h, legend_h + rows * row_h

    def _cpu_width(self) -> float:
        """Room for the CPU meter after the names, once any thread has reported its CPU."""
        model = self.model
        if model is None or not any(
            model.threads[i].cpu_share is not None for i in self._rows if i in model.threads
        ):
            return 0.0
        return QFontMetrics(self.name_font).horizontalAdvance("100%") + 8

    def cpu_text(self, ident: int) -> str:
        """What a row's CPU meter says: the share of a core used lately, or "" if unknown."""
        info = self.model.threads.get(ident) if self.model is not None else None
        if info is None or info.cpu_share is None or not info.alive:
            return ""
        if info.cpu_at is not None and self._now - info.cpu_at > CPU_STALE_NS:
            return "\u2013"
        return f"{min(info.cpu_share, 9.99) * 100:.0f}%"

    def _row_space(self) -> float:
        """Height left for the rows once the legend and the time axis have theirs."""
        axis_h = QFontMetrics(self.axis_font).height() + 8
        return self.height() - axis_h - self._legend_height() - 4

    def _legend_items(self) -> list[str]:
        return ["working (task id)", "waiting for a lock", "asleep (condition)", "CPU %"]

    def _legend_height(self) -> float:
        """One line of legend, or two where the width does not hold it."""
        metrics = QFontMetrics(self.name_font)
        box = metrics.height() * 0.6 * 1.6 + 6
        width = sum(metrics.horizontalAdvance(t) + box + 18 for t in self._legend_items())
        lines = 1 if width <= self.width() - 8 else 2
        return lines * (metrics.height() + 2) + 4

    def _name(self, ident: int) -> str:
        info = self.model.threads.get(ident) if self.model is not None else None
        return info.name if info is not None else f"thread-{ident}"

    def _window(self) -> tuple[int, int]:
        """Start and end of the time shown: the last span, or the first span while shorter."""
        t0 = self.model.t0_ns if self.model is not None and self.model.t0_ns else 0
        start = max(t0, self._now - SPAN_NS)
        return start, start + SPAN_NS

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self.name_font)
        legend_h = self._legend_height()
        self._paint_legend(painter)
        if self.model is None or not self._rows:
            painter.setPen(muted(self))
            painter.drawText(
                self.rect().adjusted(8, round(legend_h), -8, 0),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._empty_text(),
            )
            self._hits = []
            return
        left, width, row_h, axis_top = self._geometry()
        start, end = self._window()
        scale = width / (end - start)
        hits: list[tuple[QRectF, str]] = []
        cpu_w = self._cpu_width()
        for row, ident in enumerate(self._rows):
            top = legend_h + row * row_h
            info = self.model.threads.get(ident)
            color = thread_color(info.color_index if info is not None else row)
            name_rect = QRectF(2, top + 2, left - 8 - cpu_w, row_h - 4)
            if info is not None and not info.alive:
                painter.setPen(muted(self))
                painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter, info.name)
            else:
                paint_chip(painter, name_rect, self._name(ident), color)
            if cpu_w:
                self._paint_cpu(painter, ident, QRectF(left - 4 - cpu_w, top + 2, cpu_w, row_h - 4))
            painter.setPen(QPen(muted(self, 0.2), 1))
            painter.drawLine(QPointF(left, top + row_h), QPointF(left + width, top + row_h))
            lane = self._lanes[ident]
            self._paint_sleeps(painter, lane, color, top, row_h, left, start, scale)
            hits += self._paint_work(painter, lane, color, top, row_h, left, start, scale)
            self._paint_waits(painter, lane, top, row_h, left, start, scale)
        self._hits = hits
        self._paint_axis(painter, left, width, axis_top, start, end)

    def _empty_text(self) -> str:
        """Why there are no rows: no run yet, none started yet, or nothing to draw."""
        model = self.model
        if model is None:
            return "Thread timelines appear when the run starts"
        if model.t0_ns is None:
            return "The run has not recorded anything yet"
        if model.finished:
            return "The run has ended: no thread worked on a task or waited for a lock in it"
        return "No thread has worked on a task or waited for a lock yet"

    def _paint_work(
        self,
        painter: QPainter,
        lane: _Lane,
        color: QColor,
        top: float,
        row_h: float,
        left: float,
        start: int,
        scale: float,
    ) -> list[tuple[QRectF, str]]:
        height = row_h * 0.72
        y = top + (row_h - height) / 2
        rects = self._rects(lane.work, lane.open_work, y, height, left, start, scale)
        runs = [*lane.work] if lane.open_work is None else [*lane.work, lane.open_work]
        labelled = []
        hits = []
        selected = self.selected
        chosen = []
        metrics = QFontMetrics(self.name_font)
        for run, rect in zip(runs, rects, strict=True):
            if run.label is not None:
                hits.append((rect, run.label))
                if rect.width() > metrics.horizontalAdvance(run.label) + 6:
                    labelled.append((rect, run.label))
                if run.label == selected:
                    chosen.append(rect)
        painter.setPen(QPen(color.darker(160), 1))
        painter.setBrush(color)
        painter.drawRects(rects)
        painter.setPen(text_on(color))
        for rect, label in labelled:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        if chosen:
            painter.setPen(QPen(foreground(self), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRects([r.adjusted(-2, -2, 2, 2) for r in chosen])
        return hits

    def _paint_waits(
        self,
        painter: QPainter,
        lane: _Lane,
        top: float,
        row_h: float,
        left: float,
        start: int,
        scale: float,
    ) -> None:
        height = max(5.0, row_h * 0.3)
        y = top + row_h - height - 1
        rects = self._rects(lane.wait, lane.open_wait, y, height, left, start, scale)
        if not rects:
            return
        painter.setPen(QPen(ALERT_COLOR, 1))
        painter.setBrush(ALERT_COLOR)
        painter.drawRects(rects)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(hatch_brush(QColor(255, 255, 255, 170)))
        painter.drawRects(rects)

    def _paint_sleeps(
        self,
        painter: QPainter,
        lane: _Lane,
        color: QColor,
        top: float,
        row_h: float,
        left: float,
        start: int,
        scale: float,
    ) -> None:
        """Sleeping on a condition: a pale dashed band, neither work nor a lock wait."""
        height = row_h * 0.44
        y = top + (row_h - height) / 2
        rects = self._rects(lane.sleep, lane.open_sleep, y, height, left, start, scale)
        if not rects:
            return
        pale = QColor(color)
        pale.setAlphaF(0.28)
        painter.setPen(QPen(color.darker(130), 1, Qt.PenStyle.DashLine))
        painter.setBrush(pale)
        painter.drawRects(rects)

    def _rects(
        self,
        runs: Iterable[_Run],
        still: _Run | None,
        y: float,
        height: float,
        left: float,
        start: int,
        scale: float,
    ) -> list[QRectF]:
        """One band per run (and one for the run still going), at their places in time,
        at least 1.5 px wide. Thousands of bars a frame at 64 threads: placed inline."""
        spans = [(run, run.end) for run in runs]
        if still is not None:
            spans.append((still, self._now))
        rects = []
        for run, stop in spans:
            begin = run.start - start
            x = left + (begin if begin > 0 else 0) * scale
            end = stop - start
            w = left + (end if end > 0 else 0) * scale - x
            rects.append(QRectF(x, y, w if w > 1.5 else 1.5, height))
        return rects

    def _paint_cpu(self, painter: QPainter, ident: int, rect: QRectF) -> None:
        """A thread's CPU use lately: a meter filled to its share of one core, and the figure."""
        text = self.cpu_text(ident)
        if not text:
            return
        info = self.model.threads[ident] if self.model is not None else None
        share = info.cpu_share if info is not None and text != "\u2013" else 0.0
        meter = QRectF(rect.left(), rect.bottom() - 4, rect.width() - 4, 3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(muted(self, 0.25))
        painter.drawRect(meter)
        painter.setBrush(foreground(self))
        painter.drawRect(QRectF(meter.left(), meter.top(), meter.width() * min(share or 0, 1.0), 3))
        painter.setPen(foreground(self))
        painter.drawText(
            rect.adjusted(0, 0, -4, -4),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            text,
        )

    def _paint_legend(self, painter: QPainter) -> None:
        """Swatches and words, wrapped onto a second line where the width runs out."""
        metrics = QFontMetrics(self.name_font)
        line_h = metrics.height() + 2
        box = metrics.height() * 0.6
        x, y = 4.0, 2 + (line_h - box) / 2
        ink = foreground(self)
        for text in self._legend_items():
            item_w = box * 1.6 + 6 + metrics.horizontalAdvance(text)
            if x > 4 and x + item_w > self.width() - 4:
                x, y = 4.0, y + line_h
            swatch = QRectF(x, y, box * 1.6, box)
            if text.startswith("working"):
                painter.setPen(ink)
                painter.setBrush(thread_color(0))
                painter.drawRect(swatch)
            elif text.startswith("waiting"):
                wait = swatch.adjusted(0, box * 0.4, 0, 0)
                painter.setPen(QPen(ALERT_COLOR, 1))
                painter.setBrush(ALERT_COLOR)
                painter.drawRect(wait)
                painter.setBrush(hatch_brush(QColor(255, 255, 255, 170)))
                painter.drawRect(wait)
            elif text.startswith("asleep"):
                pale = QColor(thread_color(0))
                pale.setAlphaF(0.28)
                painter.setPen(QPen(thread_color(0).darker(130), 1, Qt.PenStyle.DashLine))
                painter.setBrush(pale)
                painter.drawRect(swatch.adjusted(0, box * 0.2, 0, -box * 0.2))
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(muted(self, 0.25))
                painter.drawRect(swatch.adjusted(0, box - 3, 0, 0))
                painter.setBrush(ink)
                painter.drawRect(swatch.adjusted(0, box - 3, -box * 0.9, 0))
            painter.setPen(ink)
            painter.drawText(QPointF(x + box * 1.6 + 6, y + box), text)
            x += item_w + 18

    def _paint_axis(
        self, painter: QPainter, left: float, width: float, top: float, start: int, end: int
    ) -> None:
        """Seconds since the run's first event, one tick a second, labels every other."""
        t0 = (self.model.t0_ns if self.model is not None else None) or 0

        ink = foreground(self)
        painter.setPen(QPen(ink, 1))
        painter.drawLine(QPointF(left, top), QPointF(left + width, top))
        painter.setFont(self.axis_font)
        metrics = QFontMetrics(self.axis_font)
        first = -(-(start - t0) // 1_000_000_000)
        last = (end - t0) // 1_000_000_000
        label_every = 1 if width / (SPAN_NS / 1e9) > metrics.horizontalAdvance("00 s") + 10 else 2
        for second in range(first, last + 1):
            x = left + (t0 + second * 1_000_000_000 - start) * width / (end - start)
            painter.drawLine(QPointF(x, top), QPointF(x, top + 4))
            if second % label_every == 0:
                label = f"{second} s"
                w = metrics.horizontalAdvance(label)
                painter.drawText(QPointF(x - w / 2, top + 4 + metrics.ascent()), label)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        for rect, label in self._hits:
            if rect.contains(event.position()):
                task = task_from_label(self.model, label)
                if task is not None:
                    self.clicked.emit(task)
                return
        super().mousePressEvent(event)

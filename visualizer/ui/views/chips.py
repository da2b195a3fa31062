"""Chips: a name or task id on a rounded patch of its colour, in custom paint and in tables.

Why chips rather than coloured text: a thread's or status's colour as *text*
colour fades on one of the two backgrounds (light or dark), whereas a filled
patch with black or white text on it (whichever contrasts) reads on both, and
it is the same patch in every view.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from visualizer.ui.theme import foreground, hatch_brush, text_on

CHIPS_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""Item data role carrying ``list[(text, QColor | None)]``; a None colour is plain text."""

Chip = tuple[str, QColor | None]

PAD_X = 4.0
GAP = 4.0
STRIPE = 6.0
"""Width a chip's left stripe adds (see :func:`paint_chip`)."""


def chip_width(metrics: QFontMetrics, text: str) -> float:
    return metrics.horizontalAdvance(text) + 2 * PAD_X


def paint_chip(
    painter: QPainter,
    rect: QRectF,
    text: str,
    fill: QColor,
    *,
    hatched: bool = False,
    outline: QColor | None = None,
    outline_width: float = 1.0,
    stripe: QColor | None = None,
) -> None:
    """One chip: rounded fill, optional hatching (cancelled), text centred in contrast colour.

    ``stripe`` paints a bar of another colour down the left edge: a task chip's
    worker, in that thread's colour, so the lane and the timeline agree.
    """
    radius = min(6.0, rect.height() / 3)
    painter.setPen(
        QPen(outline, outline_width) if outline is not None else QPen(fill.darker(140), 1.0)
    )
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, radius, radius)
    if hatched:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(hatch_brush())
        painter.drawRoundedRect(rect, radius, radius)
    text_rect = rect
    if stripe is not None:
        bar = QRectF(rect.left() + 2, rect.top() + 2, STRIPE - 2, rect.height() - 4)
        painter.setPen(QPen(stripe.darker(150), 1.0))
        painter.setBrush(stripe)
        painter.drawRoundedRect(bar, 2, 2)
        text_rect = rect.adjusted(STRIPE, 0, 0, 0)
    painter.setPen(text_on(fill))
    painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, text)


def short_chip(text: str) -> str:
    """A thread chip's short form: "worker-3" -> "W3", "w: producer-2" -> "w: P2"."""
    prefix, sep, name = text.rpartition(": ")
    head, _, number = name.partition(" ")  # "worker-1 \u00d72" keeps its "\u00d72"
    base, dash, digits = head.rpartition("-")
    short = f"{base[:1].upper()}{digits}" if dash and digits.isdigit() else head
    return f"{prefix}{sep}{short}" + (f" {number}" if number else "")


def _width(metrics: QFontMetrics, text: str, color: QColor | None) -> float:
    return chip_width(metrics, text) if color is not None else metrics.horizontalAdvance(text)


def chip_line_height(metrics: QFontMetrics) -> float:
    """Height of one line of chips in a table cell."""
    return metrics.height() + 6


def lines_needed(metrics: QFontMetrics, chips: Sequence[Chip], width: float) -> int:
    """Lines the chips take wrapped at ``width`` (each on its own line at the least)."""
    lines, x = 1, 0.0
    for text, color in chips:
        w = _width(metrics, text, color)
        if x > 0 and x + w > width:
            lines, x = lines + 1, 0.0
        x += w + GAP
    return lines


def fitting(metrics: QFontMetrics, chips: Sequence[Chip], width: float, lines: int) -> list[Chip]:
    """The chips by their full names if they fit in ``lines`` lines of ``width``, else every
    thread by its short name ("W3", as the wait-for graph calls it)."""
    if lines_needed(metrics, chips, width) <= lines and all(
        _width(metrics, t, c) <= width for t, c in chips
    ):
        return list(chips)
    return [(text if color is None else short_chip(text), color) for text, color in chips]


def wrapped_height(metrics: QFontMetrics, text: str, room: int) -> int | None:
    """Height of ``text`` wrapped between its words in ``room`` pixels; None if a word
    is wider than that (wrapping cannot make it fit)."""
    flags = int(Qt.TextFlag.TextWordWrap)
    wrapped = metrics.boundingRect(QRect(0, 0, max(1, room), 10_000), flags, text)
    return None if wrapped.width() > room else wrapped.height()


class ChipDelegate(QStyledItemDelegate):
    """Paints a cell's :data:`CHIPS_ROLE` list as chips; other cells as usual.

    Chips wrap onto more lines where the row is tall enough (the lock table makes
    it so), and so does a plain cell's text (a lock's name); where even their short
    names do not fit, or the text is elided, the cell goes into :attr:`cut` (row,
    column) at that paint: the lecture-hall test checks it is empty.
    """

    def __init__(self, parent=None) -> None:  # noqa: ANN001 (Qt's parent: any QObject)
        super().__init__(parent)
        self.cut: set[tuple[int, int]] = set()

    def _paint_text(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """A plain cell: on one line (elided as the view says), or wrapped where it is too
        wide and its row, made tall by another cell's chips, has the lines for it."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        metrics = QFontMetrics(opt.font)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        key = (index.row(), index.column())
        self.cut.discard(key)
        # The text's room: the cell less the margin the style keeps on each side.
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, opt, widget) + 1
        room = opt.rect.width() - 2 * margin
        if opt.text and metrics.horizontalAdvance(opt.text) > room:
            height = wrapped_height(metrics, opt.text, room)
            if height is not None and height <= opt.rect.height() - 4:
                opt.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
            else:
                self.cut.add(key)  # elided: the lecture-hall test reads it
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        chips: Sequence[Chip] | None = index.data(CHIPS_ROLE)
        if not chips:
            self._paint_text(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(opt.font)
        metrics = QFontMetrics(opt.font)
        rect = QRectF(opt.rect).adjusted(3, 3, -3, -3)
        plain = foreground(widget) if widget is not None else QColor(Qt.GlobalColor.black)
        line_h = chip_line_height(metrics)
        lines = max(1, int((rect.height() + GAP) // (line_h + GAP)))
        chips = fitting(metrics, chips, rect.width(), lines)
        key = (index.row(), index.column())
        self.cut.discard(key)
        x, y, line = rect.left(), rect.top(), 1
        if lines == 1:
            y = rect.top() + (rect.height() - line_h) / 2
        for text, color in chips:
            width = _width(metrics, text, color)
            if x + width > rect.right() + 1 and x > rect.left() and line < lines:
                x, y, line = rect.left(), y + line_h + GAP, line + 1
            if x + width > rect.right() + 1:
                self.cut.add(key)
                painter.setPen(plain)
                painter.drawText(
                    QRectF(x, y, max(0.0, rect.right() - x), line_h),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    "\u2026",
                )
                break
            cell = QRectF(x, y, width, line_h)
            if color is None:
                painter.setPen(plain)
                painter.drawText(
                    cell, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text
                )
            else:
                paint_chip(painter, cell, text, color)
            x += width + GAP
        painter.restore()

    def sizeHint(  # noqa: N802 (Qt's name)
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        chips: Sequence[Chip] | None = index.data(CHIPS_ROLE)
        hint = super().sizeHint(option, index)
        if not chips:
            return hint
        metrics = QFontMetrics(option.font)
        width = sum(
            (chip_width(metrics, text) if color is not None else metrics.horizontalAdvance(text))
            + GAP
            for text, color in chips
        )
        return QSize(int(width + 6), max(hint.height(), metrics.height() + 10))

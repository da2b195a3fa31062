"""Chips: a name or task id on a rounded patch of its colour, in custom paint and in tables.

Why chips rather than coloured text: a thread's or status's colour as *text*
colour fades on one of the two backgrounds (light or dark), whereas a filled
patch with black or white text on it (whichever contrasts) reads on both, and
it is the same patch in every view.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
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


class ChipDelegate(QStyledItemDelegate):
    """Paints a cell's :data:`CHIPS_ROLE` list as chips; other cells as usual."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        chips: Sequence[Chip] | None = index.data(CHIPS_ROLE)
        if not chips:
            super().paint(painter, option, index)
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
        x = rect.left()
        plain = foreground(widget) if widget is not None else QColor(Qt.GlobalColor.black)
        for text, color in chips:
            width = (
                chip_width(metrics, text) if color is not None else metrics.horizontalAdvance(text)
            )
            if x + width > rect.right() + 1:
                painter.setPen(plain)
                painter.drawText(
                    QRectF(x, rect.top(), rect.right() - x, rect.height()),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    "\u2026",
                )
                break
            cell = QRectF(x, rect.top(), width, rect.height())
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

"""A read-only view of source text: line numbers, and each thread's marker in the gutter.

Why the markers live in the gutter: a tag drawn over the code covers the end
of the very line it points at, and on a projector the comment there is often
the lesson.  Each thread on a line gets a tag in its colour with its short
name ("W1", as the wait-for graph calls it) left of the line number, and the
line is tinted in the colour of the first of them; the full names are in the
tooltip.  Lines wrap at the view's edge instead of running off it, so no line
is ever cut.

A view may show a slice of a file (a scenario's buggy or fixed function):
:attr:`first_line` is the file's number of its first line, so the numbers in
the gutter are the file's.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from visualizer.ui.theme import ALERT_COLOR, muted, text_on, view_font
from visualizer.ui.views.labels import short_name

TINT_ALPHA = 70
"""Opacity (of 255) of a marked line's tint: the text must stay readable through it."""

Marker = tuple[QColor, str]
"""A thread's colour and name."""

Note = tuple[str, str]
"""A red tag in the gutter (its text) and what it means (the tooltip)."""


class _Gutter(QWidget):
    """Thread tags and line numbers, painted by the view."""

    def __init__(self, view: CodeView) -> None:
        super().__init__(view)
        self.view = view
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self.view.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        self.view.paint_gutter(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event = event if isinstance(event, QHelpEvent) else None
            if help_event is not None:
                text = self.view.gutter_tip(help_event.pos().y())
                if text:
                    QToolTip.showText(help_event.globalPos(), text, self)
                else:
                    QToolTip.hideText()
                return True
        return super().event(event)


class CodeView(QPlainTextEdit):
    """Read-only, wrapping source text with line numbers and thread tags in the gutter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.first_line = 1
        self.markers: dict[int, list[Marker]] = {}  # file line -> threads there
        self.notes: dict[int, Note] = {}  # file line -> a red tag (an exception's lines)
        self.focus_line = 0  # the file line of the thread that moved last (0: none)
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._scroll_gutter)
        self.restyle()

    def restyle(self) -> None:
        """The monospaced font at the view size (and zoom), and the gutter that follows it."""
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(view_font().pointSizeF())
        self.setFont(font)
        self.tag_font = view_font(0.85, bold=True)
        self._update_margins()

    def set_text(self, text: str, first_line: int = 1) -> None:
        """Show ``text``, whose first line is line ``first_line`` of its file."""
        self.first_line = first_line
        self.setPlainText(text)
        self._update_margins()

    def chars_per_line(self) -> int:
        """How many characters of code fit across the view before a line wraps."""
        advance = max(1, self.fontMetrics().horizontalAdvance("m"))
        margin = 2 * self.document().documentMargin()
        return int((self.viewport().width() - margin) // advance)

    def lines_shown(self) -> int:
        """Visual lines the text takes at the current width (wrapped lines count twice)."""
        return round(self.document().size().height())

    # --- markers -------------------------------------------------------------------
    def set_markers(
        self,
        markers: dict[int, list[Marker]],
        focus_line: int,
        notes: dict[int, Note] | None = None,
    ) -> None:
        """Show ``markers`` (file line -> threads there) and ``notes``; bring ``focus_line``
        into view (lines outside this view's slice are ignored)."""
        shown = range(self.first_line, self.first_line + self.blockCount())
        self.markers = {line: marks for line, marks in markers.items() if line in shown}
        self.notes = {line: note for line, note in (notes or {}).items() if line in shown}
        markers = self.markers
        self.focus_line = focus_line
        selections = []
        for line, threads in markers.items():
            block = self.document().findBlockByNumber(line - self.first_line)
            if not block.isValid() or line < self.first_line:
                continue
            selection = QTextEdit.ExtraSelection()
            tint = QColor(threads[0][0])
            tint.setAlpha(TINT_ALPHA)
            selection.format.setBackground(tint)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(block)
            selections.append(selection)
        self.setExtraSelections(selections)
        self._update_margins()
        if focus_line >= self.first_line:
            block = self.document().findBlockByNumber(focus_line - self.first_line)
            if block.isValid():
                self.setTextCursor(QTextCursor(block))
                self.centerCursor()
        self.viewport().update()
        self._gutter.update()

    # --- gutter ----------------------------------------------------------------------
    def _tag_width(self, text: str) -> int:
        return QFontMetrics(self.tag_font).horizontalAdvance(text) + 8

    def _tags(self, line: int) -> list[tuple[str, QColor, str]]:
        """The tags on one file line: (text, fill, tooltip line)."""
        tags = [(short_name(name), color, name) for color, name in self.markers.get(line, ())]
        note = self.notes.get(line)
        if note is not None:
            tags.append((note[0], ALERT_COLOR, note[1]))
        return tags

    def gutter_width(self) -> int:
        last = self.first_line + max(1, self.blockCount()) - 1
        number = self.fontMetrics().horizontalAdvance("9") * len(str(last)) + 10
        lines = set(self.markers) | set(self.notes)
        widest = max(
            (sum(self._tag_width(text) + 2 for text, _c, _t in self._tags(n)) for n in lines),
            default=0,
        )
        return 4 + widest + number

    def gutter_tip(self, y: int) -> str:
        """The full names of the threads (and notes) on the line at gutter height ``y``."""
        line = self._line_at(y)
        return "\n".join(tip for _text, _color, tip in self._tags(line)) if line else ""

    def _line_at(self, y: int) -> int:
        block = self.firstVisibleBlock()
        top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
        while block.isValid():
            bottom = top + self.blockBoundingRect(block).height()
            if top <= y < bottom:
                return block.blockNumber() + self.first_line
            block = block.next()
            top = bottom
        return 0

    @Slot()
    def _update_margins(self, *_args: object) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    @Slot(QRect, int)
    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._update_margins()

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), self.palette().color(self.backgroundRole()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        number_color = muted(self)
        line_h = self.fontMetrics().height()
        width = self._gutter.width()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            line = block.blockNumber() + self.first_line
            if block.isVisible() and bottom >= event.rect().top():
                tags = self._tags(line)
                x = 3.0
                painter.setFont(self.tag_font)
                for text, color, _tip in tags:
                    tag = QRectF(x, top + 1, self._tag_width(text), line_h - 2)
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(color)
                    painter.drawRoundedRect(tag, 4, 4)
                    painter.setPen(text_on(color))
                    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
                    x = tag.right() + 2
                font = self.font()
                font.setBold(line == self.focus_line)
                painter.setFont(font)
                painter.setPen(
                    self.palette().color(self.foregroundRole()) if tags else number_color
                )
                painter.drawText(0, top, width - 6, line_h, Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
        painter.end()

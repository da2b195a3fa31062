"""The code panel: the source being run, with a marker on the line each thread is at.

Positions come from the model (:class:`~visualizer.model.PositionLog`, folded
from the step gate's ``GATE_WAIT`` events), so the panel shows where threads
*parked*: while the run is paused or in slow motion every thread waits at a
traced point, and its marker, in the thread's colour, sits on the line it will
run next.  At full speed threads rarely park and the markers stand still.

Backwards and forwards walk the recorded positions: the panel shows where every
thread stood after that step.  That is browsing history, not undoing it; the
threads stay where they are, and "Live" returns to the present.

Why markers are drawn in the text's own viewport (a pill with the thread's name
after the line, a tint across it, dots in the gutter): a class reads names more
easily than colours, and several threads on one line must all stay visible.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.model import Position, RunModel
from visualizer.ui.theme import muted, text_on, thread_color, view_font

TINT_ALPHA = 70
"""Opacity (of 255) of a marked line's tint: the text must stay readable through it."""

Marker = tuple[QColor, str]
"""A thread's colour and name."""


class _Gutter(QWidget):
    """Line numbers, and a dot per thread on its line."""

    def __init__(self, view: CodeView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self.view.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        self.view.paint_gutter(event)


class CodeView(QPlainTextEdit):
    """Read-only source text with line numbers and thread markers."""

    DOT = 9  # px, diameter of a gutter dot

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(view_font().pointSizeF())
        self.setFont(font)
        self.markers: dict[int, list[Marker]] = {}
        self.focus_line = 0  # the line of the thread that moved last (0: none)
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._scroll_gutter)
        self._update_margins()

    # --- markers -------------------------------------------------------------------
    def set_markers(self, markers: dict[int, list[Marker]], focus_line: int) -> None:
        """Show ``markers`` (line -> threads there); bring ``focus_line`` into view."""
        self.markers = markers
        self.focus_line = focus_line
        selections = []
        for line, threads in markers.items():
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid():
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
        if focus_line:
            block = self.document().findBlockByNumber(focus_line - 1)
            if block.isValid():
                self.setTextCursor(QTextCursor(block))
                self.centerCursor()
        self.viewport().update()
        self._gutter.update()

    # --- gutter ----------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        dots = max((len(threads) for threads in self.markers.values()), default=1)
        metrics = self.fontMetrics()
        return 8 + metrics.horizontalAdvance("9") * digits + dots * (self.DOT + 2) + 6

    @Slot()
    def _update_margins(self, *_args: object) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    @Slot(QRect, int)
    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), self.palette().color(self.backgroundRole()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        number_color = muted(self)
        height = self.fontMetrics().height()
        width = self._gutter.width()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            line = block.blockNumber() + 1
            if block.isVisible() and bottom >= event.rect().top():
                threads = self.markers.get(line, ())
                x = 4
                for color, _name in threads:
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(color)
                    painter.drawEllipse(
                        QRectF(x, top + (height - self.DOT) / 2, self.DOT, self.DOT)
                    )
                    x += self.DOT + 2
                font = self.font()
                font.setBold(line == self.focus_line)
                painter.setFont(font)
                painter.setPen(
                    self.palette().color(self.foregroundRole()) if threads else number_color
                )
                painter.drawText(0, top, width - 6, height, Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
        painter.end()

    # --- name pills after the marked lines -------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        if not self.markers:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_font = view_font(0.9, bold=True)
        painter.setFont(label_font)
        metrics = painter.fontMetrics()
        text_metrics = self.fontMetrics()
        offset = self.contentOffset()
        right = self.viewport().width() - 4
        for line, threads in self.markers.items():
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            box = self.blockBoundingGeometry(block).translated(offset)
            if box.bottom() < event.rect().top() or box.top() > event.rect().bottom():
                continue
            text = block.text().rstrip()
            x = offset.x() + self.document().documentMargin()
            x += text_metrics.horizontalAdvance(text) + 2 * text_metrics.horizontalAdvance(" ")
            # Full names after the code if they fit; else short tags ("W1"), against the
            # right edge if need be (over the line's end, which is usually a comment):
            # the markers must stay in view however long the line.
            for labels in (
                [f"\u25c0 {name}" for _color, name in threads],
                [f"\u25c0{_short(name)}" for _color, name in threads],
            ):
                widths = [metrics.horizontalAdvance(label) + 12 for label in labels]
                span = sum(widths) + 4 * (len(widths) - 1)
                if x + span <= right:
                    break
            x = max(0.0, min(x, right - span))
            for (color, _name), label, width in zip(threads, labels, widths, strict=True):
                pill = QRectF(x, box.top() + 1, width, box.height() - 2)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(color)
                painter.drawRoundedRect(pill, 6, 6)
                painter.setPen(text_on(color))
                painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
                x = pill.right() + 4
        painter.end()


class CodePanel(QWidget):
    """The source of the running program, markers, and the step history's controls.

    ``set_source`` names the file to show before any thread has parked (the
    scenario's program or the strategy's module); ``set_model`` and ``refresh``
    follow the view protocol, called when a run starts and when the model changed.
    """

    title = "Code"
    task_selected = Signal(object)  # the view protocol; code has no tasks to select

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: RunModel | None = None
        self.source: str | None = None
        self.index: int | None = None  # browsed position, None = live
        self._shown: tuple[int, int | None, str | None] | None = None
        self._file: str | None = None
        self._texts: dict[str, str] = {}

        self.back = self._button("\u25c0", "Alt+Left", "Where the threads were one step earlier")
        self.forward = self._button("\u25b6", "Alt+Right", "One step later in the recorded history")
        self.live = self._button("Live", "Alt+End", "Back to the present: follow each new step")
        self.back.clicked.connect(lambda: self.browse(-1))
        self.forward.clicked.connect(lambda: self.browse(+1))
        self.live.clicked.connect(self.go_live)
        self.where = QLabel()
        self.where.setFont(view_font(small=True))
        self.where.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for button in (self.back, self.forward, self.live):
            bar.addWidget(button)
        bar.addWidget(self.where, 1)

        self.view = CodeView()
        self.legend = QLabel()
        self.legend.setFont(view_font(small=True))
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        self.refresh()

    def _button(self, text: str, keys: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setShortcut(QKeySequence(keys))
        button.setToolTip(f"{tip} ({keys})")
        return button

    # --- the view protocol -----------------------------------------------------------
    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.index = None
        self._shown = None
        self.refresh()

    def set_source(self, path: str | None) -> None:
        """The file shown while no thread has parked yet."""
        self.source = path
        self._shown = None
        self.refresh()

    def select_task(self, _task_id: object) -> None:
        """Code has no tasks to highlight (the view protocol asks every view)."""

    def refresh(self) -> None:
        positions = self.model.positions if self.model is not None else None
        count = len(positions) if positions is not None else 0
        state = (count, self.index, self.source)
        if state == self._shown:
            return
        self._shown = state
        if positions is None or count == 0:
            self._show_file(self.source)
            self.view.set_markers({}, 0)
            self.where.setText(
                "Pause or Step to see each thread's line"
                if self.model is not None
                else "Start a run to see its code"
            )
            self.legend.hide()
            self._update_buttons(0)
            return
        first = positions.first_index
        index = count - 1 if self.index is None else max(first, min(self.index, count - 1))
        current = positions[index]
        where = positions.latest if self.index is None else positions.at(index)
        focus = current if not current.ended else next(iter(where.values()), None)
        self._show_file(focus.file if focus is not None else self.source)
        self._mark(where, focus)
        step = f"step {index - first + 1} of {count - first}"
        browsing = "" if self.index is None else " (history: the threads are not moved back)"
        name = Path(self._file).name if self._file else "no source"
        self.where.setText(f"{name} \u00b7 {step}{browsing}")
        self._update_buttons(count, index)

    # --- history ---------------------------------------------------------------------
    def browse(self, delta: int) -> None:
        """Move through the recorded positions (negative: back in time)."""
        if self.model is None or not len(self.model.positions):
            return
        positions = self.model.positions
        last = len(positions) - 1
        current = last if self.index is None else self.index
        target = max(positions.first_index, min(current + delta, last))
        self.index = None if target == last and delta > 0 else target
        self.refresh()

    @Slot()
    def go_live(self) -> None:
        self.index = None
        self.refresh()

    def _update_buttons(self, count: int, index: int = 0) -> None:
        first = self.model.positions.first_index if self.model is not None else 0
        self.back.setEnabled(count > 0 and index > first)
        self.forward.setEnabled(self.index is not None)
        self.live.setEnabled(self.index is not None)

    # --- drawing ---------------------------------------------------------------------
    def _show_file(self, path: str | None) -> None:
        if path == self._file:
            return
        self._file = path
        if path is None:
            self.view.setPlainText("")
            return
        text = self._texts.get(path)
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                text = f"(the source is not available: {path}: {exc})"
            self._texts[path] = text
        self.view.setPlainText(text)
        # Open where the lesson is, not at the module's docstring.
        self.view.verticalScrollBar().setValue(_anchor_line(text) - 1)

    def _mark(self, where: dict[int, Position], focus: Position | None) -> None:
        model = self.model
        markers: dict[int, list[Marker]] = {}
        rows = []
        for ident, position in where.items():
            info = model.threads.get(ident) if model is not None else None
            name = info.name if info is not None else f"thread-{ident}"
            color = thread_color(info.color_index if info is not None else 0)
            if position.file == self._file:
                markers.setdefault(position.line, []).append((color, name))
                continue
            rows.append(
                f"<span style='color:{color.name()}'>\u25cf</span> <b>{name}</b> "
                f"{html.escape(Path(position.file).name)}:{position.line}: "
                f"{html.escape(position.label)}"
            )
        focus_line = focus.line if focus is not None and focus.file == self._file else 0
        self.view.set_markers(markers, focus_line)
        # Threads parked in another file than the one shown (a strategy's worker loop).
        self.legend.setText("Elsewhere: " + " &nbsp; ".join(rows) if rows else "")
        self.legend.setVisible(bool(rows))


def _short(name: str) -> str:
    """A thread's tag where its name does not fit: "worker-12" -> "W12", "writer" -> "W"."""
    head, _, number = name.rpartition("-")
    if head and number.isdigit():
        return f"{head[:1].upper()}{number}"
    return name[:1].upper()


ANCHORS = ("# --- the bug and its fix", "class ")
"""Where a source opens: a scenario's bug-and-fix section, else its first class."""


def _anchor_line(text: str) -> int:
    lines = text.splitlines()
    for anchor in ANCHORS:
        for number, line in enumerate(lines, start=1):
            if line.lstrip().startswith(anchor):
                return number
    return 1

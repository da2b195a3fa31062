"""The code panel: the source being run, with a marker on the line each thread is at.

Positions come from the model (:class:`~visualizer.model.PositionLog`, folded
from the step gate's ``GATE_WAIT`` events), so the panel shows where threads
*parked*: while the run is paused or in slow motion every thread waits at a
traced point, and its marker, in the thread's colour, sits on the line it will
run next.  At full speed threads rarely park and the markers stand still.

Backwards and forwards walk the recorded positions: the panel shows where every
thread stood after that step.  That is browsing history, not undoing it; the
threads stay where they are, and "Live" returns to the present.

Where the file has a scenario's "bug and its fix" section of two functions,
they are shown side by side above the whole file (one above the other where the
panel is too narrow for two columns of readable code), with the same markers:
the class sees the buggy and the fixed line at once.  The markers themselves
live in each view's gutter (:mod:`visualizer.ui.code_view`), never over code.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.model import Position, RunModel
from visualizer.ui.code_view import CodeView, Marker, Note
from visualizer.ui.theme import styled, thread_color

PAIR_COLUMN_CHARS = 34
"""Characters a column of the bug | fix pair needs; narrower, the two stack instead."""

SECTION_START = "# --- the bug and its fix"
SECTION_END = "# ---"


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
        self.pair_button = QToolButton()
        self.pair_button.setText("Bug | fix")
        self.pair_button.setCheckable(True)
        self.pair_button.setChecked(True)
        self.pair_button.setToolTip(
            "Show the scenario's buggy and fixed functions side by side above the file"
        )
        self.pair_button.toggled.connect(self._pair_toggled)
        self.file_button = QToolButton()
        self.file_button.setText("Whole file")
        self.file_button.setCheckable(True)
        self.file_button.setChecked(False)  # the bug and the fix whole come first
        self.file_button.setToolTip(
            "Show the whole file under the bug and the fix (hidden, the threads elsewhere "
            "in it are listed under the code)"
        )
        self.file_button.toggled.connect(self._pair_toggled)
        self.where = QLabel()
        styled(self.where, small=True)
        self.where.setToolTip(
            "The file shown, and which recorded position of the threads: one for each time "
            "a thread stopped at a traced point (every step, and each thread's start and "
            "end). \u25c0 and \u25b6 walk through them."
        )
        self.where.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for button in (self.back, self.forward, self.live):
            bar.addWidget(button)
        bar.addWidget(self.where, 1)
        bar.addWidget(self.pair_button)
        bar.addWidget(self.file_button)

        self.view = CodeView()  # the whole file
        self.bug_view = CodeView()  # the section's first function ...
        self.fix_view = CodeView()  # ... and its second, side by side
        self.bug_view.setToolTip("The bug")
        self.fix_view.setToolTip("The fix")
        self.pair = QWidget()
        self.pair_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.pair)
        self.pair_layout.setContentsMargins(0, 0, 0, 0)
        self.pair_layout.setSpacing(2)
        self.pair_layout.addWidget(self.bug_view)
        self.pair_layout.addWidget(self.fix_view)
        self.pair.hide()
        self.sections: tuple[range, range] | None = None  # file lines of bug and fix
        self.lines_told = False  # the inspector names each thread's line (see _mark)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.pair)
        self.splitter.addWidget(self.view)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.legend = QLabel()
        styled(self.legend, small=True)
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.legend)
        layout.addStretch(0)  # the bug and fix alone (no file) keep to the top, no gaps
        self.refresh()

    def views(self) -> list[CodeView]:
        """Every code view shown now: the bug and the fix (if shown) and the file."""
        pair = [self.bug_view, self.fix_view] if self.pair.isVisibleTo(self) else []
        return [*pair, self.view]

    def restyle(self) -> None:
        """After a zoom: the pair's columns and heights follow the new font."""
        self._fit_pair()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_pair()

    @Slot(bool)
    def _pair_toggled(self, _shown: bool) -> None:
        self._show_parts()
        self._shown = None  # the legend lists what the views no longer show
        self.refresh()

    def _show_parts(self) -> None:
        """The pair where the file has one and it is wanted; the whole file unless the
        pair is shown and the file is not wanted (presentation mode)."""
        pair = self.sections is not None and self.pair_button.isChecked()
        self.pair.setVisible(pair)
        self.view.setVisible(not pair or self.file_button.isChecked())
        self.pair_button.setVisible(self.sections is not None)
        self.file_button.setVisible(self.sections is not None and self.pair_button.isChecked())
        self._fit_pair()

    def file_hidden(self) -> bool:
        return not self.view.isVisibleTo(self)

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
            for view in (self.view, self.bug_view, self.fix_view):
                view.set_markers({}, 0, self._notes())
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
        # Positions, not the scheduler's steps: a thread starting or ending is one too, so
        # "step 48" here beside the stepping bar's "Step 45" read as a contradiction.
        step = f"position {index - first + 1} of {count - first}"
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
            self.view.set_text("")
            self._show_sections("")
            return
        text = self._texts.get(path)
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                text = f"(the source is not available: {path}: {exc})"
            self._texts[path] = text
        self.view.set_text(text)
        self._show_sections(text)
        # Open where the lesson is, not at the module's docstring.
        self.view.verticalScrollBar().setValue(_anchor_line(text) - 1)

    def _show_sections(self, text: str) -> None:
        """The bug and the fix, side by side, if the file has that section."""
        self.sections = bug_and_fix(text)
        lines = text.splitlines()
        if self.sections is not None:
            for view, span in zip((self.bug_view, self.fix_view), self.sections, strict=True):
                view.set_text(_dedent(lines[span.start - 1 : span.stop - 1]), span.start)
        self._show_parts()

    def _fit_pair(self) -> None:
        """Two columns where each holds :data:`PAIR_COLUMN_CHARS`, else one above the other;
        the pair as tall as its code, the file below takes the rest."""
        if self.sections is None or not self.pair.isVisibleTo(self):
            return
        advance = max(1, self.bug_view.fontMetrics().horizontalAdvance("m"))
        gutter = self.bug_view.gutter_width() + 24
        side_by_side = (self.width() - 12) / 2 - gutter >= PAIR_COLUMN_CHARS * advance
        self.pair_layout.setDirection(
            QBoxLayout.Direction.LeftToRight if side_by_side else QBoxLayout.Direction.TopToBottom
        )
        line = self.bug_view.fontMetrics().lineSpacing()
        heights = []
        for view in (self.bug_view, self.fix_view):
            frame = 2 * view.frameWidth() + 2 * int(view.document().documentMargin())
            heights.append(view.lines_shown() * line + frame + 6)  # no last line half-shown
        least = 3 * line + 8  # a short window still shows a few lines of each (they scroll)
        for view, height in zip((self.bug_view, self.fix_view), heights, strict=True):
            tall = max(heights) if side_by_side else height
            view.setMinimumHeight(min(tall, least))
            view.setMaximumHeight(tall)
        wanted = max(heights) if side_by_side else sum(heights) + 4
        # Alone (the file hidden), no taller than its code: the room left goes to the
        # step buttons below, not to gaps between the bug and the fix.
        self.pair.setMaximumHeight(wanted if self.file_hidden() else 16_777_215)
        if self.file_hidden():
            return
        sizes = self.splitter.sizes()
        total = sum(sizes) or self.height()
        self.splitter.setSizes([wanted, max(total - wanted, line * 4)])

    def _in_pair(self, line: int) -> bool:
        return self.sections is not None and any(line in span for span in self.sections)

    def _notes(self) -> dict[int, Note]:
        """Red tags: where a handled exception was raised, and the line it skipped."""
        notes: dict[int, Note] = {}
        model = self.model
        if model is None or self._file is None:
            return notes
        for _t, sentence, where in model.checker.caught.values():
            if not isinstance(where, tuple | list) or len(where) != 3:
                continue
            path, raised, skipped = where
            if str(path) != self._file:
                continue
            if raised:
                notes[int(raised)] = ("raised", sentence)
            if skipped:
                notes[int(skipped)] = ("skipped", f"Never ran: {sentence}")
        return notes

    def _mark(self, where: dict[int, Position], focus: Position | None) -> None:
        model = self.model
        markers: dict[int, list[Marker]] = {}
        rows = []
        other_files = False  # a thread is in another file: only the legend says which
        for ident, position in where.items():
            info = model.threads.get(ident) if model is not None else None
            name = info.name if info is not None else f"thread-{ident}"
            color = thread_color(info.color_index if info is not None else 0)
            if position.file == self._file:
                markers.setdefault(position.line, []).append((color, name))
                if not self.file_hidden() or self._in_pair(position.line):
                    continue
            other_files = other_files or position.file != self._file
            rows.append(
                f"<span style='color:{color.name()}'>\u25cf</span> <b>{name}</b> "
                f"{html.escape(Path(position.file).name)}:{position.line}: "
                f"{html.escape(position.label)}"
            )
        focus_line = focus.line if focus is not None and focus.file == self._file else 0
        notes = self._notes()
        self.view.set_markers(markers, focus_line, notes)
        for view in (self.bug_view, self.fix_view):
            view.set_markers(markers, 0, notes)
        self._fit_pair()
        # Threads parked where no view shows them (a strategy's worker loop, or the
        # file's other lines while only the bug and the fix are shown).
        self.legend.setText("Elsewhere: " + " &nbsp; ".join(rows) if rows else "")
        # While the inspector below names every thread's line in this file, the legend
        # would say it again, in two lines a paused bug's code needs (presenting at
        # 1024x768 the bug and the fix scrolled by up to three lines).
        self.legend.setVisible(bool(rows) and (other_files or not self.lines_told))

    def set_lines_told(self, told: bool) -> None:
        """Whether something else on screen (the inspector) names each thread's line."""
        if told != self.lines_told:
            self.lines_told = told
            self._shown = None  # mark again: the legend's need changed
            self.refresh()


def bug_and_fix(text: str) -> tuple[range, range] | None:
    """File lines (1-based, end exclusive) of the two functions in a scenario's
    "bug and its fix" section, or None if the file has no such section of exactly two."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.lstrip().startswith(SECTION_START)), None
    )
    if start is None:
        return None
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith(SECTION_END)),
        len(lines),
    )
    indent = len(lines[start]) - len(lines[start].lstrip())
    heads = [
        i
        for i in range(start + 1, end)
        if lines[i].startswith(" " * indent + "def ")
        or lines[i].startswith(" " * indent + "async def ")
    ]
    if len(heads) != 2:
        return None
    spans = []
    for head, stop in ((heads[0], heads[1]), (heads[1], end)):
        while stop > head + 1 and not lines[stop - 1].strip():
            stop -= 1  # no blank lines at a function's end
        spans.append(range(head + 1, stop + 1))
    return spans[0], spans[1]


def _dedent(lines: list[str]) -> str:
    """The lines without the indent they share (a method's class level): narrower columns."""
    widths = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(widths, default=0)
    return "\n".join(line[cut:] for line in lines)


ANCHORS = ("# --- the bug and its fix", "class ")
"""Where a source opens: a scenario's bug-and-fix section, else its first class."""


def _anchor_line(text: str) -> int:
    lines = text.splitlines()
    for anchor in ANCHORS:
        for number, line in enumerate(lines, start=1):
            if line.lstrip().startswith(anchor):
                return number
    return 1

"""Inside a paused controlled run: each thread's line as instructions, and the variables.

The code panel marks the line each thread stands on; a line such as
``self.counter += 1`` is several steps, so this view spells the line out as its
instructions in words ("read self.counter → 0 · add 1 · write self.counter"),
with the one each thread does next in bold in the thread's colour.  Below, the
shared state the program keeps (``self.counter``, ``self.heap``) and each
thread's local variables, as they are now.

It shows plain data made by ``visualizer.engine.scheduler.inspection`` and
reads nothing itself.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy, QTextBrowser, QWidget

from visualizer.engine.scheduler.inspection import ThreadView
from visualizer.ui.theme import ALERT_COLOR, view_font

MAX_LINES = 4
"""Rows of text the view grows to before it scrolls (the code above keeps the rest)."""

PRESENTING_LINES = 3
"""The same when presenting: the bug and the fix above it are the lesson, and at
1024x768, paused at a bug under its banner, they scrolled with a fourth row here."""


class InspectorView(QTextBrowser):
    """A few lines of rich text: threads' instructions, shared state, locals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(view_font())
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self._height(1))
        self._shown: object = None
        self.max_lines = MAX_LINES

    def _height(self, lines: int) -> int:
        frame = 2 * self.frameWidth() + 2 * int(self.document().documentMargin())
        return self.fontMetrics().lineSpacing() * lines + frame

    def show_state(
        self,
        threads: Sequence[ThreadView],
        shared: Sequence[tuple[str, str]],
        colors: dict[str, str],
    ) -> None:
        """Show ``threads`` (each in its colour, by name) and the ``shared`` variables."""
        key = (tuple(threads), tuple(shared), tuple(sorted(colors.items())))
        if key == self._shown:
            return
        self._shown = key
        rows = [_thread_row(view, colors.get(view.name, "#000000")) for view in threads]
        if shared:
            values = ", ".join(f"<b>{_e(name)}</b> = {_e(value)}" for name, value in shared)
            rows.append(f"Shared: {values}")
        local_rows = [
            f"<span style='color:{colors.get(v.name, '#000')}'>{_e(v.name)}</span>: "
            + ", ".join(f"{_e(name)} = {_e(value)}" for name, value in v.locals)
            for v in threads
            if v.locals
        ]
        if local_rows:
            rows.append("Locals: " + "; ".join(local_rows))
        self.setHtml("<br>".join(rows))
        self.document().setTextWidth(self.viewport().width())
        lines = round(self.document().size().height() / self.fontMetrics().lineSpacing())
        self.setFixedHeight(self._height(max(1, min(lines, self.max_lines))))

    def set_max_lines(self, lines: int) -> None:
        """Grow to at most ``lines`` rows before scrolling (shown again at once)."""
        self.max_lines = lines
        self.document().setTextWidth(self.viewport().width())
        shown = round(self.document().size().height() / self.fontMetrics().lineSpacing())
        self.setFixedHeight(self._height(max(1, min(shown, lines))))

    def clear_state(self) -> None:
        if self._shown is not None:
            self._shown = None
            self.setHtml("")


def _thread_row(view: ThreadView, color: str) -> str:
    name = f"<b style='color:{color}'>{_e(view.name)}</b>"
    if view.waits == "ended":
        return f"{name}: ended"
    if not view.steps:
        return f"{name}: {_e(view.what) or 'not started'}"
    words = " \u00b7 ".join(
        f"<b style='color:{color}'>\u25b6 {_e(text)}</b>" if current else _e(text)
        for text, current in view.steps
    )
    waiting = (
        f" <span style='color:{ALERT_COLOR.name()}'>({_e(view.waits)})</span>" if view.waits else ""
    )
    return f"{name} line {view.line}: {words}{waiting}"


def _e(text: str) -> str:
    return html.escape(text)

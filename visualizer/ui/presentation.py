"""Presentation mode and zoom: the window as a lecture hall sees it on a projector.

View > Presentation (F11) gives the views the whole window, at a larger zoom:
the control panel and the scenario's story step aside (the lecturer has them
in their head, or toggles them back from the View and Scenarios menus), the
lesson stands in one line above the views, and the docks take the
presentation arrangement (:mod:`visualizer.ui.layouts`), made to fit a
1024x768 projector with the code at least 60 characters wide.  Leaving it puts
back the layout, zoom and panels as they were.

Zoom (Ctrl+=, Ctrl+-, Ctrl+0) works in both modes; each keeps its own level,
and both are remembered between launches (``WindowSettings``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QRect, Qt, Slot
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QLabel, QSizePolicy

from visualizer.engine.lessons import LESSON_TEXTS
from visualizer.ui import layouts
from visualizer.ui.inspector_view import MAX_LINES, PRESENTING_LINES
from visualizer.ui.theme import (
    SMALL_POINT_SIZE,
    restyle,
    set_zoom,
    styled,
    zoom,
    zoom_step,
)

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

PRESENTATION_ZOOM = 1.1
"""The zoom presentation mode starts at: larger text, and the code still 60 characters wide
at 1024x768."""


CRAMPED_SCREEN = 790
"""A screen less tall (px, logical: a 1024x768 projector; 1280x800 at a scale of 1.25 leaves
640) presents at the usual size unless zoomed on purpose: larger text would not leave the
code its lines.  At 1024x768 and 1.1x, paused at a bug under its banner, double delivery,
check-then-act and lock-ordering scrolled their bug by a line or two (wrapped comments)."""


class Presentation(QObject):
    """The View menu's Presentation switch and zoom actions of one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self.zooms = {False: 1.0, True: PRESENTATION_ZOOM}  # per mode, remembered
        self._saved: tuple[QByteArray, QByteArray, QRect, bool, bool, bool] | None = None

        self.lesson = QLabel()
        self.lesson.setObjectName("lessonLine")
        self.lesson.setWordWrap(True)
        self.lesson.setTextFormat(Qt.TextFormat.RichText)
        self.lesson.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.lesson.setMinimumWidth(1)
        self.lesson.setStyleSheet("#lessonLine { padding: 0px 6px; }")
        styled(self.lesson)
        self.lesson.hide()

        self.toggle_action = self._action(
            "&Presentation", "F11", "The views alone, larger, laid out for a projector", None
        )
        self.toggle_action.setCheckable(True)
        self.toggle_action.toggled.connect(self.set_active)
        self.zoom_in = self._action("Zoom &In", "Ctrl+=", "Larger text in every view", 1)
        self.zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.zoom_out = self._action("Zoom &Out", "Ctrl+-", "Smaller text in every view", -1)
        self.zoom_reset = self._action("&Actual Size", "Ctrl+0", "Text at its usual size", 0)

    def _action(self, text: str, keys: str, tip: str, step: int | None) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(keys))
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({keys})")
        if step is not None:
            action.triggered.connect(lambda _checked=False, s=step: self.zoom_by(s))
        self.window.addAction(action)  # shortcuts work with the menu bar hidden too
        return action

    def actions(self) -> list[QAction]:
        return [self.toggle_action, self.zoom_in, self.zoom_out, self.zoom_reset]

    # --- switching ---------------------------------------------------------------------
    @Slot(bool)
    def set_active(self, active: bool) -> None:
        """Enter or leave presentation mode (the action's check mark follows)."""
        if active == self.active:
            return
        window = self.window
        scenarios = window.scenarios
        if active:
            self._saved = (
                window.saveState(),
                window.view_area.saveState(),
                window.geometry(),
                window.controls_dock.isVisible(),
                scenarios.panel_dock.isVisible(),
                scenarios.code.file_button.isChecked(),
            )
            self.active = True
            short = layouts.available(window).height() < CRAMPED_SCREEN
            if short and self.zooms[True] == PRESENTATION_ZOOM:
                self.zooms[True] = 1.0  # a short screen (a panel scaled up) has no room to spare
            window.controls_dock.hide()
            scenarios.panel_dock.hide()
            # The bug and the fix, whole, rather than a third copy of them in the file:
            # threads elsewhere in it are listed under the code.
            scenarios.code.file_button.setChecked(False)
            scenarios.steps.set_compact(True)
            scenarios.inspector.set_max_lines(PRESENTING_LINES)
            scenarios.steps_box.setTitle("")  # the buttons say what they do: no room to spare
            scenarios.steps_column.setContentsMargins(2, 2, 2, 2)
            window.setGeometry(layouts.available(window))  # the whole projector
            self._apply_zoom()
            self.lesson.show()
            self.update_lesson()
            window.arrange_docks()
        else:
            self.active = False
            self.lesson.hide()
            self._apply_zoom()
            if self._saved is not None:
                outer, inner, geometry, controls, panel, whole_file = self._saved
                scenarios.code.file_button.setChecked(whole_file)
                scenarios.steps.set_compact(False)
                scenarios.inspector.set_max_lines(MAX_LINES)
                scenarios.steps_box.setTitle("Step one thread")
                scenarios.steps_column.setContentsMargins(9, 9, 9, 9)
                window.setGeometry(geometry)
                window.restoreState(outer)
                window.view_area.restoreState(inner)
                window.controls_dock.setVisible(controls and scenarios.scenario is None)
                scenarios.panel_dock.setVisible(panel and scenarios.scenario is not None)
            else:
                window.arrange_docks()
            self._saved = None
        self.toggle_action.setChecked(active)
        layouts.fit_to_screen(window)

    def zoom_by(self, step: int) -> None:
        """One zoom step up (1), down (-1), or back to the mode's usual size (0)."""
        usual = PRESENTATION_ZOOM if self.active else 1.0
        level = usual if step == 0 else zoom_step(self.zooms[self.active], step)
        self.zooms[self.active] = level
        self._apply_zoom()
        self.window.statusBar().showMessage(f"Zoom {level * 100:.0f} %", 3000)

    def set_zooms(self, normal: float, presenting: float) -> None:
        """The remembered levels (from the settings); applied at once."""
        self.zooms = {False: normal, True: presenting}
        self._apply_zoom()

    def _apply_zoom(self) -> None:
        """Every font in the window at the mode's zoom; the docks keep their shares."""
        set_zoom(self.zooms[self.active])
        self.zooms[self.active] = zoom()
        window = self.window
        font = QFont(window.font())
        base = QFont().pointSizeF()  # the application's, before our floor and zoom
        font.setPointSizeF(max(base, SMALL_POINT_SIZE) * zoom())
        window.setFont(font)
        for menu in window.menus():
            menu.setFont(font)
        restyle(window)
        window.size_docks()

    # --- the lesson line -----------------------------------------------------------------
    def update_lesson(self) -> None:
        """What the class should watch, in one line above the views (presentation only)."""
        if not self.active:
            return
        window = self.window
        scenario = window.scenarios.scenario
        if scenario is not None:
            text = f"<b>{_escape(scenario.title)}.</b> {_escape(' '.join(scenario.watch.split()))}"
        else:
            workload = window.controls.workload()
            name = workload.strategy if workload is not None and workload.queue is None else ""
            lesson = LESSON_TEXTS.get(name, "")
            text = f"<b>Watch:</b> {_escape(lesson)}" if lesson else ""
        if text != self.lesson.text():
            self.lesson.setText(text)
            self.lesson.setToolTip(self.lesson.text())
        self.lesson.setVisible(bool(text))


def _escape(text: str) -> str:
    return html.escape(text)

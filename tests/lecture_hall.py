"""The lecture-hall probe: open the window on one screen size, show every strategy and
scenario running, and list everything that carries the lesson but cannot be read.

Run by ``test_lecture_hall.py`` in a child process per screen (Qt's offscreen
plugin with a screen of that size), as ``python lecture_hall.py WIDTH HEIGHT MODE``
where MODE is ``desk``, ``presentation`` or ``bugs`` (presenting each scenario paused at
its bug by Show me the bug); prints one JSON object: the window
size and, per subject, its problems.  A problem is a lesson line cut or clipped
(the strategy's "Watch:" line, a scenario's story or lesson line, the banner),
a lock holder or waiter left out, a lane header that does not fit, a bug or fix
line of a scenario's code out of sight, or two thread rows of the timeline on
top of each other.
"""

from __future__ import annotations

import json
import sys

from helpers import offscreen_platform

SETTLE_S = 2.5
"""How long each subject runs before it is measured (its lesson shows within this)."""


def main() -> None:
    import os

    width, height, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    os.environ["QT_QPA_PLATFORM"] = offscreen_platform(width, height)
    only = sys.argv[4:]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from visualizer.engine import RunState
    from visualizer.engine.lessons import lesson_workload
    from visualizer.queues import STRATEGIES
    from visualizer.ui.controls import PACES
    from visualizer.ui.layouts import fit_to_screen
    from visualizer.ui.main_window import MainWindow

    app = QApplication([])
    window = MainWindow(lesson_workload("global-lock"))
    fit_to_screen(window)
    window.show()
    fit_to_screen(window)
    # "bugs": presenting, each scenario paused at its bug by Show me the bug (the banner
    # and the inspector then take their room too).
    bugs = mode == "bugs"
    if mode in ("presentation", "bugs"):
        window.presentation.set_active(True)
    subjects = [("strategy", name) for name in STRATEGIES]
    subjects += [("scenario", s.name) for s in window.scenarios.scenarios]
    if bugs:
        window.controls.speed.setValue(PACES.index(100))
        subjects = [("scenario", s.name) for s in window.scenarios.scenarios if s.bug_schedule]
    subjects = [s for s in subjects if not only or s[1] in only]
    report: dict[str, object] = {"problems": {}}

    def paused(index: int, polls: int = 0) -> None:
        run = window.run
        if (run is not None and run.state is RunState.PAUSED) or polls > 600:
            QTimer.singleShot(int(SETTLE_S * 1000), lambda: measure(index))
        else:
            QTimer.singleShot(100, lambda: paused(index, polls + 1))

    def start(index: int) -> None:
        if index == len(subjects):
            report["window"] = [window.width(), window.height()]
            window.close()
            app.quit()
            return
        kind, name = subjects[index]
        if kind == "strategy":
            window.scenarios.select(None)
            window.controls.set_workload(lesson_workload(name))
        else:
            window.scenarios.select(name)
        if bugs:
            window.scenarios.stepping.show(bug=True)
            QTimer.singleShot(200, lambda: paused(index))
            return
        window.start_run()
        QTimer.singleShot(int(SETTLE_S * 1000), lambda: measure(index))

    def measure(index: int) -> None:
        kind, name = subjects[index]
        app.processEvents()
        found = problems(window, kind)
        run, model = window.run, window.model
        if bugs and (run is None or run.state is not RunState.PAUSED or not model.anomalies):
            found.append("Show me the bug did not pause at a violation")
        screen = app.primaryScreen().availableGeometry()
        if window.width() > screen.width() or window.height() > screen.height():
            found.append(f"the window ({window.width()}x{window.height()}) is off its screen")
        if found:
            report["problems"][f"{kind} {name}"] = found  # type: ignore[index]
        window.stop_run()
        QTimer.singleShot(300, lambda: start(index + 1))

    QTimer.singleShot(0, lambda: start(0))
    app.exec()
    print(json.dumps(report))


def on_tab_behind(window, view):  # noqa: ANN001, ANN201 (a MainWindow, a view; a dock or None)
    """If ``view``'s dock is a tab behind another: bring it to the front (as a lecturer's
    click would) and return the dock that was in front, to put back afterwards."""
    from PySide6.QtWidgets import QApplication

    dock = window.docks[view.title]
    if view.isVisible() or dock.isHidden():
        return None
    for other in window.view_area.tabifiedDockWidgets(dock):
        if other.isVisible() and not other.visibleRegion().isEmpty():
            dock.raise_()
            QApplication.processEvents()
            return other
    return None


def problems(window, kind: str) -> list[str]:  # noqa: ANN001 (a MainWindow)
    """What cannot be read in the window as it is now."""
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import (
        QAbstractSpinBox,
        QApplication,
        QLabel,
        QLineEdit,
        QStyle,
        QStyleOptionComboBox,
    )

    from visualizer.ui.views import LanesView, LocksView
    from visualizer.ui.views.locks_view import HELD, LOCK, WAITING

    found: list[str] = []

    def label_cut(label: QLabel, what: str) -> None:
        """A word-wrapped label shows all its lines, and sits wholly in sight."""
        if not label.isVisible() or not label.text():
            return
        needed = (
            label.heightForWidth(label.width()) if label.wordWrap() else label.sizeHint().height()
        )
        if needed > label.height() + 1:
            found.append(f"{what} is cut: needs {needed} px, has {label.height()}")
        if not label.wordWrap() and label.sizeHint().width() > label.width() + 1:
            found.append(f"{what} is cut at the right")
        if label.visibleRegion().boundingRect().height() + 1 < label.height():
            found.append(f"{what} is partly scrolled out of sight")

    def text_cut(edit: QLineEdit, what: str) -> None:
        """A one-line field shows its whole text."""
        if (
            edit.isVisible()
            and edit.fontMetrics().horizontalAdvance(edit.text()) + 4 > edit.width()
        ):
            found.append(f"{what} is cut: {edit.text()!r} in {edit.width()} px")

    controls = window.controls
    if controls.isVisible():
        combo = controls.strategy
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        field = combo.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
        )
        if combo.fontMetrics().horizontalAdvance(combo.currentText()) > field.width():
            found.append(f"the strategy's title is cut: {combo.currentText()!r}")
        for box in controls.findChildren(QAbstractSpinBox):
            text_cut(box.lineEdit(), f"the workload field {box.toolTip()[:30]!r}")
    panel = window.scenarios.panel
    if panel.isVisible() and panel.widget().width() > panel.viewport().width() + 1:
        found.append(
            f"the scenario panel's text runs past its edge: {panel.widget().width()} px "
            f"in {panel.viewport().width()}"
        )

    presentation = window.presentation
    if presentation.active:
        label_cut(presentation.lesson, "the lesson line")
    elif kind == "strategy":
        label_cut(window.controls.lesson, "the strategy's Watch line")
    else:
        label_cut(window.scenarios.panel.story["watch"], "the scenario's What to watch")
    if window.banner.isVisible():
        label_cut(window.banner.detail, "the banner's violation")

    lanes = next(v for v in window.views if isinstance(v, LanesView))
    behind = on_tab_behind(window, lanes)
    if lanes.isVisible() or behind is not None:
        for text in lanes.lanes.clipped():
            found.append(f"lane header {text!r} does not fit")
        timeline = lanes.timeline
        if timeline.rows():
            row_h = timeline._geometry()[2]
            name_h = QFontMetrics(timeline.name_font).height()
            if row_h + 0.5 < name_h:
                found.append(f"timeline rows overlap: {row_h:.0f} px rows for {name_h} px names")
    if behind is not None:
        behind.raise_()
        QApplication.processEvents()

    locks = next(v for v in window.views if isinstance(v, LocksView))
    if locks.isVisible() and locks.table.isVisible():
        table = locks.table
        delegate = table.itemDelegate()
        delegate.cut.clear()
        table.viewport().repaint()  # what it shows now, not what an earlier frame did
        for row, column in sorted(getattr(delegate, "cut", ())):
            if column in (HELD, WAITING):
                found.append(f"lock row {row}: {'holders' if column == HELD else 'waiters'} cut")
            elif column == LOCK:
                name = table.model().lock_names()[row]
                found.append(f"lock row {row}: the name {name!r} is cut")
            else:
                text = table.model().index(row, column).data()
                found.append(f"lock row {row}: {text!r} is cut (column {column})")
        for column in (HELD, WAITING):
            if table.isColumnHidden(column):
                found.append(f"lock column {column} hidden")
        shown = sum(
            table.columnWidth(c)
            for c in range(table.model().columnCount())
            if not table.isColumnHidden(c)
        )
        if shown > table.viewport().width() + 1:
            found.append(f"lock table runs past its edge: {shown} px in {table.viewport().width()}")

    code = window.scenarios.code
    # At the desk the bug and the fix sit above the whole file and may scroll; presenting,
    # they are shown whole, every line of them in sight.
    if kind == "scenario" and presentation.active and code.sections is not None:
        for view in (code.bug_view, code.fix_view):
            bar = view.verticalScrollBar()
            if bar.maximum() > 0:
                which = "bug" if view is code.bug_view else "fix"
                found.append(f"the {which} is partly out of sight ({bar.maximum()} lines scroll)")
    return found


if __name__ == "__main__":
    main()

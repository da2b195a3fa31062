"""Where the views go: the window's arrangements, and keeping the window on its screen.

Four arrangements, for a free workload or a scenario, at the desk or on a
projector (presentation mode).  Each is columns of docks, top to bottom, with
shares of the width and of each column's height; docks named as tabs share a
place with another; the rest are hidden (View shows them again).  Shares, not
pixels, so one arrangement fits 1280x800 and 1024x768 alike.

Why a scenario's arrangement puts the code beside the heap, not on a tab with
it: a class stepping through a race must see the line a thread stands on and
the heap it is about to change at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QWidget


@dataclass(frozen=True)
class Column:
    """Docks stacked top to bottom, their shares of the column's height, and its width share."""

    docks: tuple[str, ...]
    heights: tuple[float, ...]
    width: float


@dataclass(frozen=True)
class Arrangement:
    columns: tuple[Column, ...]
    tabs: tuple[tuple[str, str], ...] = ()  # (dock, tabbed onto this one)
    hidden: tuple[str, ...] = field(default=())


FREE = Arrangement(
    (
        Column(("Heap", "Status lanes"), (0.45, 0.55), 0.56),
        Column(("Locks", "Throughput", "Anomalies"), (0.36, 0.36, 0.28), 0.44),
    ),
    tabs=(("Code", "Heap"),),
)

SCENARIO = Arrangement(
    (
        Column(("Code", "Status lanes"), (0.64, 0.36), 0.6),
        Column(("Heap", "Locks", "Throughput"), (0.33, 0.37, 0.3), 0.4),
    ),
    tabs=(("Anomalies", "Throughput"),),
)

PRESENT_FREE = Arrangement(
    (
        Column(("Heap", "Status lanes"), (0.36, 0.64), 0.55),
        Column(("Locks", "Throughput"), (0.55, 0.45), 0.45),
    ),
    tabs=(("Anomalies", "Throughput"), ("Code", "Heap")),
)

PRESENT_SCENARIO = Arrangement(
    (
        Column(("Code",), (1.0,), 0.66),
        Column(("Heap", "Locks"), (0.42, 0.58), 0.34),
    ),
    tabs=(("Status lanes", "Locks"), ("Throughput", "Locks"), ("Anomalies", "Locks")),
)


SHORT_SCREEN = 790
"""Screens less tall than this (px, logical: a 1024x768 projector, or a 1280x800 panel at a
scale of 1.25, which leaves 640) get the presentation arrangement at the desk too: it
needs the least height."""


def arrangement(scenario: bool, presentation: bool, short: bool = False) -> Arrangement:
    if presentation or short:
        return PRESENT_SCENARIO if scenario else PRESENT_FREE
    return SCENARIO if scenario else FREE


def arrange(area: QMainWindow, docks: dict[str, QDockWidget], plan: Arrangement) -> None:
    """Put ``docks`` (by title) where ``plan`` says, in ``area``; size them by its shares."""
    plan = _present(plan, docks)
    placed = [name for column in plan.columns for name in column.docks]
    tabbed = [name for name, _onto in plan.tabs]
    for name in (*placed, *tabbed):
        dock = docks[name]
        dock.setFloating(False)
        dock.show()
    first = docks[plan.columns[0].docks[0]]
    area.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first)
    previous = first
    for column in plan.columns[1:]:
        top = docks[column.docks[0]]
        area.splitDockWidget(previous, top, Qt.Orientation.Horizontal)
        previous = top
    for column in plan.columns:
        for above, below in zip(column.docks, column.docks[1:], strict=False):
            area.splitDockWidget(docks[above], docks[below], Qt.Orientation.Vertical)
    for name, onto in plan.tabs:
        area.tabifyDockWidget(docks[onto], docks[name])
    for name, dock in docks.items():
        if name not in placed and name not in tabbed:
            dock.hide()
    for _name, onto in plan.tabs:
        docks[onto].raise_()  # the column's own dock in front, its tabs behind
    whole_tab_names(area)
    size_docks(area, docks, plan)


def whole_tab_names(area: QMainWindow) -> None:
    """Tabs of docks sharing a place say their whole name ("Anom\u2026" says nothing);
    where they do not all fit, the tab bar scrolls."""
    for bar in area.findChildren(QTabBar):
        bar.setElideMode(Qt.TextElideMode.ElideNone)
        bar.setUsesScrollButtons(True)


def _present(plan: Arrangement, docks: dict[str, QDockWidget]) -> Arrangement:
    """The plan without docks the window does not have (yet): a column keeps its others."""
    columns = []
    for column in plan.columns:
        kept = [(name, h) for name, h in zip(column.docks, column.heights, strict=True)]
        kept = [(name, h) for name, h in kept if name in docks]
        if kept:
            names, heights = zip(*kept, strict=True)
            columns.append(Column(tuple(names), tuple(heights), column.width))
    tabs = tuple((name, onto) for name, onto in plan.tabs if name in docks and onto in docks)
    return Arrangement(tuple(columns), tabs, plan.hidden)


def size_docks(area: QMainWindow, docks: dict[str, QDockWidget], plan: Arrangement) -> None:
    """The plan's shares of the area's width and of each column's height, in pixels."""
    plan = _present(plan, docks)
    width, height = max(area.width(), 400), max(area.height(), 300)
    across, down = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    tops = [docks[column.docks[0]] for column in plan.columns]
    area.resizeDocks(tops, [round(width * c.width) for c in plan.columns], across)
    for column in plan.columns:
        stack = [docks[name] for name in column.docks]
        area.resizeDocks(stack, [round(height * h) for h in column.heights], down)


def available(widget: QWidget) -> QRect:
    """The part of the widget's screen (or the primary one) that windows may use."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget) -> None:
    """Shrink the window to its screen if it is bigger, and move it onto the screen.

    A saved geometry from a bigger screen (the office monitor, then the 1024x768
    projector) would otherwise open a window whose edges, and views, are off screen.
    """
    screen = available(window)
    frame = window.frameGeometry()
    extra_w = max(0, frame.width() - window.width())  # the window manager's frame
    extra_h = max(0, frame.height() - window.height())
    width = min(window.width(), screen.width() - extra_w)
    height = min(window.height(), screen.height() - extra_h)
    window.resize(width, height)
    x = min(max(frame.x(), screen.left()), screen.right() + 1 - width - extra_w)
    y = min(max(frame.y(), screen.top()), screen.bottom() + 1 - height - extra_h)
    window.move(x, y)

"""Every traced lock: who holds it, who waits in line, how contended it is; and the wait-for graph.

The table is a ``QAbstractTableModel``: each refresh rebuilds a handful of row
tuples (one per lock, rarely more than five) and announces ``dataChanged``, so
the view repaints only what it shows; the model is reset only when a new lock
appears.  Thread names are chips in the thread's colour, the same colour the
timeline and the wait-for graph use.

Why the table never scrolls sideways: it shares a narrow dock (about 400 px, a
third less in scenario mode) with the wait-for graph, and a class cannot see a
column hidden behind a scroll bar.  Headers are short (their tooltips say the
rest), the figures take the width they need, "Held by" and "Waiting" share what
is left and elide their chips, and when even that does not fit the least
telling columns step aside, in :data:`DROP_ORDER`; a lock's tooltip still lists
every figure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from visualizer.events import PERMIT, READ, WRITE
from visualizer.model import LockState, RunModel
from visualizer.ui.theme import thread_color, view_font
from visualizer.ui.views.base import RunView
from visualizer.ui.views.chips import (
    CHIPS_ROLE,
    GAP,
    Chip,
    ChipDelegate,
    chip_line_height,
    chip_width,
    lines_needed,
    short_chip,
    wrapped_height,
)
from visualizer.ui.views.labels import format_duration, thread_colors, thread_label
from visualizer.ui.views.waitfor_graph import NO_LOCKS, NO_RUN, GraphState, WaitForGraph

COLUMNS = (
    ("Lock", "The traced primitive's name in the code"),
    ("Type", "Lock, RLock, read-write lock, semaphore or condition, and its current mode"),
    ("Held by", "Threads holding it now (RLock: recursion depth; read-write lock: all readers)"),
    ("Waiting", "Threads blocked on it, first in line first (conditions: waiting for a notify)"),
    ("Acq.", "Acquisitions so far"),
    ("Cont.", "Contended: share of acquisitions that found it taken and had to wait"),
    ("Wait p50/99", "How long contended acquisitions waited: median / 99th percentile"),
    ("Hold p50/99", "How long it was held: median / 99th percentile"),
)
LOCK, TYPE, HELD, WAITING, ACQUIRED, CONTENDED, WAIT, HOLD = range(len(COLUMNS))

CHIP_COLUMNS = (HELD, WAITING)
"""Columns of thread chips: they share the width the others leave, and elide."""

DROP_ORDER = (HOLD, ACQUIRED, WAIT, TYPE)
"""Columns hidden first when the dock is too narrow (name, holders, waiters and contention stay)."""

MAX_CHIP_LINES = 3
"""Most lines of chips a row grows to (past that, columns step aside; see _lay_out_columns)."""

MEASURED_ROWS = 200
"""Rows measured for column widths and row heights (a log can hold thousands of locks)."""
GRAPH_NODES = 48
"""Most threads (and most locks) the wait-for graph draws."""
CYCLE_NAMED = 12
"""Threads a deadlock's line names before it sums up the rest."""
COLUMN_CHECK_EVERY = 15
"""Refreshes between checks that the columns are still wide enough (4 a second at 60 Hz)."""

_PERMITS = re.compile(r"\((\d+)\)")
_MODE_NAMES = {READ: "read", WRITE: "write"}


@dataclass(slots=True)
class _Row:
    texts: list[str]
    chips: dict[int, list[Chip]]


def _is_condition(state: LockState) -> bool:
    return state.kind_label.startswith("Condition")


def _permits(state: LockState) -> str | None:
    """A semaphore's N, from its label "Semaphore(N)"."""
    match = _PERMITS.search(state.kind_label)
    return match.group(1) if match else None


def _type_text(state: LockState) -> str:
    """The primitive, its mode now, and the figure that tells its story so far."""
    label = state.kind_label
    parts = [label]
    if state.mode in _MODE_NAMES:
        parts.append(_MODE_NAMES[state.mode])
    if label.startswith("RWLock") and state.most_holders > 1:
        parts.append(f"up to {state.most_holders} readers at once")
    if label.startswith("Semaphore"):
        total = _permits(state)
        used = sum(state.holders.values())
        parts.append(f"{used} of {total} in use" if total else f"{used} in use")
    if state.reentries:
        parts.append(f"re-entered {state.reentries:,}\u00d7")
    if _is_condition(state) and state.notifies:
        woke = state.last_woken
        parts.append(f"last notify woke {woke} sleeper{'s' if woke != 1 else ''}")
    return ", ".join(parts)


def _chips_text(chips: list[Chip]) -> str:
    """The chips as text: a plain caption ("2 of 3:") first, then the threads, comma-separated."""
    captions = [text for text, color in chips if color is None]
    names = ", ".join(text for text, color in chips if color is not None)
    return " ".join([*captions, names]) if captions and names else names or " ".join(captions)


def _stats_text(stats) -> str:
    """Median and 99th percentile, the unit written once when they share it: "0.4/2.1 ms"."""
    if not stats.count:
        return "\u2013"
    p50, p99 = format_duration(stats.p50()), format_duration(stats.p99())
    value50, _, unit50 = p50.partition(" ")
    value99, _, unit99 = p99.partition(" ")
    if unit50 == unit99:
        return f"{value50}/{value99} {unit99}"
    return f"{p50}/{p99}"


def wrappable(name: str) -> str:
    """A lock's name with places to wrap after its "_" and "." (zero-width spaces):
    "PriorityQueue.not_empty" on two or three lines rather than elided."""
    return name.replace("_", "_\u200b").replace(".", ".\u200b")


def name_lines(metrics: QFontMetrics, text: str | None, room: int, line: float) -> int:
    """Chip lines a row needs for its lock's name (as :func:`wrappable` text) to wrap whole
    in ``room`` pixels: 1 if it fits on one, or if no wrapping would make it fit."""
    if not text or metrics.horizontalAdvance(text) <= room:
        return 1
    height = wrapped_height(metrics, text, room)
    if height is None:
        return 1  # a word wider than the column: elided, whatever the height
    return max(1, math.ceil((height + 4) / line))


class LockTableModel(QAbstractTableModel):
    """One row per traced primitive, rebuilt from the model's lock table on refresh."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[_Row] = []
        self._names: list[str] = []
        self.font = view_font()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 (Qt's name)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == LOCK:  # "not_empty" may wrap after its "_" rather than be elided
                return wrappable(row.texts[column])
            return row.texts[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            # Every figure of the row, so a column hidden for want of width is one hover away.
            return "\n".join(
                f"{name}: {text}" for (name, _tip), text in zip(COLUMNS, row.texts, strict=True)
            )
        if role == CHIPS_ROLE:
            return row.chips.get(column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= ACQUIRED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def lock_names(self) -> list[str]:
        return list(self._names)

    def longest(self) -> tuple[int, ...]:
        """Each column's longest text, in characters (a cheap sign a column may have grown)."""
        return tuple(
            max((len(row.texts[column]) for row in self._rows[:MEASURED_ROWS]), default=0)
            for column in range(len(COLUMNS))
        )

    def update_from(self, model: RunModel | None) -> None:
        """Rebuild the rows; reset only if the set of locks changed."""
        if model is None:
            rows, names = [], []
        else:
            colors, _ = thread_colors(model)
            # A condition nobody has waited on yet (PriorityQueue.not_full) says nothing.
            states = [
                state
                for state in model.locks.locks.values()
                if not _is_condition(state) or state.sleeps or state.notifies
            ]
            names = [state.name for state in states]
            rows = [self._row(model, state, colors) for state in states]
        if names != self._names:
            self.beginResetModel()
            self._rows, self._names = rows, names
            self.endResetModel()
        else:
            old, self._rows = self._rows, rows
            last = len(COLUMNS) - 1
            for row, (before, after) in enumerate(zip(old, rows, strict=True)):
                if before != after:  # repaint only the rows that changed
                    self.dataChanged.emit(self.index(row, 0), self.index(row, last))

    @staticmethod
    def _chip(
        model: RunModel, ident: int, colors: dict[int, QColor], suffix: str = "", prefix: str = ""
    ) -> Chip:
        color = colors.get(ident, thread_color(0))
        return (prefix + thread_label(model, ident) + suffix, color)

    def _row(self, model: RunModel, state: LockState, colors: dict[int, QColor]) -> _Row:
        held: list[Chip] = []
        if state.mode == PERMIT or state.kind_label.startswith("Semaphore"):
            total = _permits(state)
            used = sum(state.holders.values())
            held.append((f"{used} of {total}:" if total else f"{used}:", None))
        for ident, count in state.holders.items():
            suffix = ""
            if state.kind_label == "RLock" or state.mode == PERMIT:
                suffix = f" \u00d7{count}" if count > 1 else ""
            held.append(self._chip(model, ident, colors, suffix))
        waiting: list[Chip] = []
        if _is_condition(state):
            if state.cond_waiters:
                waiting.append((f"{len(state.cond_waiters)} asleep:", None))
            waiting += [self._chip(model, ident, colors) for ident in state.cond_waiters]
        for waiter in state.waiters:
            prefix = f"{_MODE_NAMES[waiter.mode][0]}: " if waiter.mode in _MODE_NAMES else ""
            waiting.append(self._chip(model, waiter.ident, colors, prefix=prefix))
        contention = f"{state.contention * 100:.0f} %" if state.acquisitions else "\u2013"
        texts = [
            state.name,
            _type_text(state),
            _chips_text(held) or ("\u2013" if not _is_condition(state) else ""),
            _chips_text(waiting) or "\u2013",
            f"{state.acquisitions:,}",
            contention,
            _stats_text(state.hold_stats),
            _stats_text(state.wait_stats),
        ]
        return _Row(texts, {HELD: held, WAITING: waiting})


def graph_state(model: RunModel | None) -> GraphState:
    """Nodes and edges of the wait-for graph, with the deadlock cycle's edges marked.

    At most :data:`GRAPH_NODES` threads and as many locks are drawn, those on the
    cycle first, then those waiting or holding: a log can make thousands, which
    no one could read and which took seconds to paint.
    """
    if model is None:
        return GraphState()
    table = model.locks
    locks = [name for name, state in table.locks.items() if not _is_condition(state)]
    holds = [(name, ident) for name in locks for ident in table.locks[name].holders]
    waits = [(ident, state.name) for ident, state in table.waiting_on.items()]
    involved = {ident for _, ident in holds} | {ident for ident, _ in waits}
    threads = sorted(
        (
            (info.color_index, ident, info.name)
            for ident, info in model.threads.items()
            if (info.alive and info.role) or ident in involved
        ),
    )
    cycle = table.deadlock_cycle()
    edges: set[tuple[object, object]] = set()
    text = ""
    if cycle:
        # [t0, l0, t1, l1, ...]: t_i waits for l_i, which t_{i+1} holds (the last lock: t0).
        for i in range(0, len(cycle), 2):
            ident, lock = cycle[i], cycle[i + 1]
            holder = cycle[(i + 2) % len(cycle)]
            edges.add((ident, lock))
            edges.add((lock, holder))
        names = [
            # even places hold thread idents, odd ones lock names
            thread_label(model, int(node)) if i % 2 == 0 else f"'{node}'"
            for i, node in enumerate(cycle[: 2 * CYCLE_NAMED])
        ]
        more = f" \u2192 \u2026 ({len(cycle) // 2} threads)" if len(cycle) > 2 * CYCLE_NAMED else ""
        text = "DEADLOCK: " + " \u2192 ".join([*names, names[0]] if not more else names) + more
    note = ""
    if len(threads) > GRAPH_NODES or len(locks) > GRAPH_NODES:
        threads, locks, note = _fewer_nodes(threads, locks, waits, holds, cycle or [])
        shown = {ident for _index, ident, _name in threads}
        drawn = set(locks)
        waits = [(ident, lock) for ident, lock in waits if ident in shown and lock in drawn]
        holds = [(lock, ident) for lock, ident in holds if ident in shown and lock in drawn]
    return GraphState(
        threads=tuple((ident, name, thread_color(index)) for index, ident, name in threads),
        locks=tuple(locks),
        waits=tuple(waits),
        holds=tuple(holds),
        cycle_edges=frozenset(edges),
        cycle_text=text,
        note=note,
    )


def _fewer_nodes(
    threads: list[tuple[int, int, str]],
    locks: list[str],
    waits: list[tuple[int, str]],
    holds: list[tuple[str, int]],
    cycle: list[int | str],
) -> tuple[list[tuple[int, int, str]], list[str], str]:
    """The threads and locks worth drawing (cycle first, then busy ones), and a note."""
    busy_threads = [ident for ident, _lock in waits] + [ident for _lock, ident in holds]
    wanted_threads = list(dict.fromkeys([*cycle[0::2], *busy_threads]))[:GRAPH_NODES]
    keep = set(wanted_threads)
    for _index, ident, _name in threads:
        if len(keep) >= GRAPH_NODES:
            break
        keep.add(ident)
    busy_locks = [lock for _ident, lock in waits] + [lock for lock, _ident in holds]
    wanted_locks = set(list(dict.fromkeys([*cycle[1::2], *busy_locks]))[:GRAPH_NODES])
    for lock in locks:
        if len(wanted_locks) >= GRAPH_NODES:
            break
        wanted_locks.add(lock)
    kept_threads = [entry for entry in threads if entry[1] in keep]
    kept_locks = [lock for lock in locks if lock in wanted_locks]
    note = (
        f"showing {len(kept_threads)} of {len(threads)} threads and "
        f"{len(kept_locks)} of {len(locks)} locks"
    )
    return kept_threads, kept_locks, note


class LocksView(RunView):
    """Lock table over wait-for graph.  Selecting a task outlines the worker that holds it."""

    title = "Locks"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table_model = LockTableModel()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setItemDelegate(ChipDelegate(self.table))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        # Columns are measured on at most this many rows (a log may name thousands of locks).
        header.setResizeContentsPrecision(MEASURED_ROWS)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setHighlightSections(False)
        self.table.viewport().installEventFilter(self)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long lock names
        self.graph = WaitForGraph()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.graph)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)
        self._sized_for: list[str] = []
        self._frames = 0
        self._wanted: dict[int, int] = {}  # widest contents seen per column (never shrinks)
        self._least: dict[int, int] = {}  # widest single chip (short name) per chip column
        self._longest: tuple[int, ...] = ()  # each column's longest text when last looked
        self._row_lines: dict[int, int] = {}  # lines of chips each row has needed
        self._laid_out_for = -1  # the room the columns were last laid out in
        self.restyle()
        self.set_model(None)

    def restyle(self) -> None:
        """Row height and column widths follow the font (at start, after a zoom)."""
        self.table_model.font = view_font()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self._wanted = {}
        self._least = {}
        self._row_lines = {}
        self._fit_table_height(len(self._sized_for))
        self._measure_columns()

    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self._sized_for = []
        self._frames = 0
        self._wanted = {}
        self._least = {}
        self._row_lines = {}
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        resized = watched is self.table.viewport() and event.type() == QEvent.Type.Resize
        if resized and self._room() != self._laid_out_for:  # a scroll bar coming or going: same
            self._lay_out_columns()
        return super().eventFilter(watched, event)

    def refresh(self) -> None:
        self.table_model.update_from(self.model)
        names = self.table_model.lock_names()
        self.table.setVisible(bool(names))  # no lock: the graph says so, no empty grid
        if names != self._sized_for:
            self._sized_for = names
            self._wanted = {}
            self._row_lines = {}
            self._fit_table_height(len(names))
            self._measure_columns()
        elif self._frames % COLUMN_CHECK_EVERY == 0 or self._longer_texts():
            # Also at once when a text is longer than any before: a run that stops right
            # after "0 %" became "100 %" (a deadlock) would else show "1…%" until resized.
            self._measure_columns()
        elif self._fit_rows():  # more waiters now: their row grows at once, never cut,
            self._measure_columns()  # and if three lines are not enough, the columns change now
        self._frames += 1
        self.graph.set_state(graph_state(self.model), NO_RUN if self.model is None else NO_LOCKS)

    def _longer_texts(self) -> bool:
        longest, before = self.table_model.longest(), self._longest
        self._longest = longest
        if len(longest) != len(before):
            return True
        return any(now > then for now, then in zip(longest, before, strict=True))

    def _measure_columns(self) -> None:
        """Note each column's widest contents; lay out again if any grew.

        Widths only grow (no jitter at 60 Hz), and measuring asks every cell for
        its size, so it runs a few times a second, not every frame.
        """
        table = self.table
        header = table.horizontalHeader()
        grew = not self._wanted
        for column in range(len(COLUMNS)):
            wanted = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
            if wanted > self._wanted.get(column, 0):
                self._wanted[column] = wanted
                grew = True
        metrics = QFontMetrics(self.table_model.font)
        model = self.table_model
        for row in range(min(model.rowCount(), MEASURED_ROWS)):
            # A name wraps between its words: the column needs its widest one.
            words = re.split("[ \u200b]", model.index(row, LOCK).data() or "")
            word = max((metrics.horizontalAdvance(w) for w in words), default=0) + 10
            if word > self._least.get(LOCK, 0):
                self._least[LOCK] = word
                grew = True
        for column in CHIP_COLUMNS:
            for row in range(min(model.rowCount(), MEASURED_ROWS)):
                chips = model.index(row, column).data(CHIPS_ROLE) or []
                widths = [chip_width(metrics, short_chip(t)) + GAP for t, c in chips if c]
                # Room for the widest chip, and for all of them in two lines at most: more
                # lines would squeeze the wait-for graph; a column steps aside instead.
                least = int(max(max(widths, default=0), sum(widths) / 2)) + 8
                if least > self._least.get(column, 0):
                    self._least[column] = least
                    grew = True
        if grew:
            self._lay_out_columns()
        else:
            self._fit_rows()

    def _lay_out_columns(self) -> None:
        """Fit the shown columns into the viewport: figures at their width, the threads
        holding and waiting share the rest (their chips wrap onto more lines)."""
        if not self._wanted:
            return
        table = self.table
        header = table.horizontalHeader()
        available = self._laid_out_for = self._room()
        # A chip column is never narrower than its widest chip by short name, nor than a
        # few letters of its header: its chips wrap rather than being cut.
        least = {c: max(self._least.get(c, 0), header.sectionSizeHint(c)) for c in CHIP_COLUMNS}
        # The lock's name gives way first: it wraps between its words (rows grow for it),
        # and a column steps aside before it is narrower than its widest word; where even
        # that is not enough it is elided in the middle (whole in its tooltip).
        name_cap = max(
            header.sectionSizeHint(LOCK) // 2,
            available // 4,
            min(self._least.get(LOCK, 0), self._wanted[LOCK]),
        )
        shown = list(range(len(COLUMNS)))
        for column in (*DROP_ORDER, CONTENDED):
            fixed = sum(self._wanted[c] for c in shown if c not in CHIP_COLUMNS)
            fixed -= max(0, self._wanted[LOCK] - name_cap)
            if fixed + sum(least.values()) <= available:
                break
            shown.remove(column)
        for column in range(len(COLUMNS)):
            table.setColumnHidden(column, column not in shown)
        header.setMinimumSectionSize(8)  # squeezed columns must not run past the edge
        widths = {c: self._wanted[c] for c in shown if c not in CHIP_COLUMNS}
        # Whole if the chip columns keep their least beside it ("not_empty" was "no…ty"
        # at 1024x768 with room to spare), else no wider than the cap or what is left.
        others = sum(width for c, width in widths.items() if c != LOCK) + sum(least.values())
        widths[LOCK] = min(widths[LOCK], max(name_cap, available - others))
        spare = available - sum(widths.values())
        natural = sum(self._wanted[c] for c in CHIP_COLUMNS)
        room = spare - sum(least.values())
        for column in CHIP_COLUMNS:
            if room >= 0:  # each its least, and a share of what is left over
                share = least[column] + room * self._wanted[column] // max(natural, 1)
            else:  # not even that fits: shares of what there is (the cut is reported)
                share = spare * least[column] // max(sum(least.values()), 1)
            widths[column] = max(1, share)
        for column in shown:
            table.setColumnWidth(column, widths[column])
        self._row_lines = {}  # new widths: rows need lines anew (they only grew before)
        self._fit_rows()

    def _room(self) -> int:
        """The viewport's width with room kept for the vertical scroll bar, shown or not.

        Rows shrink and grow with the columns' widths, which shows or hides the scroll
        bar, which would change the width again: keeping its room always ends that loop.
        """
        table = self.table
        bar = table.verticalScrollBar()
        width = table.viewport().width()
        return width if bar.isVisibleTo(table) else width - bar.sizeHint().width()

    def _fit_rows(self) -> bool:
        """Each row as tall as its chips need at their column's width (never shrinking
        during a run, so rows do not jump at every frame), and the table as tall as its rows.

        True if some row needs more than :data:`MAX_CHIP_LINES` lines (its chips are cut
        until the columns are measured again).
        """
        table = self.table
        model = self.table_model
        metrics = QFontMetrics(self.table_model.font)
        line = chip_line_height(metrics) + GAP
        changed = short_of_room = False
        name_room = table.columnWidth(LOCK) - 6
        for row in range(min(model.rowCount(), MEASURED_ROWS)):
            lines = name_lines(metrics, model.index(row, LOCK).data(), name_room, line)
            for column in CHIP_COLUMNS:
                chips = model.index(row, column).data(CHIPS_ROLE) or []
                width = table.columnWidth(column) - 6
                short = [(t if c is None else short_chip(t), c) for t, c in chips]
                lines = max(
                    lines,
                    min(lines_needed(metrics, chips, width), lines_needed(metrics, short, width)),
                )
            short_of_room = short_of_room or lines > MAX_CHIP_LINES
            lines = min(max(lines, self._row_lines.get(row, 1)), MAX_CHIP_LINES)
            self._row_lines[row] = lines
            height = max(table.verticalHeader().defaultSectionSize(), round(lines * line + 6))
            if table.rowHeight(row) != height:
                table.setRowHeight(row, height)
                changed = True
        if changed:
            self._fit_table_height(model.rowCount())
        return short_of_room

    def _fit_table_height(self, rows: int) -> None:
        """Give the table just its rows (up to six) and the graph everything else."""
        table = self.table
        chrome = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + 2
        row = table.verticalHeader().defaultSectionSize()
        heights = [table.rowHeight(r) for r in range(min(rows, 6))] or [row]
        wanted = chrome + sum(heights)
        # A scroll area's own minimum is taller than one row: one row is the least it needs.
        table.setMinimumHeight(chrome + heights[0])
        total = sum(self.splitter.sizes()) or self.height()
        self.splitter.setSizes([wanted, max(total - wanted, self.graph.minimumHeight())])

    def select_task(self, task_id: Hashable | None) -> None:
        """Locks hold no tasks, so the graph rings the thread that received the selected task."""
        model = self.model
        worker = None
        if model is not None and task_id is not None:
            worker = model.tasks.worker_of.get(task_id)
        self.graph.set_marked(worker)

"""Every invariant violation the checker found, newest at the bottom; a click selects its task.

The checker's list only ever grows (up to its cap), so the table model keeps a
reference to it and announces the new rows with ``beginInsertRows``: a run
with thousands of violations costs one insert per frame, not a reset.  An
empty list shows a calm sentence instead of an empty grid, so "nothing broke"
is visibly a result rather than a blank.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from visualizer.events import VIOLATION_KINDS
from visualizer.model import RunModel, Violation
from visualizer.ui.theme import ALERT_COLOR, status_color, thread_color, view_font
from visualizer.ui.views.base import RunView
from visualizer.ui.views.chips import CHIPS_ROLE, ChipDelegate
from visualizer.ui.views.labels import format_seconds, thread_colors

COLUMNS = ("Time", "Kind", "Threads", "Task", "Detail")
TIME, KIND, THREADS, TASK, DETAIL = range(len(COLUMNS))

EMPTY_TEXT = "No invariant violations so far"

DETAIL_CHARS = 2000
"""Most characters of a violation shown under the table (its tooltip keeps all of it)."""


class AnomalyTableModel(QAbstractTableModel):
    """Rows are the model's violations, in the order the checker found them."""

    def __init__(self) -> None:
        super().__init__()
        self._violations: Sequence[Violation] = ()
        self._count = 0
        self._model: RunModel | None = None
        self._colors: dict[str, QColor] = {}
        self.restyle()

    def restyle(self) -> None:
        self._kind_font = view_font(bold=True)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 (Qt's name)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def violation(self, row: int) -> Violation:
        return self._violations[row]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        v = self._violations[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(v, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return v.detail
        if role == CHIPS_ROLE:
            if column == THREADS:
                return [(name, self._colors.get(name, thread_color(0))) for name in v.threads]
            if column == TASK and v.task is not None and self._model is not None:
                return [(str(v.task), status_color(self._model.tasks.status_of(v.task)))]
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == KIND:
            return ALERT_COLOR
        if role == Qt.ItemDataRole.FontRole and column == KIND:
            return self._kind_font
        return None

    def _text(self, v: Violation, column: int) -> str:
        if column == TIME:
            t0 = self._model.t0_ns if self._model is not None else None
            return format_seconds(v.t_ns, t0)
        if column == KIND:
            return v.kind
        if column == THREADS:
            return ", ".join(v.threads)
        if column == TASK:
            return "" if v.task is None else str(v.task)
        return v.detail if v.lock is None or v.lock in v.detail else f"{v.detail} (lock {v.lock})"

    def update_from(self, model: RunModel | None) -> int:
        """Show the model's violations; returns how many rows are new."""
        if model is not self._model:
            self.beginResetModel()
            self._model = model
            self._violations = model.anomalies if model is not None else ()
            self._count = len(self._violations)
            _, self._colors = thread_colors(model)
            self.endResetModel()
            return self._count
        if model is None:
            return 0
        self._violations = model.anomalies
        total = len(self._violations)
        new = total - self._count
        if new > 0:
            _, self._colors = thread_colors(model)
            self.beginInsertRows(QModelIndex(), self._count, total - 1)
            self._count = total
            self.endInsertRows()
        return max(new, 0)


class AnomaliesView(RunView):
    """Violations table (or the calm empty line), plus the selected one's detail in full."""

    title = "Anomalies"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table_model = AnomalyTableModel()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setItemDelegate(ChipDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        # The detail is spelled out in full under the table: no column hides behind a
        # scroll bar, the threads take the width the others leave.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setColumnHidden(DETAIL, True)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(THREADS, QHeaderView.ResizeMode.Stretch)
        self.table.clicked.connect(self._row_clicked)
        self.table.activated.connect(self._row_clicked)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail_area = QScrollArea()
        self.detail_area.setWidget(self.detail)
        self.detail_area.setWidgetResizable(True)
        self.detail_area.setFrameShape(QFrame.Shape.NoFrame)
        self.detail_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.detail_area.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.detail_area)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter, 1)
        self.restyle()
        self.set_model(None)

    def restyle(self) -> None:
        """Row height and column widths follow the font (at start, after a zoom)."""
        self.table_model.restyle()
        metrics = self.fontMetrics()
        self.table.verticalHeader().setDefaultSectionSize(metrics.height() + 12)
        header = self.table.horizontalHeader()
        for column, sample in (
            (TIME, "00.000 s"),
            (KIND, max(VIOLATION_KINDS, key=len)),
            (TASK, "00000"),
        ):
            bold = column == KIND
            wide = QFontMetrics(view_font(bold=True)) if bold else metrics
            header.resizeSection(column, wide.horizontalAdvance(sample) + 20)
        # The table keeps room for two rows however long the detail under it.
        rows = 2 * (metrics.height() + 12) + header.sizeHint().height() + 4
        self.stack.setMinimumHeight(rows)
        self.detail_area.setMinimumHeight(metrics.lineSpacing() * 2 + 4)

    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self.detail_area.hide()
        self.refresh()

    def refresh(self) -> None:
        follow = self._at_bottom()
        new = self.table_model.update_from(self.model)
        rows = self.table_model.rowCount()
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        if new and not self.table.selectionModel().hasSelection():
            # Nothing picked: the line under the table spells out the newest violation.
            self._show_detail(self.table_model.violation(rows - 1), "Newest")
            if follow:
                self.table.scrollToBottom()

    def _at_bottom(self) -> bool:
        bar = self.table.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    @Slot(QModelIndex)
    def _row_clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        violation = self.table_model.violation(index.row())
        self._show_detail(violation, "Selected")
        if violation.task is not None:
            self.task_selected.emit(violation.task)

    def _show_detail(self, violation: Violation, which: str) -> None:
        """Spell one violation out under the table, in full (it scrolls if very long).

        This is what a lecturer reads aloud: the table keeps three rows above it.
        """
        threads = ", ".join(violation.threads) or "no thread"
        text = f"{which}: {violation.kind} ({threads}): {violation.detail}"
        if len(text) > DETAIL_CHARS:  # a hostile log's detail: the start reads, the rest waits
            text = text[:DETAIL_CHARS].rsplit(" ", 1)[0] + " \u2026"
        self.detail.setText(text)
        self.detail.setToolTip(violation.detail)
        self.detail_area.show()

    def select_task(self, task_id: Hashable | None) -> None:
        """Select the first violation about the task (the panel may show many per task)."""
        model = self.table_model
        selection = self.table.selectionModel()
        for row in range(model.rowCount()):
            if task_id is not None and model.violation(row).task == task_id:
                index = model.index(row, 0)
                selection.select(
                    index,
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
                self.table.scrollTo(index)
                self._show_detail(model.violation(row), "Selected")
                return
        selection.clearSelection()

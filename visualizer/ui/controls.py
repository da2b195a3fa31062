"""The control panel: pick a strategy, set the workload, drive the run.

Why the panel knows nothing about runs: it turns its inputs into a
:class:`~visualizer.engine.Workload` (or refuses them, with
:meth:`Workload.validate`'s message next to the offending input) and shows
buttons for run actions the main window owns.  The main window's ``QAction``
objects are the single source of truth for what is enabled; the buttons here are
``QToolButton`` views of them, so menu, shortcut and button can never disagree.

Units: the engine speaks seconds and fractions; people in a lecture hall think
in milliseconds and percent, so inputs use those and convert.  Inputs whose unit
differs from the engine's are bounded at the control itself (a ``work_time`` of
"60" in a message would be ambiguous next to a millisecond box), while counts
accept out-of-range numbers and show the validator's explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.engine import Workload
from visualizer.engine.lessons import LESSON_TEXTS, lesson_workload
from visualizer.queues import STRATEGIES
from visualizer.ui.spin_boxes import dspin, spin
from visualizer.ui.theme import ALERT_COLOR
from visualizer.ui.title_box import TitleBox

PACES: tuple[float | None, ...] = (1, 2, 5, 10, 30, 100, 300, 1000, None)
"""Speed slider stops, slowest first: operations per second, None = full speed."""

HIDDEN_FIELDS = ("duration", "work_distribution", "capacity")
"""Workload fields without an input: a strategy's lesson leaves them as they were."""

INT32_MAX = 2**31 - 1
GROUP_MARGINS = (8, 4, 8, 6)


_Field = tuple[str, QWidget, Callable[[], object], Callable[[Any], None]]

"""(workload field, its input widget, read it in engine units, show a value in engine units)."""


@dataclass
class _Input:
    """One workload field: its widget, label, and the conversions to and from the engine's units."""

    name: str
    label: QLabel
    widget: QWidget
    get: Callable[[], object]
    set: Callable[[Any], None]
    message: QLabel


_SECONDARY_WORDS: dict[str, Callable[[Any], str]] = {
    "burst": lambda n: f"bursts of {n}",
    "backlog": lambda n: f"backlog {n:,}",
    "priority_spread": lambda n: f"{n} priorities",
    "cancel_probability": lambda p: f"{p * 100:.0f} % cancelled",
    "race_window": lambda s: f"race window {s * 1000:g} ms",
    "switch_interval": lambda s: f"GIL switch {s * 1000:g} ms",
    "seed": lambda n: f"seed {n}",
}
"""How the folded settings read in the toggle's summary, when not at their defaults."""


def _key(workload: Workload) -> str:
    """The strategy list's item for a workload: a strategy's name, or a user's queue."""
    return QUEUE_PREFIX + workload.queue if workload.queue is not None else workload.strategy


def _keyed(workload: Workload, key: str) -> Workload:
    """``workload`` for the strategy list's item ``key``."""
    if key.startswith(QUEUE_PREFIX):
        return workload.replace(queue=key[len(QUEUE_PREFIX) :])
    return workload.replace(strategy=key, queue=None)


def _valid(workload: Workload) -> bool:
    try:
        workload.validate()
    except ValueError:
        return False
    return True


def _pace_text(pace: float | None) -> str:
    if pace is None:
        return "full speed"
    return f"{pace:g} op{'s' if pace != 1 else ''}/s"


QUEUE_PREFIX = "queue:"
"""Item data of a user's queue in the strategy list: the prefix, then ``PATH.py:ClassName``."""


class ControlPanel(QWidget):
    """Strategy picker, workload inputs, run buttons and the speed slider."""

    workload_changed = Signal(object)
    """Emitted on any input change with the new Workload, or None when it is refused."""

    pace_changed = Signal(object)
    """Emitted when the speed slider moves: operations per second, or None for full speed."""

    def __init__(self, actions: Sequence[QAction] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = Workload()
        self._inputs: dict[str, _Input] = {}
        self._error: tuple[str, str] | None = None
        self._workload: Workload | None = None
        self._race_window_ms = 0.0  # kept while a safe strategy shows "unsafe only"
        # Each strategy keeps its own workload: its lesson until the user edits it.
        self._per_strategy: dict[str, Workload] = {}
        self._shown_strategy: str | None = None

        self._content = QWidget()
        layout = QVBoxLayout(self._content)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        layout.addWidget(self._build_strategy())
        layout.addWidget(self._build_workload())
        layout.addWidget(self._build_run(actions))
        layout.addStretch(1)

        # A scroll area only as a safety net for screens smaller than 1280x800:
        # at that size everything fits and no scroll bar shows.
        self._scroll = QScrollArea()
        self._scroll.setWidget(self._content)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._scroll)
        self._fit_width()
        self._show_more(False)

        self.set_workload(self._base)

    def _fit_width(self) -> None:
        """Never narrower than the content: a clipped spin box would hide its arrows.

        The speed label is as wide as its longest text, so the slider never jumps.
        """
        metrics = self.speed_label.fontMetrics()
        widest = max(metrics.horizontalAdvance(_pace_text(pace)) for pace in PACES)
        self.speed_label.setMinimumWidth(widest)
        bar = self._scroll.verticalScrollBar().sizeHint().width()
        self._scroll.setMinimumWidth(self._content.minimumSizeHint().width() + bar)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """A new font (the window's projector-sized one) changes how wide the content is."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_width()

    # --- building ---------------------------------------------------------------
    def _build_strategy(self) -> QGroupBox:
        group = QGroupBox("Strategy")
        box = QVBoxLayout(group)
        box.setContentsMargins(*GROUP_MARGINS)
        # Exactly as wide as the longest strategy title; a user's queue is elided.
        self.strategy = TitleBox(cls.title or name for name, cls in STRATEGIES.items())
        self.strategy.setToolTip(
            "How the task queue protects its heap and status table from concurrent threads."
        )
        for name, cls in STRATEGIES.items():
            self.strategy.addItem(cls.title or name, name)
            self.strategy.setItemData(
                self.strategy.count() - 1, f"{name}: {cls.summary}", Qt.ItemDataRole.ToolTipRole
            )
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setToolTip("What the chosen strategy protects, and what that costs.")
        self.summary.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.lesson = QLabel()
        self.lesson.setWordWrap(True)
        self.lesson.setTextFormat(Qt.TextFormat.RichText)
        self.lesson.setToolTip(
            "What this strategy's lesson workload shows within a few seconds of Start."
        )
        self.lesson.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.lesson_button = QToolButton()
        self.lesson_button.setText("Lesson workload")
        self.lesson_button.setToolTip(
            "Put back the workload that shows this strategy's lesson (your changes to "
            "this strategy's workload are forgotten)"
        )
        self.lesson_button.clicked.connect(self.restore_lesson)
        # The box has the row to itself: the Lesson button would squeeze the title.
        box.addWidget(self.strategy)
        box.addWidget(self.lesson)
        box.addWidget(self.summary)
        box.addWidget(self.lesson_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.strategy.currentIndexChanged.connect(self._strategy_picked)
        return group

    def _build_workload(self) -> QGroupBox:
        group = QGroupBox("Workload")
        self._form = QFormLayout(group)
        self._form.setContentsMargins(*GROUP_MARGINS)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.setVerticalSpacing(3)

        def whole(name: str, box: QSpinBox) -> _Field:
            box.valueChanged.connect(self._revalidate)
            return name, box, box.value, lambda v: box.setValue(int(v))

        def scaled(
            name: str, box: QDoubleSpinBox, scale: float, none_at_zero: bool = False
        ) -> _Field:
            def get() -> float | None:
                value = box.value()
                if none_at_zero and value == 0:
                    return None
                return value / scale

            def put(value: float | None) -> None:
                box.setValue(0.0 if value is None else value * scale)

            box.valueChanged.connect(self._revalidate)
            return name, box, get, put

        # One row each: two spin boxes side by side cut their numbers in a narrow panel.
        self._add(
            "Producers",
            whole(
                "producers",
                spin(0, 999, "Producer threads: they add tasks to the queue (1 to 64)."),
            ),
        )
        self._add(
            "Workers",
            whole(
                "workers",
                spin(
                    0,
                    999,
                    "Worker threads: they take tasks from the queue and work on them (1 to 64).",
                ),
            ),
        )
        self._add(
            "Status readers",
            whole(
                "readers",
                spin(
                    0,
                    999,
                    "Threads that only read: each takes a snapshot of the whole queue, again "
                    "and again, as a status page would (0 to 64). A read-write lock lets them "
                    "in together; one plain lock makes everybody else wait for them.",
                    special="none",
                    suffix=" readers",
                ),
            ),
        )
        self._add(
            "Production rate",
            scaled(
                "rate",
                dspin(
                    0,
                    1_000_000,
                    1,
                    "Tasks each producer adds per second. At the minimum (flat out) producers add "
                    "as fast as they can.",
                    special="flat out",
                    suffix=" tasks/s",
                ),
                1.0,
            ),
        )
        self._add(
            "Work time",
            scaled(
                "work_time",
                dspin(
                    0,
                    60_000,
                    1,
                    "Mean time a worker spends on one task (0 to 60 000 ms). "
                    "At the minimum workers finish instantly.",
                    special="none",
                    suffix=" ms",
                ),
                1000.0,
            ),
        )
        self._add(
            "Total tasks",
            whole(
                "tasks",
                spin(
                    0,
                    INT32_MAX,
                    "How many tasks the producers add in all (up to 10 000 000). At the "
                    "minimum they keep adding until you press Stop.",
                    special="until stopped",
                    suffix=" tasks",
                ),
            ),
        )

        self.more = QToolButton()
        self.more.setCheckable(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setAutoRaise(True)
        self.more.setToolTip("Show or hide the settings below (their values still apply)")
        self.more.toggled.connect(self._show_more)
        self.more_summary = QLabel()
        self.more_summary.setWordWrap(True)
        self.more_summary.setToolTip("The folded settings that differ from the defaults")
        self.more_summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.more_summary.setMinimumWidth(1)
        self._form.addRow(self.more, self.more_summary)
        first_secondary = len(self._inputs)
        self._add(
            "Burst",
            whole(
                "burst",
                spin(
                    1,
                    100_000,
                    "Each producer adds this many tasks at once, then waits; the rate stays "
                    "the average. The queue fills and empties in turns.",
                    suffix=" at once",
                ),
            ),
        )
        self._add(
            "Backlog limit",
            whole(
                "backlog",
                spin(
                    0,
                    10_000_000,
                    "Producers wait while this many tasks are queued or being worked on, so a "
                    "run that goes on until stopped keeps a heap of about this size. At the "
                    "minimum there is no limit.",
                    special="no limit",
                    suffix=" tasks",
                ),
            ),
        )
        self._add(
            "Priority spread",
            whole(
                "priority_spread",
                spin(
                    0,
                    100_000,
                    "Tasks get priorities 0 to spread-1; the highest number is served "
                    "first. 1 makes every task equal (pure first-in, first-out).",
                    suffix=" levels",
                ),
            ),
        )
        self._add(
            "Cancel probability",
            scaled(
                "cancel_probability",
                dspin(
                    0,
                    100,
                    0,
                    "Chance that a producer cancels a task it added while it is still queued.",
                    suffix=" %",
                ),
                100.0,
            ),
        )
        self._add(
            "Race window",
            scaled(
                "race_window",
                dspin(
                    0,
                    1000,
                    2,
                    "Only for the unsafe strategy: a pause (0 to 1000 ms) between reading and "
                    "writing shared state, so races happen within seconds instead of millions of "
                    "operations. Other strategies hold a lock there and ignore it.",
                    special="off",
                    suffix=" ms",
                ),
                1000.0,
            ),
        )
        self._add(
            "GIL switch interval",
            scaled(
                "switch_interval",
                dspin(
                    0,
                    1000,
                    3,
                    "How often CPython asks the running thread to hand over the GIL "
                    "(sys.setswitchinterval, up to 1000 ms). Shorter means more interleaving. "
                    "At the minimum Python's default (5 ms) is kept.",
                    special="default",
                    suffix=" ms",
                ),
                1000.0,
                none_at_zero=True,
            ),
        )
        self._add(
            "Seed",
            whole(
                "seed",
                spin(
                    0,
                    INT32_MAX,
                    "Seed for priorities, work times and cancels: the same seed gives the "
                    "same tasks every run (thread timing still varies).",
                ),
            ),
        )
        self._secondary = list(self._inputs)[first_secondary:]
        self.general_message = self._message_label()
        self._form.addRow(self.general_message)
        self._form.setRowVisible(self.general_message, False)
        return group

    def _show_more(self, shown: bool) -> None:
        """Show the secondary settings, or fold them into the toggle's one-line summary."""
        labels = {self._inputs[name].label for name in self._secondary}
        for label in labels:
            self._form.setRowVisible(label, shown)
        self._update_more()

    def _update_more(self) -> None:
        arrow = Qt.ArrowType.DownArrow if self.more.isChecked() else Qt.ArrowType.RightArrow
        self.more.setArrowType(arrow)
        self.more.setText("Fewer" if self.more.isChecked() else "More")
        self.more_summary.setVisible(not self.more.isChecked())
        if self.more.isChecked():
            return
        values = {name: self._inputs[name].get() for name in self._secondary}
        defaults = Workload()
        parts = [
            _SECONDARY_WORDS[name](value)
            for name, value in values.items()
            if value != getattr(defaults, name) and name in _SECONDARY_WORDS
        ]
        self.more_summary.setText(", ".join(parts) if parts else "all at their defaults")

    def _message_label(self) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        # The theme's alert red reads on light and dark palettes alike.
        label.setStyleSheet(f"color: {ALERT_COLOR.name()}; font-weight: bold;")
        return label

    def _add(self, text: str, *fields: _Field) -> None:
        """One form row: a label and the input(s) it names, each with its refusal message
        on a row of its own below (hidden until there is something to say)."""
        label = QLabel(text)
        label.setWordWrap(True)  # "GIL switch interval" on two lines in a narrow panel
        label.setToolTip("\n\n".join(widget.toolTip() for _, widget, _, _ in fields))
        label.setBuddy(fields[0][1])
        if len(fields) == 1:
            self._form.addRow(label, fields[0][1])
        else:
            row = QWidget()
            pair = QHBoxLayout(row)
            pair.setContentsMargins(0, 0, 0, 0)
            pair.setSpacing(4)
            for _, widget, _, _ in fields:
                pair.addWidget(widget)
            self._form.addRow(label, row)
        for name, widget, get, put in fields:
            message = self._message_label()
            self._form.addRow(message)
            self._form.setRowVisible(message, False)
            self._inputs[name] = _Input(name, label, widget, get, put, message)

    def _build_run(self, actions: Sequence[QAction]) -> QGroupBox:
        group = QGroupBox("Run")
        grid = QGridLayout(group)
        grid.setContentsMargins(*GROUP_MARGINS)
        grid.setSpacing(4)
        self.buttons: dict[str, QToolButton] = {}
        for i, action in enumerate(actions):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setMinimumHeight(30)
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[action.objectName()] = button

        row = (len(actions) + 2) // 3
        self.speed_label = QLabel()
        self.speed_label.setToolTip("How fast the run's threads may go.")
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(PACES) - 1)
        self.speed.setPageStep(1)
        self.speed.setValue(len(PACES) - 1)
        self.speed.setToolTip(
            "Slow motion: left lets only a few traced operations (lock acquires, heap pushes) "
            "through per second so a class can follow each step; right is full speed. "
            "Works while running."
        )
        self.speed.valueChanged.connect(self._speed_changed)
        grid.addWidget(self.speed_label, row, 0)
        grid.addWidget(self.speed, row, 1, 1, 2)
        self._speed_changed(self.speed.value())
        return group

    # --- public API ---------------------------------------------------------------
    def workload(self) -> Workload | None:
        """The workload the inputs describe, or None while they are refused."""
        return self._workload

    def error(self) -> tuple[str, str] | None:
        """(field, message) of the refused setting, or None."""
        return self._error

    def input(self, name: str) -> QWidget:
        """The widget that edits workload field ``name`` (or "strategy")."""
        if name == "strategy":
            return self.strategy
        return self._inputs[name].widget

    def message(self, name: str) -> str:
        """The refusal message shown next to field ``name`` ("" if none)."""
        item = self._inputs.get(name)
        label = item.message if item is not None else self.general_message
        return label.text()

    def workloads(self) -> dict[str, Workload]:
        """Every strategy's workload as last shown (the current one as it is now, if valid);
        a user's queues are not among them (the file may be gone next time)."""
        remembered = dict(self._per_strategy)
        if self._workload is not None:
            remembered[_key(self._workload)] = self._workload
        return {key: w for key, w in remembered.items() if key in STRATEGIES}

    def set_workloads(self, workloads: dict[str, Workload]) -> None:
        """Remember these strategies' workloads (from the settings); shown when picked."""
        self._per_strategy.update(
            {name: w for name, w in workloads.items() if name in STRATEGIES and w.strategy == name}
        )

    def restore_lesson(self) -> None:
        """The current strategy's lesson workload back in the inputs."""
        key = str(self.strategy.currentData())
        self._per_strategy.pop(key, None)
        self.set_workload(self._lesson(key))

    def set_workload(self, workload: Workload) -> None:
        """Show ``workload`` in the inputs; fields without an input are kept as given."""
        self._base = workload
        key = _key(workload)
        self._per_strategy[key] = workload
        self._shown_strategy = key
        index = self.strategy.findData(key)
        blockers = [self.strategy, *(item.widget for item in self._inputs.values())]
        for widget in blockers:
            widget.blockSignals(True)
        try:
            if index >= 0:
                self.strategy.setCurrentIndex(index)
            for item in self._inputs.values():
                item.set(getattr(workload, item.name))
        finally:
            for widget in blockers:
                widget.blockSignals(False)
        self._strategy_changed()

    def set_settings_enabled(self, enabled: bool) -> None:
        """Lock the strategy and workload inputs while a run uses them."""
        self.strategy.setEnabled(enabled)
        self.lesson_button.setEnabled(enabled)
        for item in self._inputs.values():
            item.label.setEnabled(enabled)
            item.widget.setEnabled(enabled)
        if enabled:
            self._update_race_window()

    def pace(self) -> float | None:
        return PACES[self.speed.value()]

    def set_pace(self, pace: float | None) -> None:
        """Move the slider to the stop nearest ``pace`` (None = full speed)."""
        if pace is None:
            index = len(PACES) - 1
        else:
            stops = cast(tuple[float, ...], PACES[:-1])  # every stop but full speed is a rate
            index = min(range(len(stops)), key=lambda i: abs(stops[i] - pace))
        self.speed.setValue(index)

    # --- reactions ----------------------------------------------------------------
    def _strategy_picked(self, _index: int = -1) -> None:
        """The user picked a strategy: keep the last one's workload, show this one's."""
        key = str(self.strategy.currentData())
        previous = self._shown_strategy
        if previous is not None and previous != key:
            values = {name: item.get() for name, item in self._inputs.items()}
            collected = _keyed(self._base.replace(**values), previous)
            if _valid(collected):
                self._per_strategy[previous] = collected
        remembered = self._per_strategy.get(key)
        if remembered is None:
            remembered = self._lesson(key)
        self.set_workload(remembered)

    def _lesson(self, key: str) -> Workload:
        """A strategy's lesson (a user's queue: the plain defaults), keeping the settings
        the panel does not show (duration, capacity...)."""
        kept = {name: getattr(self._base, name) for name in HIDDEN_FIELDS}
        if key.startswith(QUEUE_PREFIX):
            return _keyed(Workload(**kept), key)
        return lesson_workload(key, Workload(**kept))

    def _strategy_changed(self, _index: int = -1) -> None:
        name = self.strategy.currentData()
        cls = STRATEGIES.get(name)
        if cls is not None:
            self.summary.setText(cls.summary)
        else:
            tip = self.strategy.itemData(self.strategy.currentIndex(), Qt.ItemDataRole.ToolTipRole)
            self.summary.setText(str(tip or ""))
        lesson = LESSON_TEXTS.get(name, "")
        self.lesson.setText(f"<b>Watch:</b> {lesson}" if lesson else "")
        self.lesson.setVisible(bool(lesson))
        self._update_race_window()
        self._revalidate()

    def _unsafe_selected(self) -> bool:
        cls = STRATEGIES.get(self.strategy.currentData())
        return cls is not None and not cls.safe

    def _update_race_window(self) -> None:
        """Only the unsafe strategy has races to widen: elsewhere say so in the box itself."""
        item = self._inputs["race_window"]
        box = cast(QDoubleSpinBox, item.widget)

        unsafe = self._unsafe_selected()
        box.setEnabled(unsafe and self.strategy.isEnabled())
        item.label.setEnabled(box.isEnabled())
        box.setSpecialValueText("off" if unsafe else "unsafe only")
        if not unsafe and box.value():
            self._race_window_ms = box.value()
            with QSignalBlocker(box):
                box.setValue(0)
        elif unsafe and not box.value() and self._race_window_ms:
            with QSignalBlocker(box):
                box.setValue(self._race_window_ms)

    def _collect(self) -> Workload:
        values = {name: item.get() for name, item in self._inputs.items()}
        if not self._unsafe_selected():
            values["race_window"] = 0.0  # meaningless here; never refuse a hidden value
        data = str(self.strategy.currentData())
        if data.startswith(QUEUE_PREFIX):  # a user's queue file (File > Open Queue...)
            return self._base.replace(queue=data[len(QUEUE_PREFIX) :], **values)
        return self._base.replace(strategy=data, queue=None, **values)

    def add_queue(self, text: str, label: str, note: str) -> None:
        """Offer the user's queue ``text`` (``PATH.py:ClassName``) in the strategy list, chosen.

        Strategies come first, then the user's queues (most recent first).
        """
        data = QUEUE_PREFIX + text
        index = self.strategy.findData(data)
        if index < 0:
            first = len(STRATEGIES)
            if self.strategy.count() == first:
                self.strategy.insertSeparator(first)
            self.strategy.insertItem(first + 1, f"{label} — your queue", data)
            index = first + 1
        tip = f"{text}: your own queue class, its locks traced.{(' ' + note) if note else ''}"
        self.strategy.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self.strategy.setCurrentIndex(index)

    def queues(self) -> list[str]:
        """The user's queues in the list, most recent first."""
        out = []
        for index in range(self.strategy.count()):
            data = self.strategy.itemData(index)
            if isinstance(data, str) and data.startswith(QUEUE_PREFIX):
                out.append(data[len(QUEUE_PREFIX) :])
        return out

    def _revalidate(self, *_args: object) -> None:
        workload = self._collect()
        try:
            workload.validate()
        except ValueError as exc:
            field, _, text = str(exc).partition(": ")
            if not text:
                field, text = "", str(exc)
            self._error = (field, text)
            self._workload = None
        else:
            self._error = None
            self._workload = workload
        if self._error is not None and self._error[0] in self._secondary:
            self.more.setChecked(True)  # a refused value must be in sight
        self._update_more()
        self._show_error()
        self.workload_changed.emit(self._workload)

    def _show_error(self) -> None:
        field, text = self._error if self._error else ("", "")
        for name, item in self._inputs.items():
            shown = bool(text) and name == field
            item.message.setText(text if shown else "")
            self._form.setRowVisible(item.message, shown)
        general = bool(text) and field not in self._inputs
        self.general_message.setText(f"{field}: {text}" if general and field else text)
        self._form.setRowVisible(self.general_message, general)

    def _speed_changed(self, index: int) -> None:
        pace = PACES[index]
        self.speed_label.setText(_pace_text(pace))
        self.pace_changed.emit(pace)

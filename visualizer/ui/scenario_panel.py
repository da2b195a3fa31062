"""The scenario panel: the story to read aloud, the fix switch, and what each variant measured.

A lecturer picks a scenario from the Scenarios menu and this panel says what to
watch, why it happens and what the fix changes, in the words of the scenario
file.  "Apply fix" reruns the same seed with the fix; the two result lines keep
what the last run of each variant showed (violations, or the scenario's measured
figure), so before and after can be compared without writing anything down.
The run buttons are views of the main window's own actions, as in the control
panel, so they can never disagree with the menu and the shortcuts.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.engine.scenarios import Scenario
from visualizer.ui.flow_layout import FlowLayout
from visualizer.ui.theme import view_font

SEED_MAX = 2**31 - 1


class ScenarioPanel(QScrollArea):
    """Title, story, fix switch, seed, run buttons and the results of both variants."""

    fix_toggled = Signal(bool)
    leave_requested = Signal()

    def __init__(self, actions: Sequence[QAction] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(6)

        self.heading = QLabel()
        self.heading.setFont(view_font(1.25, bold=True))
        self.heading.setWordWrap(True)
        column.addWidget(self.heading)
        self.story: dict[str, QLabel] = {}
        for key, caption in (("watch", "What to watch"), ("why", "Why"), ("fix", "The fix")):
            title = QLabel(caption)
            title.setFont(view_font(bold=True))
            text = QLabel()
            text.setFont(view_font())
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            column.addWidget(title)
            column.addWidget(text)
            self.story[key] = text

        # A check box's text cannot wrap: the fix's own words go in a label beside it.
        self.fix = QCheckBox("Apply fix:")
        self.fix.setFont(view_font(bold=True))
        self.fix.setToolTip("Run the same scenario, with the same seed, with the fix applied")
        self.fix.toggled.connect(self.fix_toggled)
        self.fix_label = QLabel()
        self.fix_label.setFont(view_font(bold=True))
        self.fix_label.setWordWrap(True)
        self.fix_label.setBuddy(self.fix)
        fix_row = QHBoxLayout()
        fix_row.addWidget(self.fix, 0, Qt.AlignmentFlag.AlignTop)
        fix_row.addWidget(self.fix_label, 1)
        column.addLayout(fix_row)

        seed_row = QHBoxLayout()
        seed_row.addWidget(QLabel("Seed"))
        self.seed = QSpinBox()
        self.seed.setRange(0, SEED_MAX)
        self.seed.setToolTip(
            "The same seed replays the same random choices (priorities, bad entry)"
        )
        seed_row.addWidget(self.seed)
        seed_row.addStretch(1)
        column.addLayout(seed_row)

        # The buttons wrap: in one row they are wider than the panel on a 1024-pixel
        # screen, and the panel's text would be cut at its right edge to match.
        button_box = QWidget()
        buttons = FlowLayout(button_box)
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        column.addWidget(button_box)

        results_title = QLabel("Last runs")
        results_title.setFont(view_font(bold=True))
        column.addWidget(results_title)
        self.results = {fixed: self._result_label() for fixed in (False, True)}
        column.addWidget(self.results[False])
        column.addWidget(self.results[True])

        leave = QPushButton("Back to free workloads")
        leave.setToolTip("Leave the scenario: Start runs the control panel's workload again")
        leave.clicked.connect(self.leave_requested)
        column.addWidget(leave, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        self.setWidget(body)

    def _result_label(self) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def show_scenario(self, scenario: Scenario, fixed: bool = False) -> None:
        self.heading.setText(scenario.title)
        self.story["watch"].setText(scenario.watch)
        self.story["why"].setText(scenario.why)
        self.story["fix"].setText(scenario.fix)
        self.fix.blockSignals(True)
        self.fix_label.setText(scenario.fix_label)
        self.fix.setChecked(fixed)
        self.fix.blockSignals(False)
        self.seed.setValue(min(scenario.seed, SEED_MAX))
        for variant in (False, True):
            self.show_result(variant, "not run yet")

    def show_result(self, fixed: bool, text: str) -> None:
        self.results[fixed].setText(f"{'With' if fixed else 'Without'} the fix: {text}")

    def fixed(self) -> bool:
        return self.fix.isChecked()

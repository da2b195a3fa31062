"""The control panel: every strategy offered and explained, nonsense refused at the control."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from visualizer.engine import Workload
from visualizer.queues import STRATEGIES
from visualizer.ui.controls import PACES, ControlPanel


@pytest.fixture
def panel(qtbot) -> ControlPanel:
    actions = []
    for name in ("start", "pause", "step", "stop", "reset"):
        action = QAction(name.title())
        action.setObjectName(name)
        actions.append(action)
    widget = ControlPanel(actions)
    widget.actions_kept = actions  # QAction has no parent here: keep it alive
    qtbot.addWidget(widget)
    return widget


def test_every_strategy_is_offered_with_its_summary(panel):
    combo = panel.strategy
    assert [combo.itemData(i) for i in range(combo.count())] == list(STRATEGIES)
    for i, cls in enumerate(STRATEGIES.values()):
        combo.setCurrentIndex(i)
        assert combo.currentText() == cls.title
        assert panel.summary.text() == cls.summary
        assert panel.workload().strategy == cls.name


def test_defaults_round_trip_through_the_inputs(panel):
    workload = Workload(
        strategy="unsafe",
        producers=3,
        workers=5,
        tasks=123,
        rate=7.5,
        priority_spread=4,
        work_time=0.025,
        cancel_probability=0.25,
        race_window=0.002,
        switch_interval=0.0005,
        seed=42,
        duration=9.0,
    )
    panel.set_workload(workload)
    assert panel.workload() == workload, "units convert both ways; unshown fields are kept"
    assert panel.input("work_time").value() == pytest.approx(25.0)  # shown in ms
    assert panel.input("cancel_probability").value() == pytest.approx(25.0)  # shown in %


def test_default_switch_interval_means_none(panel):
    panel.set_workload(Workload(switch_interval=0.001))
    panel.input("switch_interval").setValue(0)
    assert panel.workload().switch_interval is None
    assert panel.input("switch_interval").text() == "default"


def test_nonsense_is_refused_next_to_its_control(panel, qtbot):
    with qtbot.waitSignal(panel.workload_changed) as blocker:
        panel.input("workers").setValue(0)
    assert blocker.args == [None]
    assert panel.workload() is None
    assert panel.error() == ("workers", "must be between 1 and 64")
    assert panel.message("workers") == "must be between 1 and 64"
    assert panel.message("producers") == ""

    panel.input("workers").setValue(4)
    assert panel.workload() is not None
    assert panel.message("workers") == ""

    panel.input("priority_spread").setValue(5000)
    assert panel.message("priority_spread") == "must be between 1 and 1000"


def test_race_window_is_only_editable_for_the_unsafe_strategy(panel):
    race = panel.input("race_window")
    panel.strategy.setCurrentIndex(panel.strategy.findData("global-lock"))
    assert not race.isEnabled()
    assert race.text() == "unsafe only"
    panel.strategy.setCurrentIndex(panel.strategy.findData("unsafe"))
    assert race.isEnabled()
    race.setValue(2.0)
    assert panel.workload().race_window == pytest.approx(0.002)
    panel.strategy.setCurrentIndex(panel.strategy.findData("global-lock"))
    assert panel.workload().race_window == 0.0, "a safe strategy never gets a race window"
    assert race.text() == "unsafe only"
    panel.strategy.setCurrentIndex(panel.strategy.findData("unsafe"))
    assert panel.workload().race_window == pytest.approx(0.002), "the value comes back"


def test_settings_lock_while_running(panel):
    panel.set_settings_enabled(False)
    assert not panel.strategy.isEnabled()
    assert not panel.input("workers").isEnabled()
    assert panel.speed.isEnabled(), "speed can change during a run"
    panel.set_settings_enabled(True)
    assert panel.input("workers").isEnabled()


def test_speed_slider_goes_from_one_operation_per_second_to_full_speed(panel, qtbot):
    assert panel.pace() is None
    assert "full speed" in panel.speed_label.text()
    with qtbot.waitSignal(panel.pace_changed) as blocker:
        panel.speed.setValue(0)
    assert blocker.args == [PACES[0]] == [1]
    assert panel.speed_label.text() == "1 op/s"
    panel.set_pace(95)
    assert panel.pace() == 100


def test_every_control_explains_itself(panel):
    widgets = [panel.strategy, panel.summary, panel.speed, *panel.buttons.values()]
    widgets += [panel.input(name) for name in panel._inputs]
    for widget in widgets:
        tip = widget.toolTip() or (
            widget.defaultAction().toolTip()
            if hasattr(widget, "defaultAction") and widget.defaultAction()
            else ""
        )
        assert tip, f"{widget!r} has no tooltip"
    assert len(panel._inputs) >= 10, "every workload field has an input"
    labels = [label for label in panel.findChildren(QLabel) if label.buddy() is not None]
    assert {id(entry.label) for entry in panel._inputs.values()} <= {id(x) for x in labels}
    for label in labels:
        assert label.toolTip(), f"the label {label.text()!r} has no tooltip"


def test_each_strategy_opens_on_its_lesson_and_keeps_its_own_edits(panel):
    from visualizer.engine.lessons import LESSONS, lesson_workload

    def pick(name: str) -> None:
        panel.strategy.setCurrentIndex(panel.strategy.findData(name))

    pick("rwlock")
    assert panel.workload() == lesson_workload("rwlock", panel.workload())
    assert panel.workload().readers == LESSONS["rwlock"]["readers"] > 0
    assert "Watch:" in panel.lesson.text() and "readers" in panel.lesson.text()
    panel.input("readers").setValue(5)
    pick("condition")
    assert panel.workload().readers == 0 and panel.workload().rate == LESSONS["condition"]["rate"]
    pick("rwlock")
    assert panel.workload().readers == 5, "the edit is kept for that strategy"
    panel.lesson_button.click()
    assert panel.workload().readers == LESSONS["rwlock"]["readers"]
    assert set(panel.workloads()) >= {"rwlock", "condition"}


def test_the_strategy_box_fits_every_title_and_no_more(panel):
    combo = panel.strategy
    metrics = combo.fontMetrics()
    widest = max(metrics.horizontalAdvance(cls.title) for cls in STRATEGIES.values())
    width = combo.minimumSizeHint().width()
    assert width > widest  # every title whole in the closed box, with room for the arrow
    long_name = "AVeryLongQueueClassNameIndeed (homework_final_version_2.py)"
    panel.add_queue(f"/tmp/homework_final_version_2.py:{long_name}", long_name, "")
    assert combo.currentText().startswith(long_name)
    assert combo.minimumSizeHint().width() == width  # elided, not widening the panel

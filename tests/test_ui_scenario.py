"""Scenario mode in the window: the menu, the story, Apply fix, code markers and per-thread steps.

Every wait is ``qtbot.waitUntil`` on something the window shows or the run
reports; stepping waits for the stepped thread's next park in the model.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from visualizer.engine import RunState
from visualizer.engine.scenarios import load_all
from visualizer.ui.main_window import MainWindow
from visualizer.ui.scenario_menu import ScenarioController
from visualizer.ui.theme import thread_color


@pytest.fixture
def window(open_window) -> MainWindow:
    return open_window()


def controller(window: MainWindow) -> ScenarioController:
    return window.scenarios


def test_the_menu_lists_every_scenario_and_choosing_one_tells_its_story(window, qtbot):
    ctl = controller(window)
    scenarios, _ = load_all()
    texts = [action.text() for action in ctl.menu.actions()]
    for scenario in scenarios:
        assert any(text.endswith(scenario.title) for text in texts), scenario.title
    assert "Scenarios" in [a.text().replace("&", "") for a in window.menuBar().actions()]

    ctl.actions["lock-ordering"].trigger()
    scenario = ctl.scenario
    assert scenario is not None and scenario.name == "lock-ordering"
    panel = ctl.panel
    assert ctl.panel_dock.isVisible() and ctl.code_dock.isVisible()
    assert panel.heading.text() == scenario.title
    assert panel.story["watch"].text() == scenario.watch
    assert panel.story["why"].text() == scenario.why
    assert panel.story["fix"].text() == scenario.fix
    assert panel.fix_label.text() == scenario.fix_label and not panel.fixed()
    assert panel.seed.value() == scenario.seed
    assert ctl.code.view.toPlainText().startswith('"""Lock-ordering deadlock')

    ctl.free_action.trigger()
    assert ctl.scenario is None and not ctl.panel_dock.isVisible()


def test_deadlock_shows_then_apply_fix_reruns_the_same_seed_clean(window, qtbot):
    ctl = controller(window)
    ctl.select("lock-ordering")
    ctl.panel.seed.setValue(9)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    run = window.run
    assert run is not None and run.program is not None and run.workload.seed == 9
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    assert window.model.anomalies[0].kind == "deadlock"
    assert window.state_label.text() == "Running \u00b7 lock-ordering (not fixed)"
    qtbot.waitUntil(lambda: "deadlock 1" in ctl.panel.results[False].text(), timeout=5000)

    ctl.panel.fix.setChecked(True)  # stops the deadlocked run and starts the fixed one
    assert all(not t.alive for t in run.threads())
    fixed = window.run
    assert fixed is not run and fixed.label == "lock-ordering (fixed)" and fixed.workload.seed == 9
    qtbot.waitUntil(lambda: fixed.state is RunState.FINISHED, timeout=10_000)
    qtbot.waitUntil(
        lambda: ctl.panel.results[True].text() == "With the fix: no invariant broken",
        timeout=5000,
    )
    assert window.model.anomalies == [] and not window.banner.isVisible()


def parks(window: MainWindow, ident: int) -> int:
    positions = window.model.positions
    return sum(
        1 for i in range(positions.first_index, len(positions)) if positions[i].thread == ident
    )


def test_step_buttons_force_a_double_delivery_and_the_code_panel_follows(window, qtbot):
    ctl = controller(window)
    ctl.select("double-delivery")
    qtbot.keyClick(window, Qt.Key.Key_F10)  # no run yet: Step starts one, paused
    run = window.run
    assert run.state is RunState.PAUSED
    qtbot.waitUntil(lambda: len(run.gate.parked()) == 2, timeout=5000)
    qtbot.waitUntil(lambda: len(window.model.positions) == 2, timeout=5000)
    idents = {info.name: ident for ident, info in window.model.threads.items()}
    w1, w2 = idents["worker-1"], idents["worker-2"]

    # Both workers wait on the same line, each marked in its own colour.
    qtbot.waitUntil(lambda: len(ctl.code.view.markers) == 1, timeout=5000)
    ((line, marks),) = ctl.code.view.markers.items()
    source = ctl.code.view.toPlainText().splitlines()
    assert "self.ctx.race(" in source[line - 1]
    expected = {
        (thread_color(window.model.threads[i].color_index).name(), window.model.threads[i].name)
        for i in (w1, w2)
    }
    assert {(color.name(), name) for color, name in marks} == expected

    for ident in (w1, w1, w2, w2):
        before = parks(window, ident)
        qtbot.waitUntil(lambda ident=ident: ctl.steps.button(ident).isEnabled(), timeout=5000)
        qtbot.mouseClick(ctl.steps.button(ident), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda ident=ident, before=before: parks(window, ident) > before, timeout=5000
        )

    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    (violation,) = window.model.anomalies
    assert violation.kind == "double-delivery" and violation.threads == ("worker-1", "worker-2")
    assert run.state is RunState.PAUSED

    # Back through the history: two steps ago worker-2 still waited in the gap.
    qtbot.waitUntil(lambda: ctl.code.where.text().endswith("step 6 of 6"), timeout=5000)
    ctl.code.browse(-2)
    assert "step 4 of 6" in ctl.code.where.text() and ctl.code.live.isEnabled()
    lines = {name: line for line, marks in ctl.code.view.markers.items() for _c, name in marks}
    assert "self.ctx.race(" in source[lines["worker-2"] - 1]
    assert len(window.model.positions) == 6, "browsing moved no thread"
    ctl.code.go_live()
    assert "step 6 of 6" in ctl.code.where.text() and not ctl.code.live.isEnabled()


def test_free_workloads_show_the_strategy_source_with_markers(window, qtbot):
    ctl = controller(window)
    qtbot.keyClick(window, Qt.Key.Key_F10)
    run = window.run
    assert run.program is None and run.queue is not None
    assert ctl.code.source.endswith("global_lock.py")
    qtbot.waitUntil(lambda: len(window.model.positions.latest) == 6, timeout=5000)  # 2 + 4 threads
    qtbot.waitUntil(lambda: bool(ctl.code.view.markers), timeout=5000)
    assert ctl.code.where.text().startswith("global_lock.py")
    source = ctl.code.view.toPlainText().splitlines()
    assert all("with self._lock" in source[line - 1] for line in ctl.code.view.markers)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "nope"], "--scenario: unknown scenario 'nope'"),
        (["--fixed"], "--fixed: only with --scenario NAME"),
        (["--scenario", "lost-update", "--paused"], "--paused: only with --run"),
    ],
)
def test_window_scenario_arguments_are_checked_before_qt_starts(argv, message, capsys):
    from visualizer.ui.app import parse_args

    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert message in line


def test_window_scenario_arguments_parse():
    from visualizer.ui.app import parse_args

    args, _ = parse_args(["--scenario", "semaphore", "--fixed", "--run", "--paused"])
    assert (args.scenario, args.fixed, args.run, args.paused) == ("semaphore", True, True, True)

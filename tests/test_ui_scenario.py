"""Scenario mode in the window: the menu, the story, Apply fix, code markers and per-thread steps.

Every wait is ``qtbot.waitUntil`` on something the window shows or the run
reports; stepping waits for the stepped thread's next park in the model.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from visualizer.engine import RunState
from visualizer.engine.scenarios import load_all
from visualizer.engine.scheduler import Schedule
from visualizer.ui.controls import PACES
from visualizer.ui.main_window import MainWindow
from visualizer.ui.scenario_menu import ScenarioController
from visualizer.ui.theme import thread_color
from visualizer.ui.views import HeapView


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
    assert run is not None and run.spec.scenario is not None and run.workload.seed == 9
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    assert window.model.anomalies[0].kind == "deadlock"
    assert window.state_label.text() == "Running \u00b7 lock-ordering (not fixed)"
    qtbot.waitUntil(lambda: "deadlock 1" in ctl.panel.results[False].text(), timeout=20_000)

    ctl.panel.fix.setChecked(True)  # stops the deadlocked run and starts the fixed one
    qtbot.waitUntil(lambda: all(not t.alive for t in run.threads()), timeout=20_000)
    assert run.exit_report is None, "its run process stopped the deadlock and exited"
    fixed = window.run
    assert fixed is not run and fixed.label == "lock-ordering (fixed)" and fixed.workload.seed == 9
    qtbot.waitUntil(lambda: fixed.state is RunState.FINISHED, timeout=10_000)
    qtbot.waitUntil(
        lambda: ctl.panel.results[True].text() == "With the fix: no invariant broken",
        timeout=20_000,
    )
    assert window.model.anomalies == [] and not window.banner.isVisible()


def parks(window: MainWindow, ident: int) -> int:
    positions = window.model.positions
    return sum(
        1 for i in range(positions.first_index, len(positions)) if positions[i].thread == ident
    )


def ready_to_step(ctl: ScenarioController, ident: int) -> bool:
    try:
        return ctl.steps.button(ident).isEnabled()
    except KeyError:  # the buttons are rebuilt for a new run on the next frame
        return False


def marker_lines(ctl: ScenarioController) -> dict[str, int]:
    return {name: line for line, marks in ctl.code.view.markers.items() for _c, name in marks}


def test_step_buttons_force_a_double_delivery_undo_takes_it_back(window, qtbot):
    ctl = controller(window)
    ctl.select("double-delivery")
    qtbot.keyClick(window, Qt.Key.Key_F10)  # no run yet: Step starts one, paused and controlled
    run = window.run
    assert run.state is RunState.PAUSED and run.control is not None
    qtbot.waitUntil(lambda: len(run.gate.parked()) == 2, timeout=20_000)
    qtbot.waitUntil(lambda: len(ctl.code.view.markers) == 1, timeout=20_000)
    idents = {info.name: ident for ident, info in window.model.threads.items()}
    w1, w2 = idents["worker-1"], idents["worker-2"]

    # Before the race: both workers stand before their first line, each in its colour.
    ((line, marks),) = ctl.code.view.markers.items()
    source = ctl.code.view.toPlainText().splitlines()
    assert source[line - 1].strip() == "def worker(self) -> None:"
    expected = {
        (thread_color(window.model.threads[i].color_index).name(), window.model.threads[i].name)
        for i in (w1, w2)
    }
    assert {(color.name(), name) for color, name in marks} == expected

    def step_until(ident: int, name: str, text: str) -> None:
        for _ in range(60):
            line = marker_lines(ctl).get(name)
            if line is not None and text in source[line - 1]:
                return
            before = parks(window, ident)
            qtbot.waitUntil(lambda: ctl.steps.button(ident).isEnabled(), timeout=20_000)
            qtbot.mouseClick(ctl.steps.button(ident), Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda b=before: parks(window, ident) > b, timeout=20_000)
        raise AssertionError(f"{name} never reached {text!r}")

    step_until(w1, "worker-1", "heapq.heappop(self.heap)")  # worker-1 has looked at the top
    step_until(w2, "worker-2", "heapq.heappop(self.heap)")  # so has worker-2
    step_until(w2, "worker-2", "ctx.started(task_id)")  # worker-2 pops and delivers it
    assert window.model.anomalies == []
    for _ in range(30):  # worker-1 pops another task, and delivers the one it saw
        before = parks(window, w1)
        qtbot.waitUntil(lambda: ctl.steps.button(w1).isEnabled(), timeout=20_000)
        qtbot.mouseClick(ctl.steps.button(w1), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda b=before: parks(window, w1) > b, timeout=20_000)
        if window.model.anomalies:
            break
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=20_000)
    (violation,) = window.model.anomalies
    assert violation.kind == "double-delivery"
    steps = len(run.gate.history)
    assert ctl.stepping.where.text() == f"Step {steps}"
    # The real heap lost two entries (two pops), the events tell of one: the view says so.
    heap_view = next(view for view in window.views if isinstance(view, HeapView))
    qtbot.waitUntil(lambda: heap_view.truth is not None, timeout=20_000)
    assert len(heap_view.truth) == len(window.model.heap) - 1 == 10
    assert "differ" in heap_view.caption.toolTip()
    assert "lost or doubled" in heap_view.caption.toolTip()

    # Undo replays all but the last step in a fresh run: the delivery is not made yet.
    ctl.stepping.undo_action.trigger()
    again = window.run
    assert again is not run and again.state is RunState.PAUSED
    qtbot.waitUntil(lambda: len(again.gate.history) == steps - 1, timeout=20_000)
    # Every step leaves one park in the model, after the two first ones: all folded.
    qtbot.waitUntil(
        lambda: window.model is not None and len(window.model.positions) == 2 + steps - 1,
        timeout=20_000,
    )
    assert window.model.anomalies == [] and not window.banner.isVisible()
    qtbot.waitUntil(ctl.stepping.redo_action.isEnabled, timeout=20_000)
    ctl.stepping.redo_action.trigger()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=20_000)
    assert [v.kind for v in window.model.anomalies] == ["double-delivery"]
    assert ctl.stepping.schedule() is not None
    assert ctl.stepping.schedule().text().startswith("instruction/free: worker-1*")


def test_show_me_the_bug_plays_it_and_pauses_there_every_time(window, qtbot):
    ctl = controller(window)
    ctl.select("lost-update")
    # 30 steps a second: quick, yet slow enough that the run (about 200 steps) cannot end
    # before the window's pause reaches it, however loaded the machine (at 1000 it could).
    window.controls.speed.setValue(PACES.index(30))
    for _attempt in range(2):
        ctl.stepping.show_bug.click()
        run = window.run
        assert run.control is not None
        # About 170 steps at the slowest of the fast paces: generous for a loaded machine.
        qtbot.waitUntil(lambda run=run: run.state is RunState.PAUSED, timeout=60_000)
        kinds = {v.kind for v in window.model.anomalies}
        assert kinds & {"lost-update", "duplicate-id"}
        qtbot.waitUntil(
            lambda: "Paused at the bug" in window.statusBar().currentMessage(), timeout=10_000
        )
    ctl.stepping.pause_at_bug.setChecked(False)  # the option off: the bug plays to the end
    ctl.stepping.show_bug.click()
    through = window.run
    qtbot.waitUntil(lambda: through.state is RunState.FINISHED, timeout=20_000)
    assert {v.kind for v in window.model.anomalies} & {"lost-update", "duplicate-id"}
    ctl.stepping.show_good.click()
    good = window.run
    qtbot.waitUntil(lambda: good.state is RunState.FINISHED, timeout=20_000)
    assert window.model.anomalies == []


def test_show_me_the_bug_at_full_speed_hurries_past_the_plan_to_the_violation(window, qtbot):
    """At full speed the shown schedule plays at a readable pace; the 160 steps after it
    (clerk-1 finishing its loop before clerk-2's stale write) took 85 s at that pace."""
    ctl = controller(window)
    ctl.select("lost-update")
    assert window.controls.pace() is None  # the control panel at full speed
    ctl.stepping.show_bug.click()
    run = window.run
    plan = ctl.stepping.bug().steps
    qtbot.waitUntil(lambda: run.state is RunState.PAUSED, timeout=60_000)  # 25 s; was 85 s
    history = tuple(run.scheduler.history)
    assert history[: len(plan)] == plan and len(history) > len(plan) + 100
    assert {v.kind for v in window.model.anomalies} & {"lost-update", "duplicate-id"}
    # The message names the step the run process paused at, once it reports it.
    qtbot.waitUntil(
        lambda: "Paused at the bug" in window.statusBar().currentMessage(), timeout=10_000
    )
    assert f"Paused at the bug (step {len(run.scheduler.history)})" in (
        window.statusBar().currentMessage()
    )
    assert len(run.scheduler.history) == len(history)  # no step after the pause


def test_free_workloads_show_the_strategy_source_with_markers(window, qtbot):
    ctl = controller(window)
    qtbot.keyClick(window, Qt.Key.Key_F10)
    run = window.run
    assert run.spec.scenario is None and run.spec.workload.strategy == "global-lock"
    assert ctl.code.source.endswith("global_lock.py")
    qtbot.waitUntil(
        lambda: len(window.model.positions.latest) == 6, timeout=20_000
    )  # 2 + 4 threads
    qtbot.waitUntil(lambda: bool(ctl.code.view.markers), timeout=20_000)
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


def test_under_the_gil_the_increment_is_one_step(window, qtbot):
    """The model switch: with the GIL, `self.counter += 1` runs as one step, truthfully."""
    ctl = controller(window)
    ctl.select("lost-update")
    qtbot.keyClick(window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: len(window.run.gate.parked()) == 2, timeout=20_000)
    box = ctl.stepping.model_box
    box.setCurrentIndex(box.findData("gil"))
    box.activated.emit(box.currentIndex())
    run = window.run
    assert run.control is not None and run.control.model == "gil"
    qtbot.waitUntil(lambda: len(run.gate.parked()) == 2, timeout=20_000)
    qtbot.waitUntil(lambda: len(window.model.positions) == 2, timeout=20_000)
    clerk = next(i for i, info in window.model.threads.items() if info.name == "clerk-1")
    lines = set()
    for _ in range(12):  # clerk-1 through its first task: never stops inside line 45
        before = parks(window, clerk)
        qtbot.waitUntil(lambda: ready_to_step(ctl, clerk), timeout=20_000)
        qtbot.mouseClick(ctl.steps.button(clerk), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda b=before, c=clerk: parks(window, c) > b, timeout=20_000)
        lines.add(run.gate.runners[0].position.what)
    assert not any(what.startswith(("add", "write self.counter")) for what in lines), lines
    assert "as CPython with its GIL" in ctl.stepping.where.toolTip()


def test_a_saved_recording_keeps_the_steps_and_steps_on_from_there(window, qtbot, tmp_path):
    from visualizer.recording.reader import LogReader

    ctl = controller(window)
    ctl.select("lost-update")
    ctl.stepping.replay(Schedule.parse("instruction/free: clerk-2*9 clerk-1*8"))
    run = window.run
    qtbot.waitUntil(lambda: len(run.gate.history) == 17, timeout=20_000)
    qtbot.waitUntil(lambda: len(window.model.positions) == 2 + 17, timeout=20_000)
    path = tmp_path / "steps.jsonl"
    actions = window.file_actions
    actions.save_recording(str(path))
    qtbot.waitUntil(lambda: actions.task is None, timeout=20_000)
    recorded = LogReader().load(str(path))
    assert recorded.scenario["schedule"] == "instruction/free: clerk-2*9 clerk-1*8"

    actions.open_recording(str(path))
    qtbot.waitUntil(lambda: actions.task is None and actions.toolbar is not None, timeout=20_000)
    (step_on,) = [a for a in actions.toolbar.actions() if a.text() == "Step on from here"]
    step_on.trigger()
    again = window.run
    assert again is not None and again is not run and actions.replay_bar is None
    qtbot.waitUntil(lambda: len(again.gate.history) == 17, timeout=20_000)
    assert again.state is RunState.PAUSED and again.control.model == "free"
    assert [r.position.what for r in again.gate.runners] == [
        r.position.what for r in run.gate.runners
    ]


def test_a_broken_scenario_file_is_listed_as_broken_and_the_window_opens(
    open_window, tmp_path, monkeypatch
):
    """Item 6: a file with ``figure = []`` or deep nesting in the resources crashed the window."""
    from visualizer.engine.scenarios import loader

    for scenario in load_all()[0][:2]:
        (tmp_path / scenario.path.name).write_bytes(scenario.path.read_bytes())
    (tmp_path / "broken.toml").write_text("x = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    monkeypatch.setattr(loader, "scenario_dir", lambda: tmp_path)
    window = open_window()
    texts = [action.text() for action in window.scenarios.menu.actions()]
    assert any(text.startswith("\u26a0 broken.toml (broken)") for text in texts), texts
    assert len(window.scenarios.actions) == 2


def test_a_scenario_log_reopens_under_its_title_with_its_story(window, qtbot, tmp_path):
    """`run --scenario NAME --record F`, opened in the window: the scenario, not a strategy."""
    from visualizer.cli import main

    path = tmp_path / "forgotten.jsonl.gz"
    assert main(["run", "--scenario", "forgotten-release", "--record", str(path)]) == 1
    actions = window.file_actions
    actions.open_recording(str(path))
    qtbot.waitUntil(lambda: actions.task is None and actions.replay_bar is not None, timeout=10_000)
    ctl = controller(window)
    title = ctl.scenario_named("forgotten-release").title
    assert ctl.scenario is not None and ctl.scenario.name == "forgotten-release"
    assert ctl.panel.heading.text() == title and ctl.panel_dock.isVisible()
    assert "release() never runs" in ctl.panel.story["why"].text()
    assert not ctl.panel.fixed()
    assert actions.replay_bar.label.startswith(f"Replay \u00b7 {title} (not fixed)")
    assert window.state_label.text().startswith(f"Replay \u00b7 {title}")
    assert ctl.code.source is not None and ctl.code.source.endswith("forgotten_release.py")
    # Opening a strategy's log afterwards leaves the scenario: no story beside it.
    other = tmp_path / "plain.jsonl"
    assert main(["run", "--tasks", "20", "--rate", "0", "--record", str(other)]) == 0
    actions.open_recording(str(other))
    qtbot.waitUntil(
        lambda: actions.task is None and "global-lock" in actions.replay_bar.label, timeout=10_000
    )
    assert ctl.scenario is None and not ctl.panel_dock.isVisible()

"""Drive the real window: start, pause, step, stop, reset, close mid-run and mid-deadlock.

Every wait is on a condition (``qtbot.waitUntil``/``waitSignal``) with a generous
timeout; nothing sleeps for a fixed time.  Workloads are small and flat out so
the whole file runs in seconds on a 2-core CI machine.
"""

from __future__ import annotations

from time import perf_counter

import pytest
from PySide6.QtCore import Qt, QtMsgType
from PySide6.QtWidgets import QScrollArea

from visualizer.engine import RunState, Workload
from visualizer.events import GATE_WAIT, MARK, THREAD_BLOCKED, THREAD_CPU, THREAD_ENDED, Batch
from visualizer.ui.main_window import MainWindow

FAST = Workload(producers=2, workers=2, tasks=40, rate=0.0, work_time=0.0, priority_spread=5)
NOT_PROGRESS = (GATE_WAIT, THREAD_BLOCKED, THREAD_ENDED, MARK, THREAD_CPU)
"""Events that are not a traced point passing: parking at the gate, a lock wait that
outlasted its slice (recorded after 50 ms, so on a loaded machine any step may add one),
thread exit, marks, CPU samples (a thread's loop reports its CPU time now and then)."""


@pytest.fixture
def window(open_window) -> MainWindow:
    return open_window(FAST)


def qt_warnings(qtlog) -> list[str]:
    """Qt warnings and worse, minus the offscreen platform's note about size hints."""
    bad = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
    return [
        r.message for r in qtlog.records if r.type in bad and "propagateSizeHints" not in r.message
    ]


def all_applied(win: MainWindow) -> bool:
    """Every event is folded, and the run process's last status is as new as they are
    (its parked threads are where the events left them)."""
    run, model = win.run, win.model
    return (
        not run.recorder.pending()
        and run.recorder.status_current()
        and model.events_applied + model.dropped == run.recorder.next_seq
    )


def quiescent(win: MainWindow) -> bool:
    """Nothing can move without a step: every live run thread is parked at the gate or
    blocked on a lock (whose holder is parked), and the window has folded every event.

    The run's threads are known once its process has reported them: until then
    nothing is known to be parked, so nothing is quiescent yet."""
    run = win.run
    if run.state is not RunState.PAUSED:
        return run.state is RunState.FINISHED and all_applied(win)
    alive = {t.ident for t in run.threads() if t.alive}
    stuck = set(run.gate.parked()) | set(win.model.locks.waiting_on)
    return bool(alive) and alive <= stuck and all_applied(win)


def test_pick_a_strategy_start_and_watch_every_task_complete(window, qtbot):
    panel = window.controls
    panel.strategy.setCurrentIndex(panel.strategy.findData("rlock"))
    # Picked, a strategy shows its lesson workload (runs until stopped); every field is
    # editable: forty tasks, flat out, here.
    lesson = panel.workload()
    assert lesson.tasks == 0 and lesson.cancel_probability > 0 and "re-enter" in panel.lesson.text()
    for name in ("tasks", "producers", "workers", "priority_spread"):
        panel.input(name).setValue(getattr(FAST, name))
    for name, value in (("readers", 0), ("backlog", 0), ("cancel_probability", 0.0)):
        panel.input(name).setValue(value)
    panel.input("rate").setValue(0.0)
    panel.input("work_time").setValue(0.0)
    panel.input("switch_interval").setValue(0.0)
    qtbot.mouseClick(panel.buttons["start"], Qt.MouseButton.LeftButton)
    run = window.run
    assert run is not None and run.workload.strategy == "rlock"
    qtbot.waitUntil(lambda: window.run.state is RunState.FINISHED, timeout=10_000)
    qtbot.waitUntil(lambda: "completed <b>40</b>" in window.counts_label.text(), timeout=5000)
    assert window.model.tasks.counts() == {
        "added": 40,
        "queued": 0,
        "processing": 0,
        "completed": 40,
        "cancelled": 0,
    }
    qtbot.waitUntil(lambda: window.model.finished, timeout=5000)
    assert window.model.anomalies == [], "the end-of-run checks find nothing wrong either"
    assert not window.banner.isVisible()
    assert window.state_label.text().startswith("Finished")
    assert window.actions_by_name["start"].isEnabled()
    assert not window.actions_by_name["stop"].isEnabled()
    assert all(not t.alive for t in run.threads())


def held_by_text(window: MainWindow, lock: str) -> str:
    """What the Locks view shows in the "Held by" column of ``lock``."""
    view = next(v for v in window.views if v.title == "Locks")
    table = view.table.model()
    columns = [table.headerData(c, Qt.Orientation.Horizontal) for c in range(table.columnCount())]
    rows = [table.index(r, 0).data() for r in range(table.rowCount())]
    return table.index(rows.index(lock), columns.index("Held by")).data()


def test_the_views_show_what_the_model_holds(window, qtbot):
    """Paused mid-run: the heap view draws every queued task, the lanes show the model's
    counts, and the Locks view names the thread holding the queue's lock."""
    window.controls.set_workload(FAST.replace(producers=2, workers=1, tasks=60, work_time=0.005))
    window.start_run()
    run, model = window.run, window.model
    qtbot.waitUntil(lambda: model.tasks.counts()["queued"] >= 10, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: quiescent(window), timeout=5000)
    for _ in range(20):  # step until a thread is parked while holding the queue's lock
        if model.locks.locks["queue"].holders:
            break
        applied = model.events_applied
        qtbot.keyClick(window, Qt.Key.Key_F10)
        qtbot.waitUntil(
            lambda applied=applied: model.events_applied > applied and quiescent(window),
            timeout=5000,
        )
    holders = model.locks.locks["queue"].holders
    assert holders, "some step leaves a thread parked inside the lock"
    holder = model.threads[next(iter(holders))].name

    heap_view, lanes_view = window.views[0], window.views[1]
    queued = model.tasks.counts()["queued"]

    def shown() -> bool:
        tree = heap_view.tree
        return (
            tree.node_count() + tree.hidden_count() == len(model.heap) == queued
            and lanes_view.counts_shown()
            == {s: n for s, n in model.tasks.counts().items() if s != "added"}
            and holder in held_by_text(window, "queue")
        )

    qtbot.waitUntil(shown, timeout=3000)
    assert heap_view.tree.node_count() > 0
    window.stop_run()
    qtbot.waitUntil(lambda: run.state is RunState.STOPPED, timeout=5000)
    assert all(not t.alive for t in run.threads())


def test_step_lets_exactly_one_traced_point_pass(window, qtbot):
    window.controls.set_workload(FAST.replace(producers=1, workers=1, tasks=3))
    events: list[tuple] = []
    window.bridge.batch_ready.connect(lambda batch: events.extend(batch.events))

    qtbot.keyClick(window, Qt.Key.Key_F10)  # no run yet: Step starts one, paused
    run = window.run
    assert run is not None and run.state is RunState.PAUSED
    assert window.actions_by_name["pause"].text() == "&Resume"
    qtbot.waitUntil(lambda: quiescent(window), timeout=5000)

    for _ in range(12):
        stepped = next(iter(run.gate.parked()))
        mark = len(events)
        applied = window.model.events_applied
        qtbot.keyClick(window, Qt.Key.Key_F10)

        def moved(stepped=stepped, mark=mark) -> bool:
            return any(
                e[1] == stepped and e[2] not in NOT_PROGRESS for e in events[mark:]
            ) and quiescent(window)

        qtbot.waitUntil(moved, timeout=5000)
        next_name = run.recorder.thread_name(next(iter(run.gate.parked())))
        qtbot.waitUntil(lambda n=next_name: n in window.parked_label.text(), timeout=2000)
        passed = [e for e in events[mark:] if e[1] == stepped and e[2] not in NOT_PROGRESS]
        assert len(passed) == 1, f"one step, one traced point: {passed}"
        others = {e[1] for e in events[mark:] if e[2] not in NOT_PROGRESS} - {stepped}
        assert len(others) <= 1, "only a thread blocked on the released lock may move too"
        # Blocked slices, the step's own mark and CPU samples come on top of the step.
        aside = sum(1 for e in events[mark:] if e[2] in (THREAD_BLOCKED, MARK, THREAD_CPU))
        assert window.model.events_applied - applied - aside <= 4
    assert run.state is RunState.PAUSED

    qtbot.keyClick(window, Qt.Key.Key_Space)  # resume: the rest runs freely
    qtbot.waitUntil(lambda: run.state is RunState.FINISHED, timeout=10_000)
    qtbot.waitUntil(lambda: window.model.tasks.counts()["completed"] == 3, timeout=5000)


def test_pause_resume_stop_and_reset(window, qtbot):
    window.controls.set_workload(FAST.replace(tasks=0, rate=500.0, work_time=0.001))
    qtbot.keyClick(window, Qt.Key.Key_F5)
    run = window.run
    qtbot.waitUntil(lambda: window.model.tasks.counts()["completed"] > 5, timeout=5000)
    assert not window.controls.input("workers").isEnabled(), "settings lock during a run"

    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert run.state is RunState.PAUSED
    qtbot.waitUntil(lambda: quiescent(window), timeout=5000)
    frozen = window.model.tasks.counts()
    assert window.state_label.text().startswith("Paused")

    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert run.state is RunState.RUNNING
    qtbot.waitUntil(
        lambda: window.model.tasks.counts()["completed"] > frozen["completed"], timeout=5000
    )

    qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    # Stop asks the run process and returns at once (a quick child may have answered already).
    assert run.state in (RunState.STOPPING, RunState.STOPPED)
    qtbot.waitUntil(lambda: run.state is RunState.STOPPED, timeout=5000)
    assert run.exit_report is None, "it stopped by itself: nothing was killed"
    assert all(not t.alive for t in run.threads())
    qtbot.waitUntil(lambda: window.state_label.text().startswith("Stopped"), timeout=2000)
    assert window.state_label.text().startswith("Stopped")
    assert window.controls.input("workers").isEnabled()
    qtbot.waitUntil(lambda: window.model.finished, timeout=5000)
    counts = window.model.tasks.counts()
    assert counts["added"] == sum(
        counts[s] for s in ("queued", "processing", "completed", "cancelled")
    )

    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.run is None and window.model is None
    assert window.state_label.text() == "Ready"
    assert "completed <b>0</b>" in window.counts_label.text()
    assert not window.actions_by_name["reset"].isEnabled()


def test_invalid_settings_are_refused_and_start_is_disabled(window, qtbot):
    window.controls.input("producers").setValue(0)
    assert window.controls.message("producers") == "must be between 1 and 64"
    assert not window.actions_by_name["start"].isEnabled()
    assert not window.controls.buttons["start"].isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.run is None
    window.controls.input("producers").setValue(2)
    assert window.actions_by_name["start"].isEnabled()


def test_closing_mid_run_ends_every_thread_without_qt_warnings(qtbot, qtlog):
    win = MainWindow(FAST.replace(tasks=0, rate=200.0, work_time=0.002, workers=4))
    qtbot.addWidget(win)
    win.show()
    win.start_run()
    run = win.run
    qtbot.waitUntil(lambda: win.model is not None and win.model.events_applied > 500, timeout=5000)
    started = perf_counter()
    win.close()
    assert perf_counter() - started < 2.5
    assert all(not t.alive for t in run.threads())
    assert run.state is RunState.STOPPED
    assert qt_warnings(qtlog) == []


def test_closing_during_a_deadlock_ends_every_thread_within_2s(qtbot, qtlog, hostile):
    win = MainWindow(FAST.replace(strategy="test-deadlock", producers=1, workers=1))
    win.launcher.strategies = hostile
    qtbot.addWidget(win)
    win.show()
    win.start_run()
    run = win.run
    qtbot.waitUntil(lambda: win.model.locks.deadlock_cycle() is not None, timeout=5000)
    assert len(win.model.locks.waiting_on) == 2
    started = perf_counter()
    win.close()
    assert perf_counter() - started < 2.5
    assert all(not t.alive for t in run.threads())
    assert qt_warnings(qtlog) == []


def test_unsafe_race_shows_its_violation_in_the_banner(window, qtbot):
    window.controls.set_workload(
        FAST.replace(strategy="unsafe", producers=4, workers=4, tasks=400, race_window=0.001)
    )
    window.start_run()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=15_000)
    window.stop_run()
    model = window.model
    qtbot.waitUntil(lambda: model.finished, timeout=5000)
    anomalies = model.anomalies
    qtbot.waitUntil(
        lambda: f"{len(anomalies)} invariant violation" in window.banner.label.text(),
        timeout=2000,
    )
    assert anomalies[0].kind in window.banner.label.text()
    assert window.banner.detail.toolTip() == anomalies[0].detail
    first_task = next(v.task for v in anomalies if v.task is not None)
    window.views[-1].task_selected.emit(first_task)  # a click in the anomaly list...
    heap_view = window.views[0]
    assert heap_view.selected == first_task, "...selects the task in the other views"


def test_dropped_events_are_shown_in_the_status_bar(window, qtbot):
    window.controls.set_workload(FAST.replace(tasks=0, capacity=1000, workers=4))
    window.start_run()
    window.bridge.stop()  # the GUI "falls behind": the recorder overflows
    run = window.run
    batches: list[Batch] = []
    window.bridge.batch_ready.connect(batches.append)
    qtbot.waitUntil(lambda: run.recorder.pending() > 2000, timeout=5000)
    # Drained by hand: some of what is pending is still on its way from the run process.
    qtbot.waitUntil(
        lambda: window.bridge.drain() >= 0 and any(b.dropped for b in batches), timeout=5000
    )
    window.stop_run()
    qtbot.waitUntil(lambda: window.dropped_label.isVisible(), timeout=2000)
    # Item 9: a run with drops is unverified, not clean, and the status bar says so.
    assert "unverified" in window.dropped_label.text()
    assert "events dropped" in window.dropped_label.text()
    assert window.model.unverified().startswith("unverified:")


def test_thread_errors_and_unexpected_errors_reach_the_status_bar(window, qtbot):
    window.show_error("ValueError: boom", "Traceback ...")
    assert "ValueError: boom" in window.statusBar().currentMessage()
    assert "ValueError: boom" in window.notice_label.text(), "shown, not hidden by the counts"


def test_every_view_is_a_dock_and_all_are_visible_at_1280x800(window):
    assert window.windowTitle() == "Queue Visualizer"
    assert (window.width(), window.height()) == (1280, 800)
    for view in window.views:
        dock = window.docks[view.title]
        assert dock.windowTitle() == view.title
        assert dock.isVisible() and not dock.isFloating()
        assert dock.width() >= 250 and dock.height() >= 150, view.title
    assert window.controls_dock.isVisible()
    scroll = window.controls.findChild(QScrollArea)
    assert not scroll.verticalScrollBar().isVisible(), "the control panel fits without scrolling"


def test_slow_motion_holds_the_run_to_the_pace_and_full_speed_releases_it(window, qtbot):
    window.controls.set_workload(FAST.replace(tasks=20))
    window.controls.set_pace(10)
    window.start_run()
    run = window.run
    qtbot.waitUntil(lambda: window.model.events_applied >= 10, timeout=5000)
    assert run.state is RunState.RUNNING
    assert run.gate.closed, "a paced run passes traced points only as the pacer steps them"
    window.controls.set_pace(None)
    assert not run.gate.closed
    qtbot.waitUntil(lambda: run.state is RunState.FINISHED, timeout=10_000)


def test_docks_can_be_hidden_and_the_default_layout_restored(window, qtbot):
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    toggles = {a.text(): a for a in view_menu.actions() if a.isCheckable()}
    assert set(window.docks) <= set(toggles)
    toggles["Heap"].trigger()
    assert not window.docks["Heap"].isVisible()
    restore = next(a for a in view_menu.actions() if a.text().replace("&", "") == "Reset Layout")
    restore.trigger()
    qtbot.waitUntil(lambda: window.docks["Heap"].isVisible(), timeout=2000)
    assert all(dock.isVisible() for dock in window.docks.values())

"""The window with a user's queue: Open Queue, a broken file's message box, the search
dialog, and a counterexample opened paused at its start, stepped, played to the bug."""

from __future__ import annotations

import subprocess
import sys

import pytest
import user_queues as uq
from PySide6.QtWidgets import QMessageBox

from visualizer.engine import RunState
from visualizer.ui.find_dialog import FindDialog
from visualizer.ui.main_window import MainWindow
from visualizer.ui.stepping_bar import scheduler_of
from visualizer.ui.views.heap_view import HeapView


@pytest.fixture
def window(open_window) -> MainWindow:
    return open_window()


def test_open_queue_offers_it_and_start_runs_it(window, qtbot, tmp_path):
    queue = uq.write(tmp_path, "complete.py", uq.COMPLETE, "CompleteQueue")
    assert window.queue_files.open(queue)
    workload = window.controls.workload()
    assert workload is not None and workload.queue == queue
    assert "CompleteQueue (complete.py)" in window.controls.strategy.currentText()
    window.controls.input("tasks").setValue(50)
    assert window.start_run()
    qtbot.waitUntil(lambda: window.run.state is RunState.FINISHED, timeout=30_000)
    assert window.run.label == "CompleteQueue (complete.py)"
    assert window.scenarios.code.view.toPlainText().startswith("\nimport heapq")


@pytest.mark.parametrize("name", sorted(uq.BROKEN))
def test_a_broken_file_is_a_message_box_and_changes_nothing(window, monkeypatch, tmp_path, name):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    text, cls = uq.BROKEN[name]
    before = window.controls.strategy.count()
    assert not window.queue_files.open(uq.write(tmp_path, name, text, cls))
    assert len(shown) == 1 and name in shown[0] and "Traceback" not in shown[0]
    assert window.controls.strategy.count() == before
    assert not window.queue_files.open(str(tmp_path / "missing.py") + ":Q")
    assert len(shown) == 2 and "missing.py" in shown[1]


def test_a_saved_counterexample_opens_paused_at_its_start_and_steps(window, qtbot, tmp_path):
    queue = uq.write(tmp_path, "homework.py", uq.HOMEWORK, "HomeworkQueue")
    saved = tmp_path / "ce.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "visualizer", "explore", "--queue", queue, "--producers", "1",
         "--tasks", "2", "--budget", "3000", "--save", str(saved), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    window.file_actions.open_recording(str(saved))
    qtbot.waitUntil(lambda: scheduler_of(window.run) is not None, timeout=30_000)
    run = window.run
    scheduler = scheduler_of(run)
    assert run.state is RunState.PAUSED and scheduler.history == []
    assert scheduler.wait_idle(10)  # every thread stands before its first line
    planned = scheduler.plan[0]
    window.step_run()
    qtbot.waitUntil(lambda: len(scheduler.history) == 1, timeout=30_000)
    assert scheduler.history == [planned]  # Step took the counterexample's first step
    stepping = window.scenarios.stepping
    stepping.undo()
    # Undo starts a fresh run process: generous, a loaded machine is slow to start one.
    qtbot.waitUntil(lambda: scheduler_of(window.run) is not scheduler, timeout=30_000)
    assert scheduler_of(window.run).history == []
    window.controls.set_pace(30)  # Show me the bug plays at the slow-motion pace
    stepping.show()
    qtbot.waitUntil(
        lambda: window.model is not None and bool(window.model.anomalies), timeout=60_000
    )
    qtbot.waitUntil(lambda: window.run.state is RunState.PAUSED, timeout=10_000)  # at the bug


def test_find_a_breaking_interleaving_ends_in_the_paused_counterexample(window, qtbot, tmp_path):
    queue = uq.write(tmp_path, "homework.py", uq.HOMEWORK, "HomeworkQueue")
    assert window.queue_files.open(queue)
    dialog = FindDialog(window)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=120_000)
    assert window.scenarios.stepping.counterexample is not None
    assert window.run is not None and window.run.state is RunState.PAUSED


def _heap_view(window: MainWindow) -> HeapView:
    return next(view for view in window.views if isinstance(view, HeapView))


def _slow_run(window: MainWindow, queue: str) -> None:
    """One worker busy for seconds with its first task: the rest wait in the queue."""
    assert window.queue_files.open(queue)
    window.controls.input("tasks").setValue(12)
    window.controls.input("workers").setValue(1)
    window.controls.input("work_time").setValue(5000)  # ms
    window.controls.input("rate").setValue(0)  # as fast as they can
    assert window.start_run()


def test_the_heap_view_draws_the_queues_own_heapq_list_live(window, qtbot, tmp_path):
    _slow_run(window, uq.write(tmp_path, "one_lock.py", uq.ONE_LOCK, "LockedQueue"))
    view = _heap_view(window)

    def all_queued() -> bool:  # the list is read apart from the events: both must arrive
        status = window.model.tasks.status
        return all(status.get(task) == "queued" for _priority, task in view.tree.entries)

    qtbot.waitUntil(lambda: len(view.tree.entries) == 11 and all_queued(), timeout=30_000)
    assert "own heapq list self._heap: 11 entries" in view.caption.text()
    # Its real contents: the tasks still queued, highest priority (the list's -key) on top.
    assert len({task for _priority, task in view.tree.entries}) == 11
    assert view.tree.entries[0][0] == max(priority for priority, _task in view.tree.entries)
    window.stop_run()


def test_a_priority_queue_is_drawn_from_the_heapq_list_inside_it(window, qtbot, tmp_path):
    _slow_run(window, uq.write(tmp_path, "stdlib.py", uq.PRIORITY_QUEUE, "StdlibQueue"))
    view = _heap_view(window)
    qtbot.waitUntil(lambda: len(view.tree.entries) == 11, timeout=30_000)
    assert "own heapq list self._pq.queue: 11 entries" in view.caption.text()
    window.stop_run()


def test_a_queue_without_a_heapq_list_says_what_the_heap_view_shows(window, qtbot, tmp_path):
    _slow_run(window, uq.write(tmp_path, "sorted.py", uq.SORTED_LIST, "SortedQueue"))
    view = _heap_view(window)
    qtbot.waitUntil(lambda: len(view.tree.entries) == 11, timeout=30_000)
    assert "No heapq list in your queue: the heap its calls imply" in view.caption.text()
    window.stop_run()

"""The five views against a real RunModel fed by real strategy events.

Strategies are driven on the test thread through a tracing ``Tracer`` and the
recorder's batches folded into the model, exactly as the window does; where a
lock must be *held* while the view looks, a helper thread holds it until an
Event says let go.  Nothing sleeps: waits are on conditions, threads are joined.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPalette

from visualizer.engine import Run, Workload
from visualizer.events import (
    CANCELLED,
    COMPLETED,
    LOCK_ACQUIRED,
    LOCK_CREATED,
    LOCK_REQUESTED,
    MARK,
    PROCESSING,
    QUEUED,
    STATUSES,
    TASK_ADDED,
    TASK_POPPED,
    THREAD_STARTED,
    Batch,
    Recorder,
)
from visualizer.model import RunModel
from visualizer.queues import GlobalLockQueue, RLockQueue, Tracer
from visualizer.ui.theme import ALERT_COLOR, STATUS_COLORS, is_dark, text_on, thread_color
from visualizer.ui.views import (
    ALL_VIEWS,
    AnomaliesView,
    HeapView,
    LanesView,
    LocksView,
    ThroughputView,
)
from visualizer.ui.views.anomalies_view import EMPTY_TEXT
from visualizer.ui.views.chips import CHIPS_ROLE
from visualizer.ui.views.heap_view import MAX_LEVELS
from visualizer.ui.views.locks_view import HELD, LOCK, TYPE, WAITING
from visualizer.ui.views.timeline_widget import TimelineWidget
from visualizer.ui.views.waitfor_graph import GraphState, WaitForGraph


class Traced:
    """A strategy on a tracing tracer, plus the model its events are folded into."""

    def __init__(self, strategy=GlobalLockQueue) -> None:
        self.recorder = Recorder()
        self.queue = strategy(Tracer(self.recorder))
        self.model = RunModel(thread_name=self.recorder.thread_name)

    def fold(self) -> RunModel:
        self.model.apply(self.recorder.drain())
        return self.model


@pytest.fixture
def traced() -> Traced:
    return Traced()


def show(qtbot, view, model: RunModel | None, size=(700, 480)):
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.set_model(model)
    view.refresh()
    return view


def fill(queue, count: int, spread: int = 7) -> None:
    for task in range(1, count + 1):
        queue.add_task(task, (task * 5) % spread)


# --- the protocol ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL_VIEWS)
def test_every_view_follows_the_protocol_empty_and_with_a_model(qtbot, cls, traced):
    view = show(qtbot, cls(), None)
    assert isinstance(cls.title, str) and cls.title
    view.refresh()
    view.select_task(None)
    fill(traced.queue, 5)
    traced.queue.get_next_task()
    view.set_model(traced.fold())
    view.refresh()
    with qtbot.assertNotEmitted(view.task_selected):
        view.select_task(1)
    view.set_model(None)
    view.refresh()


def test_all_views_are_listed_in_dock_order():
    assert [HeapView, LanesView, LocksView, ThroughputView, AnomaliesView] == ALL_VIEWS
    assert len({cls.title for cls in ALL_VIEWS}) == len(ALL_VIEWS)


# --- theme ----------------------------------------------------------------------------------
def test_status_colours_are_distinct_and_carry_readable_text(qapp):
    colors = [STATUS_COLORS[s] for s in STATUSES]
    assert len({c.name() for c in colors}) == len(STATUSES)
    for color in colors:
        assert text_on(color) == QColor(Qt.GlobalColor.black)
    assert thread_color(3) == thread_color(3)
    assert len({thread_color(i).name() for i in range(24)}) == 24


def test_dark_palette_is_detected(qtbot):
    view = HeapView()
    qtbot.addWidget(view)
    palette = QPalette(view.palette())
    palette.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    view.setPalette(palette)
    assert is_dark(view)
    palette.setColor(QPalette.ColorRole.Window, QColor("#f5f5f5"))
    view.setPalette(palette)
    assert not is_dark(view)


def test_plots_follow_a_palette_change(qtbot):
    view = ThroughputView()
    qtbot.addWidget(view)
    palette = QPalette(view.palette())
    palette.setColor(QPalette.ColorRole.Base, QColor("#101010"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
    view.setPalette(palette)
    assert view.layout_widget.backgroundBrush().color() == QColor("#101010")
    assert view.plots["rates"].getAxis("left").textPen().color() == QColor("#eeeeee")


# --- heap --------------------------------------------------------------------------------------
def test_heap_draws_every_entry_of_a_small_queue_and_the_last_path(qtbot, traced):
    fill(traced.queue, 6)
    traced.queue.get_next_task()
    assert traced.queue.cancel_task(3)  # priority 1: deep in the heap, not popped
    model = traced.fold()
    view = show(qtbot, HeapView(), model)
    in_queue = traced.queue.snapshot().heap  # cancelled entries stay until they reach the top
    assert view.tree.node_count() == len(in_queue) == len(model.heap) == 5
    assert view.tree.hidden_count() == 0
    assert [task for _p, task in view.tree.entries[:5]] == [e.task_id for e in in_queue]
    assert view.tree.path == frozenset(model.heap.last_path)
    assert model.heap.last_op == "pop"
    slot = next(i for i, e in enumerate(in_queue) if e.task_id == 3)
    assert view.tree.statuses[slot] == CANCELLED
    assert "Last pop" in view.caption.text()
    traced.queue.add_task(99, 100)  # the new top priority sifts all the way up
    view.set_model(traced.fold())
    view.refresh()
    assert view.tree.path == frozenset(model.heap.last_path)
    assert model.heap.last_path[-1] == 0
    assert view.tree.entries[0] == (100, 99)


def test_a_long_sift_path_loses_slots_from_its_middle_not_where_it_ended(qtbot, traced):
    fill(traced.queue, 3000)
    traced.queue.add_task(99_999, 100)  # the new top priority sifts up through 12 slots
    model = traced.fold()
    path = model.heap.last_path
    assert len(path) >= 10 and path[-1] == 0
    view = show(qtbot, HeapView(), model, size=(520, 480))  # the dock at 1280x800
    whole = [line for line in view.caption.toolTip().splitlines() if "Last push" in line][0]
    assert whole.endswith(" \u2192 ".join(str(slot) for slot in path))  # whole in the tip
    shown = [line for line in view.caption.text().splitlines() if "Last push" in line][0]
    assert shown != whole and shown.endswith(" \u2192 \u2026 \u2192 0")
    assert shown.startswith(f"Last push: #99999, sifted up through slots {path[0]} \u2192 ")
    assert view.caption.fontMetrics().horizontalAdvance(shown) <= view.caption.width()
    view.resize(360, 480)  # narrower: the line says only where the task came to rest
    shown = [line for line in view.caption.text().splitlines() if "Last push" in line][0]
    assert shown == "Last push: #99999, sifted up to slot 0"
    traced.queue.add_task(100_000, 0)  # the lowest priority: it stays in the last slot
    view.set_model(traced.fold())
    view.refresh()
    assert len(model.heap.last_path) <= 2  # too short to lose slots, still too long
    shown = [line for line in view.caption.text().splitlines() if "Last push" in line][0]
    assert shown == f"Last push: #100000, sifted up to slot {model.heap.last_path[-1]}"


def test_heap_collapses_deep_levels_into_a_count(qtbot, traced):
    fill(traced.queue, 2_000, spread=50)
    view = show(qtbot, HeapView(), traced.fold(), size=(900, 600))
    levels = view.tree.levels
    assert 3 <= levels <= MAX_LEVELS
    assert view.tree.node_count() == 2**levels - 1
    assert view.tree.node_count() + view.tree.hidden_count() == len(traced.queue) == 2_000
    assert 0 < view.strip.shown_count() < 2_000


def test_clicking_a_heap_node_selects_its_task(qtbot, traced):
    fill(traced.queue, 3)
    view = show(qtbot, HeapView(), traced.fold())
    rect = view.tree._rects[0]
    with qtbot.waitSignal(view.task_selected) as signal:
        qtbot.mouseClick(view.tree, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert signal.args == [view.tree.entries[0][1]]


# --- lanes -----------------------------------------------------------------------------------
def test_lanes_show_the_models_counts_and_chips(qtbot, traced):
    queue = traced.queue
    fill(queue, 30)
    for _ in range(8):
        task = queue.get_next_task()
    queue.complete_task(task.task_id)
    queue.cancel_task(30)
    model = traced.fold()
    view = show(qtbot, LanesView(), model, size=(900, 500))
    counts = model.tasks.counts()
    assert view.counts_shown() == {s: counts[s] for s in STATUSES}
    assert counts[PROCESSING] == 7 and counts[COMPLETED] == 1 and counts[CANCELLED] == 1
    lanes = view.lanes
    assert lanes.tasks[COMPLETED] == [task.task_id]
    assert lanes.tasks[CANCELLED] == [30]
    assert set(lanes.tasks[PROCESSING]) == {
        t for t, s in model.tasks.status.items() if s == PROCESSING
    }
    queued_priorities = [model.tasks.priority[t] for t in lanes.tasks[QUEUED]]
    assert queued_priorities == sorted(queued_priorities, reverse=True)
    for status in STATUSES:
        assert 0 < lanes.shown_chips(status) <= counts[status]


def test_timeline_shows_work_of_each_worker_from_a_real_run(qtbot):
    run = Run(Workload(producers=1, workers=2, tasks=30, rate=0.0, work_time=0.002))
    model = RunModel(thread_name=run.recorder.thread_name)
    run.start()
    try:
        assert run.wait(timeout=10)
    finally:
        run.stop()
    model.apply(run.recorder.drain())
    view = show(qtbot, LanesView(), model, size=(900, 500))
    workers = [i for i, info in model.threads.items() if info.role == "worker"]
    assert len(workers) == 2
    rows = view.timeline.rows()
    assert set(workers) <= set(rows)
    labels = {label for ident in workers for _s, _e, label in view.timeline.runs(ident, "work")}
    assert labels  # at least one bar per run, labelled or merged
    assert view.counts_shown()[COMPLETED] == 30


def test_timeline_folded_frame_by_frame_matches_folded_at_once(qtbot):
    """The timeline folds only new segments each frame; the result must not depend on it."""
    run = Run(Workload(producers=2, workers=2, tasks=200, rate=0.0, work_time=0.0))
    run.start()
    try:
        assert run.wait(timeout=10)
    finally:
        run.stop()
    events = run.recorder.drain().events
    whole = RunModel(thread_name=run.recorder.thread_name)
    whole.apply(Batch(0, events, 0))
    at_once = show(qtbot, LanesView(), whole)
    stepped_model = RunModel(thread_name=run.recorder.thread_name)
    stepped = show(qtbot, LanesView(), stepped_model)
    step = max(1, len(events) // 50)
    for first in range(0, len(events), step):
        stepped_model.apply(Batch(first, events[first : first + step], 0))
        stepped.refresh()
    assert stepped.timeline.rows() == at_once.timeline.rows()
    for ident in at_once.timeline.rows():
        for kind in ("work", "wait"):
            assert stepped.timeline.runs(ident, kind) == at_once.timeline.runs(ident, kind)


def test_clicking_a_lane_chip_selects_its_task_and_selection_outlines_it(qtbot, traced):
    fill(traced.queue, 5)
    view = show(qtbot, LanesView(), traced.fold(), size=(900, 500))
    rect, task = view.lanes._hits[0]
    assert task == view.lanes.tasks[QUEUED][0]
    with qtbot.waitSignal(view.task_selected) as signal:
        qtbot.mouseClick(view.lanes, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert signal.args == [task]
    view.select_task(task)
    assert view.lanes.selected == task
    assert view.timeline.selected == str(task)


# --- locks -------------------------------------------------------------------------------------
def _cell(view: LocksView, lock: str, column: int) -> str:
    table = view.table_model
    row = table.lock_names().index(lock)
    return table.data(table.index(row, column))


def test_locks_view_names_the_holder_and_the_waiters_in_order(qtbot, traced):
    recorder = traced.recorder
    lock = traced.queue._lock
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        recorder.register_thread("worker")
        with lock:
            held.set()
            release.wait(10)

    def waiter() -> None:
        recorder.register_thread("worker")
        with lock:
            pass

    threads = [threading.Thread(target=holder, name="worker-1")]
    threads[0].start()
    try:
        assert held.wait(10)
        view = show(qtbot, LocksView(), traced.fold())
        assert "worker-1" in _cell(view, "queue", HELD)
        assert _cell(view, "queue", TYPE) == "Lock"
        for name in ("worker-2", "worker-3"):
            thread = threading.Thread(target=waiter, name=name)
            threads.append(thread)
            thread.start()
            qtbot.waitUntil(
                lambda name=name: (
                    traced.fold(),
                    view.refresh(),
                    name in _cell(view, "queue", WAITING),
                )[-1],
                timeout=5000,
            )
        assert _cell(view, "queue", WAITING) == "worker-2, worker-3"
        chips = view.table_model.data(view.table_model.index(0, HELD), CHIPS_ROLE)
        assert chips == [("worker-1", thread_color(model_color(traced.model, "worker-1")))]
        state = view.graph.state
        assert ("queue", _ident(traced.model, "worker-1")) in state.holds
        assert (_ident(traced.model, "worker-2"), "queue") in state.waits
        assert not view.graph.cycle_drawn()
        lanes = show(qtbot, LanesView(), traced.model)
        waiting = lanes.timeline.runs(_ident(traced.model, "worker-2"), "wait")
        assert waiting and waiting[-1][1] is None and waiting[-1][2] == "queue"  # open wait
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    traced.fold()
    view.refresh()
    assert _cell(view, "queue", HELD) == "\u2013"
    assert _cell(view, "queue", WAITING) == "\u2013"
    assert int(_cell(view, "queue", 4).replace(",", "")) >= 3


def test_rlock_depth_is_shown(qtbot):
    traced = Traced(RLockQueue)
    lock = traced.queue._lock
    with lock, lock:
        view = show(qtbot, LocksView(), traced.fold())
        assert "\u00d72" in _cell(view, "queue", HELD)
        assert _cell(view, "queue", LOCK) == "queue"
        assert _cell(view, "queue", TYPE) == "RLock, re-entered 1\u00d7"


def test_read_write_lock_lists_every_reader_and_a_waiting_writer(qtbot):
    recorder = Recorder()
    rw = Tracer(recorder).rwlock("table")
    model = RunModel(thread_name=recorder.thread_name)
    readers_in = threading.Barrier(3)
    release = threading.Event()

    def reader() -> None:
        recorder.register_thread("worker")
        with rw.read_locked():
            readers_in.wait(10)
            release.wait(10)

    def writer() -> None:
        recorder.register_thread("producer")
        with rw.write_locked():
            pass

    threads = [threading.Thread(target=reader, name=f"worker-{i}") for i in (1, 2)]
    for thread in threads:
        thread.start()
    try:
        readers_in.wait(10)
        threads.append(threading.Thread(target=writer, name="producer-1"))
        threads[-1].start()
        view = show(qtbot, LocksView(), None)
        view.set_model(model)

        def writer_waits() -> bool:
            model.apply(recorder.drain())
            view.refresh()
            return "producer-1" in _cell(view, "table", WAITING)

        qtbot.waitUntil(writer_waits, timeout=5000)
        assert _cell(view, "table", TYPE) == "RWLock, read, up to 2 readers at once"
        assert _cell(view, "table", HELD) == "worker-1, worker-2"
        assert _cell(view, "table", WAITING) == "w: producer-1"
    finally:
        release.set()
        for thread in threads:
            thread.join(10)


def model_color(model: RunModel, name: str) -> int:
    return next(info.color_index for info in model.threads.values() if info.name == name)


def _ident(model: RunModel, name: str) -> int:
    return next(ident for ident, info in model.threads.items() if info.name == name)


def deadlock_batch() -> Batch:
    """Two threads, two locks, each holding one and asking for the other."""
    a, b, main = 101, 102, 100
    events = [
        (1, a, THREAD_STARTED, "worker-1", "worker", None),
        (2, b, THREAD_STARTED, "worker-2", "worker", None),
        (3, main, LOCK_CREATED, "left", "Lock", None),
        (4, main, LOCK_CREATED, "right", "Lock", None),
        (5, main, LOCK_CREATED, "spare", "Lock", None),
        (6, a, LOCK_ACQUIRED, "left", "x", 1),
        (7, b, LOCK_ACQUIRED, "right", "x", 1),
        (8, main, LOCK_ACQUIRED, "spare", "x", 1),
        (9, a, LOCK_REQUESTED, "right", "x", b),
        (10, b, LOCK_REQUESTED, "left", "x", a),
    ]
    return Batch(0, events, 0)


def test_wait_for_graph_draws_a_deadlock_cycle_in_red(qtbot):
    model = RunModel()
    model.apply(deadlock_batch())
    assert model.locks.deadlock_cycle() is not None
    view = show(qtbot, LocksView(), model)
    graph = view.graph
    assert graph.cycle_drawn()
    for edge in ((101, "right"), ("right", 102), (102, "left"), ("left", 101)):
        assert graph.edge_color(*edge) == ALERT_COLOR, edge
    assert graph.edge_color("spare", 100) != ALERT_COLOR
    assert "DEADLOCK" in graph.state.cycle_text
    image = graph.grab().toImage()
    red = ALERT_COLOR.rgb()
    reds = sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixel(x, y) == red
    )
    assert reds > 100


def test_a_short_wait_for_graph_keeps_every_node_inside_it(qtbot):
    """The Locks dock squeezed at 1280x800 (priority-queue): about 75 px for the graph.
    The lock row stays along its bottom, the thread circles shrink above it."""
    graph = WaitForGraph()
    qtbot.addWidget(graph)
    threads = tuple((ident, f"worker-{ident}", QColor("orange")) for ident in range(1, 7))
    graph.set_state(GraphState(threads=threads, locks=("table", "PriorityQueue.mutex")))
    graph.resize(400, 75)
    circles, boxes = graph._positions()
    assert all(box.bottom() <= graph.height() for box in boxes.values())
    lowest_circle = max(circle.bottom() for circle in circles.values())
    assert lowest_circle + 12 <= min(box.top() for box in boxes.values())
    graph.resize(400, 300)  # tall: circles of the usual size, locks at the bottom
    circles, boxes = graph._positions()
    assert min(circle.height() for circle in circles.values()) > 20
    assert all(graph.height() - 40 < box.bottom() <= graph.height() for box in boxes.values())


def test_wait_for_graph_gives_a_long_lock_name_the_room_a_short_one_leaves(qtbot):
    """priority-queue's two locks side by side: ``PriorityQueue.mutex`` is shown whole
    where equal slots would have cut it; cut in the middle only where nothing fits."""
    graph = WaitForGraph()
    qtbot.addWidget(graph)
    graph.set_state(GraphState(locks=("table", "PriorityQueue.mutex")))
    name_width = QFontMetrics(graph.node_font).horizontalAdvance("PriorityQueue.mutex")
    graph.resize(int(name_width * 1.7), 160)
    assert name_width + 20 > graph.width() / 2 - 10  # an equal slot would not hold it
    _threads, locks = graph._positions()
    boxes = [locks["table"], locks["PriorityQueue.mutex"]]
    assert boxes[0].right() < boxes[1].left() and boxes[0].left() >= 0
    assert boxes[1].right() <= graph.width()
    for name, box in zip(("table", "PriorityQueue.mutex"), boxes, strict=True):
        assert graph.lock_label(name, int(box.width()) - 8)[1] == name
    graph.resize(int(name_width * 0.8), 160)
    _threads, locks = graph._positions()
    narrow = locks["PriorityQueue.mutex"]
    assert narrow.right() <= graph.width() and locks["table"].right() < narrow.left()
    cut = graph.lock_label("PriorityQueue.mutex", int(narrow.width()) - 8)[1]
    assert "\u2026" in cut and cut.startswith("Pri") and cut.endswith("x")


# --- throughput ------------------------------------------------------------------------------
def test_throughput_plots_get_data_and_labelled_axes(qtbot, traced):
    fill(traced.queue, 40)
    for _ in range(10):
        task = traced.queue.get_next_task()
        traced.queue.complete_task(task.task_id)
    model = traced.fold()
    model.finish(drained=False)  # closes the open 100 ms bucket
    view = show(qtbot, ThroughputView(), model)
    series = model.metrics.series()
    for name in ("added_per_s", "completed_per_s", "queue_depth", "lock_wait_ms"):
        x, y = view.curve_data(name)
        assert len(x) == len(series[name][0]) >= 1
        assert list(y) == list(series[name][1])
    assert view.curve_data("added_per_s")[1].sum() == pytest.approx(400.0)
    assert view.curve_data("queue_depth")[1][-1] == 30
    assert view.axis_label("rates", "left") == "tasks/s"
    assert view.axis_label("depth", "left") == "tasks"
    assert view.axis_label("wait", "left") == "ms"
    assert view.axis_label("wait", "bottom") == "time (s)"
    first = view.plots["rates"].viewRange()[0]
    assert first[0] <= series["added_per_s"][0][-1] <= first[1]
    view.select_task(task.task_id)
    assert sum(line.isVisible() for line in view.markers["rates"]) == 3  # added, popped, done


# --- anomalies -------------------------------------------------------------------------------
@pytest.fixture
def lost_task_model(traced) -> Iterator[RunModel]:
    traced.queue.add_task(7, 3)
    model = traced.fold()
    model.finish()  # drained run, but task 7 was never delivered: a lost task
    yield model


def test_anomalies_view_is_calm_when_empty(qtbot, traced):
    fill(traced.queue, 2)
    view = show(qtbot, AnomaliesView(), traced.fold())
    assert view.stack.currentWidget() is view.empty
    assert view.empty.text() == EMPTY_TEXT


def test_anomalies_view_lists_a_violation_and_a_click_selects_its_task(qtbot, lost_task_model):
    view = show(qtbot, AnomaliesView(), lost_task_model)
    assert view.stack.currentWidget() is view.table
    table = view.table_model
    assert table.rowCount() == len(lost_task_model.anomalies) == 1
    assert table.data(table.index(0, 1)) == "lost-task"
    assert table.data(table.index(0, 3)) == "7"
    rect = view.table.visualRect(table.index(0, 1))
    with qtbot.waitSignal(view.task_selected) as signal:
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == [7]
    assert "7" in view.detail.text()


def test_new_violations_are_inserted_not_reset(qtbot):
    model = RunModel()
    view = show(qtbot, AnomaliesView(), model)
    model.apply(deadlock_batch())
    inserted = []
    view.table_model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    view.table_model.modelReset.connect(lambda: inserted.append("reset"))
    view.refresh()
    assert inserted == [(0, 0)]
    assert view.table_model.data(view.table_model.index(0, 1)) == "deadlock"
    view.select_task(12345)
    assert not view.table.selectionModel().hasSelection()
    assert view.table_model.rowCount(view.table_model.index(0, 0)) == 0
    assert view.table_model.rowCount(QModelIndex()) == 1


def test_heap_says_when_queued_tasks_are_in_no_slot(qtbot):
    """The unsafe queue loses entries: "empty" alone would contradict the lanes."""
    model = RunModel()
    events = [(i, 7, TASK_ADDED, task, 9 - task, task) for i, task in enumerate((1, 2, 3))]
    # Task 2's pop arrives while 1 is still on top: the replica pops 1 first (its event
    # would follow), but none does: task 1 stays queued and is in no slot.
    events += [(10, 8, TASK_POPPED, 2, 7, None), (11, 8, TASK_POPPED, 3, 6, None)]
    model.apply(Batch(0, events, 0))
    view = HeapView()
    qtbot.addWidget(view)
    view.set_model(model)
    assert len(model.heap) == 0 and model.tasks.by_status["queued"] == 1
    assert "yet 1 task is queued: lost from the heap" in view.tree.empty_text
    assert "1 queued task is in no slot" in view.caption.toolTip()


def test_timeline_does_not_promise_a_start_after_the_run_ended(qtbot):
    view = TimelineWidget()
    qtbot.addWidget(view)
    assert view._empty_text() == "Thread timelines appear when the run starts"
    model = RunModel()
    model.apply(Batch(0, [(1, 3, MARK, "run started", None, None)], 0))
    model.finish()
    view.set_model(model)
    view.refresh()
    assert view.rows() == [] and view._empty_text().startswith("The run has ended")


def test_a_long_lock_name_wraps_where_its_row_has_the_lines_and_is_reported_where_not(qtbot):
    """A condition's lock name ("not_empty") beside a cell of wrapped chips wraps after its
    "_" rather than being elided; in a row one line tall it is elided, and reported cut."""
    from PySide6.QtGui import QFontMetrics, QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    from visualizer.ui.views.chips import ChipDelegate

    model = QStandardItemModel(1, 1)
    model.setItem(0, 0, QStandardItem("not_\u200bempty"))
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    table.setWordWrap(False)
    delegate = ChipDelegate(table)
    table.setItemDelegate(delegate)
    line = QFontMetrics(table.font()).lineSpacing()
    width = QFontMetrics(table.font()).horizontalAdvance("empty") + 16  # not "not_empty"
    table.setColumnWidth(0, width)
    table.resize(width + 40, 8 * line)
    table.show()
    qtbot.waitExposed(table)
    for height, cut in ((line + 6, True), (3 * line + 6, False)):
        table.setRowHeight(0, height)
        delegate.cut.clear()
        table.grab()  # paints every cell now
        assert ((0, 0) in delegate.cut) is cut, height

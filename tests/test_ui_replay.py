"""The window's File menu: open a log, scrub it, save and export; bad files end in a dialog."""

from __future__ import annotations

import csv
import gzip
import json
import threading
from pathlib import Path

import pytest
from helpers import folded_to
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from visualizer.cli import EXIT_OK, main
from visualizer.events import STATUSES
from visualizer.model import RunModel
from visualizer.recording import load_log
from visualizer.recording.replay import Replay
from visualizer.ui import file_actions
from visualizer.ui.main_window import MainWindow
from visualizer.ui.views import HeapView, LanesView

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def log_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ui-replay") / "run.jsonl.gz"
    argv = ["run", "--tasks", "300", "--rate", "0", "--work-time", "0.0002"]
    assert main([*argv, "--cancel-probability", "0.2", "--record", str(path)]) == EXIT_OK
    return path


@pytest.fixture
def warnings(monkeypatch) -> list[tuple[str, str]]:
    """QMessageBox.warning / information, recorded instead of blocking on a modal box."""
    shown: list[tuple[str, str]] = []

    def record(_parent, title, text, *_args, **_kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", record)
    monkeypatch.setattr(QMessageBox, "information", record)
    return shown


@pytest.fixture
def window(open_window, warnings) -> MainWindow:
    return open_window()


def open_log(qtbot, window: MainWindow, path: Path):
    actions = window.file_actions
    assert actions.open_recording(str(path)) is not None
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    return actions.replay_bar


def shows_heap(heap: HeapView, expected: RunModel) -> bool:
    """The heap view draws the first entries of the expected heap, and knows its size."""
    drawn = list(heap.tree.entries)
    return drawn == list(expected.heap.entries)[: len(drawn)] and heap.tree.total == len(
        expected.heap
    )


def view(window: MainWindow, cls):
    return next(v for v in window.views if isinstance(v, cls))


def test_open_and_scrub_shows_the_run_at_each_position(qtbot, window, log_path):
    recorded = load_log(log_path)
    bar = open_log(qtbot, window, log_path)
    assert bar is not None and bar.replay.total == len(recorded.events)
    assert bar.position == bar.replay.total  # opens on the end of the run
    assert "Replay" in window.state_label.text()
    lanes, heap = view(window, LanesView), view(window, HeapView)

    total = bar.replay.total
    for position in (total // 2, total // 5, total - 1, 1, (total * 3) // 4, 0, total):
        bar.slider.setValue(position)  # as a drag would: the seek waits for the event loop
        qtbot.waitUntil(lambda p=position: bar.position == p, timeout=WAIT_MS)
        expected = folded_to(recorded, position, batch=997)
        assert window.model is bar.replay.model
        assert window.model.tasks.counts() == expected.tasks.counts()
        assert list(window.model.heap.entries) == list(expected.heap.entries)
        counts = {s: expected.tasks.counts()[s] for s in STATUSES}
        qtbot.waitUntil(lambda c=counts: lanes.counts_shown() == c, timeout=WAIT_MS)
        qtbot.waitUntil(lambda e=expected: shows_heap(heap, e), timeout=WAIT_MS)


def test_steps_and_play(qtbot, window, log_path):
    bar = open_log(qtbot, window, log_path)
    bar.seek(100)
    bar.step_forward()
    assert bar.position == 101
    bar.step_back()
    bar.step_back()
    assert bar.position == 99 and bar.back_button.isEnabled()
    bar.seek(0)
    assert not bar.back_button.isEnabled()
    bar.speed_box.setCurrentIndex(bar.speed_box.count() - 1)  # the fastest
    bar.play_button.click()
    assert bar.playing
    qtbot.waitUntil(lambda: bar.position == bar.replay.total, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not bar.playing, timeout=WAIT_MS)
    assert window.model.finished


def test_a_new_run_ends_the_replay(qtbot, window, log_path):
    bar = open_log(qtbot, window, log_path)
    assert window.start_run()
    qtbot.waitUntil(lambda: window.file_actions.replay_bar is None, timeout=WAIT_MS)
    assert not bar.is_open
    window.stop_run()


def test_save_then_reopen_the_last_run(qtbot, window, tmp_path):
    window.controls.set_workload(window.controls.workload().replace(tasks=40, rate=0.0))
    assert window.start_run()
    qtbot.waitUntil(lambda: window.model is not None and window.model.finished, timeout=WAIT_MS)
    live = window.model.tasks.counts()
    saved = tmp_path / "saved.jsonl"
    actions = window.file_actions
    actions.save_recording(str(saved))
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    recorded = load_log(saved)
    assert recorded.settings["tasks"] == 40 and recorded.complete
    bar = open_log(qtbot, window, saved)
    assert window.model is bar.replay.model and window.model.tasks.counts() == live


def test_exports_from_a_replay(qtbot, window, log_path, tmp_path):
    open_log(qtbot, window, log_path)
    actions = window.file_actions
    trace = tmp_path / "trace.json"
    actions.export_chrome_trace(str(trace))
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    events = json.loads(trace.read_text(encoding="utf-8"))["traceEvents"]
    tracks = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert {"producer-1", "producer-2", "worker-1"} <= tracks

    anomalies = tmp_path / "anomalies.csv"
    assert actions.export_anomalies_csv(str(anomalies))
    with open(anomalies, encoding="utf-8", newline="") as file:
        assert next(csv.reader(file))[0] == "kind"

    window._frame()  # noqa: SLF001 -- paint the plots before exporting them
    for name in ("plots.png", "plots.svg"):
        assert actions.export_plots(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "plots.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "plots.svg").read_text(encoding="utf-8").lstrip().startswith("<")
    written = actions.export_plot_data(str(tmp_path / "series.csv"))
    assert len(written) == 3 and all(Path(p).stat().st_size > 0 for p in written)


def test_open_through_the_menu_uses_the_file_dialog(qtbot, window, log_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(log_path), ""))
    window.file_actions.actions["open"].trigger()
    qtbot.waitUntil(lambda: window.file_actions.replay_bar is not None, timeout=WAIT_MS)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda good, bad: bad.write_text("not a log\n"), "not a queue-visualizer log"),
        (lambda good, bad: bad.write_bytes(b""), "the file is empty"),
        (
            lambda good, bad: bad.write_text('{"format": "queue-visualizer-log", "version": 42}\n'),
            "newer than this program reads",
        ),
        (
            lambda good, bad: bad.write_text(
                load_log_header(good) + '\n[[0, 1, 2, "NO_SUCH_KIND", 0, 0, 0]]\n'
            ),
            "unknown event kind",
        ),
    ],
)
def test_a_bad_file_ends_in_a_dialog(qtbot, window, warnings, log_path, tmp_path, make, words):
    bad = tmp_path / "bad.jsonl"
    make(log_path, bad)
    actions = window.file_actions
    actions.open_recording(str(bad))
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    assert actions.replay_bar is None
    [(title, text)] = warnings
    assert title == "Opening recording" and "Cannot open bad.jsonl" in text and words in text


def test_a_huge_file_of_nothing_is_refused_at_once(qtbot, window, warnings, tmp_path):
    huge = tmp_path / "huge.jsonl"
    with open(huge, "wb") as file:
        file.truncate((1 << 30) + 1)  # sparse: no disk used
    window.file_actions.open_recording(str(huge))
    qtbot.waitUntil(lambda: window.file_actions.task is None, timeout=WAIT_MS)
    [(_title, text)] = warnings
    assert "not a queue-visualizer log" in text


def test_a_cut_short_log_opens_with_a_warning(qtbot, window, warnings, log_path, tmp_path):
    data = gzip.decompress(log_path.read_bytes())
    cut = tmp_path / "cut.jsonl"
    # Cut the last line of events in half (and lose the end line): the lines before it
    # are whole, so the replay has events.
    last_events_line = data.rindex(b"\n", 0, data.rindex(b"\n", 0, len(data) - 1))
    assert data.count(b"\n", 0, last_events_line) >= 2, "the log needs two lines of events"
    cut.write_bytes(data[: last_events_line + (len(data) - last_events_line) // 3])
    bar = open_log(qtbot, window, cut)
    assert bar is not None and bar.replay.total > 0
    [(title, text)] = warnings
    assert title == "Recording cut short" and "cut short" in text


def test_loading_can_be_cancelled_and_never_blocks_the_window(qtbot, window, log_path, monkeypatch):
    started = threading.Event()

    class SlowReplay(Replay):
        """Folds only once the user has pressed Cancel: the dialog is up until then."""

        def build(self, progress=None, *, checkpoints=True):
            started.set()
            actions.task.cancel.wait(WAIT_MS / 1000)
            return super().build(progress, checkpoints=checkpoints)

    monkeypatch.setattr(file_actions, "Replay", SlowReplay)
    actions = window.file_actions
    task = actions.open_recording(str(log_path))
    cancelled = []
    task.cancelled.connect(lambda: cancelled.append(True))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=WAIT_MS)  # the event loop runs meanwhile
    assert actions.task is task
    task.dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT_MS)
    timer.stop()
    assert cancelled and actions.replay_bar is None and not task.worker.is_alive()


def test_nothing_to_save_says_so(qtbot, window, warnings):
    window.file_actions.ask_save()
    [(_title, text)] = warnings
    assert "nothing to save" in text


def load_log_header(path: Path) -> str:
    return json.dumps(load_log(path).header)

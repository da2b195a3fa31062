"""File > Export Step Sequence: a picture of the window at every step of a stepped race."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from visualizer.engine.scheduler import Schedule
from visualizer.ui.main_window import MainWindow
from visualizer.ui.step_export import export_steps

STEPS = "instruction/free: clerk-2*3 clerk-1*2"


@pytest.fixture
def window(open_window) -> MainWindow:
    window = open_window()
    window.scenarios.select("lost-update")
    return window


def stepped(window: MainWindow, qtbot) -> Schedule:
    """The window paused after the steps of :data:`STEPS`, as a class would leave it."""
    window.scenarios.stepping.replay(Schedule.parse(STEPS))
    qtbot.waitUntil(
        lambda: (
            window.run is not None
            and len(getattr(window.run.gate, "history", ())) == 5
            and window.scenarios.stepping.schedule() is not None
        ),
        timeout=10_000,
    )
    schedule = window.scenarios.stepping.schedule()
    assert schedule is not None and schedule.text().endswith("clerk-2*3 clerk-1*2")
    return schedule


def test_a_picture_per_step_from_before_the_first(window, qtbot, tmp_path: Path):
    schedule = stepped(window, qtbot)
    messages = []
    export = export_steps(window, schedule, str(tmp_path / "lost.png"))
    export.finished.connect(messages.append)
    qtbot.waitUntil(lambda: bool(messages), timeout=60_000)
    assert messages[0].startswith("Wrote 6 pictures"), messages
    pictures = sorted(tmp_path.glob("lost-*.png"))
    assert [p.name for p in pictures] == [f"lost-{n:03d}.png" for n in range(6)]
    images = [QImage(str(p)) for p in pictures]
    assert all(not image.isNull() for image in images)
    assert all(image.size() == images[0].size() for image in images)
    assert images[0] != images[-1], "the steps changed what the window shows"
    # The run is left where the class left it: paused after the last step.
    assert len(window.run.gate.history) == 5


def test_a_pdf_has_a_page_per_step(window, qtbot, tmp_path: Path):
    schedule = stepped(window, qtbot)
    messages = []
    path = tmp_path / "lost.pdf"
    export = export_steps(window, schedule, str(path))
    export.finished.connect(messages.append)
    qtbot.waitUntil(lambda: bool(messages), timeout=60_000)
    assert messages[0] == "Wrote 6 pages to lost.pdf"
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 6


def test_cancel_writes_nothing(window, qtbot, tmp_path: Path):
    schedule = stepped(window, qtbot)
    messages = []
    export = export_steps(window, schedule, str(tmp_path / "cancelled.png"))
    export.finished.connect(messages.append)
    export.cancel()
    assert messages == ["Export cancelled: nothing written."]
    assert not list(tmp_path.iterdir())

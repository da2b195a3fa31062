"""Helpers several test files share (imported as ``from helpers import ...``)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from visualizer.events import Recorder
from visualizer.model import RunModel
from visualizer.recording import RecordedRun
from visualizer.recording.replay import ThreadNames

ROOT = Path(__file__).resolve().parents[1]


def offscreen_platform(width: int, height: int) -> str:
    """``QT_QPA_PLATFORM`` for Qt's offscreen plugin with one screen of this size.

    The plugin's own screen is 800x600, smaller than the window; the window now
    fits itself to its screen, so tests give it the laptop (1280x800) or the
    projector (1024x768) they mean to look at.
    """
    import json
    import tempfile

    folder = Path(tempfile.gettempdir()) / "queue-visualizer-test-screens"
    folder.mkdir(exist_ok=True)
    config = folder / f"{width}x{height}.json"
    screen = {"name": f"screen-{width}x{height}", "x": 0, "y": 0, "width": width}
    screen |= {"height": height, "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    return f"offscreen:configfile={config}"


def run_python(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python *args`` in a child process that sees only this checkout (no PATH)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_threads(*targets: tuple[str, object]) -> None:
    """Start a thread per (name, function), then join them all; none may hang."""
    threads = [threading.Thread(target=fn, name=name) for name, fn in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()


def spying_recorder(kind: int) -> tuple[Recorder, threading.Event]:
    """A recorder that sets an event once ``kind`` has been recorded (to order threads)."""
    recorder = Recorder()
    seen = threading.Event()
    append = recorder.append

    def spy(event: tuple) -> None:
        append(event)
        if event[2] == kind:
            seen.set()

    recorder.append = spy  # before any Tracer, which binds recorder.append
    return recorder, seen


def folded_to(recorded: RecordedRun, position: int, batch: int = 1000) -> RunModel:
    """The reference: a fresh model, the first ``position`` events, no checkpoints."""
    model = RunModel(thread_name=ThreadNames(recorded.thread_names))
    for events in recorded.batches(batch, 0, position):
        model.apply(events)
    if position == len(recorded.events):
        model.finish(drained=True)
    return model

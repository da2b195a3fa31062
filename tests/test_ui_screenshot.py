"""Screenshot mode, end to end: the real command in a fresh process, as README images are made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import offscreen_platform
from PySide6.QtGui import QImage


def test_screenshot_mode_runs_grabs_the_window_and_exits(tmp_path: Path):
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM=offscreen_platform(1280, 800))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "visualizer.ui.app",
            "--strategy",
            "global-lock",
            "--run",
            "--rate",
            "0",
            "--tasks",
            "300",
            "--work-time",
            "0",
            "--screenshot",
            str(shot),
            "--quit-after",
            "1.5",
            "--measure-latency",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "GUI event-loop latency: p50" in result.stdout
    image = QImage(str(shot))
    # The window fills its 1280x800 screen, less the frame the platform draws round it.
    assert 1260 <= image.width() <= 1280 and 780 <= image.height() <= 800

"""The lecture-hall test: every strategy and scenario, running, on a 1024x768 projector and a
1280x800 laptop, at the desk and in presentation mode: nothing that carries the lesson is
cut, clipped or left out, no two labels overlap, and the window stays on its screen.

What "cannot be read" means is in ``lecture_hall.py`` (the probe each configuration
runs in a process of its own, since a Qt process has one screen size for life).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("lecture_hall.py")
SCREENS = [(1024, 768), (1280, 800)]
MODES = ["presentation", "desk"]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", MODES)
def test_every_lesson_reads_whole_on_a_projector_and_a_laptop(mode):
    probes = [
        subprocess.Popen(
            [sys.executable, str(PROBE), str(width), str(height), mode],
            cwd=PROBE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for width, height in SCREENS
    ]
    reports = {}
    for (width, height), probe in zip(SCREENS, probes, strict=True):
        out, err = probe.communicate(timeout=800)
        assert probe.returncode == 0, err[-2000:]
        reports[f"{width}x{height}"] = json.loads(out.strip().splitlines()[-1])
    for screen, report in reports.items():
        width, height = (int(n) for n in screen.split("x"))
        assert report["window"][0] <= width and report["window"][1] <= height, screen
    problems = {screen: r["problems"] for screen, r in reports.items() if r["problems"]}
    assert not problems, json.dumps(problems, indent=2)


def test_the_probe_sees_a_cut_lesson_a_cut_holder_and_overlapping_rows(open_window, qtbot):
    """The measure is not vacuous: squeezed on purpose, each part is reported."""
    from lecture_hall import problems

    from visualizer.engine.lessons import lesson_workload
    from visualizer.ui.views import LanesView, LocksView

    window = open_window(lesson_workload("rwlock").replace(switch_interval=None))
    window.presentation.set_active(True)
    assert problems(window, "strategy") == []
    window.start_run()
    locks = next(v for v in window.views if isinstance(v, LocksView))
    qtbot.waitUntil(lambda: locks.table.model().rowCount() > 0, timeout=10_000)
    window.presentation.lesson.setFixedHeight(4)
    qtbot.waitUntil(lambda: any("lesson line is cut" in p for p in problems(window, "strategy")))
    locks.table.setFixedWidth(70)  # no room for three readers, even as R1 R2 R3
    qtbot.waitUntil(
        lambda: any(
            "holders cut" in p or "lock column" in p or "past its edge" in p
            for p in problems(window, "strategy")
        ),
        timeout=5000,
    )
    lanes = next(v for v in window.views if isinstance(v, LanesView))
    lanes.lanes.setFixedWidth(90)
    qtbot.waitUntil(lambda: any("lane header" in p for p in problems(window, "strategy")))
    window.stop_run()

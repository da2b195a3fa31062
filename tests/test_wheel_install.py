"""A new user's install: build the wheel, install it into a fresh virtual environment, run
the installed ``queue-visualizer`` from outside the checkout, and check that it works and
finds its resources inside the installed package, not in this checkout.

One venv, one wheel, one screenshot: about half a minute on a 2-core machine when pip's
cache or the configured indexes hold PySide6; the timeouts are generous for a cold cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import offscreen_platform
from PySide6.QtGui import QImage

CHECKOUT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "docs",
    "out",
)
PROBE = """
import json, sys
from visualizer.engine.scenarios import available, load_all, scenario_dir
from visualizer.desktop import APP_ID
from visualizer.paths import resource, resources_root
scenarios, errors = load_all()
print(json.dumps({
    "package": __import__("visualizer").__file__,
    "resources": str(resources_root()),
    "scenario_dir": str(scenario_dir()),
    "scenarios": len(scenarios),
    "scenario_errors": [str(e) for e in errors],
    "icon": resource("icons", "queue-visualizer.svg").is_file(),
    "icon_png": resource("icons", "queue-visualizer-256.png").is_file(),
    "desktop": resource("desktop", APP_ID + ".desktop").is_file(),
    "metainfo": resource("desktop", APP_ID + ".metainfo.xml").is_file(),
    "help": sorted(p.stem for p in resource("help", "strategies").glob("*.md")),
    "overview": resource("help", "overview.md").is_file(),
}))
"""


def run(argv: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_the_wheel_installs_and_runs_from_a_fresh_venv(tmp_path: Path):
    started = time.perf_counter()
    # Build from a copy: a build in the checkout would leave build/ behind, and two
    # builds at once (CI and a developer) would share it.
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=SKIP)
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        cwd=tmp_path,
        timeout=300,
    )
    [wheel] = wheels.glob("queue_visualizer-*.whl")

    # Nothing of the checkout on the path: a PYTHONPATH naming a source tree (tests run
    # from an unpacked sdist) would make pip think the package is installed already.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, timeout=120, env=env)
    python, app = venv / "bin" / "python", venv / "bin" / "queue-visualizer"
    run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path, timeout=900, env=env)

    # Somewhere that is not the checkout.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    found = __import__("json").loads(
        run([str(python), "-c", PROBE], cwd=elsewhere, timeout=120, env=env)
    )
    site = venv.resolve()
    assert Path(found["package"]).resolve().is_relative_to(site), found["package"]
    assert Path(found["resources"]).resolve().is_relative_to(site), found["resources"]
    assert Path(found["scenario_dir"]).resolve().is_relative_to(site)
    assert found["scenarios"] >= 10 and not found["scenario_errors"]
    assert found["icon"] and found["icon_png"] and found["desktop"] and found["overview"]
    assert found["metainfo"]
    assert "global-lock" in found["help"] and "unsafe" in found["help"]

    shot = elsewhere / "out.png"
    # A laptop's screen: the window fits itself to its screen (the plugin's own is 800x600).
    laptop = {**env, "QT_QPA_PLATFORM": offscreen_platform(1280, 800)}
    run(
        [
            str(app),
            "--strategy",
            "global-lock",
            "--run",
            "--screenshot",
            str(shot),
            "--quit-after",
            "2",
        ],
        cwd=elsewhere,
        timeout=180,
        env=laptop,
    )
    image = QImage(str(shot))
    assert not image.isNull(), "not a readable PNG"
    # The window takes the screen, less what fit_to_screen keeps for the window's frame.
    assert 1200 <= image.width() <= 1280 and 750 <= image.height() <= 800, image.size()
    small = image.scaled(64, 40)
    colours = {small.pixel(x, y) for x in range(64) for y in range(40)}
    assert len(colours) > 20, "the screenshot is (nearly) blank"

    version = run([str(app), "--version"], cwd=elsewhere, timeout=60, env=env)
    assert version.startswith("queue-visualizer ")
    print(f"wheel build + fresh venv + screenshot: {time.perf_counter() - started:.1f} s")

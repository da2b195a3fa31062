"""The CI gates bite: ``.ci/check`` fails on a formatting error, a type error, an upward
import, a module no layer names and Qt outside ``visualizer/ui``, and ``.ci/run`` runs
what the README says.


Each case copies the checked tree (the package, the tests, ``pyproject.toml``, ``.ci``)
to a temporary folder, adds one small module with one defect, and runs the real
``.ci/check`` there with this interpreter's tools.  A failure alone would prove
little (a broken copy fails too), so each case also asserts that the output names
the module it added and the rule it breaks.  CI runs ``.ci/check`` on the clean tree
just before these tests, which is the other half: the tree as committed passes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(sys.executable).parent
COPIED = ("visualizer", "tests", "pyproject.toml", ".ci", ".mypy_cache")
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", ".import_linter_cache")


def checked_copy(tmp_path: Path) -> Path:
    """The tree ``.ci/check`` looks at, copied (mypy's cache too, when there is one)."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=NOT_COPIED)
        elif source.is_file():
            shutil.copy2(source, copy / name)
    return copy


def run_check(copy: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VENV_BIN": str(TOOLS), "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)  # the copy's package, found from its own folder
    return subprocess.run(
        ["bash", str(copy / ".ci" / "check")],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        pytest.param(
            "visualizer/queues/probe_format.py",
            "SIZES = [1,2,  3]\n",
            r"would be reformatted\s+--> visualizer/queues/probe_format\.py",
            id="formatting",
        ),
        pytest.param(
            "visualizer/queues/probe_types.py",
            'def half(count: int) -> int:\n    """Rounds wrongly on purpose."""\n'
            "    return count / 2\n",
            r"visualizer/queues/probe_types\.py:3: error: .*\[return-value\]",
            id="type",
        ),
        pytest.param(
            "visualizer/queues/probe_layers.py",
            'from visualizer.model import RunModel\n\n__all__ = ["RunModel"]\n',
            r"visualizer\.queues\.probe_layers -> visualizer\.model",
            id="upward-import",
        ),
        pytest.param(
            "visualizer/probe_unplaced.py",
            '"""A new top-level module that no layer names."""\n',
            r"not listed as layers:\s+- visualizer\.probe_unplaced",
            id="unplaced-module",
        ),
        pytest.param(
            "visualizer/model/probe_qt.py",
            'from PySide6.QtCore import QObject\n\n__all__ = ["QObject"]\n',
            r"visualizer\.model\.probe_qt -> PySide6",
            id="qt-outside-ui",
        ),
    ],
)
def test_ci_check_fails_on_the_defect_and_names_it(tmp_path, module, source, expected):
    copy = checked_copy(tmp_path)
    (copy / module).write_text(source, encoding="utf-8")
    result = run_check(copy)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(expected, output), output


def commands(text: str) -> list[str]:
    """Shell lines without comments or blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def test_ci_runs_the_readme_commands_and_the_readme_names_the_quick_loop():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"this is what CI runs.*?```sh\n(.*?)```", readme, re.S)
    assert block, "the README's CI commands"
    readme_commands = commands(block.group(1))
    ci_commands = commands((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert len(readme_commands) == 4
    assert ci_commands[-4:] == readme_commands, "the end of .ci/run is the README's commands"
    assert '.venv/bin/python -m pytest -q -m "not slow"' in readme

"""How the package ships: one version, a licence, packages that match the tree, a clean
build, and an sdist that carries and passes its own tests (distributions build and
test from the sdist)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import visualizer

CHECKOUT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".mypy_cache", ".hypothesis", "out",
)  # fmt: skip
QUICK_SUBSET = ["tests/test_export_trace_content.py", "tests/test_export_chrome_trace.py"]


def test_the_version_is_written_once():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    source = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert source == {"attr": "visualizer.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", visualizer.__version__)
    assert setup_py_declares_only_the_extension(), "pyproject.toml says the rest"


def setup_py_declares_only_the_extension() -> bool:
    """setup.py says only what pyproject.toml cannot say without an experimental-feature
    warning: the optional C speedups (``setup(ext_modules=[...])`` and nothing else)."""
    import ast

    tree = ast.parse((CHECKOUT / "setup.py").read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup"
    ]
    return len(calls) == 1 and [k.arg for k in calls[0].keywords] == ["ext_modules"]


def test_the_licence_is_mit_in_a_file_and_in_the_metadata():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (CHECKOUT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the queue-visualizer authors" in text
    assert "Permission is hereby granted, free of charge" in text
    # PEP 639: a licence expression replaces the licence classifiers (setuptools refuses both).
    assert not any(c.startswith("License ::") for c in project["classifiers"])
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]


def test_every_folder_ships_and_every_listed_package_exists():
    """Packages are listed by hand (resources/ maps to visualizer.resources): keep them true."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapping == {"visualizer.resources": "resources"}
    on_disk = set()
    for root, prefix in (
        (CHECKOUT / "visualizer", "visualizer"),
        (CHECKOUT / "resources", "visualizer.resources"),
    ):
        for folder in [root, *root.rglob("*")]:
            if folder.is_dir() and folder.name != "__pycache__" and any(folder.iterdir()):
                parts = folder.relative_to(root).parts
                on_disk.add(".".join((prefix, *parts)))
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == set(), "these packages in pyproject.toml have no folder"


def _env() -> dict[str, str]:
    """The caller's environment, less what would leak into or mislead the build.

    ``PYTHONDONTWRITEBYTECODE`` makes setuptools warn that it cannot byte-compile:
    a property of the machine, not of the package.
    """
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    return {key: value for key, value in os.environ.items() if key not in drop}


def _run(argv: list[str], cwd: Path, timeout: float, env: dict[str, str]) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{argv[:4]} failed:\n{output[-4000:]}"
    return output


@pytest.mark.slow
def test_the_build_is_clean_and_the_sdist_tests_itself(tmp_path: Path):
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=SKIP)
    dist = tmp_path / "dist"
    env = _env()
    build = [sys.executable, "-m", "build", "-o", str(dist), str(source)]
    output = _run(build, tmp_path, 600, env)
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    assert warnings == []

    version = visualizer.__version__
    [wheel] = dist.glob(f"queue_visualizer-{version}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"queue_visualizer-{version}.dist-info/METADATA").decode()
    assert f"queue_visualizer-{version}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata and f"Version: {version}\n" in metadata
    assert "Classifier: Intended Audience :: Education" in metadata
    for resource in (CHECKOUT / "resources").rglob("*"):
        if resource.is_file():
            inside = (
                "visualizer/resources/" + resource.relative_to(CHECKOUT / "resources").as_posix()
            )
            assert inside in names, inside
    assert not any(name.startswith(("tests/", "resources/")) for name in names)

    [sdist] = dist.glob(f"queue_visualizer-{version}.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    unpacked = tmp_path / "unpacked" / f"queue_visualizer-{version}"
    for name in ("LICENSE", "tests/conftest.py", "tests/helpers.py", ".ci/check", ".ci/run"):
        assert (unpacked / name).is_file(), f"the sdist lacks {name}"
    shipped = {p.name for p in (unpacked / "tests").glob("*.py")}
    assert shipped == {p.name for p in (CHECKOUT / "tests").glob("*.py")}

    # The sdist's own code and tests, not this checkout's.
    env.update(PYTHONPATH=str(unpacked), QT_QPA_PLATFORM="offscreen")
    pytest_ = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    collected = _run([*pytest_, "--collect-only", "-q"], unpacked, 300, env)
    assert not re.search(r"\d+ errors?\b", collected), collected[-4000:]
    count = re.search(r"(\d+) tests? collected", collected)
    assert count and int(count.group(1)) > 500
    ran = _run([*pytest_, "-q", *QUICK_SUBSET], unpacked, 300, env)
    assert re.search(r"\d+ passed", ran) and "failed" not in ran, ran[-4000:]

"""The desktop entry: installed under XDG_DATA_HOME, running this installation, quoted as
the spec says, accepted by the freedesktop validators, and removed without a trace."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import visualizer
from visualizer import desktop
from visualizer.desktop import (
    APP_ID,
    ICON_SIZES,
    OLD_NAME,
    SCRIPT,
    exec_value,
    install_desktop_entry,
    installed_files,
)
from visualizer.paths import resource
from visualizer.ui.app import main as app_main
from visualizer.ui.app import qt_argv

ROOT = Path(__file__).resolve().parents[1]
TRICKY_ARGS = [
    "/home/ann/my venvs/qv/bin/queue-visualizer",
    'a "quoted" word',
    "$HOME and `cmd`",
    "back\\slash",
    "100% sure",
    "tab\there",
    "it's;ok|&<>~*?#()",
    "",
    "plain",
]


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def parse_exec(value: str) -> list[str]:
    """The Desktop Entry spec's reading of an Exec value, written out independently.

    First the key-file string escapes, then the quoting rules for arguments, then
    ``%%`` becomes ``%`` (no other field code is used here).
    """
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    string, chars = [], iter(value)
    for c in chars:
        string.append(escapes[next(chars)] if c == "\\" else c)
    text = "".join(string)
    args: list[str] = []
    i, word, in_word = 0, [], False
    while i < len(text):
        c = text[i]
        if c == '"':
            in_word = True
            i += 1
            while text[i] != '"':
                if text[i] == "\\" and text[i + 1] in '"`$\\':
                    i += 1
                word.append(text[i])
                i += 1
        elif c == " ":
            if in_word:
                args.append("".join(word))
            word, in_word = [], False
        else:
            assert c not in "\"'\\><~|&;$*?#()`\t\n", f"unquoted reserved {c!r} in {value!r}"
            word.append(c)
            in_word = True
        i += 1
    if in_word:
        args.append("".join(word))
    return [arg.replace("%%", "%") for arg in args]


@pytest.fixture
def fake_install(tmp_path, monkeypatch):
    """An installation in a folder with a space, its script beside its interpreter."""
    bin_dir = tmp_path / "my venvs" / "qv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / SCRIPT
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return script, data


def test_install_writes_entry_metainfo_and_every_icon(fake_install):
    script, data = fake_install
    written = install_desktop_entry()
    assert written == installed_files(data) and all(p.is_file() for p in written)

    entry = read_entry(data / "applications" / f"{APP_ID}.desktop")
    assert entry["Type"] == "Application" and entry["Version"] == "1.0"
    assert entry["Name"] == "Queue Visualizer"
    assert entry["Icon"] == APP_ID and entry["StartupWMClass"] == APP_ID
    assert parse_exec(entry["Exec"]) == [str(script)]
    assert parse_exec(entry["TryExec"]) == [str(script)]  # gone with the program: hidden
    assert entry["Exec"].startswith('"/'), "a path with a space is quoted"

    for size in ICON_SIZES:
        png = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png.read_bytes().startswith(b"\x89PNG")
    svg = data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert b"<svg" in svg.read_bytes()
    metainfo = data / "metainfo" / f"{APP_ID}.metainfo.xml"
    assert ET.parse(metainfo).getroot().findtext("id") == APP_ID


@pytest.mark.parametrize("arg", TRICKY_ARGS)
def test_exec_quoting_reads_back_as_the_same_argument(arg):
    argv = [arg, "-m", "visualizer"]
    value = exec_value(argv)
    assert "\n" not in value and "\t" not in value
    assert parse_exec(value) == argv


def test_the_entry_runs_this_installation_never_one_found_on_path(tmp_path, monkeypatch):
    other = tmp_path / "other" / "bin"
    other.mkdir(parents=True)
    (other / SCRIPT).write_text("#!/bin/sh\n", encoding="utf-8")
    (other / SCRIPT).chmod(0o755)
    monkeypatch.setenv("PATH", str(other))
    here = tmp_path / "here" / "bin"
    here.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(here / "python3"))
    # No script beside this interpreter (a user install, a checkout): this interpreter.
    assert desktop.launcher_argv() == [str(here / "python3"), "-m", "visualizer"]
    entry = desktop.entry_text(desktop.launcher_argv())
    assert "TryExec" not in entry and str(other) not in entry
    (here / SCRIPT).write_text("#!/bin/sh\n", encoding="utf-8")
    (here / SCRIPT).chmod(0o755)
    assert desktop.launcher_argv() == [str(here / SCRIPT)]


def test_uninstall_removes_everything_install_wrote_and_older_installs(fake_install, capsys):
    _script, data = fake_install
    old = data / "applications" / f"{OLD_NAME}.desktop"
    old.parent.mkdir(parents=True)
    old.write_text("[Desktop Entry]\n", encoding="utf-8")
    old_icon = data / "icons" / "hicolor" / "48x48" / "apps" / f"{OLD_NAME}.png"
    old_icon.parent.mkdir(parents=True)
    old_icon.write_bytes(b"\x89PNG")
    assert app_main(["--install-desktop-entry"]) == 0
    assert not old.exists(), "installing replaces the entry an older version wrote"
    installed = installed_files(data)
    assert capsys.readouterr().out.splitlines()[:-1] == [str(p) for p in installed]
    old_icon.write_bytes(b"\x89PNG")  # left by some older install after all

    assert app_main(["--uninstall-desktop-entry"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [str(p) for p in [*installed, old_icon]]
    assert out[-1].startswith("Removed: ")
    left = [p for p in data.rglob("*") if p.is_file()]
    assert left == [], left
    assert app_main(["--uninstall-desktop-entry"]) == 0
    assert capsys.readouterr().out.startswith("Nothing to remove")
    assert app_main(["--install-desktop-entry", "--uninstall-desktop-entry"]) == 2


def test_the_window_class_is_the_entry_s_however_it_is_started():
    assert qt_argv()[1:] == ["-name", APP_ID]
    entry = read_entry(resource("desktop", f"{APP_ID}.desktop"))
    assert entry["StartupWMClass"] == APP_ID


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed (Debian: desktop-file-utils, appstream, xvfb, x11-utils)"
        )
    return path


def test_desktop_file_validate_accepts_the_shipped_and_the_installed_entry(fake_install):
    tool = _tool("desktop-file-validate")
    _script, data = fake_install
    install_desktop_entry()
    for path in (resource("desktop", f"{APP_ID}.desktop"), installed_files(data)[0]):
        result = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
        problems = [line for line in result.stdout.splitlines() if ": hint: " not in line]
        assert result.returncode == 0 and problems == [], result.stdout + result.stderr


def test_appstreamcli_accepts_the_metainfo():
    tool = _tool("appstreamcli")
    path = resource("desktop", f"{APP_ID}.metainfo.xml")
    result = subprocess.run(
        [tool, "validate", "--no-net", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "E:" not in result.stdout and "W:" not in result.stdout, result.stdout
    root = ET.parse(path).getroot()
    assert root.findtext("id") == APP_ID and root.findtext("project_license") == "MIT"
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == visualizer.__version__


def _xvfb_window_class(display: str, argv: list[str], env: dict[str, str]) -> str | None:
    """Start ``argv`` on ``display`` and read its main window's WM_CLASS with xwininfo."""
    app = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and app.poll() is None:
            tree = subprocess.run(
                ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True
            ).stdout
            for line in tree.splitlines():
                if '"Queue Visualizer": (' in line and "()" not in line:
                    return line.split(": (", 1)[1].split(")")[0]
            time.sleep(0.2)
        return None
    finally:
        app.terminate()
        app.wait(30)


@pytest.mark.slow
def test_python_m_visualizer_gets_the_window_class_of_the_entry(tmp_path):
    """On a real X server (Xvfb): the fallback launch is grouped under the entry too."""
    xvfb = _tool("Xvfb")
    _tool("xwininfo")
    from visualizer.ui.platform_check import missing_xcb_library

    display = f":{90 + os.getpid() % 400}"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, PYTHONPATH=str(ROOT))
    env["QUEUE_VISUALIZER_SETTINGS"] = str(tmp_path / "settings.ini")
    if missing_xcb_library(env) is not None:
        pytest.skip(missing_xcb_library(env))
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["xwininfo", "-root"], env=env, capture_output=True).returncode:
            assert time.monotonic() < deadline and server.poll() is None, "Xvfb did not start"
            time.sleep(0.1)
        argv = [sys.executable, "-m", "visualizer", "--fresh", "--quit-after", "30"]
        found = _xvfb_window_class(display, argv, env)
    finally:
        server.terminate()
        server.wait(30)
    assert found == f'"{APP_ID}" "Queue Visualizer"'

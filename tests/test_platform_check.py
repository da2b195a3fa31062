"""First launch on an X11 desktop without libxcb-cursor0: one line and exit 2, not Qt's abort."""

from __future__ import annotations

import pytest

from visualizer.ui import platform_check
from visualizer.ui.app import main as app_main
from visualizer.ui.platform_check import debian_package, missing_xcb_library, needs_xcb

MISSING_CURSOR = OSError(
    "libxcb-cursor.so.0: cannot open shared object file: No such file or directory"
)
X11 = {"DISPLAY": ":0"}


def refuse(error: OSError):
    def load(path: str) -> None:
        raise error

    return load


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        (X11, "linux", True),
        ({**X11, "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({**X11, "QT_QPA_PLATFORM": "wayland"}, "linux", False),
        ({**X11, "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({**X11, "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),  # Qt picks Wayland there
        ({**X11, "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({}, "linux", False),
        (X11, "darwin", False),
    ],
)
def test_only_where_qt_would_use_xcb(environ, platform, expected):
    assert needs_xcb(environ, platform) is expected


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ],
)
def test_the_package_is_named_as_debian_names_it(soname, package):
    assert debian_package(soname) == package


def test_a_missing_library_is_named_with_its_package_and_the_wayland_way_out(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    message = missing_xcb_library(X11, refuse(MISSING_CURSOR), plugin)
    assert message is not None and "\n" not in message
    assert "libxcb-cursor.so.0" in message and "apt-get install libxcb-cursor0" in message
    assert "QT_QPA_PLATFORM=wayland" in message
    assert missing_xcb_library(X11, lambda path: None, plugin) is None
    assert missing_xcb_library({**X11, "QT_QPA_PLATFORM": "offscreen"}, refuse(MISSING_CURSOR),
                               plugin) is None  # fmt: skip
    odd = missing_xcb_library(X11, refuse(OSError("undefined symbol: xcb_foo")), plugin)
    assert odd is not None and "undefined symbol: xcb_foo" in odd


def test_the_real_loader_reports_what_the_dynamic_linker_cannot_find(tmp_path):
    """dlopen itself, on a library that is not there: its error is what gets parsed."""
    absent = tmp_path / "libxcb-gone.so.7"
    message = missing_xcb_library(X11, plugin=absent)
    assert message is not None and "libxcb-gone.so.7" in message
    assert "apt-get install libxcb-gone7" in message


def test_the_app_says_one_line_and_exits_2_before_qt_starts(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(platform_check, "_load", refuse(MISSING_CURSOR))
    monkeypatch.setattr(platform_check, "_plugin_path", lambda: platform_check.Path("libqxcb.so"))

    def no_window(*args, **kwargs):
        raise AssertionError("the window must not be built")

    monkeypatch.setattr("visualizer.ui.main_window.MainWindow", no_window)
    assert app_main(["--strategy", "global-lock"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("queue-visualizer: error: ")
    assert "libxcb-cursor0" in lines[0] and captured.out == ""

"""The desktop entry installs into XDG_DATA_HOME with a runnable Exec line and icons."""

from __future__ import annotations

import configparser

from visualizer.desktop import ICON_SIZES, install_desktop_entry


def test_install_writes_entry_and_every_icon(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    written = install_desktop_entry()

    entry = tmp_path / "applications" / "queue-visualizer.desktop"
    assert entry in written
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(entry, encoding="utf-8")
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "Queue Visualizer"
    assert section["Icon"] == "queue-visualizer"
    program = section["Exec"].split()[0]
    assert program.startswith("/"), "the menu runs an absolute path, not whatever PATH holds"

    for size in ICON_SIZES:
        png = tmp_path / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "queue-visualizer.png"
        assert png.read_bytes().startswith(b"\x89PNG")
    svg = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "queue-visualizer.svg"
    assert b"<svg" in svg.read_bytes()

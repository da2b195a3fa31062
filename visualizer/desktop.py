"""Put the application in the user's desktop menu (freedesktop.org conventions).

``pip install`` cannot do this itself: wheels have no post-install step, and the
right ``Exec=`` line is the absolute path of the script pip just made.  So the
user runs ``queue-visualizer --install-desktop-entry`` once; it writes the entry
and the icons under ``$XDG_DATA_HOME`` (``~/.local/share`` by default), where
every freedesktop menu looks, and needs no root.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from visualizer.paths import resource

APP_ID = "queue-visualizer"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher_command() -> str:
    """The command the menu entry runs: the installed script, else this interpreter."""
    script = shutil.which(APP_ID)
    if script:
        return script
    return f"{sys.executable} -m visualizer"


def install_desktop_entry(target: Path | None = None) -> list[Path]:
    """Write the .desktop entry and icons; return the files written."""
    root = target if target is not None else data_home()
    written: list[Path] = []

    template = resource("desktop", f"{APP_ID}.desktop").read_text(encoding="utf-8")
    entry = "\n".join(
        f"Exec={launcher_command()}" if line.startswith("Exec=") else line
        for line in template.splitlines()
    )
    entry_path = root / "applications" / f"{APP_ID}.desktop"
    entry_path.parent.mkdir(parents=True, exist_ok=True)
    entry_path.write_text(entry + "\n", encoding="utf-8")
    written.append(entry_path)

    icons = root / "icons" / "hicolor"
    for size in ICON_SIZES:
        written.append(
            _copy(
                resource("icons", f"{APP_ID}-{size}.png"),
                icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png",
            )
        )
    written.append(
        _copy(resource("icons", f"{APP_ID}.svg"), icons / "scalable" / "apps" / f"{APP_ID}.svg")
    )
    return written


def _copy(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination

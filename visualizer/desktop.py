"""Put the application in the user's desktop menu, and take it out again (freedesktop.org).

``pip install`` cannot do this itself: wheels have no post-install step, and the
right ``Exec=`` line is the program of the installation the user runs.  So the
user runs ``queue-visualizer --install-desktop-entry`` once; it writes the entry,
the icons and the AppStream metainfo under ``$XDG_DATA_HOME`` (``~/.local/share``
by default), where menus and software centres look, and needs no root.
``--uninstall-desktop-entry`` removes every one of those files (``pip uninstall``
cannot: it knows only the files in the wheel).

One id names everything: :data:`APP_ID` is the entry's file name, the metainfo's
id, the icon's name, the Wayland app id and the X11 window class (see
:mod:`visualizer.ui.app`), so a desktop always matches the window to its entry.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from visualizer.paths import resource

APP_ID = "io.github.queue_visualizer.QueueVisualizer"
"""Reverse-DNS id (AppStream); the Flathub convention for a GitHub-style project name."""
SCRIPT = "queue-visualizer"
ICON_STEM = "queue-visualizer"
"""The icons' names in ``resources/icons/`` (``queue-visualizer-48.png``...)."""
ICON_SIZES = (16, 32, 48, 64, 128, 256)
OLD_NAME = "queue-visualizer"
"""The entry's and the icons' name before they were named after :data:`APP_ID`."""

_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
"""Characters that make the Desktop Entry spec require an Exec argument to be quoted."""


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher_argv() -> list[str]:
    """The command the menu entry runs: always the installation running now.

    The ``queue-visualizer`` script beside this interpreter (a venv's ``bin``, or
    the system's) belongs to the same installation; without one (a user install
    whose scripts live elsewhere, a checkout) this interpreter runs the package.
    Never a search of PATH, which may find some other installation first.
    """
    script = Path(sys.executable).parent / SCRIPT
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "visualizer"]


def exec_value(argv: Sequence[str]) -> str:
    r"""``argv`` as the value of an ``Exec`` key, quoted as the Desktop Entry spec says.

    An argument holding a reserved character (a space, a quote, ``$``...) goes in
    double quotes, with ``"``, backquote, ``$`` and ``\`` inside escaped by a
    backslash; ``%`` is doubled (it starts field codes).  The value is then a
    key-file string, whose own escapes (``\\``, ``\n``, ``\t``, ``\r``) apply
    on top.  GLib, for one, refuses an entry whose path with a space is unquoted.
    """
    words = []
    for arg in argv:
        if not arg or _RESERVED.intersection(arg):
            inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
            arg = f'"{inner}"'
        words.append(arg.replace("%", "%%"))
    value = " ".join(words)
    for raw, escaped in (("\\", "\\\\"), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        value = value.replace(raw, escaped)
    return value


def entry_text(argv: Sequence[str]) -> str:
    """The shipped entry, running ``argv``; ``TryExec`` hides it once the program is gone."""
    template = resource("desktop", f"{APP_ID}.desktop").read_text(encoding="utf-8")
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_value(argv)}"
        elif line.startswith("TryExec="):
            if len(argv) != 1:
                continue  # "python -m visualizer": the interpreter proves nothing
            line = f"TryExec={exec_value(argv)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def installed_files(root: Path) -> list[Path]:
    """Every file :func:`install_desktop_entry` writes under ``root``."""
    icons = root / "icons" / "hicolor"
    return [
        root / "applications" / f"{APP_ID}.desktop",
        root / "metainfo" / f"{APP_ID}.metainfo.xml",
        *(icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png" for size in ICON_SIZES),
        icons / "scalable" / "apps" / f"{APP_ID}.svg",
    ]


def _old_files(root: Path) -> list[Path]:
    """What an install from before the reverse-DNS id wrote (removed on install and uninstall)."""
    icons = root / "icons" / "hicolor"
    return [
        root / "applications" / f"{OLD_NAME}.desktop",
        *(icons / f"{size}x{size}" / "apps" / f"{OLD_NAME}.png" for size in ICON_SIZES),
        icons / "scalable" / "apps" / f"{OLD_NAME}.svg",
    ]


def install_desktop_entry(target: Path | None = None) -> list[Path]:
    """Write the entry, the metainfo and the icons; return the files written."""
    root = target if target is not None else data_home()
    entry, metainfo, *pngs, svg = installed_files(root)
    _remove_all(_old_files(root))  # one entry in the menu, not an old one beside it
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(entry_text(launcher_argv()), encoding="utf-8")
    _copy(resource("desktop", f"{APP_ID}.metainfo.xml"), metainfo)
    for size, png in zip(ICON_SIZES, pngs, strict=True):
        _copy(resource("icons", f"{ICON_STEM}-{size}.png"), png)
    _copy(resource("icons", f"{ICON_STEM}.svg"), svg)
    return [entry, metainfo, *pngs, svg]


def uninstall_desktop_entry(target: Path | None = None) -> list[Path]:
    """Remove whatever an install wrote (this version's or an older one's); return it."""
    root = target if target is not None else data_home()
    return _remove_all([*installed_files(root), *_old_files(root)])


def _remove_all(paths: list[Path]) -> list[Path]:
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def _copy(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination

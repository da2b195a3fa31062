"""Before the window opens on X11: are the system libraries Qt's xcb plugin needs there?

Without them Qt prints "Could not load the Qt platform plugin xcb" and aborts the
process (a core dump, no exit status to speak of).  The usual culprit is
``libxcb-cursor0``, which Qt needs since 6.5 and many Debian and Ubuntu installs
lack; Qt's own hint names it even when another library is the one missing.  So,
before the application is created, this loads the xcb plugin the way Qt will
(``dlopen``, which resolves its dependencies): if that fails, the loader's error
names the missing library exactly, and the user gets one line saying which
package to install, or how to use Wayland instead.

Only where Qt would pick xcb: on Linux, with ``DISPLAY`` set, and no
``QT_QPA_PLATFORM`` choosing another platform (a Wayland session without an
override uses Wayland, which needs none of these).
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

_SONAME = re.compile(r"(lib[\w.+-]+?\.so(?:\.\d+)*):")
_NOT_FOUND = "cannot open shared object file"


def _load(path: str) -> None:
    """``dlopen`` a library (raises OSError naming what is missing)."""
    ctypes.CDLL(path)


def _plugin_path() -> Path | None:
    """Qt's xcb platform plugin, as the installed Qt would find it."""
    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname`` (Debian's library naming policy).

    ``libxcb-cursor.so.0`` -> ``libxcb-cursor0``; a name ending in a digit takes a
    hyphen: ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``.
    """
    stem, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    separator = "-" if stem[-1:].isdigit() and version else ""
    return f"{stem.lower()}{separator}{version}"


def needs_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will try its xcb plugin in this environment."""
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")  # Qt prefers Wayland in a Wayland session


def missing_xcb_library(
    environ: Mapping[str, str] = os.environ,
    load: Callable[[str], None] | None = None,
    plugin: Path | None = None,
) -> str | None:
    """The one-line message to print if the window cannot open on X11, else None."""
    if not needs_xcb(environ):
        return None
    plugin = plugin if plugin is not None else _plugin_path()
    if plugin is None:
        return None  # a Qt laid out differently: let it speak for itself
    try:
        (load or _load)(str(plugin))
    except OSError as exc:
        match = _SONAME.search(str(exc)) if _NOT_FOUND in str(exc) else None
        if match is None:
            return f"Qt's X11 platform plugin cannot be loaded: {exc}"
        soname = match.group(1)
        return (
            f"the window needs the system library {soname}, which is not installed "
            f"(Debian/Ubuntu: sudo apt-get install {debian_package(soname)}; the README lists "
            "every library X11 needs); in a Wayland session, QT_QPA_PLATFORM=wayland "
            "opens it without them"
        )
    return None

"""The application icon, built from the files in ``resources/icons/``.

Why both kinds: the SVG scales to any size a desktop asks for, but small sizes
drawn from it blur, so the hand-made PNGs win at the sizes they exist for
(``QIcon`` picks the closest pixmap it was given before scaling the SVG).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from visualizer.desktop import ICON_SIZES, ICON_STEM
from visualizer.paths import resource


def app_icon() -> QIcon:
    """The window and taskbar icon; an empty icon if the resources are missing."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = resource("icons", f"{ICON_STEM}-{size}.png")
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    svg = resource("icons", f"{ICON_STEM}.svg")
    if svg.is_file():
        icon.addFile(str(svg))
    return icon

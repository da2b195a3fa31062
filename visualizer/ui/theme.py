"""Colours and fonts shared by every view, so a status or a thread looks the same everywhere.

Why these colours: the four statuses use the Okabe-Ito palette (designed to stay
distinct under the common colour-vision deficiencies) at middle lightness, so a
fill reads against a white *and* a near-black background, and black text on
any of them keeps a contrast ratio of at least 6:1.  Threads get a separate
qualitative palette of ten, then generated hues: a thread keeps its colour for
the whole run (the model hands out ``color_index`` in order of appearance).
Red is kept for trouble only: lock waits, deadlock cycles and violations.

Why the font floor: the window is projected in lecture halls, so view text is
never smaller than :data:`VIEW_POINT_SIZE` whatever the desktop's default.

Nothing here caches the palette: views ask :func:`is_dark` / :func:`foreground`
when they paint, so a switch between light and dark follows at the next frame.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from visualizer.events import CANCELLED, COMPLETED, PROCESSING, QUEUED

STATUS_COLORS: dict[str, QColor] = {
    QUEUED: QColor("#56B4E9"),  # sky blue
    PROCESSING: QColor("#E69F00"),  # orange
    COMPLETED: QColor("#009E73"),  # bluish green
    CANCELLED: QColor("#CC79A7"),  # reddish purple (and always hatched)
}
"""One fill colour per task status, used by every view and the status bar."""

UNKNOWN_STATUS_COLOR = QColor("#9E9E9E")
"""A task the stream never added (only the unsafe strategy produces these)."""

_THREAD_PALETTE = (
    "#4C9BE8",  # blue
    "#F28E2B",  # orange
    "#59A14F",  # green
    "#B07AA1",  # purple
    "#EDC948",  # yellow
    "#76B7B2",  # teal
    "#FF9DA7",  # pink
    "#A0785F",  # brown
    "#BAB0AC",  # grey
    "#8CD17D",  # light green
)

ALERT_COLOR = QColor("#E5383B")
"""Lock waits, deadlock cycles, violations: a red with contrast on light and dark."""

VIEW_POINT_SIZE = 12.0
"""Smallest point size of ordinary view text (readable on a projector)."""

SMALL_POINT_SIZE = 11.0
"""Smallest point size of secondary text (axis ticks, captions)."""


def thread_color(index: int) -> QColor:
    """The colour of the thread the model numbered ``index`` (stable for the run).

    The first ten come from a fixed qualitative palette; later ones step round
    the hue circle by the golden angle so that neighbours never look alike.
    """
    if 0 <= index < len(_THREAD_PALETTE):
        return QColor(_THREAD_PALETTE[index])
    hue = (index * 0.618034) % 1.0
    return QColor.fromHslF(hue, 0.55, 0.62)


def status_color(status: str | None) -> QColor:
    """Fill colour of a status, grey for a status the stream never gave."""
    if status is None:
        return QColor(UNKNOWN_STATUS_COLOR)
    return QColor(STATUS_COLORS.get(status, UNKNOWN_STATUS_COLOR))


def status_brush(status: str | None) -> QBrush:
    """Solid brush of a status colour (cancelled ones get :func:`hatch_brush` on top)."""
    return QBrush(status_color(status))


def hatch_brush(color: QColor | None = None) -> QBrush:
    """Diagonal hatching, laid over a fill to say "cancelled" or "waiting" without colour alone."""
    return QBrush(color if color is not None else QColor(0, 0, 0, 100), Qt.BrushStyle.BDiagPattern)


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG 2) of a colour, 0 for black to 1 for white."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def text_on(fill: QColor) -> QColor:
    """Black or white, whichever contrasts more with ``fill`` (for labels inside shapes)."""
    lum = luminance(fill)
    # Contrast with black is (L + .05) / .05, with white 1.05 / (L + .05): equal at L ~ 0.18.
    return QColor(Qt.GlobalColor.black) if lum > 0.179 else QColor(Qt.GlobalColor.white)


def _palette(widget: QWidget | None) -> QPalette:
    return widget.palette() if widget is not None else QApplication.palette()


def is_dark(widget: QWidget | None = None) -> bool:
    """Does the (widget's or application's) palette put light text on a dark window?"""
    return _palette(widget).color(QPalette.ColorRole.Window).lightnessF() < 0.5


def foreground(widget: QWidget | None = None) -> QColor:
    """The palette's text colour: lines and labels drawn straight on the background."""
    return _palette(widget).color(QPalette.ColorRole.WindowText)


def background(widget: QWidget | None = None) -> QColor:
    """The palette's base colour: the background views paint on."""
    return _palette(widget).color(QPalette.ColorRole.Base)


def muted(widget: QWidget | None = None, alpha: float = 0.55) -> QColor:
    """The text colour faded towards the window colour: grid lines, captions, empty states.

    An opaque mix rather than a translucent colour: it looks the same on the
    window background and is cheaper to rasterise (no blending per pixel).
    """
    ink = foreground(widget)
    paper = _palette(widget).color(QPalette.ColorRole.Window)
    return QColor.fromRgbF(
        ink.redF() * alpha + paper.redF() * (1 - alpha),
        ink.greenF() * alpha + paper.greenF() * (1 - alpha),
        ink.blueF() * alpha + paper.blueF() * (1 - alpha),
    )


ZOOM_STEPS = (0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0)
"""The zoom levels View > Zoom In / Out step through (1.0: the floors above)."""

_zoom = 1.0


def zoom() -> float:
    """The window's zoom: every view font is this many times its usual size."""
    return _zoom


def set_zoom(factor: float) -> None:
    """Set the zoom (the nearest step); call :func:`restyle` on the window afterwards."""
    global _zoom
    _zoom = min(ZOOM_STEPS, key=lambda step: abs(step - factor))


def zoom_step(current: float, direction: int) -> float:
    """The next zoom level up (``direction`` 1) or down (-1) from ``current``."""
    index = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - current))
    return ZOOM_STEPS[max(0, min(len(ZOOM_STEPS) - 1, index + direction))]


def view_font(scale: float = 1.0, *, bold: bool = False, small: bool = False) -> QFont:
    """The application font, but never below the projector-readable floor, times ``scale``
    and the window's zoom."""
    font = QFont(QApplication.font())
    floor = SMALL_POINT_SIZE if small else VIEW_POINT_SIZE
    size = font.pointSizeF()
    font.setPointSizeF(max(size if size > 0 else floor, floor) * scale * _zoom)
    font.setBold(bold)
    return font


def styled(widget: QWidget, scale: float = 1.0, *, bold: bool = False, small: bool = False) -> None:
    """Give ``widget`` a view font, and remember which, so :func:`restyle` can zoom it."""
    widget.setFont(view_font(scale, bold=bold, small=small))
    widget._view_font = (scale, bold, small)  # type: ignore[attr-defined]


def restyle(root: QWidget) -> None:
    """After a zoom change: every styled widget under ``root`` gets its font again, and
    every widget that caches fonts or sizes (a ``restyle()`` method) recomputes them."""
    for widget in (root, *root.findChildren(QWidget)):
        spec = getattr(widget, "_view_font", None)
        if spec is not None:
            scale, bold, small = spec
            widget.setFont(view_font(scale, bold=bold, small=small))
        hook = getattr(widget, "restyle", None)
        if callable(hook):
            hook()

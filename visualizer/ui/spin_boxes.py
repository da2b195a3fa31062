"""Spin boxes for a narrow panel: as narrow as their numbers allow, never cutting words.

Why: Qt sizes a spin box for its maximum's digits (10 000 000 tasks: far too wide
for the control panel beside a 1024-pixel projector's views), and a fixed minimum
cut the words some show at their minimum ("until stopped").  These are as narrow
as :data:`SPIN_MIN_WIDTH` and as wide as such words need, in their current font.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox

SPIN_MIN_WIDTH = 84


def _narrow_hint(box: QAbstractSpinBox, hint: QSize, limits: tuple[str, str]) -> QSize:
    """A spin box's least width: :data:`SPIN_MIN_WIDTH`, or its special text whole
    ("until stopped") with the box's frame and arrows, in the box's current font.

    Qt's own hint fits the maximum's digits (far too wide for a narrow panel), and
    a fixed minimum cut the special text on a 1024-pixel screen.  ``limits`` are
    the minimum and maximum as the box shows them.
    """
    special = box.specialValueText()
    if not special:
        return QSize(SPIN_MIN_WIDTH, hint.height())
    metrics = box.fontMetrics()
    # Qt's own hint is the widest of these texts plus the frame and the arrows.
    widest = max(metrics.horizontalAdvance(text) for text in (*limits, special))
    chrome = max(box.sizeHint().width() - widest, 0)
    return QSize(max(SPIN_MIN_WIDTH, metrics.horizontalAdvance(special) + chrome), hint.height())


class _SpinBox(QSpinBox):
    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        low, high = (self.textFromValue(v) for v in (self.minimum(), self.maximum()))
        limits = (self.prefix() + low + self.suffix(), self.prefix() + high + self.suffix())
        return _narrow_hint(self, super().minimumSizeHint(), limits)


class _DoubleSpinBox(QDoubleSpinBox):
    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        low, high = (self.textFromValue(v) for v in (self.minimum(), self.maximum()))
        limits = (self.prefix() + low + self.suffix(), self.prefix() + high + self.suffix())
        return _narrow_hint(self, super().minimumSizeHint(), limits)


def spin(low: int, high: int, tip: str, special: str = "", suffix: str = "") -> QSpinBox:
    """A whole-number input: ``special`` is the text shown at the minimum ("until stopped")."""
    box = _SpinBox()
    box.setRange(low, high)
    box.setSpecialValueText(special)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def dspin(
    low: float, high: float, decimals: int, tip: str, special: str = "", suffix: str = ""
) -> QDoubleSpinBox:
    """A decimal input that steps by the size of its value (0.1, 1, 10 ...)."""
    box = _DoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSpecialValueText(special)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    box.setAccelerated(True)
    box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    return box

"""The strategy picker: as wide as the longest strategy title, eliding anything longer.

Why: a combo box sized by its items grows with a user's long queue file name and
takes the views' room on a 1024-pixel projector; sized by a character count it
cut the longer strategy titles there.  This one is exactly as wide as the titles
it is given (in its current font: presentation zoom changes it), and a longer
entry (``VeryLongClassName (homework_final_v2.py) — your queue``) shows elided
in the middle in the closed box, whole in the list and its tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget


class TitleBox(QComboBox):
    """A combo box whose width fits ``titles`` and whose closed box elides the rest."""

    def __init__(self, titles: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._titles = list(titles)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(1)  # the items do not size the box: the titles do

    def _fitted(self, hint: QSize) -> QSize:
        if not self._titles:
            return hint
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        metrics = self.fontMetrics()
        text = QSize(max(metrics.horizontalAdvance(t) for t in self._titles), metrics.height())
        size = self.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, text, self)
        return QSize(max(size.width(), hint.width()), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self._fitted(super().sizeHint())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self._fitted(super().minimumSizeHint())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideMiddle, field.width()
        )
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

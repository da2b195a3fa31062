"""The violation banner: a red bar across the views when an invariant breaks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class ViolationBanner(QFrame):
    """A red bar across the views: impossible to miss from the back of a lecture hall.

    Two lines at most, so it never pushes the views off screen: a large headline
    (how many, and the first kind) and the first violation's detail, elided to the
    width with the full text in its tooltip.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("violationBanner")
        self.setStyleSheet(
            "#violationBanner { background: #c62828; border-radius: 4px; }"
            "#violationBanner QLabel { color: white; }"
        )
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.label.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.label.setFont(font)
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._detail_text = ""
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("Select the violation's task in every view and show the list")
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.label)
        text.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addLayout(text, 1)
        layout.addWidget(self.show_button)
        self.hide()

    def show_violations(self, count: int, first_kind: str, first_detail: str) -> None:
        noun = "violation" if count == 1 else "violations"
        self.label.setText(f"\u26a0  {count} invariant {noun} \u2014 first: {first_kind}")
        self._detail_text = first_detail
        self.detail.setToolTip(first_detail)
        self._elide()
        self.show()

    def _elide(self) -> None:
        metrics = self.detail.fontMetrics()
        width = max(0, self.detail.width())
        self.detail.setText(
            metrics.elidedText(self._detail_text, Qt.TextElideMode.ElideRight, width)
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

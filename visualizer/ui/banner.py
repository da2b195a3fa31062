"""The violation banner: a red bar across the views when an invariant breaks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
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

    A large headline (how many, and the first kind) and the first violation's
    detail, wrapped: it is the sentence a lecturer reads out (the forgotten
    release's exception and the line it skipped are at its end), so it is never
    cut; a very long one scrolls in the anomalies view, and its tooltip has it all.
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
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail.setMinimumWidth(1)
        self.restyle()
        self._detail_text = ""
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("Select the violation's task in every view and show the list")
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.label)
        text.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 3, 12, 3)
        layout.addLayout(text, 1)
        layout.addWidget(self.show_button)
        self.hide()

    def restyle(self) -> None:
        """The headline half again as large as the window's text (after a zoom too)."""
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.label.setFont(font)

    def show_violations(self, count: int, first_kind: str, first_detail: str) -> None:
        noun = "violation" if count == 1 else "violations"
        self.label.setText(f"\u26a0  {count} invariant {noun} \u2014 first: {first_kind}")
        self._detail_text = first_detail
        self.detail.setToolTip(first_detail)
        if self.detail.text() != first_detail:
            self.detail.setText(first_detail)
        self.show()

"""What every dockable view shares: the protocol's signal, the view font, the model it reads."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from visualizer.model import RunModel
from visualizer.ui.theme import view_font


class RunView(QWidget):
    """A view of one run's :class:`RunModel`; subclasses set ``title`` and implement
    ``set_model``, ``refresh`` and ``select_task`` (see :mod:`visualizer.ui.views`)."""

    title = ""
    task_selected = Signal(object)  # a task id, when the user picks one in this view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(view_font())
        self.model: RunModel | None = None

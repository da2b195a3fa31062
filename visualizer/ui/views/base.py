"""What every dockable view shares: the protocol's signal, the view font, the model it reads."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from visualizer.model import RunModel
from visualizer.ui.theme import styled


class RunView(QWidget):
    """A view of one run's :class:`RunModel`; subclasses set ``title`` and implement
    ``set_model``, ``refresh`` and ``select_task`` (see :mod:`visualizer.ui.views`)."""

    title = ""
    task_selected = Signal(object)  # a task id, when the user picks one in this view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        styled(self)
        self.model: RunModel | None = None

    def set_model(self, model: RunModel | None) -> None:
        """Show ``model`` from now on (None: a blank view, before the first run)."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Repaint from the model; the window calls it on its frame timer, at most 60 Hz."""
        raise NotImplementedError

    def select_task(self, task_id: Hashable | None) -> None:
        """Highlight ``task_id``, picked in another view (None: clear the highlight)."""
        raise NotImplementedError

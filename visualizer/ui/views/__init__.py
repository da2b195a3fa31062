"""The dockable views.  Each one reads the RunModel on the GUI thread and nothing else.

Every view follows the protocol in the contract: ``title`` (dock title),
``set_model(model)`` (forget the old run), ``refresh()`` (repaint from the model;
called at most 60 times a second, only when ``model.version`` changed),
``task_selected`` (a Signal carrying a task id) and ``select_task(task_id)``.
Their common base, :class:`~visualizer.ui.views.base.RunView`, holds the shared part.
"""

from visualizer.ui.views.anomalies_view import AnomaliesView
from visualizer.ui.views.heap_view import HeapView
from visualizer.ui.views.lanes_view import LanesView
from visualizer.ui.views.locks_view import LocksView
from visualizer.ui.views.throughput_view import ThroughputView

ALL_VIEWS = [HeapView, LanesView, LocksView, ThroughputView, AnomaliesView]

__all__ = ["ALL_VIEWS", "AnomaliesView", "HeapView", "LanesView", "LocksView", "ThroughputView"]

"""How long from clicking Start to the first events in the views?

``queue-visualizer --measure-start N`` (the bench's ``process`` section) clicks
Start N times, each time once a run process is waiting (as it is when a user
clicks: the window keeps one ready), and times the click to the first batch of
events folded into the model.  Each run is stopped before the next click.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from time import perf_counter

from PySide6.QtCore import QObject, QTimer, Slot

from visualizer.engine import RunState
from visualizer.events import Batch
from visualizer.ui.main_window import MainWindow

POLL_MS = 20


class StartProbe(QObject):
    """Clicks Start ``starts`` times and calls ``done(seconds per start)``."""

    def __init__(
        self, window: MainWindow, starts: int, done: Callable[[list[float]], None]
    ) -> None:
        super().__init__(window)
        self.window = window
        self.starts = starts
        self.samples: list[float] = []
        self._done = done
        self._clicked: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        window.bridge.batch_ready.connect(self._first_events)

    def begin(self) -> None:
        self.window.launcher.prepare()
        self._timer.start()

    @Slot()
    def _poll(self) -> None:
        """Click when the last run is over and a run process is ready for the next."""
        window = self.window
        if self._clicked is not None:
            return
        if window.run is not None and window.run.state not in (
            RunState.FINISHED,
            RunState.STOPPED,
        ):
            return
        if len(self.samples) >= self.starts:
            self._timer.stop()
            self._done(self.samples)
            return
        if not window.launcher.ready():
            return
        self._clicked = perf_counter()
        window.actions_by_name["start"].trigger()

    @Slot(object)
    def _first_events(self, batch: Batch) -> None:
        if self._clicked is None or not batch.events:
            return
        self.samples.append(perf_counter() - self._clicked)
        self._clicked = None
        self.window.stop_run()


def start_report(samples: list[float]) -> str:
    """One line the bench reads."""
    ms = [s * 1000 for s in samples]
    return (
        f"start to first event: median {statistics.median(ms):.0f} ms, "
        f"max {max(ms):.0f} ms over {len(ms)} starts"
    )

"""The headless consumer: drain a recorder on a thread and hand batches to a callback.

The recorder has exactly one consumer.  In the window that is the GUI thread's
frame timer; without a window (the command line, the bench, tests) it is a
:class:`Drainer`, by default at the same rate (once per 60 Hz frame).  Frequent
drains keep the buffer short: the recorder never has to drop events, event
tuples die young (cheap for the garbage collector and the caches), and the
consumer's work still comes in batches rather than one call per event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from visualizer.events import Batch, EventSource


class Drainer:
    """Drains ``recorder`` every ``interval`` seconds into ``on_batch``.

    ``on_batch`` runs on the drainer's thread, so whatever it feeds (a model)
    belongs to that thread until :meth:`stop` has returned.  Stop drains once
    more after the last tick, so every event recorded before it is delivered.
    An exception in ``on_batch`` ends the thread and is raised again by
    :meth:`stop`, rather than being lost on a background thread.

    With ``backlog`` (events), the drainer asks for backpressure: run threads
    wait between tasks while more than that many events are waiting, so a slow
    ``on_batch`` slows the run instead of making the recorder drop events.
    """

    def __init__(
        self,
        recorder: EventSource,
        on_batch: Callable[[Batch], object],
        interval: float = 1 / 60,
        name: str = "drainer",
        backlog: int | None = 100_000,
    ) -> None:
        self.recorder = recorder
        self.backlog = backlog
        self.on_batch = on_batch
        self.interval = interval
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Drainer:
        if self.backlog is not None:
            self.recorder.backlog = self.backlog
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is left, end the thread, and re-raise a callback error."""
        self._stop.set()
        self._thread.join(timeout)
        if self.backlog is not None:
            self.recorder.backlog = None
        if self._thread.is_alive():
            raise TimeoutError("the drainer did not finish its last batch in time")
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Drainer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _drain_once(self) -> None:
        """Drain what is waiting and deliver it if there is anything."""
        batch = self.recorder.drain()
        if batch.events or batch.dropped:
            self.on_batch(batch)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self._drain_once()
            self._drain_once()
        except BaseException as exc:  # handed to stop(), which raises it on the caller's thread
            self.error = exc

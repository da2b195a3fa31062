"""What the run process sends of its events: frames for the window's event pipe.

Each frame's payload is ``(dropped, events, names)``: how many events the
recorder dropped just before these, the events, and the names of threads the
window has not been told of.  ``events`` is one of two things:

* a block of the compact binary form (``bytes``, ``visualizer/_block.h``), where
  the run's recorder keeps its events in the C speedups' store and the window
  said it can read blocks.  No Python object is made per event on this side:
  the store writes its C records straight into the block, and the window makes
  the tuples, in its own process, under its own GIL.  What the watched process
  pays per event is then the record and a few bytes, not a tuple, its time
  stamp's int and their pickling (measured with ``bench --section single``);
* a list of event tuples, pickled, everywhere else (pure Python, a window that
  cannot read blocks, a value a block cannot hold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from visualizer.engine.host.wire import encode
from visualizer.events import Recorder

FRAME_EVENTS = 4096
"""At most this many events per frame: the window decodes a frame at a time (under a
millisecond for this many), so a backlog never arrives as one long decode."""


class Outbox:
    """Drains a recorder into frames, naming each thread to the window once."""

    def __init__(self, recorder: Recorder, thread_name: Callable[[int], str], blocks: bool) -> None:
        self.recorder = recorder
        self._thread_name = thread_name
        self.blocks = blocks
        self._names_sent: dict[int, str] = {}

    def frames(self, limit: int) -> tuple[bytes, int, int]:
        """At most ``limit`` waiting events as frames: (the bytes, events, drops)."""
        batch = self.recorder.drain_blocks(limit, FRAME_EVENTS) if self.blocks else None
        if batch is not None:
            parts = batch.parts
            dropped = batch.dropped
        else:
            listed = self.recorder.drain(limit)
            events = listed.events
            dropped = listed.dropped
            parts = [
                (chunk, len(chunk), [event[1] for event in chunk])
                for chunk in (
                    events[start : start + FRAME_EVENTS]
                    for start in range(0, len(events), FRAME_EVENTS)
                )
            ]
        if not parts and dropped:
            parts = [([], 0, [])]  # the drops alone still tell the window
        frames = []
        for index, (events_or_block, count, idents) in enumerate(parts):
            names = self._new_names(idents)
            frames.append(encode((dropped if index == 0 else 0, events_or_block, names), count))
        return b"".join(frames), sum(part[1] for part in parts), dropped

    def _new_names(self, idents: Iterable[int]) -> dict[int, str]:
        """Names of the threads in ``idents`` the window does not know (or knows wrongly)."""
        names: dict[int, str] = {}
        for ident in set(idents):
            name = self._thread_name(ident)
            if self._names_sent.get(ident) != name:
                names[ident] = self._names_sent[ident] = name
        return names

"""The window's end of the event pipe, with the consumer side of a Recorder.

Whoever drains a run's recorder (the window's bridge, a :class:`Drainer`) can
drain an :class:`EventStream` the same way: :meth:`drain`, :meth:`pending`,
:attr:`backlog`, :meth:`thread_name`, :attr:`next_seq`, :attr:`dropped`.  It is
read only by that one consumer, on its own thread, when it asks; no thread of
ours reads ahead, so a consumer that falls behind leaves the pipe full, and the
run process's pump, then its recorder, then its threads wait (see
:mod:`.child`): the same backpressure as in one process, with nothing dropped.

Counting what is still to come: the run process's status says how many events
it has recorded; :meth:`pending` is that minus what has arrived, plus what has
arrived and not been drained.  So "nothing pending" means the window has every
event recorded up to the last status, even those still in the other process.
If that process dies, what it recorded but never sent is delivered as dropped
events in the last batch: counted, never silently lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from visualizer.engine.host.wire import FrameReader, decode
from visualizer.events import Batch, Kind
from visualizer.queues import speedups

LAST_EVENTS = 12
"""Events kept, formatted, for the report of a run process that died."""


class EventStream:
    """Batches from a run process's pump, drained like a :class:`~visualizer.events.Recorder`."""

    def __init__(self, fd: int, set_backlog: Callable[[int | None], object]) -> None:
        self._frames = FrameReader(fd)
        self._set_backlog = set_backlog
        self._backlog: int | None = None
        self._events: list[tuple] = []  # the decoded frame being handed out
        self._position = 0
        self._frame_dropped = 0  # dropped before self._events[0], not yet handed out
        self._arrived = 0  # events and drops in every frame read so far
        self._announced = 0  # recorded by the run process, as far as we know
        self._reported = 0  # what its last status said it had recorded
        self._ended = False  # the run process is gone: nothing more will be announced
        self._next_seq = 0
        self.dropped = 0
        self._names: dict[int, str] = {}
        self.last_events: deque[tuple] = deque(maxlen=LAST_EVENTS)

    # --- told by the listener thread ----------------------------------------------------
    def announce(self, recorded: int) -> None:
        """The run process has recorded ``recorded`` events so far."""
        self._reported = max(self._reported, recorded)
        self._announced = max(self._announced, recorded)

    def end(self) -> None:
        """The run process has exited: once the pipe is empty, the rest was lost."""
        self._ended = True

    def close(self) -> None:
        """Stop reading for good and close the pipe (the run is being discarded)."""
        self._frames.close()

    # --- the consumer interface ------------------------------------------------------------
    @property
    def backlog(self) -> int | None:
        return self._backlog

    @backlog.setter
    def backlog(self, value: int | None) -> None:
        """Ask for backpressure as a Recorder does; the run process's recorder applies it."""
        self._backlog = value
        self._set_backlog(value)

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def status_current(self) -> bool:
        """Whether the run process's last status covers every event received so far.

        Its status and its events travel on two pipes; a status counting fewer
        events than have arrived was sent before some of them (a thread it shows
        parked may have moved since).  With this true and nothing pending, the
        status and the events describe the same moment.
        """
        self._frames.fill()
        return self._reported >= self._arrived_so_far()

    def thread_name(self, ident: int) -> str:
        """The name the run process knows ``ident`` by (its idents, not this process's)."""
        return self._names.get(ident) or f"thread-{ident}"

    def pending(self) -> int:
        """Events recorded by the run (as of its last status) that were not drained yet."""
        self._frames.fill()
        unread = len(self._events) - self._position + self._frames.waiting_events
        return unread + self._frame_dropped + max(0, self._announced - self._arrived_so_far())

    def drain(self, limit: int | None = None) -> Batch:
        """Take waiting events (at most ``limit``) in stream order, as Recorder.drain does."""
        self._frames.fill()
        taken: list[tuple] = []
        dropped = 0
        while limit is None or len(taken) < limit:
            if self._position >= len(self._events) and not self._next_frame():
                break
            if self._frame_dropped:
                if taken:
                    break  # those drops came before this frame: they start the next batch
                dropped += self._frame_dropped
                self._frame_dropped = 0
            end = len(self._events) if limit is None else self._position + limit - len(taken)
            taken.extend(self._events[self._position : end])
            self._position = min(end, len(self._events))
        if not taken and not dropped:
            dropped = self._lost()
        if taken:
            self.last_events.extend(taken[-LAST_EVENTS:])
        batch = Batch(self._next_seq + dropped, taken, dropped)
        self._next_seq += dropped + len(taken)
        self.dropped += dropped
        return batch

    def describe_last_events(self) -> list[str]:
        """The last events received, one readable line each (newest last)."""
        lines = []
        for _t, ident, kind, subject, a, _b in self.last_events:
            try:
                kind_name = Kind(kind).name
            except ValueError:
                kind_name = str(kind)
            detail = "" if a is None else f" {a}"
            lines.append(f"{self.thread_name(ident)}: {kind_name} {subject}{detail}")
        return lines

    # --- inside -----------------------------------------------------------------------------
    def _arrived_so_far(self) -> int:
        return self._arrived + self._frames.waiting_events

    def _next_frame(self) -> bool:
        frame = self._frames.next_frame()
        if frame is None:
            return False
        payload, count = frame
        dropped, events, names = decode(payload)
        if isinstance(events, bytes):  # a block (see .outbox): asked for only where readable
            assert speedups.decode_block is not None
            events = speedups.decode_block(events)[0]
        self._names.update(names)
        self._events, self._position, self._frame_dropped = events, 0, dropped
        self._arrived += count + dropped
        self._announced = max(self._announced, self._arrived)
        return True

    def _lost(self) -> int:
        """Once the process is gone and its pipe empty: what it recorded but never sent."""
        if not self._ended or not self._frames.eof or self._frames.waiting_events:
            return 0
        lost = max(0, self._announced - self._arrived)
        self._arrived += lost
        return lost

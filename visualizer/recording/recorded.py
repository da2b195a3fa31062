"""A loaded log, kept compact: its events in blocks, decoded when asked for.

Why not a list of event tuples: a tuple event costs some 180 bytes in memory,
so a 30-second flat-out recording (five million events) needed about a
gigabyte.  The window needs every event at hand (the scrubber can ask for any
position), but rarely many at once, so :class:`RecordedRun` keeps a few
thousand events to a block, plus each event's time stamp (8 bytes, for the
scrubber's time axis).  A block is, where the C speedups are built, the compact
binary form their ``Encoder`` writes as the log is checked (about 12 bytes an
event, see ``_speedups.c``: no Python object is made per event while loading),
and otherwise the lines as read from the file, already validated and
zlib-compressed (about 14 bytes an event, and slower to make and to read).  A
block is decoded when a batch, an event or an iteration needs it; the last few
decoded blocks are kept, so stepping through a log event by event decodes each
block once.
"""

from __future__ import annotations

import json
import threading
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, overload

from visualizer.events import Batch
from visualizer.recording.validate import LineParser

BLOCK_EVENTS = 4096
"""Events per compressed block: large enough to compress well, small enough to decode fast."""
KEPT_BLOCKS = 4
"""Decoded blocks kept for the next request (a scrubber moving a little, a playback)."""


@dataclass(frozen=True, slots=True)
class Block:
    """Some whole lines of the log: events ``first`` .. ``first + count - 1``."""

    first: int
    count: int
    first_seq: int
    last_seq: int
    blob: bytes  # the run's codec's block, or else the lines, zlib-compressed


def decode_lines(data: bytes) -> tuple[list[tuple], array]:
    """Events and sequence numbers of lines that were validated when the log was read."""
    parser = LineParser(None)
    events: list[tuple] = []
    seqs = array("q")
    for line in data.splitlines():
        parser.parse(json.loads(line), 0, events, seqs, False)
    return events, seqs


@dataclass
class RecordedRun:
    """A loaded log: its header, its events in stream order, and the threads' names.

    :attr:`events` reads like a list of raw tuples ``(t_ns, thread, kind,
    subject, a, b)`` exactly as the recorder held them (``kind`` an int again),
    and :attr:`seqs` like a list of their sequence numbers; both decode blocks
    on demand.  ``complete`` is False when the file was cut short and loaded
    anyway (``problem`` then says where and why).
    """

    path: str
    header: dict[str, Any]
    thread_names: dict[int, str] = field(default_factory=dict)
    dropped: int = 0
    complete: bool = True
    problem: str | None = None
    until_ns: int | None = None  # the end line's: the recording reaches past its last event
    blocks: list[Block] = field(default_factory=list, repr=False)
    clock: array = field(default_factory=lambda: array("q"), repr=False)
    """Per event: the latest time stamp seen up to it (stamps can be a hair out of
    order across threads; this never goes back, so it can be bisected)."""
    _starts: list[int] = field(default_factory=list, repr=False, compare=False)
    _blob_bytes: int = field(default=0, repr=False, compare=False)
    _decoded: OrderedDict[int, tuple[list[tuple], array]] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    codec: ModuleType | None = field(default=None, repr=False, compare=False)
    """The C speedups whose ``Encoder`` wrote the blocks, which decode them again
    (None: the blocks are compressed lines, as the pure Python path keeps them)."""

    @property
    def version(self) -> int:
        return self.header["version"]

    @property
    def settings(self) -> dict[str, Any]:
        return self.header["settings"]

    @property
    def strategy(self) -> str:
        return self.header["strategy"]

    @property
    def created(self) -> str:
        return self.header["created"]

    @property
    def scenario(self) -> dict[str, Any] | None:
        """The teaching scenario the run was, if the header says so (see ``scenario_of``)."""
        value = self.header.get("scenario")
        if type(value) is dict and type(value.get("name")) is str:
            return value
        return None

    @property
    def subject(self) -> dict[str, Any] | None:
        """What ran (``stepping.Subject.to_data``), if the log says: a saved counterexample."""
        value = self.header.get("subject")
        return value if type(value) is dict else None

    @property
    def schedule(self) -> str | None:
        """The schedule text the run followed, if the log says (see ``subject``)."""
        value = self.header.get("schedule")
        return value if type(value) is str else None

    @property
    def total(self) -> int:
        """Events in the log."""
        return len(self.clock)

    @property
    def events(self) -> EventList:
        return EventList(self, 0)

    @property
    def seqs(self) -> EventList:
        return EventList(self, 1)

    @property
    def memory_bytes(self) -> int:
        """About what the events take in memory (blocks and time stamps)."""
        return self._blob_bytes + self.clock.itemsize * self.total

    def thread_name(self, ident: int) -> str:
        """Same contract as ``Recorder.thread_name``, so models can use either."""
        return self.thread_names.get(ident) or f"thread-{ident}"

    def numbered(self) -> Iterator[tuple[int, tuple]]:
        """``(seq, raw_event)`` pairs in stream order."""
        for index in range(len(self.blocks)):
            events, seqs = self.decoded(index)
            yield from zip(seqs, events, strict=True)

    # --- building (the reader) and decoding ------------------------------------
    def add_text(self, lines: list[bytes], count: int, first_seq: int, last_seq: int) -> None:
        """Keep ``lines`` (validated, holding ``count`` events) as the next block (the
        pure Python path; the caller adds their time stamps to :attr:`clock`)."""
        self._add(Block(0, count, first_seq, last_seq, zlib.compress(b"".join(lines), 1)))

    def add_encoded(
        self, blob: bytes, times: bytes, count: int, first_seq: int, last_seq: int
    ) -> None:
        """Keep a block the codec's ``Encoder`` finished (``times``: its events' time
        stamps, native int64)."""
        self.clock.frombytes(times)
        self._add(Block(0, count, first_seq, last_seq, blob))

    def _add(self, block: Block) -> None:
        first = self.blocks[-1].first + self.blocks[-1].count if self.blocks else 0
        block = replace(block, first=first)
        self.blocks.append(block)
        self._blob_bytes += len(block.blob)
        self._starts.append(first)

    def decoded(self, index: int) -> tuple[list[tuple], array]:
        """Block ``index``'s events and sequence numbers (the last few are kept)."""
        cache = self._decoded
        with self._lock:  # a save in the background and the scrubber may both ask
            found = cache.get(index)
            if found is not None:
                cache.move_to_end(index)
                return found
        blob = self.blocks[index].blob
        if self.codec is not None:
            events, packed = self.codec.decode(blob)
            seqs = array("q")
            seqs.frombytes(packed)
            found = (events, seqs)
        else:
            found = decode_lines(zlib.decompress(blob))
        with self._lock:
            cache[index] = found
            if len(cache) > KEPT_BLOCKS:
                cache.popitem(last=False)
        return found

    def block_of(self, position: int) -> int:
        """Index of the block holding event ``position``."""
        return bisect_right(self._starts, position) - 1

    def event(self, position: int, part: int = 0) -> Any:
        """Event ``position`` (``part`` 0) or its sequence number (``part`` 1)."""
        if not 0 <= position < self.total:
            raise IndexError("event index out of range")
        index = self.block_of(position)
        return self.decoded(index)[part][position - self.blocks[index].first]

    # --- replaying -------------------------------------------------------------
    def batches(self, size: int = 4096, start: int = 0, stop: int | None = None) -> Iterator[Batch]:
        """Replay events ``start`` to ``stop`` (indices) as recorder batches, for ``model.apply``.

        A batch ends where the sequence numbers jump, and the next one carries the
        jump as ``dropped``, as the recorder's own batch would have; drops from
        before the first event written go with the first batch, so the batches of
        the whole log have ``dropped`` adding up to :attr:`dropped`.  A replay that
        folds the log piece by piece (a scrubber) gets the same batches' worth of
        drops as one that folds it in one go.
        """
        if size < 1:
            raise ValueError("batch size must be at least 1")
        total = self.total
        stop = total if stop is None else min(stop, total)
        if start >= stop:
            return
        blocks = self.blocks
        if start == 0:
            gaps = blocks[-1].last_seq - blocks[0].first_seq + 1 - total
            dropped = max(0, self.dropped - gaps)
        else:
            dropped = self.event(start, 1) - self.event(start - 1, 1) - 1
        index = self.block_of(start)
        while start < stop:
            block = blocks[index]
            events, seqs = self.decoded(index)
            low, high = start - block.first, min(stop - block.first, block.count)
            while low < high:
                end = min(low + size, high)
                if seqs[end - 1] - seqs[low] != end - 1 - low:  # a gap in there: end at it
                    end = next(i for i in range(low + 1, end) if seqs[i] != seqs[i - 1] + 1)
                yield Batch(seqs[low], events[low:end], dropped)
                dropped = seqs[end] - seqs[end - 1] - 1 if end < block.count else 0
                low = end
            start = block.first + high
            index += 1
            if start < stop:
                dropped = blocks[index].first_seq - block.last_seq - 1


class EventList(Sequence):
    """The events (``part`` 0) or sequence numbers (``part`` 1) of a run, read like a list."""

    __slots__ = ("_run", "_part")

    def __init__(self, run: RecordedRun, part: int) -> None:
        self._run = run
        self._part = part

    def __len__(self) -> int:
        return self._run.total

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._run.event(i, self._part) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        return self._run.event(index, self._part)

    def __iter__(self) -> Iterator[Any]:
        run = self._run
        for index in range(len(run.blocks)):
            yield from run.decoded(index)[self._part]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(mine == theirs for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

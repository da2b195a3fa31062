"""Write drained batches to an event log (format: :mod:`visualizer.recording.schema`).

The writer runs on the recorder's single consumer (the GUI thread or a
:class:`~visualizer.engine.drain.Drainer`), but it shares the GIL with the
run's threads, so every microsecond it spends per event is taken from the run.
Encoding costs about 0.6 us an event even done well (one list comprehension
renames kinds and adds sequence numbers, one ``json`` call encodes up to
:data:`CHUNK` events, one ``write`` per batch), and a flat-out run records some
700 000 events a second: encoding as the run goes would slow it by 40 %.

So the writer does no per-event work while a run is on.  :meth:`LogWriter.write_batch`
keeps the drained batch (its tuples exist already; keeping them costs a list
append) and encoding happens in :meth:`LogWriter.flush` and :meth:`LogWriter.close`,
which the consumer calls when the run is paused or over.  Once more than
``max_pending`` events are waiting, ``write_batch`` encodes the oldest batches
itself, about as many events as it was given, so memory stays bounded on very
long runs and they pay the encoding cost evenly, never in one long stall.
The price of deferring: events not yet flushed are lost if the program dies.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TextIO

from visualizer import __version__
from visualizer.events import Batch
from visualizer.recording.schema import CHUNK, CLOCK, FIELDS, FORMAT_TAG, KIND_NAMES, VERSION

DEFAULT_MAX_PENDING = 500_000
"""Events kept unencoded: about 80 MB, and under a second to encode at close."""
BUFFER_BYTES = 1 << 20
"""Write buffer: the lines of many small batches go out in one system call."""
GZIP_LEVEL = 1
"""Fastest zlib level: about 6x smaller files for about 0.3 us per event."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _name_table(names: Mapping[int, str]) -> dict[str, str]:
    """JSON object keys are strings: idents go out as decimal strings."""
    return {str(int(ident)): str(name) for ident, name in names.items()}


class LogWriter:
    """Appends batches to a new log file; :meth:`close` writes the end line.

    ``settings`` are the workload settings as a plain dict
    (``dataclasses.asdict(workload)``); ``thread_name`` (typically
    ``recorder.thread_name``) names, at close, every thread the events
    mentioned.  ``compress`` defaults to "the path ends in ``.gz``".
    ``max_pending`` bounds the events kept unencoded (0: encode every batch
    at once, for a log that must be complete on disk as the run goes).
    ``scenario`` (``run.scenario``: name, fixed, params) says the run was a
    teaching scenario; ``until_ns`` (``perf_counter_ns``), given when the log
    is saved while the run still goes, is how far the recording reaches past
    its last event (a deadlock recorded mid-way lasts until then).
    ``subject`` and ``schedule`` say what ran under which schedule (a
    counterexample ``explore`` found), so the window can run it again and step it.

    Not thread-safe: like the recorder's ``drain``, it belongs to one consumer.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        settings: Mapping[str, Any],
        strategy: str,
        thread_name: Callable[[int], str] | None = None,
        threads: Mapping[int, str] | None = None,
        compress: bool | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
        scenario: Mapping[str, Any] | None = None,
        until_ns: int | None = None,
        subject: Mapping[str, Any] | None = None,
        schedule: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.max_pending = max_pending
        self.until_ns = until_ns
        self._thread_name = thread_name
        self._threads = dict(threads or {})
        header = {
            "format": FORMAT_TAG,
            "version": VERSION,
            "created": _now(),
            "strategy": strategy,
            "settings": dict(settings),
            "threads": _name_table(self._threads),
            "fields": list(FIELDS),
            "clock": CLOCK,
            "generator": f"queue-visualizer {__version__}",
        }
        if scenario is not None:
            header["scenario"] = dict(scenario)
        if subject is not None:
            header["subject"] = dict(subject)
        if schedule is not None:
            header["schedule"] = schedule
        try:
            header_line = json.dumps(header, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"settings must be plain JSON values: {exc}") from None
        if compress is None:
            compress = self.path.endswith(".gz")
        # Closed by close(), which writes the end line first.
        self._file: TextIO
        if compress:
            # Each line reaches zlib as one call (lines are large): no extra buffer needed.
            self._file = gzip.open(  # noqa: SIM115
                self.path, "wt", compresslevel=GZIP_LEVEL, encoding="utf-8", newline="\n"
            )
        else:
            self._file = open(  # noqa: SIM115
                self.path, "w", encoding="utf-8", newline="\n", buffering=BUFFER_BYTES
            )
        # repr() for anything JSON has no type for: lossy, but recording never
        # stops over an odd value (see the mapping table in schema.py).
        self._encode = json.JSONEncoder(
            separators=(",", ":"), check_circular=False, default=repr
        ).encode
        self._idents: set[int] = set()
        self._pending: deque[Batch] = deque()
        self.pending = 0  # events in _pending
        self._next_seq = 0
        self.events_written = 0
        self.dropped = 0
        self.closed = False
        try:
            # Out to the OS at once: a full disk or a device that takes nothing
            # (``/dev/full``) fails here, before the run starts, not minutes later.
            self._file.write(header_line + "\n")
            self._file.flush()
        except OSError:
            self.abandon()
            raise

    def write_batch(self, batch: Batch) -> None:
        """Take one drained batch (events in stream order, numbered from ``first_seq``).

        Kept, not encoded, unless more than ``max_pending`` events are waiting.
        The batch's event list must not be changed afterwards.
        """
        if self.closed:
            raise ValueError("write to a closed log")
        if batch.first_seq < self._next_seq:
            raise ValueError(
                f"batch starts at seq {batch.first_seq}, before seq {self._next_seq} "
                "already taken: batches must be written in the order they were drained"
            )
        self.dropped += batch.dropped
        if batch.events:
            self._pending.append(batch)
            self.pending += len(batch.events)
            self._next_seq = batch.first_seq + len(batch.events)
            if self.pending > self.max_pending:
                self._encode_pending(self.pending - self.max_pending)

    def _encode_pending(self, at_least: int | None = None) -> None:
        """Encode the oldest waiting batches: all, or enough to cover ``at_least`` events."""
        names = KIND_NAMES
        encode = self._encode
        write = self._file.write
        pending = self._pending
        done = 0
        while pending and (at_least is None or done < at_least):
            batch = pending.popleft()
            events = batch.events
            self.pending -= len(events)
            done += len(events)
            try:
                rows = [
                    (seq, t, thread, names[kind], subject, a, b)
                    for seq, (t, thread, kind, subject, a, b) in enumerate(events, batch.first_seq)
                ]
            except KeyError as exc:
                raise ValueError(f"event with unknown kind {exc.args[0]!r}") from None
            for start in range(0, len(rows), CHUNK):
                write(encode(rows[start : start + CHUNK]) + "\n")
            self._idents.update(map(itemgetter(1), events))
            self.events_written += len(events)

    def flush(self) -> None:
        """Encode every waiting event and hand the lines to the OS.

        Call it when the run is paused or over (it costs about 0.6 us an event),
        or whenever a reader should see the events so far.
        """
        self._encode_pending()
        self._file.flush()

    def close(self) -> None:
        """Write the end line and close the file; later calls do nothing."""
        if self.closed:
            return
        self.closed = True
        try:
            self._encode_pending()
        except BaseException:
            self._file.close()  # no end line: the reader will call the log cut short
            raise
        names = dict(self._threads)
        if self._thread_name is not None:
            for ident in sorted(self._idents):
                names[ident] = self._thread_name(ident)
        end = {
            "type": "end",
            "events": self.events_written,
            "dropped": self.dropped,
            "threads": _name_table(names),
            "ended": _now(),
        }
        if self.until_ns is not None:
            end["until_ns"] = int(self.until_ns)
        try:
            self._file.write(json.dumps(end, separators=(",", ":")) + "\n")
        finally:
            self._file.close()

    def abandon(self) -> None:
        """Stop writing after a write failed: close the file without an end line.

        Readers will call the log cut short (which it is); the events not yet
        written are dropped.  Errors closing it are ignored: it failed already.
        """
        self.closed = True
        self._pending.clear()
        self.pending = 0
        with contextlib.suppress(OSError):
            self._file.close()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

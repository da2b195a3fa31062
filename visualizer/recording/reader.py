"""Load an event log into a :class:`RecordedRun`, refusing anything that is not one.

A log may come from anywhere (a colleague, a bug report), so loading it must never
run code (only ``json`` parses it: no pickle, no eval), never crash on bad input
and never hang the window: the file is read as a stream, line by line, with a
progress callback that can cancel, and with limits on size, line length and
event count.  Every problem becomes one :class:`LogError` whose message names
the line; the caller decides whether a cut-off log is still worth replaying.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import zlib
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from visualizer.events import THREAD_STARTED, Batch
from visualizer.queues.speedups import load_native
from visualizer.recording.schema import (
    FORMAT_TAG,
    KIND_BY_NAME,
    MAX_NESTING,
    VERSION,
    LogCancelled,
    LogError,
)

DEFAULT_MAX_BYTES = 1 << 30
"""1 GiB of (uncompressed) log: about 15 million events."""
DEFAULT_MAX_EVENTS = 5_000_000
"""About 1 GB of memory once loaded (roughly 180 bytes per event)."""
DEFAULT_MAX_LINE_BYTES = 64 << 20
"""A writer's line holds at most 1024 events; anything near this is not ours."""
PROGRESS_EVERY_BYTES = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"

native, PATH = load_native("visualizer.recording._speedups")
"""The optional C fast path for converting events (``_speedups.c``), and which path runs."""
_SCALARS = frozenset((type(None), bool, int, float, str))

Progress = Callable[[float], object]
"""Called with the fraction read (0..1); returning ``False`` cancels the load."""


class _BadRow(Exception):
    """Internal: the fast path met something it will not accept; diagnose it."""


def _decode(value: Any, depth: int = 0) -> Any:
    """JSON value of an event field -> Python (arrays become tuples)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list and depth < MAX_NESTING:
        return tuple([_decode(item, depth + 1) for item in value])
    raise _BadRow


def _field_problem(name: str, value: Any, depth: int = 0) -> str | None:
    """Why ``value`` is not allowed in an event field, or None if it is."""
    kind = type(value)
    if kind in _SCALARS:
        return None
    if kind is list:
        if depth >= MAX_NESTING:
            return f"{name} has arrays nested more than {MAX_NESTING} deep"
        for item in value:
            problem = _field_problem(name, item, depth + 1)
            if problem:
                return problem
        return None
    return f"{name} holds a JSON object; event fields may only hold values and arrays"


def _row_problem(row: Any, last_seq: int) -> str:
    """Say precisely what is wrong with an event the fast path refused."""
    if type(row) is not list:
        return f"an event must be a JSON array, not {json.dumps(row)[:60]}"
    if len(row) != 7:
        return f"an event has 7 fields (seq, t_ns, thread, kind, subject, a, b), not {len(row)}"
    seq, t_ns, thread, kind, subject, a, b = row
    for name, value in (("seq", seq), ("t_ns", t_ns), ("thread", thread)):
        if type(value) is not int:
            return f"{name} must be an integer, not {json.dumps(value)[:40]}"
    if seq <= last_seq:
        return f"seq {seq} does not follow seq {last_seq}: sequence numbers must increase"
    if type(kind) is not str:
        return f"kind must be a kind name (a string), not {json.dumps(kind)[:40]}"
    if kind not in KIND_BY_NAME:
        return f"unknown event kind {kind!r}"
    for name, value in (("subject", subject), ("a", a), ("b", b)):
        problem = _field_problem(name, value)
        if problem:
            return problem
    return "invalid event"


def _ident_table(value: Any, what: str, line: int) -> dict[int, str]:
    """Validate a ``{"<ident>": "<name>"}`` object."""
    if type(value) is not dict:
        raise LogError(f"{what} must be a JSON object (ident -> name)", line)
    table: dict[int, str] = {}
    for key, name in value.items():
        try:
            ident = int(key)
        except ValueError:
            raise LogError(f"{what}: {key!r} is not a thread ident", line) from None
        if str(ident) != key:
            raise LogError(f"{what}: {key!r} is not a thread ident", line)
        if type(name) is not str:
            raise LogError(f"{what}: the name of thread {key} must be a string", line)
        table[ident] = name
    return table


def _check_header(header: Any) -> None:
    """Line 1 must say what it is and which version; everything else follows from that."""
    if type(header) is not dict or header.get("format") != FORMAT_TAG:
        raise LogError(f'not a queue-visualizer log (no "format": "{FORMAT_TAG}" header)', 1)
    version = header.get("version")
    if type(version) is not int:
        raise LogError("the header's version must be an integer", 1)
    if version > VERSION:
        raise LogError(
            f"log format version {version} is newer than this program reads "
            f"(version {VERSION}); update queue-visualizer to open it",
            1,
        )
    if version < 1:
        raise LogError(f"unsupported log format version {version}", 1)
    for key, kind, label in (
        ("settings", dict, "a JSON object"),
        ("strategy", str, "a string"),
        ("created", str, "a string"),
        ("threads", dict, "a JSON object"),
    ):
        if type(header.get(key)) is not kind:
            raise LogError(f'the header\'s "{key}" must be {label}', 1)


@dataclass
class RecordedRun:
    """A loaded log: its header, its events as raw tuples in stream order, and names.

    ``events[i]`` is the raw tuple ``(t_ns, thread, kind, subject, a, b)`` exactly
    as the recorder held it (``kind`` an int again); ``seqs[i]`` its sequence
    number.  ``complete`` is False when the file was cut short and loaded anyway
    (``problem`` then says where and why).
    """

    path: str
    header: dict[str, Any]
    events: list[tuple] = field(default_factory=list)
    seqs: array = field(default_factory=lambda: array("q"))
    thread_names: dict[int, str] = field(default_factory=dict)
    dropped: int = 0
    complete: bool = True
    problem: str | None = None
    until_ns: int | None = None  # the end line's: the recording reaches past its last event

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
        """The teaching scenario the run was (name, fixed, params), if the header says so.

        Optional (logs from before it was written have none); one that is not an
        object with a string ``name`` is ignored like any unknown header key.
        """
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

    def thread_name(self, ident: int) -> str:
        """Same contract as ``Recorder.thread_name``, so models can use either."""
        return self.thread_names.get(ident) or f"thread-{ident}"

    def numbered(self) -> Iterator[tuple[int, tuple]]:
        """``(seq, raw_event)`` pairs in stream order."""
        return zip(self.seqs, self.events, strict=True)

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
        events, seqs = self.events, self.seqs
        stop = len(events) if stop is None else min(stop, len(events))
        if start >= stop:
            return
        if start == 0:
            # Seqs strictly increase, so the gaps inside the log add up in O(1).
            gaps = seqs[-1] - seqs[0] + 1 - len(seqs)
            dropped = max(0, self.dropped - gaps)
        else:
            dropped = seqs[start] - seqs[start - 1] - 1
        while start < stop:
            first = seqs[start]
            end = min(start + size, stop)
            for i in range(start + 1, end):
                if seqs[i] != seqs[i - 1] + 1:
                    end = i
                    break
            yield Batch(first, events[start:end], dropped)
            if end < stop:
                dropped = seqs[end] - seqs[end - 1] - 1
            start = end


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a log loads.

    ``json`` parses a line into a thousand small lists that stay alive while they
    are converted, and every few hundred allocations the collector would scan
    them all again (a third of the load's time, for nothing: a log's values hold
    no cycles).  Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class LogReader:
    """Streams a log file into a :class:`RecordedRun`, within the given limits."""

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_events = max_events
        self.max_line_bytes = max_line_bytes

    def load(
        self,
        path: str | os.PathLike[str],
        progress: Progress | None = None,
        *,
        allow_truncated: bool = False,
    ) -> RecordedRun:
        """Read and validate the whole log.

        Raises :class:`LogError` for anything that is not a valid log, and
        :class:`LogCancelled` when ``progress`` returns False.  A log that was cut
        short (last line incomplete, or no end line) is an error unless
        ``allow_truncated``; then the complete lines before the cut are returned
        with ``complete=False`` and ``problem`` set.
        """
        path = os.fspath(path)
        try:
            raw = open(path, "rb")  # noqa: SIM115 -- closed below, gzip wraps it
        except OSError as exc:
            raise LogError(f"cannot open the file: {exc.strerror or exc}") from None
        with raw:
            size = os.fstat(raw.fileno()).st_size
            if size == 0:
                raise LogError("the file is empty: not a queue-visualizer log")
            if size > self.max_bytes:
                raise LogError(
                    f"the file is {size / 1e6:.1f} MB, over the {self.max_bytes / 1e6:.1f} MB "
                    "limit for logs"
                )
            stream: IO[bytes] | gzip.GzipFile = raw
            if raw.read(2) == _GZIP_MAGIC:
                stream = gzip.GzipFile(fileobj=raw, mode="rb")
            raw.seek(0)
            with _collector_paused():
                return self._read(path, stream, raw, size, progress, allow_truncated)

    def _read(
        self,
        path: str,
        stream: IO[bytes] | gzip.GzipFile,
        raw: IO[bytes],
        size: int,
        progress: Progress | None,
        allow_truncated: bool,
    ) -> RecordedRun:
        max_line, max_bytes, max_events = self.max_line_bytes, self.max_bytes, self.max_events
        run: RecordedRun | None = None
        events: list[tuple] = []
        seqs = array("q")
        started: dict[int, str] = {}
        cache: dict[Any, Any] = {}
        end: dict[str, Any] | None = None
        line_no = 0
        read_bytes = 0
        next_report = PROGRESS_EVERY_BYTES
        last_seq = -1

        def cut(reason: str) -> RecordedRun:
            """The file ends early: an error, or the complete prefix if allowed."""
            if run is None or not allow_truncated:
                raise LogError(f"{reason}; the log was cut short", line_no)
            run.complete = False
            run.problem = f"line {line_no}: {reason}; loaded the {len(events)} events before it"
            return run

        while True:
            try:
                line = stream.readline(max_line + 1)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                line_no += 1
                if isinstance(exc, EOFError):
                    return self._finish(cut("the compressed data ends mid-stream"), started, end)
                raise LogError(f"corrupt gzip data ({exc})", line_no) from None
            except OSError as exc:
                raise LogError(f"cannot read the file: {exc}", line_no + 1) from None
            if not line:
                break
            line_no += 1
            read_bytes += len(line)
            if read_bytes > max_bytes:
                raise LogError(
                    f"the log holds more than {max_bytes / 1e6:.1f} MB of text, over the "
                    "limit for logs",
                    line_no,
                )
            complete_line = line.endswith(b"\n")
            if not complete_line and len(line) > max_line:
                if line_no == 1:
                    raise LogError("not a queue-visualizer log (line 1 is not a header)", 1)
                raise LogError(f"the line is longer than {max_line} bytes", line_no)
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as exc:
                if line_no == 1:
                    raise LogError("not a queue-visualizer log (line 1 is not JSON)", 1) from None
                if not complete_line:
                    return self._finish(cut("the last line is incomplete"), started, end)
                raise LogError(f"malformed JSON ({exc})", line_no) from None

            if run is None:
                _check_header(value)
                run = RecordedRun(path, value, events, seqs)
                run.thread_names.update(_ident_table(value["threads"], "the header's threads", 1))
            elif end is not None:
                raise LogError("there is more after the end line", line_no)
            elif type(value) is list:
                if len(events) + len(value) > max_events:
                    raise LogError(
                        f"the log holds more than {max_events} events, the limit for loading",
                        line_no,
                    )
                last_seq = self._read_events(value, events, seqs, started, cache, last_seq, line_no)
            elif type(value) is dict and value.get("type") == "end":
                end = self._check_end(value, len(events), line_no)
            else:
                raise LogError(
                    f"expected an array of events or the end line, found {json.dumps(value)[:60]}",
                    line_no,
                )

            if progress is not None and read_bytes >= next_report:
                next_report = read_bytes + PROGRESS_EVERY_BYTES
                if progress(min(1.0, raw.tell() / size)) is False:
                    raise LogCancelled(f"loading {path} was cancelled")
        if run is None:
            raise LogError("the file is empty: not a queue-visualizer log")
        if end is None:
            line_no += 1
            return self._finish(cut("the end line is missing"), started, end)
        if progress is not None and progress(1.0) is False:
            raise LogCancelled(f"loading {path} was cancelled")
        return self._finish(run, started, end)

    @staticmethod
    def _read_events(
        rows: list[Any],
        events: list[tuple],
        seqs: array,
        started: dict[int, str],
        cache: dict[Any, Any],
        last_seq: int,
        line_no: int,
    ) -> int:
        """Validate and convert one line of events; return the last seq seen.

        The fast path checks just enough to guarantee the result is well typed;
        anything unexpected goes to :func:`_row_problem` for a precise message.
        Repeated idents and strings are shared through ``cache`` (one per load),
        which saves about a third of the memory of a large log.
        """
        if native is not None:  # the C fast path takes the plain leading events
            done, last_seq, packed = native.convert(
                rows, events, started, cache, KIND_BY_NAME, THREAD_STARTED, last_seq
            )
            seqs.frombytes(packed)
            if done == len(rows):
                return last_seq
            rows = rows[done:]
        kinds = KIND_BY_NAME
        scalars = _SCALARS
        remember = cache.setdefault
        add_event, add_seq = events.append, seqs.append
        row: Any = None
        try:
            for row in rows:
                seq, t_ns, thread, name, subject, a, b = row
                if type(seq) is not int or type(t_ns) is not int or type(thread) is not int:
                    raise _BadRow
                if seq <= last_seq:
                    raise _BadRow
                last_seq = seq
                kind = kinds[name]
                thread = remember(thread, thread)
                if type(subject) is str:
                    subject = remember(subject, subject)
                elif type(subject) not in scalars:
                    subject = _decode(subject)
                if type(a) is str:
                    a = remember(a, a)
                elif type(a) not in scalars:
                    a = _decode(a)
                if type(b) not in scalars:
                    b = _decode(b)
                if kind == THREAD_STARTED:
                    started[thread] = subject if type(subject) is str else str(subject)
                add_event((t_ns, thread, kind, subject, a, b))
                add_seq(seq)
        except (_BadRow, ValueError, TypeError, KeyError):
            raise LogError(_row_problem(row, seqs[-1] if seqs else -1), line_no) from None
        return last_seq

    @staticmethod
    def _check_end(value: dict[str, Any], count: int, line_no: int) -> dict[str, Any]:
        for key in ("events", "dropped"):
            number = value.get(key)
            if type(number) is not int or number < 0:
                raise LogError(f'the end line\'s "{key}" must be a whole number', line_no)
        if value["events"] != count:
            raise LogError(
                f"the end line counts {value['events']} events but the log holds {count}",
                line_no,
            )
        value["threads"] = _ident_table(value.get("threads"), "the end line's threads", line_no)
        return value

    @staticmethod
    def _finish(
        run: RecordedRun, started: dict[int, str], end: dict[str, Any] | None
    ) -> RecordedRun:
        """Names: header, then the end line's table, then each thread's own word."""
        if end is not None:
            run.thread_names.update(end["threads"])
            run.dropped = end["dropped"]
            until = end.get("until_ns")
            run.until_ns = until if type(until) is int else None
        else:
            run.dropped = sum(run.seqs[i] - run.seqs[i - 1] - 1 for i in range(1, len(run.seqs)))
        run.thread_names.update(started)
        return run


def load_log(
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    *,
    allow_truncated: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> RecordedRun:
    """One-call form of :meth:`LogReader.load` for the command line and tests."""
    reader = LogReader(max_bytes=max_bytes, max_events=max_events)
    return reader.load(path, progress, allow_truncated=allow_truncated)

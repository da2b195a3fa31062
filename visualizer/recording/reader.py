"""Read an event log as a stream, refusing anything that is not one.

A log may come from anywhere (a colleague, a bug report), so reading it must
never run code (only ``json`` parses it: no pickle, no eval), never crash on bad
input and never hang the window: the file is read line by line, with a progress
callback that can cancel, and with limits on every line and value
(:mod:`~visualizer.recording.schema`).  Every problem becomes one
:class:`LogError` whose message names the line.

A log can be as long as the run that made it, so nothing here keeps events:
:class:`LogStream` hands them over a line at a time (the command line folds and
exports that way, in constant memory), and :meth:`LogReader.load` keeps them in a
compact :class:`~visualizer.recording.recorded.RecordedRun` for the window,
refusing only a log it estimates would not fit in the memory that is free.
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
from operator import itemgetter
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from visualizer.events import Batch
from visualizer.recording.recorded import BLOCK_EVENTS, RecordedRun
from visualizer.recording.schema import (
    FORMAT_TAG,
    INT_MAX,
    MAX_LINE_BYTES,
    MAX_TEXT,
    MAX_THREADS,
    VERSION,
    LogCancelled,
    LogError,
)
from visualizer.recording.validate import (
    PATH as PATH,  # which path converts events: the C fast path or pure Python
)
from visualizer.recording.validate import LineParser, has_surrogates, lone_surrogate
from visualizer.recording.validate import native as native

if TYPE_CHECKING:
    from visualizer.recording._speedups import Encoder

PROGRESS_EVERY_BYTES = 1 << 20
first = itemgetter(0)
MEMORY_SHARE = 0.5
"""A loaded log may take at most this share of the memory free when loading began."""

_GZIP_MAGIC = b"\x1f\x8b"

Progress = Callable[[float], object]
"""Called with the fraction read (0..1); returning ``False`` cancels the load."""


def available_memory() -> int | None:
    """Bytes of memory free for this process to use (None if the system will not say)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _ident_table(value: Any, what: str, line: int) -> dict[int, str]:
    """Validate a ``{"<ident>": "<name>"}`` object."""
    if type(value) is not dict:
        raise LogError(f"{what} must be a JSON object (ident -> name)", line)
    if len(value) > MAX_THREADS:
        raise LogError(f"{what} names more than {MAX_THREADS} threads (the limit)", line)
    table: dict[int, str] = {}
    for key, name in value.items():
        digits = len(key) <= 19 and key.isascii() and key.isdigit()
        if not (digits and str(int(key)) == key and int(key) <= INT_MAX):
            raise LogError(f"{what}: {key[:40]!r} is not a thread ident", line)
        if type(name) is not str:
            raise LogError(f"{what}: the name of thread {key} must be a string", line)
        if len(name) > MAX_TEXT:
            raise LogError(f"{what}: the name of thread {key} is over {MAX_TEXT} characters", line)
        table[int(key)] = name
    return table


def scenario_of(header: dict[str, Any]) -> dict[str, Any] | None:
    """The teaching scenario the run was (name, fixed, params), if the header says so.

    Optional (logs from before it was written have none); one that is not an
    object with a string ``name`` is ignored like any unknown header key.
    """
    value = header.get("scenario")
    if type(value) is dict and type(value.get("name")) is str:
        return value
    return None


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
    for key in ("strategy", "created"):
        if len(header[key]) > MAX_TEXT:
            raise LogError(f'the header\'s "{key}" is over {MAX_TEXT} characters (the limit)', 1)


def _check_end(value: dict[str, Any], count: int, line_no: int) -> dict[int, str]:
    """The end line's counts and names; returns its thread table."""
    for key in ("events", "dropped"):
        number = value.get(key)
        if type(number) is not int or not 0 <= number <= INT_MAX:
            raise LogError(f'the end line\'s "{key}" must be a whole number', line_no)
    if value["events"] != count:
        raise LogError(
            f"the end line counts {value['events']} events but the log holds {count}", line_no
        )
    return _ident_table(value.get("threads"), "the end line's threads", line_no)


class LogStream:
    """An open log: its header at once, then its events a line at a time.

    Use as a context manager (it holds the file open).  Iterating :meth:`lines`
    or :meth:`batches` validates every line and raises :class:`LogError` at the
    first bad one; once the iteration is over, :attr:`complete`, :attr:`problem`,
    :attr:`dropped`, :attr:`events` (the count) and :attr:`thread_names` describe
    the whole log.  A log that was cut short (last line incomplete, or no end
    line) is an error unless ``allow_truncated``; then the complete lines before
    the cut are delivered and ``complete`` is False.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        progress: Progress | None = None,
        *,
        allow_truncated: bool = False,
        max_bytes: int | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.path = os.fspath(path)
        self.progress = progress
        self.allow_truncated = allow_truncated
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes
        self.complete = True
        self.problem: str | None = None
        self.events = 0
        self.dropped = 0
        self.until_ns: int | None = None  # the end line's: the recording reaches past its end
        self.last_seq = -1
        self.line_no = 0
        self._read_bytes = 0
        self._next_report = PROGRESS_EVERY_BYTES
        self._parser = LineParser(native)
        self._end_names: dict[int, str] = {}
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 -- closed by close()
        except OSError as exc:
            raise LogError(f"cannot open the file: {exc.strerror or exc}") from None
        self._raw = raw
        try:
            self._size = os.fstat(raw.fileno()).st_size
            if self._size == 0:
                raise LogError("the file is empty: not a queue-visualizer log")
            if max_bytes is not None and self._size > max_bytes:
                raise LogError(
                    f"the file is {self._size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB "
                    "limit for logs"
                )
            self._stream: IO[bytes] | gzip.GzipFile = raw
            if raw.read(2) == _GZIP_MAGIC:
                self._stream = gzip.GzipFile(fileobj=raw, mode="rb")
            raw.seek(0)
            self.header = self._read_header()
        except BaseException:
            raw.close()
            raise
        self.header_names = _ident_table(self.header["threads"], "the header's threads", 1)

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._raw.close()

    @property
    def strategy(self) -> str:
        return self.header["strategy"]

    @property
    def scenario(self) -> dict[str, Any] | None:
        return scenario_of(self.header)

    @property
    def codec(self) -> ModuleType | None:
        """The C path this stream checks events with (None: pure Python), whose
        ``Encoder`` :meth:`encode` fills."""
        return self._parser.fast

    @property
    def thread_names(self) -> dict[int, str]:
        """Header, then the end line's table, then each thread's own word (as far as read)."""
        names = dict(self.header_names)
        names.update(self._end_names)
        names.update(self._parser.started)
        return names

    # --- reading lines ----------------------------------------------------------
    def _readline(self) -> bytes | None:
        """The next line (None at the end of the file); a cut gzip stream ends it too."""
        try:
            line = self._stream.readline(self.max_line_bytes + 1)
        except EOFError:
            self.line_no += 1
            self._cut("the compressed data ends mid-stream")
            return None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise LogError(f"corrupt gzip data ({exc})", self.line_no + 1) from None
        except OSError as exc:
            raise LogError(f"cannot read the file: {exc}", self.line_no + 1) from None
        if not line:
            return None
        self.line_no += 1
        self._read_bytes += len(line)
        if self.max_bytes is not None and self._read_bytes > self.max_bytes:
            raise LogError(
                f"the log holds more than {self.max_bytes / 1e6:.1f} MB of text, over the "
                "limit for logs",
                self.line_no,
            )
        if not line.endswith(b"\n") and len(line) > self.max_line_bytes:
            if self.line_no == 1:
                raise LogError("not a queue-visualizer log (line 1 is not a header)", 1)
            raise LogError(
                f"the line is longer than {self.max_line_bytes} bytes (the limit)", self.line_no
            )
        return line

    def _cut(self, reason: str) -> None:
        """The file ends early: an error, or the end of the stream if allowed."""
        if not self.allow_truncated:
            raise LogError(f"{reason}; the log was cut short", self.line_no)
        self.complete = False
        self.problem = f"line {self.line_no}: {reason}; loaded the {self.events} events before it"

    def _read_header(self) -> dict[str, Any]:
        line = self._readline()
        if line is None:
            raise LogError("the file is empty: not a queue-visualizer log")
        try:
            header = json.loads(line)
        except (ValueError, RecursionError):
            raise LogError("not a queue-visualizer log (line 1 is not JSON)", 1) from None
        _check_header(header)
        if has_surrogates(line) and lone_surrogate(header):
            raise LogError("the header holds text that is not valid Unicode", 1)
        return header

    def _report(self) -> None:
        if self.progress is not None and self._read_bytes >= self._next_report:
            self._next_report = self._read_bytes + PROGRESS_EVERY_BYTES
            if self.progress(min(1.0, self._raw.tell() / self._size)) is False:
                raise LogCancelled(f"loading {self.path} was cancelled")

    def lines(self) -> Iterator[tuple[bytes, list[tuple], array]]:
        """``(raw line, events, sequence numbers)`` for each line of events, validated."""
        parser = self._parser
        for line, rows in self._arrays():
            events: list[tuple] = []
            seqs = array("q")
            parser.parse(rows, self.line_no, events, seqs, self._check_text(line))
            if seqs:
                self.last_seq = seqs[-1]
                self.events += len(events)
                yield line, events, seqs

    def encode(self, encoder: Encoder) -> Iterator[int]:
        """Validate each line of events and add them to ``encoder``'s block (the C
        path's compact form: no tuple made per event); yields each line's count."""
        parser = self._parser
        for _line, rows in self._arrays():
            before = len(encoder)
            parser.parse(rows, self.line_no, encoder, None, None)
            count = len(encoder) - before
            if count:
                self.last_seq = parser.last_seq
                self.events += count
                yield count

    def _check_text(self, line: bytes) -> bool | None:
        """Whether the line needs the search for lone surrogates (see ``LineParser.parse``)."""
        return None if self._parser.fast is not None else has_surrogates(line)

    def _arrays(self) -> Iterator[tuple[bytes, list[Any]]]:
        """``(raw line, its JSON array)`` for each line of events; every other line
        (the end line, anything after it, a cut or malformed line) is handled here."""
        end: dict[str, Any] | None = None
        while True:
            line = self._readline()
            if line is None:
                break
            line_no = self.line_no
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as exc:
                if not line.endswith(b"\n"):
                    self._cut("the last line is incomplete")
                    return
                raise LogError(f"malformed JSON ({str(exc)[:100]})", line_no) from None
            if end is not None:
                raise LogError("there is more after the end line", line_no)
            if type(value) is list:
                yield line, value
            elif type(value) is dict and value.get("type") == "end":
                self._end_names = _check_end(value, self.events, line_no)
                end = value
                until = value.get("until_ns")
                self.until_ns = until if type(until) is int and 0 <= until <= INT_MAX else None
            else:
                raise LogError(
                    f"expected an array of events or the end line, found {json.dumps(value)[:60]}",
                    line_no,
                )
            self._report()
        if end is None:
            self.line_no += 1
            self._cut("the end line is missing")
        if self.progress is not None and self.progress(1.0) is False:
            raise LogCancelled(f"loading {self.path} was cancelled")
        self.dropped = max(self.missing, end["dropped"] if end is not None else 0)

    @property
    def missing(self) -> int:
        """Events the sequence numbers skip (recording starts at seq 0: the first one's
        seq counts the events dropped before it)."""
        return self.last_seq + 1 - self.events

    def batches(self) -> Iterator[Batch]:
        """The log's events as recorder batches (one or more a line), for ``model.apply``.

        Each batch ends where the sequence numbers jump and the next carries the
        jump as ``dropped``, as the recorder's batch would have (the first carries
        its seq: the events dropped before it).  If the end line counts more drops
        than the numbers show, a last, empty batch carries the rest, so a model fed
        these batches counts exactly :attr:`dropped`.
        """
        previous = -1
        for _line, events, seqs in self.lines():
            low = 0
            count = len(events)
            while low < count:
                high = count
                if seqs[high - 1] - seqs[low] != high - 1 - low:
                    high = next(i for i in range(low + 1, count) if seqs[i] != seqs[i - 1] + 1)
                yield Batch(seqs[low], events[low:high], seqs[low] - previous - 1)
                previous = seqs[high - 1]
                low = high
        if self.dropped > self.missing:
            yield Batch(self.last_seq + 1, [], self.dropped - self.missing)


def _running_maximum(times: array) -> None:
    """Raise each time stamp to the latest before it, in place (stamps of different
    threads can be a hair out of order; the scrubber bisects this)."""
    if len(times):
        view = np.frombuffer(times, dtype=np.int64)
        np.maximum.accumulate(view, out=view)
        del view  # the array may be resized again once no view holds its buffer


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
    """Loads a whole log into a compact :class:`RecordedRun` (the window's replay)."""

    def __init__(
        self,
        *,
        max_bytes: int | None = None,
        max_events: int | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_memory: int | None = -1,
    ) -> None:
        """``max_memory``: bytes the loaded events may take; -1 (the default) means
        :data:`MEMORY_SHARE` of the memory free when a load begins, None no limit."""
        self.max_bytes = max_bytes
        self.max_events = max_events
        self.max_line_bytes = max_line_bytes
        self.max_memory = max_memory

    def stream(
        self,
        path: str | os.PathLike[str],
        progress: Progress | None = None,
        *,
        allow_truncated: bool = False,
    ) -> LogStream:
        """Open ``path`` for reading line by line (raises :class:`LogError` if it is not a log)."""
        return LogStream(
            path,
            progress,
            allow_truncated=allow_truncated,
            max_bytes=self.max_bytes,
            max_line_bytes=self.max_line_bytes,
        )

    def load(
        self,
        path: str | os.PathLike[str],
        progress: Progress | None = None,
        *,
        allow_truncated: bool = False,
    ) -> RecordedRun:
        """Read and validate the whole log.

        Raises :class:`LogError` for anything that is not a valid log (or one
        over ``max_events`` or the memory budget), and :class:`LogCancelled` when
        ``progress`` returns False.
        """
        budget = available_memory() if self.max_memory == -1 else self.max_memory
        if budget is not None and self.max_memory == -1:
            budget = int(budget * MEMORY_SHARE)
        with (
            _collector_paused(),
            self.stream(path, progress, allow_truncated=allow_truncated) as stream,
        ):
            codec = stream.codec
            run = RecordedRun(stream.path, stream.header, codec=codec)
            if codec is not None:
                self._keep_encoded(stream, run, codec.Encoder(), budget)
            else:
                self._keep_text(stream, run, budget)
            _running_maximum(run.clock)
            run.thread_names = stream.thread_names
            run.dropped = stream.dropped
            run.complete = stream.complete
            run.problem = stream.problem
            run.until_ns = stream.until_ns
            return run

    def _keep_encoded(
        self, stream: LogStream, run: RecordedRun, encoder: Encoder, budget: int | None
    ) -> None:
        """The C path: events go straight from the parsed lines into compact blocks."""
        for _count in stream.encode(encoder):
            self._check_count(stream)
            if len(encoder) >= BLOCK_EVENTS:
                run.add_encoded(*encoder.finish())
                self._check_size(run, stream.line_no, budget)
        if len(encoder):
            run.add_encoded(*encoder.finish())
            self._check_size(run, stream.line_no, budget)

    def _keep_text(self, stream: LogStream, run: RecordedRun, budget: int | None) -> None:
        """The pure Python path: the validated lines themselves, compressed in blocks."""
        add_times = run.clock.extend
        pending: list[bytes] = []
        count = 0
        first_seq = last_seq = 0
        for line, events, seqs in stream.lines():
            if not pending:
                first_seq = seqs[0]
            pending.append(line)
            count += len(events)
            last_seq = seqs[-1]
            add_times(map(first, events))  # made a running maximum at the end
            self._check_count(stream)
            if count >= BLOCK_EVENTS:
                run.add_text(pending, count, first_seq, last_seq)
                pending, count = [], 0
                self._check_size(run, stream.line_no, budget)
        if pending:
            run.add_text(pending, count, first_seq, last_seq)
            self._check_size(run, stream.line_no, budget)

    def _check_count(self, stream: LogStream) -> None:
        if self.max_events is not None and stream.events > self.max_events:
            raise LogError(
                f"the log holds more than {self.max_events} events, the limit for loading",
                stream.line_no,
            )

    @staticmethod
    def _check_size(run: RecordedRun, line_no: int, budget: int | None) -> None:
        if budget is not None and run.memory_bytes > budget:
            raise LogError(
                f"the log does not fit in the memory free here ({run.total:,} events took "
                f"{run.memory_bytes / 1e6:.0f} MB so far, {budget / 1e6:.0f} MB allowed); "
                "replay or export it on the command line, which streams it",
                line_no,
            )


def load_log(
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    *,
    allow_truncated: bool = False,
    max_bytes: int | None = None,
    max_events: int | None = None,
) -> RecordedRun:
    """One-call form of :meth:`LogReader.load` for tests and scripts."""
    reader = LogReader(max_bytes=max_bytes, max_events=max_events)
    return reader.load(path, progress, allow_truncated=allow_truncated)

"""Frames on a pipe: how plain data crosses between the window and the run process.

A frame is an 8-byte header (payload length, event count) and a pickled
payload.  The event count lets the reading side know how many events wait in
frames it has not decoded yet, without decoding them (the window asks that every
frame; see :class:`~visualizer.engine.host.stream.EventStream`).  Messages that
are not event batches carry a count of 0.

Why pickle (protocol 5) for the frame: measured on a flat-out run's events (ints,
short strings, None, floats), it encodes in ~150 ns and decodes in ~190 ns per event,
the same as ``marshal``, but is a third smaller (it shares repeated strings such
as lock names) and is stable across interpreter versions, which matters because
the run process may use another CPython than the window.  Both ends are this
package, so nothing foreign is ever unpickled.  That per-event cost fell on the
watched process, so where the C speedups are built an event batch is now a block
of bytes written in C (see :mod:`.outbox`), and pickle only wraps it.

Why a pipe and not shared memory: the bytes are not what costs.  Receiving
pickled 2,000-event batches through a pipe cost the reading process 110-190 ns
per event, through a shared-memory ring 105 ns, and both move millions of events
a second where the window folds about two hundred thousand.  A pipe gives the
rest for free: a full pipe blocks the writer (backpressure), and a dead writer
reads as end-of-file (a crashed run is noticed at once).
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any

HEADER = struct.Struct("<II")
"""Payload length in bytes, then the number of events in the payload (0: a message)."""

PROTOCOL = 5
READ_CHUNK = 1 << 20
MAX_BUFFERED = 4 * READ_CHUNK
"""Bytes of frames read but not yet taken past which :meth:`FrameReader.fill` stops
reading: the rest waits in the pipe, whose writer then blocks (backpressure)."""


def encode(obj: Any, count: int = 0) -> bytes:
    """One frame holding ``obj`` (plain data); ``count`` events, if it is a batch."""
    payload = pickle.dumps(obj, PROTOCOL)
    return HEADER.pack(len(payload), count) + payload


def decode(payload: bytes | memoryview) -> Any:
    return pickle.loads(payload)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte (a blocking fd), however many calls the pipe needs."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def widen_pipe(fd: int, size: int = 1 << 20) -> None:
    """Ask Linux for a bigger pipe buffer, so a writer blocks less often; harmless elsewhere."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or above /proc/sys/fs/pipe-max-size: the default buffer works too


class FrameReader:
    """Collects bytes from a pipe and splits them into frames.

    :meth:`fill` reads what is there (the fd may be blocking or not);
    :meth:`next_frame` hands out one complete frame at a time.  Frames that
    arrived but were not taken yet are counted in :attr:`waiting_events`.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.eof = False
        self.closed = False
        self._buffer = bytearray()
        self._start = 0  # where the first untaken frame begins in _buffer
        self._scanned = 0  # bytes (from _start) whose frame headers are counted below
        self.waiting_events = 0

    def fill(self) -> bool:
        """Read what the pipe holds now (blocking fds: at least one read); False at EOF.

        Not past :data:`MAX_BUFFERED` untaken bytes once a whole frame waits to be
        taken (a frame bigger than that is still read whole): a reader that falls behind leaves
        the frames in the pipe, so the writer waits instead of this buffer growing
        without bound (a flat-out run outpaces the window's fold).
        """
        if self.eof:
            return False
        while not self._scanned or len(self._buffer) - self._start < MAX_BUFFERED:
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:  # the fd was closed under us: treat as the end
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self._append(chunk)
            if len(chunk) < READ_CHUNK or os.get_blocking(self.fd):
                break
        return not self.eof

    def close(self) -> None:
        """Close the fd; later fills see the end (never a reused fd number)."""
        if not self.closed:
            self.closed = self.eof = True
            os.close(self.fd)

    def _append(self, chunk: bytes) -> None:
        if self._start and self._start == len(self._buffer):
            del self._buffer[:]  # everything taken: start afresh instead of growing
            self._start = self._scanned = 0
        self._buffer += chunk
        self._count_headers()

    def _count_headers(self) -> None:
        buffer = self._buffer
        position = self._start + self._scanned
        while len(buffer) - position >= HEADER.size:
            length, count = HEADER.unpack_from(buffer, position)
            if len(buffer) - position - HEADER.size < length:
                break
            self.waiting_events += count
            position += HEADER.size + length
        self._scanned = position - self._start

    def next_frame(self) -> tuple[bytes, int] | None:
        """The next complete frame as (payload, event count), or None."""
        if not self._scanned:
            return None
        length, count = HEADER.unpack_from(self._buffer, self._start)
        begin = self._start + HEADER.size
        payload = bytes(self._buffer[begin : begin + length])
        self._start = begin + length
        self._scanned -= HEADER.size + length
        self.waiting_events -= count
        if self._start > READ_CHUNK and self._start * 2 > len(self._buffer):
            del self._buffer[: self._start]  # drop taken frames now and then, not per frame
            self._start = 0
        return payload, count

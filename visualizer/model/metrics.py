"""Throughput time series in 100 ms buckets over a sliding window.

The fold adds to plain integer counters of the open bucket (no numpy per
event); a bucket is closed when the first event past its end arrives, and only
:meth:`Metrics.series` turns the closed buckets into numpy arrays, at the frame
rate.  The open bucket is left out of the series: its rates would read low until
it fills, making the right edge of every plot dip.
"""

from __future__ import annotations

from collections import deque

import numpy as np

BUCKET_NS = 100_000_000
BUCKET_S = BUCKET_NS / 1e9

SERIES = ("added_per_s", "completed_per_s", "queue_depth", "lock_wait_ms", "events_per_s")


class Metrics:
    """Closed buckets (at most ``window_s`` worth) plus the open bucket's counters.

    ``lock_wait_ms`` is the mean wait of the acquisitions that had to wait and
    got the lock within the bucket (0 when none had to wait).
    """

    def __init__(self, window_s: float = 30.0) -> None:
        capacity = max(1, round(window_s / BUCKET_S))
        self.capacity = capacity
        self.t0_ns: int | None = None
        self.bucket_end = 0  # no bucket is open before start()
        # Counters of the open bucket, incremented by the fold.
        self.added = 0
        self.completed = 0
        self.wait_ns = 0
        self.waits = 0
        self._bucket = 0
        self._bucket_seq = 0
        self._index: deque[int] = deque(maxlen=capacity)
        self._added: deque[int] = deque(maxlen=capacity)
        self._completed: deque[int] = deque(maxlen=capacity)
        self._depth: deque[int] = deque(maxlen=capacity)
        self._wait_ns: deque[int] = deque(maxlen=capacity)
        self._waits: deque[int] = deque(maxlen=capacity)
        self._events: deque[int] = deque(maxlen=capacity)

    def start(self, t0_ns: int, first_seq: int) -> None:
        """Open the first bucket at the run's first event."""
        self.t0_ns = t0_ns
        self.bucket_end = t0_ns + BUCKET_NS
        self._bucket_seq = first_seq

    def roll(self, t_ns: int, seq: int, depth: int) -> None:
        """Close the open bucket (and any empty ones up to ``t_ns``), open the one holding it.

        ``seq`` is the sequence number of the event at ``t_ns`` and ``depth`` the
        queued count just before it: the state at the end of the closed bucket.
        """
        t0_ns = self.t0_ns
        assert t0_ns is not None, "roll() before start()"
        self._close(seq, depth)
        target = (t_ns - t0_ns) // BUCKET_NS
        for index in range(max(self._bucket + 1, target - self.capacity), target):
            self._append(index, 0, 0, depth, 0, 0, 0)
        self._bucket = target
        self.bucket_end = t0_ns + (target + 1) * BUCKET_NS

    def flush(self, next_seq: int, depth: int) -> None:
        """Close the open bucket at the end of a run, so the series shows all of it."""
        if self.t0_ns is not None:
            self._close(next_seq, depth)
            self._bucket += 1
            self.bucket_end = self.t0_ns + (self._bucket + 1) * BUCKET_NS

    def _close(self, seq: int, depth: int) -> None:
        self._append(
            self._bucket,
            self.added,
            self.completed,
            depth,
            self.wait_ns,
            self.waits,
            seq - self._bucket_seq,
        )
        self._bucket_seq = seq
        self.added = self.completed = self.wait_ns = self.waits = 0

    def _append(
        self,
        index: int,
        added: int,
        completed: int,
        depth: int,
        wait_ns: int,
        waits: int,
        events: int,
    ) -> None:
        self._index.append(index)
        self._added.append(added)
        self._completed.append(completed)
        self._depth.append(depth)
        self._wait_ns.append(wait_ns)
        self._waits.append(waits)
        self._events.append(events)

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Name -> (bucket end in seconds since the first event, value) for closed buckets."""
        n = len(self._index)
        t_s = (np.fromiter(self._index, dtype=np.float64, count=n) + 1.0) * BUCKET_S
        per_s = 1.0 / BUCKET_S

        def column(values: deque[int]) -> np.ndarray:
            return np.fromiter(values, dtype=np.float64, count=n)

        waits = column(self._waits)
        wait_ms = np.divide(column(self._wait_ns) / 1e6, waits, out=np.zeros(n), where=waits > 0)
        return {
            "added_per_s": (t_s, column(self._added) * per_s),
            "completed_per_s": (t_s, column(self._completed) * per_s),
            "queue_depth": (t_s, column(self._depth)),
            "lock_wait_ms": (t_s, wait_ms),
            "events_per_s": (t_s, column(self._events) * per_s),
        }

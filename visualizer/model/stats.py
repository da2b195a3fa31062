"""Duration statistics in bounded memory: a log-scale histogram.

Lock hold and wait times arrive at up to a few hundred thousand a second over
runs of any length, so keeping every sample is out.  A reservoir of recent
samples would answer "lately" but not "over the run", which is what the command
line summary reports.  A histogram with 32 buckets per power of two keeps every
sample's contribution, answers any percentile within about 1.6 % (the midpoint
of a bucket never lies further than that from a sample in it), and holds at most
a few thousand counters however long the run.
"""

from __future__ import annotations

from math import ceil

_MANTISSA_BITS = 6
"""Significant bits kept: values below 64 ns are exact, larger ones within 1/64."""


def _bucket_mid(key: int) -> float:
    """The duration a bucket stands for (its midpoint)."""
    shift = key >> _MANTISSA_BITS
    if shift == 0:
        return float(key)
    mantissa = key & ((1 << _MANTISSA_BITS) - 1)
    return ((mantissa << shift) + ((mantissa + 1) << shift)) / 2


class Stats:
    """Count, mean, maximum and percentiles of durations in nanoseconds."""

    __slots__ = ("count", "total", "max", "_bins", "_sorted", "_sorted_at")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.max = 0
        self._bins: dict[int, int] = {}
        self._sorted: list[tuple[int, int]] = []
        self._sorted_at = 0  # count when _sorted was built: views ask 60 times a second

    def add(self, ns: int) -> None:
        if ns < 0:  # time stamps taken just before an append can be a hair out of order
            ns = 0
        self.count += 1
        self.total += ns
        if ns > self.max:
            self.max = ns
        # Bucket key: the top _MANTISSA_BITS bits plus the shift; keys sort like durations.
        shift = ns.bit_length() - _MANTISSA_BITS
        key = ns if shift <= 0 else (shift << _MANTISSA_BITS) | (ns >> shift)
        bins = self._bins
        bins[key] = bins.get(key, 0) + 1

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def quantile(self, q: float) -> float:
        """The duration below which a fraction ``q`` of the samples fall (0 if none)."""
        if not self.count:
            return 0.0
        if self._sorted_at != self.count:
            self._sorted = sorted(self._bins.items())
            self._sorted_at = self.count
        rank = max(1, ceil(q * self.count))  # nearest-rank definition
        seen = 0
        for key, n in self._sorted:
            seen += n
            if seen >= rank:
                return min(_bucket_mid(key), float(self.max))
        return float(self.max)

    def p50(self) -> float:
        return self.quantile(0.50)

    def p99(self) -> float:
        return self.quantile(0.99)

    def __repr__(self) -> str:
        return f"Stats(count={self.count}, p50={self.p50():.0f}, p99={self.p99():.0f})"

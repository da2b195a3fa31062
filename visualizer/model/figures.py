"""Measured figures that show a performance pitfall, worded for a lecturer to read out.

Some pitfalls break no invariant: a lock held during slow I/O, a writer that
starves, workers that poll.  Those show in numbers, and the command line and the
scenario panel print the same sentence from the same :class:`RunSummary`, so a
class can compare a run without the fix and one with it.
"""

from __future__ import annotations

from collections.abc import Callable

from visualizer.model.summary import RunSummary


def duration(seconds: float) -> str:
    """A duration with a unit that keeps it readable: 850 µs, 12.3 ms, 1.42 s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def lock_wait(summary: RunSummary) -> str:
    """Throughput, and the wait and hold times of the lock that made threads wait longest."""
    rate = f"throughput {summary.completed_per_s:.1f} tasks/s"
    contended = [lock for lock in summary.locks if lock.contended]
    if not contended:
        return f"{rate}; no thread ever waited for a lock"
    worst = max(contended, key=lambda lock: lock.wait_p99_us)
    return (
        f"{rate}; lock '{worst.name}': wait p99 {duration(worst.wait_p99_us / 1e6)}, "
        f"hold p50 {duration(worst.hold_p50_us / 1e6)}, "
        f"{worst.contended} of {worst.acquisitions} acquisitions had to wait"
    )


def writer_wait(summary: RunSummary) -> str:
    """The longest a writer waited for a read-write lock."""
    writes = [lock for lock in summary.locks if lock.write_waits]
    if not writes:
        return "no writer ever had to wait"
    worst = max(writes, key=lambda lock: lock.write_wait_max_us)
    return (
        f"the writer waited up to {duration(worst.write_wait_max_us / 1e6)} for "
        f"'{worst.name}' ({worst.write_waits} write(s) had to wait)"
    )


def cpu(summary: RunSummary) -> str:
    """CPU seconds per thread, busiest first, and their total."""
    if not summary.cpu_s:
        return "no thread reported its CPU time"
    busiest = sorted(summary.cpu_s.items(), key=lambda item: -item[1])
    each = ", ".join(f"{name} {duration(seconds)}" for name, seconds in busiest)
    return f"CPU used: {each} (total {duration(sum(summary.cpu_s.values()))})"


FIGURES: dict[str, Callable[[RunSummary], str]] = {
    "lock-wait": lock_wait,
    "writer-wait": writer_wait,
    "cpu": cpu,
}
"""Figure name (as scenario files name it) -> the sentence that states it."""

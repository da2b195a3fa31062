"""The end-of-run digest the command line prints: throughput, locks, violations.

Plain data (``dataclasses.asdict`` turns it into JSON-ready dicts), kept apart
from the view state so the command line and the window share one definition of
what "p99 wait" or "contention" means; how to lay it out is the caller's choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from visualizer.model.state import RunModel

_US = 1e3  # ns per µs


@dataclass(frozen=True, slots=True)
class LockSummary:
    """One primitive's traffic.  Waits cover only the acquisitions that had to wait."""

    name: str
    kind_label: str
    acquisitions: int
    contended: int
    contention: float  # contended / acquisitions
    wait_p50_us: float
    wait_p99_us: float
    wait_mean_us: float
    hold_p50_us: float
    hold_p99_us: float
    hold_mean_us: float
    write_waits: int = 0  # write acquisitions (of a read-write lock) that had to wait
    write_wait_max_us: float = 0.0  # the longest of them: how long a writer starved


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Whole-run figures; rates are per second from the first event to the last."""

    duration_s: float  # first to last event
    counts: dict[str, int]
    added_per_s: float
    completed_per_s: float
    events: int
    events_per_s: float
    dropped: int
    locks: list[LockSummary]
    violations: dict[str, int]  # kind -> how many (exact, even past the stored maximum)
    cpu_s: dict[str, float] = field(default_factory=dict)  # thread name -> CPU seconds used


def summarize(model: RunModel) -> RunSummary:
    """Digest a model (finished or not) into a :class:`RunSummary`."""
    duration = (model.now_ns - model.t0_ns) / 1e9 if model.t0_ns is not None else 0.0
    counts = model.tasks.counts()

    def rate(n: int) -> float:
        return n / duration if duration > 0 else 0.0

    locks = [
        LockSummary(
            state.name,
            state.kind_label,
            state.acquisitions,
            state.contended,
            state.contention,
            state.wait_stats.p50() / _US,
            state.wait_stats.p99() / _US,
            state.wait_stats.mean() / _US,
            state.hold_stats.p50() / _US,
            state.hold_stats.p99() / _US,
            state.hold_stats.mean() / _US,
            state.write_wait_stats.count,
            state.write_wait_stats.max / _US,
        )
        for state in model.locks.locks.values()
        if state.acquisitions
    ]
    events = model.events_applied + model.dropped
    return RunSummary(
        duration_s=duration,
        counts=counts,
        added_per_s=rate(counts["added"]),
        completed_per_s=rate(counts["completed"]),
        events=events,
        events_per_s=rate(events),
        dropped=model.dropped,
        locks=locks,
        violations=dict(model.checker.violation_counts),
        cpu_s={info.name: info.cpu_s for info in model.threads.values() if info.cpu_s is not None},
    )

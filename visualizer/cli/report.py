"""The text a headless run prints: its settings, where its tasks ended up, a table of
its locks and the invariant violations (``run``, ``replay`` and scenario runs share it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def lock_table(
    locks: Sequence[Any], columns: Sequence[tuple[str, str, Callable[[Any], object]]]
) -> list[str]:
    """Lines of a table of ``locks`` by name: after the name, a column per
    (title, format spec, value of a lock) triple, two spaces apart."""
    width = max(len("lock"), *(len(lock.name) for lock in locks))
    lines = [f"{'lock':<{width}}" + "".join(f"  {title:{spec}}" for title, spec, _ in columns)]
    for lock in sorted(locks, key=lambda lock: lock.name):
        cells = "".join(f"  {value(lock):{spec}}" for _, spec, value in columns)
        lines.append(f"{lock.name:<{width}}{cells}")
    return lines


def counts_text(counts: dict[str, int]) -> str:
    """Where a run's tasks ended up, from :attr:`RunSummary.counts`."""
    return (
        f"added {counts['added']}, completed {counts['completed']}, "
        f"cancelled {counts['cancelled']}, still queued {counts['queued']}, "
        f"processing {counts['processing']}"
    )


def violation_lines(summary: Any, model: Any, examples: int) -> list[str]:
    """The invariant violations by kind, most frequent first, with a few examples each."""
    if not summary.violations:
        return ["invariant violations: none"]
    lines = [f"invariant violations: {sum(summary.violations.values())}"]
    for kind, count in sorted(summary.violations.items(), key=lambda item: -item[1]):
        lines.append(f"  {kind}: {count}")
        details = [v.detail for v in model.anomalies if v.kind == kind][:examples]
        lines.extend(f"    {detail}" for detail in details)
    return lines


_SUMMARY_LOCK_COLUMNS: list[tuple[str, str, Callable[[Any], object]]] = [
    ("acquisitions", ">12", lambda lock: lock.acquisitions),
    ("contended", ">17", lambda lock: f"{lock.contended} ({lock.contention:.1%})"),
    (
        "wait p50 / p99 µs",
        ">19",
        lambda lock: f"{lock.wait_p50_us:.1f} / {lock.wait_p99_us:.1f}" if lock.contended else "-",
    ),
    ("hold p50 / p99 µs", ">19", lambda lock: f"{lock.hold_p50_us:.1f} / {lock.hold_p99_us:.1f}"),
]


def format_summary(run: Any, model: Any, scenario: dict[str, Any] | None = None) -> str:
    """The report ``run`` prints: settings, throughput, locks, violations, errors.

    The figures come from the model's :class:`RunSummary`, the same digest the
    window exports, so "p99 wait" means one thing everywhere.  ``scenario`` (a
    log's header) names the scenario instead of a strategy's workload it never ran.
    """
    workload = run.workload
    summary = model.summary()
    elapsed = run.elapsed()
    rate = "flat out" if not workload.rate else f"{workload.rate:g}/s each"
    tasks = f"{workload.tasks} tasks" if workload.tasks else "no task limit"
    if scenario is not None:
        params = scenario.get("params")
        settings = (
            ", ".join(f"{key} {value}" for key, value in params.items())
            if isinstance(params, dict)
            else ""
        )
        variant = "with the fix" if scenario.get("fixed") else "without the fix"
        first = f"scenario {scenario.get('name', '?')} ({variant}), seed {workload.seed}"
        first += f"; {settings}" if settings else ""
    else:
        first = (
            f"{'queue' if workload.queue else 'strategy'} {workload.subject}: "
            f"{workload.producers} producers ({tasks}, {rate}), "
            f"{workload.workers} workers (work {workload.work_time:g} s "
            f"{workload.work_distribution}), seed {workload.seed}"
        )
    lines = [
        first,
        f"{run.state.value} after {elapsed:.2f} s: {counts_text(summary.counts)}",
        f"throughput: {summary.counts['completed'] / elapsed if elapsed else 0.0:.1f} tasks/s "
        f"({summary.events:,} events, {summary.events_per_s:,.0f}/s)",
        "",
    ]
    if summary.locks:
        lines += lock_table(summary.locks, _SUMMARY_LOCK_COLUMNS)
    else:
        lines.append("locks: none taken")
    lines.append("")
    lines += violation_lines(summary, model, examples=3)
    if run.errors:
        lines.append(f"errors caught in run threads: {len(run.errors)}")
        lines.extend(f"  {message}" for message in run.errors[:5])
        if len(run.errors) > 5:
            lines.append(f"  ... and {len(run.errors) - 5} more")
    else:
        lines.append("errors caught in run threads: none")
    unverified = model.unverified()
    if unverified:
        lines.append(f"verdict: {unverified}; the figures are partial")
    return "\n".join(lines)

"""The bench's frame: a registry of sections, their result tables, and output.

Why a registry: what gets measured grows with the project (queue throughput
now; GUI latency, recording overhead and start-up time later).  Each section is
one function registered with :func:`section`; the command line, ``--section``
selection, text and JSON output all work from the registry, so a new section is
one decorated function in its own module and nothing else changes.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from visualizer.queues import STRATEGIES, speedups


@dataclass(frozen=True)
class BenchConfig:
    """What every section is asked to measure, and how thoroughly."""

    quick: bool = False  # a short run for tests and CI: same code paths, fewer repeats
    strategies: tuple[str, ...] = field(default_factory=lambda: tuple(STRATEGIES))


@dataclass
class Table:
    """A section's result: rows of named values, plus headline numbers and notes."""

    title: str
    columns: list[tuple[str, str]]  # (row key, column heading), in display order
    rows: list[dict[str, Any]] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)  # e.g. the worst overhead ratio
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    measure: Callable[[BenchConfig], Table]


SECTIONS: dict[str, Section] = {}


def section(name: str, title: str) -> Callable[[Callable[[BenchConfig], Table]], Callable]:
    """Register ``measure(config) -> Table`` as bench section ``name``."""

    def register(measure: Callable[[BenchConfig], Table]) -> Callable[[BenchConfig], Table]:
        if name in SECTIONS:
            raise ValueError(f"bench section {name!r} is registered twice")
        SECTIONS[name] = Section(name, title, measure)
        return measure

    return register


def run_sections(
    config: BenchConfig, names: Iterable[str] | None = None
) -> Iterator[tuple[Section, Table]]:
    """Measure the named sections (all by default), yielding each as it is done."""
    for name in names if names is not None else list(SECTIONS):
        chosen = SECTIONS[name]
        yield chosen, chosen.measure(config)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def format_table(table: Table) -> str:
    """A plain-text table: first column left-aligned, numbers right-aligned."""
    headings = [heading for _, heading in table.columns]
    cells = [[_cell(row.get(key)) for key, _ in table.columns] for row in table.rows]
    widths = [max(len(text) for text in column) for column in zip(headings, *cells, strict=False)]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = (value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [table.title, line(headings), "  ".join("-" * width for width in widths)]
    out.extend(line(row) for row in cells)
    out.extend(table.notes)
    return "\n".join(out)


def format_results(results: Iterable[tuple[Section, Table]]) -> Iterator[str]:
    """Each finished section as text, separated by blank lines."""
    for _section, table in results:
        yield format_table(table) + "\n"


def results_json(results: Iterable[tuple[Section, Table]], config: BenchConfig) -> dict[str, Any]:
    """Everything measured, as plain JSON-ready data, with the machine it ran on."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "accelerator": speedups.PATH,
        "quick": config.quick,
        "sections": {
            chosen.name: {
                "title": table.title,
                "columns": [key for key, _ in table.columns],
                "rows": table.rows,
                "headline": table.headline,
                "notes": table.notes,
            }
            for chosen, table in results
        },
    }

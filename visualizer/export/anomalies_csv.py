"""Export the anomaly list (invariant violations) as CSV for a spreadsheet or a report.

Accepts any objects with the attributes of the model's ``Violation`` (kind, t_ns,
seq, threads, task, lock, detail), so this module needs nothing from the model.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import Any, Protocol, TextIO

COLUMNS = ("kind", "t_ns", "seq", "threads", "task", "lock", "detail")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ViolationLike(Protocol):
    """What a row needs: the checker's ``Violation`` (frozen, hence read-only here)."""

    @property
    def kind(self) -> str: ...
    @property
    def t_ns(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def threads(self) -> tuple[str, ...]: ...
    @property
    def task(self) -> Any: ...
    @property
    def lock(self) -> str | None: ...
    @property
    def detail(self) -> str: ...


def _text(value: Any) -> str:
    """A text cell that a spreadsheet will show rather than evaluate.

    Thread names and task ids can come from a log someone else wrote; a cell
    starting with ``=`` (or ``+ - @``) would be run as a formula, so it gets a
    leading apostrophe, the usual guard against CSV formula injection.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _row(violation: ViolationLike) -> list[Any]:
    return [
        _text(violation.kind),
        int(violation.t_ns),
        int(violation.seq),
        _text(", ".join(str(name) for name in violation.threads)),
        _text(violation.task),
        _text(violation.lock),
        _text(violation.detail),
    ]


def export_anomalies_csv(
    violations: Iterable[ViolationLike], out: str | os.PathLike[str] | TextIO
) -> int:
    """Write a header row and one row per violation to ``out``; return the row count.

    ``threads`` are joined with ", "; a missing task or lock is an empty cell.
    A file object must be opened with ``newline=""``, as the ``csv`` module asks.
    """
    rows = [_row(violation) for violation in violations]
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8", newline="") as file:
            _write(file, rows)
    else:
        _write(out, rows)
    return len(rows)


def _write(file: TextIO, rows: list[list[Any]]) -> None:
    writer = csv.writer(file)
    writer.writerow(COLUMNS)
    writer.writerows(rows)

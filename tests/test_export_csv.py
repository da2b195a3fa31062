"""Anomaly list as CSV: one row per violation-like record, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from types import SimpleNamespace

from visualizer.export import export_anomalies_csv
from visualizer.export.anomalies_csv import COLUMNS


@dataclass(frozen=True)
class Violation:
    """Shaped like the model's Violation; the exporter needs only the attributes."""

    kind: str
    t_ns: int
    seq: int
    threads: tuple[str, ...]
    task: object
    lock: str | None
    detail: str


VIOLATIONS = [
    Violation(
        "double-delivery",
        1_500,
        42,
        ("worker-1", "worker-2"),
        7,
        None,
        "task 7 went to two workers",
    ),
    Violation("orphaned-lock", 2_000, 50, ("worker-3",), None, "queue", 'held at exit, "oops"'),
    SimpleNamespace(
        kind="deadlock", t_ns=3_000, seq=60, threads=(), task=("a", 1), lock="L1", detail="x\ny"
    ),
]


def read_back(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_rows_round_trip_through_a_csv_reader(tmp_path):
    path = tmp_path / "anomalies.csv"
    assert export_anomalies_csv(VIOLATIONS, path) == 3
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = read_back(text)
    assert rows[0] == {
        "kind": "double-delivery",
        "t_ns": "1500",
        "seq": "42",
        "threads": "worker-1, worker-2",
        "task": "7",
        "lock": "",
        "detail": "task 7 went to two workers",
    }
    assert rows[1]["task"] == "" and rows[1]["lock"] == "queue"
    assert rows[1]["detail"] == 'held at exit, "oops"'
    assert (
        rows[2]["threads"] == "" and rows[2]["task"] == "('a', 1)" and rows[2]["detail"] == "x\ny"
    )


def test_writes_to_an_open_file_and_handles_no_violations():
    buffer = io.StringIO(newline="")
    assert export_anomalies_csv([], buffer) == 0
    assert buffer.getvalue().strip() == ",".join(COLUMNS)


def test_cells_that_a_spreadsheet_would_evaluate_are_neutralised():
    hostile = Violation("lost-task", 1, 2, ('=HYPERLINK("x")', "@SUM(A1)"), "+1", "-L", "=1+1")
    buffer = io.StringIO(newline="")
    export_anomalies_csv([hostile], buffer)
    (row,) = read_back(buffer.getvalue())
    assert row["threads"] == '\'=HYPERLINK("x"), @SUM(A1)'
    assert row["task"] == "'+1" and row["lock"] == "'-L" and row["detail"] == "'=1+1"
    assert row["t_ns"] == "1" and row["seq"] == "2"

"""A loaded log's compact blocks (the C path): what goes in comes out, exactly as the
pure Python path loads it, and the C path refuses what the Python loop refuses.

The C speedups keep a loaded log as blocks of their own binary form, written while
the lines are checked, without a tuple per event; the pure Python path keeps the
lines themselves.  Both must give the window the same events, down to the type of
every value (compared by ``repr``: 1, 1.0 and True differ there, and a NaN shows).
"""

from __future__ import annotations

import json
import math

import pytest

from visualizer.events import LOCK_HELD, MARK, TASK_ADDED, THREAD_STARTED, Batch
from visualizer.recording import LogError, LogWriter, reader
from visualizer.recording.recorded import BLOCK_EVENTS
from visualizer.recording.schema import INT_MAX, INT_MIN, MAX_TEXT

pytestmark = pytest.mark.skipif(reader.native is None, reason=reader.PATH)

HEADER = {
    "format": "queue-visualizer-log",
    "version": 2,
    "created": "2025-01-01T00:00:00+00:00",
    "strategy": "global-lock",
    "settings": {},
    "threads": {},
}


def both_ways(path, monkeypatch) -> tuple[object, object]:
    """What the C path and the pure Python path make of ``path``: the events' repr,
    seqs, clock, names and drops, or the refusal."""

    def load():
        try:
            run = reader.LogReader().load(path)
        except LogError as exc:
            return str(exc)
        return repr(list(run.events)), list(run.seqs), list(run.clock), run.thread_names

    with_c = load()
    with monkeypatch.context() as patch:
        patch.setattr(reader, "native", None)
        in_python = load()
    return with_c, in_python


def odd_values(count: int) -> list[tuple]:
    """Events whose values cover every kind of value a field may hold."""
    values = [
        None, True, False, 0, 1, 111, 112, -1, INT_MAX, INT_MIN, 2**31, -(2**40),
        0.0, -0.0, 1.5, -2.25e-300, 1e300, math.inf, -math.inf, math.nan,
        "", "x", "é", "naïve ✓", "\U0001f600 emoji", "x" * MAX_TEXT, "é" * MAX_TEXT,
        (), (1,), ("a", (2, (3.5, None))), (True, "queue", -5),
    ]  # fmt: skip
    events = []
    t = 10**15
    for i in range(count):
        t += (i * 7919) % 5000 - 1000  # stamps go back a little now and then
        subject = values[i % len(values)]
        a = values[(i * 3 + 1) % len(values)]
        b = t - 17 if i % 5 == 0 else values[(i * 7 + 2) % len(values)]
        events.append((t, 1000 + i % 3, MARK, subject, a, b))
    return events


def test_every_kind_of_value_loads_the_same_on_both_paths(tmp_path, monkeypatch):
    events = [(10**15, 1000, THREAD_STARTED, "worker-1", "worker", None)]
    events += odd_values(3 * BLOCK_EVENTS)  # several blocks
    events += [(10**15 + 5, 1001, LOCK_HELD, "queue", "x", 10**15 + 1)]
    events += [(10**15 + 6, 1001, TASK_ADDED, INT_MAX, -3, 2)]
    path = tmp_path / "odd.jsonl"
    with LogWriter(path, settings={}, strategy="x") as writer:
        writer.write_batch(Batch(0, events[:5000], 0))
        writer.write_batch(Batch(5100, events[5000:], 100))  # a gap in the numbers
    with_c, in_python = both_ways(path, monkeypatch)
    assert with_c == in_python
    assert repr(list(reader.LogReader().load(path).events)) == repr(events)


def test_blocks_with_many_texts_and_threads_and_big_steps(tmp_path, monkeypatch):
    """More distinct texts and threads in a block than one tag byte numbers, and seq and
    time steps of every size."""
    events = []
    for i in range(BLOCK_EVENTS + 500):
        t = (i * 2**40) % INT_MAX * (-1 if i % 2 else 1)
        events.append((t, i % 300, MARK, f"text {i % 700}", f"é{i % 200}", i * 2**50 % INT_MAX))
    path = tmp_path / "many.jsonl"
    with LogWriter(path, settings={}, strategy="x") as writer:
        writer.write_batch(Batch(0, events[:10], 0))
        writer.write_batch(Batch(2**40, events[10:20], 2**40 - 10))
        writer.write_batch(Batch(INT_MAX - len(events), events[20:], 0))
    with_c, in_python = both_ways(path, monkeypatch)
    assert with_c == in_python and type(with_c) is tuple


def test_a_loaded_block_is_compact(tmp_path):
    """About 12 bytes an event for a run's usual events, against some 75 in the file."""
    events = []
    for i in range(20_000):
        t = 10**13 + 1000 * i
        events.append((t, 140_000_000_000_000 + i % 4, TASK_ADDED, i, i % 10, i + 1))
        events.append((t + 400, 140_000_000_000_000 + i % 4, LOCK_HELD, "queue", "x", t + 200))
    path = tmp_path / "run.jsonl"
    with LogWriter(path, settings={}, strategy="x") as writer:
        writer.write_batch(Batch(0, events, 0))
    run = reader.LogReader().load(path)
    assert run.codec is reader.native
    blob_bytes = sum(len(block.blob) for block in run.blocks)
    assert blob_bytes < 13 * len(events)
    assert run.events[-1] == events[-1] and run.events[12_345] == events[12_345]


def write_rows(path, *rows: list, end: int | None = None) -> None:
    lines = [json.dumps(HEADER), *(json.dumps(list(line)) for line in rows)]
    lines.append(json.dumps({"type": "end", "events": end or 0, "dropped": 0, "threads": {}}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "rows",
    [
        # A lone surrogate in text that is not ASCII (json makes it two-byte text).
        [[0, 1, 7, "MARK", "é\\ud800", None, None]],
        [[0, 1, 7, "MARK", None, "\\udfff\U0001f600", None]],
        [[0, 1, 7, "MARK", None, None, "\\ud83d"]],
        # A bad event first: the line is still refused for its text, as in Python.
        [[0, 1, 7, "NO_SUCH_KIND", None, None, None], [1, 1, 7, "MARK", "\\ud800", None, None]],
        [[0, 1, 7, "MARK", None, None, None], [0, 1, 7, "MARK", ["\\udc00"], None, None]],
    ],
    ids=["two-byte", "four-byte", "in-b", "after-a-bad-event", "nested"],
)
def test_a_lone_surrogate_is_refused_alike_wherever_it_is(tmp_path, monkeypatch, rows):
    path = tmp_path / "lone.jsonl"
    text = json.dumps(HEADER) + "\n" + json.dumps(rows).replace("\\\\u", "\\u") + "\n"
    path.write_text(text + json.dumps({"type": "end", "events": len(rows)}) + "\n")
    with_c, in_python = both_ways(path, monkeypatch)
    assert with_c == in_python
    assert "not valid Unicode (a lone surrogate)" in with_c


def test_a_block_the_encoder_did_not_write_is_an_error_not_a_crash():
    decode = reader.native.decode
    for junk in (b"\x00", b"\x00\x00\x00\x01\xff", b"\x00\x00\x00\x01\x06\x7f", b"\x80" * 20):
        with pytest.raises(ValueError, match="not a block the Encoder wrote"):
            decode(junk)
    assert decode(b"") == ([], b"")

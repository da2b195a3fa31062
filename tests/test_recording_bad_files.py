"""Every kind of bad log gets one LogError naming the line, never a crash or a hang."""

from __future__ import annotations

import gzip
import json
import pickle

import pytest

from visualizer.events import LOCK_HELD, MARK, Batch
from visualizer.recording import VERSION, LogCancelled, LogError, LogReader, LogWriter, load_log
from visualizer.recording.reader import PROGRESS_EVERY_BYTES

# Every test here loads logs on both paths: C (where built) and pure Python.
pytestmark = pytest.mark.usefixtures("fast_path")


def header(**changes) -> dict:
    value = {
        "format": "queue-visualizer-log",
        "version": 1,
        "created": "2025-01-01T00:00:00+00:00",
        "strategy": "global-lock",
        "settings": {},
        "threads": {"7": "worker-1"},
    }
    value.update(changes)
    return value


def row(seq: int, kind: str = "MARK", subject=None, a=None, b=None, t=None, thread=7) -> list:
    return [seq, 1000 + seq if t is None else t, thread, kind, subject, a, b]


def end(events: int, dropped: int = 0) -> dict:
    return {"type": "end", "events": events, "dropped": dropped, "threads": {}}


def write_lines(path, *values, raw_tail: bytes = b"") -> None:
    text = "".join(json.dumps(value) + "\n" for value in values)
    path.write_bytes(text.encode() + raw_tail)


def error_for(path, **kwargs) -> LogError:
    with pytest.raises(LogError) as info:
        load_log(path, **kwargs)
    return info.value


def test_valid_reference_file_loads(tmp_path):
    path = tmp_path / "ok.jsonl"
    write_lines(path, header(), [row(0), row(1)], end(2))
    run = load_log(path)
    assert len(run.events) == 2 and run.thread_name(7) == "worker-1"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert "empty" in str(error_for(path))


def test_missing_file_or_a_folder(tmp_path):
    assert "cannot open" in str(error_for(tmp_path / "nope.jsonl"))
    assert "cannot open" in str(error_for(tmp_path))


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00binary",
        b"hello, world\n",
        pickle.dumps({"format": "queue-visualizer-log"}),
        b"\x00" * 100,
    ],
    ids=["png", "text", "pickle", "zeros"],
)
def test_not_json(tmp_path, content):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(content)
    error = error_for(path)
    assert error.line == 1 and "not a queue-visualizer log" in str(error)


@pytest.mark.parametrize(
    "first_line",
    [
        {"traceEvents": []},
        [1, 2, 3],
        "queue-visualizer-log",
        header(format="queue-visualiser-log"),
        {k: v for k, v in header().items() if k != "format"},
    ],
    ids=["chrome-trace", "array", "string", "misspelt-tag", "no-tag"],
)
def test_wrong_format_tag(tmp_path, first_line):
    path = tmp_path / "other.json"
    write_lines(path, first_line, end(0))
    error = error_for(path)
    assert error.line == 1 and "not a queue-visualizer log" in str(error)


def test_wrong_version(tmp_path):
    path = tmp_path / "newer.jsonl"
    write_lines(path, header(version=VERSION + 1), end(0))
    error = error_for(path)
    assert error.line == 1 and f"version {VERSION + 1} is newer" in str(error)
    write_lines(path, header(version=0), end(0))
    assert "unsupported log format version 0" in str(error_for(path))
    write_lines(path, header(version="1"), end(0))
    assert "version must be an integer" in str(error_for(path))


@pytest.mark.parametrize(
    ("key", "value"),
    [("settings", []), ("strategy", 3), ("created", None), ("threads", {"x": "a"})],
)
def test_bad_header_fields(tmp_path, key, value):
    path = tmp_path / "hdr.jsonl"
    write_lines(path, header(**{key: value}), end(0))
    error = error_for(path)
    assert error.line == 1 and key in str(error)


def test_truncated_last_line(tmp_path):
    path = tmp_path / "cut.jsonl"
    full = json.dumps([row(2), row(3)])
    write_lines(path, header(), [row(0), row(1)], raw_tail=full[:-7].encode())
    error = error_for(path)
    assert error.line == 3 and "incomplete" in str(error) and "cut short" in str(error)

    run = load_log(path, allow_truncated=True)
    assert not run.complete and "line 3" in run.problem
    assert [event[0] for event in run.events] == [1000, 1001]


def test_missing_end_line_is_truncation(tmp_path):
    path = tmp_path / "no-end.jsonl"
    write_lines(path, header(), [row(0), row(1)])
    error = error_for(path)
    assert error.line == 3 and "end line is missing" in str(error)
    run = load_log(path, allow_truncated=True)
    assert not run.complete and len(run.events) == 2


def test_truncated_header_is_not_a_log(tmp_path):
    path = tmp_path / "cut-header.jsonl"
    path.write_bytes(json.dumps(header()).encode()[:30])
    error = error_for(path, allow_truncated=True)
    assert error.line == 1


def test_a_writer_that_was_never_closed_leaves_a_loadable_prefix(tmp_path):
    path = tmp_path / "crashed.jsonl"
    writer = LogWriter(path, settings={}, strategy="x")
    writer.write_batch(Batch(0, [(1, 7, MARK, "m", None, None)], 0))
    writer.flush()
    assert "end line is missing" in str(error_for(path))
    assert len(load_log(path, allow_truncated=True).events) == 1
    writer.close()


def test_malformed_json_in_the_middle(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(header()) + "\n" + '[[0,1,7,"MARK",null,null,null]]\n' + "[[1,2,7,\n"
        "[]\n" + json.dumps(end(1)) + "\n"
    )
    error = error_for(path, allow_truncated=True)
    assert error.line == 3 and "malformed JSON" in str(error)


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (row("0", t=1000), "seq must be an integer"),
        (row(0, t=1.5), "t_ns must be an integer"),
        (row(0, thread=True), "thread must be an integer"),
        (row(0, thread="worker-1"), "thread must be an integer"),
        (row(0)[:6], "7 fields"),
        (row(0) + [1], "7 fields"),
        ({"seq": 0}, "must be a JSON array"),
        (5, "must be a JSON array"),
        (row(0, subject={"a": 1}), "subject holds a JSON object"),
        (row(0, b=[1, [2, {"x": 1}]]), "b holds a JSON object"),
        (row(0, a=[[[[[[[[[[1]]]]]]]]]]), "nested more than"),
        (row(0, kind=11), "kind must be a kind name"),
        (row(0, kind=["MARK"]), "kind must be a kind name"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_wrong_field_types(tmp_path, event, words):
    path = tmp_path / "types.jsonl"
    write_lines(path, header(), [event], end(1))
    error = error_for(path)
    assert error.line == 2 and words in str(error)


def test_sequence_numbers_must_increase(tmp_path):
    path = tmp_path / "seq.jsonl"
    write_lines(path, header(), [row(0), row(1)], [row(1)], end(3))
    error = error_for(path)
    assert error.line == 3 and "seq 1 does not follow seq 1" in str(error)


def test_unknown_kind(tmp_path):
    path = tmp_path / "kind.jsonl"
    write_lines(path, header(), [row(0), row(1, kind="LOCK_STOLEN")], end(2))
    error = error_for(path)
    assert error.line == 2 and "unknown event kind 'LOCK_STOLEN'" in str(error)


@pytest.mark.parametrize(
    ("last", "words"),
    [
        ({"type": "end", "events": 5, "dropped": 0, "threads": {}}, "counts 5 events"),
        ({"type": "end", "events": 1, "dropped": -1, "threads": {}}, '"dropped"'),
        ({"type": "end", "events": 1, "dropped": 0, "threads": []}, "threads"),
        ({"type": "trailer"}, "expected an array of events"),
        ("done", "expected an array of events"),
    ],
)
def test_bad_end_line(tmp_path, last, words):
    path = tmp_path / "end.jsonl"
    write_lines(path, header(), [row(0)], last)
    error = error_for(path)
    assert error.line == 3 and words in str(error)


def test_nothing_may_follow_the_end_line(tmp_path):
    path = tmp_path / "after.jsonl"
    write_lines(path, header(), [row(0)], end(1), [row(1)])
    error = error_for(path)
    assert error.line == 4 and "after the end line" in str(error)


def test_over_the_size_limit(tmp_path):
    path = tmp_path / "big.jsonl"
    write_lines(path, header(), [row(i) for i in range(200)], end(200))
    error = error_for(path, max_bytes=2000)
    assert "over the" in str(error) and "limit" in str(error)


def test_over_the_decompressed_size_limit(tmp_path):
    """A small gzip file that inflates past the limit (a zip bomb) is refused as it inflates."""
    path = tmp_path / "bomb.jsonl.gz"
    chunks = [[row(i * 100 + j, subject="x" * 5000) for j in range(100)] for i in range(20)]
    lines = [json.dumps(header())] + [json.dumps(chunk) for chunk in chunks]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert path.stat().st_size < 60_000
    error = error_for(path, max_bytes=500_000)
    assert error.line is not None and "MB of text" in str(error)


def test_over_the_event_limit(tmp_path):
    path = tmp_path / "many.jsonl"
    write_lines(
        path, header(), [row(i) for i in range(60)], [row(60 + i) for i in range(60)], end(120)
    )
    assert len(load_log(path, max_events=120).events) == 120
    error = error_for(path, max_events=100)
    assert error.line == 3 and "more than 100 events" in str(error)


def test_over_the_line_length_limit(tmp_path):
    path = tmp_path / "long.jsonl"
    write_lines(path, header(), [row(0, subject="x" * 5000)], end(1))
    with pytest.raises(LogError) as info:
        LogReader(max_line_bytes=1000).load(path)
    assert info.value.line == 2 and "longer than 1000 bytes" in str(info.value)


def test_cancelled_by_the_progress_callback(tmp_path):
    path = tmp_path / "cancel.jsonl"
    rows = [[row(i * 500 + j, subject="padding " * 30) for j in range(500)] for i in range(20)]
    write_lines(path, header(), *rows, end(10_000))
    assert path.stat().st_size > 2 * PROGRESS_EVERY_BYTES
    calls: list[float] = []

    def cancel_at_first_report(fraction: float) -> bool:
        calls.append(fraction)
        return False

    with pytest.raises(LogCancelled):
        load_log(path, progress=cancel_at_first_report)
    assert len(calls) == 1 and 0 < calls[0] < 1


def test_a_callback_returning_none_does_not_cancel(tmp_path):
    path = tmp_path / "ok.jsonl"
    write_lines(path, header(), [row(0)], end(1))
    assert len(load_log(path, progress=lambda fraction: None).events) == 1


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    lines = [json.dumps(header())] + [
        json.dumps([row(i * 100 + j) for j in range(100)]) for i in range(50)
    ]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    error = error_for(path)
    assert "cut short" in str(error)
    run = load_log(path, allow_truncated=True)
    assert not run.complete and 0 < len(run.events) < 5000


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "corrupt.jsonl.gz"
    data = bytearray(gzip.compress((json.dumps(header()) + "\n").encode() * 50))
    data[20:40] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(LogError):
        load_log(path, allow_truncated=True)


def test_a_whole_hold_reads_back_and_a_bad_one_is_refused_in_one_line(tmp_path):
    """LOCK_HELD (format version 2): a lock's name, and in ``b`` when it was taken."""
    path = tmp_path / "held.jsonl"
    held = row(0, "LOCK_HELD", "queue", "x", 400, t=900)
    write_lines(path, header(version=2), [held], end(1))
    [(t, thread, kind, subject, a, b)] = load_log(path).events
    assert (t, thread, kind, subject, a, b) == (900, 7, LOCK_HELD, "queue", "x", 400)
    for bad_b in (None, "400", [400], True, 4.0):
        write_lines(path, header(version=2), [row(0, "LOCK_HELD", "queue", "x", bad_b)], end(1))
        error = error_for(path)
        assert error.line == 2 and "\n" not in str(error)
        assert "LOCK_HELD event's b (when the lock was taken) must be an integer" in str(error)
    write_lines(path, header(version=2), [row(0, "LOCK_HELD", 3, "x", 400)], end(1))
    assert "LOCK_HELD event's subject must be a lock name" in str(error_for(path))

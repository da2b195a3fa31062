"""Hostile logs: values the model could not take and limits that protect memory are
refused while reading, each with one LogError naming the line and the limit; and a log
of any length streams in constant memory or loads compactly.  Where the C speedups are
built, the tests that take ``fast_path`` run on both paths."""

from __future__ import annotations

import json

import pytest

from visualizer.events import LOCK_ACQUIRED, MARK, TASK_ADDED, Batch, clip_text
from visualizer.model import RunModel
from visualizer.recording import LogError, LogReader, LogWriter, load_log
from visualizer.recording.replay import ThreadNames, fold_log, fold_stream, logged_run
from visualizer.recording.schema import (
    CHUNK,
    MAX_ITEMS,
    MAX_LOCKS,
    MAX_TEXT,
    MAX_THREADS,
)


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


def row(seq, kind="MARK", subject=None, a=None, b=None, t=None, thread=7) -> list:
    return [seq, 1000 + seq if t is None else t, thread, kind, subject, a, b]


def end(events: int, dropped: int = 0) -> dict:
    return {"type": "end", "events": events, "dropped": dropped, "threads": {}}


def write(path, *lines) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def refusal(path) -> str:
    with pytest.raises(LogError) as info:
        load_log(path)
    with pytest.raises(LogError) as streamed, LogReader().stream(path) as stream:
        for _batch in stream.batches():
            pass
    assert str(streamed.value) == str(info.value)  # both readers hold to the same rules
    return str(info.value)


@pytest.mark.parametrize(
    ("event", "words"),
    [
        # Item 1: a lock name that is a big integer killed the window in chips.py.
        (row(0, "LOCK_ACQUIRED", 2**63, "x", 1), "integer outside the 64-bit range"),
        (row(0, "LOCK_ACQUIRED", 5, "x", 1), "subject must be a lock name (a string)"),
        (row(0, "COND_WAIT", ["q"], None), "subject must be a lock name"),
        (row(0, "THREAD_STARTED", 3, "worker"), "subject must be a thread name"),
        (row(0, "TASK_ADDED", 1, "high", 1), 'priority must be an integer, not "high"'),
        (row(0, "TASK_ADDED", 1, 2.5, 1), "priority must be an integer"),
        (row(0, "TASK_COMPLETED", [1, 2], "processing"), "task id must be an integer or a string"),
        (row(0, "TASK_POPPED", None, 1), "task id must be an integer or a string"),
        (row(2**63, t=5), "seq 9223372036854775808 is outside the allowed range"),
        (row(0, t=2**63), "t_ns 9223372036854775808 is outside the allowed range"),
        (row(0, thread=-1), "thread -1 is outside the allowed range"),
        (row(0, subject="x" * (MAX_TEXT + 1)), f"over the limit of {MAX_TEXT}"),
        (row(0, b=list(range(MAX_ITEMS + 1))), f"more than {MAX_ITEMS} values"),
        (row(0, a=[[1] * 200, [2] * 100]), f"more than {MAX_ITEMS} values"),
        (row(0, a=[2**64]), "integer outside the 64-bit range"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_values_the_model_cannot_take_are_refused(fast_path, tmp_path, event, words):
    path = tmp_path / "hostile.jsonl"
    write(path, header(), [event], end(1))
    message = refusal(path)
    assert message.startswith("line 2: ") and words in message


def test_a_lone_surrogate_is_refused_but_a_pair_is_text(fast_path, tmp_path):
    path = tmp_path / "pair.jsonl"
    write(path, header(), [row(0, subject="\U0001f600 ok", a="é")], end(1))
    assert load_log(path).events[0][3] == "\U0001f600 ok"
    lone = tmp_path / "lone.jsonl"
    lone.write_text(
        json.dumps(header())
        + '\n[[0,1,7,"MARK","\\ud800 alone",null,null]]\n'
        + json.dumps(end(1))
        + "\n",
        encoding="utf-8",
    )
    assert "not valid Unicode (a lone surrogate)" in refusal(lone)
    raw = tmp_path / "raw.jsonl"
    raw.write_bytes(
        json.dumps(header()).encode()
        + b'\n[[0,1,7,"MARK","\xed\xa0\x80",null,null]]\n'
        + json.dumps(end(1)).encode()
        + b"\n"
    )
    assert "lone surrogate" in refusal(raw)
    in_header = tmp_path / "header.jsonl"
    in_header.write_text(
        json.dumps(header()).replace('"global-lock"', '"\\udc00"')
        + "\n[]\n"
        + json.dumps(end(0))
        + "\n",
        encoding="utf-8",
    )
    assert "not valid Unicode" in refusal(in_header)


def test_too_many_threads_locks_or_events_on_a_line(fast_path, tmp_path):
    path = tmp_path / "threads.jsonl"
    rows = [row(i, thread=100 + i) for i in range(MAX_THREADS + 1)]
    lines = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    write(path, header(), *lines, end(len(rows)))
    assert f"more than {MAX_THREADS} threads (the limit)" in refusal(path)

    path = tmp_path / "locks.jsonl"
    rows = [row(i, "LOCK_CREATED", f"lock-{i}", "Lock") for i in range(MAX_LOCKS + 1)]
    lines = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    write(path, header(), *lines, end(len(rows)))
    assert f"more than {MAX_LOCKS} locks (the limit)" in refusal(path)

    path = tmp_path / "line.jsonl"
    write(path, header(), [row(i) for i in range(CHUNK + 1)], end(CHUNK + 1))
    assert f"over the limit of {CHUNK} a line" in refusal(path)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"strategy": ["global-lock"]}, 'the header\'s "strategy" must be a string'),
        ({"strategy": "x" * (MAX_TEXT + 1)}, "over 4096 characters"),
        ({"threads": {"1" * 40: "w"}}, "is not a thread ident"),
        ({"threads": {"١": "w"}}, "is not a thread ident"),
        ({"threads": {str(i): "w" for i in range(MAX_THREADS + 1)}}, "more than 4096 threads"),
    ],
    ids=str,
)
def test_bad_headers_are_one_line(tmp_path, changes, words):
    path = tmp_path / "header.jsonl"
    write(path, header(**changes), [row(0)], end(1))
    message = refusal(path)
    assert message.startswith("line 1: ") and words in message


@pytest.mark.parametrize(
    "settings",
    [
        {"strategy": ["global-lock"]},
        {"strategy": {"a": 1}},
        {"rate": 10**400},
        {"work_distribution": []},
        {"workers": "4"},
    ],
    ids=str,
)
def test_a_header_whose_settings_are_not_a_workload_is_a_log_error(tmp_path, settings):
    """Item 2: "a list as strategy" in the settings raised TypeError in replay."""
    path = tmp_path / "settings.jsonl"
    write(path, header(settings=settings), [row(0)], end(1))
    with pytest.raises(LogError, match="not a valid workload"):
        logged_run(load_log(path))


def test_deep_json_is_refused_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(
        json.dumps(header()) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8"
    )
    assert "line 2: malformed JSON" in refusal(path)
    nested_header = tmp_path / "deep-header.jsonl"
    nested_header.write_text('{"settings":' + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert "line 1 is not JSON" in refusal(nested_header)


def test_a_wait_for_chain_deeper_than_the_recursion_limit_folds(tmp_path):
    """Item 2: a 3000-deep wait-for chain overflowed the recursive cycle search."""
    n = 3000
    events = [(i, 100 + i, LOCK_ACQUIRED, f"l{i}", "x", 1) for i in range(n)]
    # Thread i waits for lock i+1 (held by thread i+1); the last waits for lock 0: a cycle.
    events += [(n + i, 100 + i, 10, f"l{(i + 1) % n}", "x", None) for i in range(n)]
    path = tmp_path / "chain.jsonl"
    with LogWriter(path, settings={}, strategy="global-lock") as writer:
        writer.write_batch(Batch(0, events, 0))
    model = fold_log(load_log(path))
    [deadlock] = [v for v in model.anomalies if v.kind == "deadlock"]
    assert f"and {n - 12} more threads in the cycle" in deadlock.detail


def test_the_recorder_side_keeps_to_the_text_limit():
    assert clip_text("short") == "short"
    long = clip_text("e" * (MAX_TEXT * 3))
    assert len(long) == MAX_TEXT and long.endswith("\u2026")


def test_a_loaded_log_takes_about_20_bytes_an_event(fast_path, tmp_path):
    path = tmp_path / "long.jsonl"
    n = 100_000
    events = []
    for i in range(n // 4):
        events += [
            (4 * i, 1, LOCK_ACQUIRED, "queue", "x", 1),
            (4 * i + 1, 1, TASK_ADDED, i, i % 10, i + 1),
            (4 * i + 2, 1, 12, "queue", "x", 0),
            (4 * i + 3, 2, MARK, "tick", None, None),
        ]
    with LogWriter(path, settings={}, strategy="global-lock") as writer:
        for start in range(0, n, 5000):
            writer.write_batch(Batch(start, events[start : start + 5000], 0))
    run = load_log(path)
    assert run.total == n and run.memory_bytes < 30 * n
    assert run.events[n // 2] == events[n // 2] and run.events[-1] == events[-1]
    assert list(run.seqs[:3]) == [0, 1, 2]
    with pytest.raises(LogError, match="does not fit in the memory free here"):
        LogReader(max_memory=100_000).load(path)


def test_streaming_folds_the_same_model_as_loading(tmp_path):
    recorder_events = [(i, 1 + i % 3, MARK, f"m{i}", None, None) for i in range(10_000)]
    recorder_events += [(10_000, 1, MARK, "run finished", None, None)]
    path = tmp_path / "s.jsonl.gz"
    with LogWriter(path, settings={"tasks": 5}, strategy="global-lock") as writer:
        writer.write_batch(Batch(3, recorder_events[:5000], 3))  # 3 dropped before the first
        writer.write_batch(Batch(5010, recorder_events[5000:], 7))  # and 7 more in a gap
    loaded = load_log(path)
    with LogReader().stream(path) as stream:
        model, run = fold_stream(stream)
        assert stream.dropped == 10 and stream.complete
    reference = RunModel(thread_name=ThreadNames(loaded.thread_names))
    for batch in loaded.batches():
        reference.apply(batch)
    assert model.dropped == reference.dropped == 10
    assert model.events_applied == reference.events_applied == loaded.total
    assert run.state.value == "finished" and run.workload.tasks == 5


def test_a_deep_value_with_a_lone_surrogate_is_refused_not_a_recursion_error(fast_path, tmp_path):
    deep = "[" * 900 + '"\\ud800"' + "]" * 900
    path = tmp_path / "deep-surrogate.jsonl"
    head = json.dumps(header())
    path.write_text(f'{head}\n[[0,1,7,"MARK",{deep},null,null]]\n{json.dumps(end(1))}\n')
    assert "lone surrogate" in refusal(path)
    path.write_text(head.replace('"settings": {}', f'"settings": {{"x": {deep}}}') + "\n")
    assert "not valid Unicode" in refusal(path)

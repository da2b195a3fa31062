"""Check one line of events against the format and its limits, and convert it.

A log may come from anywhere, so every value that reaches the model must be one
the model and the views can take: a lock name that is a string, a priority that
is an integer, integers a C library can hold, text that encodes, arrays of a
bounded size.  The limits (:mod:`visualizer.recording.schema`) also bound the
memory one event can cost, and the number of locks and threads a log can make
the model track, whatever the file's size.

The fast path checks just enough to guarantee the result is well typed and
within the limits; anything unexpected goes to :func:`row_problem`, which says
precisely what is wrong (naming the limit when one was passed).  Where the
optional C extension is built (``_speedups.c``), it takes the plain leading
events of each line under the same rules, and this loop takes over at the
first event it leaves: both paths accept and refuse exactly the same lines.
"""

from __future__ import annotations

import json
import re
from array import array
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from visualizer.events import THREAD_STARTED
from visualizer.queues.speedups import load_native
from visualizer.recording.schema import (
    CHUNK,
    INT_MAX,
    INT_MIN,
    KIND_BY_NAME,
    KIND_RULES,
    MAX_ITEMS,
    MAX_LOCKS,
    MAX_NESTING,
    MAX_TEXT,
    MAX_THREADS,
    RULE_HELD,
    RULE_LOCK,
    RULE_PRIORITY,
    RULE_TASK,
    RULE_THREAD,
    SEQ_MAX,
    THREAD_MAX,
    TIME_MAX,
    TIME_MIN,
    LogError,
)

native, PATH = load_native("visualizer.recording._speedups")
"""The optional C fast path for converting events, and which path runs."""

if TYPE_CHECKING:
    from visualizer.recording._speedups import Encoder

_SCALARS = frozenset((type(None), bool, int, float, str))
_CACHE_LIMIT = 1 << 16
"""Distinct strings shared per load before the sharing table starts afresh (bounds it)."""
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
"""A JSON escape or raw UTF-8 bytes of a UTF-16 surrogate: text that may not encode."""


NOT_UNICODE = "the line holds text that is not valid Unicode (a lone surrogate)"


class BadRow(Exception):
    """Internal: the fast path met something it will not accept; diagnose it."""


def has_surrogates(line: bytes) -> bool:
    """Could ``line`` hold a lone surrogate?  (Pairs, and some other escapes, match too.)

    An ASCII line (nearly every line: the writer escapes what is not) with no
    ``\\u`` escape cannot; two passes at C speed tell, and the regular expression
    only looks at the few lines that might.
    """
    if line.isascii() and b"\\u" not in line:
        return False
    return _SURROGATE.search(line) is not None


def lone_surrogate(value: Any) -> bool:
    """Does ``value`` (a decoded JSON value) hold a string that is not valid Unicode?

    A walk with a list for a stack, not recursion: this runs before the nesting
    limit is checked, on values as deep as ``json`` could parse.
    """
    todo = [value]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is str:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif kind is list:
            todo.extend(item)
        elif kind is dict:
            todo.extend(item.keys())
            todo.extend(item.values())
    return False


def decode(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """JSON value of an event field -> Python (arrays become tuples), within the limits."""
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            raise BadRow
        return value
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            raise BadRow
        return value
    if kind in _SCALARS:
        return value
    if kind is list and depth < MAX_NESTING:
        if budget is None:
            budget = [MAX_ITEMS]
        budget[0] -= len(value)
        if budget[0] < 0:
            raise BadRow
        return tuple([decode(item, depth + 1, budget) for item in value])
    raise BadRow


def field_problem(name: str, value: Any, depth: int = 0, budget: list[int] | None = None) -> str:
    """Why ``value`` is not allowed in an event field ("" if it is)."""
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            return f"{name} holds text of {len(value)} characters, over the limit of {MAX_TEXT}"
        return ""
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            return f"{name} holds an integer outside the 64-bit range ({INT_MIN}..{INT_MAX})"
        return ""
    if kind in _SCALARS:
        return ""
    if kind is list:
        if depth >= MAX_NESTING:
            return f"{name} has arrays nested more than {MAX_NESTING} deep (the limit)"
        if budget is None:
            budget = [MAX_ITEMS]
        budget[0] -= len(value)
        if budget[0] < 0:
            return f"{name} holds more than {MAX_ITEMS} values in its arrays (the limit)"
        for item in value:
            problem = field_problem(name, item, depth + 1, budget)
            if problem:
                return problem
        return ""
    return f"{name} holds a JSON object; event fields may only hold values and arrays"


def _shown(value: Any) -> str:
    return json.dumps(value)[:40]


def rule_problem(kind: str, subject: Any, a: Any, b: Any = None) -> str:
    """What the kind's own rule (``schema.KIND_RULES``) finds wrong, or ""."""
    rule = KIND_RULES.get(kind, 0)
    if rule in (RULE_LOCK, RULE_THREAD, RULE_HELD) and type(subject) is not str:
        what = "a thread name" if rule == RULE_THREAD else "a lock name"
        return f"a {kind} event's subject must be {what} (a string), not {_shown(subject)}"
    if rule in (RULE_TASK, RULE_PRIORITY) and type(subject) not in (int, str):
        return f"a {kind} event's task id must be an integer or a string, not {_shown(subject)}"
    if rule == RULE_PRIORITY and type(a) is not int:
        return f"a {kind} event's priority must be an integer, not {_shown(a)}"
    if rule == RULE_HELD and type(b) is not int:
        return f"a {kind} event's b (when the lock was taken) must be an integer, not {_shown(b)}"
    return ""


def row_problem(row: Any, last_seq: int) -> str:
    """Say precisely what is wrong with an event the fast path refused."""
    if type(row) is not list:
        return f"an event must be a JSON array, not {json.dumps(row)[:60]}"
    if len(row) != 7:
        return f"an event has 7 fields (seq, t_ns, thread, kind, subject, a, b), not {len(row)}"
    seq, t_ns, thread, kind, subject, a, b = row
    for name, value, low, high in (
        ("seq", seq, 0, SEQ_MAX),
        ("t_ns", t_ns, TIME_MIN, TIME_MAX),
        ("thread", thread, 0, THREAD_MAX),
    ):
        if type(value) is not int:
            return f"{name} must be an integer, not {_shown(value)}"
        if not low <= value <= high:
            return f"{name} {value} is outside the allowed range {low}..{high}"
    if seq <= last_seq:
        return f"seq {seq} does not follow seq {last_seq}: sequence numbers must increase"
    if type(kind) is not str:
        return f"kind must be a kind name (a string), not {_shown(kind)}"
    if kind not in KIND_BY_NAME:
        return f"unknown event kind {kind[:60]!r}"
    for name, value in (("subject", subject), ("a", a), ("b", b)):
        problem = field_problem(name, value)
        if problem:
            return problem
    return rule_problem(kind, subject, a, b) or "invalid event"


class LineParser:
    """Validates and converts the event lines of one log, in order.

    Holds what spans lines: the last sequence number, the names threads gave
    themselves, the distinct threads and locks seen (each bounded by its limit),
    and a table that shares repeated strings between events (a large log's
    events then cost about a third less memory).
    """

    def __init__(self, fast: ModuleType | None = native) -> None:
        """``fast``: the compiled converter to use first (None: the Python loop only)."""
        self.fast = fast
        self.last_seq = -1
        self.started: dict[int, str] = {}
        self.threads: set[int] = set()
        self.locks: set[str] = set()
        self._cache: dict[Any, Any] = {}

    def parse(
        self,
        rows: Any,
        line_no: int,
        events: list[tuple] | Encoder,
        seqs: array | None,
        check_text: bool | None,
    ) -> None:
        """Append the events of one line to ``events`` and their numbers to ``seqs``,
        or, where ``events`` is the C path's :class:`Encoder` (``seqs`` None), to the
        block it is encoding.

        ``check_text`` asks for the slower search for lone surrogates: True where
        the caller found escapes or bytes that could be one in the line, False where
        it found none, None to leave it to the C path, which takes no text holding
        one (so the search runs only once the Python loop has an event to look at,
        before it looks: a line is refused for such text wherever it is, as on the
        pure Python path).
        """
        if type(rows) is not list:
            raise LogError("expected an array of events", line_no)
        if len(rows) > CHUNK:
            raise LogError(
                f"the line holds {len(rows)} events, over the limit of {CHUNK} a line", line_no
            )
        if check_text and lone_surrogate(rows):
            raise LogError(NOT_UNICODE, line_no)
        if check_text is None and self.fast is None:
            raise ValueError("check_text=None needs the C path")
        kinds = KIND_BY_NAME
        rules = KIND_RULES
        scalars = _SCALARS
        cache = self._cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        remember = cache.setdefault
        threads, locks = self.threads, self.locks
        encoding = seqs is None
        if seqs is None:
            add_encoded = cast("Encoder", events).append
        else:
            add_event, add_seq = cast("list[tuple]", events).append, seqs.append
        last_seq = self.last_seq
        fast = self.fast
        count = len(rows)
        index = 0
        row: Any = None
        try:
            while index < count:
                if fast is not None:  # the C path takes what it can, from here on
                    index, last_seq, packed = fast.convert(
                        rows, index, events, self.started, cache, kinds, THREAD_STARTED,
                        last_seq, rules, threads, locks, MAX_TEXT, MAX_THREADS, MAX_LOCKS,
                    )  # fmt: skip
                    if seqs is not None:
                        seqs.frombytes(packed)
                    if index == count:
                        break
                    if check_text is None:
                        # The line's text, checked as the Python path checks it first: the
                        # C path takes no text holding a lone surrogate, so only a line it
                        # left an event of can hold one.
                        check_text = False
                        if lone_surrogate(rows):
                            raise LogError(NOT_UNICODE, line_no)
                row = rows[index]  # this event, in Python; then the C path again
                index += 1
                seq, t_ns, thread, name, subject, a, b = row
                if type(seq) is not int or type(t_ns) is not int or type(thread) is not int:
                    raise BadRow
                if not last_seq < seq <= SEQ_MAX or not TIME_MIN <= t_ns <= TIME_MAX:
                    raise BadRow
                if thread not in threads:
                    if not 0 <= thread <= THREAD_MAX:
                        raise BadRow
                    if len(threads) >= MAX_THREADS:
                        raise LogError(
                            f"the log mentions more than {MAX_THREADS} threads (the limit)",
                            line_no,
                        )
                    threads.add(thread)
                kind = kinds[name]
                subject_type = type(subject)
                if subject_type is str:
                    if len(subject) > MAX_TEXT:
                        raise BadRow
                    subject = remember(subject, subject)
                elif subject_type is int:
                    if not INT_MIN <= subject <= INT_MAX:
                        raise BadRow
                elif subject_type not in scalars:
                    subject = decode(subject)
                value_type = type(a)
                if value_type is str:
                    if len(a) > MAX_TEXT:
                        raise BadRow
                    a = remember(a, a)
                elif value_type is int:
                    if not INT_MIN <= a <= INT_MAX:
                        raise BadRow
                elif value_type not in scalars:
                    a = decode(a)
                value_type = type(b)
                if value_type is int:
                    if not INT_MIN <= b <= INT_MAX:
                        raise BadRow
                elif value_type is str:
                    if len(b) > MAX_TEXT:
                        raise BadRow
                elif value_type not in scalars:
                    b = decode(b)
                rule = rules.get(name)
                if rule is not None:
                    if rule in (RULE_LOCK, RULE_HELD):
                        if subject_type is not str:
                            raise BadRow
                        if rule == RULE_HELD and type(b) is not int:
                            raise BadRow
                        if subject not in locks:
                            if len(locks) >= MAX_LOCKS:
                                raise LogError(
                                    f"the log names more than {MAX_LOCKS} locks (the limit)",
                                    line_no,
                                )
                            locks.add(subject)
                    elif rule == RULE_THREAD:
                        if subject_type is not str:
                            raise BadRow
                        if kind == THREAD_STARTED:
                            self.started[thread] = subject
                    else:  # a task's id, and for an add its priority
                        if subject_type is not int and subject_type is not str:
                            raise BadRow
                        if rule == RULE_PRIORITY and type(a) is not int:
                            raise BadRow
                if encoding:
                    add_encoded((t_ns, thread, kind, subject, a, b), seq)
                else:
                    add_event((t_ns, thread, kind, subject, a, b))
                    add_seq(seq)
                last_seq = seq
        except (BadRow, ValueError, TypeError, KeyError):
            self.last_seq = last_seq
            raise LogError(row_problem(row, last_seq), line_no) from None
        self.last_seq = last_seq

"""A seeded mutator over real logs: case ``i`` of seed ``s`` is the same bytes every time.

Each case takes one seed log and applies one to three mutations (mostly one), some blind
(cut the file, flip bytes, drop or repeat lines, insert junk) and some that
know the format (a hostile value in one field of one event, a kind swapped for
another, a header or end line bent, well-typed but senseless events injected,
a wait-for chain thousands of threads deep).  Afterwards the sequence numbers
and the end line's count are usually put right again, so that most cases pass
the reader and go on to test the model and the views, rather than all dying on
line 2.  A compressed seed is usually compressed again, and sometimes its
compressed bytes are cut or flipped.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from typing import Any

from visualizer.events import Kind

KIND_NAMES = [kind.name for kind in Kind]

HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    7,
    2**31,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    0.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "queue",
    "x" * 5000,
    "\ud800",
    "\udfff tail",
    "\u00e9\u00fc \U0001f4a5",
    "\u0000",
    "LOCK_ACQUIRED",
    [],
    [1],
    [[[[[[[[[[1]]]]]]]]]],
    list(range(300)),
    {},
    {"a": 1},
    ["worker.py", 12],
    ["worker.py", -1],
    ["", 2**63],
]
"""Values to put where a log should hold something else."""

Lines = list[bytes]


def _dump(value: Any, rng: random.Random) -> bytes:
    """JSON for a value, escaped or raw (raw lone surrogates become raw surrogate bytes)."""
    ascii_only = rng.random() < 0.5
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass") + b"\n"


def _load(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _event_lines(lines: Lines) -> list[int]:
    return [i for i in range(1, len(lines)) if lines[i].startswith(b"[")]


def _sample(lines: Lines, rng: random.Random) -> list[Any]:
    """Some events of the log (to borrow idents, names and ids from)."""
    indices = _event_lines(lines)
    if not indices:
        return []
    rows = _load(lines[rng.choice(indices)])
    return rows if isinstance(rows, list) else []


def _hostile(rng: random.Random, borrowed: list[Any]) -> Any:
    if borrowed and rng.random() < 0.3:
        row = rng.choice(borrowed)
        return rng.choice(row) if isinstance(row, list) and row else row
    return rng.choice(HOSTILE)


# --- blind mutations ------------------------------------------------------------------
def cut(rng: random.Random, lines: Lines) -> Lines:
    data = b"".join(lines)
    at = rng.randrange(len(data) + 1)
    return [data[:at]]


def flip_bytes(rng: random.Random, lines: Lines) -> Lines:
    index = rng.randrange(len(lines))
    line = bytearray(lines[index])
    for _ in range(rng.randint(1, 4)):
        if line:
            line[rng.randrange(len(line))] = rng.randrange(256)
    return lines[:index] + [bytes(line)] + lines[index + 1 :]


def drop_line(rng: random.Random, lines: Lines) -> Lines:
    index = rng.randrange(len(lines))
    return lines[:index] + lines[index + 1 :]


def repeat_line(rng: random.Random, lines: Lines) -> Lines:
    index = rng.randrange(len(lines))
    return lines[: index + 1] + [lines[index]] + lines[index + 1 :]


def swap_lines(rng: random.Random, lines: Lines) -> Lines:
    lines = list(lines)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def junk_line(rng: random.Random, lines: Lines) -> Lines:
    choices: list[bytes] = [
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))) + b"\n",
        b"[" * 100_000 + b"\n",
        b"[" * 50_000 + b"]" * 50_000 + b"\n",
        b'{"type":"end"}\n',
        b"[[" + b"1," * 2000 + b"1]]\n",
        b"\n",
        _dump(rng.choice(HOSTILE), rng),
    ]
    index = rng.randrange(len(lines) + 1)
    return lines[:index] + [rng.choice(choices)] + lines[index:]


# --- mutations that know the format ---------------------------------------------------
def bend_field(rng: random.Random, lines: Lines) -> Lines:
    """One field of one event becomes a hostile value."""
    indices = _event_lines(lines)
    if not indices:
        return lines
    index = rng.choice(indices)
    rows = _load(lines[index])
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list):
        return lines
    row = rng.choice(rows)
    if row:
        # Half the time a value field (a, b), which takes any value: the model must cope.
        field = rng.randrange(len(row)) if rng.random() < 0.5 else rng.choice((-2, -1))
        row[field] = _hostile(rng, _sample(lines, rng))
    return lines[:index] + [_dump(rows, rng)] + lines[index + 1 :]


def swap_kind(rng: random.Random, lines: Lines) -> Lines:
    """Events of one kind read as another (a task id where a lock name goes...)."""
    indices = _event_lines(lines)
    if not indices:
        return lines
    index = rng.choice(indices)
    rows = _load(lines[index])
    if not isinstance(rows, list):
        return lines
    for row in rows:
        if isinstance(row, list) and len(row) == 7 and rng.random() < 0.2:
            row[3] = rng.choice(KIND_NAMES)
    return lines[:index] + [_dump(rows, rng)] + lines[index + 1 :]


def bend_header(rng: random.Random, lines: Lines) -> Lines:
    header = _load(lines[0]) if lines else None
    if not isinstance(header, dict):
        return lines
    if rng.random() < 0.6 and isinstance(header.get("settings"), dict):
        key = rng.choice(
            ["strategy", "producers", "workers", "tasks", "rate", "seed", "work_distribution"]
        )
        header["settings"][key] = _hostile(rng, [])
    else:
        key = rng.choice(["format", "version", "strategy", "created", "threads", "settings"])
        header[key] = _hostile(rng, [])
    return [_dump(header, rng)] + lines[1:]


def bend_end(rng: random.Random, lines: Lines) -> Lines:
    end = _load(lines[-1]) if lines else None
    if not isinstance(end, dict):
        return lines
    end[rng.choice(["events", "dropped", "threads", "type"])] = _hostile(rng, [])
    return lines[:-1] + [_dump(end, rng)]


def _names(lines: Lines, rng: random.Random) -> tuple[list[int], list[Any], list[Any]]:
    """Thread idents, lock names and task ids the log uses (some of them)."""
    idents: list[int] = []
    locks: list[Any] = []
    tasks: list[Any] = []
    for row in _sample(lines, rng) + _sample(lines, rng):
        if isinstance(row, list) and len(row) == 7:
            idents.append(row[2])
            (locks if str(row[3]).startswith(("LOCK", "COND")) else tasks).append(row[4])
    return idents or [1, 2], locks or ["queue"], tasks or [1, 2]


def inject_events(rng: random.Random, lines: Lines) -> Lines:
    """Well-typed events that make no sense: a release never acquired, a pop before its
    add, a thread that ends holding a lock, a gate at a line that does not exist...
    (now and then one breaks its kind's rule as well)."""
    idents, locks, tasks = _names(lines, rng)
    threads = ["worker-9", "producer-1", "x" * 300, "\u00e9t\u00e9"]
    rows = []
    for _ in range(rng.randint(1, 60)):
        kind = rng.choice(KIND_NAMES)
        if kind.startswith(("LOCK", "COND")):
            subject = rng.choice(locks)
        elif kind.startswith("THREAD"):
            subject = rng.choice(threads)
        elif kind.startswith(("TASK", "HEAP")):
            subject = rng.choice(tasks)
        else:
            subject = rng.choice(tasks + locks + threads)
        a = rng.choice([None, "x", "r", "w", "s", 0, 3, rng.choice(tasks), ["f.py", 9]])
        b = rng.choice([None, 0, 1, 2, rng.choice(idents), [rng.choice(idents)]])
        if kind == "TASK_ADDED":
            a = rng.randrange(-5, 20)
        rows.append([0, rng.randrange(10**12), rng.choice(idents), kind, subject, a, b])
    if rng.random() < 0.2:
        rng.choice(rows)[4] = _hostile(rng, [])
    index = rng.randint(1, max(1, len(lines) - 1))
    return lines[:index] + [_dump(rows, rng)] + lines[index:]


def deep_chain(rng: random.Random, lines: Lines) -> Lines:
    """Thread i holds lock i and waits for lock i+1: a chain (or, closed, a cycle)
    thousands of threads long, deeper than Python's recursion limit."""
    depth = rng.choice([50, 1200, 3000])
    base = 10**6
    rows = [[0, 10**9 + i, base + i, "LOCK_ACQUIRED", f"c{i}", "x", 1] for i in range(depth)]
    closed = rng.random() < 0.5
    last = depth if closed else depth - 1
    rows += [
        [0, 2 * 10**9 + i, base + i, "LOCK_REQUESTED", f"c{(i + 1) % depth}", "x", None]
        for i in range(last)
    ]
    chunks = [rows[i : i + 1024] for i in range(0, len(rows), 1024)]
    index = max(1, len(lines) - 1)
    return lines[:index] + [_dump(chunk, rng) for chunk in chunks] + lines[index:]


BLIND: list[Callable[[random.Random, Lines], Lines]] = [
    cut,
    flip_bytes,
    drop_line,
    repeat_line,
    swap_lines,
    junk_line,
]
AWARE: list[Callable[[random.Random, Lines], Lines]] = [
    bend_field,
    bend_field,
    swap_kind,
    bend_header,
    bend_end,
    inject_events,
    inject_events,
    inject_events,
    deep_chain,
]


def renumber(lines: Lines, rng: random.Random) -> Lines:
    """Sequence numbers strictly increasing again, and the end line counting the events."""
    seq = 0
    count = 0
    out = []
    for index, line in enumerate(lines):
        value = _load(line) if index else None
        if isinstance(value, list):
            for row in value:
                if isinstance(row, list) and row:
                    row[0] = seq
                    seq += 1
                    count += 1
            out.append(_dump(value, rng))
        elif isinstance(value, dict) and value.get("type") == "end":
            value["events"] = count
            out.append(_dump(value, rng))
        else:
            out.append(line)
    return out


class Mutator:
    """Mutated copies of ``seeds`` (raw log bytes, gzip or not), case by case."""

    def __init__(self, seeds: list[bytes], seed: int = 0) -> None:
        self.seed = seed
        self.logs: list[tuple[Lines, bool]] = []
        for raw in seeds:
            compressed = raw[:2] == b"\x1f\x8b"
            text = gzip.decompress(raw) if compressed else raw
            self.logs.append((text.splitlines(keepends=True), compressed))

    def case(self, index: int) -> tuple[bytes, str]:
        """The bytes of case ``index`` and the mutations that made it."""
        rng = random.Random(f"{self.seed}:{index}")
        lines, compressed = self.logs[rng.randrange(len(self.logs))]
        done = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            mutation = rng.choice(AWARE if rng.random() < 0.8 else BLIND)
            lines = mutation(rng, lines) or [b""]
            done.append(mutation.__name__)
        if rng.random() < 0.85:
            lines = renumber(lines, rng)
            done.append("renumber")
        data = b"".join(lines)
        if compressed and rng.random() < 0.8:
            data = gzip.compress(data, compresslevel=1)
            if rng.random() < 0.15:
                data = flip_bytes(rng, [data])[0] if rng.random() < 0.5 else cut(rng, [data])[0]
                done.append("bent-gzip")
        return data, "+".join(done)

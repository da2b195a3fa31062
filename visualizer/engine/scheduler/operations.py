"""What a whole operation of the code under study reads and writes, and in what order.

:mod:`.access` says what one instruction touches.  A search that wants to
widen the gap of a read-modify-write needs more: whether a read is the *check*
the thread is about to act on.  A read of ``x`` is such a check when

* the operation it is part of goes on to write ``x`` (a lost update, a
  look-then-pop, a check-then-act on one name), and
* the next thing the operation does to shared state is a write: the last look
  before acting.  A thread that peeks at the heap, then asks for the status of
  what it saw, then sets it, acts on the status; stopping it after the peek
  would let the others change the status first, and it would see that.

Both are worked out from the bytecode once, before anything runs, per
function: what it writes and reads together with the study functions it calls
(a call is matched by name: ``self.set_status(...)`` reaches every study
function named ``set_status``; a function nested in it is taken to run within
it), and the offsets where it touches shared state, in code order.  At run
time the enclosing study frames (the stack) say which operation a read is part
of; that also follows a method picked through another name
(``self.cancel = self.cancel_unsafe``).  Loops and branches are read as
straight-line code: a guess, whose misses only cost a search a wasted try.
"""

from __future__ import annotations

import dis
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import CodeType, FrameType

from visualizer.engine.scheduler.access import Access

_NAME_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD", "LOAD_GLOBAL", "LOAD_NAME"})
CACHE_SIZE = 64
"""Sets of study code kept analysed between runs (a search runs the same code thousands
of times; a user's queue file keeps its code objects from run to run)."""


@dataclass(frozen=True, slots=True)
class Touches:
    """One function's touches of shared state: offsets in code order, and which write."""

    offsets: tuple[int, ...]
    writes: tuple[bool, ...]
    written: frozenset[str]  # every shared name it writes, with its callees

    def next_writes(self, offset: int) -> bool | None:
        """Whether the first touch after ``offset`` writes (None: there is none)."""
        index = bisect_right(self.offsets, offset)
        return self.writes[index] if index < len(self.offsets) else None


class Operations:
    """The shared state of the study code and the :class:`Touches` of each function."""

    _cache: dict[tuple[frozenset[str], frozenset[CodeType]], Operations] = {}

    @classmethod
    def of(
        cls,
        files: frozenset[str],
        codes: list[CodeType],
        access: Callable[[CodeType], dict[int, Access]],
    ) -> Operations:
        """The analysis of ``codes`` (kept: the next run of the same code reuses it)."""
        key = (files, frozenset(codes))
        found = cls._cache.get(key)
        if found is None:
            if len(cls._cache) >= CACHE_SIZE:
                cls._cache.clear()
            found = cls._cache[key] = cls(files, codes, {code: access(code) for code in codes})
        return found

    def __init__(
        self,
        files: frozenset[str],
        codes: Iterable[CodeType],
        access: Mapping[CodeType, dict[int, Access]],
    ) -> None:
        self.files = files
        # What a constructor writes is not shared: nobody else sees the object yet.
        codes = [code for code in codes if code.co_name != "__init__"]
        own = {code: _touched(access.get(code, {})) for code in codes}
        self.shared = frozenset(name for _, written in own.values() for name in written)
        sites = _call_sites(codes)
        whole = {code: _reach(code, sites, own) for code in codes}
        self._touches: dict[CodeType, Touches] = {}
        for code in codes:
            touched = {
                offset: (frozenset(read), frozenset(written))
                for offset, (read, written) in access.get(code, {}).items()
                if written or self.shared.intersection(read)
            }
            for offset, callees in sites[code].items():
                read = frozenset().union(*(whole[c][0] for c in callees)) & self.shared
                written = frozenset().union(*(whole[c][1] for c in callees))
                if read or written:
                    before = touched.get(offset, (frozenset(), frozenset()))
                    touched[offset] = (before[0] | read, before[1] | written)
            ordered = sorted(touched)
            # Loading what the next instruction writes (``heappop(self.heap)``, ``self.n
            # += 1``) is part of that write, not a look of its own.
            kept = [
                offset
                for offset, after in zip(ordered, [*ordered[1:], None], strict=False)
                if after is None
                or touched[offset][1]
                or not touched[offset][0] <= touched[after][1]
            ]
            self._touches[code] = Touches(
                tuple(kept), tuple(bool(touched[o][1]) for o in kept), whole[code][1]
            )

    def checks(self, frame: FrameType, offset: int, read: frozenset[str]) -> frozenset[str]:
        """Of ``read`` (read at ``offset`` in ``frame``), the names read as a check.

        The study frames on the stack, innermost first: the first touch of
        shared state after where each stands says whether the read is the last
        look before a write; what they write says whether it is written back.
        """
        written: set[str] = set()
        acts: bool | None = None
        current: FrameType | None = frame
        at = offset
        files = self.files
        while current is not None and current.f_code.co_filename in files:
            touches = self._touches.get(current.f_code)
            if touches is not None:
                written.update(touches.written)
                if acts is None:
                    acts = touches.next_writes(at)
            current = current.f_back
            if current is not None:
                at = current.f_lasti
        return read.intersection(written) if acts else frozenset()


Names = tuple[frozenset[str], frozenset[str]]
"""(read, written)"""


def _touched(access: dict[int, Access]) -> Names:
    reads = frozenset(name for read, _ in access.values() for name in read)
    return reads, frozenset(name for _, written in access.values() for name in written)


def _call_sites(codes: list[CodeType]) -> dict[CodeType, dict[int, list[CodeType]]]:
    """Code -> offset -> the study functions called there, matched by name.

    A function nested in a code (a lambda, a local helper) is taken to be called
    where it is made.
    """
    by_name: dict[str, list[CodeType]] = {}
    for code in codes:
        by_name.setdefault(code.co_name, []).append(code)
    studied = set(codes)
    sites: dict[CodeType, dict[int, list[CodeType]]] = {}
    for code in codes:
        found = sites[code] = {}
        for ins in dis.get_instructions(code):
            if ins.opname in _NAME_LOADS and ins.argval in by_name:
                found[ins.offset] = by_name[ins.argval]
            elif ins.opname == "LOAD_CONST" and ins.argval in studied:
                found[ins.offset] = [ins.argval]
    return sites


def _reach(
    code: CodeType, sites: dict[CodeType, dict[int, list[CodeType]]], own: dict[CodeType, Names]
) -> Names:
    """What ``code`` reads and writes, with everything it calls, over the call graph."""
    reached, todo = {code}, [code]
    while todo:
        for callees in sites[todo.pop()].values():
            for callee in callees:
                if callee not in reached:
                    reached.add(callee)
                    todo.append(callee)
    reads = frozenset().union(*(own[c][0] for c in reached))
    return reads, frozenset().union(*(own[c][1] for c in reached))

"""Which shared state an instruction of the code under study reads or writes, by name.

A search that wants to preempt a thread *between* reading shared state and
acting on it (a lost update, a check-then-act, a look-then-pop) needs to know
where reads and writes happen.  This works it out once per code object from
the bytecode, by attribute name (``self.heap`` and ``other.heap`` are one
name: an over-approximation, which only costs a search some wasted tries):

* a read: ``LOAD_ATTR x`` (``self.x``, ``self.x[i]``, ``len(self.x)``);
* a write: ``STORE_ATTR x`` / ``DELETE_ATTR x``; ``self.x[k] = v`` and
  ``del self.x[k]`` (the container is the last attribute loaded on the way);
  and a call of a *mutating* function or method with ``self.x`` as its
  receiver or argument (``self.x.append(v)``, ``heapq.heappop(self.x)``,
  ``self.q.put(v)``).  Which calls mutate is a fixed list of the standard
  containers' and ``heapq``'s names; a call of anything else is not a write.
  ``get`` is a queue's take (``q.get()``, ``q.get(True, 1)``,
  ``q.get(timeout=t)``) but a dict's lookup (``d.get(key)``): it counts as a
  write only called as a queue's.
"""

from __future__ import annotations

import dis
from collections.abc import Iterable

MUTATORS = frozenset(
    {
        # list, deque, dict, set
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "pop",
        "popleft",
        "popitem",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "rotate",
        # heapq
        "heappush",
        "heappop",
        "heapreplace",
        "heappushpop",
        "heapify",
        # queue.Queue and its kin
        "put",
        "put_nowait",
        "get",
        "get_nowait",
    }
)
_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
_STORES = frozenset({"STORE_ATTR", "DELETE_ATTR"})
_ITEM_STORES = frozenset({"STORE_SUBSCR", "DELETE_SUBSCR", "STORE_SLICE"})
_CALLS = frozenset({"CALL", "CALL_FUNCTION_EX", "CALL_KW"})
_MUTATOR_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD", "LOAD_GLOBAL", "LOAD_NAME"})

_NOT_ARGUMENTS = frozenset({"CACHE", "EXTENDED_ARG", "PUSH_NULL", "PRECALL", "KW_NAMES"})

Access = tuple[tuple[str, ...], tuple[str, ...]]
"""(names read, names written) by one instruction."""


def accesses(instructions: Iterable[dis.Instruction]) -> dict[int, Access]:
    """Offset -> (reads, writes) for the instructions of one code object that touch state."""
    out: dict[int, Access] = {}
    line_attrs: list[tuple[int, str]] = []  # (offset, name) of attributes loaded on this line
    mutator_at: int | None = None  # where the pending mutating call's function was loaded
    mutated: list[str] = []  # names the pending mutating call writes
    mutator = ""  # the pending mutating call's name
    first_arg: dis.Instruction | None = None  # what pushed its first argument
    keywords = False  # whether it passes keywords
    line = receiver = None
    for ins in instructions:
        number = getattr(ins, "line_number", ins.starts_line)  # 3.13 has line_number
        if number is not None and number != line:
            line, line_attrs, mutator_at = number, [], None
        name, arg = ins.opname, ins.argval
        if name in _LOADS and isinstance(arg, str):
            out[ins.offset] = ((arg,), ())
            line_attrs.append((ins.offset, arg))
        elif name in _STORES and isinstance(arg, str):
            out[ins.offset] = ((), (arg,))
        elif name in _ITEM_STORES and line_attrs:
            out[ins.offset] = ((), (line_attrs[-1][1],))
        if name in _MUTATOR_LOADS and arg in MUTATORS:
            mutator_at, mutated, mutator = ins.offset, list(receiver or ()), arg
            first_arg, keywords = None, False
        elif name in _CALLS and mutator_at is not None:
            # The receiver (the attribute loaded just before the method) and the
            # arguments (attributes loaded after the function) are written.
            mutated += [n for offset, n in line_attrs if offset > mutator_at]
            if mutated and (mutator != "get" or _takes(ins, first_arg, keywords)):
                out[ins.offset] = ((), tuple(dict.fromkeys(mutated)))
            mutator_at = None
        elif mutator_at is not None:
            keywords = keywords or name == "KW_NAMES"
            if first_arg is None and name not in _NOT_ARGUMENTS:
                first_arg = ins
        if name not in ("CACHE", "EXTENDED_ARG"):
            receiver = (arg,) if name in _LOADS and isinstance(arg, str) else None
    return out


def _takes(call: dis.Instruction, first_arg: dis.Instruction | None, keywords: bool) -> bool:
    """Whether a call of ``get`` is a queue's take: no argument, keywords, or a flag first."""
    if call.opname != "CALL" or keywords or not call.arg:
        return True
    if first_arg is None or first_arg.opname != "LOAD_CONST":
        return False
    return type(first_arg.argval) is bool

"""Bytecode instructions in plain words a student can read aloud.

"read self.counter → 0", "add 1", "write self.counter": the verb comes from the
instruction, the words from the source text the instruction belongs to (its
``positions``), and a value is shown only when it can be read without running
any code of the program (plain ints, strings, and short lists or tuples of
them, looked up in dictionaries, never through a property or ``__repr__``).
"""

from __future__ import annotations

import dis
import linecache
from types import CodeType, FrameType

_OPERATORS = {
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "/": "divide",
    "//": "divide",
    "%": "take the remainder of",
    "&": "and",
    "|": "or",
}
_PLAIN = (int, float, str, bool, type(None))
_MISSING = object()


def source_of(code: CodeType, ins: dis.Instruction) -> str:
    """The source text an instruction was compiled from (one line at most)."""
    positions = ins.positions
    if positions is None or positions.lineno is None or positions.lineno != positions.end_lineno:
        return ""
    line = linecache.getline(code.co_filename, positions.lineno)
    if positions.col_offset is None or positions.end_col_offset is None:
        return line.strip()
    return line.encode()[positions.col_offset : positions.end_col_offset].decode(errors="replace")


def describe(
    code: CodeType,
    ins: dis.Instruction,
    previous: dis.Instruction | None = None,
    frame: FrameType | None = None,
) -> str:
    """What ``ins`` is about to do, in words (with the value it reads, when safe)."""
    name = ins.opname
    text = source_of(code, ins)
    if name == "RESUME":
        return f"enter {code.co_name}()"
    if name in ("LOAD_FAST", "LOAD_DEREF", "LOAD_NAME", "LOAD_FAST_CHECK"):
        return _read(f"{ins.argval}", frame)
    if name == "LOAD_GLOBAL":
        return f"look up {ins.argval}"
    if name in ("LOAD_ATTR", "LOAD_METHOD"):
        if text.endswith(")"):  # a method about to be called: name it, the call comes next
            return f"find {text.split('(')[0]}"
        return _read(text or f".{ins.argval}", frame)
    if name == "BINARY_SUBSCR":
        return _read(text, frame)
    if name in ("STORE_ATTR", "STORE_SUBSCR"):
        return f"write {_target(text)}"
    if name in ("STORE_FAST", "STORE_NAME", "STORE_DEREF", "STORE_GLOBAL"):
        return f"set {ins.argval}"
    if name == "BINARY_OP":
        verb = _OPERATORS.get(ins.argrepr.rstrip("="), f"compute {ins.argrepr}")
        if previous is not None and previous.opname == "LOAD_CONST":
            return f"{verb} {previous.argrepr}"
        return f"{verb} ({text})" if text else verb
    if name == "LOAD_CONST":
        return f"take {ins.argrepr}"
    if name == "COMPARE_OP":
        return f"compare {text}" if text else f"compare ({ins.argrepr})"
    if name.startswith("CALL"):
        return f"call {text}" if text else "call"
    if "JUMP" in name and "_IF_" in name:
        return f"test {text}" if text else "test"
    if name in ("RETURN_VALUE", "RETURN_CONST"):
        return "return"
    if name == "JUMP_BACKWARD":
        return "loop back"
    if name == "GET_ITER":
        return f"iterate over {text}" if text else "start iterating"
    if name == "FOR_ITER":
        return f"next item of {text}" if text else "next item"
    if name == "BEFORE_WITH":
        return f"enter with {text}" if text else "enter with"
    if name == "UNPACK_SEQUENCE":
        return "unpack"
    if name == "POP_TOP":
        return "drop the result"
    if name == "PUSH_EXC_INFO":
        return "handle the exception"
    return f"{name} {ins.argrepr}".rstrip()


def _target(text: str) -> str:
    for separator in (" += ", " -= ", " = "):
        if separator in text:
            return text.split(separator)[0]
    return text


def _read(expression: str, frame: FrameType | None) -> str:
    value = _peek(expression, frame)
    if value is _MISSING:
        return f"read {expression}"
    return f"read {expression} \u2192 {_short(value)}"


def _peek(expression: str, frame: FrameType | None) -> object:
    """The value of ``name``, ``name.attr...`` or ``name.attr[int]``, read from dicts only."""
    if frame is None or not expression:
        return _MISSING
    index = None
    if expression.endswith("]") and "[" in expression:
        expression, _, key = expression[:-1].partition("[")
        if not key.strip().lstrip("-").isdigit():
            return _MISSING
        index = int(key)
    parts = expression.split(".")
    if not all(part.isidentifier() for part in parts):
        return _MISSING
    value = frame.f_locals.get(parts[0], frame.f_globals.get(parts[0], _MISSING))
    for part in parts[1:]:
        if value is _MISSING:
            return _MISSING
        try:
            fields = object.__getattribute__(value, "__dict__")
        except AttributeError:
            return _MISSING
        value = fields.get(part, _MISSING) if isinstance(fields, dict) else _MISSING
    if index is not None:
        if not isinstance(value, list | tuple) or not -len(value) <= index < len(value):
            return _MISSING
        value = value[index]
    if not is_plain(value):
        return _MISSING
    return value


def is_plain(value: object, depth: int = 0, most: int = 64) -> bool:
    """Plain data of the built-in types only (not even a subclass: its repr could be code).

    Such a value can be shown, compared and sent to another process without
    running a line of the program's own code.
    """
    kind = type(value)
    if kind in _PLAIN:
        return True
    if depth >= 3:
        return False
    if kind in (list, tuple, set, frozenset) and isinstance(value, list | tuple | set | frozenset):
        return len(value) <= most and all(is_plain(v, depth + 1, most) for v in value)
    if kind is dict and isinstance(value, dict):
        return len(value) <= most and all(
            is_plain(k, depth + 1, most) and is_plain(v, depth + 1, most) for k, v in value.items()
        )
    return False


def _short(value: object) -> str:
    """A value in a few words: a long list shows its first items and its length."""
    if isinstance(value, list | tuple) and len(value) > 3:
        head = ", ".join(repr(item) for item in value[:2])
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        return f"{opening}{head}, \u2026{closing} ({len(value)} items)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

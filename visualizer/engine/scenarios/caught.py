"""What a handled exception left undone: where it was raised and the lines it skipped.

A scenario such as the forgotten release handles an exception and carries on;
the lesson is in what the exception jumped over (a ``release()``), and no event
of a lock can say that.  :func:`describe` reads the traceback: the innermost
frame in the program's own file is where it was raised, and the rest of that
function's body, which never ran, is what it skipped.
"""

from __future__ import annotations

import inspect
import os
from types import TracebackType

SKIP_HINTS = ("release(", ".unlock(", "notify(", "close(")
"""A skipped line doing one of these is the one worth naming (it undoes something)."""


def describe(exc: BaseException, program_file: str) -> tuple[str, tuple[str, int, int]]:
    """One sentence about ``exc`` and ``(file, raised_line, skipped_line)`` (0: none skipped).

    Only frames of ``program_file`` are considered: the student reads that file,
    and a line inside ``int()`` or the standard library would tell them nothing.
    """
    what = f"{type(exc).__name__}: {exc}"
    frame_tb = _innermost(exc.__traceback__, program_file)
    if frame_tb is None:
        return f"caught {what}", (program_file, 0, 0)
    code, raised = frame_tb.tb_frame.f_code, frame_tb.tb_lineno
    try:
        lines, first = inspect.getsourcelines(code)
    except (OSError, TypeError):
        return f"caught {what} at line {raised}", (program_file, raised, 0)
    skipped = [
        (first + offset, text.strip())
        for offset, text in enumerate(lines)
        if first + offset > raised and text.strip() and not text.strip().startswith("#")
    ]
    if not skipped:
        return f"caught {what} at line {raised}", (program_file, raised, 0)
    line, text = next(
        (item for item in reversed(skipped) if any(h in item[1] for h in SKIP_HINTS)),
        skipped[0],
    )
    code_text = text.split("  #", 1)[0].strip()
    sentence = (
        f"caught {what} raised at line {raised}, which skipped line {line} of "
        f"{code.co_name}(): {code_text}"
    )
    return sentence, (program_file, raised, line)


def _innermost(tb: TracebackType | None, program_file: str) -> TracebackType | None:
    found = None
    target = os.path.normcase(os.path.abspath(program_file))
    while tb is not None:
        if os.path.normcase(os.path.abspath(tb.tb_frame.f_code.co_filename)) == target:
            found = tb
        tb = tb.tb_next
    return found

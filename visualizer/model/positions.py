"""Where each thread stood in the code, step by step: the code panel's history.

A paused run parks its threads at traced points, and each park is a
``GATE_WAIT`` event carrying the checkpoint's label and the ``(file, line)``
the thread stopped at (see :func:`~visualizer.queues.gate.caller_location`).
Kept in order, those events are a history the code panel can walk forwards and
backwards: browsing back shows where every thread *was*; it does not undo
anything the threads did.

A thread's end is kept in the same history (as a position with line 0), so a
thread that has ended loses its marker from that point on, and only from then.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple


class Position(NamedTuple):
    """One thread parked at one line (line 0: the thread ended here)."""

    seq: int
    t_ns: int
    thread: int
    label: str
    file: str
    line: int

    @property
    def ended(self) -> bool:
        return self.line == 0


class PositionLog:
    """Every park of every thread, oldest first, with stable indices.

    At most ``capacity`` positions are kept; :attr:`first_index` counts those
    forgotten, so an index a panel holds keeps naming the same position.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._history: deque[Position] = deque(maxlen=capacity)
        self.first_index = 0
        self.latest: dict[int, Position] = {}  # thread -> where it last parked (live only)

    def __len__(self) -> int:
        """One past the index of the newest position (0 when none)."""
        return self.first_index + len(self._history)

    def __getitem__(self, index: int) -> Position:
        return self._history[index - self.first_index]

    # --- folding ---------------------------------------------------------------
    def parked(self, seq: int, t_ns: int, ident: int, label: object, where: object) -> None:
        """Fold a ``GATE_WAIT``; a malformed location (a hand-edited log) is skipped."""
        if not (isinstance(where, tuple | list) and len(where) == 2):
            return
        file, line = where
        if not isinstance(file, str) or not isinstance(line, int) or line < 1:
            return
        self._append(Position(seq, t_ns, ident, str(label), file, line))

    def thread_ended(self, seq: int, t_ns: int, ident: int) -> None:
        if ident in self.latest:
            self._append(Position(seq, t_ns, ident, "ended", "", 0))

    def _append(self, position: Position) -> None:
        history = self._history
        if len(history) == history.maxlen:
            self.first_index += 1
        history.append(position)
        if position.ended:
            self.latest.pop(position.thread, None)
        else:
            self.latest[position.thread] = position

    # --- reading ---------------------------------------------------------------
    def at(self, index: int) -> dict[int, Position]:
        """Thread -> where it stood once position ``index`` had happened (its own included).

        Threads that had ended by then, or never parked, are absent.
        """
        history = self._history
        stop = min(index - self.first_index, len(history) - 1)
        found: dict[int, Position] = {}
        gone: set[int] = set()
        for offset in range(stop, -1, -1):
            position = history[offset]
            thread = position.thread
            if thread in found or thread in gone:
                continue
            if position.ended:
                gone.add(thread)
            else:
                found[thread] = position
        return found

    def files(self) -> list[str]:
        """Every file a thread has parked in, in order of first appearance."""
        return list(dict.fromkeys(p.file for p in self._history if not p.ended))

"""Ids of finished tasks in two bits each: how a long run forgets tasks without losing them.

A run that never ends must not keep a table entry for every task it ever
finished, yet a task handed out again long after it finished is still a bug
to catch, and a late ``cancel_task`` of such a task must still be answered.
Ids are numbered in order (the workload counts them up), so the finished ones
pack into a bit array that keeps only the spread of ids still live.  The queue
(:class:`~visualizer.queues.base.TaskTable`) and the model's task board both
fold their finished tasks into one.
"""

from __future__ import annotations

from collections.abc import Hashable

from visualizer.events import CANCELLED, COMPLETED, TERMINAL
from visualizer.queues.speedups import native

_fold_native = native.fold_finished if native is not None else None


class FinishedIds:
    """Integer ids of finished tasks and how each finished, in two bits an id.

    Bits cover the ids from :attr:`base` on; ``add`` grows them as ids get
    larger and drops the leading bytes whose four ids have all finished, so
    memory follows the spread of the ids still live (a task starved at a low
    priority, a producer ahead of another), a quarter of a byte each, not the
    length of the run, plus the :data:`KEEP` bytes before them: the last million
    finished ids or so are answered for exactly; older ones are forgotten (``get``
    says None).  An id too far from the rest to fit within :data:`SPAN` ids (a
    hand-made log's) is refused, and the caller keeps it.
    """

    SPAN = 1 << 26
    """Most ids covered: 16 MB of bits at most."""
    _CODES = {COMPLETED: 1, CANCELLED: 2}
    _STATUS = (None, COMPLETED, CANCELLED, None)
    _FULL = bytes(
        int(all((value >> shift) & 3 for shift in (0, 2, 4, 6))) for value in range(256)
    )  # translate table: 1 for a byte whose four ids have all finished

    KEEP = 1 << 18
    """Bytes of finished ids kept before the first live one (256 KB: a million ids), so a
    late cancel, status query or duplicate of any of them is still answered for."""

    __slots__ = ("base", "bits", "lowest", "keep", "_added")

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self.base = 0
        self.bits = bytearray()
        self.lowest: int | None = None  # the smallest id ever added: none below it will come
        self._added = 0

    def __len__(self) -> int:
        """Bytes of bits kept (a quarter of a byte per id covered)."""
        return len(self.bits)

    def get(self, task_id: Hashable) -> str | None:
        """How the task finished, if it is here (None: not finished past the horizon)."""
        if type(task_id) is not int:
            return None
        offset = task_id - self.base
        if offset < 0 or offset >= 4 * len(self.bits):
            return None
        return self._STATUS[(self.bits[offset >> 2] >> ((offset & 3) << 1)) & 3]

    def add(self, task_id: Hashable, status: str) -> bool:
        """Fold a finished task in; False if its id cannot be (the caller keeps it)."""
        if type(task_id) is not int:
            return False
        bits = self.bits
        if not bits:
            self.base = task_id & ~3
        if self.lowest is None or task_id < self.lowest:
            self.lowest = task_id
        offset = task_id - self.base
        if offset < 0:  # before the first byte: grow downwards if the span allows
            grow = (-offset + 3) >> 2
            if 4 * (len(bits) + grow) > self.SPAN:
                return False
            bits[0:0] = bytes(grow)
            self.base -= 4 * grow
            offset += 4 * grow
        elif offset >= 4 * len(bits):
            if offset >= self.SPAN:
                return False
            bits.extend(bytes((offset >> 2) + 1 - len(bits) + 1024))
        bits[offset >> 2] |= self._CODES[status] << ((offset & 3) << 1)
        self._added += 1
        if self._added % 4096 == 0:
            self._trim()
        return True

    def fold(self, batch: list[Hashable], statuses: dict, forgotten: dict[str, int]) -> None:
        """Move each id of ``batch`` that finished from ``statuses`` into the bits,
        counting it in ``forgotten``; ids that cannot be folded stay in ``statuses``.

        Every id of a long run passes here once, so the usual case (an int id that
        completed, inside the bits) runs in C where the speedups are built; the
        loop below handles the rest, and everything where they are not.
        """
        native, again = _fold_native, True
        while native is not None and again and batch:
            completed, cancelled, lowest, batch = native(batch, statuses, self.bits, self.base)
            if completed or cancelled:
                self._counted(completed, cancelled, lowest, forgotten)
            # The first id C could not place goes the long way (usually one past the
            # bits: that grows them), and C takes the rest again if that may help.
            size = len(self.bits)
            self._fold_one(batch[:1], statuses, forgotten)
            again = len(self.bits) != size or completed + cancelled > 0
            batch = batch[1:]
        self._fold_one(batch, statuses, forgotten)

    def _counted(
        self, completed: int, cancelled: int, lowest: int, forgotten: dict[str, int]
    ) -> None:
        """Account for ids folded in C as ``add`` would have, one by one."""
        forgotten[COMPLETED] += completed
        forgotten[CANCELLED] += cancelled
        if self.lowest is None or lowest < self.lowest:
            self.lowest = lowest
        before = self._added
        self._added += completed + cancelled
        if before >> 12 != self._added >> 12:  # ``add`` trims every 4096 ids
            self._trim()

    def _fold_one(self, batch: list[Hashable], statuses: dict, forgotten: dict[str, int]) -> None:
        """``fold`` in Python, an id at a time: the usual one (an int within the bits, not
        below the lowest, no trim due) is set in place, any other goes through ``add``.
        Without the C speedups every finished task of a long run passes here: in place,
        it costs a third of what a call to ``add`` does."""
        codes = self._CODES
        bits, base, added = self.bits, self.base, self._added
        size = 4 * len(bits)
        floor = self._floor()
        for task_id in batch:
            status = statuses.get(task_id)
            if status not in TERMINAL:  # moved again since (the unsafe queue might)
                continue
            offset = task_id - base if type(task_id) is int else -1
            if floor <= offset < size and ~added & 4095:
                bits[offset >> 2] |= codes[status] << ((offset & 3) << 1)
                added += 1
            else:
                self._added = added
                folded = self.add(task_id, status)  # may grow or trim the bits
                bits, base, added = self.bits, self.base, self._added
                size = 4 * len(bits)
                floor = self._floor()
                if not folded:  # an id the bits cannot hold: it stays listed
                    continue
            del statuses[task_id]
            forgotten[status] += 1
        self._added = added

    def _floor(self) -> int:
        """The first offset in the bits an id may be set at in place: none below the lowest
        id ever added (``add`` moves the lowest), none before the bits; with nothing added,
        none at all."""
        if self.lowest is None:
            return 4 * len(self.bits)
        return max(0, self.lowest - self.base)

    def _trim(self) -> None:
        """Drop leading bytes whose ids have all finished: nothing before them is live.

        Ids below the smallest one ever added count as finished (numbering that
        starts at 1 leaves id 0 out for good).
        """
        bits = self.bits
        marks = bits.translate(self._FULL)
        done = marks.find(0)
        lowest = self.base if self.lowest is None else self.lowest
        if done == 0 and all(self.base + k < lowest or (bits[0] >> (2 * k)) & 3 for k in range(4)):
            done = marks.find(0, 1)
        if done == -1:
            done = len(bits)
        if done > self.keep:
            drop = done - self.keep
            del bits[:drop]
            self.base += 4 * drop

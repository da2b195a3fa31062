"""A replica of the queue's binary heap, rebuilt from the event stream alone.

Why replay instead of asking the queue for ``snapshot()``: a snapshot takes the
queue's lock, which would perturb the very contention being shown, and it says
nothing about *how* an entry moved.  Replaying every push and pop with the same
keys the queue uses, ``(-priority, insertion order, task id)``, reproduces
``heapq``'s array exactly, and running our own copy of its sift loops tells us
which slots each operation walked through, so the view can light up that path.

Insertion order is the order of ``TASK_ADDED`` events; a safe strategy records
that event under the same lock as the push, so the orders agree.  Pops can be
reported out of order even by a safe strategy: ``priority-queue`` takes an entry
out of its heap under one lock and records the pop under another, so two
getters' events may swap.  When the stream names an entry that is not at the
root but only a few entries are ahead of it, those were popped first and their
events are still to come: the replica pops them now and checks them off when
their events arrive (:attr:`HeapMirror.reordered`).  The unsafe strategy can
break the replica further; then it never fails, but removes entries out of turn,
or sets aside a pop it never had the entry for (and skips that entry's push if
it is recorded late), counting each in :attr:`HeapMirror.resyncs`.

Bounded work per event, whatever the depth: an entry that is not at the root is
found by a walk from the root over the entries ahead of it (only their children
can be ahead too), which stops after :data:`MAX_AHEAD` of them, never by a
search of the whole array.  An entry further down than that is out of step: in a
small heap it is looked up and removed at once; in a large one it is marked and
dropped when it surfaces at the root, as the queue drops a cancelled task.  The
pops and pushes still to be matched are bounded too (:data:`MAX_PENDING`): with
events dropped, some are never matched.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

MAX_AHEAD = 32
"""Most pops whose events may still be on their way (about the number of getters)."""
SCAN_LIMIT = 4096
"""Largest heap searched slot by slot for an entry removed out of turn."""
MAX_PENDING = 4096
"""Most early pops and unpushed pops remembered (the oldest are forgotten first)."""


def _remember(pending: dict[Hashable, None], task_id: Hashable) -> None:
    """Add to an insertion-ordered set, forgetting the oldest beyond :data:`MAX_PENDING`."""
    pending[task_id] = None
    if len(pending) > MAX_PENDING:
        del pending[next(iter(pending))]


class HeapSlots(Sequence):
    """The replica's slots as ``(priority, task_id)``, read in place, copying nothing.

    Views look at the first few dozen slots of a heap that may hold tens of
    thousands, once per frame; building the whole list each time was most of a
    frame's budget.  Valid until the next fold (views read it during refresh).
    """

    __slots__ = ("_heap",)

    def __init__(self, heap: list[tuple[int, int, Hashable]]) -> None:
        self._heap = heap

    def __len__(self) -> int:
        return len(self._heap)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [(-key[0], key[2]) for key in self._heap[index]]
        key = self._heap[index]
        return (-key[0], key[2])


class HeapMirror:
    """Heap array of ``(-priority, order, task_id)`` keys, sifted exactly like ``heapq``."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Hashable]] = []
        self._order = 0
        self.last_path: list[int] = []
        self.last_op: str | None = None
        self.last_task: Hashable | None = None
        self.reordered = 0  # pops replayed before their (overtaken) events arrived
        self.resyncs = 0  # entries removed out of turn, or pops of entries never pushed
        self._early: dict[Hashable, None] = {}  # popped ahead of their events
        self._unpushed: dict[Hashable, None] = {}  # popped before their pushes were recorded
        self._keys: dict[Hashable, tuple[int, int, Hashable]] = {}  # task -> its entry's key
        self._stale: set[Hashable] = set()  # removed out of turn, dropped when at the root

    @property
    def entries(self) -> list[tuple[int, Hashable]]:
        """``(priority, task_id)`` per slot, in heap-array order (children of i: 2i+1, 2i+2)."""
        return self.slots[:]

    @property
    def slots(self) -> HeapSlots:
        """The same as :attr:`entries` without the copy (see :class:`HeapSlots`)."""
        return HeapSlots(self._heap)

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, task_id: Hashable, priority: int) -> None:
        """Replay ``heapq.heappush``: append, then sift the new entry up."""
        if task_id in self._unpushed:  # its pop came first: the entry has come and gone
            del self._unpushed[task_id]
            return
        heap = self._heap
        key = (-priority, self._order, task_id)
        heap.append(key)
        self._keys[task_id] = key
        self._order += 1
        self.last_path = self._sift_up(0, len(heap) - 1)
        self.last_op = "push"
        self.last_task = task_id

    def pop(self, task_id: Hashable) -> None:
        """Replay the ``heappop`` that handed out (or discarded) ``task_id``."""
        self.last_op = "pop"
        self.last_task = task_id
        self._pop(task_id)
        stale, heap = self._stale, self._heap
        while stale and heap and heap[0][2] in stale:  # entries removed out of turn surface
            stale.discard(self._pop_root()[2])

    def _pop(self, task_id: Hashable) -> None:
        heap = self._heap
        if heap and heap[0][2] == task_id:
            self._pop_root()
            return
        if task_id in self._early:
            del self._early[task_id]  # replayed already, when a later pop overtook it
            self.last_path = []
            return
        key = self._keys.get(task_id)
        if key is None:
            # Never pushed (yet): a racing add may record its push after this pop.
            self.resyncs += 1
            _remember(self._unpushed, task_id)
            self.last_path = []
            return
        index, ahead = self._find(key)
        if index is None:  # too far down for a reordered pop: the replica is out of step
            self.resyncs += 1
            if len(heap) <= SCAN_LIMIT:
                index = heap.index(key)
                self._remove_at(index)
                self.last_path = [index]
            else:
                del self._keys[task_id]
                self._stale.add(task_id)
                self.last_path = []
            return
        self.reordered += ahead
        for _ in range(ahead):  # the entries ahead leave in key order, as heappop takes them
            _remember(self._early, self._pop_root()[2])
        self._pop_root()

    def _find(self, key: tuple[int, int, Hashable]) -> tuple[int | None, int]:
        """The slot holding ``key`` and how many entries are ahead of it, or ``None``
        once more than :data:`MAX_AHEAD` are.  A walk from the root: an entry's
        children can only be ahead of ``key`` if the entry is."""
        heap = self._heap
        size = len(heap)
        todo = [0] if size else []
        found = None
        ahead = 0
        while todo:
            slot = todo.pop()
            entry = heap[slot]
            if entry == key:
                found = slot
            elif entry < key:
                ahead += 1
                if ahead > MAX_AHEAD:
                    return None, ahead
                child = 2 * slot + 1
                todo.extend(c for c in (child, child + 1) if c < size)
        return found, ahead

    def _pop_root(self) -> tuple[int, int, Hashable]:
        """``heapq.heappop``: the last entry replaces the root and sifts down."""
        heap = self._heap
        last = heap.pop()
        if not heap:
            self.last_path = [0]
            self._forget(last)
            return last
        root = heap[0]
        heap[0] = last
        self.last_path = self._sift_down(0)
        self._forget(root)
        return root

    def _forget(self, key: tuple[int, int, Hashable]) -> None:
        """The entry ``key`` left the heap: drop its task's key (if it is still this one)."""
        if self._keys.get(key[2]) == key:
            del self._keys[key[2]]

    def _remove_at(self, index: int) -> None:
        """Delete an inner entry the way heapq would repair the hole."""
        heap = self._heap
        self._forget(heap[index])
        last = heap.pop()
        if index < len(heap):
            heap[index] = last
            final = self._sift_down(index)[-1]
            self._sift_up(0, final)

    def _sift_up(self, start: int, pos: int) -> list[int]:
        """``heapq._siftdown``: move the entry at ``pos`` towards ``start`` while smaller.

        Returns the slots the entry passed, from ``pos`` to where it settled.
        """
        heap = self._heap
        item = heap[pos]
        path = [pos]
        while pos > start:
            parent_pos = (pos - 1) >> 1
            parent = heap[parent_pos]
            if item < parent:
                heap[pos] = parent
                pos = parent_pos
                path.append(pos)
                continue
            break
        heap[pos] = item
        return path

    def _sift_down(self, pos: int) -> list[int]:
        """``heapq._siftup``: sink the entry at ``pos`` to a leaf, then let it rise.

        heapq moves the smaller child up all the way to a leaf without comparing
        against the sinking entry, then bubbles that entry back up (fewer
        comparisons on average).  The result is the same array a textbook
        sift-down would build only in most cases, so we copy heapq's method.
        The path returned runs from ``pos`` down to the slot the entry settled in.
        """
        heap = self._heap
        end = len(heap)
        start = pos
        item = heap[pos]
        path = [pos]
        child = 2 * pos + 1
        while child < end:
            right = child + 1
            if right < end and not heap[child] < heap[right]:
                child = right
            heap[pos] = heap[child]
            pos = child
            path.append(pos)
            child = 2 * pos + 1
        heap[pos] = item
        risen = self._sift_up(start, pos)
        # The entry rose back along the same chain it sank through: drop that tail.
        return path[: len(path) - len(risen) + 1]

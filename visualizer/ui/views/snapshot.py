"""Per-frame access to model state that more than one view reads.

Both the heap view and the lanes view walk the top of the heap in the same
frame; ``model.heap.slots`` reads the replica in place, so neither copies a heap
that may hold tens of thousands of entries just to look at its first hundred.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from visualizer.model import RunModel

Entries = Sequence[tuple[int, Hashable]]


def heap_entries(model: RunModel) -> Entries:
    """The heap's slots as ``(priority, task_id)``, valid until the next fold."""
    return model.heap.slots

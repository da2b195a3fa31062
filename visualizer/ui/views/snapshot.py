"""Per-frame copies of model state that more than one view reads.

``model.heap.entries`` builds a fresh list of the whole heap on every call
(about 1.4 ms for 12 000 entries, growing with the heap); the heap view and the
lanes view both need it in the same frame, so the first caller's copy is kept
until ``model.version`` moves on.  A big heap is copied at most
:data:`BIG_HEAP_HZ` times a second: nobody follows single entries of a heap
that size, and copying it 60 times a second would take the frame budget.
Keyed weakly by model, so a discarded run's copy goes with it.
"""

from __future__ import annotations

from collections.abc import Hashable
from time import perf_counter
from weakref import WeakKeyDictionary

from visualizer.model import RunModel

BIG_HEAP = 4_096
"""Heaps longer than this are copied at a lower rate."""

BIG_HEAP_HZ = 10.0

Entries = list[tuple[int, Hashable]]

_heaps: WeakKeyDictionary[RunModel, tuple[int, float, Entries]] = WeakKeyDictionary()


def heap_entries(model: RunModel) -> Entries:
    """``model.heap.entries``, shared by the views of one frame (do not mutate)."""
    now = perf_counter()
    cached = _heaps.get(model)
    if cached is not None:
        version, taken, entries = cached
        if version == model.version:
            return entries
        if len(model.heap) > BIG_HEAP and now - taken < 1.0 / BIG_HEAP_HZ:
            return entries
    entries = model.heap.entries
    _heaps[model] = (model.version, now, entries)
    return entries

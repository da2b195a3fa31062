"""The bridge: events cross to the GUI thread in batches, in order, and drops are counted."""

from __future__ import annotations

import threading
from time import perf_counter

import pytest

from visualizer.events import MARK, Batch, Recorder
from visualizer.ui.bridge import MIN_BATCH, RecorderBridge


def _record_from_thread(recorder: Recorder, count: int) -> None:
    def body() -> None:
        for i in range(count):
            recorder.record(MARK, i)

    thread = threading.Thread(target=body, name="test-recorder")
    thread.start()
    thread.join()


def test_events_arrive_in_order_in_few_batches(qtbot):
    recorder = Recorder()
    bridge = RecorderBridge()
    batches: list[Batch] = []
    bridge.batch_ready.connect(batches.append)
    bridge.attach(recorder)
    _record_from_thread(recorder, 50_000)
    qtbot.waitUntil(lambda: sum(len(b.events) for b in batches) == 50_000, timeout=5000)
    bridge.attach(None)

    assert len(batches) < 100, "one signal per drained batch, never one per event"
    seqs = [seq for batch in batches for seq, _ in batch.numbered()]
    assert seqs == list(range(50_000))
    assert [event[3] for batch in batches for event in batch.events] == list(range(50_000))
    assert all(batch.dropped == 0 for batch in batches)
    assert bridge.events_total == 50_000


def test_nothing_is_emitted_while_the_recorder_is_empty(qtbot):
    bridge = RecorderBridge()
    bridge.attach(Recorder())
    with qtbot.assertNotEmitted(bridge.batch_ready, wait=100):
        pass
    bridge.attach(None)
    assert not bridge.is_active()


def test_overflow_is_counted_and_reported_in_the_next_batch(qtbot):
    recorder = Recorder(capacity=1000)
    bridge = RecorderBridge()
    bridge.attach(recorder)
    bridge.stop()  # the GUI "falls behind": nobody drains for a while
    _record_from_thread(recorder, 5000)
    with qtbot.waitSignal(bridge.batch_ready, timeout=2000) as blocker:
        bridge.drain()
    batch = blocker.args[0]
    assert batch.dropped == 4000
    assert len(batch.events) == 1000
    assert batch.first_seq == 4000, "sequence numbers skip what was dropped"
    assert recorder.dropped == 4000
    bridge.attach(None)


def test_a_slow_consumer_gets_smaller_batches_so_the_gui_stays_responsive(qtbot):
    recorder = Recorder()
    bridge = RecorderBridge()
    sizes: list[int] = []

    def slow_fold(batch: Batch) -> None:
        # Simulate a model folding 1 event per microsecond (much slower than real).
        sizes.append(len(batch.events))
        deadline = perf_counter() + len(batch.events) * 1e-6
        while perf_counter() < deadline:
            pass

    bridge.batch_ready.connect(slow_fold)
    bridge.attach(recorder)
    bridge.stop()
    _record_from_thread(recorder, 200_000)
    first_limit = bridge.limit
    while bridge.drain():
        pass
    bridge.attach(None)
    assert sum(sizes) == 200_000
    assert bridge.limit < first_limit, "a fold slower than the budget shrinks the batch"
    assert bridge.limit >= MIN_BATCH
    assert max(sizes[3:]) <= 12_000, "batches settle near 8 ms of folding"


def test_events_per_second_reflects_recent_ingest(qtbot):
    recorder = Recorder()
    bridge = RecorderBridge()
    bridge.attach(recorder)
    _record_from_thread(recorder, 3000)
    qtbot.waitUntil(lambda: bridge.events_total == 3000, timeout=2000)
    assert bridge.events_per_second() == pytest.approx(3000)
    bridge.attach(None)
    assert bridge.events_per_second() == 0

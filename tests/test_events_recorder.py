"""The recorder's buffer: appends from any thread, drained in order, nothing lost or doubled.

Run threads append without a lock (one ``list.append`` each) while the single consumer
copies and deletes from the front; these tests hold it to what every consumer relies
on: stream order, dense sequence numbers, exact drop counts, and no event lost or
handed out twice while threads keep appending.
"""

from __future__ import annotations

import threading

from visualizer.events import MARK, Recorder


def test_drain_hands_out_the_oldest_first_and_numbers_them_densely():
    recorder = Recorder()
    for n in range(10):
        recorder.append((n, 0, MARK, n, None, None))
    first = recorder.drain(limit=4)
    assert [e[3] for e in first.events] == [0, 1, 2, 3] and first.first_seq == 0
    assert recorder.pending() == 6
    recorder.append((10, 0, MARK, 10, None, None))
    rest = recorder.drain()
    assert [e[3] for e in rest.events] == list(range(4, 11)) and rest.first_seq == 4
    assert recorder.pending() == 0 and recorder.next_seq == 11
    assert recorder.drain().events == []


def test_over_capacity_the_newest_stay_and_the_rest_are_counted():
    recorder = Recorder(capacity=3)
    for n in range(8):
        recorder.append((n, 0, MARK, n, None, None))
    batch = recorder.drain(limit=2)
    assert batch.dropped == 5 and recorder.dropped == 5
    assert [e[3] for e in batch.events] == [5, 6] and batch.first_seq == 5
    assert [e[3] for e in recorder.drain().events] == [7] and recorder.next_seq == 8


def test_threads_appending_while_small_drains_run_lose_and_double_nothing():
    recorder = Recorder()
    per_thread, threads = 20_000, 4
    start = threading.Barrier(threads + 1)

    def produce(index: int) -> None:
        start.wait(10)
        for n in range(per_thread):
            recorder.append((n, index, MARK, n, None, None))

    producers = [threading.Thread(target=produce, args=(i,)) for i in range(threads)]
    for thread in producers:
        thread.start()
    start.wait(10)
    seen: list[tuple] = []
    next_seq = 0
    while any(thread.is_alive() for thread in producers) or recorder.pending():
        batch = recorder.drain(limit=257)
        assert batch.first_seq == next_seq and batch.dropped == 0
        next_seq += len(batch.events)
        seen.extend(batch.events)
    for thread in producers:
        thread.join(10)
    seen.extend(recorder.drain().events)
    assert len(seen) == per_thread * threads
    for index in range(threads):
        assert [e[3] for e in seen if e[1] == index] == list(range(per_thread))

"""Replay: the model at any position of a log equals one folded straight to that position."""

from __future__ import annotations

import copy
import random
from dataclasses import asdict

import pytest
from helpers import folded_to

from visualizer.engine import Drainer, Run, Workload
from visualizer.events import COND_WAIT, LOCK_ACQUIRED, Batch
from visualizer.model import InvariantChecker, RunModel
from visualizer.recording import LogCancelled, LogWriter, RecordedRun, load_log
from visualizer.recording import replay as replay_module
from visualizer.recording.replay import Replay, ThreadNames, fold_log, logged_run


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> RecordedRun:
    """A real run with cancels and a condition variable, recorded and loaded back."""
    workload = Workload(
        strategy="condition", tasks=400, rate=0, work_time=0.0002, cancel_probability=0.2
    )
    run = Run(workload)
    path = tmp_path_factory.mktemp("replay") / "run.jsonl"
    with (
        LogWriter(
            path,
            settings=asdict(workload),
            strategy=workload.strategy,
            thread_name=run.recorder.thread_name,
        ) as writer,
        Drainer(run.recorder, writer.write_batch),
    ):
        run.start()
        assert run.wait(30)
    return load_log(path)


def state(model: RunModel) -> dict:
    return {
        "counts": model.tasks.counts(),
        "statuses": dict(model.tasks.status),
        "heap": list(model.heap.entries),
        "last_op": (model.heap.last_op, model.heap.last_task),
        "holders": {name: dict(lock.holders) for name, lock in model.locks.locks.items()},
        "waiters": {name: list(lock.waiters) for name, lock in model.locks.locks.items()},
        "anomalies": [(v.kind, v.seq) for v in model.anomalies],
        "threads": {i: (t.name, t.alive) for i, t in model.threads.items()},
        "segments": {i: model.timeline.segments(i) for i in model.timeline.threads()},
        "series": {k: [a.tolist() for a in v] for k, v in model.metrics.series().items()},
        "events": model.events_applied,
        "finished": model.finished,
    }


def test_seeking_anywhere_in_any_order_matches_a_straight_fold(recorded):
    replay = Replay(recorded, checkpoint_every=300)  # many checkpoints in a small log
    end = replay.build()
    assert len(replay.checkpoints) > 5 and replay.position == replay.total == len(recorded.events)
    assert state(end) == state(folded_to(recorded, replay.total))
    rng = random.Random(5)
    positions = [rng.randrange(replay.total + 1) for _ in range(25)]
    positions += [0, replay.total, replay.total - 1, 1, replay.total, 301, 300, 299]
    for position in positions:
        model = replay.seek(position)
        assert replay.position == position
        assert state(model) == state(folded_to(recorded, position)), position


def test_a_restored_checkpoint_is_not_changed_by_folding_on(recorded):
    replay = Replay(recorded, checkpoint_every=500)
    replay.build()
    first = state(replay.seek(700))
    replay.seek(replay.total)
    replay.seek(650)
    assert state(replay.seek(700)) == first


def test_a_copied_checker_folds_into_its_own_lock_table():
    """Regression: the checker's handlers close over its lock table; a copy needs its own."""
    checker = InvariantChecker()
    clone = copy.deepcopy(checker)
    clone.apply(
        Batch(0, [(1, 7, LOCK_ACQUIRED, "queue", "x", 1), (2, 7, COND_WAIT, "cv", 0, 0)], 0)
    )
    assert "queue" in clone.locks.locks and not checker.locks.locks
    assert 7 in clone.locks.locks["cv"].cond_waiters


def test_build_reports_progress_and_can_be_cancelled(recorded):
    seen: list[float] = []
    Replay(recorded, checkpoint_every=1000).build(seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 2

    with pytest.raises(LogCancelled):
        Replay(recorded, checkpoint_every=1000).build(lambda fraction: fraction < 0.5)


def test_checkpoints_adapt_to_their_cost_between_bounds(recorded, monkeypatch):
    monkeypatch.setattr(replay_module, "MIN_INTERVAL", 100)
    replay = Replay(recorded)
    replay.build()
    gaps = [b - a for a, b in zip(replay.checkpoints, replay.checkpoints[1:], strict=False)]
    assert gaps and min(gaps) >= 100 and replay.checkpoint_bytes > 0


def test_time_and_position_agree(recorded):
    replay = Replay(recorded)
    assert replay.time_at(0) == 0.0
    assert replay.duration > 0
    # Every position's time leads back to it (at least): seconds round-trip to the nanosecond.
    assert all(replay.position_at(replay.time_at(p)) >= p for p in range(replay.total + 1))

    assert replay.position_at(replay.duration) == replay.total
    assert replay.position_at(-1.0) == 0


def test_the_log_tells_how_the_run_ended(recorded):
    run = logged_run(recorded)
    assert run.state.value == "finished" and run.errors == []
    assert run.workload.strategy == "condition" and run.workload.cancel_probability == 0.2
    assert 0 < run.elapsed() < 30
    model = fold_log(recorded)
    assert model.finished and model.tasks.counts()["added"] == 400
    assert not model.anomalies


def test_a_log_without_events_replays_to_an_empty_model(tmp_path):
    path = tmp_path / "empty.jsonl"
    with LogWriter(path, settings={}, strategy="global-lock"):
        pass
    replay = Replay(load_log(path))
    model = replay.build()
    assert replay.total == 0 and model.events_applied == 0 and replay.duration == 0.0
    assert replay.seek(10) is model


def test_thread_names_fall_back_like_the_recorder():
    names = ThreadNames({5: "worker-1"})
    assert names(5) == "worker-1" and names(6) == "thread-6"

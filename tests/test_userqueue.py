"""Bring your own queue: classes from files written here, run live, searched and replayed."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import user_queues as uq

from visualizer.engine import Run, RunState, Workload
from visualizer.engine.scheduler import Schedule
from visualizer.engine.scheduler.inspection import real_heap
from visualizer.engine.userqueue import QueueRef, UserQueueError
from visualizer.engine.userqueue.probe import probe, probe_in_child
from visualizer.events import DEADLOCK, DOUBLE_DELIVERY, LOST_UPDATE
from visualizer.model import RunModel
from visualizer.recording import LogReader
from visualizer.stepping import play
from visualizer.stepping.search import search
from visualizer.stepping.shrink import same_bug, shrink
from visualizer.stepping.subject import Subject

GOOD = {
    "one_lock.py": (uq.ONE_LOCK, "LockedQueue"),
    "condition.py": (uq.CONDITION, "BlockingQueue"),
    "stdlib.py": (uq.PRIORITY_QUEUE, "StdlibQueue"),
    "complete.py": (uq.COMPLETE, "CompleteQueue"),
}


def live(queue: str, **changes) -> tuple[Run, RunModel]:
    workload = Workload(queue=queue, tasks=300, rate=0, work_time=0, **changes)
    run = Run(workload)
    run.start()
    assert run.wait(30), "the run did not end"
    run.audit()
    model = RunModel(thread_name=run.recorder.thread_name)
    model.apply(run.recorder.drain())
    model.finish(drained=run.state is RunState.FINISHED)
    return run, model


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_correct_queue_runs_live_without_violations(tmp_path, name):
    text, cls = GOOD[name]
    run, model = live(uq.write(tmp_path, name, text, cls))
    assert run.state is RunState.FINISHED
    assert run.errors == []
    assert model.anomalies == []
    assert model.tasks.counts()["completed"] == 300


def test_locks_the_class_creates_are_traced_and_named_after_their_variables(tmp_path):
    run, _ = live(uq.write(tmp_path, "complete.py", uq.COMPLETE, "CompleteQueue"))
    names = {p.name for p in run.tracer.primitives}
    assert {"_lock", "_not_empty"} <= names
    run, model = live(uq.write(tmp_path, "stdlib.py", uq.PRIORITY_QUEUE, "StdlibQueue"))
    names = {p.name for p in run.tracer.primitives}
    assert {"_table", "_pq.mutex", "_pq.not_empty"} <= names
    assert model.locks.locks["_pq.mutex"].acquisitions > 0


def test_cancel_and_shutdown_go_through_to_the_class(tmp_path):
    queue = uq.write(tmp_path, "complete.py", uq.COMPLETE, "CompleteQueue")
    run, model = live(queue, cancel_probability=0.3, seed=3)
    counts = model.tasks.counts()
    assert counts["cancelled"] > 0
    assert counts["completed"] + counts["cancelled"] == 300
    assert model.anomalies == []
    blocked = Run(Workload(queue=queue, tasks=0, rate=50, work_time=0))
    blocked.start()
    time.sleep(0.2)
    assert blocked.stop(2.0)  # workers blocked in its Condition end within 2 s
    fresh = Run(Workload(queue=queue, tasks=3)).queue
    fresh.shutdown()
    assert fresh.subject._closed  # the adapter's shutdown is the class's
    with pytest.raises(RuntimeError, match="shut down"):
        fresh.add_task(1, 1, None)


def test_the_unlocked_queue_live_breaks_or_not_but_never_hangs(tmp_path):
    run, model = live(uq.write(tmp_path, "unlocked.py", uq.UNLOCKED, "UnlockedQueue"))
    assert run.state is RunState.FINISHED


def test_a_missing_optional_method_is_named_once(tmp_path):
    api = probe(QueueRef.parse(uq.write(tmp_path, "u.py", uq.UNLOCKED, "UnlockedQueue")))
    assert api.missing == ("complete_task", "get_status", "cancel_task", "shutdown")
    assert "has no complete_task, get_status, cancel_task, shutdown" in api.note()
    api = probe(QueueRef.parse(uq.write(tmp_path, "c.py", uq.COMPLETE, "CompleteQueue")))
    assert api.note() == ""


def test_the_heap_view_reads_the_classs_own_heapq_list(tmp_path):
    queue = uq.write(tmp_path, "one_lock.py", uq.ONE_LOCK, "LockedQueue")
    run = Run(Workload(queue=queue, tasks=3, rate=0, workers=1))
    run.queue.add_task(7, 4, None)
    run.queue.add_task(8, 9, None)
    assert run.queue.heap_slots() == [(9, 8, "queued"), (4, 7, "queued")]
    # What the window draws, live (own_heap) and paused while stepping (real_heap).
    assert run.queue.own_heap(10) == ("_heap", [(9, 8), (4, 7)], 2)
    assert real_heap(run.queue) == [(9, 8), (4, 7)]
    queue = uq.write(tmp_path, "abba.py", uq.ABBA, "TwoLockQueue")
    other = Run(Workload(queue=queue, tasks=3)).queue
    assert other.heap_slots() is None
    assert other.own_heap(10) == ("", None, 0) and real_heap(other) is None


@pytest.mark.parametrize("name", sorted(uq.BROKEN))
def test_bad_input_is_one_line_naming_the_file(tmp_path, name):
    text, cls = uq.BROKEN[name]
    queue = uq.write(tmp_path, name, text, cls)
    with pytest.raises(UserQueueError) as info:
        probe(QueueRef.parse(queue))
    message = str(info.value)
    assert message.startswith(str(tmp_path / name) + ": ")
    assert "\n" not in message
    expected = {
        "syntax.py": "line 2: syntax error",
        "noclass.py": "no class Q",
        "noget.py": "has no get_next_task",
        "noadd.py": "has no add_task",
        "needs.py": "needs arguments (size)",
        "addraises.py": "add_task(1, 5, None) raised KeyError",
        "wrongget.py": "returned (5, 1), not task 1",
    }[name]
    assert expected in message


def test_bad_input_on_the_command_line_exits_2_with_one_line(tmp_path):
    text, cls = uq.BROKEN["syntax.py"]
    queue = uq.write(tmp_path, "syntax.py", text, cls)
    for command in ("explore", "run"):
        done = subprocess.run(
            [sys.executable, "-m", "visualizer", command, "--queue", queue],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1
        assert "syntax.py: line 2: syntax error" in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "visualizer", "explore", "--queue", f"{tmp_path}/none.py:Q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "none.py: no such file" in missing.stderr


@pytest.mark.parametrize("name", sorted(uq.BROKEN))
def test_every_bad_file_exits_2_with_one_line_naming_it(tmp_path, name):
    text, cls = uq.BROKEN[name]
    queue = uq.write(tmp_path, name, text, cls)
    done = subprocess.run(
        [sys.executable, "-m", "visualizer", "explore", "--queue", queue, "--budget", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert str(tmp_path / name) in done.stderr


def test_a_class_that_loops_forever_is_named_by_the_probe_and_stopped_live(tmp_path):
    queue = uq.write(tmp_path, "forever.py", uq.FOREVER, "Forever")
    with pytest.raises(UserQueueError, match="did not return within"):
        probe(QueueRef.parse(queue), timeout=0.5)
    run = Run(Workload(queue=queue, tasks=10, rate=0))
    run.start()
    time.sleep(0.2)
    assert run.stop(2.0), "a loop in the user's code outlived Stop"


def test_the_child_probe_survives_a_crashing_class(tmp_path):
    crash = "import os\nclass Q:\n    def __init__(self):\n        os.abort()\n"
    crash += "    def add_task(self, t, p, x=None):\n        pass\n"
    crash += "    def get_next_task(self):\n        return None\n"
    queue = uq.write(tmp_path, "crash.py", crash, "Q")
    with pytest.raises(UserQueueError, match="ended the Python process"):
        probe_in_child(QueueRef.parse(queue))
    ok = probe_in_child(QueueRef.parse(uq.write(tmp_path, "c.py", uq.COMPLETE, "CompleteQueue")))
    assert ok.blocking and "cancel_task" in ok.present


# --- explore --------------------------------------------------------------------------------
def subject(tmp_path, name: str, text: str, cls: str, **changes) -> Subject:
    settings = {"producers": 2, "workers": 2, "tasks": 3, "rate": 0.0, "work_time": 0.0}
    settings.update(changes)
    return Subject(Workload(queue=uq.write(tmp_path, name, text, cls), **settings))


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_correct_queue_under_explore_breaks_nothing(tmp_path, name):
    text, cls = GOOD[name]
    s = subject(tmp_path, name, text, cls)
    found = search(s.make_run, "instruction", "gil", budget_schedules=40, seed=3)
    assert found.played is None
    assert found.progress.distinct > 10  # different interleavings really were played


def test_no_violation_means_the_bounded_space_was_exhausted(tmp_path):
    s = subject(tmp_path, "one_lock.py", uq.ONE_LOCK, "LockedQueue", producers=1, tasks=2)
    found = search(s.make_run, "instruction", "gil", methods=("dfs",), max_preemptions=1)
    assert found.played is None
    assert found.exhausted
    assert found.progress.distinct > 100  # it really branched: 1 preemption, 3 threads


def test_the_search_finds_the_homework_double_delivery(tmp_path):
    s = subject(tmp_path, "homework.py", uq.HOMEWORK, "HomeworkQueue", producers=1, tasks=2)
    found = search(s.make_run, "instruction", "gil", budget_schedules=2000, seed=1)
    assert found.played is not None
    kinds = {v.kind for v in found.played.model.anomalies}
    # Two workers both pass the status check: both deliver the task (double delivery),
    # or the second pops an empty heap (IndexError, a worker error).
    assert DOUBLE_DELIVERY in kinds or "IndexError" in " ".join(found.played.run.errors)
    for method in ("dfs", "pct", "random"):
        alone = search(s.make_run, "instruction", "gil", methods=(method,), budget_seconds=60)
        assert alone.played is not None, f"{method} missed the homework bug"


def test_the_unlocked_queue_loses_a_count_update_when_free_threaded(tmp_path):
    s = subject(tmp_path, "unlocked.py", uq.UNLOCKED, "UnlockedQueue")
    found = search(s.make_run, "instruction", "free", methods=("dfs",), budget_seconds=60)
    assert found.played is not None
    small, _tries = shrink(s.make_run, found.played)
    assert small.model.anomalies[0].kind == LOST_UPDATE
    assert "len(queue) is" in small.model.anomalies[0].detail


def test_opposite_lock_orders_are_found_as_a_deadlock(tmp_path):
    s = subject(tmp_path, "abba.py", uq.ABBA, "TwoLockQueue")
    found = search(s.make_run, "instruction", "gil", budget_seconds=60)
    assert found.played is not None
    assert found.played.outcome == "deadlock"
    assert any(v.kind == DEADLOCK for v in found.played.model.anomalies)


def test_shrinking_keeps_the_bug_and_never_grows_the_schedule(tmp_path):
    s = subject(tmp_path, "homework.py", uq.HOMEWORK, "HomeworkQueue", producers=1, tasks=2)
    found = search(s.make_run, "instruction", "gil", methods=("random",), seed=5)
    assert found.played is not None
    small, _ = shrink(s.make_run, found.played)
    assert same_bug(found.played)(small)
    assert len(small.schedule) <= len(found.played.schedule)


def test_explore_saves_a_counterexample_that_replays_the_same_bug(tmp_path):
    queue = uq.write(tmp_path, "homework.py", uq.HOMEWORK, "HomeworkQueue")
    saved = tmp_path / "ce.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "visualizer", "explore", "--queue", queue, "--producers", "1",
         "--tasks", "2", "--budget", "3000", "--save", str(saved), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "schedule: instruction/gil:" in done.stdout
    recorded = LogReader().load(saved)
    assert recorded.schedule is not None and recorded.subject is not None
    subject_ = Subject.from_data(recorded.subject)
    assert subject_.workload.queue == queue
    replayed = play(subject_.make_run, Schedule.parse(recorded.schedule))
    assert replayed.outcome != "misfit"
    assert replayed.broken
    saved_model = RunModel(thread_name=recorded.thread_name)
    for batch in recorded.batches():
        saved_model.apply(batch)
    assert saved_model.anomalies, "the saved events show the violation too"


def test_explore_says_exhausted_when_the_bounded_space_is_clean(tmp_path):
    queue = uq.write(tmp_path, "one_lock.py", uq.ONE_LOCK, "LockedQueue")
    done = subprocess.run(
        [sys.executable, "-m", "visualizer", "explore", "--queue", queue, "--producers", "1",
         "--tasks", "2", "--search", "dfs", "--max-preemptions", "1", "--budget", "120s"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no violation in all " in done.stdout
    assert "schedules with at most 1 preemption " in done.stdout

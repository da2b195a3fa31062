"""Runs in a run process, without a window: the boundary, its commands and its failures.

Each test drives :class:`RemoteRun` the way the window does (or the way the
compare dialog does, through a :class:`Drainer`) and waits on conditions with
generous timeouts.  The hostile queues come from ``hostile_queues.py``, which the
run process imports from this folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from time import monotonic

import pytest
from helpers import ROOT

from visualizer.compare import compare
from visualizer.engine import Drainer, RunState, Workload
from visualizer.engine.host import (
    EngineProcess,
    Launcher,
    RemoteError,
    RemoteRun,
    RunSpec,
    check_interpreter,
)
from visualizer.engine.host.stream import EventStream
from visualizer.engine.host.wire import (
    MAX_BUFFERED,
    READ_CHUNK,
    FrameReader,
    decode,
    encode,
    write_all,
)
from visualizer.events import GATE_WAIT, MARK, THREAD_ENDED, THREAD_STARTED, Batch
from visualizer.model import RunModel

TIMEOUT = 15.0
FAST = Workload(producers=2, workers=2, tasks=2000, rate=0.0, work_time=0.0, priority_spread=5)
NOT_PROGRESS = (GATE_WAIT, THREAD_ENDED, MARK)


def until(predicate: Callable[[], bool], timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = monotonic() + timeout
    nap = threading.Event()
    while not predicate():
        assert monotonic() < deadline, f"timed out waiting: {what or predicate}"
        nap.wait(0.005)


@pytest.fixture
def launch() -> Iterator[Callable[..., RemoteRun]]:
    """Start runs in run processes; every one is closed (and reaped) afterwards."""
    launcher = Launcher(spare=False)
    runs: list[RemoteRun] = []

    def launch_(spec: RunSpec | Workload, strategies: tuple[str, ...] = ()) -> RemoteRun:
        launcher.strategies = strategies
        run = launcher.launch(spec if isinstance(spec, RunSpec) else RunSpec(spec))
        runs.append(run)
        return run

    yield launch_
    for run in runs:
        run.close()
    launcher.close()


class Folder:
    """Drains a remote run into a model on this thread, as the window's bridge does."""

    def __init__(self, run: RemoteRun, backlog: int | None = 50_000) -> None:
        self.run = run
        self.model = RunModel(thread_name=run.recorder.thread_name)
        self.events: list[tuple] = []
        run.recorder.backlog = backlog

    def pull(self, limit: int | None = None) -> Batch:
        batch = self.run.recorder.drain(limit)
        self.events.extend(batch.events)
        self.model.apply(batch)
        return batch

    def until(self, predicate: Callable[[], bool], what: str = "") -> None:
        until(lambda: (self.pull(), predicate())[1], what=what)

    def all_in(self) -> bool:
        return self.run.wait(0) and not self.run.recorder.pending()


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for a reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            return file.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_a_run_in_a_run_process_delivers_every_event_named_by_its_threads(launch):
    run = launch(FAST)
    folder = Folder(run)
    run.start()
    folder.until(folder.all_in, "the run to end and every event to arrive")
    folder.model.finish(drained=True)
    assert run.process.pid != os.getpid() and run.state is RunState.FINISHED
    assert folder.model.tasks.counts() == {
        "added": 2000,
        "queued": 0,
        "processing": 0,
        "completed": 2000,
        "cancelled": 0,
    }
    assert folder.model.anomalies == [] and folder.model.dropped == 0
    assert folder.model.events_applied == run.recorder.next_seq > 2000 * 4
    started = {e[1]: e[3] for e in folder.events if e[2] == THREAD_STARTED}
    assert sorted(started.values()) == ["producer-1", "producer-2", "worker-1", "worker-2"]
    # The idents are the run process's own; names come with the batches.
    assert {run.recorder.thread_name(ident) for ident in started} == set(started.values())
    assert sorted(info.name for info in folder.model.threads.values()) == sorted(
        {run.recorder.thread_name(e[1]) for e in folder.events}
    )
    assert [t.name for t in run.threads()] == [
        "producer-1",
        "producer-2",
        "worker-1",
        "worker-2",
    ] and not any(t.alive for t in run.threads())
    assert 0 < run.elapsed() < TIMEOUT and run.produced == 2000 and run.errors == []
    run.close()
    assert run.exit_report is None and run.process.returncode == 0


def test_pause_step_resume_and_stop_go_through_the_boundary(launch):
    run = launch(FAST.replace(producers=1, workers=1, tasks=0, rate=200.0))
    folder = Folder(run)
    run.start(paused=True)
    assert run.state is RunState.PAUSED and run.gate.closed, "the mirror shows it at once"
    assert run.gate.wait_parked(2, TIMEOUT)
    for _ in range(6):
        folder.until(  # the status (who is parked) is as new as the events folded
            lambda: not run.recorder.pending() and run.recorder.status_current(),
            "every event up to the parking",
        )
        stepped = next(iter(run.gate.parked()))
        mark = len(folder.events)
        blocked = set(folder.model.locks.waiting_on)  # the lock it releases may wake one
        run.step(stepped)
        folder.until(  # parked at its next traced point, or waiting for a parked holder
            lambda s=stepped, m=mark: (
                s in folder.model.locks.waiting_on
                or any(e[1] == s and e[2] == GATE_WAIT for e in folder.events[m:])
            ),
            "the stepped thread to park again",
        )
        moved = {e[1] for e in folder.events[mark:] if e[2] not in NOT_PROGRESS}
        assert moved <= {stepped} | blocked, "one step moves one thread (and whom it unblocks)"
    run.resume()
    assert run.state is RunState.RUNNING and not run.gate.closed
    done = folder.model.tasks.counts()["completed"]
    folder.until(lambda: folder.model.tasks.counts()["completed"] > done + 5, "progress")
    run.pause()
    assert run.state is RunState.PAUSED
    until(lambda: run.gate.parked(), what="a thread to park after Pause")
    run.set_pace(50.0)
    assert run.gate.closed
    run.request_stop()
    assert run.state is RunState.STOPPING
    folder.until(folder.all_in, "the stopped run's last events")
    assert run.state is RunState.STOPPED and run.exit_report is None
    assert not any(t.alive for t in run.threads()) and run.gate.parked() == {}
    assert folder.events[-1][2] == MARK and folder.events[-1][3] == "run stopped"


def test_a_consumer_that_falls_behind_slows_the_run_and_loses_nothing(launch):
    run = launch(FAST.replace(producers=4, workers=4, tasks=0, duration=1.5))
    folder = Folder(run, backlog=5_000)
    run.start()
    # Nobody drains for a while: the pipe fills, then the run process's recorder, then
    # its threads wait. The status still says how much was recorded.
    until(lambda: run.recorder.pending() > 20_000, what="events to pile up")
    folder.until(folder.all_in, "everything, once we drain again")
    assert folder.model.dropped == 0 and run.recorder.dropped == 0
    assert folder.model.events_applied == run.recorder.next_seq
    folder.model.finish(drained=True)
    assert folder.model.anomalies == []


def test_a_reader_that_falls_behind_leaves_frames_in_the_pipe_and_the_writer_waits():
    """The window drains a little each frame and folds slower than a flat-out run
    records: reading the pipe dry each time grew its buffer by 280 MB a minute."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    reader = FrameReader(read)
    frame = encode(list(range(20_000)), 1)  # about 60 KB
    frames = (12 * MAX_BUFFERED) // len(frame)
    writer = threading.Thread(
        target=lambda: [write_all(write, frame) for _ in range(frames)], daemon=True
    )
    writer.start()
    taken = 0
    while len(reader._buffer) - reader._start < MAX_BUFFERED:  # the window falls behind
        reader.fill()
        writer.join(timeout=0.002)  # the writer's turn
    for _ in range(300):  # it keeps filling, taking one frame in three
        reader.fill()
        assert len(reader._buffer) - reader._start <= MAX_BUFFERED + READ_CHUNK
        if _ % 3 == 0:
            taken += reader.next_frame() is not None
        writer.join(timeout=0.002)
    assert writer.is_alive(), "the writer waits on the full pipe for the reader"
    while taken < frames:
        reader.fill()
        while (got := reader.next_frame()) is not None:
            assert decode(got[0]) == list(range(20_000))
            taken += 1
    writer.join(timeout=60)
    assert not writer.is_alive()
    os.close(write)
    os.close(read)


def test_a_frame_bigger_than_the_buffer_limit_is_still_read_whole():
    read, write = os.pipe()
    reader = FrameReader(read)  # blocking, as the run process reads its commands
    big = encode(b"x" * (2 * MAX_BUFFERED))
    writer = threading.Thread(target=write_all, args=(write, big), daemon=True)
    writer.start()
    frame = None
    while frame is None and reader.fill():
        frame = reader.next_frame()
    writer.join(timeout=60)
    assert frame is not None and decode(frame[0]) == b"x" * (2 * MAX_BUFFERED)
    os.close(write)
    os.close(read)


def test_batches_keep_the_stream_order_and_drops_start_a_batch():
    read, write = os.pipe()
    os.set_blocking(read, False)
    stream = EventStream(read, lambda _backlog: None)
    events = [(i, 7, MARK, f"e{i}", None, None) for i in range(10)]
    write_all(write, encode((0, events[:6], {7: "worker-1"}), 6))
    write_all(write, encode((3, events[6:], {}), 4))  # three dropped before these four
    assert not stream.status_current(), "ten events arrived that no status has counted yet"
    stream.announce(13)
    assert stream.pending() == 13 and stream.status_current()
    first = stream.drain(4)
    assert (first.first_seq, first.events, first.dropped) == (0, events[:4], 0)
    second = stream.drain(100)
    assert (second.first_seq, second.events, second.dropped) == (4, events[4:6], 0)
    third = stream.drain(100)
    assert (third.first_seq, third.events, third.dropped) == (9, events[6:], 3)
    assert stream.pending() == 0 and stream.next_seq == 13 and stream.dropped == 3
    assert stream.thread_name(7) == "worker-1" and stream.thread_name(8) == "thread-8"
    stream.announce(15)  # two more recorded, then the process dies without sending them
    os.close(write)
    stream.end()
    assert stream.pending() == 2
    lost = stream.drain()
    assert (lost.events, lost.dropped) == ([], 2) and stream.pending() == 0
    stream.close()


def test_a_crashed_run_process_is_reported_with_its_signal_and_last_events(launch, hostile):
    run = launch(FAST.replace(strategy="test-abort", tasks=0), hostile)
    folder = Folder(run)
    run.start()
    folder.until(lambda: run.wait(0) and not run.recorder.pending(), "the crash")
    report = run.exit_report
    assert report is not None and report.how == "crashed"
    assert report.returncode == -signal.SIGABRT
    assert "was killed by signal SIGABRT (6) while the run was running" in report.summary
    assert report.last_events and all(": " in line for line in report.last_events)
    assert report.error_excerpt().startswith("Fatal Python error: Aborted"), "faulthandler"
    assert "hostile_queues.py" in report.details(), "the stack of the thread that crashed"
    assert run.state is RunState.STOPPED and not any(t.alive for t in run.threads())
    assert folder.model.tasks.counts()["added"] >= 10, "what it recorded is kept"


def test_a_run_process_hung_holding_its_gil_is_killed_two_seconds_after_stop(launch, hostile):
    run = launch(FAST.replace(strategy="test-gil-hog", tasks=0, rate=0.0), hostile)
    folder = Folder(run)
    run.start()
    folder.until(lambda: folder.model.tasks.counts()["added"] >= 10, "tasks before the hog")
    until(lambda: not run.responding, what="the run process to fall silent")
    run.request_stop()
    until(lambda: run.state is RunState.STOPPED, timeout=5.0, what="the kill")
    report = run.exit_report
    assert report is not None and report.how == "killed"
    assert "within 2 s of Stop" in report.summary and report.returncode == -signal.SIGKILL
    folder.until(lambda: not run.recorder.pending(), "the events it had sent")
    assert folder.model.tasks.counts()["added"] >= 10


def test_threads_that_ignore_stop_end_with_their_process(launch, tmp_path, monkeypatch):
    module = tmp_path / "stubborn_queue.py"
    module.write_text(
        textwrap.dedent(
            """
            import time
            from visualizer.queues import GlobalLockQueue

            class StubbornQueue(GlobalLockQueue):
                name = "test-stubborn"
                title = summary = "Sleeps through Stop"

                def get_next_task(self, timeout=None):
                    while True:
                        time.sleep(0.01)  # no traced point: Stop cannot reach it
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    run = launch(FAST.replace(strategy="test-stubborn", tasks=5), ("stubborn_queue:StubbornQueue",))
    Folder(run)
    run.start()
    until(lambda: run.threads() and run.state is RunState.RUNNING)
    assert run.stop(timeout=1.0) is False, "its threads did not end by themselves"
    until(lambda: run.exit_report is not None)
    assert run.exit_report.how == "killed" and "did not stop" in run.exit_report.summary
    assert run.state is RunState.STOPPED


def test_no_run_process_outlives_a_killed_window(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, threading
            from visualizer.engine import Workload
            from visualizer.engine.host import Launcher, RunSpec
            run = Launcher(spare=False).launch(RunSpec(Workload(tasks=0, rate=100.0)))
            run.start()
            print(run.process.pid, flush=True)
            threading.Event().wait()
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        child = int(parent.stdout.readline())
        assert not gone(child)
        parent.kill()  # SIGKILL: no chance to close anything
        parent.wait(TIMEOUT)
        until(lambda: gone(child), timeout=5.0, what="the orphaned run process to exit")
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


def test_commands_are_an_allowlist_and_answers_are_plain_data(launch):
    run = launch(FAST.replace(tasks=50))
    Folder(run)
    with pytest.raises(RemoteError, match="unknown command 'os.system'"):
        run.call("os.system", "true")
    run.start(paused=True)
    assert run.gate.wait_parked(4, TIMEOUT)
    heap, statuses, added = run.snapshot()
    assert heap == [] and statuses == {} and added == 0
    names = [info[0] for info in run.call("threads")]
    assert names == ["producer-1", "producer-2", "worker-1", "worker-2"]
    assert run.call("cpu") > 0
    run.stop()


def test_a_scenario_runs_in_a_run_process_with_its_fix_and_seed(launch):
    spec = RunSpec(Workload(seed=3), "lock-ordering", fixed=False, seed=3)
    assert spec.label() == "lock-ordering (not fixed)"
    assert spec.source_file().endswith("lock_ordering.py")
    assert RunSpec.from_data(spec.to_data()) == spec
    run = launch(spec)
    folder = Folder(run)
    run.start()
    folder.until(lambda: folder.model.locks.deadlock_cycle() is not None, "the deadlock")
    assert run.label == "lock-ordering (not fixed)"
    assert run.stop() is True, "Stop ends deadlocked threads in the run process too"


def test_bad_specs_and_interpreters_are_refused_in_one_line(launch, tmp_path):
    with pytest.raises(ValueError, match="workers: must be between 1 and 64"):
        launch(FAST.replace(workers=0))
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        launch(RunSpec(scenario="nope"))
    with pytest.raises(ValueError, match="threads: must be an integer"):
        launch(RunSpec(scenario="lost-update", params={"threads": 99}))
    with pytest.raises(ValueError, match="cannot start the engine interpreter"):
        EngineProcess(str(tmp_path / "no-python"))
    with pytest.raises(ValueError, match="cannot run it"):
        check_interpreter(str(tmp_path / "no-python"))
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no engine here' >&2\nexit 7\n")
    broken.chmod(0o755)
    with pytest.raises(ValueError, match="cannot run the engine: no engine here"):
        check_interpreter(str(broken))
    assert check_interpreter(sys.executable).startswith("Python 3.")


def _other_interpreters() -> list[str]:
    """CPython 3.11+ interpreters other than this one (pyenv's here; none on CI)."""
    found = []
    for root in (Path.home() / ".pyenv" / "versions",):
        for python in sorted(root.glob("3.1[1-9]*/bin/python")):
            if python.resolve() != Path(sys.executable).resolve():
                found.append(str(python))
    return found


@pytest.mark.skipif(not _other_interpreters(), reason="no other CPython 3.11+ installed here")
@pytest.mark.parametrize("python", _other_interpreters())
def test_the_run_process_may_use_another_interpreter(python, tmp_path):
    check_interpreter(python)
    launcher = Launcher(python, spare=False)
    run = launcher.launch(RunSpec(FAST.replace(tasks=200)))
    try:
        folder = Folder(run)
        run.start()
        folder.until(folder.all_in, "the run on the other interpreter")
        version = ".".join(python.split("/versions/")[1].split(".")[:2])
        assert run.python.startswith(version)
        assert folder.model.tasks.counts()["completed"] == 200 and folder.model.dropped == 0
    finally:
        run.close()


def test_the_compare_of_the_window_runs_each_strategy_in_a_run_process():
    launcher = Launcher(spare=False)
    pids: list[int] = []

    def make_run(workload: Workload) -> RemoteRun:
        run = launcher.launch(RunSpec(workload))
        pids.append(run.process.pid)
        return run

    result = compare(FAST.replace(tasks=300), ["global-lock", "condition"], make_run=make_run)
    assert [row.strategy for row in result.rows] == ["global-lock", "condition"]
    assert all(row.completed == 300 and row.state == "finished" for row in result.rows)
    assert len(set(pids)) == 2 and all(gone(pid) for pid in pids)


def test_a_drainer_sees_every_event_of_a_remote_run(launch):
    run = launch(FAST)
    model = RunModel(thread_name=run.recorder.thread_name)
    with Drainer(run.recorder, model.apply):
        run.start()
        assert run.wait(TIMEOUT)
    assert model.events_applied == run.recorder.next_seq and model.dropped == 0
    assert model.tasks.counts()["completed"] == 2000


def test_a_controlled_run_is_stepped_through_the_boundary(launch):
    from visualizer.engine.scenarios import load_scenario
    from visualizer.engine.scheduler import Control

    scenario = load_scenario("lost-update")
    bug = scenario.bug_schedule
    spec = RunSpec(
        Workload(), "lost-update", control=Control(granularity=bug.granularity, model=bug.model)
    )
    run = launch(spec)
    folder = Folder(run)
    run.start(paused=True)
    scheduler = run.scheduler
    assert scheduler is not None and run.gate is scheduler and run.control == spec.control
    assert scheduler.wait_idle(TIMEOUT) and scheduler.history == []
    until(lambda: scheduler.inspection is not None, what="what the paused threads stand on")
    views, shared, heap = scheduler.inspection
    assert [view.name for view in views] == [info.name for info in run.threads()]
    assert ("self.counter", "0") in shared and heap is None, "the clerks share a counter"
    for name in bug.steps:  # the bug, one step at a time, each confirmed before the next
        assert name in scheduler.movable()
        scheduler.move(name)
        assert scheduler.wait_idle(TIMEOUT)
    assert scheduler.history == list(bug.steps)
    named = {ident: scheduler.runner_of(ident) for ident in run.gate.parked()}
    assert all(runner is not None for runner in named.values())
    run.resume()  # the default order takes it to the end
    folder.until(folder.all_in, "the rest of the run")
    folder.model.finish(drained=True)
    assert scheduler.outcome == "finished"
    assert {v.kind for v in folder.model.anomalies} & {"lost-update", "duplicate-id"}


def test_stop_answers_like_a_local_run_before_during_and_after(launch):
    idle = launch(FAST)
    assert idle.stop() is True and idle.state is RunState.STOPPED, "never started"
    done = launch(FAST.replace(tasks=100))
    folder = Folder(done)
    done.start()
    folder.until(folder.all_in, "the run to finish")
    assert done.state is RunState.FINISHED
    assert done.stop() is True and done.state is RunState.FINISHED, "over already: joins only"


def test_a_run_process_ignores_modules_in_the_working_folder(launch, tmp_path, monkeypatch):
    (tmp_path / "random.py").write_text("raise SystemExit('the standard library was shadowed')\n")
    monkeypatch.chdir(tmp_path)  # a student's folder with a random.py of their own
    run = launch(FAST.replace(tasks=100))
    folder = Folder(run)
    run.start()
    folder.until(folder.all_in, "the run to end")
    assert run.exit_report is None and folder.model.tasks.counts()["completed"] == 100

"""The tracing fast paths: C and pure Python record the same events, and either can run.

The C speedups are optional (built where a compiler is present), so whatever they
do must be exactly what the pure Python paths do: the same events in the same
order for every strategy, the same hand-over to the gate when it is closed.  The
pure path must be there to force (QUEUE_VISUALIZER_PURE_PYTHON) and must work on
its own; the rest of the suite runs the traced tests on both (the ``fast_path``
fixture).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from contextlib import suppress
from operator import itemgetter

import pytest

from visualizer.events import (
    EXCLUSIVE,
    LOCK_ACQUIRED,
    LOCK_CREATED,
    LOCK_HELD,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    TASK_ADDED,
    WRITE,
    Recorder,
    expand_held,
)
from visualizer.queues import STRATEGIES, Tracer, speedups
from visualizer.queues.gate import Gate
from visualizer.queues.traced import WAIT_SLICE
from visualizer.recording import reader

needs_c = pytest.mark.skipif(speedups.native is None, reason=speedups.PATH)


def events_of(name: str, accelerated: bool) -> tuple[list[tuple], int]:
    """What one thread doing a fixed sequence of operations records, without the stamps,
    each whole hold recorded as one ``LOCK_HELD`` taken apart and put in time order;
    and how many such holds there were."""
    recorder = Recorder()
    queue = STRATEGIES[name](Tracer(recorder, accelerated=accelerated))
    for task_id in range(6):
        queue.add_task(task_id, task_id % 3, payload=("p", task_id))
    queue.cancel_task(4)
    for _ in range(5):  # every live task, the cancelled one thrown away on the way
        queue.complete_task(queue.get_next_task().task_id)
    queue.get_status(2)
    len(queue)
    queue.snapshot()
    queue.shutdown()
    assert queue.get_next_task(timeout=1.0) is None  # shut down and empty: at once
    me = threading.get_ident()
    events = recorder.drain().events
    assert all(thread == me for _t, thread, *_ in events)
    held = sum(1 for event in events if event[2] == LOCK_HELD)
    in_order = sorted(expand_held(events), key=itemgetter(0))
    return [(kind, subject, a, b) for _t, _thread, kind, subject, a, b in in_order], held


@needs_c
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_c_and_python_record_the_same_events(name):
    """The same events, except that C records an uncontended hold as one event."""
    c_events, c_held = events_of(name, accelerated=True)
    py_events, py_held = events_of(name, accelerated=False)
    assert c_events == py_events
    assert py_held == 0
    if name != "unsafe":
        assert any(kind == LOCK_ACQUIRED for kind, *_ in c_events)
    if any(mode == EXCLUSIVE for kind, _, mode, _ in c_events if kind == LOCK_ACQUIRED):
        assert c_held > 0  # a (R)Lock: its uncontended holds are one event each in C
    if any(mode == WRITE for kind, _, mode, _ in c_events if kind == LOCK_ACQUIRED):
        assert c_held > 0  # so are a read-write lock's uncontended write holds


def test_a_tracer_says_which_path_it_takes():
    assert Tracer(Recorder(), accelerated=False).accelerated is False
    assert Tracer(Recorder()).accelerated is (speedups.native is not None)
    pure = Tracer(Recorder(), accelerated=False)
    assert type(pure.lock("a")).__name__ == "PyTracedLock"
    assert type(pure.rlock("b")).__name__ == "PyTracedRLock"


def parked_at(gate: Gate, label: str, timeout: float = 5.0) -> bool:
    """Wait until the one parked thread stands at ``label``."""
    deadline = time.monotonic() + timeout
    while [where for where, _ in gate.parked().values()] != [label]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.mark.parametrize("accelerated", [True, False])
def test_a_closed_gate_parks_the_with_fast_path_and_lets_it_through(accelerated):
    """Both paths hand a closed gate to Python: the thread parks before taking the
    lock, and one step lets it take it (and record it) and park again at the release."""
    recorder = Recorder()
    gate = Gate(recorder.record)
    tracer = Tracer(recorder, gate, accelerated=accelerated)
    lock = tracer.lock("L")
    gate.close()
    done = threading.Event()

    def hold() -> None:
        with lock:
            pass
        done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert gate.wait_parked(1, 5.0)
        [(label, _where)] = gate.parked().values()
        assert label == "acquire L" and not lock.locked()
        gate.step()
        assert parked_at(gate, "release L")
        assert lock.locked() and lock.owner == thread.ident
        gate.open()
        assert done.wait(5.0)
    finally:
        gate.open()
        thread.join(5.0)
    kinds = [kind for _t, _i, kind, subject, *_ in recorder.drain().events if subject == "L"]
    assert kinds[-2:] == [LOCK_ACQUIRED, LOCK_RELEASED]


@needs_c
def test_the_c_raw_lock_waits_times_out_and_refuses_a_double_release():
    lock = Tracer(Recorder()).lock("raw")
    assert lock._try_acquire(False) and lock.locked()
    assert lock._try_acquire(True, 0.02) is False  # held: the timed wait gives up
    assert lock._try_acquire(False) is False
    lock._unlock()
    assert not lock.locked()
    with pytest.raises(RuntimeError, match="release unlocked lock"):
        lock._unlock()


@needs_c
def test_the_c_rlock_counts_levels_and_frees_at_zero():
    recorder = Recorder()
    rlock = Tracer(recorder).rlock("R")
    with rlock:
        with rlock:
            assert rlock.depth == 2 and rlock.owner == threading.get_ident()
        assert rlock.depth == 1 and rlock.locked()
    assert rlock.depth == 0 and rlock.owner is None and not rlock.locked()
    depths = [
        (kind, b) for _t, _i, kind, subject, _a, b in recorder.drain().events if subject == "R"
    ]
    assert depths[1:] == [
        (LOCK_ACQUIRED, 1),
        (LOCK_ACQUIRED, 2),
        (LOCK_RELEASED, 1),
        (LOCK_RELEASED, 0),
    ]


@needs_c
def test_the_c_events_are_left_out_of_the_garbage_collectors_scans():
    import gc

    recorder = Recorder()
    with Tracer(recorder).lock("gc"):
        pass
    tracer = Tracer(recorder)
    tracer.record(30, "plain", 1, None)
    tracer.record(30, ("a", "tuple"), [], None)  # holds a list: must stay tracked
    events = recorder.drain().events
    assert [event[2] for event in events] == [LOCK_CREATED, LOCK_HELD, 30, 30]
    assert not any(gc.is_tracked(event) for event in events[1:3])
    assert gc.is_tracked(events[3])


def run_python(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_environment_forces_pure_python():
    code = "from visualizer.queues import speedups; print(speedups.PATH)"
    assert run_python(code, QUEUE_VISUALIZER_PURE_PYTHON="1") == (
        "pure Python (forced by QUEUE_VISUALIZER_PURE_PYTHON)"
    )
    built = importlib.util.find_spec("visualizer.queues._speedups") is not None
    expected = "C speedups" if built else "pure Python (the C speedups are not built)"
    assert run_python(code, QUEUE_VISUALIZER_PURE_PYTHON="0") == expected


@pytest.mark.slow
def test_the_package_builds_and_traces_without_a_c_compiler(tmp_path):
    """``pip install .`` where there is no compiler: the extension's build fails with a
    warning, the wheel is built without it, and the installed package traces in Python."""
    import shutil
    import zipfile
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
    source = tmp_path / "source"
    shutil.copytree(
        checkout,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.so", "docs"
        ),
    )
    wheels = tmp_path / "wheels"
    env = {**os.environ, "CC": str(tmp_path / "no-such-compiler")}
    env.pop("PYTHONPATH", None)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(wheels), "-v"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert 'building extension "visualizer.queues._speedups" failed' in built.stdout + built.stderr
    [wheel] = wheels.glob("queue_visualizer-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if "_speedups" in n and n.endswith(".so")]
        archive.extractall(site)
    probe = (
        "from visualizer.events import Recorder\n"
        "from visualizer.queues import STRATEGIES, Tracer, speedups\n"
        "recorder = Recorder()\n"
        "queue = STRATEGIES['complete'](Tracer(recorder))\n"
        "queue.add_task(1, 5)\n"
        "queue.complete_task(queue.get_next_task().task_id)\n"
        "print(speedups.PATH, len(recorder.drain().events))\n"
    )
    elsewhere = {**os.environ, "PYTHONPATH": str(site)}
    elsewhere.pop("QUEUE_VISUALIZER_PURE_PYTHON", None)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    path, _, count = done.stdout.strip().rpartition(" ")
    assert path == "pure Python (the C speedups are not built)" and int(count) > 5


@pytest.mark.skipif(reader.native is None, reason=reader.PATH)
def test_the_c_loader_takes_plain_events_and_leaves_them_to_reference_counting(tmp_path):
    import gc

    from visualizer.events import MARK, THREAD_STARTED, Batch
    from visualizer.recording import LogWriter, load_log

    events = [
        (10, 1, THREAD_STARTED, "producer-1", "producer", None),
        (11, 1, MARK, "plain", 1.5, True),
        (12, 1, MARK, ("nested",), None, None),  # the Python loop takes over here
        (13, 1, MARK, "plain again", None, None),
    ]
    path = tmp_path / "mixed.jsonl"
    with LogWriter(path, settings={}, strategy="x") as writer:
        writer.write_batch(Batch(0, events, 0))
    run = load_log(path)
    assert run.events == events and list(run.seqs) == [0, 1, 2, 3]
    assert run.thread_names[1] == "producer-1"
    assert not gc.is_tracked(run.events[0]) and not gc.is_tracked(run.events[1])


def kinds_of(events: list[tuple], subject: object) -> list[tuple[int, int]]:
    return [(thread, kind) for _t, thread, kind, name, *_ in events if name == subject]


def until_pending(recorder: Recorder, count: int) -> None:
    """Wait until ``count`` events wait, counted without a drain (which would publish a
    pending hold itself)."""
    deadline = time.monotonic() + 5
    while recorder.pending() < count:
        assert time.monotonic() < deadline, "nobody asked"
        time.sleep(0.001)


def handed_over(holder: threading.Thread, waiter: threading.Thread) -> list[tuple[int, int]]:
    """A lock's events, after its creation, when ``waiter`` waited for ``holder``'s hold."""
    return [
        (holder.ident, LOCK_ACQUIRED),
        (waiter.ident, LOCK_REQUESTED),
        (holder.ident, LOCK_RELEASED),
        (waiter.ident, LOCK_ACQUIRED),
        (waiter.ident, LOCK_RELEASED),
    ]


@needs_c
def test_an_uncontended_hold_is_one_event_stamped_at_both_ends():
    recorder = Recorder()
    tracer = Tracer(recorder)
    lock = tracer.lock("L")
    before = time.perf_counter_ns()
    with lock:
        tracer.record(TASK_ADDED, "t", 1, 1)
    after = time.perf_counter_ns()
    _created, added, held = recorder.drain().events
    assert added[2] == TASK_ADDED and held[2:5] == (LOCK_HELD, "L", EXCLUSIVE)
    # Taken before the task was added, released after: b and t bracket it.
    assert before <= held[5] <= added[0] <= held[0] <= after
    assert held[1] == threading.get_ident()


@needs_c
def test_a_hold_someone_waits_for_is_recorded_taken_before_the_request():
    """The waiter publishes the holder's pending hold, so the stream (and the wait-for
    graph the checker builds from it) names a holder it has seen take the lock."""
    recorder = Recorder()
    lock = Tracer(recorder).lock("L")
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    assert recorder.pending() == 1  # the lock's creation: the hold is not recorded yet
    waiter = threading.Thread(target=lambda: lock.acquire() and lock.release())
    waiter.start()
    # The lock's creation, then the hold the waiter published and the waiter's request.
    until_pending(recorder, 3)
    done.set()
    holder.join(5)
    waiter.join(5)
    events = recorder.drain().events
    assert kinds_of(events, "L")[1:] == handed_over(holder, waiter)
    request = next(e for e in events if e[2] == LOCK_REQUESTED)
    assert request[5] == holder.ident


@needs_c
def test_a_write_hold_a_reader_waits_for_is_recorded_taken_before_the_request():
    """A read-write lock's pending write hold is published by the reader that must
    wait for it, as a Lock's is by its waiter."""
    recorder = Recorder()
    rw = Tracer(recorder).rwlock("RW")
    holding, done = threading.Event(), threading.Event()

    def write() -> None:
        with rw.write_locked():
            holding.set()
            done.wait(5)

    def read() -> None:
        with rw.read_locked():
            pass

    writer = threading.Thread(target=write)
    writer.start()
    assert holding.wait(5)
    assert recorder.pending() == 1  # the lock's creation: the write hold is not recorded yet
    reader = threading.Thread(target=read)
    reader.start()
    until_pending(recorder, 3)  # the hold the reader published, and its request
    done.set()
    writer.join(5)
    reader.join(5)
    events = recorder.drain().events
    assert kinds_of(events, "RW")[1:] == handed_over(writer, reader)
    assert next(e for e in events if e[2] == LOCK_REQUESTED)[5] == writer.ident


@needs_c
def test_a_thread_paused_inside_a_hold_is_seen_holding_it():
    recorder = Recorder()
    gate = Gate(recorder.record)
    tracer = Tracer(recorder, gate)
    lock = tracer.lock("L")
    inside, go_on = threading.Event(), threading.Event()

    def work() -> None:
        with lock:
            inside.set()
            go_on.wait(5)
            tracer.record(TASK_ADDED, "t", 1, 1)  # a step point: parks here

    thread = threading.Thread(target=work)
    thread.start()
    try:
        assert inside.wait(5)
        gate.close()
        go_on.set()
        assert gate.wait_parked(1, 5.0)
        events = recorder.drain().events
        assert kinds_of(events, "L")[1:] == [(thread.ident, LOCK_ACQUIRED)]
    finally:
        gate.open()
        thread.join(5)
    assert kinds_of(recorder.drain().events, "L") == [(thread.ident, LOCK_RELEASED)]


@needs_c
def test_a_re_entered_rlock_records_each_level():
    recorder = Recorder()
    rlock = Tracer(recorder).rlock("R")
    with rlock, rlock:
        pass
    with rlock:
        pass
    events = recorder.drain().events[1:]
    assert [(kind, b) for _t, _i, kind, _s, _a, b in events[:4]] == [
        (LOCK_ACQUIRED, 1),
        (LOCK_ACQUIRED, 2),
        (LOCK_RELEASED, 1),
        (LOCK_RELEASED, 0),
    ]
    assert events[0][0] < events[1][0]  # the first level, stamped when it was taken
    assert [event[2] for event in events[4:]] == [LOCK_HELD]


@needs_c
def test_a_deadlock_between_fast_path_holds_is_found():
    """Both threads took their first lock on the fast path, unrecorded until the other
    asked for it: the checker still sees the cycle, and Stop still ends it."""
    from visualizer.model import RunModel
    from visualizer.queues import RunStopped

    recorder = Recorder()
    gate = Gate(recorder.record)
    tracer = Tracer(recorder, gate)
    a, b = tracer.lock("A"), tracer.lock("B")
    both = threading.Barrier(2)

    def cross(first, second) -> None:
        # Stop unwinds both, each from inside a hold.
        with suppress(RunStopped), first:
            both.wait(5)
            with second:
                pass

    threads = [threading.Thread(target=cross, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    model = RunModel(recorder.thread_name)
    deadline = time.monotonic() + 5
    while model.locks.deadlock_cycle() is None:
        assert time.monotonic() < deadline, "no deadlock seen"
        model.apply(recorder.drain())
        time.sleep(0.005)
    gate.abort()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize("reentrant", [False, True])
def test_a_contended_with_records_the_request_naming_the_holder_then_the_take(
    accelerated, reentrant
):
    """The ``with`` that finds the lock taken: C (speedups) or Python, the waiter's
    request names the holder, whose hold the stream has shown taken first; its wait
    lasts past a pause (the gate closed and opened again while it waits)."""
    recorder = Recorder()
    gate = Gate(recorder.record)
    tracer = Tracer(recorder, gate, accelerated=accelerated)
    lock = tracer.rlock("L") if reentrant else tracer.lock("L")
    holding, done, entered = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holding.set()
            done.wait(5)

    def wait() -> None:
        with lock:
            entered.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    waiter = threading.Thread(target=wait)
    waiter.start()
    until_pending(recorder, 3)  # the creation, the published hold, the request
    gate.close()  # a pause while it waits: it keeps waiting, and takes the lock once free
    time.sleep(WAIT_SLICE * 1.5)  # let a slice end with the gate closed
    gate.open()
    done.set()
    holder.join(5)
    waiter.join(5)
    assert entered.is_set() and not waiter.is_alive()
    events = recorder.drain().events
    assert kinds_of(events, "L")[1:] == handed_over(holder, waiter)
    request, taken, _released = (e for e in events if e[1] == waiter.ident and e[3] == "L")
    assert request[4:] == (EXCLUSIVE, holder.ident)
    assert taken[4:] == (EXCLUSIVE, 1)
    assert [e[0] for e in events] == sorted(e[0] for e in events)


@needs_c
def test_the_c_and_python_waits_slice_alike():
    assert speedups.native.WAIT_SLICE == WAIT_SLICE


@needs_c
def test_the_c_task_maker_makes_the_task_the_namedtuple_would():
    from visualizer.queues.base import Task, _new_task, new_task

    made = new_task("t", 3, {"p": 1})
    assert type(made) is Task and made == Task("t", 3, {"p": 1}) == _new_task("t", 3, {"p": 1})
    assert (made.task_id, made.priority, made.payload) == ("t", 3, {"p": 1})
    assert speedups.native.new_tuple(tuple, 1, 2) == (1, 2)
    with pytest.raises(TypeError):
        speedups.native.new_tuple(list, 1)

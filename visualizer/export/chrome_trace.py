"""Export events as a Chrome trace (Trace Event Format JSON) for the Perfetto UI.

What a reader sees: one track per thread, and on it

* ``hold <lock>`` slices, from ``LOCK_ACQUIRED`` to the matching release (outermost
  level for re-entrant locks; per thread for shared read locks and permits);
* ``wait <lock>`` slices, from ``LOCK_REQUESTED`` to ``LOCK_ACQUIRED`` or
  ``LOCK_TIMED_OUT``, and ``wait <condition>`` from ``COND_WAIT`` to ``COND_WOKEN``;
* ``task <id>`` slices, from the worker's ``TASK_STARTED`` to its ``TASK_COMPLETED``,
  or to a violation recorded on that thread naming the task (a worker's error:
  the worker gave the task up there);
* instants for adds, pops, cancels and notifies, process-wide ones for marks
  (Perfetto draws them in the process's group; a global one gets a track of its
  own named "Unnamed"), and one ``violation: <kind>`` instant on the track of
  every thread the checker named (a deadlock: every thread of the cycle, its
  locks in ``args``); a violation that names no thread is a process-wide instant;
* a flow arrow from each ``add task <id>`` to the slice of the worker that ran it
  (to its pop when the worker never started it), one per delivery, so a task
  handed out twice shows two arrows.

Why begin/end pairs (``B``/``E``) rather than complete events (``X``): both viewers
need the slices of one thread to nest, and event streams do not nest on their own
(a worker completes a task while holding the queue lock, a condition wait releases
the lock it was entered with).  A per-thread stack keeps them nested: when a slice
ends that is not the innermost one, the slices inside it are ended at the same
instant and begun again (marked ``"continued": true``), so every time stays exact.
With ``B``/``E`` the nesting is carried by the order of events, which the output
keeps (sorted by time, ties in stream order), instead of by float sums of
``ts + dur`` that may round differently in each viewer.  The events are folded in
time order (ties in stream order), each ``LOCK_HELD`` as its two ends: the C fast
path records an uncontended hold at its end, after the events inside it.

Whatever is still open when the events end (a deadlock's waits, the tasks its
threads hold) ends at ``end_ns``, the time of the export for a run still going,
so a deadlock lasts as long as it did, not until the last event before it.

Format details that matter to the viewers: ``ts`` in microseconds (floats, exact
to the nanosecond) from the earliest event; ``pid`` 1 and ``tid`` small integers
from 2 in order of first appearance (Perfetto calls the thread whose tid equals
the pid the process's "main thread", which none of these is); ``M`` events name
the process (after the run: the strategy, scenario or queue) and the threads;
``args`` hold only scalars (old Perfetto importers reject arrays); flow events
``s``/``f`` share ``cat``, ``name`` and a unique ``id`` (Perfetto keys v1 flows
by all three), the ``s`` directly after the instant it starts from and the ``f``
with ``"bp": "e"`` directly after the ``B`` of the slice it ends in.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any, Protocol, TextIO

from visualizer.events import (
    CANCELLED,
    COMPLETED,
    COND_NOTIFY,
    COND_WAIT,
    COND_WOKEN,
    EXCLUSIVE,
    LOCK_ACQUIRED,
    LOCK_RELEASED,
    LOCK_REQUESTED,
    LOCK_TIMED_OUT,
    MARK,
    PERMIT,
    READ,
    TASK_ADDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_POPPED,
    TASK_STARTED,
    THREAD_ENDED,
    THREAD_STARTED,
    VIOLATION,
    WRITE,
    expand_held,
)

PID = 1
FIRST_TID = PID + 1
"""Thread ids start above the pid: no thread is taken for the process's main thread."""
FLOW_NAME = "handoff"
FLOW_CAT = "flow"
MODE_NAMES = {EXCLUSIVE: "exclusive", READ: "read", WRITE: "write", PERMIT: "permit"}

ThreadNames = Mapping[int, str] | Callable[[int], str] | None

_Key = tuple[int, int, int]  # (t_ns, emission order, sub-order): the output's sort key


class TraceViolation(Protocol):
    """What the trace needs of a checker violation (the model's ``Violation`` has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def t_ns(self) -> int: ...
    @property
    def threads(self) -> tuple[str, ...]: ...
    @property
    def idents(self) -> tuple[int, ...]: ...
    @property
    def task(self) -> Any: ...
    @property
    def locks(self) -> tuple[str, ...]: ...
    @property
    def detail(self) -> str: ...


def _scalar(value: Any) -> Any:
    """Trace args must be JSON scalars (and finite: browsers reject ``Infinity``)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


class _Open:
    """A slice begun on some thread's stack and not yet ended."""

    __slots__ = ("key", "name", "cat", "args")

    def __init__(self, key: tuple, name: str, cat: str, args: dict[str, Any]) -> None:
        self.key = key
        self.name = name
        self.cat = cat
        self.args = args


class _TraceBuilder:
    """Folds raw events, in stream order, into trace events with sort keys.

    ``checked``: the checker's violations will be added (:meth:`add_violations`),
    so the ones the stream itself records are not drawn a second time.
    """

    def __init__(self, thread_names: ThreadNames, *, checked: bool = False) -> None:
        if callable(thread_names):
            self._lookup: Callable[[int], str | None] = thread_names
        else:
            table = dict(thread_names or {})
            self._lookup = table.get
        self.tids: dict[int, int] = {}  # ident -> tid of the thread now using that ident
        self.tracks: dict[int, tuple[int, str | None]] = {}  # tid -> (ident, started name)
        # ident -> [(from t_ns or None, tid)]: which thread held the ident when
        self._history: dict[int, list[tuple[int | None, int]]] = {}
        self.checked = checked
        self.out: list[tuple[_Key, dict[str, Any]]] = []
        self._order = 0
        self._stacks: dict[int, list[_Open]] = {}
        self._depth: dict[tuple[int, str], int] = {}
        self._adds: dict[Any, tuple[int, _Key]] = {}  # task -> (producer tid, instant key)
        # (worker ident, task) -> (worker tid, pop instant key, the add it received),
        # until the worker starts it.  The add is the one before the pop: a task id
        # added again later (a duplicate id) must not point an arrow back in time.
        self._pops: dict[tuple[int, Any], tuple[int, _Key, tuple[int, _Key] | None]] = {}
        self._sub = 0
        self._flows = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None

    # --- emission ------------------------------------------------------------
    def _tid(self, ident: int) -> int:
        tid = self.tids.get(ident)
        if tid is None:
            tid = self._new_track(ident, None, None)
        return tid

    def _new_track(self, ident: int, name: str | None, since: int | None) -> int:
        tid = self.tids[ident] = len(self.tracks) + FIRST_TID
        self.tracks[tid] = (ident, name)
        self._history.setdefault(ident, []).append((since, tid))
        return tid

    def _tid_at(self, ident: int, t: int) -> int:
        """The track of the thread that had ``ident`` at ``t`` (idents are reused)."""
        history = self._history.get(ident)
        if not history:
            return self._tid(ident)
        tid = history[0][1]
        for since, candidate in history:
            if since is None or since <= t:
                tid = candidate
        return tid

    def _emit(self, t: int, event: dict[str, Any], key: _Key | None = None) -> _Key:
        if key is None:
            self._order += 1
            key = (t, self._order, 0)
        self.out.append((key, event))
        return key

    def _after(self, key: _Key) -> _Key:
        """A key sorting directly after ``key`` (for events placed retroactively)."""
        self._sub += 1
        return (key[0], key[1], self._sub)

    def _instant(self, t: int, ident: int, name: str, cat: str, args: dict[str, Any]) -> _Key:
        event = {"name": name, "cat": cat, "ph": "i", "s": "t", "tid": self._tid(ident)}
        event["args"] = args
        return self._emit(t, event)

    def _begin(self, t: int, ident: int, slice_: _Open) -> None:
        self._stacks.setdefault(ident, []).append(slice_)
        event = {"name": slice_.name, "cat": slice_.cat, "ph": "B", "tid": self._tid(ident)}
        event["args"] = slice_.args
        self._emit(t, event)

    def _end_top(self, t: int, ident: int, args: dict[str, Any] | None = None) -> _Open:
        slice_ = self._stacks[ident].pop()
        event = {"name": slice_.name, "cat": slice_.cat, "ph": "E", "tid": self._tid(ident)}
        if args:
            event["args"] = args
        self._emit(t, event)
        return slice_

    def _open(self, ident: int, key: tuple) -> bool:
        return any(slice_.key == key for slice_ in self._stacks.get(ident, ()))

    def _end(self, t: int, ident: int, key: tuple, args: dict[str, Any] | None = None) -> None:
        """End the slice ``key`` on ``ident``'s track, keeping the stack nested.

        Slices begun inside it are ended at the same instant and begun again.
        An end with no matching begin (the log started mid-run) is ignored.
        """
        stack = self._stacks.get(ident, [])
        for index in range(len(stack) - 1, -1, -1):
            if stack[index].key == key:
                break
        else:
            return
        inner = [self._end_top(t, ident) for _ in range(len(stack) - index - 1)]
        self._end_top(t, ident, args)
        for slice_ in reversed(inner):
            args_ = dict(slice_.args, continued=True)
            self._begin(t, ident, _Open(slice_.key, slice_.name, slice_.cat, args_))

    def _end_all(self, t: int, ident: int) -> None:
        while self._stacks.get(ident):
            self._end_top(t, ident, {"unfinished": True})

    def _flow(self, producer_tid: int, add_key: _Key, worker_tid: int, end_key: _Key) -> None:
        self._flows += 1
        flow = {"name": FLOW_NAME, "cat": FLOW_CAT, "id": self._flows}
        self._emit(add_key[0], dict(flow, ph="s", tid=producer_tid), self._after(add_key))
        self._emit(end_key[0], dict(flow, ph="f", bp="e", tid=worker_tid), end_key)

    # --- folding -------------------------------------------------------------
    def name_of(self, ident: int) -> str:
        tid = self.tids.get(ident)
        started = self.tracks[tid][1] if tid is not None else None
        return started or self._lookup(ident) or f"thread-{ident}"

    def _holders(self, holder: Any) -> str | None:
        if holder is None:
            return None
        if isinstance(holder, tuple):
            return ", ".join(self.name_of(h) for h in holder) or None
        return self.name_of(holder) if isinstance(holder, int) else str(holder)

    def fold(self, events: Iterable[tuple]) -> None:
        for t, ident, kind, subject, a, b in events:
            self._widen(t)
            if kind == LOCK_ACQUIRED:
                self._acquired(t, ident, subject, a, b)
            elif kind == LOCK_RELEASED:
                self._released(t, ident, subject, a, b)
            elif kind == LOCK_REQUESTED:
                args = {"mode": MODE_NAMES.get(a, _scalar(a))}
                holders = self._holders(b)
                if holders:
                    args["holders"] = holders
                self._begin(t, ident, _Open(("wait", subject), f"wait {subject}", "lock", args))
            elif kind == LOCK_TIMED_OUT:
                self._end(t, ident, ("wait", subject), {"outcome": "timed out"})
            elif kind == COND_WAIT:
                args = {"timeout_s": _scalar(a)}
                self._begin(
                    t, ident, _Open(("cond", subject), f"wait {subject}", "condition", args)
                )
            elif kind == COND_WOKEN:
                self._end(t, ident, ("cond", subject), {"notified": _scalar(a)})
            elif kind == COND_NOTIFY:
                self._instant(t, ident, f"notify {subject}", "condition", {"count": _scalar(a)})
            elif kind == TASK_ADDED:
                args = {"task": _scalar(subject), "priority": _scalar(a)}
                key = self._instant(t, ident, f"add task {subject}", "task", args)
                self._adds[subject] = (self._tid(ident), key)
            elif kind == TASK_POPPED:
                args = {"task": _scalar(subject), "priority": _scalar(a)}
                key = self._instant(t, ident, f"pop task {subject}", "task", args)
                pending = self._pops.get((ident, subject))
                if pending is not None:  # popped again, never started: that arrow ends here
                    self._flow_to_pop(*pending)
                self._pops[ident, subject] = (self._tid(ident), key, self._adds.get(subject))
            elif kind == TASK_STARTED:
                self._started(t, ident, subject)
            elif kind in (TASK_COMPLETED, TASK_CANCELLED):
                outcome = COMPLETED if kind == TASK_COMPLETED else CANCELLED

                self._end(t, ident, ("task", subject), {"outcome": outcome})
                if kind == TASK_CANCELLED:
                    self._instant(t, ident, f"cancel task {subject}", "task", {})
            elif kind == THREAD_STARTED:
                self._thread_started(t, ident, str(subject))
            elif kind == THREAD_ENDED:
                self._thread_ended(t, ident)
            elif kind == VIOLATION:
                self._recorded_violation(t, ident, subject, a, b)
            elif kind == MARK:
                self._emit(t, {"name": str(subject), "cat": "mark", "ph": "i", "s": "p"})

    def _acquired(self, t: int, ident: int, lock: str, mode: Any, count: Any) -> None:
        if self._open(ident, ("wait", lock)):
            self._end(t, ident, ("wait", lock), {"outcome": "acquired"})
        held = (ident, lock)
        before = self._depth.get(held, 0)
        # An exclusive lock's count is this thread's depth; the others count
        # all holders, so for them the depth is our own tally.
        depth = count if mode == EXCLUSIVE and isinstance(count, int) else before + 1
        self._depth[held] = depth
        if before == 0 and depth > 0:
            args = {"mode": MODE_NAMES.get(mode, _scalar(mode))}
            self._begin(t, ident, _Open(("hold", lock), f"hold {lock}", "lock", args))

    def _released(self, t: int, ident: int, lock: str, mode: Any, count: Any) -> None:
        held = (ident, lock)
        before = self._depth.get(held, 0)
        if before == 0:
            return
        depth = count if mode == EXCLUSIVE and isinstance(count, int) else before - 1
        self._depth[held] = depth
        if depth <= 0:
            del self._depth[held]
            self._end(t, ident, ("hold", lock))

    def _recorded_violation(self, t: int, ident: int, kind: Any, target: Any, detail: Any) -> None:
        """A violation the run recorded itself, on the thread it happened in.

        A worker that failed on a task (``worker-error``) has given it up and goes
        on with the next one, so that task's slice on its track ends here.
        """
        key = ("task", target)
        if self._open(ident, key):
            self._end(t, ident, key, {"outcome": "error", "error": _scalar(detail)})
        if not self.checked:
            args = {"kind": _scalar(kind), "task_or_lock": _scalar(target)}
            args["detail"] = _scalar(detail)
            self._instant(t, ident, f"violation: {kind}", "violation", args)

    def add_violations(self, violations: Iterable[TraceViolation]) -> None:
        """One instant per violation on each thread it names; process-wide if none."""
        for violation in violations:
            # The trace keeps the events' own stamps; a model's t_ns is run time.
            t = int(getattr(violation, "wall_ns", 0) or violation.t_ns)
            self._widen(t)
            args: dict[str, Any] = {"kind": violation.kind, "detail": _scalar(violation.detail)}
            if violation.threads:
                args["threads"] = ", ".join(map(str, violation.threads))
            if violation.task is not None:
                args["task"] = _scalar(violation.task)
            if violation.locks:
                args["locks"] = ", ".join(map(str, violation.locks))
            name = f"violation: {violation.kind}"
            event: dict[str, Any]
            if not violation.idents:
                event = {"name": name, "cat": "violation", "ph": "i", "s": "p", "args": args}
                self._emit(t, event)
            for ident in dict.fromkeys(violation.idents):
                event = {"name": name, "cat": "violation", "ph": "i", "s": "t"}
                event["tid"] = self._tid_at(ident, t)
                event["args"] = args
                self._emit(t, event)

    def _widen(self, t: int) -> None:
        if self.first_ns is None or t < self.first_ns:
            self.first_ns = t
        if self.last_ns is None or t > self.last_ns:
            self.last_ns = t

    def _thread_started(self, t: int, ident: int, name: str) -> None:
        """A new thread: a new track, even when it reuses an ended thread's ident.

        The OS hands a finished thread's ident to the next thread it starts, so
        one ident can name several threads in a run; each gets its own track.
        """
        if ident in self.tids:
            self._thread_ended(t, ident)
        self._new_track(ident, name, t)

    def _thread_ended(self, t: int, ident: int) -> None:
        """Whatever the thread was in when it ended (a stop unwinding it) ends here."""
        self._end_all(t, ident)
        for held in [held for held in self._depth if held[0] == ident]:
            del self._depth[held]

    def _started(self, t: int, ident: int, task: Any) -> None:
        args = {"task": _scalar(task)}
        self._begin(t, ident, _Open(("task", task), f"task {task}", "task", args))
        self._order += 1
        start_key: _Key = (t, self._order, 0)
        popped = self._pops.pop((ident, task), None)
        add = popped[2] if popped is not None else self._adds.get(task)
        if add is not None:
            self._flow(add[0], add[1], self._tid(ident), start_key)

    def _flow_to_pop(self, worker_tid: int, pop_key: _Key, add: tuple[int, _Key] | None) -> None:
        """The arrow of a task popped but never started ends at the pop."""
        if add is not None:
            self._flow(add[0], add[1], worker_tid, self._after(pop_key))

    def finish(self, end_ns: int | None = None) -> None:
        """Close what is still open at ``end_ns`` (or the last time stamp, if later);
        flows for unstarted pops."""
        for pending in self._pops.values():
            self._flow_to_pop(*pending)
        self._pops.clear()
        if self.last_ns is None:
            return
        end = self.last_ns if end_ns is None else max(self.last_ns, end_ns)
        for ident in list(self._stacks):
            self._end_all(end, ident)

    def trace_events(self, title: str) -> list[dict[str, Any]]:
        """Metadata first, then every event in time order with ``ts`` filled in."""

        def metadata(name: str, tid: int | None, args: dict[str, Any]) -> dict[str, Any]:
            event = {"name": name, "ph": "M", "ts": 0, "pid": PID}
            if tid is not None:
                event["tid"] = tid
            event["args"] = args
            return event

        meta = [metadata("process_name", None, {"name": title})]
        for tid, (ident, started) in self.tracks.items():
            name = started or self._lookup(ident) or f"thread-{ident}"
            meta.append(metadata("thread_name", tid, {"name": name}))
            meta.append(metadata("thread_sort_index", tid, {"sort_index": tid}))
        self.out.sort(key=itemgetter(0))
        origin = self.first_ns or 0
        events = []
        for (t, _, _), body in self.out:
            # ts right after ph: old Perfetto importers look it up before any nested value.
            event = {"name": body.pop("name"), "cat": body.pop("cat"), "ph": body.pop("ph")}
            event["ts"] = (t - origin) / 1000
            event["pid"] = PID
            event.update(body)
            events.append(event)
        return meta + events


def build_trace(
    events: Iterable[tuple],
    thread_names: ThreadNames = None,
    *,
    title: str = "queue-visualizer",
    violations: Iterable[TraceViolation] | None = None,
    end_ns: int | None = None,
) -> dict[str, Any]:
    """The trace as a JSON-ready dict ``{"traceEvents": [...], ...}``.

    ``events`` are raw event tuples in stream order (``RecordedRun.events``, or
    batches' events chained); ``thread_names`` maps or resolves idents to names
    (``THREAD_STARTED`` events in the stream take precedence).  ``title`` names
    the process: what ran (the strategy, the scenario, the user's queue).
    ``violations`` are the checker's (``model.anomalies``), placed on the tracks
    of the threads they name; without them only the violations the stream
    records itself appear.  ``end_ns`` (``perf_counter_ns`` at the export of a
    run still going) is where slices still open end; by default the last event.
    """
    builder = _TraceBuilder(thread_names, checked=violations is not None)
    # Each LOCK_HELD as its acquisition and release, and everything in time order:
    # a hold the C fast path recorded late (at its end, or published when someone
    # had to see it) then nests with the events it enclosed, as its stacks expect.
    builder.fold(sorted(expand_held(events), key=itemgetter(0)))
    builder.add_violations(violations or ())
    builder.finish(end_ns)
    other = {"generator": "queue-visualizer", "title": title, "time_origin_ns": builder.first_ns}
    return {"otherData": other, "traceEvents": builder.trace_events(title)}


def export(
    events: Iterable[tuple],
    thread_names: ThreadNames,
    out: str | os.PathLike[str] | TextIO,
    *,
    title: str = "queue-visualizer",
    violations: Iterable[TraceViolation] | None = None,
    end_ns: int | None = None,
) -> int:
    """Write the trace to ``out`` (a path or a text file); return the number of trace events.

    One trace event per line, so the file is also readable (and diffable) as text.
    A path ending in ``.gz`` is written gzip-compressed (Perfetto opens it as is).
    """
    trace = build_trace(events, thread_names, title=title, violations=violations, end_ns=end_ns)
    items = trace["traceEvents"]
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    body = ",\n".join(map(encode, items))
    other = encode(trace["otherData"])
    text = f'{{"otherData":{other},\n"traceEvents":[\n{body}\n]}}\n'
    if isinstance(out, str | os.PathLike):
        if os.fspath(out).lower().endswith(".gz"):
            with gzip.open(out, "wt", encoding="utf-8") as file:
                file.write(text)
        else:
            with open(out, "w", encoding="utf-8") as file:
                file.write(text)
    else:
        out.write(text)
    return len(items)

"""Replay a loaded log: the run's model at any position, and what the run was.

The window's scrubber and the command line's ``replay`` and ``export`` all fold
a :class:`~visualizer.recording.RecordedRun` into a :class:`RunModel`, the same
fold a live run goes through, so every view (and every summary) shows exactly
what it would have shown live at that point of the stream.

Why checkpoints: folding runs at some 400 000 events a second, so showing event
900 000 of a long log from scratch takes over two seconds, and a scrubber dragged
backwards asks for that many times a second.  :meth:`Replay.build` folds the log
once and keeps a checkpoint of the model every so many events; a seek restores
the nearest checkpoint before the target and folds the rest, and a seek forward
from where the model is just folds the difference.

Checkpoints are pickles of this process's own models, made and read in memory:
nothing read from a file is ever unpickled (a log itself is parsed by ``json``
only).  Pickled bytes take a tenth of the memory of a deep copy and restore in a
fraction of its time; compressed (zlib, fastest level) they take a quarter of that
again, for a few per cent more time, which matters on long logs (a 6-million-event
recording kept 140 checkpoints: 630 MB raw, about 160 MB compressed).  Making one
costs more the bigger the model, so the interval between checkpoints grows with that
cost (dumping should take at most :data:`DUMP_SHARE` of the time spent folding towards
it), up to what folds in :data:`MAX_SEEK_FOLD_S`, which bounds how long a seek takes;
but checkpoints never keep more than :data:`CHECKPOINT_BYTES_PER_EVENT` per event
folded, so a log's checkpoints grow no faster than the log, however big its model
gets (a seek may then fold longer).
"""

from __future__ import annotations

import gc
import pickle
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from time import perf_counter
from typing import Any

import numpy as np

from visualizer.engine import RunState, Workload, run_label
from visualizer.events import MARK, VIOLATION, WORKER_ERROR, Batch
from visualizer.model import RunModel, Violation
from visualizer.recording.reader import LogStream
from visualizer.recording.recorded import RecordedRun
from visualizer.recording.schema import LogCancelled, LogError

FOLD_BATCH = 4096
"""Events per batch folded: what a frame drains from a busy run."""
CHECKPOINT_LEVEL = 1
"""zlib level of checkpoints: the fastest, about four times smaller than the pickle."""
MIN_INTERVAL = 20_000
"""Fewest events between checkpoints: folding this many takes about 50 ms."""
DUMP_SHARE = 0.5
"""Making a checkpoint should cost at most this share of the folding since the last one..."""
MAX_SEEK_FOLD_S = 0.25
"""...but a seek should fold at most about this long after restoring one..."""
CHECKPOINT_BYTES_PER_EVENT = 16
"""...and checkpoints may keep at most this much memory per event folded (this wins)."""

_FINAL_MARKS = {f"run {state.value}": state for state in (RunState.FINISHED, RunState.STOPPED)}
_START_MARK = "run started"

Progress = Callable[[float], object]
"""Called with the fraction folded (0..1); returning ``False`` cancels."""


class ThreadNames:
    """A log's ident -> name table as the ``thread_name`` callable a model takes.

    A plain object rather than ``RecordedRun.thread_name``: a checkpoint pickles
    the model with its ``thread_name``, and a bound method would drag the whole
    log's events into every checkpoint.
    """

    __slots__ = ("names",)

    def __init__(self, names: dict[int, str]) -> None:
        self.names = dict(names)

    def __call__(self, ident: int) -> str:
        return self.names.get(ident) or f"thread-{ident}"


@dataclass(frozen=True)
class LoggedRun:
    """What a log says about the run itself, shaped like a :class:`~visualizer.engine.Run`.

    The engine marks a run's start and end in its own stream (``MARK "run
    started"``, ``"run finished"`` or ``"run stopped"``) and records errors its
    threads caught as ``worker-error`` violations, so the state, the duration and
    the errors come back from the events; the command line's summary takes this
    where it takes a live run.  ``state`` is RUNNING when the log ends before the
    run did (recording stopped early, or a file cut short).
    """

    workload: Workload
    state: RunState
    errors: list[str]
    started_ns: int | None
    ended_ns: int | None

    def elapsed(self) -> float:
        """Seconds from the start mark to the end mark (or to the last event)."""
        if self.started_ns is None or self.ended_ns is None:
            return 0.0
        return (self.ended_ns - self.started_ns) / 1e9


def workload_of(header: dict[str, Any]) -> Workload:
    """A log header's settings as a validated :class:`Workload`.

    Keys this version does not know are ignored (a newer program may add
    settings); a known key with a bad value makes the log unusable for a
    summary, so it is a :class:`LogError` like any other bad header.
    """
    known = {f.name for f in fields(Workload)}
    values: dict[str, Any] = {k: v for k, v in header["settings"].items() if k in known}
    values.setdefault("strategy", header["strategy"])
    workload = Workload(**values)
    try:
        workload.validate()
    except ValueError as exc:
        raise LogError(f"the header's settings are not a valid workload: {exc}", 1) from None
    return workload


def title_of(recorded: RecordedRun | LogStream) -> str:
    """What the log recorded, named as the window named the run (scenario or strategy)."""
    return run_label(recorded.strategy, recorded.scenario)


class Outcome:
    """The run's state, start, end and errors, read from its marks as events go by.

    Fed every event once (:meth:`see`, batch by batch), in stream order, so the
    command line can learn it while it streams a log it does not keep.
    """

    def __init__(self) -> None:
        self.state = RunState.RUNNING
        self.errors: list[str] = []
        self.started_ns: int | None = None
        self.ended_ns: int | None = None
        self.first_ns: int | None = None
        self.last_ns: int | None = None

    def see(self, events: Iterable[tuple]) -> None:
        for t_ns, _ident, kind, subject, _a, b in events:
            if self.first_ns is None:
                self.first_ns = t_ns
            self.last_ns = t_ns
            if kind == MARK:
                if subject == _START_MARK and self.started_ns is None:
                    self.started_ns = t_ns
                elif type(subject) is str and subject in _FINAL_MARKS:
                    self.state, self.ended_ns = _FINAL_MARKS[subject], t_ns
            elif kind == VIOLATION and subject == WORKER_ERROR and len(self.errors) < MAX_ERRORS:
                self.errors.append(str(b))

    def logged_run(self, header: dict[str, Any]) -> LoggedRun:
        """The run as the log tells it; raises :class:`LogError` for unusable settings."""
        started = self.first_ns if self.started_ns is None else self.started_ns
        ended = self.last_ns if self.ended_ns is None else self.ended_ns
        return LoggedRun(workload_of(header), self.state, self.errors, started, ended)


MAX_ERRORS = 1000
"""Run-thread errors a summary keeps the text of (it prints the first few)."""


def _outcome(recorded: RecordedRun) -> Outcome:
    outcome = Outcome()
    outcome.see(recorded.events)
    return outcome


def logged_run(recorded: RecordedRun) -> LoggedRun:
    """The run as the log tells it; raises :class:`LogError` for unusable settings."""
    return _outcome(recorded).logged_run(recorded.header)


def _restore(blob: bytes) -> RunModel:
    """Unpickle a checkpoint with the collector paused (it would scan every new object)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(zlib.decompress(blob))
    finally:
        if was_enabled:
            gc.enable()


class Replay:
    """A recorded run's model at any position (the number of events folded into it).

    Call :meth:`build` once (it may take seconds: run it off the GUI thread),
    then :meth:`seek` as the scrubber moves.  Belongs to one thread at a time.
    """

    def __init__(
        self,
        recorded: RecordedRun,
        *,
        window_s: float = 30.0,
        checkpoint_every: int | None = None,
    ) -> None:
        self.recorded = recorded
        self.checkpoint_every = checkpoint_every  # None: adapt to what checkpoints cost
        self.window_s = window_s
        self.total = recorded.total
        self.names = ThreadNames(recorded.thread_names)
        self.drained = False  # the log shows the run ended FINISHED: lost tasks are real (build)
        self.final_anomalies: list[Violation] = []  # the checker's verdict on the whole log
        self.model = self._new_model()
        self.position = 0
        self.fold_seconds = 0.0
        self.checkpoint_seconds = 0.0
        self._marks: list[int] = [0]
        self._blobs: list[bytes | None] = [None]  # None: a fresh model
        # Stamps can be a hair out of order across threads; the clock's running maximum
        # can be bisected.  A view of the log's own array: no copy.
        self._times = np.frombuffer(recorded.clock, dtype=np.int64) if self.total else np.zeros(0)
        self.t0_ns = int(self._times[0]) if self.total else 0

    @property
    def checkpoints(self) -> list[int]:
        """Positions a seek can restore from (0 is a fresh model)."""
        return list(self._marks)

    @property
    def checkpoint_bytes(self) -> int:
        return sum(len(blob) for blob in self._blobs if blob is not None)

    def _new_model(self) -> RunModel:
        return RunModel(thread_name=self.names, window_s=self.window_s)

    def build(self, progress: Progress | None = None, *, checkpoints: bool = True) -> RunModel:
        """Fold the whole log, keeping checkpoints on the way; the model ends at the end.

        Raises :class:`LogCancelled` when ``progress`` returns False.  Without
        ``checkpoints`` the fold is cheaper, for a caller that needs only the end
        (the command line).
        """
        outcome = Outcome()
        model = self.model = self._new_model()
        self.position = 0
        self._marks, self._blobs = [0], [None]
        interval = self.checkpoint_every or MIN_INTERVAL
        while self.position < self.total:
            stop = min(self.position + interval, self.total)
            started = perf_counter()
            self._fold(model, stop, outcome)
            folded = perf_counter() - started
            self.fold_seconds += folded
            if progress is not None and progress(stop / self.total) is False:
                raise LogCancelled("replay was cancelled")
            if checkpoints and stop < self.total:
                started = perf_counter()
                self._marks.append(stop)
                blob = zlib.compress(pickle.dumps(model, pickle.HIGHEST_PROTOCOL), CHECKPOINT_LEVEL)
                self._blobs.append(blob)
                dumped = perf_counter() - started
                self.checkpoint_seconds += dumped
                if self.checkpoint_every is None:
                    rate = (stop - self._marks[-2]) / folded if folded > 0 else float(self.total)
                    cheap = dumped / DUMP_SHARE * rate
                    longest = MAX_SEEK_FOLD_S * rate
                    interval = max(MIN_INTERVAL, int(min(cheap, longest, self.total)))
                    # Memory wins over seek time: a model that keeps growing (a deep
                    # queue) makes checkpoints rarer rather than memory run out.
                    interval = max(interval, len(blob) // CHECKPOINT_BYTES_PER_EVENT)
        self.drained = outcome.state is RunState.FINISHED
        model.finish(drained=self.drained)
        self.final_anomalies = list(model.anomalies)
        return model

    def _fold(self, model: RunModel, stop: int, outcome: Outcome | None = None) -> None:
        """Fold events ``self.position`` .. ``stop`` into ``model`` (and ``outcome``)."""
        for batch in self.recorded.batches(FOLD_BATCH, self.position, stop):
            model.apply(batch)
            if outcome is not None:
                outcome.see(batch.events)
        self.position = stop

    def seek(self, position: int) -> RunModel:
        """The model after the first ``position`` events (clamped to the log).

        Returns ``self.model``, which is a new object when a checkpoint was
        restored: a view that kept the old one must be given the new one.
        The model at the end has had ``finish`` (end-of-run checks) applied.
        """
        position = max(0, min(int(position), self.total))
        if position == self.position:
            return self.model
        index = bisect_right(self._marks, position) - 1
        mark = self._marks[index]
        behind = position < self.position or self.model.finished
        if behind or mark - self.position > (self.checkpoint_every or MIN_INTERVAL):
            blob = self._blobs[index]
            self.model = self._new_model() if blob is None else _restore(blob)
            self.position = mark
        self._fold(self.model, position)
        if position == self.total:
            self.model.finish(drained=self.drained)
        return self.model

    def time_at(self, position: int) -> float:
        """Seconds from the first event to the last one folded at ``position``."""
        if position <= 0 or not self.total:
            return 0.0
        return (int(self._times[min(position, self.total) - 1]) - self.t0_ns) / 1e9

    def position_at(self, seconds: float) -> int:
        """The position showing every event up to ``seconds`` after the first one."""
        # round, not int: time_at's seconds come back a hair under the nanosecond they
        # were made from (0.3 * 1e9 is 299999999.99...), which would lose that event.
        target = self.t0_ns + round(seconds * 1e9)
        return int(np.searchsorted(self._times, target, side="right"))

    @property
    def duration(self) -> float:
        """Seconds from the first event to the last."""
        return self.time_at(self.total)


def fold_log(recorded: RecordedRun, *, window_s: float = 30.0) -> RunModel:
    """The model at the end of a loaded log, finished as the run was."""
    return Replay(recorded, window_s=window_s).build(checkpoints=False)


class StreamFold:
    """A log folded as it is read, keeping no event: for ``replay`` and ``export``.

    The header's settings are checked at once (:class:`LogError`), before a
    long log is read in vain.  Fold it all with :meth:`fold`; then
    :meth:`finish` gives the model at the end (finished as the run was: a run
    that ended FINISHED is checked for lost tasks) and the run the log tells.
    """

    def __init__(self, stream: LogStream, *, window_s: float = 30.0) -> None:
        self.stream = stream
        workload_of(stream.header)
        self.names = StreamNames(stream)
        self.outcome = Outcome()
        self.model = RunModel(thread_name=self.names, window_s=window_s)

    def _take(self, batch: Batch) -> None:
        self.outcome.see(batch.events)
        self.model.apply(batch)

    def fold(self) -> None:
        for batch in self.stream.batches():
            self._take(batch)

    def finish(self) -> tuple[RunModel, LoggedRun]:
        run = self.outcome.logged_run(self.stream.header)
        self.model.finish(drained=run.state is RunState.FINISHED)
        return self.model, run


def fold_stream(stream: LogStream, *, window_s: float = 30.0) -> tuple[RunModel, LoggedRun]:
    """Fold a whole log as it is read: the model at its end and the run it tells."""
    fold = StreamFold(stream, window_s=window_s)
    fold.fold()
    return fold.finish()


class StreamNames:
    """Thread names of a log being streamed: as far as it has been read, asked each time
    (an export names its tracks at the end, when the end line's table is in too)."""

    def __init__(self, stream: LogStream) -> None:
        self.stream = stream

    def __call__(self, ident: int) -> str:
        return self.stream.thread_names.get(ident) or f"thread-{ident}"

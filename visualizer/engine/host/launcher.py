"""Start runs in run processes: the interpreter to use, and a spare process kept ready.

Why a spare: a new interpreter needs 100-300 ms on this kind of machine to
start and import the engine, which would be most of the time from Start to the
first event on screen.  So :meth:`Launcher.prepare` starts the next process
ahead (the window calls it when it opens and shortly after each Start, once the
new run is under way rather than while it starts); it waits, imports done,
reading its stdin, and costs nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from visualizer.engine.host.process import EngineProcess, python_argv
from visualizer.engine.host.proxy import RemoteRun
from visualizer.engine.host.spec import RunSpec

WINDOW_NICE = 10
"""How much lower than the window a window's run process runs (``nice``).

On an idle machine it changes nothing: the run has a core, the window another.
When the CPU is short (other programs busy, or one core), the kernel would share
it evenly between the window's one thread and the run's busy ones, and the
window would stutter; a lower priority for the run keeps the window answering
and folding first, and the run takes the rest.  Measured on this 2-core machine
while other jobs used 60-70 % of it, global-lock 4+4 flat out: the window folded
40k events/s at the same priority, 93k at nice 10."""

CHECK_TIMEOUT_S = 30.0
MIN_VERSION = (3, 11)

_VERSION = (
    "import sys; v = sys.version_info; "
    "print('%d.%d.%d' % v[:3], 'free-threaded' if not getattr(sys, '_is_gil_enabled', "
    "lambda: True)() else ''); "
    f"sys.exit(0 if v >= {MIN_VERSION!r} else 3)"
)


def check_interpreter(python: str) -> str:
    """A short description ("Python 3.13.0") if ``python`` can run the engine, else ValueError.

    It must start, be new enough, and import the run host from this package
    (with only its standard library: the engine needs nothing else).
    """
    result = _try(python, [python, "-c", _VERSION])
    version = result.stdout.strip()
    if result.returncode == 3:
        wanted = ".".join(map(str, MIN_VERSION))
        raise ValueError(f"{python} is Python {version}; the engine needs {wanted} or newer")
    if result.returncode == 0:
        result = _try(python, python_argv(python, "import visualizer.engine.host.child"))
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise ValueError(f"{python} cannot run the engine: {lines[-1]}")
    return f"Python {version}".strip()


def _try(python: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)
    except OSError as exc:
        raise ValueError(f"{python}: cannot run it: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise ValueError(f"{python}: did not answer within {CHECK_TIMEOUT_S:g} s") from None


class Launcher:
    """Makes :class:`RemoteRun` objects, each in a fresh run process under :attr:`python`.

    ``spare`` keeps one process started ahead.  ``nice`` lowers the run
    processes' priority (see :data:`WINDOW_NICE`).  Spawn from one long-lived
    thread (see :mod:`.process` on PR_SET_PDEATHSIG), and :meth:`close` at the end.
    """

    def __init__(self, python: str | None = None, spare: bool = True, nice: int = 0) -> None:
        self._python = python or sys.executable
        self.spare = spare
        self.nice = nice
        self.strategies: tuple[str, ...] = ()  # added to every spec (see RunSpec.strategies)
        self._ready: EngineProcess | None = None
        self._closed = False

    @property
    def python(self) -> str:
        return self._python

    @python.setter
    def python(self, path: str | None) -> None:
        """Use another interpreter from the next run on (a waiting spare is dropped)."""
        path = path or sys.executable
        if path != self._python:
            self._python = path
            self._drop_spare()

    def launch(self, spec: RunSpec) -> RemoteRun:
        """A run of ``spec`` in its own process, not yet started.

        ``ValueError`` (one line) if the spec is refused or the interpreter
        cannot be started at all; later failures arrive as the run's exit report.
        """
        if self.strategies:
            spec = replace(spec, strategies=(*spec.strategies, *self.strategies))
        spec.check()
        process = self._ready
        self._ready = None
        if process is None or not process.alive():
            if process is not None:
                process.close(0.5)
            process = EngineProcess(self._python, self.nice)
        return RemoteRun(spec, process)

    def prepare(self) -> None:
        """Start a spare process now if none is waiting (call when the window opens)."""
        if self.spare and self._ready is None and not self._closed:
            try:
                self._ready = EngineProcess(self._python, self.nice)
            except ValueError:
                self._ready = None  # launch() will say why, when a run is asked for

    def ready(self) -> bool:
        """True when a spare process is started and waiting: the next run starts at once."""
        return self._ready is not None and self._ready.started() and self._ready.alive()

    def close(self) -> None:
        """End the spare process, if any, and start no more (each run is closed by its holder)."""
        self._closed = True
        self._drop_spare()

    def _drop_spare(self) -> None:
        process, self._ready = self._ready, None
        if process is not None:
            process.close(0.5)

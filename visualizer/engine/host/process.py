"""One run process seen from the window: start it, listen to it, end it, say how it ended.

:class:`EngineProcess` spawns ``python -m visualizer.engine.host`` (see
:mod:`.child`) under the interpreter it is given, with the source tree of this
package on ``PYTHONPATH``, so any CPython new enough for the core can run it
without PySide6, pyqtgraph or numpy installed.

One listener thread per process reads the control pipe and the child's stderr
(forwarding it, and keeping its tail for a crash report), passes every message
to the run that owns the process, enforces the kill deadline of a Stop, and
reaps the process once its control pipe closes.  Nothing here ever blocks the
window's thread for long: writes to the child are small and non-blocking, and
waiting for the child happens on the listener thread.

Linux detail worth knowing: the child asks for ``PR_SET_PDEATHSIG``, which fires
when the *thread* that spawned it ends, not the process.  So spawn from a thread
that outlives the run (the GUI thread, or the thread that waits for the run).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visualizer.engine.host.wire import FrameReader, decode, encode
from visualizer.queues import speedups

STDERR_TAIL = 65536
"""Bytes of the child's stderr kept for the report: a fatal error prints every thread's
stack, and the one that crashed comes first."""

EXCERPT_LINES = 30
"""Lines of that output the report shows, from the last fatal error or traceback on."""

DEADLINE_CHECK_S = 0.05
"""How often the listener looks at a Stop's kill deadline while the process is silent."""

REAP_S = 2.0
"""How long a child may take to exit once its control pipe has closed, before SIGKILL."""


_PACKAGE = Path(__file__).resolve().parents[2]  # the visualizer package itself
_INSTALLED = ("site-packages", "dist-packages")

ON_PATH = (
    "import sys; root = sys.argv.pop(1); first = sys.argv.pop(1) == 'first'; "
    "sys.path.insert(0, root) if first else sys.path.append(root); "
)
"""Code that puts this package on a child's path (its root and where come in argv).

From a checkout the checkout goes first, ahead of any other ``visualizer`` the
interpreter may have.  From an installed wheel the folder holding the package is
site-packages, full of packages built for the window's Python: it goes last, so
another interpreter keeps its own standard library and packages and finds only
``visualizer`` there.  ``-P`` keeps the working folder off the path (a student's
``random.py`` must not stand in for the standard library's)."""

HOST = (
    "import runpy; runpy.run_module('visualizer.engine.host', run_name='__main__', alter_sys=True)"
)


def source_root() -> str:
    """The folder holding the ``visualizer`` package (a checkout, or site-packages)."""
    return str(_PACKAGE.parent)


def python_argv(python: str, code: str, *args: str) -> list[str]:
    """``python`` running ``code`` with this package on its path (see :data:`ON_PATH`)."""
    where = "last" if _PACKAGE.parent.name in _INSTALLED else "first"
    return [python, "-P", "-c", ON_PATH + code, source_root(), where, *args]


@dataclass
class ExitReport:
    """How a run process ended when it was not simply closed: what the window says.

    ``last_events`` are read from ``events`` when asked: events the process sent
    before it died may still be on their way through the pipe when it is reaped.
    """

    how: str  # "crashed", "killed", "exited", "failed"
    summary: str  # one line
    returncode: int | None = None
    stderr_tail: str = ""
    events: Callable[[], list[str]] = field(default=list, repr=False)

    @property
    def last_events(self) -> list[str]:
        """The last events the window received from it, one readable line each."""
        return self.events()

    def details(self) -> str:
        """The summary, the last events the window received, and what it printed dying."""
        parts = [self.summary]
        if self.last_events:
            parts.append("Last events received:\n" + "\n".join(self.last_events))
        excerpt = self.error_excerpt()
        if excerpt:
            parts.append("Its error output:\n" + excerpt)
        return "\n\n".join(parts)

    def error_excerpt(self) -> str:
        """Its stderr from the last fatal error or traceback on, at most EXCERPT_LINES lines.

        Of a fatal error's stacks, the crashing thread's ("Current thread") comes first.
        """
        text = self.stderr_tail
        for marker in ("Fatal Python error", "Traceback (most recent call last)"):
            at = text.rfind(marker)
            if at >= 0:
                text = text[at:]
                break
        blocks = text.strip().split("\n\n")
        current = [b for b in blocks if b.startswith("Current thread")]
        ordered = blocks[:1] + current + [b for b in blocks[1:] if b not in current]
        lines = "\n\n".join(ordered).splitlines()
        if len(lines) > EXCERPT_LINES:
            lines = [*lines[:EXCERPT_LINES], f"... and {len(lines) - EXCERPT_LINES} more lines"]
        return "\n".join(lines)


def describe_exit(returncode: int) -> str:
    """'was killed by signal SIGABRT (6)' or 'exited with status 1'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {name} ({-returncode})"
    return f"exited with status {returncode}"


class EngineProcess:
    """A spawned run process and the window's ends of its pipes."""

    def __init__(self, python: str | None = None, nice: int = 0) -> None:
        self.python = python or sys.executable
        events_read, events_write = os.pipe()
        control_read, control_write = os.pipe()
        argv = python_argv(
            self.python,
            HOST,
            "--events-fd",
            str(events_write),
            "--control-fd",
            str(control_write),
            "--parent-pid",
            str(os.getpid()),
            "--nice",
            str(nice),
            *(("--blocks",) if speedups.decode_block is not None else ()),
        )
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(events_write, control_write),
            )
        except OSError as exc:
            os.close(events_read)
            os.close(control_read)
            raise ValueError(
                f"cannot start the engine interpreter {self.python}: {exc.strerror or exc}"
            ) from None
        finally:
            os.close(events_write)  # the child has its own copies; ours would hide its EOF
            os.close(control_write)
        self.pid = self.proc.pid
        self.events_fd = events_read
        os.set_blocking(events_read, False)
        self._control_fd = control_read
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self._stdin_fd = self.proc.stdin.fileno()
        os.set_blocking(self._stdin_fd, False)  # a hung child must never block the window
        self._stderr_fd = self.proc.stderr.fileno()
        self._write_lock = threading.Lock()
        self._stdin_open = True
        self.stderr_tail = b""
        self.kill_at: float | None = None  # monotonic deadline set by a Stop
        self.kill_reason = ""
        self.killed = False
        self.closing = False  # the window ended it on purpose (closed stdin)
        self.returncode: int | None = None
        self._listener: threading.Thread | None = None
        self._events_open = True

    # --- talking to it ---------------------------------------------------------------
    def send(self, message: Any) -> bool:
        """Write one message to the child's stdin; False if it cannot take it now.

        Messages are far below PIPE_BUF, so a non-blocking write takes all or
        nothing: a child that has stopped reading (hung) refuses it, and the
        window goes on.
        """
        data = encode(message)
        with self._write_lock:
            if not self._stdin_open:
                return False
            try:
                os.write(self._stdin_fd, data)
            except (BlockingIOError, BrokenPipeError, OSError):
                return False
        return True

    def listen(self, on_message: Callable[[Any], None], on_exit: Callable[[int], None]) -> None:
        """Start the listener thread: messages to ``on_message``, the exit status to ``on_exit``."""
        self._listener = threading.Thread(
            target=self._listen, args=(on_message, on_exit), name=f"engine-{self.pid}", daemon=True
        )
        self._listener.start()

    def take_events(self) -> int:
        """Hand the events pipe's read end to its one reader, who closes it when done."""
        self._events_open = False
        return self.events_fd

    def started(self) -> bool:
        """True once it has said hello (imports done), without taking the message."""
        if self._listener is not None:
            return True
        readable, _, _ = select.select([self._control_fd], [], [], 0)
        return bool(readable)

    def alive(self) -> bool:
        return self.returncode is None and self.proc.poll() is None

    # --- ending it ----------------------------------------------------------------------
    def kill(self, reason: str) -> None:
        """SIGKILL now; ``reason`` is what the window will say happened."""
        if not self.killed and self.returncode is None:
            self.kill_reason = reason
            self.killed = True
            with contextlib.suppress(OSError):  # it has just exited by itself
                self.proc.kill()

    def kill_after(self, seconds: float, reason: str) -> None:
        """Arm the deadline of a Stop: killed unless :meth:`disarm` comes first."""
        self.kill_reason = reason
        self.kill_at = time.monotonic() + seconds

    def disarm(self) -> None:
        self.kill_at = None

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        """End the process: close its stdin (it stops its run and exits), kill it if it lingers.

        With ``wait``, returns once the process has been reaped;
        without, the listener thread reaps it (and kills it after ``timeout``).
        """
        self.closing = True
        with self._write_lock:
            if self._stdin_open:
                self._stdin_open = False
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()  # type: ignore[union-attr]
            if self._events_open:  # nobody took the events pipe (a spare)
                self._events_open = False
                os.close(self.events_fd)
        if self._listener is None:  # a spare nobody used: no listener owns the rest
            self._reap(timeout)
            os.close(self._control_fd)
            self.proc.stderr.close()  # type: ignore[union-attr]
            return
        if self.kill_at is None:
            self.kill_after(
                timeout, f"did not exit within {timeout:g} s of being closed and was killed"
            )
        if wait:
            self._listener.join(timeout + REAP_S)

    # --- the listener thread -------------------------------------------------------------
    def _listen(self, on_message: Callable[[Any], None], on_exit: Callable[[int], None]) -> None:
        control = FrameReader(self._control_fd)
        watched = [self._control_fd, self._stderr_fd]
        while self._control_fd in watched:
            ready, _, _ = select.select(watched, [], [], DEADLINE_CHECK_S)
            if self.kill_at is not None and time.monotonic() >= self.kill_at:
                self.kill_at = None
                self.kill(self.kill_reason)
            if self._stderr_fd in ready and not self._read_stderr():
                watched.remove(self._stderr_fd)
            if self._control_fd in ready:
                open_ = control.fill()
                while (frame := control.next_frame()) is not None:
                    on_message(decode(frame[0]))
                if not open_:
                    watched.remove(self._control_fd)
        os.close(self._control_fd)
        self._reap(REAP_S)
        while self._read_stderr():
            pass
        self.proc.stderr.close()  # type: ignore[union-attr]
        on_exit(self.returncode if self.returncode is not None else -signal.SIGKILL)

    def _read_stderr(self) -> bool:
        try:
            chunk = os.read(self._stderr_fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        self.stderr_tail = (self.stderr_tail + chunk)[-STDERR_TAIL:]
        with contextlib.suppress(OSError, ValueError):  # our stderr is gone: the tail is kept
            sys.stderr.write(chunk.decode("utf-8", "replace"))
        return True

    def _reap(self, timeout: float) -> None:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill("did not exit after closing its pipes and was killed")
            self.returncode = self.proc.wait()
        with self._write_lock:
            if self._stdin_open:
                self._stdin_open = False
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()  # type: ignore[union-attr]

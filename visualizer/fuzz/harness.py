"""Run mutated logs through a target in a child process, with a time limit per case.

Why children: a case may crash the interpreter (a segfault in Qt) or hang, and
either must be counted, not take the fuzz down.  One child per target takes
case after case (a path per line on its stdin, a JSON result per line on its
stdout), so the interpreter and Qt start once, not thousands of times.  A child
that dies mid-case is a ``crash``; one that gives no answer within the limit is
a ``hang`` and is killed; either way a fresh child takes the next case.

The children are ``python -m visualizer fuzz --child replay|export`` (the
command line, in-process) and ``python -m visualizer.ui.fuzz_window`` (the
window, offscreen): this module only starts them, so it imports neither.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from time import monotonic
from typing import Any

OUTCOMES = ("accepted", "refused", "traceback", "crash", "hang", "other")
"""accepted: the log was taken (replayed, exported, opened); refused: one clear line (or,
in the window, one message); traceback: an exception escaped, or was reported as
unexpected; crash: the process died; hang: no answer in time; other: anything else
(several lines of error, an unexpected exit status)."""
CLEAN = ("accepted", "refused")

TARGETS = {
    "replay": [sys.executable, "-m", "visualizer", "fuzz", "--child", "replay"],
    "export": [sys.executable, "-m", "visualizer", "fuzz", "--child", "export"],
    "window": [sys.executable, "-m", "visualizer.ui.fuzz_window"],
}
TIMEOUTS = {"replay": 20.0, "export": 20.0, "window": 40.0}
"""Seconds a case may take (generous: the machine may be busy; a hang takes forever)."""


@dataclass(frozen=True)
class Result:
    outcome: str
    detail: str


def classify_command(command: str, status: int, err: str) -> Result:
    """The outcome of ``visualizer COMMAND LOG ...`` from its exit status and stderr."""
    lines = err.strip().splitlines()
    if "Traceback (most recent call last)" in err:
        return Result("traceback", lines[-1] if lines else "")
    if status == 2:
        if len(lines) == 1 and lines[0].startswith(f"visualizer {command}: error: "):
            return Result("refused", lines[0])
        return Result("other", f"status 2 with {len(lines)} lines: {err[:300]}")
    if status in (0, 1, 4):
        errors = [line for line in lines if ": error: " in line]
        if errors:
            return Result("other", f"status {status} but: {errors[0]}")
        return Result("accepted", f"status {status}")
    return Result("other", f"status {status}: {err[:300]}")


class Child:
    """One child process taking the cases of one target, restarted when it dies."""

    def __init__(
        self, target: str, timeout: float | None = None, stderr: str | None = None
    ) -> None:
        """``stderr``: a file that collects what the children print there (a crash's
        stack, from ``faulthandler``), or None to drop it."""
        self.target = target
        self.stderr = stderr
        self.argv = TARGETS[target]
        self.timeout = TIMEOUTS[target] if timeout is None else timeout
        self.process: subprocess.Popen[str] | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._submitted = 0.0
        self.restarts = 0

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QUEUE_VISUALIZER_NO_DIALOGS="1")
        env["PYTHONFAULTHANDLER"] = "1"  # a crash prints the Python stack to stderr
        with open(self.stderr or os.devnull, "a") as errors:  # the child keeps its own copy
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
                bufsize=1,
            )
        self._answers = queue.Queue()
        answers = self._answers

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                answers.put(line)
            answers.put(None)  # end of file: the child is gone

        threading.Thread(target=read, name=f"fuzz {self.target} reader", daemon=True).start()
        return process

    def run(self, path: str, extra: Mapping[str, object] | None = None) -> Result:
        """The outcome of one case (the child is restarted after a crash or a hang)."""
        failed = self.submit(path, extra)
        return failed if failed is not None else self.collect()

    def submit(self, path: str, extra: Mapping[str, object] | None = None) -> Result | None:
        """Hand the child a case; a Result only if it could not even take it."""
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        self._submitted = monotonic()
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"path": path, **(extra or {})}) + "\n")
            self.process.stdin.flush()
        except OSError:
            return self._died()
        return None

    def collect(self) -> Result:
        """The child's answer to the case :meth:`submit` gave it."""
        left = max(0.0, self.timeout - (monotonic() - self._submitted))
        try:
            answer = self._answers.get(timeout=left)
        except queue.Empty:
            self._kill()
            return Result("hang", f"no answer within {self.timeout:g} s")
        if answer is None:
            return self._died()
        try:
            found = json.loads(answer)
            return Result(str(found["outcome"]), str(found.get("detail", "")))
        except (ValueError, KeyError, TypeError):
            return Result("other", f"unreadable answer: {answer[:200]}")

    def _died(self) -> Result:
        process = self.process
        code = process.wait(10) if process is not None else None
        self.process = None
        self.restarts += 1
        return Result("crash", f"the child ended with status {code}")

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        self.restarts += 1

    def close(self) -> None:
        process = self.process
        self.process = None
        if process is None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(10)


def serve(answer: Callable[[dict[str, Any]], Result]) -> None:
    """A child's main loop: a JSON request per line on stdin, ``answer(request)`` per line out.

    ``answer`` returns a :class:`Result`.  The real stdout is kept for the answers;
    what the target prints goes wherever ``answer`` sends it.
    """
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        result = answer(request)
        out.write(json.dumps({"outcome": result.outcome, "detail": result.detail[:500]}) + "\n")
        out.flush()

"""Try a queue class once before running it: build it, add a task, get it back.

Bad input is then one line naming the file and the problem (a constructor
that raises, an ``add_task`` that raises, a get that hands back something that
is not the task), instead of a run full of errors.  The probe runs on a thread
of its own with plain (untraced) primitives and gives up after
:data:`PROBE_TIMEOUT_S`: a class that loops or blocks is named, not waited for.

:func:`probe_in_child` runs the same probe in a separate Python process
(``python -m visualizer.engine.userqueue``), so the window can check a file
without executing a line of it in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from types import FrameType
from typing import Any

from visualizer.engine.userqueue import build
from visualizer.engine.userqueue.api import QueueApi
from visualizer.engine.userqueue.ref import QueueRef, UserQueueError
from visualizer.queues import Tracer

PROBE_TIMEOUT_S = 2.0
GIVE_UP_S = 1.0
"""How long a probe that gave up waits for its thread to leave the class's code."""
CHILD_TIMEOUT_S = 15.0
"""A child probe: interpreter start-up and imports, plus the probe itself."""


def probe(ref: QueueRef, timeout: float = PROBE_TIMEOUT_S) -> QueueApi:
    """Build, add task 1, get it back (and complete it); :class:`UserQueueError` if not."""
    result: list[Any] = []
    stage = ["loading the file"]
    gave_up = threading.Event()

    def local(frame: FrameType, event: str, _arg: object) -> Any:
        if event == "line" and gave_up.is_set():
            raise _GaveUp
        return local

    def calls(frame: FrameType, event: str, _arg: object) -> Any:
        return local if frame.f_code.co_filename == ref.path else None

    def attempt() -> None:
        sys.settrace(calls)  # a loop in the class must end once the probe gives up
        try:
            queue = build(ref, Tracer())
            api = queue.api
            instance = queue.subject
            stage[0] = "add_task(1, 5, None)"
            if api.add_takes_payload:
                instance.add_task(1, 5, None)
            else:
                instance.add_task(1, 5)
            stage[0] = "get_next_task()"
            got = queue.get_next_task(timeout=0.5)
            if got is None:
                raise ref.problem(
                    "get_next_task() returned nothing right after add_task(1, 5, None)"
                )
            if got.task_id != 1:
                raise ref.problem(
                    f"get_next_task() returned {_short(got.task_id)}, not task 1 that was added: "
                    "return the id, a dict with 'id' or 'task_id', or an object with "
                    ".task_id or .id"
                )
            if "complete_task" in api.present:
                stage[0] = "complete_task(1)"
                instance.complete_task(1)
            result.append(api)
        except UserQueueError as exc:
            result.append(exc)
        except _GaveUp:
            pass
        except Exception as exc:
            result.append(ref.problem(f"{stage[0]} raised {type(exc).__name__}: {exc}"))
        finally:
            sys.settrace(None)

    thread = threading.Thread(target=attempt, name="probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if not result:
        gave_up.set()
        thread.join(GIVE_UP_S)
        raise ref.problem(f"{stage[0]} did not return within {timeout:g} s (it loops or blocks)")
    if isinstance(result[0], UserQueueError):
        raise result[0]
    return result[0]


class _GaveUp(BaseException):
    """Raised in the probe's thread at the next line of the class once the probe gave up."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def probe_in_child(
    ref: QueueRef, python: str | None = None, timeout: float = CHILD_TIMEOUT_S
) -> QueueApi:
    """:func:`probe` in a Python process of its own (a crash or a hang stays there)."""
    command = [python or sys.executable, "-m", "visualizer.engine.userqueue", ref.text()]
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise ref.problem(f"checking it took over {timeout:g} s") from None
    except OSError as exc:
        raise ref.problem(f"cannot start a Python to check it: {exc}") from None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"status {done.returncode}"
        raise ref.problem(f"checking it ended the Python process ({how})") from None
    if "error" in answer:
        raise UserQueueError(answer["error"])
    return QueueApi.from_data(answer["api"])


def main(argv: list[str]) -> int:
    """One JSON line: ``{"api": ...}`` (status 0) or ``{"error": "..."}`` (status 2)."""
    try:
        if len(argv) != 1:
            raise UserQueueError("usage: python -m visualizer.engine.userqueue PATH.py:ClassName")
        api = probe(QueueRef.parse(argv[0]))
    except UserQueueError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 2
    print(json.dumps({"api": api.to_data()}), flush=True)
    return 0

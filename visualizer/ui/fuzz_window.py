"""The window's side of the fuzz: open each log it is given, offscreen, as File > Open does.

Run as ``python -m visualizer.ui.fuzz_window`` by :mod:`visualizer.fuzz.harness`,
which sends a path per line and reads a result per line.  One window takes every
case in turn (logs opened one after another crashed it once).  For each case it
opens the log in the background, waits for the replay bar, moves the scrubber
to the end, the start, the middle and a few places between, refreshes every
view and paints the whole window at two of them, plays a moment, then closes
the replay.  An exception anywhere (a slot, a paint handler, the loading
thread) is a ``traceback``; the dialog a bad file gets is a ``refused``, unless
it reports an unexpected exception.
"""

from __future__ import annotations

import faulthandler
import sys
import threading
import time
from types import TracebackType
from typing import Any

from PySide6.QtWidgets import QApplication

from visualizer.engine import Workload
from visualizer.fuzz import Result
from visualizer.fuzz.harness import serve
from visualizer.ui.main_window import MainWindow

PLAY_S = 0.1


class WindowCase:
    """The window and what goes wrong in it, case after case."""

    def __init__(self, window: MainWindow | None = None) -> None:
        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        self.window = window if window is not None else MainWindow(Workload())
        self.window.resize(1280, 800)
        self.window.show()
        self.problems: list[str] = []
        self.warnings: list[tuple[str, str]] = []
        self._hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook
        self.window.file_actions._warn = self._warn  # type: ignore[method-assign]

    def restore(self) -> None:
        """Give the exception hooks back (a test runs more than this)."""
        sys.excepthook, threading.excepthook = self._hooks

    def _excepthook(
        self, kind: type[BaseException], exc: BaseException, _tb: TracebackType | None
    ) -> None:
        self.problems.append(f"{kind.__name__}: {exc}")

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        self.problems.append(f"{args.exc_type.__name__} in a thread: {args.exc_value}")

    def _warn(self, title: str, text: str) -> None:
        self.warnings.append((title, text))

    def _settle(self) -> None:
        """Let queued signals and timers run."""
        for _ in range(3):
            self.app.processEvents()

    def _paint(self, whole: bool) -> None:
        window = self.window
        window._shown_version = -1
        window._next_frame = 0.0
        window._frame()
        if whole:
            window.grab()  # every visible widget's paintEvent, as on screen

    def answer(self, request: dict[str, Any]) -> Result:
        self.problems.clear()
        self.warnings.clear()
        actions = self.window.file_actions
        task = actions.open_recording(str(request["path"]))
        if task is None:
            return Result("other", "the window was busy and did not open the log")
        while actions.task is not None:
            task.worker.join(0.005)
            self.app.processEvents()
        self._settle()
        bar = actions.replay_bar
        opened = bar is not None and bar.is_open
        if bar is not None and opened:
            total = bar.replay.total
            for step, position in enumerate((total, 0, total // 2, total - 1, total // 3, 1)):
                bar.seek(position)
                self._paint(whole=step in (0, 2))
            bar.set_playing(True)
            ends = time.monotonic() + PLAY_S
            while time.monotonic() < ends:
                self.app.processEvents()
                time.sleep(0.01)
            bar.set_playing(False)
            actions.close_replay()
            self._paint(whole=False)
        self._settle()
        return self._result(opened)

    def _result(self, opened: bool) -> Result:
        if self.problems:
            return Result("traceback", self.problems[0])
        unexpected = [text for _title, text in self.warnings if "unexpected " in text]
        if unexpected:
            return Result("traceback", unexpected[0].replace("\n", " "))
        if opened:
            return Result("accepted", "opened")
        refusals = [text for title, text in self.warnings if title == "Opening recording"]
        if len(refusals) == 1:
            return Result("refused", refusals[0].replace("\n", " "))
        return Result("other", f"neither opened nor refused once: {self.warnings!r}"[:300])


def main() -> int:
    faulthandler.enable()  # a crash prints the Python stack (the harness keeps stderr)
    case = WindowCase()
    serve(case.answer)
    case.window.close()
    case.restore()
    return 0


if __name__ == "__main__":
    sys.exit(main())

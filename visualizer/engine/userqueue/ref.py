"""A user's queue named as plain data: ``PATH.py:ClassName``.

A reference, not a loaded class, so it can cross a pipe to a run process, sit in
a workload, a recording header or the window's recent list, and be loaded only
where the run is built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


class UserQueueError(ValueError):
    """A queue file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class QueueRef:
    path: str  # absolute
    class_name: str

    @classmethod
    def parse(cls, text: str) -> QueueRef:
        """Read ``PATH.py:ClassName`` (the last colon splits, so ``C:\\q.py:Q`` works)."""
        path, colon, name = text.strip().rpartition(":")
        if not colon or not path or not name:
            raise UserQueueError(f"{text!r}: give the file and the class as PATH.py:ClassName")
        if not name.isidentifier():
            raise UserQueueError(f"{path}: {name!r} is not a class name")
        return cls(os.path.abspath(os.path.expanduser(path)), name)

    def text(self) -> str:
        return f"{self.path}:{self.class_name}"

    @property
    def file_name(self) -> str:
        return os.path.basename(self.path)

    @property
    def label(self) -> str:
        """How a status bar or a table names it: ``BoundedQueue (homework.py)``."""
        return f"{self.class_name} ({self.file_name})"

    def problem(self, what: str) -> UserQueueError:
        """The one-line error about this file."""
        return UserQueueError(f"{self.path}: {what}")

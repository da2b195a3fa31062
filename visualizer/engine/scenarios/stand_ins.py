"""Stand-ins for the world outside a scenario: what its threads talk to, not what it teaches.

Kept out of the scenario files on purpose: the code panel shows the lesson, and
the controlled scheduler treats code outside the lesson as one step, as it
would a call into a real database's client library.
"""

from __future__ import annotations

import threading


class TooManyConnections(Exception):
    """The database refused a connection."""


class Database:
    """A server with a connection limit; its own bookkeeping is locked (untraced)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._guard = threading.Lock()

    def connect(self) -> None:
        with self._guard:
            if self.open >= self.limit:
                raise TooManyConnections(
                    f"connection {self.open + 1} refused: the database allows at most "
                    f"{self.limit} at once, and {self.open} are open"
                )
            self.open += 1

    def disconnect(self) -> None:
        with self._guard:
            self.open -= 1

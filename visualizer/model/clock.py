"""Run time: the clock every view draws against, stopped while the run stands paused.

Events carry ``time.perf_counter_ns()`` stamps, wall time.  A lecturer who
pauses for a minute and then steps a few times would otherwise see a minute
pass on every axis, and an anomaly found at the third step stamped at 60 s.
The run marks its own pauses in the stream (``MARK "paused"``, ``"resumed"``,
``"step"``), so the model can fold wall time into run time as it goes:

* from ``paused`` to ``resumed`` the clock stands still; events stamped in
  between (a thread finishing the work it was doing) land on the paused instant;
* a ``step`` lets the clock run while the stepped thread moves, until it parks
  again (or blocks, or ends): run time grows by what the step really took.

Replaying a recording folds the same marks, so a replay shows the same times.
"""

from __future__ import annotations

from visualizer.events import PAUSED_MARK, RESUMED_MARK, STEP_MARK

RUNNING = 1 << 62
"""``frozen_at`` while the clock runs: later than any stamp."""

ANY_THREAD = -1
"""A step that did not say which thread it let through: the first to park ends it."""


class RunClock:
    """Maps wall-clock stamps to run time: ``run = wall - offset``, frozen while paused."""

    __slots__ = ("frozen_at", "offset", "stepping")

    def __init__(self) -> None:
        self.offset = 0  # wall time the run stood paused, before the current freeze
        self.frozen_at = RUNNING  # wall stamp the clock stopped at
        self.stepping: int | None = None  # the thread a step let through, while it moves

    def to_run(self, wall_ns: int) -> int:
        """``wall_ns`` as run time (a stamp after the clock stopped reads as the stop)."""
        frozen_at = self.frozen_at
        return (wall_ns if wall_ns < frozen_at else frozen_at) - self.offset

    @property
    def frozen(self) -> bool:
        return self.frozen_at != RUNNING

    def mark(self, wall_ns: int, text: object, ident: object) -> None:
        """Fold one of the run's clock marks (others are ignored)."""
        if text == PAUSED_MARK:
            self.stepping = None
            if not self.frozen:
                self.frozen_at = wall_ns
        elif text == RESUMED_MARK:
            self.stepping = None
            self._run_from(wall_ns)
        elif text == STEP_MARK and (self.frozen or self.stepping is not None):
            self._run_from(wall_ns)
            self.stepping = ident if isinstance(ident, int) else ANY_THREAD

    def parked(self, wall_ns: int, ident: int) -> None:
        """A thread parked, blocked or ended: if a step let it through, the step is over."""
        stepping = self.stepping
        if stepping is not None and stepping in (ident, ANY_THREAD):
            self.stepping = None
            self.frozen_at = max(wall_ns, 0)

    def _run_from(self, wall_ns: int) -> None:
        if self.frozen:
            self.offset += max(0, wall_ns - self.frozen_at)
            self.frozen_at = RUNNING

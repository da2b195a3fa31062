"""A schedule: which thread moved at each step, as data and as a short text.

The text is what a student copies into a chat or a file and a lecturer passes
back to ``run --schedule``::

    instruction/gil: clerk-1*4 clerk-2*3 clerk-1

The head names the granularity and the switch model (see ``tracing.py``); the
body names the thread that moves at each step, ``name*n`` for ``n`` steps in a
row.  After the last step the run goes on in the default order (the last mover
keeps going while it can, then the first thread in order that can), so a
schedule only has to say where it departs from that.  Lines starting with ``#``
are comments; steps may wrap over several lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from visualizer.engine.scheduler.tracing import GRANULARITIES, MODELS

MAX_STEPS_IN_TEXT = 1_000_000
"""More steps than a text may ask for (a typo like ``*99999999`` gets one line, not a hang)."""

_NAME = re.compile(r"[A-Za-z_][\w.\-]*\Z")


class ScheduleError(ValueError):
    """A schedule text that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Schedule:
    granularity: str
    model: str
    steps: tuple[str, ...]

    def text(self) -> str:
        """The schedule as one short line (run-length encoded)."""
        parts = []
        for name, group in groupby(self.steps):
            count = sum(1 for _ in group)
            parts.append(name if count == 1 else f"{name}*{count}")
        body = " ".join(parts) if parts else "(default order)"
        return f"{self.granularity}/{self.model}: {body}"

    def __len__(self) -> int:
        return len(self.steps)

    @classmethod
    def parse(cls, text: str, default_model: str = "gil") -> Schedule:
        """Read a schedule text; :class:`ScheduleError` names what is wrong."""
        lines = [line.split("#", 1)[0] for line in text.splitlines()]
        joined = " ".join(line.strip() for line in lines if line.strip())
        head, colon, body = joined.partition(":")
        if not colon:
            raise ScheduleError(
                "a schedule starts with its granularity, "
                "e.g. 'instruction/gil: worker-1*3 worker-2'"
            )

        granularity, _, model = head.strip().partition("/")
        granularity = granularity.strip()
        model = model.strip() or default_model
        if granularity not in GRANULARITIES:
            raise ScheduleError(
                f"granularity '{granularity}': must be one of {', '.join(GRANULARITIES)}"
            )
        if model not in MODELS:
            raise ScheduleError(f"model '{model}': must be one of {', '.join(MODELS)}")
        steps: list[str] = []
        body = body.strip()
        if body == "(default order)":
            body = ""
        for number, token in enumerate(body.split(), 1):
            name, star, count_text = token.partition("*")
            if not _NAME.match(name):
                raise ScheduleError(f"part {number} '{token}': '{name}' is not a thread name")
            count = 1
            if star:
                if not count_text.isdigit() or int(count_text) < 1:
                    raise ScheduleError(
                        f"part {number} '{token}': the count after '*' must be a whole number >= 1"
                    )
                count = int(count_text)
            if len(steps) + count > MAX_STEPS_IN_TEXT:
                raise ScheduleError(f"part {number} '{token}': more than {MAX_STEPS_IN_TEXT} steps")
            steps.extend([name] * count)
        return cls(granularity, model, tuple(steps))

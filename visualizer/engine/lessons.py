"""Each strategy's lesson workload: the settings that show what it is about within seconds.

One workload cannot teach eight strategies: a light load never makes a lock
wait, and with no status readers a read-write lock is a plain lock.  So the
window starts each strategy with the workload that makes its point, and keeps
running until it is stopped; every value stays editable in the control panel.
The command line keeps the plain :class:`~visualizer.engine.Workload` defaults:
its runs are measurements, and they end.

What each lesson shows, in one sentence, is :data:`LESSON_TEXTS`.
"""

from __future__ import annotations

from visualizer.engine.workload import Workload

_BUSY = {  # a heap of a few thousand tasks, read by status pages, under a fast GIL
    "producers": 2,
    "workers": 4,
    "tasks": 0,
    "rate": 0.0,
    "backlog": 3000,
    "work_time": 0.01,
    "readers": 3,
    "switch_interval": 0.001,
    "priority_spread": 50,
}

_IDLE = {  # a trickle of work: workers wait for it most of the time
    "producers": 2,
    "workers": 4,
    "tasks": 0,
    "rate": 3.0,
    "work_time": 0.08,
    "priority_spread": 10,
}

LESSONS: dict[str, dict[str, object]] = {
    "unsafe": {
        "producers": 2,
        "workers": 4,
        "tasks": 0,
        "rate": 40.0,
        "work_time": 0.02,
        "race_window": 0.002,
        "backlog": 200,
    },
    "global-lock": dict(_BUSY),
    "rlock": {**_BUSY, "readers": 1, "cancel_probability": 0.3},
    "rwlock": dict(_BUSY),
    "rwlock-writers": dict(_BUSY),
    "condition": dict(_IDLE),
    "priority-queue": dict(_IDLE),
    "complete": {
        "producers": 2,
        "workers": 4,
        "tasks": 0,
        "rate": 10.0,
        "burst": 20,
        "work_time": 0.05,
        "priority_spread": 20,
        "cancel_probability": 0.3,
    },
}

LESSON_TEXTS: dict[str, str] = {
    "unsafe": "Within seconds the same task goes to two workers and adds are lost: "
    "watch the banner and the anomalies.",
    "global-lock": "Three status readers copy a heap of 3000 tasks under the one lock: "
    "everyone else queues behind them (the Waiting column, the red waits).",
    "rlock": "Completing and cancelling re-enter the lock they hold: the holder shows "
    "\u00d72, and the lock counts its re-entries.",
    "rwlock": "Three readers overlap in the lock; the producers and workers, who write, "
    "wait for a gap that never comes.",
    "rwlock-writers": "A waiting writer holds back new readers: they queue behind it, "
    "and the writers get through.",
    "condition": "Idle workers sleep on the condition and use no CPU; a new task wakes "
    "exactly one of them.",
    "priority-queue": "The standard library's queue: its own mutex and not_empty "
    "condition, traced, beside the table lock.",
    "complete": "Producers cancel queued tasks; Stop calls shutdown(), whose notify_all "
    "wakes every sleeping worker at once.",
}


def lesson_workload(strategy: str, base: Workload | None = None) -> Workload:
    """``base`` (the defaults) with ``strategy``'s lesson settings on top."""
    base = base if base is not None else Workload()
    return base.replace(strategy=strategy, **LESSONS.get(strategy, {}))

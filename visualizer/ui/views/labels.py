"""Small text and colour helpers every view uses, so units and names read the same everywhere."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtGui import QColor

from visualizer.model import RunModel
from visualizer.ui.theme import thread_color


def format_duration(ns: float) -> str:
    """A duration with a unit a reader can take in at a glance: ns, µs, ms or s."""
    if ns < 1_000:
        return f"{ns:.0f} ns"
    for unit, scale in (("µs", 1e3), ("ms", 1e6)):
        value = ns / scale
        if value < 1_000:
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{ns / 1e9:.2f} s"


def format_seconds(t_ns: int, t0_ns: int | None) -> str:
    """A time stamp as seconds since the run's first event (the axes use the same origin)."""
    return f"{(t_ns - (t0_ns or t_ns)) / 1e9:.3f} s"


def short_name(name: str) -> str:
    """``worker-3`` -> ``W3``, ``producer-1`` -> ``P1``: fits inside a graph node."""
    head, _, number = name.rpartition("-")
    if head and number.isdigit():
        return f"{head[:1].upper()}{number}"
    return name[:3]


def thread_colors(model: RunModel | None) -> tuple[dict[int, QColor], dict[str, QColor]]:
    """Each known thread's colour, by ident and by name (violations name threads)."""
    by_ident: dict[int, QColor] = {}
    by_name: dict[str, QColor] = {}
    if model is not None:
        for ident, info in model.threads.items():
            color = thread_color(info.color_index)
            by_ident[ident] = color
            by_name[info.name] = color
    return by_ident, by_name


def thread_label(model: RunModel | None, ident: int) -> str:
    """A thread's name as the run announced it."""
    if model is not None:
        info = model.threads.get(ident)
        if info is not None:
            return info.name
    return f"thread-{ident}"


def task_from_label(model: RunModel | None, label: str) -> Hashable | None:
    """The task id a timeline segment's text label stands for (labels are ``str(task)``)."""
    if model is None:
        return None
    status = model.tasks.status
    if label in status:
        return label
    try:
        number = int(label)
    except ValueError:
        return None
    return number if number in status else None

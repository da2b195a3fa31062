"""Types of the optional C extension (visualizer/recording/_speedups.c)."""

from typing import Any

def convert(
    rows: list[Any],
    events: list[tuple],
    started: dict[int, str],
    cache: dict[Any, Any],
    kinds: dict[str, int],
    thread_started: int,
    last_seq: int,
    /,
) -> tuple[int, int, bytes]: ...

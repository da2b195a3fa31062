"""Types of the optional C extension (visualizer/recording/_speedups.c)."""

from typing import Any

def convert(
    rows: list[Any],
    start: int,
    events: list[tuple],
    started: dict[int, str],
    cache: dict[Any, Any],
    kinds: dict[str, int],
    thread_started: int,
    last_seq: int,
    rules: dict[str, int],
    threads: set[int],
    locks: set[str],
    max_text: int,
    max_threads: int,
    max_locks: int,
    /,
) -> tuple[int, int, bytes]: ...

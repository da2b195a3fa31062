"""Types of the optional C extension (visualizer/recording/_speedups.c)."""

from typing import Any

class Encoder:
    """A block of checked events in the compact form :func:`decode` reads."""

    def __init__(self) -> None: ...
    def __len__(self) -> int: ...
    def append(self, event: tuple, seq: int, /) -> None: ...
    def finish(self) -> tuple[bytes, bytes, int, int, int]: ...

def convert(
    rows: list[Any],
    start: int,
    events: list[tuple] | Encoder,
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
def decode(block: bytes, /) -> tuple[list[tuple], bytes]: ...

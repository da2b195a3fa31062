"""``python -m visualizer bench``: measurements, one registered section each.

Importing this package registers the built-in sections; see ``core.py`` for how
to add one.
"""

from visualizer.bench import (  # noqa: F401  (register sections)
    depth,
    explore,
    gui,
    log_load,
    process,
    queues,
    recording,
    scheduler,
)
from visualizer.bench.core import (
    SECTIONS,
    BenchConfig,
    Section,
    Table,
    format_results,
    format_table,
    results_json,
    run_sections,
    section,
)

__all__ = [
    "SECTIONS",
    "BenchConfig",
    "Section",
    "Table",
    "format_results",
    "format_table",
    "results_json",
    "run_sections",
    "section",
]

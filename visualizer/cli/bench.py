"""``python -m visualizer bench``: the registered measurement sections, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys

from visualizer.bench import BenchConfig, format_results, results_json, run_sections
from visualizer.cli.common import EXIT_OK, EXIT_USAGE, usage_error
from visualizer.engine.userqueue import QueueRef, UserQueueError
from visualizer.engine.userqueue.probe import probe
from visualizer.queues import STRATEGIES


def bench_command(args: argparse.Namespace) -> int:
    """Run the chosen sections (all by default) for the chosen strategies and print them."""
    strategies = tuple(args.strategies or ([] if args.queue else STRATEGIES))
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown:
        choices = ", ".join(STRATEGIES)
        return usage_error("bench", f"--strategy: unknown {unknown[0]!r} (choose from: {choices})")
    try:
        queues = tuple(QueueRef.parse(text).text() for text in args.queue or ())
        for text in queues:
            probe(QueueRef.parse(text))
    except UserQueueError as exc:
        print(f"visualizer bench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    strategies += queues
    config = BenchConfig(quick=args.quick, strategies=strategies)
    sections = args.section or None
    if args.json:
        print(json.dumps(results_json(run_sections(config, sections), config), indent=2))
    else:
        for text in format_results(run_sections(config, sections)):
            print(text, flush=True)
    return EXIT_OK

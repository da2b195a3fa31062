"""``python -m visualizer fuzz``: mutated real logs through replay, export and the window.

Prints, per target, how many cases were accepted, refused with one line, or
ended in a traceback, a crash, a hang or anything else; the last four are bugs,
listed with the case number and its mutations (``--seed S`` and the number
make the same file again; ``--save DIR`` keeps the files).  Exit status 1 if
there was any.

``--child replay|export`` is the child side (see :mod:`visualizer.fuzz.harness`):
it runs the command in-process for each case it is given.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from visualizer.cli.common import EXIT_OK, EXIT_VIOLATIONS, usage_error

TARGET_NAMES = ("replay", "export", "window")


def add_command(commands: Any) -> None:
    fuzz = commands.add_parser(
        "fuzz",
        help="feed mutated logs to replay, export and the window; count the outcomes",
        description="Record a few real runs, mutate them with a seeded mutator and open "
        "each mutated log with replay, export and the window (offscreen), each in a child "
        "process with a time limit per case. Prints how many were accepted, refused with "
        "one line, or ended in a traceback, crash, hang or anything else. Exit status 1 "
        "if any case did not end accepted or refused.",
    )
    fuzz.add_argument("--cases", type=int, default=5000, metavar="N", help="mutated logs")
    fuzz.add_argument("--seed", type=int, default=0, metavar="S", help="the mutator's seed")
    fuzz.add_argument(
        "--target",
        action="append",
        choices=TARGET_NAMES,
        dest="targets",
        help="only this target (repeatable; default: all three)",
    )
    fuzz.add_argument(
        "--timeout", type=float, metavar="S", help="seconds a case may take (default: per target)"
    )
    fuzz.add_argument(
        "--save",
        metavar="DIR",
        help="keep in DIR the seed logs, the cases that were not clean and what the children "
        "printed on stderr (a crash's stack)",
    )
    fuzz.add_argument(
        "--seeds",
        metavar="DIR",
        help="mutate the logs in DIR (a --save folder's seeds/) instead of recording new ones: "
        "with the same --seed, the same cases again",
    )
    fuzz.add_argument("--child", choices=("replay", "export"), help=argparse.SUPPRESS)


def fuzz_command(args: argparse.Namespace) -> int:
    from visualizer.fuzz import CLEAN, OUTCOMES, Child, Mutator
    from visualizer.fuzz.harness import serve
    from visualizer.fuzz.seeds import record_seed_logs

    if args.child:
        serve(command_answer(args.child))
        return EXIT_OK
    if args.cases < 1:
        return usage_error("fuzz", "--cases: must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        return usage_error("fuzz", "--timeout: must be more than 0")
    targets = list(dict.fromkeys(args.targets or TARGET_NAMES))
    save = Path(args.save) if args.save else None
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
    counts = {target: Counter[str]() for target in targets}
    bad: list[str] = []
    with tempfile.TemporaryDirectory(prefix="visualizer-fuzz-") as folder:
        if args.seeds:
            seeds = sorted(path for path in Path(args.seeds).iterdir() if path.is_file())
            if not seeds:
                return usage_error("fuzz", f"--seeds: no logs in {args.seeds}")
        else:
            print("recording the seed logs ...", file=sys.stderr, flush=True)
            seeds = record_seed_logs(Path(folder, "seeds"))
        if save is not None:
            (save / "seeds").mkdir(exist_ok=True)
            for path in seeds:
                (save / "seeds" / path.name).write_bytes(path.read_bytes())
        mutator = Mutator([path.read_bytes() for path in sorted(seeds)], args.seed)
        children = [
            Child(target, args.timeout, str(save / f"{target}.stderr") if save else None)
            for target in targets
        ]
        case = Path(folder, "case.jsonl")
        try:
            for index in range(args.cases):
                data, how = mutator.case(index)
                case.write_bytes(data)
                extra = {"truncated": index % 3 == 0}  # a third may load what a cut log holds
                early = {child.target: child.submit(str(case), extra) for child in children}
                for child in children:
                    result = early[child.target] or child.collect()
                    counts[child.target][result.outcome] += 1
                    if result.outcome not in CLEAN:
                        bad.append(
                            f"{child.target} case {index} ({how}): {result.outcome}: "
                            f"{result.detail}"
                        )
                        if save is not None:
                            (save / f"case-{index}.jsonl").write_bytes(data)
                if (index + 1) % 250 == 0:
                    print(f"{index + 1} cases ...", file=sys.stderr, flush=True)
        finally:
            for child in children:
                child.close()
    print(f"fuzz: {args.cases} mutated logs (seed {args.seed}) from {len(seeds)} recorded runs")
    print(f"{'target':<8}" + "".join(f"{outcome:>11}" for outcome in OUTCOMES))
    for target in targets:
        print(f"{target:<8}" + "".join(f"{counts[target][o]:>11}" for o in OUTCOMES))
    for line in bad[:50]:
        print(line)
    if len(bad) > 50:
        print(f"... and {len(bad) - 50} more")
    return EXIT_VIOLATIONS if bad else EXIT_OK


def command_answer(command: str) -> Any:
    """The child side for ``replay`` or ``export``: run it in-process on each case."""
    from visualizer.cli.dispatch import main
    from visualizer.fuzz import Result, classify_command

    scratch = Path(tempfile.mkdtemp(prefix=f"visualizer-fuzz-{command}-"))

    def answer(request: dict[str, Any]) -> Result:
        argv = [command, str(request["path"])]
        if request.get("truncated"):
            argv.append("--allow-truncated")
        if command == "export":
            argv += ["--chrome-trace", str(scratch / "trace.json")]
            argv += ["--anomalies-csv", str(scratch / "anomalies.csv")]
        out, err = io.StringIO(), io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                status = main(argv)
        except Exception as exc:  # what escaped main() is the bug being looked for
            return Result("traceback", f"{type(exc).__name__}: {str(exc)[:300]}")
        return classify_command(command, status, err.getvalue())

    return answer

"""Fuzzing the log reader, the model and the window with mutated real logs.

``python -m visualizer fuzz`` records a few real runs (:mod:`.seeds`), mutates
them case by case with a seeded mutator (:mod:`.mutate`) and feeds each case to
``replay``, ``export`` and the window, each in a child process with a time
limit (:mod:`.harness`), then counts the outcomes.  Every case must end
accepted or refused with one clear line: a traceback, a crash, a hang or
anything else is a bug, reported with the case's number and mutations so it
can be made again (``--seed`` and the case number give the same bytes).
"""

from visualizer.fuzz.harness import CLEAN, OUTCOMES, Child, Result, classify_command
from visualizer.fuzz.mutate import Mutator

__all__ = ["CLEAN", "OUTCOMES", "Child", "Mutator", "Result", "classify_command"]

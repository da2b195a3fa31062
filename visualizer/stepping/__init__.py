"""Controlled runs judged by the model: play a schedule, step and undo, search schedules.

This package sits beside ``compare``: it composes the engine's controlled
scheduler with the model's invariant checker, for the command line, the window
and the tests alike.
"""

from visualizer.stepping.play import MakeRun, Played, play

__all__ = ["MakeRun", "Played", "play"]

"""``python -m visualizer``: see :mod:`visualizer.cli`."""

import os
import sys

from visualizer.cli import main

try:
    status = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader went away (``... | head``): nothing left to say, and no traceback.
    # Point stdout at devnull so the interpreter's own flush at exit stays quiet.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    status = 1
raise SystemExit(status)

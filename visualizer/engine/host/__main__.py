"""``python -m visualizer.engine.host``: the run process (see :mod:`.child`)."""

import os
import sys

from visualizer.engine.host.child import main

status = main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)  # daemon run threads that would not stop must not hold up the exit

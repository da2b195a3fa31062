"""``python -m visualizer.engine.userqueue PATH.py:ClassName``: check a queue file (JSON)."""

import os
import sys

from visualizer.engine.userqueue.probe import main

status = main(sys.argv[1:])
sys.stdout.flush()
os._exit(status)  # a thread the queue left blocked must not keep this process alive

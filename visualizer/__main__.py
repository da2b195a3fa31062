"""``python -m visualizer``: see :mod:`visualizer.cli`."""

from visualizer.cli import main

raise SystemExit(main())

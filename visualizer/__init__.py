"""queue-visualizer: watch a priority task queue under different locking strategies."""

__version__ = "0.1.0"

"""Record a run to an event log and load it back (the format: :mod:`.schema`).

Qt-free, like everything below ``visualizer/ui``: the window, the command line
and the tests all record and load through this package.
"""

from visualizer.recording.reader import LogReader, RecordedRun, load_log
from visualizer.recording.schema import FORMAT_TAG, VERSION, LogCancelled, LogError
from visualizer.recording.writer import LogWriter

__all__ = [
    "FORMAT_TAG",
    "VERSION",
    "LogCancelled",
    "LogError",
    "LogReader",
    "LogWriter",
    "RecordedRun",
    "load_log",
]

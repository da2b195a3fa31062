"""PySide6 6.12.0 on CPython < 3.12 loses a reference to ``True`` on every
Python-side ``Signal.emit``; after a few thousand emits the interpreter dies with
"Fatal Python error: bool_dealloc".  pyproject excludes that release there.  This
test emits 100k signals from a worker thread in a fresh interpreter, so a bad
PySide6 shows up as a crashed child process rather than a crashed test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import sys, threading
    from PySide6.QtCore import QCoreApplication, QObject, Signal

    class Source(QObject):
        ping = Signal(int)

    app = QCoreApplication([])
    source = Source()
    before = sys.getrefcount(True)

    def emit_many():
        for i in range(100_000):
            source.ping.emit(i)

    worker = threading.Thread(target=emit_many)
    worker.start()
    worker.join()
    drift = before - sys.getrefcount(True)
    print("refcount drift of True:", drift)
    sys.exit(0 if abs(drift) < 1000 else 3)
    """
)


def test_many_signal_emits_from_a_thread_do_not_crash():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bool_dealloc" not in result.stderr

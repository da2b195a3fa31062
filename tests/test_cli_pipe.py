"""A closed pipe on stdout (``python -m visualizer ... | head``) ends quietly, for the
module and for the ``queue-visualizer-cli`` script (which calls the same ``main``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = "import sys; from visualizer.cli import main; sys.exit(main())"  # the entry point's


@pytest.mark.parametrize("how", [["-m", "visualizer"], ["-c", SCRIPT]], ids=["module", "script"])
def test_closed_stdout_pipe_gives_no_traceback(how):
    command = [sys.executable, *how, "scenarios"]

    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        # Hang up before the child has even imported its modules, as `head` does
        # once it has read enough: every write the child makes then fails.
        child.stdout.close()
        stderr = child.stderr.read().decode()
        child.wait(timeout=60)
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr

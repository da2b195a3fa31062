"""The one place that knows where non-code resources live.

Installed from a wheel, ``resources/`` ships as the package ``visualizer.resources``
(see setup.py).  Running from a checkout (or an editable install, whose import
hook only maps ``visualizer`` itself), it is the ``resources/`` folder beside the
package.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def resources_root() -> Path:
    try:
        root = Path(str(importlib.resources.files("visualizer.resources")))
    except ModuleNotFoundError:
        root = Path(__file__).resolve().parent.parent / "resources"
    return root


def resource(*parts: str) -> Path:
    """Path of a resource file, e.g. ``resource("scenarios", "lost-update.toml")``."""
    return resources_root().joinpath(*parts)

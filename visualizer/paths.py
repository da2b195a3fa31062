"""The one place that knows where non-code resources live.

Installed from a wheel, ``resources/`` ships as the package ``visualizer.resources``
(see ``[tool.setuptools]`` in pyproject.toml).  Running from a checkout (or an
editable install, whose import hook only maps ``visualizer`` itself), it is the
``resources/`` folder beside the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def resources_root() -> Path:
    """The folder itself.  ``visualizer.resources`` has no ``__init__.py`` (it is a plain
    folder in the checkout), so it installs as a namespace package, for which
    ``importlib.resources.files`` returns a ``MultiplexedPath`` whose ``str()`` is not a
    path; the import system's search location is."""
    spec = importlib.util.find_spec("visualizer.resources")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    """Path of a resource file, e.g. ``resource("scenarios", "lost-update.toml")``."""
    return resources_root().joinpath(*parts)

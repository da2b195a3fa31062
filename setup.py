"""Only what pyproject.toml cannot say: the optional C speedups.

``visualizer/queues/_speedups.c`` (tracing's hot paths) and
``visualizer/recording/_speedups.c`` (converting a loaded log's events).  Both are
``optional``: where there is no C compiler (or no Python headers) their build fails
with a warning, the package installs without them, and the pure Python paths run
instead (see visualizer/queues/speedups.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(name, sources=[source], optional=True)
        for name, source in (
            ("visualizer.queues._speedups", "visualizer/queues/_speedups.c"),
            ("visualizer.recording._speedups", "visualizer/recording/_speedups.c"),
        )
    ],
)

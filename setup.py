"""Only what pyproject.toml cannot say: the optional C speedups.

``visualizer/queues/_speedups.c`` (tracing's hot paths and the recorder's store)
and ``visualizer/recording/_speedups.c`` (converting a loaded log's events); both
include ``visualizer/_block.h``, the compact binary form of events.  Both are
``optional``: where there is no C compiler (or no Python headers) their build fails
with a warning, the package installs without them, and the pure Python paths run
instead (see visualizer/queues/speedups.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(name, sources=[source], depends=depends, optional=True)
        for name, source, depends in (
            (
                "visualizer.queues._speedups",
                "visualizer/queues/_speedups.c",
                ["visualizer/_block.h", "visualizer/queues/_store.h"],
            ),
            (
                "visualizer.recording._speedups",
                "visualizer/recording/_speedups.c",
                ["visualizer/_block.h"],
            ),
        )
    ],
)

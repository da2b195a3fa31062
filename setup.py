"""Only what pyproject.toml cannot say: the optional C speedups for tracing.

``visualizer/queues/_speedups.c`` is built as ``visualizer.queues._speedups``.  It is
``optional``: where there is no C compiler (or no Python headers) its build fails
with a warning, the package installs without it, and tracing runs its pure Python
fast paths instead (see visualizer/queues/speedups.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "visualizer.queues._speedups",
            sources=["visualizer/queues/_speedups.c"],
            optional=True,
        )
    ],
)

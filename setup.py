"""Only what pyproject.toml cannot say: ship the top-level resources/ folder inside
the wheel as the package ``visualizer.resources`` (found by visualizer.paths)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["visualizer", "visualizer.*"]) + ["visualizer.resources"],
    package_dir={"visualizer.resources": "resources"},
    package_data={"visualizer.resources": ["**/*"]},
)

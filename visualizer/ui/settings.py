"""What the window remembers between launches: its layout and the control panel's values.

Why ``QSettings``: it stores per user where the platform expects (an INI file
under ``~/.config`` on Linux) and needs no code of ours for the format.  Why an
environment variable on top: tests and the bench must never read or overwrite a
lecturer's real settings, and a child process (the installed-wheel test, the
bench's window runs) inherits the variable where a Qt call in the parent could
not reach.  Screenshot mode and ``--fresh`` use no settings at all, so README
images always show the default layout.

What is saved: the window's geometry, the outer window's dock state (controls,
scenario panel) and the inner view area's (heap, lanes, locks, throughput,
anomalies, code), the strategy and workload fields the control panel edits, and
the speed slider.  Fields the panel does not show (``duration``, ``capacity``)
are not saved: a one-off command-line value would otherwise stick with no way
to undo it in the window.
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QSettings, Slot

from visualizer.engine import Workload
from visualizer.engine.lessons import lesson_workload
from visualizer.ui import layouts

if TYPE_CHECKING:
    from visualizer.ui.main_window import MainWindow

ORGANIZATION = "queue-visualizer"
APPLICATION = "queue-visualizer"
SETTINGS_ENV = "QUEUE_VISUALIZER_SETTINGS"
"""Path of an INI file to use instead of the user's settings (tests, bench, demos)."""

PANEL_FIELDS = (
    "strategy",
    "producers",
    "workers",
    "tasks",
    "rate",
    "priority_spread",
    "work_time",
    "cancel_probability",
    "race_window",
    "switch_interval",
    "readers",
    "backlog",
    "burst",
    "seed",
)
"""The Workload fields the control panel edits: the ones worth remembering."""

_GEOMETRY, _STATE, _VIEWS = "window/geometry", "window/state", "window/views"
_WORKLOAD, _PACE = "controls/workload", "controls/pace"
ENGINE_PYTHON = "engine/python"
_WORKLOADS = "controls/workloads"  # every strategy's own workload, by strategy
_ZOOM, _PRESENTATION_ZOOM = "view/zoom", "view/presentationZoom"


def open_settings() -> QSettings:
    """The settings store: the file named by :data:`SETTINGS_ENV`, else the user's own."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def saved_workload(settings: QSettings, base: Workload) -> Workload:
    """``base`` with the panel fields saved last time; ``base`` itself if they do not validate.

    A settings file from an older version, or edited by hand, must never stop the
    window from opening: anything unknown or invalid falls back to the defaults.
    """
    text = settings.value(_WORKLOAD)
    try:
        saved = json.loads(text) if isinstance(text, str) else {}
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return base
    if not isinstance(saved, dict):
        return base
    changes = {key: value for key, value in saved.items() if key in PANEL_FIELDS}
    workload = base.replace(**changes)
    try:
        workload.validate()
    except (ValueError, TypeError):  # any type at all can come out of a hand-edited file
        return base
    return workload


def saved_workloads(settings: QSettings) -> dict[str, Workload]:
    """Each strategy's workload as the user left it (valid ones only), by strategy."""
    text = settings.value(_WORKLOADS)
    try:
        saved = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    if not isinstance(saved, dict):
        return {}
    workloads: dict[str, Workload] = {}
    for strategy, values in saved.items():
        if not isinstance(values, dict) or not isinstance(strategy, str):
            continue
        changes = {key: value for key, value in values.items() if key in PANEL_FIELDS}
        changes["strategy"] = strategy
        try:
            workload = lesson_workload(strategy).replace(**changes)
            workload.validate()
        except (ValueError, TypeError):
            continue
        workloads[strategy] = workload
    return workloads


def saved_pace(settings: QSettings) -> float | None:
    """The speed slider's last value (operations per second), None for full speed."""
    value = settings.value(_PACE)
    if not isinstance(value, str | int | float) or value in ("", "full"):
        return None
    try:
        pace = float(value)
    except ValueError:
        return None
    return pace if math.isfinite(pace) and pace > 0 else None


def saved_engine_python(settings: QSettings) -> tuple[str | None, str]:
    """The interpreter chosen in Run > Engine Interpreter (None: this one), and a note.

    A saved interpreter that no longer works (uninstalled, say) must not stop
    runs: the window falls back to its own Python and the note says why.
    """
    from visualizer.engine.host import check_interpreter

    path = settings.value(ENGINE_PYTHON)
    if not isinstance(path, str) or not path:
        return None, ""
    try:
        check_interpreter(path)
    except ValueError as exc:
        return None, f"Runs use this window's Python: the chosen engine interpreter fails ({exc})."
    return path, ""


def save_engine_python(settings: QSettings | None, path: str | None) -> None:
    """Remember the interpreter (None: the window's own) for the next launches."""
    if settings is None:
        return
    if path:
        settings.setValue(ENGINE_PYTHON, path)
    else:
        settings.remove(ENGINE_PYTHON)
    settings.sync()


def _number(value: object, default: float) -> float:
    """A saved zoom level, or ``default`` if it is not a sensible one."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if 0.5 <= number <= 3.0 else default


class WindowSettings(QObject):
    """Restores a window's layout and panel values at startup and saves them on close.

    It also owns the default arrangement: :meth:`capture_default` records the
    freshly built window's state before any saved layout replaces it, and
    :meth:`reset_layout` (View > Reset Layout) goes back to it.
    """

    def __init__(self, window: MainWindow, settings: QSettings | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self._default: tuple[QByteArray, QByteArray] | None = None

    def capture_default(self) -> None:
        """Remember the arrangement the window was built with (before restoring the user's)."""
        self._default = (self.window.saveState(), self.window.view_area.saveState())

    @Slot()
    def reset_layout(self) -> None:
        """Every dock back where a first launch puts it, visible, at its default size."""
        window = self.window
        scenario = window.scenarios.scenario is not None or window.presentation.active
        if self._default is not None:
            outer, inner = self._default
            window.restoreState(outer)
            if not scenario:
                window.view_area.restoreState(inner)  # the free workload's, as first built
        if scenario:
            window.arrange_docks()  # the arrangement for the mode the window is in
        else:
            window.size_docks()  # a state saved before the first show lacks the sizes
        self._match_scenario_mode()

    def restore(self) -> None:
        """Apply the saved geometry, dock layout and speed (the workload is applied earlier,
        through :func:`saved_workload`, so that command-line options can override it)."""
        settings = self.settings
        if settings is None:
            return
        window = self.window
        geometry, state, views = (settings.value(key) for key in (_GEOMETRY, _STATE, _VIEWS))
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
            layouts.fit_to_screen(window)  # saved on a bigger screen, perhaps
        if isinstance(state, QByteArray):
            window.restoreState(state)
        if isinstance(views, QByteArray):
            window.view_area.restoreState(views)
        self._match_scenario_mode()
        if settings.contains(_PACE):
            window.controls.set_pace(saved_pace(settings))
        zooms = window.presentation.zooms
        window.presentation.set_zooms(
            _number(settings.value(_ZOOM), zooms[False]),
            _number(settings.value(_PRESENTATION_ZOOM), zooms[True]),
        )

    def save(self) -> None:
        """Write the layout and the panel's current values (a refused value is not saved)."""
        settings = self.settings
        if settings is None:
            return
        window = self.window
        if window.presentation.active:  # the desk's layout is kept, not the projector's
            window.presentation.set_active(False)
        settings.setValue(_GEOMETRY, window.saveGeometry())
        settings.setValue(_STATE, window.saveState())
        settings.setValue(_VIEWS, window.view_area.saveState())
        settings.setValue(_ZOOM, window.presentation.zooms[False])
        settings.setValue(_PRESENTATION_ZOOM, window.presentation.zooms[True])
        workload = window.controls.workload()
        if workload is not None:
            values = {name: getattr(workload, name) for name in PANEL_FIELDS}
            settings.setValue(_WORKLOAD, json.dumps(values))
        every = {
            strategy: {name: getattr(w, name) for name in PANEL_FIELDS}
            for strategy, w in window.controls.workloads().items()
        }
        settings.setValue(_WORKLOADS, json.dumps(every))
        pace = window.controls.pace()
        settings.setValue(_PACE, "full" if pace is None else pace)
        settings.sync()

    def _match_scenario_mode(self) -> None:
        """A saved or default state may show the scenario panel while no scenario is chosen
        (or hide it while one is): the chosen scenario decides."""
        scenarios = self.window.scenarios
        scenarios.panel_dock.setVisible(scenarios.scenario is not None)

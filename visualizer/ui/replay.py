"""The replay bar: a timeline scrubber with play/pause, speed and single steps.

Every view shows the model the bar hands to its host (the main window), and the
model is always :class:`~visualizer.recording.replay.Replay`'s model at the
scrubber's position: the same fold a live run goes through, up to that event.
Moving forward folds just the events in between (the model object stays the
same and its ``version`` bumps, so the window's frame timer repaints the views);
moving back restores a checkpoint, which is a new model object, so the host is
handed it and every view is given it with ``set_model``.

Dragging the scrubber asks for many positions a second; a seek may take a few
hundred milliseconds on a long log, so positions are coalesced: the bar folds
to the latest one once the event loop is free, never to every one in between.
Playing folds at most :data:`MAX_TICK_EVENTS` per tick for the same reason: at
100x a flat-out run would otherwise ask for seconds of folding per frame.
"""

from __future__ import annotations

import os
from time import perf_counter
from typing import Protocol

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from visualizer.model import RunModel
from visualizer.recording.replay import Replay, title_of

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)
DEFAULT_SPEED = 1.0
PLAY_MS = 33
"""Playback tick: 30 frames a second is smooth enough for a scrubber."""
MAX_TICK_EVENTS = 20_000
"""Most events one playback tick folds (about 50 ms): fast speeds slow down, never freeze."""
WATCH_MS = 250
"""How often the bar checks that its host still shows the replay (a new run replaces it)."""


class ModelHost(Protocol):
    """What the bar needs from the window: show a model no run feeds, and say which it shows."""

    model: RunModel | None

    def show_model(self, model: RunModel | None, label: str = "") -> None: ...


class ReplayBar(QWidget):
    """Transport controls over one :class:`Replay`, shown under the views while it is open."""

    closed = Signal()
    """The replay ended: closed by the user, or replaced by a new run in the host."""
    position_changed = Signal(int)

    def __init__(
        self,
        replay: Replay,
        host: ModelHost,
        parent: QWidget | None = None,
        title: str | None = None,
    ) -> None:
        """``title`` names the run (a scenario's own title); by default, as the log does."""
        super().__init__(parent)
        self.setObjectName("replayBar")
        self.replay = replay
        self.host = host
        self.speed = DEFAULT_SPEED
        name = os.path.basename(replay.recorded.path)
        title = title or title_of(replay.recorded)
        self.label = f"Replay \u00b7 {title} \u00b7 {name}"
        self._pending: int | None = None
        self._clock = 0.0  # playback position in seconds since the first event
        self._last_tick = 0.0
        self.is_open = True

        icons = QStyle.StandardPixmap
        self.back_button = self._button(
            icons.SP_MediaSkipBackward, "Step back one event", self.step_back
        )
        self.play_button = self._button(
            icons.SP_MediaPlay, "Play / pause (from the start at the end)"
        )
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        self.forward_button = self._button(
            icons.SP_MediaSkipForward, "Step forward one event", self.step_forward
        )
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, replay.total)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(max(1, replay.total // 100))
        self.slider.setToolTip("The position in the log: every view shows the run up to here")
        self.slider.valueChanged.connect(self._slider_moved)
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}\u00d7", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        self.speed_box.setToolTip("Playback speed (1\u00d7: as fast as the run happened)")
        self.speed_box.currentIndexChanged.connect(self._speed_chosen)
        self.position_label = QLabel()
        self.position_label.setToolTip("Time since the first event, and events shown")
        self.position_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("0" * 44))
        self.close_button = self._button(
            icons.SP_DialogCloseButton, "Close the recording", self.close_replay
        )

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for widget in (self.back_button, self.play_button, self.forward_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.position_label)
        layout.addWidget(self.speed_box)
        layout.addWidget(self.close_button)

        self.seek_timer = QTimer(self)
        self.seek_timer.setSingleShot(True)
        self.seek_timer.setInterval(0)
        self.seek_timer.timeout.connect(self._seek_pending)
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_MS)
        self.play_timer.timeout.connect(self._tick)
        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(WATCH_MS)
        self.watch_timer.timeout.connect(self._watch)
        self.watch_timer.start()

        self.host.show_model(replay.model, self.label)
        self._show_position()

    def _button(self, icon: QStyle.StandardPixmap, tip: str, slot: object = None) -> QToolButton:
        """A tool button with one of the style's icons: every platform has them drawn."""
        button = QToolButton()
        button.setIcon(self.style().standardIcon(icon))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        if slot is not None:
            button.clicked.connect(slot)
        return button

    # --- moving ---------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.replay.position

    def seek(self, position: int) -> None:
        """Show the run after ``position`` events (clamped), in every view."""
        if not self.is_open:
            return
        self._pending = None
        before = self.replay.model
        model = self.replay.seek(position)
        if model is not before:
            self.host.show_model(model, self.label)
        self._show_position()

    @Slot()
    def step_back(self) -> None:
        self.set_playing(False)
        self.seek(self.position - 1)

    @Slot()
    def step_forward(self) -> None:
        self.set_playing(False)
        self.seek(self.position + 1)

    @Slot(int)
    def _slider_moved(self, value: int) -> None:
        """The user moved the scrubber: fold to it once the event loop is free."""
        if value == self.position:
            return
        self._pending = value
        self.seek_timer.start()

    @Slot()
    def _seek_pending(self) -> None:
        if self._pending is not None:
            self.seek(self._pending)

    def _show_position(self) -> None:
        replay = self.replay
        position = replay.position
        self.slider.blockSignals(True)
        self.slider.setValue(position)
        self.slider.blockSignals(False)
        self.position_label.setText(
            f"{replay.time_at(position):.3f} s / {replay.duration:.3f} s \u00b7 "
            f"event {position:,} / {replay.total:,}"
        )
        self.back_button.setEnabled(position > 0)
        self.forward_button.setEnabled(position < replay.total)
        self.position_changed.emit(position)

    # --- playing --------------------------------------------------------------------
    @Slot(bool)
    def set_playing(self, playing: bool) -> None:
        if playing and self.position >= self.replay.total:
            self.seek(0)  # play at the end starts over
        if self.play_button.isChecked() != playing:
            self.play_button.blockSignals(True)
            self.play_button.setChecked(playing)
            self.play_button.blockSignals(False)
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))
        if playing:
            self._clock = self.replay.time_at(self.position)
            self._last_tick = perf_counter()
            self.play_timer.start()
        else:
            self.play_timer.stop()

    @property
    def playing(self) -> bool:
        return self.play_timer.isActive()

    @Slot(int)
    def _speed_chosen(self, index: int) -> None:
        self.speed = float(self.speed_box.itemData(index))

    @Slot()
    def _tick(self) -> None:
        """Advance the clock by the real time elapsed times the speed; fold up to it."""
        now = perf_counter()
        self._clock += (now - self._last_tick) * self.speed
        self._last_tick = now
        target = self.replay.position_at(self._clock)
        if target - self.position > MAX_TICK_EVENTS:
            target = self.position + MAX_TICK_EVENTS
            self._clock = self.replay.time_at(target)  # fall behind rather than freeze
        if target > self.position:
            self.seek(target)
        if self.position >= self.replay.total:
            self.set_playing(False)

    # --- ending ---------------------------------------------------------------------
    @Slot()
    def _watch(self) -> None:
        """A new run (or another recording) took the views: this replay is over."""
        if self.host.model is not self.replay.model:
            self._end()

    @Slot()
    def close_replay(self) -> None:
        """Leave the replay: the views go back to empty."""
        if not self.is_open:
            return
        shown = self.host.model is self.replay.model
        self._end()
        if shown:
            self.host.show_model(None)

    def _end(self) -> None:
        self.is_open = False
        for timer in (self.seek_timer, self.play_timer, self.watch_timer):
            timer.stop()
        self.closed.emit()

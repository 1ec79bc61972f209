"""The pace control: how fast training goes, so a class can follow it.

A slider on a log scale from 1 step a second to as fast as the machine goes
(the rightmost position), labelled in plain words: epochs per second when an
epoch is a few steps (small data sets), steps per second otherwise.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

SLOWEST, FASTEST = 1.0, 3000.0      # steps/s at the two ends of the paced range
TICKS = 60                          # slider positions below "flat out"


def pace_of(position: int) -> float | None:
    """Steps per second at a slider position (None: flat out, the last position)."""
    if position >= TICKS:
        return None
    return SLOWEST * (FASTEST / SLOWEST) ** (position / TICKS)


def position_of(steps_per_second: float | None) -> int:
    if steps_per_second is None:
        return TICKS
    fraction = math.log(max(steps_per_second, SLOWEST) / SLOWEST) / math.log(FASTEST / SLOWEST)
    return max(0, min(TICKS - 1, round(fraction * TICKS)))


def pace_text(steps_per_second: float | None, steps_per_epoch: int | None) -> str:
    """"flat out", "2 epochs/s", "1 epoch every 4 s" or "30 steps/s"."""
    if steps_per_second is None:
        return "flat out"
    if steps_per_epoch and steps_per_epoch <= 200:
        epochs = steps_per_second / steps_per_epoch
        if epochs >= 0.95:
            return _per_second(epochs, "epoch")
        return f"1 epoch every {_number(1 / epochs)} s"
    return _per_second(steps_per_second, "step")


def _number(value: float) -> str:
    """Two significant digits below 10 (2.5, 0.4), whole numbers above (30, 300)."""
    return f"{value:.2g}" if value < 9.5 else f"{value:.0f}"


def _per_second(value: float, unit: str) -> str:
    """"1 epoch/s", "2.5 epochs/s"."""
    number = _number(value)
    return f"{number} {unit}/s" if number == "1" else f"{number} {unit}s/s"


class PaceControl(QWidget):
    """``paceSlider`` and its label; ``changed(steps_per_second or None)``."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._steps_per_epoch: int | None = None
        self._exact: float | None = None     # a pace given as a number, kept exactly
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("paceSlider")
        self.slider.setRange(0, TICKS)
        self.slider.setValue(TICKS)
        self.slider.setMinimumWidth(120)
        self.slider.setMaximumWidth(220)      # the toolbar keeps room for the title
        self.slider.setToolTip("Speed of training: slow enough for a class to follow, or "
                               "flat out (right end)")
        self.label = QLabel()
        self.label.setObjectName("paceLabel")
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("1 epoch every 99 s"))
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 0)
        layout.addWidget(QLabel("Speed"))
        layout.addWidget(self.slider)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._moved)
        self._show()

    @property
    def pace(self) -> float | None:
        """The pace given to ``set_pace`` until the slider moves; then the slider's."""
        return self._exact if self._exact is not None else pace_of(self.slider.value())

    def set_pace(self, steps_per_second: float | None) -> None:
        """Show a pace, keeping its exact value (emits ``changed`` if the position moves)."""
        self.slider.blockSignals(True)
        self.slider.setValue(position_of(steps_per_second))
        self.slider.blockSignals(False)
        self._exact = steps_per_second
        self._show()
        self.changed.emit(self.pace)

    def set_steps_per_epoch(self, steps: int | None) -> None:
        self._steps_per_epoch = steps
        self._show()

    def _moved(self) -> None:
        self._exact = None
        self._show()
        self.changed.emit(self.pace)

    def _show(self) -> None:
        self.label.setText(pace_text(self.pace, self._steps_per_epoch))

"""Start/Pause, Step, Continue, Stop and Reset: the buttons that drive a training session."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStyle, QWidget

from nnviz.core.runs import RunState


class ControlsPanel(QWidget):
    """``startButton`` (Start / Pause / Resume), ``stepButton``, ``continueButton`` (more
    epochs from the current weights after a run ended), ``stopButton``, ``resetButton``.

    The panel only shows the state it is given (``set_state``) and reports
    clicks; the window decides what they do.
    """

    startClicked = Signal()
    stepClicked = Signal()
    continueClicked = Signal()
    stopClicked = Signal()
    resetClicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("controlsPanel")
        style = self.style()
        icon = lambda p: style.standardIcon(p)  # noqa: E731
        self._icons = {"play": icon(QStyle.StandardPixmap.SP_MediaPlay),
                       "pause": icon(QStyle.StandardPixmap.SP_MediaPause)}
        self.start_button = self._button("Start", "startButton", self.startClicked,
                                         self._icons["play"])
        self.step_button = self._button("Step", "stepButton", self.stepClicked,
                                        icon(QStyle.StandardPixmap.SP_MediaSkipForward),
                                        "train on one mini-batch, then pause")
        self.continue_button = self._button(
            "Continue", "continueButton", self.continueClicked,
            icon(QStyle.StandardPixmap.SP_MediaSeekForward),
            "train on from the current weights for another round of epochs")
        self.stop_button = self._button("Stop", "stopButton", self.stopClicked,
                                        icon(QStyle.StandardPixmap.SP_MediaStop),
                                        "end this run (the weights are kept until Reset)")
        self.reset_button = self._button("Reset", "resetButton", self.resetClicked,
                                         icon(QStyle.StandardPixmap.SP_BrowserReload),
                                         "discard the trained weights and clear the plots")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for button in (self.start_button, self.step_button, self.continue_button,
                       self.stop_button, self.reset_button):
            layout.addWidget(button)
        self.state = RunState.IDLE
        self.set_state(RunState.IDLE, can_start=True)

    def _button(self, text, name, signal, icon, tip="") -> QPushButton:
        button = QPushButton(icon, text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setIconSize(QSize(20, 20))
        button.setMinimumWidth(96)
        button.clicked.connect(signal)
        return button

    def set_state(self, state: RunState | str, can_start: bool, has_run: bool = False,
                  reason: str = "", can_continue: bool = False) -> None:
        """Show the buttons for a session state.

        ``can_start``: the experiment is valid; ``has_run``: a session exists
        (something to reset); ``reason`` explains a disabled Start.
        """
        self.state = state = RunState(state)
        running, paused, ended = state is RunState.RUNNING, state is RunState.PAUSED, state.ended
        if running:
            text, icon, tip = "Pause", "pause", "pause training (Space)"
        elif paused:
            text, icon, tip = "Resume", "play", "continue training (Space)"
        elif ended:
            text, icon, tip = "Restart", "play", "train again from fresh weights (Space)"
        else:
            text, icon, tip = "Start", "play", "start training (Space)"
        self.start_button.setText(text)
        self.start_button.setIcon(self._icons[icon])
        self.start_button.setEnabled(running or paused or can_start)
        self.start_button.setToolTip(tip if (running or paused or can_start) else reason)
        self.step_button.setEnabled((paused or (not running and can_start)))
        self.stop_button.setEnabled(running or paused)
        self.continue_button.setEnabled(can_continue)
        self.reset_button.setEnabled(has_run)

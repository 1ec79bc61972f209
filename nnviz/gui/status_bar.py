"""The status bar: run state, epoch, step, training speed and training time."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from nnviz.core.runs import RunState
from nnviz.gui import theme

FIELDS = ("state", "epoch", "step", "rate", "elapsed")


class RunStatusBar(QStatusBar):
    """Permanent labels (``<field>Label``) fed by the run controller's signals;
    messages (a divergence, an applied change) appear on the left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels: dict[str, QLabel] = {}
        for key in FIELDS:
            label = QLabel()
            label.setObjectName(f"{key}Label")
            label.setContentsMargins(8, 0, 8, 0)
            self.addPermanentWidget(label)
            self.labels[key] = label
        self.total_epochs = 0
        self.total_steps: int | None = None
        self.show_progress(None)

    def show_state(self, state: RunState, valid: bool, has_session: bool) -> None:
        """The state in words; "Not valid" (in the error colour) for an experiment
        that cannot train."""
        label = self.labels["state"]
        label.setText(RunState(state).text if valid or has_session else "Not valid")
        bad = state in (RunState.DIVERGED, RunState.ERROR) or not (valid or has_session)
        label.setStyleSheet(f"color: {theme.current().error}; font-weight: bold;" if bad else "")

    def show_message(self, text: str) -> None:
        self.showMessage(text, 15000)
        self.labels["state"].setToolTip(text)

    def show_progress(self, snap, rate: float | None = None) -> None:
        labels = self.labels
        if snap is None:
            labels["epoch"].setText(f"Epoch 0 / {self.total_epochs}")
            labels["step"].setText("Step 0")
            labels["rate"].setText("– samples/s")
            return
        labels["epoch"].setText(f"Epoch {snap.epoch_progress:.1f} / {self.total_epochs}")
        total = self.total_steps
        labels["step"].setText(f"Step {snap.step:,}" + (f" / {total:,}" if total else ""))
        labels["rate"].setText("– samples/s" if rate is None else f"{rate:,.0f} samples/s")

    def show_clock(self, seconds: float) -> None:
        self.labels["elapsed"].setText(f"{int(seconds // 60)}:{seconds % 60:04.1f}")

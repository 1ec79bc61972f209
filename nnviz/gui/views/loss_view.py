"""Loss and accuracy curves of the training and validation sets over epochs."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from nnviz.core.snapshot import Snapshot
from nnviz.gui.views import plotstyle
from nnviz.core.history import History

_TRAIN, _VAL = 0, 1   # palette index: training blue, validation orange


class LossView(QWidget):
    """Training/validation loss (optionally log scale) above accuracy, against epochs.

    Validation values arrive only on the snapshots that evaluated them, so they
    live in their own history; None values are skipped, not drawn as zero.  The
    accuracy plot stays hidden until a snapshot carries an accuracy (regression
    has none).  The two plots are not x-linked (a link made while one is hidden
    freezes the other's range); both get the same x range.  Ranges are not
    re-fitted on every update (that would repaint the axes every frame): they
    grow in round steps ahead of the data (see ``plotstyle.AxisRange``).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self._train = History(2)   # train_loss, train_accuracy
        self._val = History(2)     # val_loss, val_accuracy
        self._last_step: int | None = None

        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.setToolTip("Show the loss on a logarithmic axis: "
                                  "late, small improvements become visible.")
        self.log_check.toggled.connect(self._set_log)

        self.loss_plot = plotstyle.make_plot("Loss", "epoch", "loss")
        self.accuracy_plot = plotstyle.make_plot("Accuracy", "epoch", "accuracy")
        self.accuracy_plot.setYRange(0.0, 1.0, padding=0.02)
        self.accuracy_plot.getPlotItem().enableAutoRange(y=False)
        # Three labels only: the plot is short, and 0.2-steps collide at a large font.
        self.accuracy_plot.getAxis("left").setTicks(
            [[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(0.25, ""), (0.75, "")]])
        self.accuracy_plot.hide()
        self.x_ranges = [plotstyle.AxisRange(plot, "x", "grow")
                         for plot in (self.loss_plot, self.accuracy_plot)]
        self.loss_range = plotstyle.AxisRange(self.loss_plot, "y", "linear", low=0.0)

        loss_item = self.loss_plot.getPlotItem()
        acc_item = self.accuracy_plot.getPlotItem()
        plotstyle.add_legend(loss_item)
        plotstyle.add_legend(acc_item, (-10, -10))
        self.curves = {
            "train_loss": loss_item.plot(name="training", pen=plotstyle.pen(_TRAIN)),
            "val_loss": loss_item.plot(name="validation", pen=plotstyle.pen(_VAL)),
            "train_accuracy": acc_item.plot(name="training", pen=plotstyle.pen(_TRAIN)),
            "val_accuracy": acc_item.plot(name="validation", pen=plotstyle.pen(_VAL)),
        }
        for curve in self.curves.values():
            plotstyle.fast_curve(curve)

        controls = QHBoxLayout()
        controls.addStretch(1)
        controls.addWidget(self.log_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.accuracy_plot, 2)
        self.set_font_scale(1.0)

    def update_snapshot(self, snap: Snapshot) -> None:
        """Append the snapshot's losses and accuracies and redraw the curves."""
        if self._last_step is not None and snap.step < self._last_step:
            self.clear()      # a new run started without a reset
        self._last_step = snap.step
        x = snap.epoch_progress
        self._train.append(x, (snap.train_loss, snap.train_accuracy))
        if snap.val_loss is not None or snap.val_accuracy is not None:
            self._val.append(x, (snap.val_loss, snap.val_accuracy))
        self._redraw()

    def clear(self) -> None:
        """Forget all curves (a new run or a reset)."""
        self._train.clear()
        self._val.clear()
        self._last_step = None
        for curve in self.curves.values():
            curve.setData([], [])
        for keeper in (*self.x_ranges, self.loss_range):
            keeper.reset()
        self.accuracy_plot.hide()

    def set_font_scale(self, scale: float) -> None:
        """Scale every text of the view (projector mode)."""
        plotstyle.scale_widget_font(self, scale)
        for plot in (self.loss_plot, self.accuracy_plot):
            plotstyle.apply_font_scale(plot, scale)

    def _redraw(self) -> None:
        has_accuracy = False
        xs, losses = [], []
        for split, history in (("train", self._train), ("val", self._val)):
            # clipped at LOG_FLOOR: a zero loss stays drawable on the log axis
            x, y = plotstyle.log_safe(*history.finite_series(0))
            self.curves[f"{split}_loss"].setData(x, y)
            xs.append(x)
            losses.append(y)
            x, y = history.finite_series(1)
            self.curves[f"{split}_accuracy"].setData(x, y)
            xs.append(x)
            has_accuracy = has_accuracy or y.size > 0
        if has_accuracy and self.accuracy_plot.isHidden():
            self.accuracy_plot.show()
        self._fit_ranges(xs, losses)

    def _fit_ranges(self, xs, losses) -> None:
        extent = plotstyle.data_extent(*xs)
        if extent is not None:
            for keeper in self.x_ranges:
                keeper.fit(0.0, extent[1])
        extent = plotstyle.data_extent(*losses)
        if extent is not None:
            if self.loss_range.kind == "log":
                extent = (np.log10(extent[0]), np.log10(extent[1]))
            self.loss_range.fit(*extent)

    def _set_log(self, on: bool) -> None:
        self.loss_plot.getPlotItem().setLogMode(y=on)
        self.loss_range.kind = "log" if on else "linear"
        self.loss_range.low = None if on else 0.0
        self.loss_range.reset()
        losses = [self.curves[f"{split}_loss"].getOriginalDataset()[1]
                  for split in ("train", "val")]
        self._fit_ranges([], [y for y in losses if y is not None])

"""Loss and accuracy curves of the training and validation sets over epochs."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from nnviz.core.snapshot import Snapshot
from nnviz.gui.views import plotstyle
from nnviz.gui.views.run_curves import CurveSet, RunFollower, finite, pinned_pen

_TRAIN, _VAL = 0, 1   # palette index: training blue, validation orange
_SPLITS = ("train", "val")


class LossView(QWidget, RunFollower):
    """Training/validation loss (optionally log scale) above accuracy, against epochs.

    Draws runs (see ``run_curves``): the current run in blue (training) and
    orange (validation); each pinned run in its colour, validation dashed and
    training dotted, named in the legend.  Missing values are skipped, not
    drawn as zero.  The accuracy plot stays hidden until a run has an accuracy
    (regression has none).  The two plots are not x-linked (a link made while one is hidden
    freezes the other's range); both get the same x range.  Ranges are not
    re-fitted on every update (that would repaint the axes every frame): they
    grow in round steps ahead of the data (see ``plotstyle.AxisRange``).
    """

    OBJECT_NAME = "lossPlot"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(self.OBJECT_NAME)
        self._init_runs()
        self._scale = 1.0

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
        self.legend = plotstyle.LegendStrip()   # under the loss plot; accuracy has the same lines
        self.curves = {
            "train_loss": loss_item.plot(name="training", pen=plotstyle.pen(_TRAIN)),
            "val_loss": loss_item.plot(name="validation", pen=plotstyle.pen(_VAL)),
            "train_accuracy": acc_item.plot(name="training", pen=plotstyle.pen(_TRAIN)),
            "val_accuracy": acc_item.plot(name="validation", pen=plotstyle.pen(_VAL)),
        }
        for curve in self.curves.values():
            plotstyle.fast_curve(curve)
        self.pinned_curves = {"loss": CurveSet(loss_item), "accuracy": CurveSet(acc_item)}
        # the learning rate, shown when the current run's rate changes (a schedule, or a
        # live edit): a short plot under the others, log scale
        self.eta_plot = plotstyle.make_plot("Learning rate η", "epoch", "η")
        self.eta_plot.getPlotItem().setLogMode(y=True)
        self.eta_curve = plotstyle.fast_curve(self.eta_plot.getPlotItem().plot(
            pen=plotstyle.pen(2), stepMode=None))
        self.eta_plot.hide()
        self.x_ranges.append(plotstyle.AxisRange(self.eta_plot, "x", "grow"))

        controls = QHBoxLayout()
        controls.addStretch(1)
        controls.addWidget(self.log_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.legend)
        self.legend.sync(self.loss_plot)
        layout.addWidget(self.accuracy_plot, 2)
        layout.addWidget(self.eta_plot, 1)
        self.set_font_scale(1.0)

    def update_snapshot(self, snap: Snapshot) -> None:
        """The current run has grown (``snap`` is its newest snapshot): redraw it."""
        self._follow(snap)
        self._draw_current()

    def clear(self) -> None:
        """Forget the current run (a reset); pinned runs stay."""
        self._run = None
        self._forget_current()
        self._draw_current()

    def _forget_current(self) -> None:
        for curve in self.curves.values():
            curve.setData([], [])
        for keeper in (*self.x_ranges, self.loss_range):
            keeper.reset()

    def set_font_scale(self, scale: float) -> None:
        """Scale every text of the view (projector mode)."""
        self._scale = scale
        plotstyle.scale_widget_font(self, scale)
        for plot in (self.loss_plot, self.accuracy_plot, self.eta_plot):
            plotstyle.apply_font_scale(plot, scale)

    def _series(self, run, field: str):
        x, y = run.series(field)
        return plotstyle.log_safe(x, y) if field.endswith("loss") else finite(x, y)

    def _draw_current(self) -> None:
        for field, curve in self.curves.items():
            if self._run is None:
                curve.setData([], [])
            else:
                curve.setData(*self._series(self._run, field))
        self._draw_eta()
        self._fit_all()

    def _draw_eta(self) -> None:
        """The current run's learning rate, when it is not constant."""
        x, y = finite(*self._run.series("eta")) if self._run is not None else ([], [])
        varies = bool(len(y) > 1 and np.ptp(y) > 1e-12 * max(abs(y).max(), 1e-300))
        if varies:
            self.eta_curve.setData(*plotstyle.log_safe(x, y))
        if varies == self.eta_plot.isHidden():
            self.eta_plot.setVisible(varies)

    def _draw_pinned(self) -> None:
        """One dashed (validation) and one dotted (training) curve per pinned run."""
        for kind in ("loss", "accuracy"):
            specs, data = [], []
            for pinned in self._pinned:
                has_val = pinned.run.last(f"val_{kind}") is not None
                for split in ("val", "train"):
                    named = (split == "val") == has_val
                    specs.append((pinned.name if named else None,
                                  pinned_pen(pinned.colour, self._scale, dotted=split == "train")))
                    data.append(self._series(pinned.run, f"{split}_{kind}"))
            for curve, xy in zip(self.pinned_curves[kind].replace(specs), data):
                curve.setData(*xy)
        self.legend.sync(self.loss_plot)
        self._fit_all()

    def _drawn(self, kind: str) -> list:
        """(x, y) of every curve of the loss or accuracy plot."""
        curves = [self.curves[f"{split}_{kind}"] for split in _SPLITS]
        curves += self.pinned_curves[kind].curves
        return [c.getOriginalDataset() for c in curves if c.getOriginalDataset()[0] is not None]

    def _fit_all(self) -> None:
        accuracy = self._drawn("accuracy")
        has_accuracy = any(len(y) for _, y in accuracy)
        if has_accuracy and self.accuracy_plot.isHidden():
            self.accuracy_plot.show()
        elif not has_accuracy and not self.accuracy_plot.isHidden():
            self.accuracy_plot.hide()
        losses = self._drawn("loss")
        self._fit_ranges([x for x, _ in losses + accuracy], [y for _, y in losses])

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
        self._fit_ranges([], [y for _, y in self._drawn("loss")])

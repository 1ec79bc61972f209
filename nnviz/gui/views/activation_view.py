"""Activation distributions per layer (as in Glorot & Bengio, 2010) and unit health.

The histograms show where each layer's outputs sit: a sigmoid layer piling up
at 0 and 1 or a tanh layer at -1 and 1 is saturated (its slope, and so its
gradient, is nearly zero); a ReLU layer with everything at 0 is dead.  Below,
the fraction of saturated (sigmoid/tanh) or dead (ReLU family) units over time.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nnviz.core.diagnosis import RELU_FAMILY, SATURATING
from nnviz.core.snapshot import LayerProbe, Snapshot
from nnviz.gui.views import plotstyle
from nnviz.gui.views.fitted_texts import FittedTexts
from nnviz.gui.views.run_curves import RunFollower, finite

N_BINS = 40
BOUNDED_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}
ROBUST_PERCENTILES = (0.5, 99.5)   # unbounded activations: range covers these
SHRINK_AFTER = 20          # snapshots in a row that fit a quarter of the range, to shrink it
nice_ceil = plotstyle.nice_ceil


def histogram_range(activation: str, sample: np.ndarray,
                    current: tuple[float, float] | None = None) -> tuple[float, float]:
    """Fixed histogram range for finite values, so the bins do not jump between snapshots.

    Bounded activations use their output range.  Unbounded ones cover the
    robust spread of the sample, rounded out to round numbers, and grown to
    include `current` if given, so the edges change rarely.
    """
    if activation in BOUNDED_RANGES:
        return BOUNDED_RANGES[activation]
    if sample.size:
        lo, hi = np.percentile(sample, ROBUST_PERCENTILES)
    else:
        lo, hi = 0.0, 1.0
    low = 0.0 if activation == "relu" else -nice_ceil(-lo)
    high = nice_ceil(hi)
    if high <= low:          # e.g. a dead ReLU layer: every value is 0
        high = low + 1.0
    if current is not None:
        low, high = min(low, current[0]), max(high, current[1])
    return float(low), float(high)


class ActivationView(QWidget, RunFollower):
    """Histograms of each weighted layer's activation values, and saturated/dead fractions.

    Layers with the same activation share one histogram plot (and one set of
    bin edges), so their distributions can be compared directly, as in Glorot
    & Bengio's figures; each other activation gets its own plot beside it,
    with that activation's fixed range.  The fractions over time are the
    current run's (see ``run_curves``).
    """

    OBJECT_NAME = "activationPlot"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(self.OBJECT_NAME)
        self._key: tuple[tuple[str, str], ...] = ()
        self._init_runs()
        self._scale = 1.0
        self._groups: dict[str, list[int]] = {}           # activation -> layer positions
        self._ranges: dict[str, tuple[float, float] | None] = {}
        self._narrow_run: dict[str, int] = {}   # activation -> snapshots fitting 1/4 range
        self._edges: dict[str, np.ndarray] = {}
        self.hist_plots: dict[str, pg.PlotItem] = {}
        self.hist_curves: list[pg.PlotDataItem] = []
        self.saturated_curves: dict[int, pg.PlotDataItem] = {}   # layer position -> curve
        self.dead_curves: dict[int, pg.PlotDataItem] = {}

        self.hist_canvas = pg.GraphicsLayoutWidget()
        self.fraction_plot = plotstyle.make_plot(
            "Saturated units (solid) and dead units (dashed)", "epoch", "fraction of units")
        self.fraction_texts = FittedTexts(self.fraction_plot, title=(
            "Saturated units (solid) and dead units (dashed)", "Saturated (solid), dead (dashed)",
            "Saturated, dead units"), left=("fraction of units", "fraction", ""))
        self.hist_texts: list[FittedTexts] = []
        # one legend for both halves (a layer has the same colour in each), under the
        # plots: a legend inside a plot's layout made it wider than a projector's dock
        self.legend = plotstyle.LegendStrip()
        self.fraction_plot.setYRange(0.0, 1.0, padding=0.02)
        self.fraction_plot.getPlotItem().enableAutoRange(y=False)
        # ranges are kept, not re-fitted per update (see plotstyle.AxisRange)
        self.fraction_x_range = plotstyle.AxisRange(self.fraction_plot, "x", "grow")
        self.hist_y_ranges: dict[str, plotstyle.AxisRange] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hist_canvas, 3)
        layout.addWidget(self.fraction_plot, 2)
        layout.addWidget(self.legend)
        self.set_font_scale(1.0)

    def update_snapshot(self, snap: Snapshot) -> None:
        """Redraw the histograms and the current run's saturated/dead fractions."""
        self._follow(snap)
        self._ensure_layers(snap.layers)
        samples = [_finite(p.act_sample) for p in snap.layers]
        for activation, members in self._groups.items():
            self._update_range(activation, [samples[i] for i in members])
            tallest = max(self._draw_histogram(i, activation, samples[i]) for i in members)
            self.hist_y_ranges[activation].fit(0.0, max(tallest, 1.0))
        self._draw_current()
        self.fraction_x_range.fit(0.0, snap.epoch_progress)

    def _draw_current(self) -> None:
        run = self._run
        usable = run is not None and run.layers == tuple(name for name, _ in self._key)
        for field, curves in (("saturated_fraction", self.saturated_curves),
                              ("dead_fraction", self.dead_curves)):
            for i, curve in curves.items():
                curve.setData(*(finite(*run.series(field, layer=i)) if usable else ([], [])))

    def _draw_pinned(self) -> None:
        """Pinned runs are compared on the loss and gradient plots, not here."""

    def clear(self) -> None:
        """Forget the run: empty curves, forget the histogram ranges."""
        self._run = None
        self._ranges = dict.fromkeys(self._ranges)
        self._narrow_run = {}
        for curve in (*self.hist_curves, *self.saturated_curves.values(),
                      *self.dead_curves.values()):
            curve.setData([], [])
        for keeper in (self.fraction_x_range, *self.hist_y_ranges.values()):
            keeper.reset()

    def set_font_scale(self, scale: float) -> None:
        """Scale every text of the view (projector mode)."""
        self._scale = scale
        plotstyle.scale_widget_font(self, scale)
        plotstyle.apply_font_scale(self.fraction_plot, scale)
        for plot in self.hist_plots.values():
            plotstyle.apply_font_scale(plot, scale)
        for texts in (self.fraction_texts, *self.hist_texts):
            texts.set_scale(scale)

    def _ensure_layers(self, probes: tuple[LayerProbe, ...]) -> None:
        """Rebuild the per-layer items when the network's layers change."""
        key = tuple((p.name, p.activation) for p in probes)
        if key == self._key:
            return
        self._key = key
        self._groups = {}
        for i, p in enumerate(probes):
            self._groups.setdefault(p.activation, []).append(i)
        self._ranges = dict.fromkeys(self._groups)
        self._narrow_run = {}
        self._build_histograms(probes)
        self._build_fraction_curves(probes)
        self.legend.sync(*self.hist_plots.values())

    def _build_histograms(self, probes: tuple[LayerProbe, ...]) -> None:
        self.hist_canvas.clear()
        self.hist_plots = {}
        self.hist_y_ranges = {}
        self.hist_curves = [None] * len(probes)  # type: ignore[list-item]
        self.hist_texts = []
        columns = len(self._groups) if len(self._groups) <= 3 else 2
        for g, (activation, members) in enumerate(self._groups.items()):
            title = probes[members[0]].name if len(members) == 1 else f"{activation} layers"
            plot = self.hist_canvas.addPlot(row=g // columns, col=g % columns, axisItems={
                "bottom": plotstyle.RoomyAxisItem("bottom")})
            y_label = "% of values" if g % columns == 0 else ""
            plotstyle.style_plot(plot, title, "activation value", y_label)
            self.hist_texts.append(FittedTexts(
                plot, title=(title, activation), scale=self._scale,
                left=(y_label, "%", "") if y_label else (),
                bottom=("activation value", "value", "")))
            plot.enableAutoRange(x=False)
            self.hist_y_ranges[activation] = plotstyle.AxisRange(plot, "y", "linear", low=0.0)
            for i in members:
                self.hist_curves[i] = plot.plot(name=_without_activation(probes[i].name),
                                                pen=plotstyle.pen(i, self._scale),
                                                stepMode="center", skipFiniteCheck=True)
            plotstyle.apply_font_scale(plot, self._scale)
            self.hist_plots[activation] = plot

    def _build_fraction_curves(self, probes: tuple[LayerProbe, ...]) -> None:
        item = self.fraction_plot.getPlotItem()
        for curve in (*self.saturated_curves.values(), *self.dead_curves.values()):
            item.removeItem(curve)
        self.saturated_curves = {
            i: plotstyle.fast_curve(item.plot(name=f"{p.name} saturated",
                                              pen=plotstyle.pen(i, self._scale)))
            for i, p in enumerate(probes) if p.activation in SATURATING}
        self.dead_curves = {
            i: plotstyle.fast_curve(item.plot(name=f"{p.name} dead",
                                              pen=plotstyle.pen(i, self._scale, dashed=True)))
            for i, p in enumerate(probes) if p.activation in RELU_FAMILY}

    def _update_range(self, activation: str, samples: list[np.ndarray]) -> None:
        """Grow the group's fixed range at once, shrink it only after a while.

        A range that only grew would keep an early blow-up (ReLU outputs of
        10^4 at a bad initialisation) forever; so when the values have fitted
        into a quarter of the range for SHRINK_AFTER snapshots in a row, the
        range starts afresh.  New edges are made only when the range changes.
        """
        old = self._ranges[activation]
        fresh = None
        for sample in samples:
            fresh = histogram_range(activation, sample, fresh)
        new = fresh if old is None else (min(old[0], fresh[0]), max(old[1], fresh[1]))
        if old is not None and 4 * (fresh[1] - fresh[0]) <= old[1] - old[0]:
            self._narrow_run[activation] = self._narrow_run.get(activation, 0) + 1
            if self._narrow_run[activation] >= SHRINK_AFTER:
                new = fresh
        else:
            self._narrow_run[activation] = 0
        if new == old:
            return
        self._narrow_run[activation] = 0
        self._ranges[activation] = new
        edges = np.linspace(*new, N_BINS + 1)
        edges.setflags(write=False)          # pyqtgraph keeps a view of it
        self._edges[activation] = edges
        self.hist_plots[activation].setXRange(*new, padding=0.02)

    def _draw_histogram(self, i: int, activation: str, sample: np.ndarray) -> float:
        """Draw layer i's histogram on the group's fixed edges; returns its tallest bin."""
        counts, _ = np.histogram(sample, bins=N_BINS, range=self._ranges[activation])
        percent = counts * (100.0 / max(sample.size, 1))
        self.hist_curves[i].setData(self._edges[activation], percent)
        return float(percent.max()) if percent.size else 0.0


def _without_activation(name: str) -> str:
    """"dense 0 (sigmoid)" -> "dense 0": the histogram titles name the activation."""
    return name.split(" (", 1)[0]


def _finite(sample: np.ndarray) -> np.ndarray:
    flat = np.asarray(sample, dtype=float).ravel()
    return flat[np.isfinite(flat)]

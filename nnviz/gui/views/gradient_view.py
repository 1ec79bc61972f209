"""Gradient size per layer over time: vanishing and exploding gradients made visible."""

from __future__ import annotations

import html
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QHBoxLayout, QLabel, QVBoxLayout,
                               QWidget)

from nnviz.core.diagnosis import Diagnosis, diagnose_gradients
from nnviz.core.snapshot import Snapshot
from nnviz.gui.views import plotstyle
from nnviz.gui.views.fitted_texts import FittedTexts
from nnviz.gui.views.run_curves import CurveSet, RunFollower, pinned_pen

# (combo text, tooltip) per mode; the order is the combo's order.
MODES = {
    "weight": ("weight gradient", "||dC/dW||: how hard each layer's weights are pushed"),
    "delta": ("back-propagated gradient",
              "||dC/dz||: the error signal that reaches each layer from the output"),
    "both": ("both side by side", "weight gradient and back-propagated gradient"),
}
_QUANTITIES = ("weight", "delta")
_FIELDS = {"weight": "weight_grad_norm", "delta": "delta_norm"}   # the runs' probe fields
_TITLES = {"weight": "Weight gradient ‖∂C/∂W‖", "delta": "Back-propagated gradient ‖∂C/∂z‖"}
# two plots side by side: the first title that fits the plot's width
_SHORT_TITLES = {"weight": ("‖∂C/∂W‖",), "delta": ("‖δ‖ = ‖∂C/∂z‖", "‖∂C/∂z‖")}
_Y_LABEL = "norm (log scale)"
SIDE_MIN_WIDTH = 260       # px at scale 1 a plot of "both" needs beside the other
_BANNER_TITLES = {"vanishing": "Vanishing gradients",
                  "exploding": "Exploding gradients",
                  "non_finite": "Training blew up",
                  "collapsed": "Units switched off"}   # used when a message has no heading
_BANNER_STYLE = ("QLabel#gradientBanner {{ background: {bg}; color: #2B1700; "
                 "border: 2px solid {border}; border-radius: 6px; padding: 8px; "
                 "font-size: {pt:.1f}pt; }}")
MIN_PLOT_HEIGHT = 150     # px at scale 1: the curves keep this beside the banner
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
BAR_MIN_HEIGHT = 105      # px at scale 1: the bars' axis labels and two-line ticks fit
_HEALTHY_TO_HIDE = 5      # healthy snapshots in a row before the banner goes away


class GradientView(QWidget, RunFollower):
    """Per-layer ||dC/dW|| and ||dC/dz|| on log axes, current values as bars, and a
    banner that explains a vanishing or exploding gradient in plain words.

    The curves are the current run's (a colour per layer) and the pinned runs'
    (every layer of a run dashed in the run's colour; see ``run_curves``)."""

    OBJECT_NAME = "gradientPlot"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(self.OBJECT_NAME)
        self._names: tuple[str, ...] = ()
        self._init_runs()
        self._now: np.ndarray = np.empty(0)   # newest norms: weight per layer, then delta
        self._healthy_run = 0
        self._scale = 1.0
        self._bar_style: dict[str, tuple[list, list]] = {}
        self.diagnosis: Diagnosis | None = None
        self.curves: dict[str, list[pg.PlotDataItem]] = {q: [] for q in _QUANTITIES}

        self.banner = self._make_banner()
        self._banner_texts = None     # (whole, first sentence, evidence, plain whole)
        self.legend = plotstyle.LegendStrip()     # pinned runs, under the curves
        self.mode_combo = self._make_mode_combo()
        self.plots = {q: self._make_curve_plot(_TITLES[q]) for q in _QUANTITIES}
        self.curve_texts = {q: FittedTexts(plot) for q, plot in self.plots.items()}
        # no x link: both plots auto-range over the same x, and a link to a
        # hidden plot would map the range through its zero width
        self.bar_plot = plotstyle.make_plot("Now, per layer", "", "norm (log)")
        bar_item = self.bar_plot.getPlotItem()
        bar_item.setLogMode(y=True)   # bars are drawn in log10 units: the axis reads 10^k
        bar_item.setMouseEnabled(x=False, y=False)
        self.bars = {q: pg.BarGraphItem(x=[], height=[], width=0.8) for q in _QUANTITIES}
        for bar in self.bars.values():
            bar_item.addItem(bar)
        self.pinned_curves = {q: CurveSet(self.plots[q].getPlotItem()) for q in _QUANTITIES}
        self._bar_layout = None       # (mode, layer count) the bars' x and colours are set for
        self._bar_base: float | None = None
        # ranges are kept, not re-fitted per update (see plotstyle.AxisRange)
        self.x_ranges = {q: plotstyle.AxisRange(self.plots[q], "x", "grow") for q in _QUANTITIES}
        self.y_ranges = {q: plotstyle.AxisRange(self.plots[q], "y", "log") for q in _QUANTITIES}
        self.bar_range = plotstyle.AxisRange(self.bar_plot, "y", "log")
        self._lay_out()
        self._apply_mode()
        self.set_font_scale(1.0)

    def _make_banner(self) -> QLabel:
        banner = QLabel()
        banner.setObjectName("gradientBanner")
        banner.setWordWrap(True)
        banner.setTextFormat(Qt.TextFormat.RichText)
        banner.linkActivated.connect(self.set_mode)      # "Show ‖∂C/∂z‖"
        banner.hide()
        return banner

    def _make_mode_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName("gradientModeCombo")
        for key, (text, tip) in MODES.items():
            combo.addItem(text, key)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        combo.currentIndexChanged.connect(self._apply_mode)
        return combo

    @staticmethod
    def _make_curve_plot(title: str) -> pg.PlotWidget:
        plot = plotstyle.make_plot(title, "epoch", _Y_LABEL)
        plot.getPlotItem().setLogMode(y=True)
        return plot

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Show:"))
        controls.addWidget(self.mode_combo)
        controls.addStretch(1)
        curves_row = self.curves_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        curves_row.addWidget(self.plots["weight"], 1)        # equal halves in "both"
        curves_row.addWidget(self.plots["delta"], 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addLayout(controls)
        layout.addLayout(curves_row, 3)
        layout.addWidget(self.legend)
        layout.addWidget(self.bar_plot, 1)      # the curves get the room, the bars a strip

    @property
    def mode(self) -> str:
        """"weight", "delta" or "both"."""
        return self.mode_combo.currentData()

    def set_mode(self, mode: str) -> None:
        """Show the weight gradient, the back-propagated gradient, or both."""
        self.mode_combo.setCurrentIndex(list(MODES).index(mode))

    def update_snapshot(self, snap: Snapshot) -> None:
        """The current run has grown (``snap`` is its newest snapshot): redraw, re-diagnose."""
        self._follow(snap)
        self._ensure_layers(tuple(p.name for p in snap.layers))
        self._now = np.array([p.weight_grad_norm for p in snap.layers]
                             + [p.delta_norm for p in snap.layers], dtype=float)
        self._redraw_curves()
        self._redraw_bars()
        self._show_diagnosis(diagnose_gradients(snap))

    def clear(self) -> None:
        """Forget the current run (a reset): its curves, the bars, the banner; pinned
        runs stay."""
        self._run = None
        self._forget_current()
        self._healthy_run = 0
        self.diagnosis = None
        self.banner.hide()

    def _forget_current(self) -> None:
        self._now = np.empty(0)
        for curves in self.curves.values():
            for curve in curves:
                curve.setData([], [])
        for bar in self.bars.values():
            bar.setOpts(x=[], height=[])
        self._bar_layout = None
        self._bar_base = None
        for keeper in (*self.x_ranges.values(), *self.y_ranges.values(), self.bar_range):
            keeper.reset()
        if self._pinned:
            self._redraw_curves()

    def _draw_current(self) -> None:
        if self._run is not None and self._run.layers:
            self._ensure_layers(self._run.layers)
        self._redraw_curves()

    def _draw_pinned(self) -> None:
        """Every layer of a pinned run, dashed in the run's colour; the run's name once."""
        for quantity in _QUANTITIES:
            specs, data = [], []
            for pinned in self._pinned:
                for i in range(len(pinned.run.layers)):
                    specs.append((pinned.name if i == 0 else None,
                                  pinned_pen(pinned.colour, self._scale)))
                    data.append(plotstyle.log_safe(
                        *pinned.run.series(_FIELDS[quantity], layer=i)))
            for curve, xy in zip(self.pinned_curves[quantity].replace(specs), data):
                curve.setData(*xy)
        self._sync_legend()
        self._redraw_curves()

    def set_font_scale(self, scale: float) -> None:
        """Scale every text of the view (projector mode)."""
        self._scale = scale
        plotstyle.scale_widget_font(self, scale)
        for plot, texts in zip(self.plots.values(), self.curve_texts.values()):
            plotstyle.apply_font_scale(plot, scale)
            texts.set_scale(scale)
        self._arrange_curves()
        # room for the two-line layer names under the bars (else they are hidden)
        plotstyle.apply_font_scale(self.bar_plot, scale, tick_lines=2)
        self.bar_plot.setMinimumHeight(round(BAR_MIN_HEIGHT * scale))   # room for its axis
        self._style_banner()

    # -- layers -----------------------------------------------------------

    def _ensure_layers(self, names: tuple[str, ...]) -> None:
        """Rebuild the per-layer items when the network's layers change."""
        if names == self._names:
            return
        self._names = names
        for quantity in _QUANTITIES:
            item = self.plots[quantity].getPlotItem()
            for curve in self.curves[quantity]:
                item.removeItem(curve)      # also removes the legend entry
            self.curves[quantity] = [
                plotstyle.fast_curve(item.plot(name=name, pen=plotstyle.pen(i, self._scale)))
                for i, name in enumerate(names)]
        self._sync_legend()
        outlines = [plotstyle.pen(i, width=1) for i in range(len(names))]
        self._bar_style = {
            look: (outlines, [plotstyle.brush(i, pattern=pattern) for i in range(len(names))])
            for look, pattern in (("solid", Qt.BrushStyle.SolidPattern),
                                  ("hatched", Qt.BrushStyle.BDiagPattern))}
        self._set_bar_ticks()
        self.bar_plot.setXRange(-0.6, len(names) - 0.4, padding=0)
        self._bar_layout = None

    def _set_bar_ticks(self) -> None:
        """Number and activation under each bar, or the number alone when the bars are
        too narrow for the words (they would run into each other)."""
        names = self._names or []
        labels = [_short_name(name) for name in names]
        axis = self.bar_plot.getPlotItem().getAxis("bottom")
        metrics = QFontMetricsF(axis.style.get("tickFont") or self.font())
        widest = max((metrics.horizontalAdvance(line) for label in labels
                      for line in label.split("\n")), default=0)
        room = self.bar_plot.width() * 0.85 / max(len(names), 1)
        if widest + 6 > room:
            labels = [label.split("\n")[0] for label in labels]
        axis.setTicks([list(enumerate(labels))])

    def _arrange_curves(self) -> None:
        """"both": side by side (short titles) unless the dock is too narrow for two
        SIDE_MIN_WIDTH plots and tall enough for two MIN_PLOT_HEIGHT ones stacked."""
        narrow = self.width() < 2 * SIDE_MIN_WIDTH * self._scale
        tall = self.curves_row.geometry().height() >= 2 * MIN_PLOT_HEIGHT * self._scale + 10
        direction = (QBoxLayout.Direction.TopToBottom if narrow and tall
                     else QBoxLayout.Direction.LeftToRight)
        if self.curves_row.direction() != direction:
            self.curves_row.setDirection(direction)
        self._fit_curve_texts(direction)

    def _fit_curve_texts(self, direction) -> None:
        """Titles and y-axis labels that fit: in "both" side by side, short titles and
        no "norm" label (the titles say what is plotted; the width goes to the curves)."""
        both = self.mode == "both"
        beside = both and direction == QBoxLayout.Direction.LeftToRight
        for quantity, texts in self.curve_texts.items():
            texts.set_candidates(title=_SHORT_TITLES[quantity] if both else (_TITLES[quantity],),
                                 left=("",) if beside else (_Y_LABEL,))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange_curves()
        if self._names:
            self._set_bar_ticks()
        if self.banner.isVisible():
            self._fit_banner()

    def _sync_legend(self) -> None:
        """The legend names the pinned runs; this run's layers are named under their
        bars, in the same colours, so a deep network's legend does not eat the plot."""
        self.legend.sync(self.plots["weight"], skip=self.curves["weight"])

    # -- drawing ----------------------------------------------------------

    def _redraw_curves(self) -> None:
        run = self._run if self._run is not None and self._run.layers == self._names else None
        for quantity in _QUANTITIES:
            if not self.plots[quantity].isVisibleTo(self):
                continue
            lo, hi, x_max = np.inf, -np.inf, -np.inf
            for i, curve in enumerate(self.curves[quantity]):
                x, y = (plotstyle.log_safe(*run.series(_FIELDS[quantity], layer=i))
                        if run is not None else (np.empty(0), np.empty(0)))
                curve.setData(x, y)
            for curve in self.curves[quantity] + self.pinned_curves[quantity].curves:
                x, y = curve.getOriginalDataset()
                if y is not None and len(y):
                    lo, hi = min(lo, y.min()), max(hi, y.max())
                    x_max = max(x_max, x[-1])
            if hi >= lo:
                self.x_ranges[quantity].fit(0.0, x_max)
                self.y_ranges[quantity].fit(np.log10(lo), np.log10(hi))

    def _redraw_bars(self) -> None:
        """The newest norms as bars in log10 units, from a decade below the least.

        A NaN norm gets no bar (the banner says why); zero sits on the floor.
        """
        last = self._now
        n = len(self._names)
        if n == 0 or last.size != 2 * n:
            return
        logs = {"weight": plotstyle.log10_clipped(last[:n]),
                "delta": plotstyle.log10_clipped(last[n:])}
        shown = _QUANTITIES if self.mode == "both" else (self.mode,)
        known = np.concatenate([logs[q] for q in shown])
        known = known[np.isfinite(known)]
        if known.size:
            # the floor: a decade below the least bar, moved rarely (the bars'
            # range is kept like the curves'), so the bars do not jump
            self.bar_range.fit(np.floor(known.min()) - 1.0, known.max())
        base = self.bar_range.range[0] if self.bar_range.range is not None else 0.0
        layout = (self.mode, n)
        if layout != self._bar_layout:      # x positions and colours: set once per layout
            self._bar_layout = layout
            self._bar_base = None
            width = 0.8 / len(shown)
            for quantity in _QUANTITIES:
                if quantity not in shown or n == 0:
                    self.bars[quantity].setOpts(x=[], height=[])
            for k, quantity in enumerate(shown):
                offset = (k - (len(shown) - 1) / 2) * width
                pens, brushes = self._bar_style["hatched" if k else "solid"]
                self.bars[quantity].setOpts(
                    x=np.arange(n) + offset, y0=base, width=width * 0.95,
                    height=np.zeros(n), pens=pens, brushes=brushes)
        for quantity in shown:                 # per update: only the heights (and floor)
            heights = np.nan_to_num(logs[quantity] - base, nan=0.0)
            if base != self._bar_base:
                self.bars[quantity].setOpts(y0=base, height=heights)
            else:
                self.bars[quantity].setOpts(height=heights)
        self._bar_base = base

    def _apply_mode(self, *_) -> None:
        mode = self.mode
        self.plots["weight"].setVisible(mode in ("weight", "both"))
        self.plots["delta"].setVisible(mode in ("delta", "both"))
        title = "Now (hatched: ∂C/∂z)" if mode == "both" else "Now, per layer"
        plotstyle.set_title(self.bar_plot, title, self._scale)
        self._arrange_curves()
        self._redraw_curves()
        self._redraw_bars()
        if self.diagnosis is not None:
            self._show_diagnosis(self.diagnosis)     # its "Show …" link follows the mode

    # -- banner -----------------------------------------------------------

    def _show_diagnosis(self, diagnosis: Diagnosis | None) -> None:
        """Show a diagnosis at once; hide only after a few healthy snapshots in a row."""
        if diagnosis is None:
            self._healthy_run += 1
            if self._healthy_run >= _HEALTHY_TO_HIDE and self.diagnosis is not None:
                self.diagnosis = None
                self.banner.hide()
            return
        self._healthy_run = 0
        previous = self.diagnosis
        self.diagnosis = diagnosis
        if previous is None or previous.kind != diagnosis.kind:
            self._style_banner()
        head, _, rest = diagnosis.message.partition(": ")
        if not rest:
            head, rest = _BANNER_TITLES[diagnosis.kind], diagnosis.message
        link = ""
        if diagnosis.quantity in MODES and self.mode not in (diagnosis.quantity, "both"):
            # the banner measures one gradient: offer to show that one in a click
            link = (f' <a href="{diagnosis.quantity}">Show '
                    f"{html.escape(diagnosis.quantity_label)}</a>")
        first = _SENTENCE_END.split(rest, maxsplit=1)[0]
        head_html, rest_html, first_html = (_whole_formulas(html.escape(t))
                                            for t in (head, rest, first))
        self._banner_texts = (f"<b>⚠ {head_html}:</b> {rest_html}{link}",
                              f"<b>⚠ {head_html}:</b> {first_html}{link}",
                              diagnosis.details or "", f"{head}: {rest}")
        self._fit_banner()
        self.banner.show()

    def _fit_banner(self) -> None:
        """The whole message when it leaves the plot MIN_PLOT_HEIGHT; else its first
        sentence, with the rest and the evidence in the tooltip (a short projector dock)."""
        if self._banner_texts is None:
            return
        full, short, details, plain = self._banner_texts
        others = (self.mode_combo.sizeHint().height() + self.legend.sizeHint().height()
                  + self.bar_plot.minimumHeight() + 6 * self.layout().spacing() + 8)
        room = self.height() - others - round(MIN_PLOT_HEIGHT * self._scale)
        probe = QLabel(full)
        probe.setWordWrap(True)
        probe.setFont(self.banner.font())
        probe.setStyleSheet(self.banner.styleSheet())
        fits = probe.heightForWidth(max(self.banner.width(), 100)) <= room
        text, tip = (full, details) if fits else (short, plain + ("\n\n" + details if details else ""))
        if self.banner.text() != text:
            self.banner.setText(text)
        if self.banner.toolTip() != tip:
            self.banner.setToolTip(tip)          # the evidence, on demand

    def _style_banner(self) -> None:
        severe = self.diagnosis is not None and self.diagnosis.kind == "non_finite"
        bg, border = ("#FFC9B0", "#D55E00") if severe else ("#FFE3A3", "#E69F00")
        pt = plotstyle.point_size(self._scale) * 1.1
        self.banner.setStyleSheet(_BANNER_STYLE.format(bg=bg, border=border, pt=pt))


_FORMULA = re.compile(r"‖[^‖]*‖")


def _whole_formulas(text: str) -> str:
    """Text in which a norm such as ‖∂C/∂z‖ is never broken over two lines: Qt may
    break after "/", so a word joiner (U+2060) follows it, and spaces do not break."""
    return _FORMULA.sub(lambda m: m.group(0).replace("/", "/\u2060").replace(" ", "\u00a0"),
                        text)


def _short_name(name: str) -> str:
    """A layer's bar label: its number over its activation ("2\\nrelu"), short enough
    for a dozen bars at projector size; the legend and the colours give the full name."""
    head, _, activation = name.partition(" (")
    number = head.rsplit(" ", 1)[-1]
    return f"{number}\n{activation.rstrip(')')}" if activation else number

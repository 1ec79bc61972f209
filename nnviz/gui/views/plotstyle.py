"""Shared look of the plot views: palette, log-safe data, font scaling.

The palette is Okabe & Ito's colour-blind-safe qualitative set without its
yellow and black, which vanish on white and on dark backgrounds respectively;
past six series the colours repeat with a dashed line.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPen
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy, QWidget

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
LOG_FLOOR = 1e-12      # zero or negative values are drawn here on log axes
LOG_CEILING = 1e12     # infinite values are drawn here on log axes
BASE_POINT_SIZE = 10.0
LINE_WIDTH = 2.0         # curve width in pixels at font scale 1 (wider on a projector)
WIDEST_TICK = "0.0001"   # left axes reserve room for tick labels this wide
THEME_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
GRID_ALPHA = 0.25        # opacity of the major grid lines (minor ones are fainter)
NICE_MANTISSAS = (1, 1.5, 2, 3, 4, 5, 6, 8, 10)   # fine steps: a grown range wastes little
SHRINK_AFTER = 20        # updates in a row with room to spare before a range shrinks


class ThemeAwareWidget(QWidget):
    """A view that rebuilds its items (``restyle()``) after the theme changes.

    The rebuild is deferred to the event loop, so it runs after the theme has
    set pyqtgraph's colours.
    """

    def restyle(self) -> None:
        raise NotImplementedError

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in THEME_EVENTS:
            QTimer.singleShot(0, self, self.restyle)


def color(i: int) -> str:
    """The i-th palette colour (cycling)."""
    return PALETTE[i % len(PALETTE)]


def pen(i: int, scale: float = 1.0, dashed: bool = False,
        width: float = LINE_WIDTH) -> pg.QtGui.QPen:
    """A cosmetic pen for series i, `width` x `scale` pixels wide; series past
    the palette are dashed."""
    style = Qt.PenStyle.DashLine if dashed or i >= len(PALETTE) else Qt.PenStyle.SolidLine
    return pg.mkPen(color(i), width=width * scale, style=style)


def brush(i: int, alpha: int = 255,
          pattern: Qt.BrushStyle = Qt.BrushStyle.SolidPattern) -> pg.QtGui.QBrush:
    """A brush in palette colour i with the given alpha (0-255) and fill pattern."""
    c = pg.mkColor(color(i))
    c.setAlpha(alpha)
    b = pg.mkBrush(c)
    b.setStyle(pattern)
    return b


def log_safe(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) fit for a log axis: NaN dropped, zeros and infinities clipped."""
    keep = ~np.isnan(y)
    return x[keep], np.clip(y[keep], LOG_FLOOR, LOG_CEILING)


def log10_clipped(y: np.ndarray) -> np.ndarray:
    """log10 of y clipped to [LOG_FLOOR, LOG_CEILING]; NaN stays NaN."""
    return np.log10(np.clip(y, LOG_FLOOR, LOG_CEILING))


def point_size(scale: float) -> float:
    """The font size in points for a font scale."""
    app = QApplication.instance()
    base = app.font().pointSizeF() if app is not None else BASE_POINT_SIZE
    return max(base, BASE_POINT_SIZE) * scale


def scaled_font(scale: float, factor: float = 1.0, bold: bool = False) -> QFont:
    """The application font at `scale` times the base size (times `factor`)."""
    font = QFont(QApplication.font())
    font.setPointSizeF(point_size(scale) * factor)
    font.setBold(bold)
    return font


def style_plot(item: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    """Title, axis labels (no SI-prefix rescaling), a light grid, no context menu."""
    item.setTitle(title)
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    for name in ("left", "bottom"):
        item.getAxis(name).enableAutoSIPrefix(False)
    show_grid(item, True)
    item.setMenuEnabled(False)
    item.hideButtons()


class RoomyAxisItem(pg.AxisItem):
    """An axis whose tick labels never run into each other.

    pyqtgraph spaces ticks by the axis length alone, so a narrow or short plot at
    a large font wrote "0.20.40.60.8".  This axis widens the major spacing to the
    next round step (1, 2, 5 × 10^k) until each label has room, and writes the
    minor ticks' labels only when each of them has room too.  (Log mode has its
    own rule: see LogAxisItem.)
    """

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        if self.logMode or not levels or self._tickSpacing is not None \
                or not maxVal > minVal or size <= 0:
            return levels
        per_unit = size / (maxVal - minVal)
        major = levels[0][0]
        while major * per_unit < self._room(minVal, maxVal, major):
            major = _next_round_step(major)
        if major == levels[0][0]:
            return levels
        mantissa = round(major / 10 ** math.floor(math.log10(major) + 1e-9))
        return [(major, 0), (major / (2 if mantissa == 2 else 5), 0)]

    def tickStrings(self, values, scale, spacing):
        strings = super().tickStrings(values, scale, spacing)
        lo, hi = self.range
        length = self._length()
        if self.logMode or not strings or not hi > lo or length <= 0 or spacing <= 0:
            return strings
        if spacing * length / (hi - lo) >= self._room(lo, hi, spacing):
            return strings
        return [""] * len(strings)           # a level without room for its labels

    def _length(self) -> float:
        vertical = self.orientation in ("left", "right")
        return self.geometry().height() if vertical else self.geometry().width()

    def _room(self, lo: float, hi: float, spacing: float) -> float:
        """Pixels one label needs along the axis at this spacing (with a gap)."""
        metrics = QFontMetrics(self.style["tickFont"] or self.font())
        if self.orientation in ("left", "right"):
            return 1.2 * metrics.height()
        places = max(0, math.ceil(-math.log10(spacing) - 1e-9))
        widest = max(metrics.horizontalAdvance(f"{v:.{places}f}") for v in (lo, hi))
        return widest + 2 * metrics.averageCharWidth()


def _next_round_step(step: float) -> float:
    """1 -> 2 -> 5 -> 10 (times a power of ten)."""
    exponent = math.floor(math.log10(step) + 1e-9)
    mantissa = step / 10 ** exponent
    return next(m for m in (2, 5, 10) if m > mantissa + 1e-9) * 10 ** exponent


class LogAxisItem(RoomyAxisItem):
    """An axis whose log-mode labels stay readable at any font size.

    pyqtgraph labels every minor tick (2..9 x 10^k) once a plot spans fewer
    than three decades, and they overlap near the top of each decade.  This
    axis labels the minor ticks 2 and 5 only, or none, as room allows, and
    writes decades as plain numbers from 0.001 to 1000, as 10^k beyond.
    """

    def logTickStrings(self, values, scale, spacing):
        keep = self._minor_labels_that_fit() if spacing is None else None
        every = self._decades_per_label()
        strings = []
        for v in values:
            exponent = math.floor(v + 1e-9)
            mantissa = round(10 ** (v - exponent))
            if keep is not None and mantissa not in keep or mantissa == 1 and exponent % every:
                strings.append("")
            else:
                strings.append(_power_label(mantissa, exponent))
        return strings

    def _per_decade(self) -> tuple[float, float]:
        """(pixels per decade, pixels a label needs along the axis); (0, 1) unknown."""
        lo, hi = self.range
        length = self._length()
        if hi <= lo or length <= 0:
            return 0.0, 1.0
        font = self.style["tickFont"] or self.font()
        text = QFontMetrics(font).height() if self.orientation in ("left", "right") \
            else QFontMetrics(font).horizontalAdvance("0.008")
        return length / (hi - lo), text

    def _minor_labels_that_fit(self) -> set[int]:
        """The mantissas labelled at this zoom (1: decades, which this level may hold)."""
        per_decade, text = self._per_decade()
        if per_decade >= 22 * text:     # the gap between 9 and 10 is 0.046 decades
            return set(range(1, 10))
        if per_decade >= 3.5 * text:    # 2, 5 and 10 are >= 0.3 decades apart
            return {1, 2, 5}
        return {1}

    def _decades_per_label(self) -> int:
        """Label every decade, or every 2nd, 3rd… when a short axis has no room for
        one label per decade (a projector's bar strip over six decades)."""
        per_decade, text = self._per_decade()
        if per_decade <= 0:
            return 1
        return max(1, math.ceil(1.2 * text / per_decade))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_label(mantissa: int, exponent: int) -> str:
    """m x 10^e as "0.02" or "300" near 1, as "10⁻⁵" or "2×10⁻⁵" far from it."""
    if -3 <= exponent <= 3:
        return f"{mantissa * 10.0 ** exponent:.{max(0, -exponent)}f}"
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa}×{power}"


def make_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A PlotWidget styled by `style_plot`, with a LogAxisItem on the left and a
    RoomyAxisItem at the bottom."""
    widget = pg.PlotWidget(axisItems={"left": LogAxisItem("left"),
                                      "bottom": RoomyAxisItem("bottom")})
    style_plot(widget.getPlotItem(), title, x_label, y_label)
    return widget


LEGEND_ROW = 4            # PlotItem's layout: title 0, top axis 1, view 2, bottom axis 3


class LegendStrip(QLabel):
    """A legend as a line of text under a plot: it wraps to the width it gets, so it
    is never clipped and never covers a curve.  ``sync(plots)`` lists every named
    curve of the plots, with a short line in its colour and style."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("legendStrip")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.entries: list[tuple[str, str, bool]] = []
        self._indent()
        self.hide()                          # until it has entries

    def _indent(self) -> None:
        """Start right of the view's "?" button (explain_button.py), which sits in the
        bottom-left corner: a legend at the bottom of a view would run under it."""
        self.setContentsMargins(self.fontMetrics().height() + 12, 0, 0, 0)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._indent()

    def sync(self, *plots, skip=()) -> None:
        """List the named curves of ``plots`` (but those in ``skip``); hidden when none."""
        entries = []
        for plot in plots:
            for curve in _plot_item(plot).curves:
                name = curve.opts.get("name")
                pen = curve.opts.get("pen")
                if name and pen is not None and curve.isVisible() and curve not in skip:
                    pen = pg.mkPen(pen)
                    entries.append((str(name), pen.color().name(),
                                    pen.style() != Qt.PenStyle.SolidLine))
        self.setVisible(bool(entries))
        if entries != self.entries:
            self.entries = entries
            self.setText("&nbsp;&nbsp; ".join(
                f'<span style="color:{colour}"><b>{"╍╍" if dashed else "━━"}</b></span>'
                f"&nbsp;{html.escape(name).replace(' ', '&nbsp;')}"
                for name, colour, dashed in entries))


def add_legend(plot: pg.PlotWidget | pg.PlotItem, offset: tuple[int, int] | None = None,
               columns: int = 3) -> pg.LegendItem:
    """A legend under the plot, in rows of ``columns`` entries: outside the data,
    so it never covers a curve, and never clipped by a narrow plot.  With
    ``offset`` it floats inside the plot instead (small editors' previews)."""
    item = _plot_item(plot)
    if offset is not None:
        background = pg.mkColor(pg.getConfigOption("background"))
        background.setAlpha(190)
        return item.addLegend(offset=offset, brush=pg.mkBrush(background))
    legend = pg.LegendItem(colCount=columns, verSpacing=-4, horSpacing=12)
    item.layout.addItem(legend, LEGEND_ROW, 1)
    item.legend = legend                 # PlotItem.plot(name=...) and removeItem use it
    return legend


def _plot_item(plot: pg.PlotWidget | pg.PlotItem) -> pg.PlotItem:
    return plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot


def apply_font_scale(plot: pg.PlotWidget | pg.PlotItem, scale: float,
                     tick_lines: int = 1) -> None:
    """Scale a plot's title, axis labels, tick labels, legend text and curve widths.

    The left and bottom axes get explicit sizes: pyqtgraph's own estimate
    lets large labels overlap the tick numbers.  `tick_lines` is the number of
    text lines of the bottom tick labels.
    """
    item = _plot_item(plot)
    pt = point_size(scale)
    tick_font = scaled_font(scale, 0.9)
    ticks = QFontMetrics(tick_font)
    label_height = QFontMetrics(scaled_font(scale)).height()
    offset = max(3, round(4 * scale))
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setStyle(tickFont=tick_font, tickTextOffset=offset)
        axis.labelStyle["font-size"] = f"{pt:.1f}pt"
        axis._updateLabel()     # re-render the label with the new size
    label_room = {name: label_height if item.getAxis(name).labelText else 0
                  for name in ("left", "bottom")}
    item.getAxis("left").setWidth(
        ticks.horizontalAdvance(WIDEST_TICK) + offset + label_room["left"] + 8)
    bottom = item.getAxis("bottom")
    bottom.setHeight(ticks.lineSpacing() * tick_lines + offset + label_room["bottom"] + 8)
    bottom.setTickDensity(1.0 / scale)                 # larger numbers: fewer of them
    # the first and last labels may stick out by a short number's half ("0" and "1"
    # under a narrow histogram), not be dropped
    overhang = ticks.horizontalAdvance("00")
    bottom.setStyle(hideOverlappingLabels=overhang)
    left, top, _, low = item.layout.getContentsMargins()
    item.layout.setContentsMargins(left, top, overhang, low)   # room for the last one
    set_title(item, item.titleLabel.text, scale)
    for curve in item.listDataItems():
        if isinstance(curve, pg.PlotDataItem) and curve.opts["pen"] is not None:
            line = QPen(pg.mkPen(curve.opts["pen"]))
            line.setWidthF(LINE_WIDTH * scale)
            curve.setPen(line)
    if item.legend is not None:
        item.legend.setLabelTextSize(f"{pt * 0.9:.1f}pt")
        for _, label in item.legend.items:      # re-render the existing entries
            label.setText(label.text)


def set_title(plot: pg.PlotWidget | pg.PlotItem, title: str, scale: float) -> None:
    """Set a plot's title in bold at `scale`, with a title row tall enough for it.

    PlotItem.setTitle fixes the title row at 30 px, which clips large fonts.
    """
    item = _plot_item(plot)
    font = scaled_font(scale, 1.1, bold=True)
    item.setTitle(title, size=f"{font.pointSizeF():.1f}pt", bold=True)
    height = max(30, QFontMetrics(font).height() + 8)
    _keep_narrow(item.titleLabel)          # a long title must not widen the plot
    item.titleLabel.setMaximumHeight(height)
    item.layout.setRowFixedHeight(0, height)


def _keep_narrow(label: pg.LabelItem) -> None:
    """Let a title label be narrower than its text.

    pyqtgraph's LabelItem.updateMin sets the minimum width to the text width on
    every setText and resize, which pushes the plot past its widget's right edge
    in a narrow dock or at a large font; the text is clipped instead.
    """
    if getattr(label, "_nnviz_narrow", False):
        return
    update_min = label.updateMin

    def update_min_height_only():
        update_min()
        label.setMinimumWidth(0)
        minimum = Qt.SizeHint.MinimumSize
        label._sizeHint[minimum] = (0, label._sizeHint[minimum][1])
        label.updateGeometry()

    label.updateMin = update_min_height_only
    label._nnviz_narrow = True
    update_min_height_only()


def scale_widget_font(widget: QWidget, scale: float) -> None:
    """Scale the font of a view's Qt widgets (check boxes, combo boxes, labels)."""
    widget.setFont(scaled_font(scale))


# -- cheap grid and managed ranges ---------------------------------------------
#
# Repainting is what costs while training, and two pyqtgraph defaults make every
# update a full repaint: auto-range re-fits the axes to the data on every
# setData (so the axes regenerate their tick labels), and pyqtgraph's grid is
# drawn by the axes across the whole plot (so any change of a curve replays
# the axes' text).  The views therefore draw the grid with `GridLines`, a
# text-free item behind the curves, and keep their ranges with `AxisRange`,
# which changes a range only when the data leave it (in round steps, with room
# to grow) or have long fitted into a much smaller one.


def nice_ceil(v: float) -> float:
    """The smallest "round" number m x 10^k >= v, m in NICE_MANTISSAS (0 for v <= 0)."""
    if v <= 0 or not math.isfinite(v):
        return 0.0
    decade = 10.0 ** math.floor(math.log10(v))
    return next(m * decade for m in NICE_MANTISSAS if m * decade >= v * (1 - 1e-12))


class GridLines(pg.GraphicsObject):
    """A light grid at the axes' tick positions, drawn behind the curves.

    It looks like pyqtgraph's ``showGrid`` (major lines at GRID_ALPHA, minor
    ones fainter) but paints a handful of lines and no text, so a curve update
    no longer repaints the axes.  The lines are recomputed only when the view
    range, its size or the axis colour change.
    """

    def __init__(self, plot: pg.PlotItem):
        super().__init__()
        self._plot = plot
        self._view = plot.getViewBox()
        self._cache_key = None
        self._lines: list[tuple[QPen, list[QLineF]]] = []
        self.setParentItem(self._view)
        self.setZValue(-1e5)               # above the view's background, below the curves
        self.setFlag(self.GraphicsItemFlag.ItemStacksBehindParent, False)
        self._view.sigRangeChanged.connect(self._changed)
        self._view.sigResized.connect(self._resized)

    def _changed(self, *_) -> None:
        self.update()

    def _resized(self, *_) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._view.boundingRect()

    def paint(self, painter, *_) -> None:
        key = self._key()
        if key != self._cache_key:
            self._cache_key = key
            self._lines = self._make_lines()
        painter.setRenderHint(painter.RenderHint.Antialiasing, False)
        for pen, lines in self._lines:
            painter.setPen(pen)
            painter.drawLines(lines)

    def _key(self):
        rect = self._view.viewRect()
        size = self._view.boundingRect()
        colour = self._plot.getAxis("left").pen().color().rgba()
        return (rect.x(), rect.y(), rect.width(), rect.height(),
                size.width(), size.height(), colour,
                self._plot.getAxis("bottom").logMode, self._plot.getAxis("left").logMode)

    def _make_lines(self) -> list[tuple[QPen, list[QLineF]]]:
        box = self._view.boundingRect()
        if box.width() <= 0 or box.height() <= 0:
            return []
        (x0, x1), (y0, y1) = self._view.viewRange()
        if x1 <= x0 or y1 <= y0:
            return []
        levels: dict[int, list[QLineF]] = {}
        for name, lo, hi, length in (("bottom", x0, x1, box.width()),
                                     ("left", y0, y1, box.height())):
            axis = self._plot.getAxis(name)
            if axis.grid is not False:      # pyqtgraph's own grid is on: leave it to that
                continue
            try:
                tick_levels = axis.tickValues(lo, hi, length + 2)
            except Exception:               # a degenerate range: no grid rather than a crash
                continue
            for i, (_, values) in enumerate(tick_levels[:2]):
                for v in values:
                    if name == "bottom":
                        px = box.left() + (v - x0) / (x1 - x0) * box.width()
                        if box.left() <= px <= box.right():
                            px = round(px)
                            levels.setdefault(i, []).append(
                                QLineF(px, box.top(), px, box.bottom()))
                    else:
                        py = box.bottom() - (v - y0) / (y1 - y0) * box.height()
                        if box.top() <= py <= box.bottom():
                            py = round(py)
                            levels.setdefault(i, []).append(
                                QLineF(box.left(), py, box.right(), py))
        base = QColor(self._plot.getAxis("left").pen().color())
        result = []
        for i, lines in sorted(levels.items()):
            colour = QColor(base)
            colour.setAlphaF(base.alphaF() * GRID_ALPHA / (i + 1))
            line_pen = QPen(colour)
            line_pen.setCosmetic(True)
            line_pen.setWidth(1)
            result.append((line_pen, lines))
        return result


def show_grid(plot: pg.PlotWidget | pg.PlotItem, on: bool) -> None:
    """Show or hide the plot's light grid (a `GridLines` item, made once)."""
    item = _plot_item(plot)
    item.showGrid(x=False, y=False)          # never pyqtgraph's text-replaying grid
    grid = getattr(item, "nnviz_grid", None)
    if grid is None and on:
        grid = item.nnviz_grid = GridLines(item)
    if grid is not None:
        grid.setVisible(on)


EMPTY_RANGES = {"grow": (0.0, 10.0), "linear": (0.0, 1.0), "log": (-3.0, 0.0)}


class AxisRange:
    """One axis range of a plot, kept fixed while the data fit and moved rarely.

    ``kind`` says how the range follows the data extremes given to `fit`:

    * "grow" (a time axis): from ``low`` (0) to a round number 1.5-2x beyond
      the newest value, so it changes a few times per run, not every update;
    * "linear": from ``low`` (if given and below the data) or a round number
      below the data, to a round number above the data with some headroom;
    * "log": values in log10 units (as pyqtgraph's log axes take them), the
      range snapped to whole decades.

    The range grows at once when the data leave it; it shrinks only after the
    data have fitted into a much smaller range for SHRINK_AFTER fits in a row.
    Auto-range of that axis is switched off.
    """

    def __init__(self, plot: pg.PlotWidget | pg.PlotItem, axis: str, kind: str,
                 low: float | None = 0.0, padding: float = 0.02,
                 minimum_span: float = 0.0):
        if axis not in ("x", "y") or kind not in ("grow", "linear", "log"):
            raise ValueError(f"bad axis {axis!r} or kind {kind!r}")
        self.item = _plot_item(plot)
        self.axis = axis
        self.kind = kind
        self.low = low
        self.padding = padding
        self.minimum_span = minimum_span
        self.range: tuple[float, float] | None = None
        self.changes = 0              # how often the range was set (for tests, benchmarks)
        self._roomy_run = 0
        self.item.enableAutoRange(**{axis: False})
        self._show_empty()

    def reset(self) -> None:
        """Forget the range (a new run): the next `fit` sets it afresh."""
        self.range = None
        self._roomy_run = 0
        self._show_empty()

    def _show_empty(self) -> None:
        """A round range until data come (pyqtgraph's empty 0..1 reads "0.2 0.4 0.6",
        and on a log axis shows no decade): epochs 0..10, decades 0.001..1, 0..1."""
        low, high = EMPTY_RANGES[self.kind]
        if self.kind != "log" and self.low is not None:
            low, high = self.low, self.low + high
        self._show(low, high)

    def _show(self, low: float, high: float) -> None:
        if self.axis == "x":
            self.item.setXRange(low, high, padding=self.padding)
        else:
            self.item.setYRange(low, high, padding=self.padding)

    def target(self, lo: float, hi: float) -> tuple[float, float]:
        """The range this axis would take for data spanning lo..hi."""
        if self.kind == "log":
            low, high = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
            if high <= low:
                high = low + 1
            return float(low), float(high)
        if self.kind == "grow":
            low = self.low if self.low is not None and self.low <= lo else _nice_floor(lo)
            span = max(hi - low, self.minimum_span, 1e-12)
            return float(low), float(low + nice_ceil(1.5 * span))
        span = max(hi - lo, self.minimum_span, abs(hi) * 1e-3, 1e-12)
        low = self.low if self.low is not None and self.low <= lo else             _nice_floor(lo - 0.05 * span)
        high = low + nice_ceil(hi + 0.05 * span - low)
        return float(low), float(high)

    def fit(self, lo: float, hi: float) -> bool:
        """Make the range hold the data lo..hi; True if it changed."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        if hi < lo:
            lo, hi = hi, lo
        current = self.range
        if current is None or lo < current[0] or hi > current[1]:
            new = self.target(lo, hi)
            if current is not None:         # grow only: keep the side that still fits
                new = (min(new[0], current[0]), max(new[1], current[1]))
        else:
            new = self.target(lo, hi)
            if self._roomy(new, current):
                self._roomy_run += 1
                if self._roomy_run < SHRINK_AFTER:
                    return False
            else:
                self._roomy_run = 0
                return False
        self._roomy_run = 0
        if new == current:
            return False
        self.range = new
        self.changes += 1
        self._show(*new)
        return True

    def _roomy(self, new, current) -> bool:
        """Would the data fit a range much smaller than the current one?"""
        if self.kind == "log":
            return (new[1] - new[0]) + 2 <= current[1] - current[0]
        return 3 * (new[1] - new[0]) <= current[1] - current[0]


def _nice_floor(v: float) -> float:
    """The largest round number <= v."""
    if v >= 0:
        if v == 0:
            return 0.0
        decade = 10.0 ** math.floor(math.log10(v))
        return next(m * decade for m in reversed(NICE_MANTISSAS) if m * decade <= v * (1 + 1e-12))
    return -nice_ceil(-v)


def data_extent(*arrays: np.ndarray) -> tuple[float, float] | None:
    """(min, max) over the finite values of the arrays, None if there are none."""
    lo, hi = math.inf, -math.inf
    for a in arrays:
        if a is None or len(a) == 0:
            continue
        a = a[np.isfinite(a)] if not np.isfinite(a).all() else a
        if a.size:
            lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    return None if lo > hi else (lo, hi)


def fast_curve(curve: pg.PlotDataItem) -> pg.PlotDataItem:
    """Options for a long live curve: peak downsampling to the pixel width,
    no finite check (the views hand over finite data only).

    "peak" keeps each pixel column's minimum and maximum, so a noisy curve
    keeps its envelope; one bin per pixel (pyqtgraph's default is five, and
    it has no setter for that) draws 2 points per column instead of up to 10.
    """
    curve.setDownsampling(auto=True, method="peak")
    curve.opts["autoDownsampleFactor"] = 1.0
    curve.setClipToView(True)
    curve.setSkipFiniteCheck(True)
    return curve

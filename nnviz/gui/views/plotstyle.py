"""Shared look of the plot views: palette, log-safe data, font scaling.

The palette is Okabe & Ito's colour-blind-safe qualitative set without its
yellow and black, which vanish on white and on dark backgrounds respectively;
past six series the colours repeat with a dashed line.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QPen
from PySide6.QtWidgets import QApplication, QWidget

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
LOG_FLOOR = 1e-12      # zero or negative values are drawn here on log axes
LOG_CEILING = 1e12     # infinite values are drawn here on log axes
BASE_POINT_SIZE = 10.0
LINE_WIDTH = 2.0         # curve width in pixels at font scale 1 (wider on a projector)
WIDEST_TICK = "0.0001"   # left axes reserve room for tick labels this wide
THEME_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


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
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setMenuEnabled(False)
    item.hideButtons()


class LogAxisItem(pg.AxisItem):
    """An axis whose log-mode labels stay readable at any font size.

    pyqtgraph labels every minor tick (2..9 x 10^k) once a plot spans fewer
    than three decades, and they overlap near the top of each decade.  This
    axis labels the minor ticks 2 and 5 only, or none, as room allows, and
    writes decades as plain numbers from 0.001 to 1000, as 10^k beyond.
    """

    def logTickStrings(self, values, scale, spacing):
        keep = self._minor_labels_that_fit() if spacing is None else None
        strings = []
        for v in values:
            exponent = math.floor(v + 1e-9)
            mantissa = round(10 ** (v - exponent))
            if keep is not None and mantissa not in keep:
                strings.append("")
            else:
                strings.append(_power_label(mantissa, exponent))
        return strings

    def _minor_labels_that_fit(self) -> set[int]:
        """The mantissas labelled at this zoom (1: decades, which this level may hold)."""
        lo, hi = self.range
        length = self.geometry().height() if self.orientation in ("left", "right") \
            else self.geometry().width()
        if hi <= lo or length <= 0:
            return {1}
        per_decade = length / (hi - lo)
        font = self.style["tickFont"] or self.font()
        text = QFontMetrics(font).height() if self.orientation in ("left", "right") \
            else QFontMetrics(font).horizontalAdvance("0.008")
        if per_decade >= 22 * text:     # the gap between 9 and 10 is 0.046 decades
            return set(range(1, 10))
        if per_decade >= 3.5 * text:    # 2, 5 and 10 are >= 0.3 decades apart
            return {1, 2, 5}
        return {1}


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_label(mantissa: int, exponent: int) -> str:
    """m x 10^e as "0.02" or "300" near 1, as "10⁻⁵" or "2×10⁻⁵" far from it."""
    if -3 <= exponent <= 3:
        return f"{mantissa * 10.0 ** exponent:.{max(0, -exponent)}f}"
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa}×{power}"


def make_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A PlotWidget styled by `style_plot`, with a LogAxisItem on the left."""
    widget = pg.PlotWidget(axisItems={"left": LogAxisItem("left")})
    style_plot(widget.getPlotItem(), title, x_label, y_label)
    return widget


def add_legend(plot: pg.PlotWidget | pg.PlotItem,
               offset: tuple[int, int] = (-10, 10)) -> pg.LegendItem:
    """A legend (default top right) on a translucent plot background, so that
    curves passing behind it do not cross its text."""
    background = pg.mkColor(pg.getConfigOption("background"))
    background.setAlpha(190)
    return _plot_item(plot).addLegend(offset=offset, brush=pg.mkBrush(background))


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
    item.getAxis("bottom").setHeight(
        ticks.lineSpacing() * tick_lines + offset + label_room["bottom"] + 8)
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
    item.titleLabel.setMinimumWidth(0)     # a long title must not widen the plot
    item.titleLabel.setMaximumHeight(height)
    item.layout.setRowFixedHeight(0, height)


def scale_widget_font(widget: QWidget, scale: float) -> None:
    """Scale the font of a view's Qt widgets (check boxes, combo boxes, labels)."""
    widget.setFont(scaled_font(scale))

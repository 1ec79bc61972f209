"""A plot's title and axis labels that shorten to fit its size.

A projector's narrow dock at large text leaves a histogram 150 px wide: its
title "conv2d 0 (relu)" and label "activation value" were cut mid-word, and a
vertical label taller than its plot ran into the title.  Each text is given as
candidates, longest first; the first that fits the room the plot has now is
shown, and the choice is made again whenever the plot is resized or rescaled.
"""

from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from nnviz.gui.views import plotstyle

_TITLE_FACTOR = 1.1       # plotstyle.set_title's bold title size
_MARGIN = 12              # px kept free beside a text


class FittedTexts:
    """Keeps ``plot``'s title and left/bottom labels the longest candidates that fit.

    An empty candidate ("") hides that label; the last candidate is shown when
    none fits.  ``set_scale`` follows the view's font scale (projector mode).
    """

    def __init__(self, plot: pg.PlotWidget | pg.PlotItem, *, title: Sequence[str] = (),
                 left: Sequence[str] = (), bottom: Sequence[str] = (), scale: float = 1.0):
        self.item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
        self.candidates = {"title": tuple(title), "left": tuple(left), "bottom": tuple(bottom)}
        self.scale = scale
        self.item.geometryChanged.connect(self.fit)
        self.fit()

    def set_candidates(self, **sides: Sequence[str]) -> None:
        """New candidates for ``title``, ``left`` or ``bottom`` (e.g. a title that
        carries the current accuracy), chosen among at once."""
        for side, texts in sides.items():
            self.candidates[side] = tuple(texts)
        self.fit()

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self.fit()

    def fit(self) -> None:
        """Choose every text again for the plot's current size."""
        item = self.item
        left_axis = item.getAxis("left")
        width = item.geometry().width() - left_axis.width() - _MARGIN
        label = QFontMetricsF(plotstyle.scaled_font(self.scale))
        relabel = False
        for side, room in (("left", item.vb.geometry().height() - _MARGIN),
                           ("bottom", item.vb.geometry().width() - _MARGIN)):
            text = _first_fitting(self.candidates[side], label, room)
            if text is not None and item.getAxis(side).labelText != text:
                item.setLabel(side, text)
                relabel = True
        if relabel:                   # a label shown or hidden changes the axes' room
            plotstyle.apply_font_scale(item, self.scale)
        bold = QFontMetricsF(plotstyle.scaled_font(self.scale, _TITLE_FACTOR, bold=True))
        title = _first_fitting(self.candidates["title"], bold, width)
        if title is not None and item.titleLabel.text != title:
            plotstyle.set_title(item, title, self.scale)


def _first_fitting(candidates: Sequence[str], metrics: QFontMetricsF, room: float) -> str | None:
    """The first candidate at most ``room`` px wide (the last if none is); None if none given."""
    if not candidates:
        return None
    return next((c for c in candidates if metrics.horizontalAdvance(c) <= room), candidates[-1])

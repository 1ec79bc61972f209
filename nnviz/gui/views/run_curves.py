"""What the curve views share: they draw runs (``nnviz.core.Run``), not histories.

A curve view draws the *current* run in its own colours and every *pinned*
run in that run's colour with a distinct line style, so runs can be compared
on the loss, accuracy and gradient plots.  The window hands the runs over
with ``show_runs(current, pinned)``; ``update_snapshot(snap)`` then only says
"the current run has grown, and this is its newest snapshot".  A view used on
its own (a test, a notebook) has no window to keep its run: it records the
snapshots it is given into a run of its own, started afresh when the steps go
back (a new run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnviz.core.runs import Run
from nnviz.gui.views import plotstyle

#: Colours of pinned runs: none of them is a colour of the current run's curves
#: (plotstyle.PALETTE), so a pinned run never looks like a layer of this one.
RUN_COLOURS = ("#8E44AD", "#B8860B", "#D81B60", "#6D4C41", "#546E7A", "#827717")
PINNED_WIDTH = 1.6          # px at scale 1: pinned runs are drawn a little thinner


def run_colour(i: int) -> str:
    """The i-th pinned-run colour (cycling)."""
    return RUN_COLOURS[i % len(RUN_COLOURS)]


@dataclass
class PinnedRun:
    """A run kept for comparison: its data, colour and whether it is shown."""

    run: Run
    colour: str
    visible: bool = True

    @property
    def name(self) -> str:
        return self.run.name


def pinned_pen(colour: str, scale: float = 1.0, dotted: bool = False) -> pg.QtGui.QPen:
    """A pinned run's pen: dashed (its main curve) or dotted (its secondary one)."""
    style = Qt.PenStyle.DotLine if dotted else Qt.PenStyle.DashLine
    return pg.mkPen(colour, width=PINNED_WIDTH * scale, style=style)


class RunFollower:
    """Mixin of the curve views: which run is current, which are pinned.

    Subclasses implement ``_draw_current()`` and ``_draw_pinned()``.
    """

    def _init_runs(self) -> None:
        self._run: Run | None = None
        self._owns_run = False
        self._pinned: list[PinnedRun] = []
        self._pinned_seen: list[int] = []     # points of each pinned run when last drawn
        self._pinned_look: tuple = ()         # what the pinned curves were drawn for

    @property
    def current_run(self) -> Run | None:
        return self._run

    @property
    def pinned_runs(self) -> list[PinnedRun]:
        return list(self._pinned)

    def show_runs(self, current: Run | None, pinned: Sequence[PinnedRun] = ()) -> None:
        """Draw ``current`` (None: no run yet) and the visible ``pinned`` runs."""
        if current is not self._run:
            self._run, self._owns_run = current, False
            self._forget_current()
        self._pinned = [p for p in pinned if p.visible]
        look = self._look()
        if look != self._pinned_look:     # a new current run alone redraws nothing pinned
            self._pinned_look = look
            self._pinned_seen = [p.run.recorded for p in self._pinned]
            self._draw_pinned()
        self._draw_current()

    def _follow(self, snap) -> None:
        """Take note of the current run's newest snapshot (recording it if this
        view keeps its own run), and redraw pinned runs that are still growing."""
        if self._run is None or (self._owns_run and _starts_another_run(self._run, snap)):
            self._run, self._owns_run = Run("current"), True
            self._forget_current()
        if self._owns_run:
            self._run.record(snap)
        seen = [p.run.recorded for p in self._pinned]
        if seen != self._pinned_seen:         # a run pinned while it still trains
            self._pinned_seen = seen
            self._pinned_look = self._look()
            self._draw_pinned()

    def _look(self) -> tuple:
        """What the pinned curves show: which runs, named and coloured how, how long."""
        return tuple((id(p.run), p.name, p.colour, p.run.recorded) for p in self._pinned)

    def _forget_current(self) -> None:
        """The current run changed: reset what depends on it (ranges, banners)."""

    def _draw_current(self) -> None:
        raise NotImplementedError

    def _draw_pinned(self) -> None:
        raise NotImplementedError


def _starts_another_run(run: Run, snap) -> bool:
    """The snapshot cannot continue ``run``: its steps went back or its layers differ."""
    last = run.last("step")
    names = tuple(p.name for p in snap.layers)
    return (last is not None and snap.step < last) or (bool(run.layers) and names != run.layers)


class CurveSet:
    """Curves of pinned runs on one plot, rebuilt whenever the pinned runs change."""

    def __init__(self, item: pg.PlotItem):
        self._item = item
        self.curves: list[pg.PlotDataItem] = []

    def replace(self, specs: Sequence[tuple[str | None, pg.QtGui.QPen]]) -> list[pg.PlotDataItem]:
        """New curves, one per (legend name or None, pen); the old ones are removed."""
        for curve in self.curves:
            self._item.removeItem(curve)
        self.curves = [plotstyle.fast_curve(self._item.plot(name=name, pen=pen))
                       for name, pen in specs]
        return self.curves


def finite(x: np.ndarray, y: np.ndarray,
           transform: Callable[[np.ndarray, np.ndarray], tuple] | None = None):
    """(x, y) with the missing values dropped (and ``transform`` applied)."""
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    return transform(x, y) if transform is not None else (x, y)

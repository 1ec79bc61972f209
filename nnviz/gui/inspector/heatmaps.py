"""Larger networks: per layer, heatmaps of z, a and δ with their value ranges.

A dense layer's units are laid out row by row in a near-square grid; an image
layer (C, H, W) shows one chosen channel (filter).  At most MAX_DRAWN values of
a map are drawn (larger maps are strided), so a 100,000-unit layer stays quick.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from nnviz.gui.inspector.chain import fmt
from nnviz.gui.inspector.colours import rgb, scale_of

MAX_DRAWN = 4096        # values drawn per map
QUANTITIES = (("z", "z"), ("a", "a"), ("delta", "δ"))


def as_map(values, channel: int = 0) -> tuple[np.ndarray, str]:
    """A 2-D array to draw (capped to about MAX_DRAWN values) and a note on what it shows."""
    array = np.asarray(values, dtype=float)
    note = ""
    if array.ndim == 3:
        channel = min(int(channel), array.shape[0] - 1)
        note = f"filter {channel + 1} of {array.shape[0]}"
        array = array[channel]
    if array.ndim != 2:
        flat = np.ravel(array)
        if flat.size > MAX_DRAWN:
            note = f"first {MAX_DRAWN} of {flat.size} units"
            flat = flat[:MAX_DRAWN]
        side = max(1, math.ceil(math.sqrt(flat.size)))
        padded = np.full(side * side, np.nan)
        padded[:flat.size] = flat
        array = padded.reshape(side, side)
    stride = max(1, math.ceil(math.sqrt(array.size / MAX_DRAWN)))
    if stride > 1:
        array = array[::stride, ::stride]
        note = (note + ", " if note else "") + f"every {stride}th pixel"
    return array, note


def image(array: np.ndarray, scale: float) -> np.ndarray:
    out = rgb(array / scale)
    out[np.isnan(array)] = 128
    return out


class HeatmapsView(pg.GraphicsLayoutWidget):
    """One row per layer: its z, a and δ maps, each titled with its range."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("inspectorHeatmaps")
        self.images: list[pg.ImageItem] = []
        self.titles: list[str] = []

    def draw(self, data: dict, stepper, channel: int = 0) -> None:
        self.clear()
        self.images, self.titles = [], []
        for i, layer in enumerate(data["layers"]):
            self.addLabel(f"{i + 1}. {layer['name']}", row=i, col=0)
            for c, (key, label) in enumerate(QUANTITIES):
                values = layer[key] if key != "z" or layer["z"] is not None else None
                quantity = "delta" if key == "delta" else key
                box = self.addViewBox(row=i, col=1 + 2 * c, lockAspect=True, enableMouse=False)
                if values is None or not stepper.shows(quantity, i):
                    self.addLabel(f"{label}: —", row=i, col=2 + 2 * c)
                    continue
                array, note = as_map(values, channel)
                finite = np.asarray(values, dtype=float)
                lo, hi = float(np.nanmin(finite)), float(np.nanmax(finite))
                item = pg.ImageItem(image(array, scale_of(finite)), axisOrder="row-major")
                box.addItem(item)
                box.invertY(True)
                self.images.append(item)
                title = f"{label} ∈ [{fmt(lo)}, {fmt(hi)}]" + (f"\n{note}" if note else "")
                self.titles.append(title)
                self.addLabel(title, row=i, col=2 + 2 * c)

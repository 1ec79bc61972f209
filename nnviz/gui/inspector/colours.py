"""A colour-blind-safe diverging colormap (ColorBrewer PuOr): orange < 0 < purple."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

PUOR = np.array([(179, 88, 6), (241, 163, 64), (254, 224, 182), (247, 247, 247),
                 (216, 218, 235), (153, 142, 195), (84, 39, 136)], dtype=float)


def rgb(t: np.ndarray) -> np.ndarray:
    """Colours for t in [-1, 1] (clipped), as uint8 RGB of shape t.shape + (3,)."""
    t = np.clip(np.nan_to_num(np.asarray(t, dtype=float)), -1.0, 1.0)
    x = (t + 1) / 2 * (len(PUOR) - 1)
    lo = np.floor(x).astype(int).clip(0, len(PUOR) - 2)
    f = (x - lo)[..., None]
    return (PUOR[lo] * (1 - f) + PUOR[lo + 1] * f).round().astype(np.uint8)


def qcolour(value: float, scale: float) -> QColor:
    r, g, b = rgb(np.array(value / scale if scale > 0 else 0.0))
    return QColor(int(r), int(g), int(b))


def text_on(colour: QColor) -> QColor:
    """Black or white, whichever reads on ``colour``."""
    lum = 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()
    return QColor(0, 0, 0) if lum > 140 else QColor(255, 255, 255)


def scale_of(*arrays) -> float:
    """The largest |value| (the colour range is symmetric about 0)."""
    values = [float(np.nanmax(np.abs(a))) for a in arrays if a is not None and np.size(a)]
    return max(values, default=0.0) or 1.0

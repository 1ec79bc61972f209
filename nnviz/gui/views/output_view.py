"""What the network outputs: decision boundary, fitted curve, predicted vs true,
or confusion matrix, whichever suits the task (see ``nnviz.core.viewdata``).

The worker computes the arrays; this view only colours and draws them.  The
plot items of one kind are built once and then only fed new data; they are
rebuilt when the kind or the number of classes changes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout

from nnviz.core.viewdata import OutputData
from nnviz.gui.views.fitted_texts import FittedTexts
from nnviz.gui.views.plotstyle import (ThemeAwareWidget, apply_font_scale, brush, color, make_plot,
                                       scaled_font, show_grid)

SYMBOLS = ("o", "s", "t", "d", "star", "p", "h", "t1", "+", "x")  # shape per class, too
CONFUSION_MAP = "cividis"   # colour-blind safe; dark (few) to light (many)


def symbol(i: int) -> str:
    return SYMBOLS[i % len(SYMBOLS)]


def class_rgb(n_classes: int) -> np.ndarray:
    """(n, 3) float RGB of the class colours."""
    return np.array([pg.mkColor(color(i)).getRgb()[:3] for i in range(n_classes)],
                    dtype=float)


def foreground():
    return pg.mkColor(pg.getConfigOption("foreground"))


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def boundary_rgba(probs: np.ndarray, n_classes: int) -> np.ndarray:
    """Class colours blended by probability; opaque where the network is sure.

    Translucent where it hesitates, so the plot background shows through and
    the band around the boundary reads as "unsure" on light and dark themes.
    """
    if probs.ndim == 2:                      # one sigmoid output: p(class 1)
        probs = np.stack([1.0 - probs, probs], axis=-1)
    rgb = probs @ class_rgb(probs.shape[-1])
    # confidence: 0 when all classes are equally likely, 1 when one is certain
    k = probs.shape[-1]
    sure = (probs.max(axis=-1) - 1.0 / k) * k / (k - 1)
    alpha = 255 * (0.1 + 0.4 * np.clip(sure, 0.0, 1.0))
    return np.dstack([rgb, alpha]).round().astype(np.ubyte)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


class _Page:
    """The plot items of one output kind inside the shared PlotWidget."""

    def __init__(self, view: "OutputView", data: OutputData):
        self.view = view
        self.plot = view.plot.getPlotItem()
        self.key = self.structure(data)

    @staticmethod
    def structure(data: OutputData):
        return (data.kind, data.n_classes, data.class_names)

    def update(self, data: OutputData) -> None:
        raise NotImplementedError

    def set_font_scale(self, scale: float) -> None:
        pass


class _PointsMixin:
    """Per-class scatter items: training points small and faint, validation outlined."""

    def make_points(self, n_classes, names, scale):
        outline = pg.mkPen(foreground(), width=1)
        self.train = [pg.ScatterPlotItem(pen=None, brush=brush(c, 110), symbol=symbol(c))
                      for c in range(n_classes)]
        self.val = [pg.ScatterPlotItem(pen=outline, brush=brush(c), symbol=symbol(c),
                                       name=names[c] if c < len(names) else str(c))
                    for c in range(n_classes)]
        for item in self.train + self.val:
            self.plot.addItem(item)
        self.fed = {}           # id(item list) -> the (points, labels) it shows
        self.size_points(scale)

    def size_points(self, scale):
        for item in self.train:
            item.setSize(5 * scale ** 0.5)
        for item in self.val:
            item.setSize(9 * scale ** 0.5)

    def feed(self, items, points, labels):
        """Give each class item its points; skipped when the points did not change
        (they are the same data set for a whole run)."""
        last = self.fed.get(id(items))
        if last is not None and _same(last[0], points) and _same(last[1], labels):
            return
        self.fed[id(items)] = (points, labels)
        for c, item in enumerate(items):
            if points is None:
                item.setData(x=[], y=[])
                continue
            mine = points[labels == c]
            item.setData(x=mine[:, 0].copy(), y=mine[:, 1].copy())


class _BoundaryPage(_PointsMixin, _Page):
    def __init__(self, view, data):
        super().__init__(view, data)
        self.plot.setLabel("bottom", "x₁")
        self.plot.setLabel("left", "x₂")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.lines = pg.PlotCurveItem(pen=pg.mkPen(foreground(), width=2), connect="pairs")
        self.plot.addItem(self.lines)
        self.plot.addLegend(offset=(-10, 10))
        self.make_points(data.n_classes, data.class_names, view.font_scale)
        self.extent = None

    def update(self, data):
        rgba = boundary_rgba(np.asarray(data.probs, dtype=float), data.n_classes)
        xmin, xmax, ymin, ymax = data.extent
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(pg.QtCore.QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        lines = np.asarray(data.boundary_lines if data.boundary_lines is not None
                           else np.zeros((0, 2)))
        self.lines.setData(x=lines[:, 0].copy(), y=lines[:, 1].copy())
        self.feed(self.train, data.train_points, data.train_labels)
        self.feed(self.val, data.val_points, data.val_labels)
        if data.extent != self.extent:          # leave the user's zoom alone otherwise
            self.extent = data.extent
            self.plot.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)
        accuracy = f"{percent(data.accuracy)} ({data.split})"
        self.view.set_title(f"Decision boundary · accuracy {accuracy}",
                            f"Boundary · {accuracy}", f"accuracy {percent(data.accuracy)}")

    def set_font_scale(self, scale):
        self.size_points(scale)


def r2_text(data: OutputData) -> str:
    return "" if data.r2 is None else f" · R² {data.r2:.3f} ({data.split})"


class _CurvePage(_PointsMixin, _Page):
    def __init__(self, view, data):
        super().__init__(view, data)
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")
        self.plot.addLegend(offset=(-10, 10))
        self.make_points(1, ("validation",), view.font_scale)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(color(1), width=3), name="network")
        self.plot.addItem(self.curve)

    @staticmethod
    def structure(data):
        return (data.kind,)

    def update(self, data):
        self.curve.setData(x=np.array(data.curve_x), y=np.array(data.curve_y))
        for items, points in ((self.train, data.train_points), (self.val, data.val_points)):
            self.feed(items, points, np.zeros(len(points), dtype=int))
        self.view.set_title("Network output" + r2_text(data), "Output" + r2_text(data),
                            r2_text(data).removeprefix(" · ") or "Output")

    def set_font_scale(self, scale):
        self.size_points(scale)


class _ScatterPage(_Page):
    def __init__(self, view, data):
        super().__init__(view, data)
        self.plot.setLabel("bottom", "true value")
        self.plot.setLabel("left", "predicted value")
        self.diagonal = pg.InfiniteLine(pos=(0, 0), angle=45, movable=False,
                                        pen=pg.mkPen(foreground(), width=1.5,
                                                     style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.diagonal)
        self.points = pg.ScatterPlotItem(pen=pg.mkPen(foreground(), width=0.5),
                                         brush=brush(0, 170))
        self.plot.addItem(self.points)
        self.set_font_scale(view.font_scale)

    @staticmethod
    def structure(data):
        return (data.kind,)

    def update(self, data):
        self.points.setData(x=np.array(data.y_true), y=np.array(data.y_pred))
        self.view.set_title("Predicted vs true (line = perfect)" + r2_text(data),
                            "Predicted vs true" + r2_text(data),
                            r2_text(data).removeprefix(" · ") or "Predicted vs true")

    def set_font_scale(self, scale):
        self.points.setSize(8 * scale ** 0.5)


class _ConfusionPage(_Page):
    """Counts per (true, predicted) class; colour is the row share (recall)."""

    def __init__(self, view, data):
        super().__init__(view, data)
        n = data.n_classes
        self.plot.setLabel("bottom", "predicted class")
        self.plot.setLabel("left", "true class")
        show_grid(self.plot, False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMouseEnabled(x=False, y=False)
        ticks = [[(i + 0.5, name) for i, name in enumerate(data.class_names)]]
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.getAxis("left").setTicks(ticks)
        self.colormap = pg.colormap.get(CONFUSION_MAP)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.texts = []
        for i in range(n):
            for j in range(n):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setPos(j + 0.5, i + 0.5)
                self.plot.addItem(text)
                self.texts.append(text)
        self.set_font_scale(view.font_scale)

    def update(self, data):
        counts = np.asarray(data.matrix)
        totals = counts.sum(axis=1, keepdims=True)
        share = counts / np.where(totals > 0, totals, 1)
        rgba = self.colormap.map(share.ravel(), mode="byte").reshape(*share.shape, 4)
        rgba[counts == 0, 3] = 0                # empty cells show the background
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(pg.QtCore.QRectF(0, 0, *share.shape[::-1]))
        shown = getattr(self, "shown", {})
        for k, (text, value, s) in enumerate(zip(self.texts, counts.ravel(), share.ravel())):
            look = (int(value), "fg" if value == 0 else "k" if s > 0.6 else "w")
            if shown.get(k) == look:            # re-laying out 100 texts costs: skip
                continue
            shown[k] = look
            text.setText(str(look[0]))
            text.setColor(foreground() if look[1] == "fg" else look[1])
        self.shown = shown
        n = len(counts)
        if getattr(self, "ranged", None) != n:   # leave the range alone after that
            self.ranged = n
            self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        accuracy = f"{percent(data.accuracy)} ({data.split})"
        self.view.set_title(f"Confusion · accuracy {accuracy}", f"Confusion · {accuracy}",
                            f"accuracy {percent(data.accuracy)}")

    def set_font_scale(self, scale):
        n = max(1, int(len(self.texts) ** 0.5))
        font = scaled_font(scale, 1.0 if n <= 6 else 0.85)
        for text in self.texts:
            text.setFont(font)


PAGES = {"boundary": _BoundaryPage, "curve": _CurvePage,
         "scatter": _ScatterPage, "confusion": _ConfusionPage}


class OutputView(ThemeAwareWidget):
    """The network's output over the data: boundary, curve, scatter or confusion."""

    OBJECT_NAME = "outputView"
    sample_clicked = Signal(str, int)   # ("train" | "val", data set index) nearest a click

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName(self.OBJECT_NAME)
        self.font_scale = 1.0
        self.plot = make_plot("Network output", "", "")
        self.texts = FittedTexts(self.plot)
        self.set_title("Network output (waiting for training)", "Waiting for training")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.page: _Page | None = None
        self.data: OutputData | None = None
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    @property
    def kind(self) -> str | None:
        return None if self.page is None else self.page.key[0]

    def update_data(self, data: OutputData) -> None:
        """Draw ``data``; builds the plot items only when the kind or classes change."""
        page_cls = PAGES.get(data.kind)
        if page_cls is None:
            raise ValueError(f"unknown output kind {data.kind!r}")
        if self.page is None or self.page.key != page_cls.structure(data):
            self._reset_plot()
            self.page = page_cls(self, data)
            apply_font_scale(self.plot, self.font_scale)
        self.data = data
        self.page.update(data)

    def clear(self) -> None:
        """Back to the empty plot (e.g. on Reset or a new experiment)."""
        self._reset_plot()
        self.page = None
        self.data = None
        self.set_title("Network output (waiting for training)", "Waiting for training")

    def set_title(self, *texts: str) -> None:
        """The title: the first of ``texts`` (longest first) that fits the plot's width;
        its size and weight stay as the font scale set them."""
        self.texts.set_candidates(title=texts)

    def set_font_scale(self, scale: float) -> None:
        """Enlarge text and points (projector mode)."""
        self.font_scale = float(scale)
        apply_font_scale(self.plot, self.font_scale)
        self.texts.set_scale(self.font_scale)
        if self.page is not None:
            self.page.set_font_scale(self.font_scale)

    def restyle(self) -> None:
        """Rebuild the items with the current theme's colours (after a theme switch)."""
        self.page = None
        if self.data is not None:
            self.update_data(self.data)

    def nearest_sample(self, x: float, y: float) -> tuple[str, int] | None:
        """The data point (split, data set index) nearest (x, y) on the boundary plot,
        distances measured relative to the plot's extent."""
        data = self.data
        if data is None or data.kind != "boundary" or data.extent is None:
            return None
        xmin, xmax, ymin, ymax = data.extent
        span = np.array([xmax - xmin or 1.0, ymax - ymin or 1.0])
        best = None
        for split, points, index in (("train", data.train_points, data.train_index),
                                     ("val", data.val_points, None)):
            if points is None or not len(points):
                continue
            d = np.sum(((np.asarray(points)[:, :2] - (x, y)) / span) ** 2, axis=1)
            k = int(np.argmin(d))
            if best is None or d[k] < best[0]:
                best = (float(d[k]), split, int(index[k]) if index is not None else k)
        return None if best is None else (best[1], best[2])

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        found = self.nearest_sample(point.x(), point.y())
        if found is not None:
            self.sample_clicked.emit(*found)

    def _reset_plot(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        if item.legend is not None:
            if item.legend.scene() is not None:
                item.legend.scene().removeItem(item.legend)
            item.legend = None
        for name in ("bottom", "left"):
            item.getAxis(name).setTicks(None)
        item.invertY(False)
        item.setAspectLocked(False)
        item.setMouseEnabled(x=True, y=True)
        show_grid(item, True)
        item.setLabel("bottom", "")
        item.setLabel("left", "")
        item.enableAutoRange()

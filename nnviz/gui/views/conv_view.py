"""What the convolution layers do to one image: every kernel above its feature map.

The worker computes the kernels and feature maps (``nnviz.core.viewdata.conv_data``)
for the image chosen here; this view only lays them out.  Each conv layer is one
row holding a single mosaic image (one cell per filter: kernel top left, its
label beside it, the feature map below), so a layer costs one ``setImage``
however many filters it has.  At most MAX_FILTERS filters of a layer are drawn
(each has a label item: 4,096 of them took 8 s to make).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import (QComboBox, QGraphicsPathItem, QHBoxLayout, QLabel,
                               QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from nnviz.core.viewdata import ConvData, ConvLayerData
from nnviz.gui.views.plotstyle import ThemeAwareWidget, scaled_font

MAX_COLUMNS = 8               # filters per mosaic line before wrapping
MAX_FILTERS = 64              # filters drawn per layer: the first ones, the title says so
KERNEL_MAP = "CET-CBD1"       # colour-blind-safe diverging: blue < 0 < yellow
ACTIVATION_MAP = "viridis"    # feature maps: dark = low, yellow = high
INPUT_SIDE = 96               # pixels of the input preview at font scale 1
MAX_CELL = 150                # widest a filter's cell is drawn, pixels at font scale 1
HINT = ("Each filter: its kernel (small; blue negative, yellow positive) above its "
        "feature map for the input image (bright = strong response).")


def _foreground():
    return pg.mkColor(pg.getConfigOption("foreground"))


def colorize(values: np.ndarray, symmetric: bool) -> np.ndarray:
    """RGBA bytes of ``values`` on one shared scale.

    symmetric: diverging map centred on 0 (kernels); otherwise viridis from the
    minimum to the maximum of the whole layer, so filters compare (a dead ReLU
    filter stays dark).
    """
    if symmetric:
        top = float(np.max(np.abs(values))) or 1.0
        scaled, name = 0.5 + 0.5 * values / top, KERNEL_MAP
    else:
        low = min(float(np.min(values)), 0.0)
        span = float(np.max(values)) - low or 1.0
        scaled, name = (values - low) / span, ACTIVATION_MAP
    flat = np.clip(np.nan_to_num(scaled, nan=0.5), 0.0, 1.0).ravel()
    return pg.colormap.get(name).map(flat, mode="byte").reshape(*values.shape, 4)


class _Layout:
    """Where each filter's kernel and map go inside a layer's mosaic (pixels)."""

    def __init__(self, n: int, kernel_hw: tuple[int, int], map_hw: tuple[int, int]):
        kh, kw = kernel_hw
        h, w = map_hw
        self.n = n
        self.scale = max(1, (w // 2) // kw)                 # kernel pixel size
        self.kernel_hw = (kh * self.scale, kw * self.scale)
        self.map_hw = (h, w)
        gap = max(1, round(0.15 * w))
        self.cell_w = max(w, self.kernel_hw[1] + max(3, kw * self.scale))
        self.cell_h = self.kernel_hw[0] + max(1, gap // 2) + h
        self.columns = min(n, MAX_COLUMNS)
        self.lines = math.ceil(n / self.columns)
        self.gap = gap
        self.width = self.columns * self.cell_w + (self.columns - 1) * gap
        self.height = self.lines * self.cell_h + (self.lines - 1) * gap

    def origin(self, i: int) -> tuple[int, int]:
        """(row, column) of the top-left pixel of filter i's cell."""
        line, column = divmod(i, self.columns)
        return line * (self.cell_h + self.gap), column * (self.cell_w + self.gap)

    def compose(self, kernels: np.ndarray, maps: np.ndarray) -> np.ndarray:
        """One RGBA image: kernels (n, kh, kw) and maps (n, H, W) already coloured."""
        image = np.zeros((self.height, self.width, 4), dtype=np.ubyte)   # transparent gaps
        kh, kw = self.kernel_hw
        h, w = self.map_hw
        big = np.repeat(np.repeat(kernels, self.scale, axis=1), self.scale, axis=2)
        for i in range(self.n):
            top, left = self.origin(i)
            image[top:top + kh, left:left + kw] = big[i]
            image[top + self.cell_h - h:top + self.cell_h, left:left + w] = maps[i]
        return image


class _Mosaic(pg.GraphicsView):
    """A ViewBox showing one image at a fixed aspect ratio, plus text labels."""

    def __init__(self):
        super().__init__()
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False,
                              enableMenu=False, defaultPadding=0.0)
        self.setCentralItem(self.box)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.image)
        self.ratio = 1.0
        self.shape = None
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumHeight(24)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_shape(self, height: int, width: int) -> None:
        if self.shape == (height, width):
            return
        self.shape = (height, width)
        self.ratio = height / width
        self.box.setRange(xRange=(0, width), yRange=(0, height), padding=0)
        self.updateGeometry()

    def wheelEvent(self, event) -> None:
        event.ignore()          # nothing to zoom: let the scroll area scroll

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        width = min(width, self.maximumWidth())    # layouts ask with the full width
        return max(24, round(width * self.ratio))

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setHeight(self.heightForWidth(hint.width()))
        return hint


class _ConvRow(QWidget):
    """One conv layer: a title and its kernel/feature-map mosaic."""

    def __init__(self, layer: ConvLayerData, font_scale: float):
        super().__init__()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.mosaic = _Mosaic()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.mosaic)
        total, in_c, kh, kw = layer.kernels.shape
        n = min(total, MAX_FILTERS)
        self.in_channels = in_c
        self.geometry = _Layout(n, (kh, kw), layer.maps.shape[1:])
        self.mosaic.set_shape(self.geometry.height, self.geometry.width)
        self.mosaic.box.addItem(self._kernel_frames())
        self.labels = []
        for i in range(n):
            top, left = self.geometry.origin(i)
            label = pg.TextItem(f"f{i}", color=_foreground(), anchor=(0, 0.5))
            label.setPos(left + self.geometry.kernel_hw[1] + 0.3,
                         top + self.geometry.kernel_hw[0] / 2)
            self.mosaic.box.addItem(label)
            self.labels.append(label)
        self.map_count = 0
        self.set_font_scale(font_scale)

    def _kernel_frames(self) -> QGraphicsPathItem:
        """Thin frames around the kernels (their near-zero white would vanish on a
        white background), all in one path item."""
        path = QPainterPath()
        kh, kw = self.geometry.kernel_hw
        for i in range(self.geometry.n):
            top, left = self.geometry.origin(i)
            path.addRect(left, top, kw, kh)
        item = QGraphicsPathItem(path)
        color = _foreground()
        color.setAlpha(110)
        item.setPen(pg.mkPen(color, width=1))
        item.setZValue(1)
        return item

    def update_layer(self, layer: ConvLayerData) -> None:
        n = self.geometry.n
        kernels = np.asarray(layer.kernels[:n], dtype=float)
        mean_kernels = kernels[:, 0] if kernels.shape[1] == 1 else kernels.mean(axis=1)
        maps = np.asarray(layer.maps[:n], dtype=float)
        image = self.geometry.compose(colorize(mean_kernels, True), colorize(maps, False))
        self.mosaic.image.setImage(image, autoLevels=False)
        self.map_count = n
        channels = ("" if self.in_channels == 1
                    else f"; kernels averaged over {self.in_channels} input channels")
        total = len(layer.maps)
        count = f"{total}" if total == n else f"the first {n} of {total:,}"
        h, w = maps.shape[1:]
        low, high = float(np.min(maps)), float(np.max(maps))
        self.title.setText(f"<b>{layer.name}</b> · {count} feature maps {h}×{w}, "
                           f"values {low:.2g} … {high:.2g}{channels}")

    def set_font_scale(self, scale: float) -> None:
        # few filters must not blow a feature map up to the full view width
        self.mosaic.setMaximumWidth(round(self.geometry.columns * MAX_CELL * scale))
        self.title.setFont(scaled_font(scale))
        font = scaled_font(scale, 0.8)
        for label in self.labels:
            label.setFont(font)


def _input_rgba(image: np.ndarray) -> np.ndarray:
    """A (C, H, W) input as something ImageItem shows: grey, or RGB for 3 channels."""
    image = np.asarray(image, dtype=float)
    low, high = float(np.min(image)), float(np.max(image))
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    if image.shape[0] == 3:
        rgb = np.moveaxis(scaled, 0, -1)
    else:
        rgb = np.repeat(scaled.mean(axis=0)[..., None], 3, axis=-1)
    alpha = np.ones(rgb.shape[:2] + (1,))
    return (255 * np.concatenate([rgb, alpha], axis=-1)).round().astype(np.ubyte)


class ConvView(ThemeAwareWidget):
    """Kernels and feature maps of every conv layer for a chosen input image.

    The image list is filled with ``set_image_choices``; choosing one only emits
    ``imageChosen(index)``: the worker then sends a new ConvData.
    """

    imageChosen = Signal(int)

    OBJECT_NAME = "convView"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName(self.OBJECT_NAME)
        self.font_scale = 1.0
        self.rows: list[_ConvRow] = []
        self._structure = None
        self.data: ConvData | None = None

        self.combo = QComboBox()
        self.combo.setObjectName("convImageCombo")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentIndexChanged.connect(self.imageChosen.emit)
        self.combo_label = QLabel("Input image")
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.preview = _Mosaic()
        self.preview.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

        chooser = QVBoxLayout()
        chooser.addWidget(self.combo_label)
        chooser.addWidget(self.combo)
        chooser.addWidget(self.hint)
        chooser.addStretch(1)
        header = QHBoxLayout()
        header.addWidget(self.preview)
        header.addLayout(chooser, 1)

        self.message = QLabel("Waiting for a network with convolution layers.")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)       # a projector's narrow dock: wrapped, not cut
        self.content = QWidget()
        self.rows_layout = QVBoxLayout(self.content)
        self.rows_layout.setContentsMargins(4, 0, 4, 0)
        self.rows_layout.addWidget(self.message)
        self.rows_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.content)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.scroll, 1)
        self.set_font_scale(1.0)

    # ------------------------------------------------------------ public API
    def set_image_choices(self, names, current: int = 0) -> None:
        """Fill the image chooser (no imageChosen is emitted for this)."""
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems([str(n) for n in names])
        if names:
            self.combo.setCurrentIndex(min(max(current, 0), len(names) - 1))
        self.combo.blockSignals(False)

    def update_data(self, data: ConvData) -> None:
        """Show ``data``; rows are rebuilt only when the conv layers change shape."""
        if data.image.ndim == 3:
            self.preview.image.setImage(_input_rgba(data.image), autoLevels=False)
            self.preview.set_shape(*data.image.shape[1:])
        else:                                   # a flat input is no picture
            self.preview.image.clear()
        structure = tuple((l.name, l.kernels.shape, l.maps.shape) for l in data.layers)
        if structure != self._structure:
            self._build_rows(data.layers)
            self._structure = structure
        for row, layer in zip(self.rows, data.layers):
            row.update_layer(layer)
        self.data = data
        self.message.setVisible(not data.layers)
        if not data.layers:
            self.message.setText("This network has no convolution layers: "
                                 "add a conv2d layer to see kernels and feature maps.")

    def feature_map_counts(self) -> list[int]:
        """Feature maps shown per conv layer (one per filter)."""
        return [row.map_count for row in self.rows]

    def clear(self) -> None:
        self._build_rows(())
        self._structure = None
        self.data = None
        self.preview.image.clear()
        self.message.setText("Waiting for a network with convolution layers.")
        self.message.setVisible(True)

    def set_font_scale(self, scale: float) -> None:
        self.font_scale = float(scale)
        font = scaled_font(self.font_scale)
        for widget in (self.combo, self.combo_label, self.message):
            widget.setFont(font)
        self.hint.setFont(scaled_font(self.font_scale, 0.85))
        side = round(INPUT_SIDE * self.font_scale)
        self.preview.setFixedSize(side, side)
        for row in self.rows:
            row.set_font_scale(self.font_scale)

    def restyle(self) -> None:
        """Rebuild the rows with the current theme's colours (after a theme switch)."""
        self._structure = None
        if self.data is not None:
            self.update_data(self.data)

    # ------------------------------------------------------------ internals
    def _build_rows(self, layers) -> None:
        for row in self.rows:
            self.rows_layout.removeWidget(row)
            row.setParent(None)
            row.deleteLater()
        self.rows = [_ConvRow(layer, self.font_scale) for layer in layers]
        for i, row in enumerate(self.rows):
            self.rows_layout.insertWidget(1 + i, row)

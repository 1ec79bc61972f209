"""The kernel playground: one hand-made kernel on a real image, stage by stage.

Input -> feature map (``convolve``) -> activated -> pooled, side by side, each with
its size; the notes' output-size formula with the numbers; hovering the feature
map shows the input window and the weighted sum behind that pixel.  Any edit
recomputes after a short debounce (a few ms on the 427x640 photo).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGraphicsRectItem,
                               QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from nnviz.core.convolution import KERNEL_NOTES, KERNELS, kernel_name
from nnviz.core.errors import SpecError
from nnviz.gui.panels.widgets import NumberSpinBox
from nnviz.gui.playground import images, stages
from nnviz.gui.views.plotstyle import scaled_font

DEBOUNCE_MS = 15
MAX_SIDE = 5
# diverging through a dark centre, so faint edges stand out: blue < 0 < orange-yellow
SIGNED_MAP = pg.ColorMap([0.0, 0.5, 1.0], [(86, 180, 233), (25, 25, 25), (240, 200, 40)])
PADDINGS = (("valid (none)", "valid"), ("same", "same"), ("1 pixel", 1), ("2 pixels", 2))
POOLING_LABELS = (("none", "none"), ("max 2×2", "max"), ("average 2×2", "avg"))
STAGES = (("input", "Input"), ("feature", "Feature map"), ("activated", "Activated"),
          ("pooled", "Pooled"))
HINT = ("Hover over the feature map to see the input window and the sum that made the pixel. "
        "Blue is negative, yellow positive.")


def display_range(values: np.ndarray) -> float:
    """The magnitude shown at full colour: the 99.5th percentile of |values| (of a
    sample of pixels), so a few extreme pixels do not leave every edge faint."""
    sample = np.abs(values.ravel()[::max(1, values.size // 50_000)])
    return float(np.percentile(sample, 99.5)) or float(sample.max()) or 1.0


def to_rgba(values: np.ndarray) -> np.ndarray:
    """(C, H, W) values as RGBA bytes: RGB for 3 channels; one channel in grey when
    it has no negative values, on a diverging map centred on 0 when it has.  Values
    beyond ``display_range`` saturate (the hover text gives the exact numbers)."""
    values = np.asarray(values, dtype=float)
    top = display_range(values)
    signed = float(values.min()) < 0
    if values.shape[0] == 3:
        rgb = np.moveaxis(0.5 + 0.5 * values / top if signed else values / top, 0, -1)
        alpha = np.ones(rgb.shape[:2] + (1,))
        return (255 * np.concatenate([np.clip(rgb, 0, 1), alpha], axis=-1)).round().astype(np.ubyte)
    channel = values[0]
    if signed:
        return SIGNED_MAP.map(np.clip(0.5 + 0.5 * channel / top, 0, 1), mode="byte")
    grey = np.round(255 * np.clip(channel / top, 0, 1)).astype(np.ubyte)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


class StagePanel(QWidget):
    """A title (stage name and size) above one image, kept at its aspect ratio."""

    def __init__(self, key: str, title: str):
        super().__init__()
        self.title_text = title
        self.title = QLabel(title)
        self.title.setObjectName(f"playgroundStage_{key}")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # the title must not widen its panel: the four panels share the width equally
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.view = pg.GraphicsView()
        self.view.setBackground(None)           # the window's colour around the image
        self.view.setObjectName(f"playgroundView_{key}")
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False,
                              enableMenu=False, defaultPadding=0.0)
        self.view.setCentralItem(self.box)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.image)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.setMinimumSize(80, 80)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        self.shape = None

    def show(self, values: np.ndarray | None, size: str) -> None:
        self.title.setText(f"{self.title_text}\n{size}")
        if values is None:
            self.image.clear()
            return
        self.image.setImage(to_rgba(values), autoLevels=False)   # a new array every time
        shape = values.shape[1:]
        if shape != self.shape:
            self.shape = shape
            self.box.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0)

    def pixel_at(self, scene_pos) -> tuple[int, int] | None:
        """(row, column) of the image pixel under a scene position, or None."""
        if self.shape is None or not self.box.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.image.mapFromScene(scene_pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        return (row, col) if 0 <= row < self.shape[0] and 0 <= col < self.shape[1] else None


class KernelPlayground(QWidget):
    """Edit a kernel, watch what it does to an image: the lesson before any training.

    Signals: ``kernel_chosen(kernel, trainable)`` when "Use as the first kernel of my
    CNN" is pressed (kernel: a (K, K) float64 copy); ``updated()`` after each recompute.
    """

    kernel_chosen = Signal(object, bool)
    updated = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("kernelPlayground")
        self.font_scale = 1.0
        self.stages: stages.Stages | None = None
        self._image = images.builtin_image("china:colour")
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.recompute)

        self.source = QComboBox(objectName="playgroundImage")
        for label, key in images.SOURCES:
            self.source.addItem(label, key)
        self.source.addItem("Your own file…", "file")
        self.digit = QSpinBox(objectName="playgroundDigit")
        self.digit.setRange(0, 1796)
        self.digit.setPrefix("digit no. ")
        self.open_file = QPushButton("Open PNG/JPEG…", objectName="playgroundOpenFile")
        self.file_note = QLabel(objectName="playgroundFileNote")
        self.file_note.setWordWrap(True)

        self.size = QComboBox(objectName="playgroundKernelSize")
        self.size.addItem("3×3", 3)
        self.size.addItem("5×5", 5)
        self.named = QComboBox(objectName="playgroundNamedKernel")
        self.named.addItem("custom", "")
        for name in KERNELS:
            self.named.addItem(name.replace("_", " "), name)
            self.named.setItemData(self.named.count() - 1, KERNEL_NOTES[name], Qt.ItemDataRole.ToolTipRole)
        self.cells = [[self._cell(r, c) for c in range(MAX_SIDE)] for r in range(MAX_SIDE)]
        grid = QGridLayout()
        grid.setSpacing(2)
        for r, row in enumerate(self.cells):
            for c, cell in enumerate(row):
                grid.addWidget(cell, r, c)
        self.kernel_note = QLabel(objectName="playgroundKernelNote")
        self.kernel_note.setWordWrap(True)

        self.stride = QSpinBox(objectName="playgroundStride")
        self.stride.setRange(1, 4)
        self.padding = QComboBox(objectName="playgroundPadding")
        for label, value in PADDINGS:
            self.padding.addItem(label, value)
        self.activation = QComboBox(objectName="playgroundActivation")
        self.activation.addItems(stages.ACTIVATIONS)
        self.pooling = QComboBox(objectName="playgroundPooling")
        for label, value in POOLING_LABELS:
            self.pooling.addItem(label, value)

        self.use = QPushButton("Use as the first kernel of my CNN", objectName="playgroundUseKernel")
        self.use.setToolTip("copy this kernel into the first conv2d layer of the model: every "
                            "filter and channel starts from it (the layer's kernel size follows)")
        self.trainable = QCheckBox("trainable (unticked: frozen)", objectName="playgroundTrainable")
        self.use_note = QLabel(objectName="playgroundUseNote")
        self.use_note.setWordWrap(True)
        self.use_note.hide()

        image_box = QGroupBox("Image")
        image_layout = QVBoxLayout(image_box)
        for widget in (self.source, self.digit, self.open_file, self.file_note):
            image_layout.addWidget(widget)
        kernel_box = QGroupBox("Kernel")
        kernel_layout = QVBoxLayout(kernel_box)
        top = QHBoxLayout()
        top.addWidget(self.size)
        top.addWidget(self.named, 1)
        kernel_layout.addLayout(top)
        kernel_layout.addLayout(grid)
        kernel_layout.addWidget(self.kernel_note)
        layer_box = QGroupBox("Layer")
        form = QFormLayout(layer_box)
        form.addRow("Stride", self.stride)
        form.addRow("Padding", self.padding)
        form.addRow("Activation", self.activation)
        form.addRow("Pooling", self.pooling)
        self.controls = QWidget()
        controls = QVBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        for widget in (image_box, kernel_box, layer_box):
            controls.addWidget(widget)
        controls.addWidget(self.use)
        controls.addWidget(self.trainable)
        controls.addWidget(self.use_note)
        controls.addStretch(1)

        self.panels = {key: StagePanel(key, title) for key, title in STAGES}
        row = QHBoxLayout()
        self.arrows = []
        for i, panel in enumerate(self.panels.values()):
            if i:
                arrow = QLabel("→")
                self.arrows.append(arrow)
                row.addWidget(arrow)
            row.addWidget(panel, 1)
        self.formula = QLabel(objectName="playgroundFormula")
        self.formula.setWordWrap(True)
        self.hover = QLabel(HINT, objectName="playgroundHover")
        self.hover.setWordWrap(True)
        self.hover.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.error = QLabel(objectName="playgroundError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #C0261C;")
        self.error.hide()
        self.window_marker = QGraphicsRectItem()
        self.window_marker.setPen(pg.mkPen("#E69F00", width=2, cosmetic=True))
        self.window_marker.setZValue(10)
        self.window_marker.hide()
        self.panels["input"].box.addItem(self.window_marker)
        right = QVBoxLayout()
        right.addLayout(row, 3)
        right.addWidget(self.error)
        right.addWidget(self.formula)
        right.addWidget(self.hover, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addLayout(right, 1)

        self.source.currentIndexChanged.connect(self._source_changed)
        self.digit.valueChanged.connect(lambda _: self._source_changed())
        self.open_file.clicked.connect(self._ask_for_file)
        self.size.currentIndexChanged.connect(self._size_changed)
        self.named.currentIndexChanged.connect(self._named_changed)
        for widget in (self.stride,):
            widget.valueChanged.connect(self.schedule)
        for widget in (self.padding, self.activation, self.pooling):
            widget.currentIndexChanged.connect(self.schedule)
        self.use.clicked.connect(lambda: self.kernel_chosen.emit(self.kernel(), self.trainable.isChecked()))
        self.panels["feature"].view.scene().sigMouseMoved.connect(self._hovered)

        self._source_changed()
        self.set_named_kernel("sobel_x")
        self.set_font_scale(1.0)
        self.recompute()

    # ------------------------------------------------------------ public API
    def kernel(self) -> np.ndarray:
        """The kernel in the editor, (K, K) float64 (a copy)."""
        return self._cells_kernel(self.size.currentData())

    def set_kernel(self, kernel) -> None:
        """Put a 3x3 or 5x5 kernel into the editor (the name becomes "custom" unless it is one)."""
        kernel = np.asarray(kernel, dtype=float)
        if kernel.shape not in ((3, 3), (5, 5)):
            raise SpecError("kernel", f"the playground edits 3x3 or 5x5 kernels, got {kernel.shape}",
                            "pass a 3x3 or 5x5 array")
        self._fill(kernel)
        self._select(self.named, kernel_name(kernel) or "")
        self.schedule()

    def set_named_kernel(self, name: str) -> None:
        self._select(self.named, name, signals=True)

    def show_use_result(self, message: str, ok: bool) -> None:
        """What "Use as the first kernel" did (or why it did nothing), under the button."""
        self.use_note.setText(message)
        self.use_note.setStyleSheet("" if ok else "color: #C0261C;")
        self.use_note.show()

    def set_image(self, image: np.ndarray, note: str = "") -> None:
        """Show a (C, H, W) or (H, W) image in [0, 1] (e.g. from a data set)."""
        image = np.asarray(image, dtype=float)
        self._image = image[None] if image.ndim == 2 else image
        self.file_note.setText(note)
        self.file_note.setVisible(bool(note))
        self.schedule()

    def load_file(self, path) -> bool:
        """Load a PNG/JPEG; False (and the reason shown) when it is refused."""
        try:
            image, note = images.load_image_file(path)
        except SpecError as error:
            self._show_error(str(error))
            return False
        self._select(self.source, "file")
        self.digit.hide()
        self.set_image(image, note)
        return True

    def show_pixel(self, row: int, col: int) -> str:
        """Explain feature-map pixel (row, col) in the hover line; returns the text."""
        if self.stages is None:
            return ""
        text, _ = stages.explain_pixel(self.stages, row, col)
        self.hover.setText(text)
        s = self.stages.settings
        (top, _), (left, _) = self.stages.pads
        kh, kw = s.kernel.shape
        self.window_marker.setRect(QRectF(col * s.stride - left, row * s.stride - top, kw, kh))
        self.window_marker.show()
        return text

    def set_font_scale(self, scale: float) -> None:
        self.font_scale = float(scale)
        self.setFont(scaled_font(scale))
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(scaled_font(scale, 0.9).pointSizeF())
        self.hover.setFont(mono)
        self.formula.setFont(mono)
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance("−0.063") + 10
        for row in self.cells:
            for cell in row:
                cell.setFixedWidth(width)
        self.controls.setMaximumWidth(metrics.averageCharWidth() * 34)
        for arrow in self.arrows:
            arrow.setFont(scaled_font(scale, 1.6))

    # ------------------------------------------------------------ updates
    def schedule(self, *_) -> None:
        """Recompute soon; edits in quick succession cost one recompute."""
        self._timer.start()

    def recompute(self) -> None:
        self._timer.stop()
        settings = stages.Settings(self.kernel(), self.stride.value(), self.padding.currentData(),
                                   self.activation.currentText(), self.pooling.currentData())
        try:
            result = stages.compute(self._image, settings)
        except SpecError as error:
            self._show_error(str(error))
            return
        self.error.hide()
        self.stages = result
        self.panels["input"].show(result.image, stages.size_text(result.image))
        self.panels["feature"].show(result.feature, stages.size_text(result.feature))
        self.panels["activated"].title_text = f"Activated ({settings.activation})"
        self.panels["activated"].show(result.activated, stages.size_text(result.activated))
        self.panels["pooled"].show(result.pooled, stages.size_text(result.pooled))
        self.formula.setText(stages.formula_text(result))
        self.window_marker.hide()
        self.updated.emit()

    # ------------------------------------------------------------ internals
    def _cell(self, r: int, c: int) -> NumberSpinBox:
        cell = NumberSpinBox(-99.0, 99.0, 0.0, step=0.5, name=f"kernelCell_{r}_{c}")
        cell.setKeyboardTracking(True)          # every keystroke updates the pictures
        cell.setButtonSymbols(NumberSpinBox.ButtonSymbols.NoButtons)
        cell.setAlignment(Qt.AlignmentFlag.AlignRight)
        cell.valueChanged.connect(self._cell_edited)
        return cell

    def _fill(self, kernel: np.ndarray) -> None:
        k = kernel.shape[0]
        self._select(self.size, k)
        self._show_cells(k)
        for r in range(MAX_SIDE):
            for c in range(MAX_SIDE):
                cell = self.cells[r][c]
                cell.blockSignals(True)
                cell.setValue(float(kernel[r, c]) if r < k and c < k else 0.0)
                cell.blockSignals(False)

    def _show_cells(self, k: int) -> None:
        for r in range(MAX_SIDE):
            for c in range(MAX_SIDE):
                self.cells[r][c].setVisible(r < k and c < k)

    def _select(self, combo: QComboBox, data, signals: bool = False) -> None:
        combo.blockSignals(not signals)
        combo.setCurrentIndex(max(combo.findData(data), 0))
        combo.blockSignals(False)
        if combo is self.named:
            name = combo.currentData()
            self.kernel_note.setText(KERNEL_NOTES.get(name, "your own weights"))

    def _cell_edited(self, *_) -> None:
        self._select(self.named, "")
        self.schedule()

    def _named_changed(self, *_) -> None:
        name = self.named.currentData()
        self.kernel_note.setText(KERNEL_NOTES.get(name, "your own weights"))
        if name:
            self._fill(np.asarray(KERNELS[name]))
            self.schedule()

    def _size_changed(self, *_) -> None:
        k = self.size.currentData()
        old = self._cells_kernel(MAX_SIDE)
        self._show_cells(k)
        # keep the centre: 3x3 -> 5x5 puts the old kernel in the middle of zeros
        new = np.zeros((k, k))
        if k == 5:
            new[1:4, 1:4] = old[:3, :3]
        else:
            new[:] = old[1:4, 1:4]
        self._fill(new)
        self._select(self.named, "")
        self.schedule()

    def _cells_kernel(self, k: int) -> np.ndarray:
        return np.array([[self.cells[r][c].value() for c in range(k)] for r in range(k)])

    def _source_changed(self, *_) -> None:
        key = self.source.currentData()
        self.digit.setVisible(key == "digit")
        if key == "file":
            return
        self.set_image(images.builtin_image(key, self.digit.value()))

    def _ask_for_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", "Images (*.png *.jpg *.jpeg)")
        if path:
            self.load_file(path)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _hovered(self, scene_pos) -> None:
        pixel = self.panels["feature"].pixel_at(scene_pos)
        if pixel is not None:
            self.show_pixel(*pixel)

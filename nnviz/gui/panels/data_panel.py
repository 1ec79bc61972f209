"""The data panel: choose a built-in data set or a CSV file, set its parameters, preview it."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from nnviz.core.datasets import DATASETS, DEFAULTS, PARAMS
from nnviz.gui.panels import widgets
from nnviz.gui.views import plotstyle

LABELS = {"n_samples": "Samples", "noise": "Noise", "n_classes": "Classes",
          "patch": "Patch size", "val_fraction": "Validation fraction", "seed": "Data seed"}
_PREVIEW_IMAGES = 12       # images shown for image data sets
_PREVIEW_POINTS = 1500     # points shown for scatter previews
CSV = "csv"                # the combo entry of a CSV file (shown once one is chosen)


class DataPanel(QWidget):
    """Data set combo (``datasetCombo``), its parameters and a preview; "Open CSV…"
    (``openCsvButton``) takes your own data (``csv_dialog`` chooses the file).

    ``changed`` is emitted after every user edit; ``set_spec`` does not emit.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self._loading = False
        self._name = ""
        self.editors: dict[str, QWidget] = {}

        self.combo = QComboBox()
        self.combo.setObjectName("datasetCombo")
        for name, description in DATASETS.items():
            self.combo.addItem(name.replace("_", " "), name)
            self.combo.setItemData(self.combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.combo.currentIndexChanged.connect(self._dataset_chosen)
        self.csv_button = QPushButton("Open CSV…")
        self.csv_button.setObjectName("openCsvButton")
        self.csv_button.setToolTip("train on your own data: a CSV file with a header row, "
                                   "one column the target")
        self.csv_button.clicked.connect(self.open_csv)
        self._csv: dict | None = None            # the CSV data set, once one is chosen

        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.PlainText)
        self.description.setObjectName("datasetDescription")
        self.params_box = QGroupBox("Parameters")
        self.form = QFormLayout(self.params_box)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error = widgets.error_label("dataError")
        self.info = QLabel()
        self.info.setObjectName("datasetInfo")
        self.info.setWordWrap(True)
        self.preview = plotstyle.make_plot("Preview", "", "")
        self.preview.setObjectName("previewPlot")
        self.preview.setMinimumHeight(220)
        self.preview.getPlotItem().setMouseEnabled(x=False, y=False)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Data set"))
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.csv_button)
        layout.addLayout(row)
        layout.addWidget(self.description)
        layout.addWidget(self.params_box)
        layout.addWidget(self.error)
        layout.addWidget(self.info)
        layout.addWidget(self.preview, 1)

    # ------------------------------------------------------------------ spec
    def spec(self) -> dict:
        """The data-set spec: name and every parameter."""
        if self._name == CSV and self._csv is not None:
            return dict(self._csv)
        spec = {"name": self._name}
        for key, editor in self.editors.items():
            spec[key] = editor.value()
        return spec

    def set_spec(self, spec: dict | str) -> None:
        """Show ``spec`` (missing parameters at their defaults); emits nothing."""
        if isinstance(spec, str):
            spec = {"name": spec}
        name = spec.get("name")
        if name == CSV:
            self._show_csv(spec)
            return
        if name not in DATASETS:
            return
        self._loading = True
        try:
            self.combo.setCurrentIndex(self.combo.findData(name))
            self._build_editors(name, {**DEFAULTS[name], **spec})
        finally:
            self._loading = False

    def open_csv(self) -> bool:
        """Ask for a CSV file (preview, target column); True if one was taken."""
        dialog = self.csv_dialog(self._csv.get("path") if self._csv else None, self)
        spec = dialog.dataset_spec() if dialog.exec() else None
        dialog.deleteLater()
        if spec is None:
            return False
        self._show_csv(spec)
        self.changed.emit()
        return True

    @staticmethod
    def csv_dialog(path, parent):
        """What "Open CSV…" opens (tests put a stand-in here); imported on first use,
        with superqt, which the window's start-up does not need."""
        from nnviz.gui.panels.csv_dialog import CsvDialog
        return CsvDialog(path, parent)

    def _show_csv(self, spec: dict) -> None:
        """Show a CSV data set: its file in the combo; no built-in parameters."""
        self._csv = dict(spec)
        self._loading = True
        try:
            index = self.combo.findData(CSV)
            if index < 0:
                self.combo.addItem(CSV, CSV)
                index = self.combo.count() - 1
            path = str(spec.get("path", ""))
            self.combo.setItemText(index, f"CSV: {path.replace(chr(92), '/').rsplit('/', 1)[-1]}")
            self.combo.setItemData(index, widgets.plain_tooltip(path), Qt.ItemDataRole.ToolTipRole)
            self.combo.setCurrentIndex(index)
            while self.form.rowCount():
                self.form.removeRow(0)
            self.editors = {}
            self._name = CSV
            self.description.setText(f"Your own data from {path}, target column "
                                     f"“{spec.get('target', 'the last')}”.")
        finally:
            self._loading = False

    def _dataset_chosen(self) -> None:
        name = self.combo.currentData()
        if self._loading or name == self._name:
            return
        if name == CSV:                     # back to the file chosen before
            self._show_csv(self._csv)
            self.changed.emit()
            return
        self._build_editors(name, DEFAULTS[name])
        self.changed.emit()

    def _build_editors(self, name: str, values: dict) -> None:
        if name != self._name:
            while self.form.rowCount():
                self.form.removeRow(0)
            self.editors = {}
            for key, param in PARAMS[name].items():
                editor = _editor(key, param)
                editor.valueChanged.connect(self._edited)
                self.editors[key] = editor
                self.form.addRow(LABELS.get(key, key.replace("_", " ").capitalize()), editor)
            self._name = name
            self.description.setText(DATASETS[name])
        for key, editor in self.editors.items():
            editor.blockSignals(True)
            editor.setValue(values.get(key, DEFAULTS[name][key]))
            editor.blockSignals(False)

    def _edited(self) -> None:
        if not self._loading:
            self.changed.emit()

    # ------------------------------------------------------------------ feedback
    def show_error(self, key: str | None, message: str | None) -> None:
        """Mark parameter ``key`` (or just show the message) for a data-set error."""
        for name, editor in self.editors.items():
            widgets.mark_invalid(editor, message if message and name == key else None)
        widgets.show_error(self.error, message)

    def show_preview(self, dataset, image_shape: tuple | None = None) -> None:
        """Draw the data set: a scatter of 2-D data, a curve of 1-D data, or sample images."""
        item = self.preview.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        item.invertY(False)
        item.setAspectLocked(False)
        item.showAxes(True)
        if dataset is None:
            self.info.setText("")
            item.showAxes(False)
            plotstyle.set_title(self.preview, "No preview: the data set is not valid", 1.0)
            return
        n_train, n_val = len(dataset.X_train), len(dataset.X_val)
        shape = tuple(dataset.input_shape)
        parts = [f"{n_train} training + {n_val} validation samples",
                 f"{dataset.n_classes} classes" if dataset.task == "classification" else "regression",
                 "input " + "×".join(map(str, shape))]
        if not dataset.holdout:
            parts[0] = f"{n_train} samples (validated on the training points)"
        self.info.setText(" · ".join(parts))
        X = np.asarray(dataset.X_train)
        if image_shape is None and len(shape) == 3:
            image_shape = shape
        if image_shape is not None:
            self._preview_images(X, dataset, image_shape)
        elif X.reshape(len(X), -1).shape[1] == 1:
            self._preview_curve(X, dataset)
        else:
            self._preview_scatter(X, dataset)
        plotstyle.set_title(self.preview, _preview_title(dataset, image_shape), 1.0)

    def _preview_scatter(self, X, dataset) -> None:
        item = self.preview.getPlotItem()
        X = X.reshape(len(X), -1)[:_PREVIEW_POINTS]
        flat_features = X.shape[1]
        item.setLabel("bottom", "x₁" if flat_features == 2 else "feature 1")
        item.setLabel("left", "x₂" if flat_features == 2 else "feature 2")
        if dataset.task == "classification":
            if item.legend is None:
                item.addLegend(offset=(-5, 5))
            labels = np.asarray(dataset.y_train)[:_PREVIEW_POINTS]
            for k, name in enumerate(dataset.class_names):
                pts = X[labels == k]
                item.addItem(pg.ScatterPlotItem(
                    pts[:, 0].copy(), pts[:, 1].copy(), size=6, pen=pg.mkPen(None),
                    brush=plotstyle.brush(k, 200), name=str(name)))
        else:
            y = np.asarray(dataset.y_train).reshape(len(dataset.y_train), -1)[:_PREVIEW_POINTS, 0]
            span = np.ptp(y) or 1.0
            cmap = pg.colormap.get("viridis")
            brushes = [pg.mkBrush(c) for c in cmap.map((y - y.min()) / span, mode="qcolor")]
            item.addItem(pg.ScatterPlotItem(X[:, 0].copy(), X[:, 1].copy(), size=6,
                                            pen=pg.mkPen(None), brush=brushes))
        item.enableAutoRange()

    def _preview_curve(self, X, dataset) -> None:
        item = self.preview.getPlotItem()
        x = X.reshape(-1)[:_PREVIEW_POINTS]
        y = np.asarray(dataset.y_train).reshape(len(X), -1)[:_PREVIEW_POINTS, 0]
        item.setLabel("bottom", "x")
        item.setLabel("left", "y")
        item.addItem(pg.ScatterPlotItem(x.copy(), y.copy(), size=5, pen=pg.mkPen(None),
                                        brush=plotstyle.brush(0, 200)))
        item.enableAutoRange()

    def _preview_images(self, X, dataset, image_shape) -> None:
        item = self.preview.getPlotItem()
        item.setLabel("bottom", "")
        item.setLabel("left", "")
        item.showAxes(False)
        images = X[:_PREVIEW_IMAGES].reshape((-1,) + tuple(image_shape))[:, 0]
        mosaic, positions = _mosaic(images, columns=6)
        image = pg.ImageItem(mosaic.T)          # ImageItem indexes (x, y)
        image.setLevels((float(np.nanmin(images)), float(np.nanmax(images)) or 1.0))
        item.addItem(image)
        item.invertY(True)
        item.setAspectLocked(True)
        labels = np.asarray(dataset.y_train)[:len(images)]
        for (x, y), label in zip(positions, labels):
            text = pg.TextItem(str(dataset.class_names[int(label)]), anchor=(0, 1),
                               color=plotstyle.color(1))
            text.setPos(x, y)
            item.addItem(text)
        item.autoRange(padding=0.02)


def _editor(key: str, param) -> QWidget:
    """A spin box for one data-set parameter, ranged and explained by its Param."""
    tip = param.help + f" ({param.range_text()[4:]})"
    if param.kind == "int":
        return widgets.int_spin(param.low, param.high, param.default, tip, f"{key}Spin")
    lo, hi = param.bounds()                   # the engine's range: nothing is clamped
    step = 0.05 if hi <= 5 else 0.5
    return widgets.float_spin(lo, hi, param.default, step, tooltip=tip, name=f"{key}Spin")


def _mosaic(images: np.ndarray, columns: int, gap: int = 1):
    """Images on a grid, each below a band for its label.

    Returns the mosaic array and the top-left (x, y) of each image.
    """
    n, h, w = images.shape
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    band = max(2, math.ceil(0.4 * h))       # room above each image for its label
    mosaic = np.full((rows * (h + band), cols * (w + gap) - gap), np.nan)   # NaN: transparent
    positions = []
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y, x = r * (h + band) + band, c * (w + gap)
        mosaic[y:y + h, x:x + w] = img
        positions.append((x, y))
    return mosaic, positions


def _preview_title(dataset, image_shape) -> str:
    if image_shape is not None:
        return "First training images"
    if dataset.task == "regression":
        return "Training data (colour: target)" if dataset.X_train[0].size == 2 else "Training data"
    return "Training data"

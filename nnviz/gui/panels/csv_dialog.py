"""Open a CSV file as the data set: preview its rows, choose the target column and task.

``CsvDialog`` reads the file with the engine (``nnviz.core.csv_data``), shows
the first rows in a table, offers every column as the target (the last by
default) and the task (inferred, classification or regression), and checks
the choice by loading the data set exactly as training will: the engine's
message (missing cells with their lines, text in a feature column, one class
only...) appears in the dialog and OK stays disabled until it is fixed.
``dataset_spec()`` is the ``{"name": "csv", ...}`` spec for the experiment.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from nnviz.core.csv_data import CsvTable, read_csv_table
from nnviz.core.datasets import CLASSIFICATION, REGRESSION, load_dataset
from nnviz.core.errors import SpecError
from superqt import QElidingLabel

from nnviz.gui.panels.widgets import error_label, plain_tooltip, show_error

PREVIEW_ROWS = 50
INFER = "infer from the target"
SHOWN_CLASSES = 8


class CsvDialog(QDialog):
    """Choose a CSV file, its target column and task; ``dataset_spec()`` for the experiment.

    ``spec_changed(dict)`` is emitted whenever the choice loads without error.
    """

    spec_changed = Signal(dict)

    def __init__(self, path: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open CSV data")
        self.setObjectName("csvDialog")
        self._path: str | None = None
        self._table: CsvTable | None = None
        self._spec: dict | None = None
        self.open_button = QPushButton("Open CSV…")
        self.open_button.setObjectName("csvOpen")
        self.path_label = QElidingLabel("no file chosen")
        self.path_label.setTextFormat(Qt.TextFormat.PlainText)
        self.preview = QTableWidget()
        self.preview.setObjectName("csvPreview")
        self.preview.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.target = QComboBox()
        self.target.setObjectName("csvTarget")
        self.target.setToolTip("the column the network learns to predict; "
                               "every other column is a feature")
        self.task = QComboBox()
        self.task.setObjectName("csvTask")
        self.task.addItem(INFER, None)
        self.task.addItem("classification", CLASSIFICATION)
        self.task.addItem("regression", REGRESSION)
        self.task.setToolTip("inferred: text labels (or at most 10 whole numbers) are "
                             "classes, other numbers are regression targets")
        self.summary = QLabel()
        self.summary.setObjectName("csvSummary")
        self.summary.setWordWrap(True)
        self.error = error_label("csvError")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.path_label, 1)
        form = QFormLayout()
        form.addRow("Target column", self.target)
        form.addRow("Task", self.task)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(640, 480)

        self.open_button.clicked.connect(self.choose_file)
        self.target.currentIndexChanged.connect(self._check)
        self.task.currentIndexChanged.connect(self._check)
        if path:
            self.set_path(path)
        else:
            self._check()

    # ------------------------------------------------------------------ API
    def dataset_spec(self) -> dict | None:
        """``{"name": "csv", "path": absolute path, "target": column[, "task": ...]}``,
        or None while there is no file or it cannot be loaded."""
        return dict(self._spec) if self._spec is not None else None

    def set_path(self, path: str) -> None:
        """Read ``path``: fill the preview and the target choice (the last column)."""
        self._path = os.path.abspath(path)
        self.path_label.setText(self._path)
        self.path_label.setToolTip(plain_tooltip(self._path))
        try:
            self._table = read_csv_table(self._path)
        except SpecError as exc:
            self._table = None
            self._fill((), ())
            self._fail(str(exc))
            return
        self._fill(self._table.columns, self._table.rows[:PREVIEW_ROWS],
                   self._table.lines[:PREVIEW_ROWS])
        self._check()

    def choose_file(self) -> None:
        """Ask for a file (the "Open CSV…" button)."""
        start = os.path.dirname(self._path) if self._path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open CSV data", start,
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.set_path(path)

    def error_message(self) -> str | None:
        return self.error.text() if self._spec is None and self.error.text() else None

    # ------------------------------------------------------------------ internals
    def _fill(self, columns, rows, lines=()) -> None:
        """The preview table; rows are labelled with their line in the file, as messages are."""
        self.preview.clear()
        self.preview.setColumnCount(len(columns))
        self.preview.setRowCount(len(rows))
        self.preview.setHorizontalHeaderLabels(list(columns))
        self.preview.setVerticalHeaderLabels([str(n) for n in lines])
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                self.preview.setItem(r, c, QTableWidgetItem(cell))
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems(list(columns))
        self.target.setCurrentIndex(len(columns) - 1)
        self.target.blockSignals(False)

    def _candidate(self) -> dict | None:
        if self._table is None:
            return None
        spec = {"name": "csv", "path": self._path, "target": self.target.currentText()}
        if self.task.currentData() is not None:
            spec["task"] = self.task.currentData()
        return spec

    def _check(self) -> None:
        spec = self._candidate()
        if spec is None:
            self._spec = None
            self.summary.setText("Choose a CSV file: a header row, then one sample per line.")
            self._set_ok(False)
            return
        try:
            data = load_dataset(spec)
        except SpecError as exc:
            self._fail(str(exc))
            return
        self._spec = spec
        show_error(self.error, None)
        self.summary.setText(_summary(data, len(self._table.rows)))
        self._set_ok(True)
        self.spec_changed.emit(dict(spec))

    def _fail(self, message: str) -> None:
        self._spec = None
        self.summary.setText("")
        show_error(self.error, message)
        self._set_ok(False)

    def _set_ok(self, ok: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


def _summary(data, n_rows: int) -> str:
    """"150 rows, 4 features: classification, 3 classes (setosa, ...)"."""
    features = data.input_shape[0]
    text = f"{n_rows} rows, {features} feature{'s' * (features != 1)} (standardised): "
    if data.task == CLASSIFICATION:
        names = ", ".join(data.class_names[:SHOWN_CLASSES])
        more = ", …" if len(data.class_names) > SHOWN_CLASSES else ""
        return text + f"classification, {data.n_classes} classes ({names}{more})"
    return text + "regression"

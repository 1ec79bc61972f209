"""The grid-search dock: pick one or two axes, press Run, watch the heatmap fill.

The search runs in a QThread that only waits: ``grid_search`` trains the cells
in worker processes (or on a Dask cluster), so the GUI process does no
training.  Each finished cell arrives as a queued signal and fills its square.
Clicking a square emits ``cell_chosen(dict)`` with that cell's experiment,
for the window to load as the current experiment.
"""

from __future__ import annotations

import os
import threading
from typing import Callable

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from nnviz.core.catalogue import show_value
from nnviz.core.errors import SpecError
from nnviz.core.field_paths import SearchField, get_field, searchable_fields
from nnviz.core.grid import GridResult, grid_search, log_values, parse_value, plan_grid
from nnviz.gui.heatmap import HeatmapView, save_heatmap

__all__ = ["GridSearchDock", "default_values"]

NO_AXIS = "(none)"
#: Starting values of the fields the notes search (η and λ), as in their heatmap.
STARTING_VALUES = {"training.optimizer.eta": log_values(1e-4, 1e-1, 4),
                   "training.l2": [0.0, 1e-4, 1e-3, 1e-2],
                   "training.batch_size": [16, 32, 64]}


def default_values(field: SearchField, experiment: dict) -> list:
    """Values to start an axis with: the notes' η and λ, every choice, else around the current value."""
    if field.path in STARTING_VALUES:
        return list(STARTING_VALUES[field.path])
    if field.choices:
        return list(field.choices)
    current = get_field(experiment, field.path)
    if field.log_scale and isinstance(current, (int, float)) and current > 0:
        return log_values(current / 10, current * 10, 3)
    if field.param.kind == "int" and isinstance(current, int):
        return sorted({max(1, current // 2), current, current * 2})
    return [current]


def _values_text(values) -> str:
    """Values as typed: 0.001, relu, null (read back by parse_value)."""
    def text(v):
        return "null" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
    return ", ".join(text(v) for v in values)


class AxisEditor(QWidget):
    """One axis: a field from the catalogue and its values (with a log-spaced helper)."""

    def __init__(self, name: str, optional: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.optional = optional
        self.fields: dict[str, SearchField] = {}
        self._experiment: dict = {}
        self.field_combo = QComboBox(objectName=name + "Field")
        self.values_edit = QLineEdit(objectName=name + "Values")
        self.values_edit.setToolTip("comma-separated values, e.g. 0.001, 0.01, 0.1 or relu, tanh")
        self.log_from, self.log_to = QLineEdit("0.0001"), QLineEdit("0.1")
        self.log_count = QSpinBox(minimum=1, maximum=20, value=4)
        self.log_button = QPushButton("Fill log-spaced", objectName=name + "LogFill")
        self.log_button.setToolTip("values from → to spaced by equal factors")
        self.log_row = QWidget()
        row = QHBoxLayout(self.log_row)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("from", self.log_from), ("to", self.log_to), ("count", self.log_count)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(self.log_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field_combo)
        layout.addWidget(self.values_edit)
        layout.addWidget(self.log_row)
        self.field_combo.currentIndexChanged.connect(self._field_changed)
        self.log_button.clicked.connect(self.fill_log_spaced)

    def set_experiment(self, experiment: dict, preferred: str | None = None) -> None:
        """List the experiment's searchable fields; keep the chosen one if it is still there."""
        self._experiment = experiment
        keep, typed = self.path or preferred, self.values_edit.text()
        self.fields = {f.path: f for f in searchable_fields(experiment)}
        self.field_combo.blockSignals(True)
        self.field_combo.clear()
        if self.optional:
            self.field_combo.addItem(NO_AXIS, None)
        for field in self.fields.values():
            self.field_combo.addItem(f"{field.label}  —  {field.path}", field.path)
        position = self.field_combo.findData(keep) if keep else -1
        self.field_combo.setCurrentIndex(max(position, 0))
        self.field_combo.blockSignals(False)
        self._field_changed()
        if self.path == keep and typed.strip():
            self.values_edit.setText(typed)          # the user's values survive a refresh

    @property
    def path(self) -> str | None:
        return self.field_combo.currentData()

    def set_path(self, path: str | None) -> None:
        self.field_combo.setCurrentIndex(self.field_combo.findData(path))

    def _field_changed(self) -> None:
        field = self.fields.get(self.path)
        self.values_edit.setEnabled(field is not None)
        self.log_row.setVisible(field is not None and field.log_scale)
        if field is not None:
            self.values_edit.setText(_values_text(default_values(field, self._experiment)))

    def fill_log_spaced(self) -> None:
        try:
            values = log_values(float(self.log_from.text()), float(self.log_to.text()),
                                self.log_count.value())
        except ValueError:
            values = []
        except SpecError:
            values = []
        if values:
            self.values_edit.setText(_values_text(values))

    def values(self) -> list:
        text = self.values_edit.text().strip()
        if not text:
            raise SpecError(self.path or "axis", "has no values", "type values separated by commas")
        return [parse_value(v) for v in text.split(",") if v.strip()]


class SearchThread(QThread):
    """Waits for ``grid_search`` (the cells train in other processes) and relays its rows."""

    cell_done = Signal(object, int, int)       # row, done, total
    search_done = Signal(object)               # GridResult
    search_failed = Signal(str)

    def __init__(self, experiment: dict, axes: dict, *, jobs: int | None, epochs: int | None,
                 cluster: str | None, parent=None):
        super().__init__(parent)
        self.args = (experiment, axes)
        # history: each cell's run comes back with it, so pinning one needs no training here
        self.kwargs = {"jobs": jobs, "epochs": epochs, "cluster": cluster, "history": True}
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            result = grid_search(*self.args, **self.kwargs, cancel=self.cancel,
                                 progress=lambda row, done, total: self.cell_done.emit(row, done, total))
        except Exception as exc:  # noqa: BLE001 - shown in the dock
            self.search_failed.emit(str(exc) if isinstance(exc, SpecError)
                                    else f"{type(exc).__name__}: {exc}")
        else:
            self.search_done.emit(result)


class GridSearchDock(QDockWidget):
    """Grid search over one or two fields of the current experiment.

    ``experiment()`` (the constructor's callable) returns the current experiment
    as a dict.  Signals: ``cell_chosen(dict)`` when a finished square is clicked
    (that cell's experiment), ``cell_run_chosen(Run)`` with it once the search is
    over (the cell's run, one point per epoch, recorded by the worker: for
    pinning and comparing runs), ``search_finished(GridResult)``.
    """

    cell_chosen = Signal(dict)
    cell_run_chosen = Signal(object)
    search_finished = Signal(object)

    def __init__(self, experiment: Callable[[], dict], parent: QWidget | None = None):
        super().__init__("Grid search", parent)
        self.setObjectName("gridSearch")
        self._experiment = experiment
        self.result: GridResult | None = None
        self.thread: SearchThread | None = None

        self.axes = [AxisEditor("gridAxis1", optional=False), AxisEditor("gridAxis2", optional=True)]
        self.epochs = QSpinBox(objectName="gridEpochs", minimum=0, maximum=1_000_000)
        self.epochs.setSpecialValueText("as in the experiment")
        self.jobs = QSpinBox(objectName="gridJobs", minimum=1, maximum=256,
                             value=os.cpu_count() or 1)
        self.jobs.setToolTip("worker processes, one cell each at a time")
        self.cluster = QLineEdit(objectName="gridCluster")
        self.cluster.setPlaceholderText("optional: tcp://host:8786 (a Dask scheduler)")
        self.run_button = QPushButton("Run", objectName="gridRun")
        self.cancel_button = QPushButton("Cancel", objectName="gridCancel", enabled=False)
        self.progress = QProgressBar(objectName="gridProgress")
        self.status = QLabel("", objectName="gridStatus", wordWrap=True)
        self.heatmap = HeatmapView()
        self.png_button = QPushButton("Export PNG…", objectName="gridExportPng", enabled=False)
        self.csv_button = QPushButton("Export CSV…", objectName="gridExportCsv", enabled=False)

        form = QFormLayout()
        form.addRow("Axis 1 (rows)", self.axes[0])
        form.addRow("Axis 2 (columns)", self.axes[1])
        form.addRow("Epochs", self.epochs)
        form.addRow("Processes", self.jobs)
        form.addRow("Cluster", self.cluster)
        buttons = QHBoxLayout()
        for widget in (self.run_button, self.cancel_button, self.progress):
            buttons.addWidget(widget)
        exports = QHBoxLayout()
        exports.addStretch(1)
        exports.addWidget(self.png_button)
        exports.addWidget(self.csv_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.heatmap, 1)
        layout.addLayout(exports)
        self.setWidget(body)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        self.png_button.clicked.connect(lambda: self._export("PNG image (*.png)", self.export_png))
        self.csv_button.clicked.connect(lambda: self._export("CSV table (*.csv)", self.export_csv))
        self.refresh_fields()

    # ------------------------------------------------------------------ fields
    def refresh_fields(self) -> None:
        """Offer the searchable fields of the current experiment (η and λ at first)."""
        try:
            experiment = self._current()
        except SpecError as exc:
            self.status.setText(str(exc))
            return
        self.axes[0].set_experiment(experiment, "training.optimizer.eta")
        self.axes[1].set_experiment(experiment, "training.l2")

    def showEvent(self, event) -> None:
        if not self.running:
            self.refresh_fields()
        super().showEvent(event)

    def _current(self) -> dict:
        """The current experiment, validated and normalised (the callable may give a dict or an Experiment)."""
        from nnviz.core.experiment import Experiment
        current = self._experiment()
        return (current if isinstance(current, Experiment) else Experiment.from_dict(current)).to_dict()

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def chosen_axes(self) -> dict:
        axes = {}
        for editor in self.axes:
            if editor.path is not None:
                axes[editor.path] = editor.values()
        return axes

    def run(self) -> bool:
        """Validate the grid and start it; False (with the reason shown) if it is invalid."""
        if self.running:
            return False
        try:
            experiment = self._current()
            axes = self.chosen_axes()
            epochs = self.epochs.value() or None
            plan = plan_grid(experiment, axes, epochs=epochs)    # every cell valid first
        except SpecError as exc:
            self.status.setText(str(exc))
            return False
        self.result = GridResult(plan)
        self.heatmap.set_result(self.result)
        self.progress.setRange(0, self.result.size)
        self.progress.setValue(0)
        self.status.setText(f"Training {self.result.size} cells…")
        self.thread = SearchThread(experiment, axes, jobs=self.jobs.value(), epochs=epochs,
                                   cluster=self.cluster.text().strip() or None, parent=self)
        self.thread.cell_done.connect(self._cell_done)
        self.thread.search_done.connect(self._search_done)
        self.thread.search_failed.connect(self._search_failed)
        self._set_running(True)
        self.thread.start()
        return True

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel.set()
            self.status.setText("Cancelling…")

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for widget in (*self.axes, self.epochs, self.jobs, self.cluster):
            widget.setEnabled(not running)
        has_rows = self.result is not None and self.result.done > 0
        self.png_button.setEnabled(has_rows and not running)
        self.csv_button.setEnabled(has_rows and not running)

    def _cell_done(self, row: dict, done: int, total: int) -> None:
        if self.result is None:
            return
        self.result.record(self.result.number(self.result.index_of(row)), row)
        self.progress.setValue(done)
        self.heatmap.set_result(self.result)

    def _search_done(self, result: GridResult) -> None:
        self.result = result
        self.heatmap.set_result(result)
        self._finish_thread()
        best = result.best()
        if result.cancelled:
            text = f"Cancelled after {result.done} of {result.size} cells."
        elif best is None:
            text = "No cell trained: " + (result.rows[0]["message"] or result.rows[0]["status"])
        else:
            where = ", ".join(f"{p} = {show_value(best[p])}" for p in result.paths)
            text = f"Best: {where}. Click a square to load that setting."
        self.status.setText(text)
        self.search_finished.emit(result)

    def _search_failed(self, message: str) -> None:
        self._finish_thread()
        self.status.setText(message)

    def _finish_thread(self) -> None:
        if self.thread is not None:
            self.thread.wait()
            self.thread.deleteLater()
            self.thread = None
        self._set_running(False)

    def _cell_clicked(self, index) -> None:
        if self.result is not None and self.result.is_finished(index):
            self.cell_chosen.emit(self.result.experiment(index))
            if self.result.has_history(index):
                self.cell_run_chosen.emit(self.result.history(index))

    # ------------------------------------------------------------------ export
    def export_png(self, path) -> str:
        return save_heatmap(self.result, path)

    def export_csv(self, path) -> str:
        self.result.to_csv(path)
        return str(path)

    def _export(self, kind: str, write) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the grid search", "", kind)
        if path:
            try:
                write(path)
                self.status.setText(f"Wrote {path}")
            except SpecError as exc:
                self.status.setText(str(exc))

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel a running search and wait for its thread (its workers are killed)."""
        if self.thread is not None:
            self.thread.cancel.set()
            self.thread.wait()

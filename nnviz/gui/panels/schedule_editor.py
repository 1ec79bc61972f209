"""The learning-rate schedule picker: a schedule of the catalogue, its parameters, a preview.

``ScheduleEditor`` lists ``catalogue.SCHEDULES`` (PyTorch's lr_scheduler
names in brackets, so a course's "scheduler" is found here), builds an editor
per parameter from its declaration, and draws the learning rate over the
epochs with ``make_schedule`` - the engine's own function, so the preview is
what training will use.  ``changed(dict)`` carries the normalised schedule;
``schedule()`` is None for constant, so an experiment only gets a
``training.schedule`` when there is one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from nnviz.core.catalogue import DEFAULT_SCHEDULE, SCHEDULES, Param
from nnviz.core.errors import SpecError
from nnviz.core.schedules import make_schedule, normalise_schedule
from nnviz.gui.panels.widgets import error_label, float_spin, int_spin, mark_invalid, show_error
from nnviz.gui.views import plotstyle



class ScheduleEditor(QWidget):
    """Pick a learning-rate schedule and its parameters; preview η over the epochs.

    ``set_eta(eta)`` and ``set_epochs(n)`` tell the preview the base rate and
    the run's length (they do not change the schedule).
    """

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None, *, eta: float = 0.01, epochs: int = 30):
        super().__init__(parent)
        self.setObjectName("scheduleEditor")
        self._eta, self._epochs = eta, epochs
        self._editors: dict[str, QWidget] = {}
        self._valid: dict | None = None
        self.combo = QComboBox()
        self.combo.setObjectName("scheduleCombo")
        self.combo.setToolTip("How the learning rate changes per epoch: a scheduler in "
                              "PyTorch's words (torch.optim.lr_scheduler)")
        for name, entry in SCHEDULES.items():
            self.combo.addItem(entry.label, name)
            self.combo.setItemData(self.combo.count() - 1, entry.help,
                                   Qt.ItemDataRole.ToolTipRole)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.form = QFormLayout()
        self.error = error_label("scheduleError")
        self.preview = pg.PlotWidget()
        self.preview.setObjectName("schedulePreview")
        plotstyle.style_plot(self.preview.getPlotItem(), "", "epoch", "η")
        self.preview.setMinimumHeight(110)
        self.preview.setMouseEnabled(False, False)
        self.curve = self.preview.plot(pen=plotstyle.pen(0), stepMode="center")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.help)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.preview)
        self.combo.currentIndexChanged.connect(self._on_pick)
        self._build(DEFAULT_SCHEDULE, {})

    # ------------------------------------------------------------------ API
    def schedule(self) -> dict | None:
        """The normalised schedule, None for constant (or while the parameters are invalid)."""
        if self._valid is None or self._valid["name"] == "constant":
            return None
        return dict(self._valid)

    def set_schedule(self, spec: dict | str | None) -> None:
        """Show ``spec`` (None: constant); SpecError if the engine refuses it."""
        values = normalise_schedule(spec)
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(values["name"]))
        self.combo.blockSignals(False)
        self._build(values["name"], values)

    def set_eta(self, eta: float) -> None:
        self._eta = float(eta)
        self._draw()

    def set_epochs(self, epochs: int) -> None:
        self._epochs = max(1, int(epochs))
        self._draw()

    def rates(self) -> np.ndarray:
        """The previewed learning rate of each epoch (empty while invalid)."""
        if self._valid is None:
            return np.zeros(0)
        schedule = make_schedule(self._valid, self._eta)
        return np.array([schedule(e) for e in range(self._epochs)], dtype=np.float64)

    # ------------------------------------------------------------------ internals
    def _on_pick(self, index: int) -> None:
        self._build(self.combo.itemData(index), {})
        self._emit()

    def _build(self, name: str, values: dict) -> None:
        """Editors for the parameters of ``name``, showing ``values`` (defaults elsewhere)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        entry = SCHEDULES[name]
        self.help.setText(entry.help)
        for key, param in entry.params.items():
            editor = _editor(param, values.get(key, param.default), key)
            self._editors[key] = editor
            self.form.addRow(param.label or key, editor)
            signal = editor.editingFinished if isinstance(editor, QLineEdit) else editor.valueChanged
            signal.connect(self._emit)
        self._validate()

    def _values(self) -> dict:
        values = {"name": self.combo.currentData()}
        for key, editor in self._editors.items():
            if isinstance(editor, QLineEdit):
                values[key] = _int_list(editor.text())
            else:
                values[key] = editor.value()
        return values

    def _validate(self) -> None:
        try:
            self._valid = normalise_schedule(self._values())
        except SpecError as exc:
            self._valid = None
            show_error(self.error, str(exc).removeprefix("training.schedule."))
            key = exc.field.removeprefix("training.schedule.").split("[")[0]
            if key in self._editors:
                mark_invalid(self._editors[key], exc.problem)
        else:
            show_error(self.error, None)
            for editor in self._editors.values():
                mark_invalid(editor, None)
        self._draw()

    def _emit(self) -> None:
        self._validate()
        if self._valid is not None:
            self.changed.emit(dict(self._valid))

    def _draw(self) -> None:
        rates = self.rates()
        if len(rates):
            epochs = np.arange(len(rates) + 1)
            self.curve.setData(epochs, rates)
            # from 0 to the top rate, set here: pyqtgraph's auto range takes a span
            # under about 1e-8 for zero and draws η = 1e-9 as a flat line on ±0.5
            top = float(np.max(rates))
            self.preview.setYRange(0.0, top if top > 0 else 1.0, padding=0.08)
        else:
            self.curve.setData([], [])


def _editor(param: Param, value, key: str) -> QWidget:
    """A spin box for a number, a line edit of comma-separated whole numbers for a list."""
    if param.kind == "list":
        edit = QLineEdit(", ".join(str(v) for v in value))
        edit.setPlaceholderText("e.g. 10, 20")
        editor = edit
    elif param.kind == "int":
        editor = int_spin(param.low, param.high, value)
    else:
        low, high = param.bounds()            # the engine's range: nothing is clamped
        editor = float_spin(low, high, value, step=0.05 if param.high <= 1 else 0.1)
    editor.setToolTip(param.help)
    editor.setObjectName(f"schedule_{key}")
    return editor


def _int_list(text: str):
    """"10, 20" -> [10, 20]; text that is not whole numbers is passed on for the engine's message."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        return parts

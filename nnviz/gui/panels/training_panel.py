"""The training panel: cost, initialisation, optimiser and its hyperparameters."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QVBoxLayout, QWidget)

from nnviz.core import catalogue
from nnviz.core.optimizers import OPTIMIZERS
from nnviz.gui.panels import widgets
from nnviz.gui.panels.schedule_editor import ScheduleEditor

COSTS = {name: (e.label, e.help) for name, e in catalogue.COSTS.items()}
INITS = {name: (e.label, e.help) for name, e in catalogue.INITS.items()}
DTYPE = catalogue.MODEL["dtype"]
DTYPES = {name: (name, DTYPE.help) for name in DTYPE.choices}
# (label, tooltip) of each optimiser: the catalogue's plain-words help, e.g. "p -= η·g"
OPTIMIZER_ITEMS = {name: (e.label, e.help) for name, e in catalogue.OPTIMIZERS.items()}
# hyperparameter -> (label, tooltip), from the optimisers that use it
HYPER = {key: (p.label, p.help) for e in catalogue.OPTIMIZERS.values()
         for key, p in e.params.items() if key != "eta"}
LIVE_KEYS = ("eta", "l2", "clip_norm")   # take effect on a running session
DECAY_MAX = catalogue.OPTIMIZERS["momentum"].params["momentum"].bounds()[1]   # [0, 1)
COUNT_MAX = int(catalogue.TRAINING["epochs"].high)   # the experiment format's limit for counts


def _bounds(key: str) -> tuple:
    """The catalogue's range of an optimiser parameter (the same in every optimiser)."""
    return next(e.params[key] for e in catalogue.OPTIMIZERS.values() if key in e.params).bounds()


class TrainingPanel(QWidget):
    """Cost (``costCombo``), init (``initCombo``), seed, precision (``dtypeCombo``),
    optimiser (``optimizerCombo``) with learning rate and its hyperparameters, the
    learning-rate schedule (``scheduleEditor``), batch size, epochs, L2, clipping.

    ``changed`` follows every user edit; ``set_values`` does not emit.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self._loading = False
        self._hyper_values: dict[str, float] = {}

        self.cost_combo = _combo("costCombo", {k: v for k, v in COSTS.items()})
        self.init_combo = _combo("initCombo", INITS)
        self.dtype_combo = _combo("dtypeCombo", DTYPES)
        self.schedule_editor = ScheduleEditor()
        self.optimizer_combo = _combo("optimizerCombo", OPTIMIZER_ITEMS)
        self.learning_rate = widgets.LogSpinBox(
            *_bounds("eta"), 0.01, smallest=1e-6, tooltip="learning rate η: size of each step (changes apply live)",
            name="learningRateSpin")
        self.hyper = {
            "momentum": widgets.float_spin(0.0, DECAY_MAX, 0.9, 0.05, HYPER["momentum"][1],
                                           "momentumSpin"),
            "rho": widgets.float_spin(0.0, DECAY_MAX, 0.9, 0.01, HYPER["rho"][1], "rhoSpin"),
            "rho2": widgets.float_spin(0.0, DECAY_MAX, 0.999, 0.001, HYPER["rho2"][1], "rho2Spin"),
            "eps": widgets.LogSpinBox(*_bounds("eps"), 1e-8, smallest=1e-12, tooltip=HYPER["eps"][1], name="epsSpin"),
        }
        self.batch_size = widgets.int_spin(1, COUNT_MAX, 32, "samples per mini-batch (per step)",
                                           "batchSizeSpin")
        self.epochs = widgets.int_spin(1, COUNT_MAX, 100, "passes over the training data",
                                       "epochsSpin")
        self.l2 = widgets.LogSpinBox(*catalogue.TRAINING["l2"].bounds(), 0.0, allow_zero=True, smallest=1e-6,
                                     tooltip="L2 regularisation λ: adds (λ/2)·ΣW² to the cost "
                                     "(changes apply live)", name="l2Spin")
        self.clip_check = QCheckBox("Clip gradient norm")
        self.clip_check.setObjectName("clipCheck")
        self.clip_check.setToolTip("scale all gradients together so their global norm is at "
                                   "most this value (changes apply live)")
        self.clip_norm = widgets.LogSpinBox(*catalogue.TRAINING["clip_norm"].bounds(), 1.0, smallest=1e-3, tooltip=self.clip_check.toolTip(),
                                            name="clipNormSpin")
        self.seed = widgets.int_spin(0, widgets.INT_MAX, 0, "random seed of the initial weights "
                                     "and of the batch order", "seedSpin")
        self.error = widgets.error_label("trainingError")

        model_box = QGroupBox("Network")
        model_form = QFormLayout(model_box)
        model_form.addRow("Cost", self.cost_combo)
        model_form.addRow("Initialisation", self.init_combo)
        model_form.addRow("Seed", self.seed)
        model_form.addRow(DTYPE.label.capitalize(), self.dtype_combo)
        # the course notes call the optimiser a "scheduler"; PyTorch calls the
        # learning-rate schedule one: both are found here
        opt_box = QGroupBox("Optimiser (the notes' “scheduler”)")
        self.opt_form = QFormLayout(opt_box)
        self.opt_form.addRow("Method", self.optimizer_combo)
        self.opt_form.addRow("Learning rate", self.learning_rate)
        for key, spin in self.hyper.items():
            self.opt_form.addRow(HYPER[key][0], spin)
        schedule_box = QGroupBox("Learning-rate schedule (PyTorch's lr_scheduler)")
        QVBoxLayout(schedule_box).addWidget(self.schedule_editor)
        run_box = QGroupBox("Training")
        run_form = QFormLayout(run_box)
        run_form.addRow("Batch size", self.batch_size)
        run_form.addRow("Epochs", self.epochs)
        run_form.addRow("L2 (λ)", self.l2)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clip_check)
        clip_row.addWidget(self.clip_norm, 1)
        run_form.addRow(clip_row)
        layout = QVBoxLayout(self)
        layout.addWidget(model_box)
        layout.addWidget(opt_box)
        layout.addWidget(schedule_box)
        layout.addWidget(run_box)
        layout.addWidget(self.error)
        layout.addStretch(1)

        self.optimizer_combo.currentIndexChanged.connect(self._optimizer_changed)
        self.clip_check.toggled.connect(self._clip_toggled)
        for combo in (self.cost_combo, self.init_combo, self.dtype_combo):
            combo.currentIndexChanged.connect(self._edited)
        self.schedule_editor.changed.connect(self._edited)
        self.learning_rate.valueChanged.connect(self.schedule_editor.set_eta)
        self.epochs.valueChanged.connect(self.schedule_editor.set_epochs)
        for spin in (self.learning_rate, self.batch_size, self.epochs, self.l2, self.clip_norm,
                     self.seed, *self.hyper.values()):
            spin.valueChanged.connect(self._edited)
        self._show_hyper()
        self._clip_toggled(False, emit=False)

    # ------------------------------------------------------------------ values
    def model_values(self) -> dict:
        """The model-spec keys this panel edits: cost, init, seed, dtype."""
        return {"cost": self.cost_combo.currentData(), "init": self.init_combo.currentData(),
                "seed": self.seed.value(), "dtype": self.dtype_combo.currentData()}

    def training(self) -> dict:
        """The experiment's "training" section."""
        name = self.optimizer_combo.currentData()
        optimizer = {"name": name, "eta": self.learning_rate.value()}
        for key in OPTIMIZERS[name].hyper:
            optimizer[key] = self.hyper[key].value()
        section = {"optimizer": optimizer, "epochs": self.epochs.value(),
                   "batch_size": self.batch_size.value(), "l2": self.l2.value(),
                   "clip_norm": self.clip_norm.value() if self.clip_check.isChecked() else None}
        schedule = self.schedule_editor.schedule()
        if schedule is not None:               # constant: no "schedule" key at all
            section["schedule"] = schedule
        return section

    def set_values(self, model: dict, training: dict) -> None:
        """Show the cost/init/seed of ``model`` and the ``training`` section; emits nothing."""
        self._loading = True
        try:
            _select(self.cost_combo, model.get("cost", "mse"), {"ols": "mse", "logreg": "bce"})
            _select(self.init_combo, model.get("init", "xavier"))
            self.seed.setValue(int(model.get("seed", 0)))
            _select(self.dtype_combo, model.get("dtype", DTYPE.default))
            optimizer = dict(training.get("optimizer") or {"name": "constant", "eta": 0.01})
            _select(self.optimizer_combo, optimizer.get("name", "constant"))
            self.learning_rate.setValue(float(optimizer.get("eta", 0.01)))
            for key, spin in self.hyper.items():
                default = OPTIMIZERS[self.optimizer_combo.currentData()].defaults.get(
                    key, spin.value())
                spin.setValue(float(optimizer.get(key, default)))
            self.batch_size.setValue(int(training.get("batch_size", 32)))
            self.epochs.setValue(int(training.get("epochs", 100)))
            self.l2.setValue(float(training.get("l2") or 0.0))
            clip = training.get("clip_norm")
            self.clip_check.setChecked(clip is not None)
            if clip is not None:
                self.clip_norm.setValue(float(clip))
            self.schedule_editor.set_eta(self.learning_rate.value())
            self.schedule_editor.set_epochs(self.epochs.value())
            self.schedule_editor.blockSignals(True)
            self.schedule_editor.set_schedule(training.get("schedule"))
            self.schedule_editor.blockSignals(False)
            self._show_hyper()
        finally:
            self._loading = False

    # ------------------------------------------------------------------ feedback
    def show_error(self, key: str | None, message: str | None) -> None:
        """Mark the field an error names (``optimizer.eta``, ``batch_size``, ``cost``...)."""
        targets = {"cost": self.cost_combo, "init": self.init_combo, "seed": self.seed,
                   "dtype": self.dtype_combo, "schedule": self.schedule_editor.combo,
                   "optimizer": self.optimizer_combo, "optimizer.name": self.optimizer_combo,
                   "optimizer.eta": self.learning_rate, "epochs": self.epochs,
                   "batch_size": self.batch_size, "l2": self.l2, "clip_norm": self.clip_norm,
                   **{f"optimizer.{k}": spin for k, spin in self.hyper.items()}}
        for name, widget in targets.items():
            widgets.mark_invalid(widget, message if message and name == key else None)
        widgets.show_error(self.error, message)

    # ------------------------------------------------------------------ internals
    def _optimizer_changed(self) -> None:
        if not self._loading:
            defaults = OPTIMIZERS[self.optimizer_combo.currentData()].defaults
            for key, value in defaults.items():     # e.g. rho is 0.9 for Adam, 0.99 for RMSprop
                self.hyper[key].blockSignals(True)
                self.hyper[key].setValue(value)
                self.hyper[key].blockSignals(False)
        self._show_hyper()
        self._edited()

    def _show_hyper(self) -> None:
        used = OPTIMIZERS[self.optimizer_combo.currentData()].hyper
        for key, spin in self.hyper.items():
            self.opt_form.setRowVisible(spin, key in used)

    def _clip_toggled(self, on: bool, emit: bool = True) -> None:
        self.clip_norm.setEnabled(on)
        if emit:
            self._edited()

    def _edited(self, *_) -> None:
        if not self._loading:
            self.changed.emit()


def _combo(name: str, items: dict) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for key, (text, tip) in items.items():
        combo.addItem(text, key)
        if tip:
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    return combo


def _select(combo: QComboBox, key: str, aliases: dict | None = None) -> None:
    key = (aliases or {}).get(key, key)
    index = combo.findData(key)
    if index >= 0:
        combo.setCurrentIndex(index)

"""The model builder: the layer stack as an editable list.

Each row edits one layer (type, parameters, activation) and shows the layer's
output shape and parameter count; an invalid stack is marked at the offending
row with the engine's message.  The rows hold plain spec dicts: the engine
(``Network.from_spec``) stays the only judge of what is valid.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFrame, QGridLayout,
                               QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QSizePolicy, QStyle, QVBoxLayout, QWidget)

from nnviz.core import catalogue
from nnviz.core.convolution import kernel_name
from nnviz.core.errors import SpecError
from nnviz.core.layers import LAYERS
from nnviz.gui import theme
from nnviz.gui.panels import widgets
from nnviz.gui.panels.formula_editor import FormulaDialog
from nnviz.gui.panels.validation import IMAGE_KINDS, Check, LayerInfo

ACTIVATED = catalogue.ACTIVATED_LAYERS
#: layer type -> its spec with every parameter at the catalogue's default
DEFAULT_SPECS = {kind: entry.defaults() for kind, entry in catalogue.LAYERS.items()}
#: activation -> its options (e.g. alpha) at their defaults, for those that have any
ACTIVATION_OPTIONS = {name: entry.defaults() for name, entry in catalogue.ACTIVATIONS.items()
                      if entry.params}
ACTIVATIONS = catalogue.ACTIVATION_NAMES
TYPE_TIPS = {kind: entry.help for kind, entry in catalogue.LAYERS.items()}
ALPHA_BOUNDS = catalogue.ACTIVATIONS["leaky_relu"].params["alpha"].bounds()   # ELU's too


def _field(key: str, param: catalogue.Param) -> tuple:
    """(key, label, editor kind, low, high, tooltip) of a layer parameter's editor."""
    kind = "log" if param.scale == "log" else param.kind
    low, high = param.bounds()                # the engine's range: nothing is clamped
    return key, param.label or key, kind, low, high, param.help


#: parameter kinds with a spin box or combo of their own in a row's grid
EDITED_KINDS = ("int", "float", "padding")
#: layer type -> editors of its parameters (the activation has its own combo; a conv
#: layer's hand-set kernel and trainable flag have the kernel line)
FIELDS = {kind: tuple(_field(k, p) for k, p in entry.params.items()
                      if k != "activation" and p.kind in EDITED_KINDS)
          for kind, entry in catalogue.LAYERS.items()}
KERNEL_KEYS = ("kernel", "trainable")
PADDINGS = ("same", "valid", "1", "2", "3")


def shape_text(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "?"


def count_text(n: int | None) -> str:
    return "? params" if n is None else f"{n:,} param{'s' if n != 1 else ''}"


CUSTOM = "custom…"    # the activation picker's entry that opens the formula editor


def kernel_text(spec: dict) -> str:
    """"kernel: sobel_x (frozen)": the kernel line of a conv layer with a hand-set kernel
    or a frozen one; "" for a layer with neither."""
    kernel, trainable = spec.get("kernel"), spec.get("trainable", True)
    if kernel is None and trainable:
        return ""
    if kernel is None:
        what = "from the initialisation"
    else:
        k = len(kernel)
        what = kernel_name(kernel) or f"your own {k}×{k}"
    return f"kernel: {what}{'' if trainable else ' (frozen)'}"


def with_first_kernel(specs: list[dict], input_shape, kernel, trainable: bool
                      ) -> tuple[list[dict], int, str]:
    """The layer specs with ``kernel`` ((K, K) numbers) as the starting weights of the
    first conv2d layer, its kernel_size made K; that layer's index; what was done, in words.

    SpecError (saying what to do) when the model has no place for it: flat input, or
    no conv2d layer.  ``specs`` is not changed.
    """
    kernel = [[float(v) for v in row] for row in kernel]
    k = len(kernel)
    name = kernel_name(kernel) or f"your {k}×{k} kernel"
    if len(input_shape) != 3:
        raise SpecError("input_shape", f"the model takes flat vectors, so {name} has no "
                        "image to slide over", "choose an image input and a conv2d layer first")
    index = next((i for i, s in enumerate(specs) if s.get("type") == "conv2d"), None)
    if index is None:
        raise SpecError("layers", f"the model has no conv2d layer to take {name}",
                        "add a conv2d layer first (Add layer on an image input)")
    specs = [dict(s) for s in specs]
    layer = specs[index]
    notes = []
    if layer.get("kernel_size") != k:
        notes.append(f"kernel size {layer.get('kernel_size')} → {k}")
    layer.update(kernel_size=k, kernel=kernel)
    if trainable:
        layer.pop("trainable", None)
    else:
        layer["trainable"] = False
    filters = layer.get("filters", 1)
    every = f"all {filters} filters start" if filters != 1 else "its filter starts"
    notes.append(f"{every} from it, {'trainable' if trainable else 'frozen'}")
    return specs, index, f"{name} copied into layer {index} (conv2d): " + "; ".join(notes)


def _options(activation) -> dict:
    """The options (alpha) of an activation at their defaults; none for a formula."""
    return ACTIVATION_OPTIONS.get(activation, {}) if isinstance(activation, str) else {}


class LayerRow(QFrame):
    """One layer: type, activation, parameters, output shape, parameter count, error."""

    edited = Signal(object)      # the row
    activated = Signal(object)   # the row was clicked or one of its editors got focus
    formula_dialog = FormulaDialog   # what "custom…" opens (tests put a stand-in here)

    def __init__(self, index: int, spec: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("layerRow")
        self.index = index
        self.error_message: str | None = None
        self.selected = False
        self.editors: dict[str, QWidget] = {}
        self._spec = dict(spec)
        self._memory: dict[str, dict] = {}     # type -> last spec, to switch back unchanged

        self.number = QLabel()
        self.number.setObjectName("layerNumber")
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.number.setMinimumWidth(self.fontMetrics().horizontalAdvance("00"))
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("layerTypeCombo")
        for kind in LAYERS:
            self.type_combo.addItem(kind, kind)
            self.type_combo.setItemData(self.type_combo.count() - 1, TYPE_TIPS.get(kind, ""),
                                        Qt.ItemDataRole.ToolTipRole)
        self.type_combo.setToolTip("layer type")
        self.activation_combo = QComboBox()
        self.activation_combo.setObjectName("layerActivationCombo")
        self.activation_combo.addItems(list(ACTIVATIONS))
        self.activation_combo.addItem(CUSTOM)            # a formula of your own
        self.activation_combo.setItemData(
            len(ACTIVATIONS), "your own formula of x, e.g. x * sigmoid(x); its derivative "
            "comes from autograd", Qt.ItemDataRole.ToolTipRole)
        self.activation_combo.setToolTip("activation function a = f(z)")
        self.formula: str | None = None          # the custom activation, if one is chosen
        self._previous_activation = 0          # combo index to go back to if "custom…" is cancelled
        self.alpha_spin = widgets.float_spin(*ALPHA_BOUNDS, 0.01, 0.01,
                                             tooltip="alpha: slope (leaky ReLU) or scale (ELU) "
                                             "for negative inputs", name="alphaSpin")
        self.info = QLabel()
        self.info.setObjectName("layerInfo")
        self.info.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.info.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.params_grid = QGridLayout()         # two (caption, editor) pairs per line
        self.params_grid.setContentsMargins(0, 0, 0, 0)
        self.params_grid.setHorizontalSpacing(6)
        self.error = widgets.error_label("layerError")
        self.kernel_label = QLabel(objectName="layerKernel")
        self.trainable_box = QCheckBox("trainable", objectName="layerTrainable")
        self.trainable_box.setToolTip(catalogue.LAYERS["conv2d"].params["trainable"].help)
        self.clear_kernel = QPushButton("Clear", objectName="clearKernelButton")
        self.clear_kernel.setToolTip("forget the hand-set kernel: the weights start from the "
                                     "initialisation again, and train")
        self.kernel_line = QWidget()
        line = QHBoxLayout(self.kernel_line)
        line.setContentsMargins(0, 0, 0, 0)
        self.kernel_label.setWordWrap(True)          # a narrow projector row: two lines
        line.addWidget(self.kernel_label, 1)
        line.addWidget(self.trainable_box)
        line.addWidget(self.clear_kernel)

        top = QHBoxLayout()
        top.addWidget(self.type_combo)
        top.addWidget(self.activation_combo)
        top.addWidget(self.alpha_spin)
        top.addStretch(1)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(3)
        grid.addWidget(self.number, 0, 0, 4, 1)
        grid.addLayout(top, 0, 1)
        grid.addLayout(self.params_grid, 1, 1, 1, 2)
        grid.addWidget(self.info, 0, 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.kernel_line, 2, 1, 1, 2)
        grid.addWidget(self.error, 3, 1, 1, 2)
        grid.setColumnStretch(1, 1)

        for widget in (self.type_combo, self.activation_combo, self.alpha_spin,
                       self.trainable_box, self.clear_kernel):
            widget.installEventFilter(self)
        for combo in (self.type_combo, self.activation_combo):   # follow the font size
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.activation_combo.currentIndexChanged.connect(self._activation_changed)
        self.alpha_spin.valueChanged.connect(self._value_changed)
        self.trainable_box.toggled.connect(self._trainable_toggled)
        self.clear_kernel.clicked.connect(self.clear_hand_set_kernel)
        self.set_index(index)
        self._load(self._spec)
        self._restyle()

    # ------------------------------------------------------------------ spec
    @property
    def kind(self) -> str:
        return self._spec.get("type", "dense")

    def spec(self) -> dict:
        """The layer's spec dict, from the editors."""
        spec = {"type": self.kind}
        for key, editor in self.editors.items():
            spec[key] = _editor_value(editor)
        spec.update({k: self._spec[k] for k in KERNEL_KEYS if k in self._spec})
        if self.kind in ACTIVATED:
            spec["activation"] = self._activation()
            if _options(spec["activation"]):
                spec["alpha"] = self.alpha_spin.value()
        return spec

    def _activation(self):
        """The chosen activation: a name, or {"formula": ...} for a custom one."""
        if self.activation_combo.currentIndex() == len(ACTIVATIONS) and self.formula:
            return {"formula": self.formula}
        return self.activation_combo.currentText()

    def _show_formula(self, formula: str | None) -> None:
        """Keep ``formula`` and show it as the combo's last item."""
        self.formula = formula
        text = f"ƒ(x) = {formula}" if formula else CUSTOM
        self.activation_combo.setItemText(len(ACTIVATIONS), text)
        if formula:
            self.activation_combo.setCurrentIndex(len(ACTIVATIONS))

    def _load(self, spec: dict) -> None:
        """Show ``spec``: rebuild the parameter editors for its type."""
        kind = spec.get("type", "dense")
        self._spec = {"type": kind, **{k: v for k, v in spec.items() if k != "type"}}
        for widget in (self.type_combo, self.activation_combo, self.alpha_spin):
            widget.blockSignals(True)
        index = self.type_combo.findData(kind)
        self.type_combo.setCurrentIndex(max(index, 0))
        activation = spec.get("activation", "identity")
        if isinstance(activation, dict):
            self._show_formula(str(activation.get("formula", "")) or None)
        else:
            self._show_formula(None)
            self.activation_combo.setCurrentText(activation if activation in ACTIVATIONS
                                                 else "identity")
        self._previous_activation = self.activation_combo.currentIndex()
        defaults = _options(activation)
        self.alpha_spin.setValue(float(spec.get("alpha", defaults.get("alpha", 0.01))))
        for widget in (self.type_combo, self.activation_combo, self.alpha_spin):
            widget.blockSignals(False)
        self.activation_combo.setVisible(kind in ACTIVATED)
        self.alpha_spin.setVisible(kind in ACTIVATED and bool(_options(activation)))
        self._build_editors(kind, spec)
        self._show_kernel()

    def _show_kernel(self) -> None:
        """The kernel line: shown for a hand-set kernel or a frozen layer."""
        text = kernel_text(self._spec)
        self.kernel_line.setVisible(bool(text))
        self.kernel_label.setText(text)
        kernel = self._spec.get("kernel")
        self.kernel_label.setToolTip("\n".join("  ".join(f"{v:g}" for v in row)
                                               for row in kernel) if kernel else "")
        self.trainable_box.blockSignals(True)
        self.trainable_box.setChecked(self._spec.get("trainable", True))
        self.trainable_box.blockSignals(False)

    def _trainable_toggled(self, on: bool) -> None:
        if on:
            self._spec.pop("trainable", None)
        else:
            self._spec["trainable"] = False
        self._show_kernel()
        self.edited.emit(self)

    def clear_hand_set_kernel(self) -> None:
        """Back to a layer drawn by the initialisation, trainable."""
        for key in KERNEL_KEYS:
            self._spec.pop(key, None)
        self._show_kernel()
        self.edited.emit(self)

    def _build_editors(self, kind: str, spec: dict) -> None:
        while self.params_grid.count():
            item = self.params_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        self.editors = {}
        defaults = DEFAULT_SPECS.get(kind, {})
        for i, (key, label, editor_kind, lo, hi, tip) in enumerate(FIELDS.get(kind, ())):
            value = spec.get(key, defaults.get(key))
            editor = _make_editor(editor_kind, lo, hi, value, tip)
            editor.setObjectName(f"{key}Edit")
            editor.installEventFilter(self)
            _connect(editor, self._value_changed)
            caption = QLabel(label)
            caption.setToolTip(tip)
            row, column = divmod(i, 2)
            self.params_grid.addWidget(caption, row, 2 * column)
            self.params_grid.addWidget(editor, row, 2 * column + 1)
            self.editors[key] = editor
        if not self.editors and kind != "activation":
            note = QLabel("no parameters")
            note.setEnabled(False)
            self.params_grid.addWidget(note, 0, 0, 1, 4)
        self.params_grid.setColumnStretch(4, 1)       # editors keep their natural width

    def _type_changed(self) -> None:
        kind = self.type_combo.currentData()
        self._memory[self.kind] = self.spec()
        spec = self._memory.get(kind) or {"type": kind, **DEFAULT_SPECS[kind]}
        old_activation = self._activation()
        if kind in ACTIVATED and self.kind in ACTIVATED and old_activation != "softmax":
            spec["activation"] = old_activation
            if _options(old_activation):
                spec["alpha"] = self.alpha_spin.value()
        self._load(spec)
        self.edited.emit(self)

    def _activation_changed(self) -> None:
        if self.activation_combo.currentIndex() == len(ACTIVATIONS) and not self._ask_formula():
            return
        self._previous_activation = self.activation_combo.currentIndex()
        activation = self.activation_combo.currentText()
        if activation in ACTIVATION_OPTIONS:
            self.alpha_spin.blockSignals(True)
            self.alpha_spin.setValue(ACTIVATION_OPTIONS[activation]["alpha"])
            self.alpha_spin.blockSignals(False)
        self.alpha_spin.setVisible(activation in ACTIVATION_OPTIONS)
        self.edited.emit(self)

    def _ask_formula(self) -> bool:
        """The formula editor for "custom…": True if a formula was accepted; else the
        previous activation is shown again."""
        dialog = self.formula_dialog(self.formula or "x * sigmoid(x)", self)
        accepted = dialog.exec() and dialog.formula()
        if accepted:
            self.activation_combo.blockSignals(True)
            self._show_formula(dialog.formula())
            self.activation_combo.blockSignals(False)
        else:
            self.activation_combo.blockSignals(True)
            self.activation_combo.setCurrentIndex(self._previous_activation)
            self.activation_combo.blockSignals(False)
        dialog.deleteLater()
        return bool(accepted)

    def _value_changed(self, *_) -> None:
        self.edited.emit(self)

    # ------------------------------------------------------------------ display
    def set_index(self, index: int) -> None:
        self.index = index
        self.number.setText(str(index))
        self.number.setToolTip(f"layers[{index}]")

    def set_info(self, info: LayerInfo) -> None:
        if info.output_shape is None:
            self.info.setText("→ ?")
        else:
            frozen = " frozen" if self._spec.get("trainable") is False else ""
            self.info.setText(f"→ {shape_text(info.output_shape)}\n"
                              f"{count_text(info.param_count)}{frozen}")
        self.info.setToolTip("output shape per sample and number of parameters (frozen: they "
                             "keep their starting values)")

    def set_error(self, key: str | None, message: str | None) -> None:
        """Mark the row (and the editor of ``key``) with ``message``; None clears."""
        self.error_message = message
        widgets.show_error(self.error, message)
        targets = dict(self.editors, type=self.type_combo, activation=self.activation_combo,
                       alpha=self.alpha_spin, kernel=self.kernel_label,
                       trainable=self.trainable_box)
        if key == "cost":
            key = "activation"
        for name, widget in targets.items():
            widgets.mark_invalid(widget, message if message and name == key else None)
        self._restyle()

    @property
    def is_invalid(self) -> bool:
        return bool(self.error_message)

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self._restyle()

    def _restyle(self) -> None:
        self.update()

    def paintEvent(self, event) -> None:
        """A rounded card: red when invalid, highlighted when selected.

        Painted by hand rather than with a style sheet, which would stop the
        editors inside from following the theme and the large-font mode.
        """
        t = theme.current()
        if self.error_message:
            border, width, background = t.error, 2.0, t.error_background
        elif self.selected:
            border, width, background = t.highlight, 2.0, t.window
        else:
            border, width, background = _mid(t), 1.0, t.window
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(border), width))
        painter.setBrush(QColor(background))
        half = width / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(half, half, -half, -half), 5, 5)
        painter.end()

    # ------------------------------------------------------------------ events
    def mousePressEvent(self, event) -> None:
        self.activated.emit(self)
        super().mousePressEvent(event)

    def eventFilter(self, watched, event) -> bool:
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.MouseButtonPress):
            self.activated.emit(self)
        return False


ROWS_PER_TURN = 24    # layer rows made per event-loop turn (about 0.1 s)


class ModelBuilder(QWidget):
    """Input shape, the layer list (``layerList``) and add/remove/reorder buttons."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelBuilder")
        self.rows: list[LayerRow] = []
        self._pending: list[dict] = []    # specs of the rows still to be made
        self._wanted_row = -1             # the row to select once it exists
        self._check: Check | None = None
        self._infos: list[LayerInfo] = []
        self._loading = False
        self._rows_timer = QTimer(self, singleShot=True, interval=0)
        self._rows_timer.timeout.connect(self._add_rows)

        self.input_combo = QComboBox()
        self.input_combo.setObjectName("inputShapeCombo")
        self.input_combo.setToolTip("how each sample enters the network: a flat vector of "
                                    "features, or an image (channels × height × width)")
        self.input_combo.currentIndexChanged.connect(self._input_changed)

        self.list = QListWidget()
        self.list.setObjectName("layerList")
        # the rows draw the current one themselves; the view draws no selection
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSpacing(2)
        self.list.currentRowChanged.connect(self._current_changed)
        self.list.viewport().installEventFilter(self)

        style = self.style()
        self.add_button = self._button("Add layer", "addLayerButton",
                                       "insert a layer after the selected one "
                                       "(or before the output layer)", lambda: self.add_layer())
        self.remove_button = self._button("Remove", "removeLayerButton",
                                          "remove the selected layer", self.remove_layer)
        self.up_button = self._button("", "moveUpButton", "move the selected layer up",
                                      lambda: self.move_layer(-1))
        self.up_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowUp))
        self.down_button = self._button("", "moveDownButton", "move the selected layer down",
                                        lambda: self.move_layer(1))
        self.down_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowDown))
        self.summary = QLabel()
        self.summary.setObjectName("modelSummary")
        self.summary.setWordWrap(True)
        self.error = widgets.error_label("modelError")

        top = QHBoxLayout()
        top.addWidget(QLabel("Input"))
        top.addWidget(self.input_combo, 1)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)

    def _button(self, text, name, tip, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # ------------------------------------------------------------------ spec
    def input_shape(self) -> list[int]:
        data = self.input_combo.currentData()
        return list(data) if data else []

    def specs(self) -> list[dict]:
        """The layer specs as shown (every parameter, defaults included); rows still
        to be made give their spec as loaded."""
        return [row.spec() for row in self.rows] + [dict(spec) for spec in self._pending]

    def set_model(self, model: dict, shapes: list[tuple] | None = None) -> None:
        """Show the model spec's layers and its input shape among ``shapes`` (those
        the data set offers); emits nothing."""
        self._loading = True
        try:
            shape = tuple(model.get("input_shape") or ())
            choices = [tuple(s) for s in shapes or []]
            if shape and shape not in choices:
                choices.append(shape)           # shown, and marked if the data cannot fit it
            self._fill_input(choices, shape)
            self._rebuild([dict(s) for s in model.get("layers") or []], self.list.currentRow())
        finally:
            self._loading = False

    def _fill_input(self, shapes: list[tuple], current: tuple) -> None:
        self.input_combo.blockSignals(True)
        self.input_combo.clear()
        for shape in shapes:
            shape = tuple(shape)
            text = (f"{shape[0]} feature{'s' if shape[0] != 1 else ''}" if len(shape) == 1
                    else f"image {shape_text(shape)}")
            self.input_combo.addItem(text, shape)
        shapes = [tuple(self.input_combo.itemData(i)) for i in range(self.input_combo.count())]
        current = tuple(current or ())
        self.input_combo.setCurrentIndex(shapes.index(current) if current in shapes else 0)
        self.input_combo.blockSignals(False)

    # ------------------------------------------------------------------ editing
    def add_layer(self, kind: str | None = None) -> None:
        """Append a layer of type ``kind`` with the catalogue's defaults; without
        ``kind`` (the Add button) insert a sensible hidden layer after the
        selection, or just before the output layer."""
        specs = self.specs()
        if kind is not None:
            if kind not in DEFAULT_SPECS:
                raise ValueError(f"unknown layer type {kind!r}; use one of {sorted(DEFAULT_SPECS)}")
            pos = len(specs)
            specs.append({"type": kind, **DEFAULT_SPECS[kind]})
            self._rebuild(specs, pos)
            self._emit()
            return
        current = self.list.currentRow()
        n = len(specs)
        pos = current + 1 if 0 <= current < n - 1 else max(n - 1, 0)
        specs.insert(pos, self._new_layer(specs, pos))
        self._rebuild(specs, pos)
        self._emit()

    def use_kernel(self, kernel, trainable: bool) -> str:
        """Make ``kernel`` the starting weights of the first conv2d layer (see
        ``with_first_kernel``), frozen unless ``trainable``; reports the edit and
        returns what was done.  SpecError, and nothing changed, when it cannot."""
        specs, index, message = with_first_kernel(self.specs(), self.input_shape(), kernel,
                                                   trainable)
        self._rebuild(specs, index)
        self._emit()
        return message

    def remove_layer(self) -> None:
        specs = self.specs()
        if len(specs) <= 1:
            return
        current = self.list.currentRow()
        if not 0 <= current < len(specs):
            current = len(specs) - 2
        del specs[current]
        self._rebuild(specs, min(current, len(specs) - 1))
        self._emit()

    def move_layer(self, delta: int) -> None:
        specs = self.specs()
        current = self.list.currentRow()
        target = current + delta
        if not (0 <= current < len(specs) and 0 <= target < len(specs)):
            return
        specs[current], specs[target] = specs[target], specs[current]
        self._rebuild(specs, target)
        self._emit()

    def _new_layer(self, specs: list[dict], pos: int) -> dict:
        """A sensible layer for position ``pos``: conv after images, else dense,
        with the activation of the nearest hidden layer before it."""
        previous = self._infos[pos - 1].output_shape if 0 < pos <= len(self._infos) else None
        if previous is None and pos == 0:
            previous = tuple(self.input_shape())
        activation = next((s["activation"] for s in reversed(specs[:pos])
                           if s.get("activation") not in (None, "softmax", "identity")), "relu")
        if previous is not None and len(previous) == 3:
            spec = {"type": "conv2d", **DEFAULT_SPECS["conv2d"]}
        else:
            spec = {"type": "dense", **DEFAULT_SPECS["dense"]}
            hidden = [s.get("units") for s in specs[:pos] if s.get("type") == "dense"]
            if hidden:
                spec["units"] = hidden[-1]
        spec["activation"] = activation
        return spec

    def _rebuild(self, specs: list[dict], current: int) -> None:
        """Show ``specs`` from scratch: ROWS_PER_TURN rows now, the rest on the next
        event-loop turns (a row takes milliseconds to make: 500 at once froze the window)."""
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        self.rows, self._pending, self._wanted_row = [], [dict(s) for s in specs], current
        self._add_rows()

    def _add_rows(self) -> None:
        self.list.blockSignals(True)
        for spec in self._pending[:ROWS_PER_TURN]:
            row = LayerRow(len(self.rows), spec)
            row.edited.connect(self._row_edited)
            row.activated.connect(self._row_activated)
            item = QListWidgetItem()
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            self.rows.append(row)
            self._show_row_check(row)
        del self._pending[:ROWS_PER_TURN]
        if self._wanted_row < len(self.rows) or not self._pending:
            n = len(self.rows)
            self.list.setCurrentRow(self._wanted_row if 0 <= self._wanted_row < n else -1)
        self.list.blockSignals(False)
        self._current_changed(self.list.currentRow())
        self.sync_sizes()
        if self._pending:
            self._rows_timer.start()

    def _row_edited(self, row: LayerRow) -> None:
        self.list.setCurrentRow(row.index)
        self._emit()

    def _row_activated(self, row: LayerRow) -> None:
        if self.list.currentRow() != row.index:
            self.list.setCurrentRow(row.index)

    def _current_changed(self, current: int) -> None:
        for row in self.rows:
            row.set_selected(row.index == current)
        n = len(self.rows)
        self.remove_button.setEnabled(n > 1)
        self.up_button.setEnabled(0 < current < n)
        self.down_button.setEnabled(0 <= current < n - 1)

    def _input_changed(self) -> None:
        if not self._loading:
            self.changed.emit()

    def _emit(self) -> None:
        """Follow the first layer's need for images or vectors, then report the edit."""
        if self._loading:
            return
        first = self.rows[0].kind if self.rows else None
        if first in IMAGE_KINDS or first == "dense":
            wants_image = first in IMAGE_KINDS
            if (len(self.input_shape()) == 3) != wants_image:
                for i in range(self.input_combo.count()):
                    if (len(self.input_combo.itemData(i)) == 3) == wants_image:
                        self.input_combo.blockSignals(True)
                        self.input_combo.setCurrentIndex(i)
                        self.input_combo.blockSignals(False)
                        break
        self.changed.emit()

    # ------------------------------------------------------------------ feedback
    def show_check(self, check: Check) -> None:
        """Shapes and parameter counts on every row; the error at its row."""
        self._check, self._infos = check, list(check.layers)
        for row in self.rows:
            self._show_row_check(row)
        model_error = check.error is not None and check.section == "model"
        general = model_error and check.row is None
        widgets.show_error(self.error, str(check.error) if general else None)
        widgets.mark_invalid(self.input_combo, str(check.error)
                             if general and check.key in ("input_shape", "input") else None)
        if check.plan is not None:
            plan = check.plan
            frozen = sum(count for layer, count in zip(plan.layers, plan.param_counts)
                         if not layer.trainable)
            also = f" + {frozen:,} frozen" if frozen else ""
            self.summary.setText(f"{len(plan.layers)} layers · {plan.param_count - frozen:,} "
                                 f"trainable parameters{also} · output "
                                 f"{shape_text(plan.output_shape)}")
        else:
            self.summary.setText("The network is not valid yet: see the marked layer."
                                 if model_error else "")
        self.sync_sizes()

    def _show_row_check(self, row: LayerRow) -> None:
        check = self._check
        if row.index < len(self._infos):
            row.set_info(self._infos[row.index])
        here = (check is not None and check.error is not None and check.section == "model"
                and check.row == row.index)
        row.set_error(check.key if here else None, str(check.error) if here else None)

    def row(self, index: int) -> LayerRow:
        return self.rows[index]

    def sync_sizes(self) -> None:
        """Give each list item the height its row needs at the list's width, now and
        once more after pending layout changes (new editors, error text) settle."""
        self._resize_items()
        QTimer.singleShot(0, self._resize_items)

    def _resize_items(self) -> None:
        """Fit each list item to its row.  The list and the rows can be out of step
        (a resize event arrives while ``list.clear()`` rebuilds them): skip then."""
        width = self.list.viewport().width() - 2 * self.list.spacing()
        for i, row in enumerate(self.rows):
            item = self.list.item(i)
            if item is None:
                return
            height = (row.heightForWidth(width) if row.hasHeightForWidth()
                      else row.sizeHint().height())
            height = max(height, row.minimumSizeHint().height())
            item.setSizeHint(QSize(width, height))

    def eventFilter(self, watched, event) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._resize_items()
        return False


# --------------------------------------------------------------------------- editors
def _make_editor(kind: str, lo, hi, value, tip: str) -> QWidget:
    if kind == "int":
        return widgets.int_spin(lo, hi, int(value), tip)
    if kind == "float":
        return widgets.float_spin(lo, hi, float(value), 0.05, tooltip=tip)
    if kind == "log":
        return widgets.LogSpinBox(lo, hi, float(value), tooltip=tip)
    combo = QComboBox()                       # padding
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.addItems(list(PADDINGS))
    text = str(value)
    if combo.findText(text) < 0:
        combo.addItem(text)
    combo.setCurrentText(text)
    combo.setToolTip(tip)
    return combo


def _editor_value(editor: QWidget):
    if isinstance(editor, QComboBox):
        text = editor.currentText()
        return int(text) if text.isdigit() else text
    return editor.value()


def _connect(editor: QWidget, slot) -> None:
    if isinstance(editor, QComboBox):
        editor.currentIndexChanged.connect(slot)
    else:
        editor.valueChanged.connect(slot)


def _mid(t) -> str:
    return "#B8BCC2" if t.name == "light" else "#4A4D52"

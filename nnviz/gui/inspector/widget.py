"""The back-propagation inspector widget (objectName ``backpropInspector``).

It asks for a sample's numbers with ``trace_requested(split, index)`` and
draws what ``show_trace(data, source)`` hands back (``backprop_data``'s dict):
the diagram for small dense networks, the heatmaps otherwise, and the chain
rule of the selected neuron.  It never computes anything itself.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QSpinBox, QSplitter, QStackedWidget, QVBoxLayout,
                               QWidget)

from nnviz.gui.inspector.chain import explain, fmt
from nnviz.gui.inspector.diagram import DiagramView, is_small
from nnviz.gui.inspector.heatmaps import HeatmapsView
from nnviz.gui.inspector.stepper import Stepper

SPLITS = ("train", "val")


class BackpropInspector(QWidget):
    trace_requested = Signal(str, int)       # (split, index): please send its numbers

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("backpropInspector")
        self.data: dict | None = None
        self.source = ""
        self.selected: tuple[int, int] | None = None
        self.explanation = None
        self.stepper = Stepper()
        self.n_samples = {"train": 0, "val": 0}
        self._rng = np.random.default_rng()

        self.split = QComboBox()
        self.split.addItems(SPLITS)
        self.index = QSpinBox()
        self.index.setObjectName("inspectorIndex")
        self.index.setRange(0, 0)
        self.prev_button, self.next_button = QPushButton("◀"), QPushButton("▶")
        self.random_button = QPushButton("Random")
        self.refresh_button = QPushButton("Refresh")
        self.auto = QCheckBox("every second while training")
        self.step_mode = QCheckBox("Step through")
        self.step_button = QPushButton("Step (Space)")
        self.step_button.setObjectName("inspectorStep")
        self.filter = QSpinBox()
        self.filter.setPrefix("filter ")
        self.filter.setRange(1, 1)
        row = QHBoxLayout()
        for w in (QLabel("Sample"), self.split, self.index, self.prev_button, self.next_button,
                  self.random_button, self.refresh_button, self.auto, self.step_mode,
                  self.step_button, self.filter):
            row.addWidget(w)
        row.addStretch(1)
        self.header = QLabel("Pick a sample.")
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.header.setWordWrap(True)
        self.stage = QLabel("")
        self.stage.setTextFormat(Qt.TextFormat.PlainText)
        self.diagram = DiagramView()
        self.heatmaps = HeatmapsView()
        self.pictures = QStackedWidget()
        self.pictures.addWidget(self.diagram)
        self.pictures.addWidget(self.heatmaps)
        self.text = QPlainTextEdit()
        self.text.setObjectName("chainRuleText")
        self.text.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.text.setFont(mono)
        self.text.setPlainText("Click a neuron to see its chain-rule step with the numbers.")
        splitter = QSplitter()
        splitter.addWidget(self.pictures)
        splitter.addWidget(self.text)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.header)
        layout.addWidget(self.stage)
        layout.addWidget(splitter, 1)

        self.split.currentTextChanged.connect(self._split_changed)
        self.index.valueChanged.connect(lambda _: self.request())
        self.prev_button.clicked.connect(lambda: self.index.setValue(self.index.value() - 1))
        self.next_button.clicked.connect(lambda: self.index.setValue(self.index.value() + 1))
        self.random_button.clicked.connect(self.random_sample)
        self.refresh_button.clicked.connect(self.request)
        self.step_mode.toggled.connect(self.set_step_mode)
        self.step_button.clicked.connect(self.step)
        self.filter.valueChanged.connect(lambda _: self._redraw())
        self.diagram.neuron_clicked.connect(self.select_neuron)
        self._update_controls()

    # ------------------------------------------------------------------ sample
    def set_sizes(self, n_train: int, n_val: int) -> None:
        """How many samples each split has (the index spin box's range)."""
        self.n_samples = {"train": int(n_train), "val": int(n_val)}
        self._split_changed(self.split.currentText(), request=False)

    def _split_changed(self, split: str, request: bool = True) -> None:
        self.index.blockSignals(True)
        self.index.setRange(0, max(0, self.n_samples.get(split, 0) - 1))
        self.index.blockSignals(False)
        if request:
            self.request()

    def select_sample(self, split: str, index: int) -> None:
        """Show sample ``index`` of ``split`` (asks for its numbers)."""
        self.split.blockSignals(True)
        self.split.setCurrentText(split)
        self.split.blockSignals(False)
        self._split_changed(split, request=False)
        self.index.blockSignals(True)
        self.index.setValue(int(index))
        self.index.blockSignals(False)
        self.request()

    def random_sample(self) -> None:
        n = self.n_samples.get(self.split.currentText(), 0)
        if n:
            self.index.setValue(int(self._rng.integers(n)))

    def request(self) -> None:
        self.trace_requested.emit(self.split.currentText(), self.index.value())

    # ------------------------------------------------------------------ showing
    def show_trace(self, data: dict, source: str = "") -> None:
        """Draw ``data`` (``backprop_data``'s dict); ``source`` says whose weights."""
        first = self.data is None or len(self.data["layers"]) != len(data["layers"])
        self.data, self.source = data, source
        self.stepper.n_layers = len(data["layers"])
        if first:
            self.selected = None
        shapes = [np.shape(l["a"]) for l in data["layers"] if np.ndim(l["a"]) == 3]
        self.filter.setVisible(bool(shapes) and not is_small(data))
        self.filter.setRange(1, max([s[0] for s in shapes], default=1))
        self.header.setText(
            f"Sample {data['index']} of {data['split']} ({data['n_samples']}) · target "
            f"{data['target_text']} · predicted {data['predicted_text']} · cost "
            f"{fmt(data['cost'])} ({data['cost_name']}) · {source}")
        self._update_controls()
        self._redraw()

    def show_error(self, text: str) -> None:
        self.header.setText(f"Cannot trace this sample: {text}")

    @property
    def small(self) -> bool:
        return self.data is not None and is_small(self.data)

    def _redraw(self) -> None:
        if self.data is None:
            return
        if self.small:
            self.pictures.setCurrentWidget(self.diagram)
            self.diagram.draw(self.data, self.stepper, self.selected)
        else:
            self.pictures.setCurrentWidget(self.heatmaps)
            self.heatmaps.draw(self.data, self.stepper, self.filter.value() - 1)
        self.stage.setText(f"Stage {self.stepper.stage + 1} of {self.stepper.n_stages}: "
                           f"{self.stepper.label()}" if self.stepper.active else "")
        self._write_chain()

    def select_neuron(self, layer: int, unit: int) -> None:
        """Write out the chain rule of neuron ``unit`` of ``layer`` (0-based)."""
        if layer < 0:
            return
        self.selected = (layer, unit)
        self._redraw()

    def _write_chain(self) -> None:
        self.explanation = None
        if self.selected is None or self.data is None or not self.small:
            return
        layer, unit = self.selected
        if layer >= len(self.data["layers"]) or unit >= np.size(self.data["layers"][layer]["a"]):
            return
        if not self.stepper.shows("grad"):
            self.text.setPlainText("Step to the end (the gradients) to see the whole "
                                   "chain-rule step of the selected neuron.")
            return
        self.explanation = explain(self.data, layer, unit)
        self.text.setPlainText(self.explanation.text)

    # ------------------------------------------------------------------ stepping
    def set_step_mode(self, on: bool) -> None:
        if on:
            self.stepper.start(len(self.data["layers"]) if self.data else 0)
            self.diagram.setFocus()
        else:
            self.stepper.stop()
        self.step_mode.blockSignals(True)
        self.step_mode.setChecked(on)
        self.step_mode.blockSignals(False)
        self._update_controls()
        self._redraw()

    def step(self) -> None:
        """One stage further (Space)."""
        if self.stepper.advance():
            self._redraw()

    def _update_controls(self) -> None:
        small = self.small
        self.step_mode.setEnabled(small)
        if not small and self.stepper.active:
            self.stepper.stop()
            self.step_mode.setChecked(False)
        self.step_button.setEnabled(small and self.stepper.active)

    def event(self, event) -> bool:
        # Space steps while stepping through (instead of the window's Start/Pause)
        if (event.type() == QEvent.Type.ShortcutOverride and self.stepper.active
                and event.key() == Qt.Key.Key_Space):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and self.stepper.active:
            self.step()
            return
        super().keyPressEvent(event)

"""The formula editor: type an activation f(x), see f and f' on [-5, 5] as you type.

``FormulaDialog`` checks the text with the engine's parser
(``nnviz.core.formula``) on every keystroke - it is fast and never evaluates
the text - shows the reason and column of an error below the line edit, and
plots f and its autograd derivative.  OK is enabled only for a valid formula;
``formula()`` is the text, ``activation_spec()`` the ``{"formula": ...}`` a
layer spec takes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel,
                               QLineEdit, QVBoxLayout, QWidget)

from nnviz.core.errors import SpecError
from nnviz.core.formula import CONSTANTS, FUNCTIONS, MAX_LENGTH, Formula, compile_formula
from nnviz.gui.panels.widgets import error_label, mark_invalid, show_error
from nnviz.gui.views import plotstyle

X_RANGE = (-5.0, 5.0)
SAMPLES = 401
#: (label, formula) offered as starting points
EXAMPLES = (("swish / SiLU", "x * sigmoid(x)"),
            ("GELU (sigmoid approximation)", "x * sigmoid(1.702 * x)"),
            ("softplus", "log(1 + exp(x))"),
            ("leaky ReLU", "where(x > 0, x, 0.1 * x)"),
            ("ReLU", "maximum(x, 0)"),
            ("tanh", "tanh(x)"),
            ("gaussian", "exp(-x ** 2)"),
            ("sine", "sin(x)"))
HELP = ("Write f(x) with numbers, x, " + ", ".join(CONSTANTS) + ", + − * / **, brackets and "
        + ", ".join(FUNCTIONS) + " (where(x > 0, a, b) picks a or b). The derivative f′ "
        "comes from autograd.")


class FormulaDialog(QDialog):
    """A dialog to write an activation formula, with a live plot of f and f'.

    ``formula_changed(str)`` is emitted with each new valid formula as it is typed.
    """

    formula_changed = Signal(str)

    def __init__(self, formula: str = "x * sigmoid(x)", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Custom activation")
        self.setObjectName("formulaDialog")
        self._formula: Formula | None = None
        self.edit = QLineEdit()
        self.edit.setObjectName("formulaEdit")
        self.edit.setMaxLength(MAX_LENGTH + 50)   # longer text gets the engine's message
        self.edit.setPlaceholderText("e.g. x * sigmoid(x)")
        self.examples = QComboBox()
        self.examples.setObjectName("formulaExamples")
        self.examples.addItem("Examples…")
        for label, text in EXAMPLES:
            self.examples.addItem(f"{label}:  {text}", text)
        self.error = error_label("formulaError")
        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("formulaPlot")
        plotstyle.style_plot(self.plot.getPlotItem(), "", "x", "")
        plotstyle.add_legend(self.plot, offset=(10, 10))
        self.f_curve = self.plot.plot(pen=plotstyle.pen(0), name="f(x)")
        self.df_curve = self.plot.plot(pen=plotstyle.pen(1, dashed=True), name="f′(x)")
        self.plot.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#888888", width=0.5)))
        self.plot.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#888888", width=0.5)))
        self.plot.setXRange(*X_RANGE, padding=0.02)
        self.plot.setMinimumSize(420, 260)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(QLabel("f(x) ="))
        row.addWidget(self.edit, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.examples)
        layout.addWidget(self.error)
        layout.addWidget(self.plot, 1)
        layout.addWidget(help_label)
        layout.addWidget(self.buttons)

        self.edit.textChanged.connect(self._check)
        self.examples.activated.connect(self._use_example)
        self.edit.setText(formula)
        self._check(self.edit.text())

    # ------------------------------------------------------------------ API
    def formula(self) -> str | None:
        """The valid formula text (stripped), or None while the text is invalid."""
        return self._formula.text if self._formula is not None else None

    def activation_spec(self) -> dict | None:
        """``{"formula": text}`` for a layer's activation, or None while invalid."""
        text = self.formula()
        return {"formula": text} if text is not None else None

    def set_formula(self, text: str) -> None:
        self.edit.setText(text)

    def error_message(self) -> str | None:
        """The engine's message for the current text, None when it is valid."""
        if self._formula is not None:
            return None
        return self.error.text()

    # ------------------------------------------------------------------ internals
    def _use_example(self, index: int) -> None:
        text = self.examples.itemData(index)
        if text:
            self.edit.setText(text)
        self.examples.setCurrentIndex(0)

    def _check(self, text: str) -> None:
        try:
            formula = compile_formula(text, "formula")
        except SpecError as exc:
            self._formula = None
            message = f"{exc.problem} ({exc.fix})" if exc.fix else exc.problem
            show_error(self.error, message)
            mark_invalid(self.edit, message)
            self.f_curve.setData([], [])
            self.df_curve.setData([], [])
        else:
            self._formula = formula
            show_error(self.error, None)
            mark_invalid(self.edit, None)
            self._draw(formula)
            self.formula_changed.emit(formula.text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self._formula is not None)

    def _draw(self, formula: Formula) -> None:
        x = np.linspace(*X_RANGE, SAMPLES)
        with np.errstate(all="ignore"):
            f, df = formula.f(x), formula.df(x)
        f, df = (np.where(np.isfinite(v), v, np.nan) for v in (f, df))   # gaps, not spikes
        self.f_curve.setData(x, f, connect="finite")
        self.df_curve.setData(x, df, connect="finite")

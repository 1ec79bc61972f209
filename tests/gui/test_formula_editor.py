"""FormulaDialog: live plot of f and f', errors as you type, the accepted formula."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from nnviz.gui.panels.formula_editor import FormulaDialog


@pytest.fixture
def dialog(qtbot):
    d = FormulaDialog("tanh(x)")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def ok_button(d):
    return d.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_plots_f_and_its_derivative_on_minus_five_to_five(dialog):
    x, f = dialog.f_curve.getData()
    _, df = dialog.df_curve.getData()
    assert x[0] == -5 and x[-1] == 5
    np.testing.assert_allclose(f, np.tanh(x))
    np.testing.assert_allclose(df, 1 - np.tanh(x) ** 2, atol=1e-12)
    assert dialog.formula() == "tanh(x)" and ok_button(dialog).isEnabled()


def test_typing_updates_plot_and_errors_as_you_type(dialog, qtbot):
    seen = []
    dialog.formula_changed.connect(seen.append)
    dialog.edit.clear()
    qtbot.keyClicks(dialog.edit, "x**2")
    assert seen[-1] == "x**2"
    x, f = dialog.f_curve.getData()
    np.testing.assert_allclose(f, x ** 2)
    np.testing.assert_allclose(dialog.df_curve.getData()[1], 2 * x)
    qtbot.keyClicks(dialog.edit, " + x.real")          # now invalid
    assert dialog.formula() is None and dialog.activation_spec() is None
    assert not ok_button(dialog).isEnabled()
    assert dialog.error.isVisible() and "attribute access" in dialog.error.text()
    assert "column 8" in dialog.error_message()
    assert dialog.f_curve.getData()[0] is None or len(dialog.f_curve.getData()[0]) == 0
    for _ in range(len(" + x.real")):
        qtbot.keyClick(dialog.edit, Qt.Key.Key_Backspace)
    assert dialog.formula() == "x**2" and not dialog.error.isVisible()
    assert ok_button(dialog).isEnabled()


def test_accepting_returns_the_layer_activation_spec(dialog, qtbot):
    dialog.set_formula("  x * sigmoid(x) ")
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        ok_button(dialog).click()
    assert dialog.activation_spec() == {"formula": "x * sigmoid(x)"}


def test_examples_fill_the_line_edit(dialog):
    index = next(i for i in range(dialog.examples.count())
                 if dialog.examples.itemData(i) == "log(1 + exp(x))")
    dialog.examples.activated.emit(index)
    assert dialog.edit.text() == "log(1 + exp(x))" and dialog.formula() == "log(1 + exp(x))"
    assert dialog.examples.currentIndex() == 0


def test_values_that_are_not_finite_leave_gaps(dialog):
    dialog.set_formula("log(x)")
    x, f = dialog.f_curve.getData()
    assert np.isnan(f[x < 0]).all() and np.isfinite(f[x > 0]).all()

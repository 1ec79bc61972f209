"""ScheduleEditor: the catalogue's schedules, their parameters, changed(dict), the preview."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QLineEdit

from nnviz.core.catalogue import SCHEDULES
from nnviz.core.errors import SpecError
from nnviz.gui.panels.schedule_editor import ScheduleEditor


@pytest.fixture
def editor(qtbot):
    e = ScheduleEditor(eta=0.1, epochs=6)
    qtbot.addWidget(e)
    e.show()
    return e


def pick(editor, name):
    editor.combo.setCurrentIndex(editor.combo.findData(name))


def test_lists_every_catalogue_schedule_and_starts_constant(editor):
    names = [editor.combo.itemData(i) for i in range(editor.combo.count())]
    assert names == list(SCHEDULES)
    assert editor.schedule() is None
    np.testing.assert_allclose(editor.rates(), [0.1] * 6)
    assert "PyTorch" in editor.combo.toolTip()


def test_picking_builds_the_parameters_and_emits_the_normalised_schedule(editor, qtbot):
    with qtbot.waitSignal(editor.changed, timeout=15_000) as signal:
        pick(editor, "step")
    assert signal.args == [{"name": "step", "step_size": 10, "gamma": 0.1}]
    assert set(editor._editors) == {"step_size", "gamma"}
    with qtbot.waitSignal(editor.changed, timeout=15_000) as signal:
        editor._editors["step_size"].setValue(2)
    assert signal.args[0]["step_size"] == 2
    assert editor.schedule() == {"name": "step", "step_size": 2, "gamma": 0.1}
    np.testing.assert_allclose(editor.rates(), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    x, y = editor.curve.getData()
    np.testing.assert_allclose(y, editor.rates())


def test_set_schedule_shows_it_and_preview_follows_eta_and_epochs(editor):
    editor.set_schedule({"name": "cosine", "t_max": 4, "eta_min": 0.0})
    assert editor.combo.currentData() == "cosine"
    assert editor._editors["t_max"].value() == 4
    editor.set_eta(1.0)
    editor.set_epochs(5)
    np.testing.assert_allclose(editor.rates(), [1, 0.853553, 0.5, 0.146447, 0], atol=1e-6)
    editor.set_schedule(None)
    assert editor.schedule() is None and editor.combo.currentData() == "constant"
    with pytest.raises(SpecError, match="training.schedule.name"):
        editor.set_schedule({"name": "sometimes"})


def test_invalid_milestones_are_marked_and_not_emitted(editor, qtbot):
    editor.set_schedule({"name": "multistep", "milestones": [2, 4], "gamma": 0.5})
    edit = editor._editors["milestones"]
    assert isinstance(edit, QLineEdit) and edit.text() == "2, 4"
    seen = []
    editor.changed.connect(seen.append)
    edit.setText("4, 2")
    edit.editingFinished.emit()
    assert not seen and editor.schedule() is None
    assert "increasing" in editor.error.text() and editor.error.isVisible()
    assert getattr(edit, "invalid_message", None)
    edit.setText("1, 3")
    edit.editingFinished.emit()
    assert seen[-1] == {"name": "multistep", "milestones": [1, 3], "gamma": 0.5}
    assert not editor.error.isVisible()
    np.testing.assert_allclose(editor.rates(), [0.1, 0.05, 0.05, 0.025, 0.025, 0.025])


@pytest.mark.parametrize("eta", [1e-9, 1e-300, 3.0])
def test_preview_spans_the_rates_however_small(editor, eta):
    """The y axis runs from 0 to just above the top rate: a tiny η is a visible
    line at the top of the plot, not a flat line at 0 on a ±0.5 axis."""
    editor.set_eta(eta)
    low, high = editor.preview.getPlotItem().viewRange()[1]
    assert low <= 0.0 < eta <= high < 1.5 * eta

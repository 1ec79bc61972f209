"""The back-propagation inspector in the window: its numbers, step-through and sources."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QWidget

from nnviz.core import Network
from nnviz.core.datasets import load_dataset
from nnviz.core.experiment import load_preset
from nnviz.core.runs import RunState
from nnviz.core.trace import backprop_data
from nnviz.gui.inspector.chain import fmt
from nnviz.gui.inspector.widget import BackpropInspector
try:
    from .windows import TRAIN_TIMEOUT, click, make_window, settings  # noqa: F401
except ImportError:
    from windows import TRAIN_TIMEOUT, click, make_window, settings  # noqa: F401

SMALL = {"input_shape": [2], "cost": "bce", "seed": 1, "layers": [
    {"type": "dense", "units": 3, "activation": "tanh"},
    {"type": "dense", "units": 1, "activation": "sigmoid"}]}


def small_experiment(epochs: int = 50) -> dict:
    """A 2-3-1 network on moons: the inspector's diagram, numbers on every unit."""
    spec = load_preset("moons_small").to_dict()
    spec["model"] = copy.deepcopy(SMALL) | {"init": "xavier"}
    spec["training"]["epochs"] = epochs
    spec.pop("title", None)
    return spec


@pytest.fixture
def small_trace():
    net = Network.from_spec(SMALL)
    dataset = load_dataset({"name": "xor", "n_samples": 40, "seed": 0}, input_shape=(2,))
    return backprop_data(net, dataset, 3)


def test_step_through_a_2_3_1_network_reveals_forward_then_backward(qtbot, small_trace):
    inspector = BackpropInspector()
    qtbot.addWidget(inspector)
    inspector.show_trace(small_trace, "test")
    assert inspector.small and inspector.pictures.currentWidget() is inspector.diagram
    inspector.step_mode.setChecked(True)
    assert inspector.step_button.isEnabled()
    texts = inspector.diagram.texts
    hidden, out = small_trace["layers"]
    # stage 1: only the input is shown; z, a and δ of every unit are blank
    assert texts[(0, 0, "z")] == "z =" and texts[(1, 0, "delta")] == "δ ="
    qtbot.keyClick(inspector, Qt.Key.Key_Space)                 # forward: hidden z and a
    assert texts[(0, 2, "z")] == f"z = {fmt(hidden['z'][2])}"
    assert texts[(0, 2, "a")] == f"a = {fmt(hidden['a'][2])}"
    assert texts[(1, 0, "z")] == "z ="
    qtbot.keyClick(inspector, Qt.Key.Key_Space)                 # output z and a
    assert texts[(1, 0, "a")] == f"a = {fmt(out['a'][0])}"
    assert texts[(-2, 0, "cost")] == "C ="
    qtbot.keyClick(inspector, Qt.Key.Key_Space)                 # the cost
    assert texts[(-2, 0, "cost")] == f"C = {fmt(small_trace['cost'])}"
    assert texts[(1, 0, "delta")] == "δ ="
    qtbot.keyClick(inspector, Qt.Key.Key_Space)                 # backward: output δ
    assert texts[(1, 0, "delta")] == f"δ = {fmt(out['delta'][0])}"
    assert texts[(0, 1, "delta")] == "δ ="
    qtbot.keyClick(inspector, Qt.Key.Key_Space)                 # hidden δ
    assert all(texts[(0, j, "delta")] == f"δ = {fmt(hidden['delta'][j])}" for j in range(3))


def test_chain_rule_text_of_a_clicked_neuron_has_the_traces_numbers(qtbot, small_trace):
    inspector = BackpropInspector()
    qtbot.addWidget(inspector)
    inspector.resize(900, 500)
    inspector.show()
    inspector.show_trace(small_trace, "test")
    box = inspector.diagram.boxes[(0, 1)]                       # hidden unit 2 of 3
    view = inspector.diagram
    centre = view.mapFromScene(box.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert inspector.selected == (0, 1)
    text = inspector.text.toPlainText()
    hidden = small_trace["layers"][0]
    assert fmt(hidden["delta"][1]) in text and fmt(hidden["z"][1]) in text
    assert inspector.explanation.delta == hidden["delta"][1]


def test_before_start_the_inspector_traces_the_initial_weights(make_window, qtbot):
    window = make_window(small_experiment(), fake=True)
    inspector = window.show_inspector()
    assert window.findChild(QWidget, "backpropInspector") is inspector
    inspector.select_sample("val", 5)
    qtbot.waitUntil(lambda: inspector.data is not None, timeout=TRAIN_TIMEOUT)
    check = window.model.check
    expected = backprop_data(check.network, check.dataset, 5, "val")
    assert "initial weights" in inspector.header.text()
    assert inspector.data["index"] == 5 and inspector.data["split"] == "val"
    np.testing.assert_array_equal(inspector.data["layers"][0]["delta"],
                                  expected["layers"][0]["delta"])
    assert inspector.pictures.currentWidget() is inspector.diagram


def test_a_paused_run_is_traced_by_the_worker_on_its_weights(make_window, qtbot):
    window = make_window(small_experiment(epochs=1000), thread=True)
    window.set_pace(200.0)                                       # 10 epochs a second
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.RUNNING, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: len(window.runs[-1]) > 3, timeout=TRAIN_TIMEOUT)
    click(qtbot, window.start_button)                            # Pause
    qtbot.waitUntil(lambda: window.state is RunState.PAUSED, timeout=TRAIN_TIMEOUT)
    inspector = window.show_inspector()
    with qtbot.waitSignal(window.controller.trace, timeout=TRAIN_TIMEOUT) as answer:
        inspector.select_sample("train", 7)
    trace = answer.args[0]
    assert trace.data is not None and trace.step > 0
    qtbot.waitUntil(lambda: inspector.data is not None and inspector.data["index"] == 7)
    assert f"weights at step {trace.step} (paused)" in inspector.header.text()
    initial = backprop_data(window.model.check.network, window.model.check.dataset, 7)
    assert not np.array_equal(inspector.data["layers"][0]["delta"], initial["layers"][0]["delta"])
    inspector.select_sample("train", 10 ** 6)                    # out of range: said, not thrown
    qtbot.waitUntil(lambda: inspector.data["index"] == 7 and inspector.index.value() < 10 ** 6)


def test_clicking_a_point_on_the_decision_boundary_picks_that_sample(make_window, qtbot):
    window = make_window(small_experiment(), thread=True)
    output = window.views["output"]
    window.docks["output"].raise_()
    window.set_pace(None)
    window.training_panel.epochs.setValue(2)
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: output.data is not None and output.data.kind == "boundary",
                    timeout=TRAIN_TIMEOUT)
    inspector = window.show_inspector()
    data = output.data
    k = 4
    x, y = np.asarray(data.train_points)[k, :2]
    assert output.nearest_sample(x, y) == ("train", int(data.train_index[k]))
    vb = output.plot.getPlotItem().vb
    pos = output.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    with qtbot.waitSignal(output.sample_clicked, timeout=5000) as picked:
        qtbot.mouseClick(output.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert picked.args == ["train", int(data.train_index[k])]
    qtbot.waitUntil(lambda: inspector.data is not None
                    and inspector.data["index"] == int(data.train_index[k]), timeout=TRAIN_TIMEOUT)


def test_a_cnn_is_shown_as_heatmaps(make_window, qtbot):
    window = make_window(load_preset("digits_cnn").to_dict(), fake=True)
    inspector = window.show_inspector()
    inspector.select_sample("train", 0)
    qtbot.waitUntil(lambda: inspector.data is not None, timeout=TRAIN_TIMEOUT)
    assert not inspector.small and inspector.pictures.currentWidget() is inspector.heatmaps
    assert not inspector.step_mode.isEnabled() and inspector.filter.isVisible()
    inspector.filter.setValue(inspector.filter.maximum())       # another filter: redrawn
    assert inspector.header.text().startswith("Sample 0 of train")

"""Comparing runs in the window: pin a run, change the network, train again.

Real training (the worker process) on a small moons network: the lesson of
"sigmoid with the standard init" against "ReLU with He".
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from nnviz.core.runs import RunState

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import TRAIN_TIMEOUT, answer, click, make_window, no_leaks, settings  # noqa: F401
except ImportError:
    from windows import TRAIN_TIMEOUT, answer, click, make_window, no_leaks, settings  # noqa: F401

EPOCHS = 15


def sigmoid_experiment() -> dict:
    return {
        "dataset": {"name": "moons", "n_samples": 200, "noise": 0.2, "val_fraction": 0.25,
                    "seed": 0},
        "model": {"input_shape": [2], "cost": "bce", "init": "standard", "seed": 0,
                  "layers": [{"type": "dense", "units": 8, "activation": "sigmoid"},
                             {"type": "dense", "units": 8, "activation": "sigmoid"},
                             {"type": "dense", "units": 1, "activation": "sigmoid"}]},
        "training": {"optimizer": {"name": "constant", "eta": 0.5}, "epochs": EPOCHS,
                     "batch_size": 16},
    }


def train_to_the_end(qtbot, window) -> None:
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=TRAIN_TIMEOUT)


def select(combo: QComboBox, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def drawn(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def test_pin_a_sigmoid_run_then_compare_relu_he(make_window, qtbot, answer, tmp_path):
    window = make_window(sigmoid_experiment())
    loss, gradient = window.views["loss"], window.views["gradient"]
    assert not window.actions["pin"].isEnabled()          # nothing to pin yet
    train_to_the_end(qtbot, window)
    first = window.runs[-1]
    # one history point per epoch at least, however fast the run went
    assert len(first) >= EPOCHS and first.last("epoch") == pytest.approx(EPOCHS)
    assert first.name == "sigmoid · standard · sgd"
    assert window.actions["pin"].isEnabled()

    window.actions["pin"].trigger()                       # Ctrl+P / the Pin button
    assert [p.run for p in window.runs_model.pinned] == [first]

    answer(True)                                          # "discard the trained weights?"
    for i in range(len(window.model_builder.rows) - 1):
        window.model_builder.rows[i].activation_combo.setCurrentText("relu")
    select(window.training_panel.init_combo, "he")
    assert window.session is None                         # the old run's weights are gone...
    assert window.runs == [first]                         # ...its curves are not
    train_to_the_end(qtbot, window)
    second = window.runs[-1]
    assert window.runs == [first, second] and second.name == "relu · he"

    # both runs on the loss plot: the current run's own curves, the pinned run dashed
    # (the views are updated one per event-loop turn: wait for the last frame)
    qtbot.waitUntil(lambda: drawn(loss.curves["val_loss"]) == len(second)
                    and all(drawn(c) == len(second) for c in gradient.curves["weight"]),
                    timeout=5000)
    pinned_loss = loss.pinned_curves["loss"].curves
    assert any(drawn(c) == len(first) for c in pinned_loss)
    pen = pinned_loss[0].opts["pen"]
    assert pen.style() != Qt.PenStyle.SolidLine
    assert pen.color().name() == window.runs_model.pinned[0].colour.lower()
    # ...and on the gradient plot: every layer of both runs
    pinned_grads = gradient.pinned_curves["weight"].curves
    assert len(pinned_grads) == len(first.layers) == 3
    assert all(drawn(c) == len(first) for c in pinned_grads)
    assert len(gradient.curves["weight"]) == 3
    # listed in the Runs dock, with their final validation figures
    tree = window.runs_panel.tree
    assert tree.objectName() == "runsList" and tree.topLevelItemCount() == 2
    assert tree.topLevelItem(0).text(0) == "sigmoid · standard · sgd"
    assert tree.topLevelItem(1).text(0).startswith("relu · he")
    assert tree.topLevelItem(0).text(1) == f"{first.last('val_accuracy'):.1%}"

    click(qtbot, window.reset_button)                     # Reset keeps the pinned run
    assert window.runs == [first]
    assert drawn(loss.curves["val_loss"]) == 0
    assert any(drawn(c) == len(first) for c in loss.pinned_curves["loss"].curves)
    window.open_preset("xor_small")                       # so do presets
    assert window.runs == [first] and tree.topLevelItemCount() == 1

    # the pinned run's history round-trips through CSV
    path = tmp_path / "first.csv"
    assert window.runs_panel.export_run(first, str(path))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    epochs, val_loss = first.series("val_loss")
    assert len(rows) == len(first)
    assert [float(r["epoch"]) for r in rows] == list(epochs)
    assert [float(r["val_loss"]) for r in rows] == list(val_loss)
    column = f"{first.layers[0]}: delta_norm"
    assert np.array_equal([float(r[column]) for r in rows], first.series("delta_norm", 0)[1])


def test_hiding_renaming_and_removing_pinned_runs(make_window, qtbot):
    window = make_window(sigmoid_experiment())
    train_to_the_end(qtbot, window)
    run = window.pin_run().run
    loss, tree, model = window.views["loss"], window.runs_panel.tree, window.runs_model
    assert len(loss.pinned_curves["loss"].curves) == 2     # validation and training

    item = tree.topLevelItem(0)
    item.setCheckState(0, Qt.CheckState.Unchecked)         # hide
    assert not model.pinned[0].visible and loss.pinned_curves["loss"].curves == []
    tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Checked)
    assert len(loss.pinned_curves["loss"].curves) == 2

    tree.topLevelItem(0).setText(0, "baseline")            # rename (as the editor does)
    assert run.name == "baseline"
    assert "baseline" in [name for name, _, _ in loss.legend.entries]        # the legend says so

    tree.topLevelItem(0).setSelected(True)
    click(qtbot, window.runs_panel.remove_button)
    assert window.runs == [] and loss.pinned_curves["loss"].curves == []
    assert not math.isnan(run.last("val_loss"))            # the data is the caller's to keep

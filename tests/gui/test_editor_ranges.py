"""Every editor holds exactly the range the engine accepts (the catalogue's ``bounds``),
so a value from a file is either refused by the engine, naming the field, or shown
unchanged — never silently clamped or rounded."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QMessageBox

from nnviz.core import catalogue
from nnviz.core.datasets import PARAMS
from nnviz.core.experiment import load_preset
from nnviz.gui.panels.data_panel import DataPanel
from nnviz.gui.panels.schedule_editor import ScheduleEditor
from nnviz.gui.panels.training_panel import TrainingPanel
from nnviz.gui.panels.validation import changed_values, changes_text

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import make_window, no_leaks, settings  # noqa: F401
except ImportError:
    from windows import make_window, no_leaks, settings  # noqa: F401


def editor_range(editor) -> tuple:
    return editor.minimum(), editor.maximum()


def test_training_editors_take_the_catalogue_ranges(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    optimizer_params = {k: p for e in catalogue.OPTIMIZERS.values() for k, p in e.params.items()}
    expected = {panel.learning_rate: optimizer_params["eta"],
                **{panel.hyper[k]: optimizer_params[k] for k in panel.hyper},
                panel.l2: catalogue.TRAINING["l2"], panel.clip_norm: catalogue.TRAINING["clip_norm"],
                panel.epochs: catalogue.TRAINING["epochs"],
                panel.batch_size: catalogue.TRAINING["batch_size"],
                panel.seed: catalogue.MODEL["seed"]}
    for editor, param in expected.items():
        assert editor_range(editor) == param.bounds(), editor.objectName()


@pytest.mark.parametrize("kind", [k for k, e in catalogue.LAYERS.items()
                                  if any(p.kind in ("int", "float") for p in e.params.values())])
def test_layer_editors_take_the_catalogue_ranges(make_window, kind):
    builder = make_window(fake=True).model_builder
    builder.add_layer(kind)
    row = builder.rows[-1]
    for key, param in catalogue.LAYERS[kind].params.items():
        if param.kind in ("int", "float"):
            assert editor_range(row.editors[key]) == param.bounds(), (kind, key)
    alpha = catalogue.ACTIVATIONS["leaky_relu"].params["alpha"]
    assert editor_range(row.alpha_spin) == alpha.bounds()


@pytest.mark.parametrize("name", [n for n, e in catalogue.SCHEDULES.items() if e.params])
def test_schedule_editors_take_the_catalogue_ranges(qtbot, name):
    editor = ScheduleEditor()
    qtbot.addWidget(editor)
    editor.set_schedule({"name": name})
    for key, param in catalogue.SCHEDULES[name].params.items():
        if param.kind in ("int", "float"):
            assert editor_range(editor._editors[key]) == param.bounds(), (name, key)


def test_data_set_editors_take_the_catalogue_ranges(qtbot):
    panel = DataPanel()
    qtbot.addWidget(panel)
    for name, params in PARAMS.items():
        panel.set_spec({"name": name})
        for key, param in params.items():
            if param.kind in ("int", "float"):
                assert editor_range(panel.editors[key]) == param.bounds(), (name, key)


def experiment_file(tmp_path, edit) -> str:
    spec = load_preset("digits_mlp").to_dict()
    edit(spec)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.mark.parametrize("edit, field", [
    (lambda s: s["training"]["optimizer"].update(eta=1e308), "training.optimizer.eta"),
    (lambda s: s["training"].update(clip_norm=1e-310), "training.clip_norm"),
    (lambda s: s["model"]["layers"][0].update(units=2**31), "model.layers[0].units"),
    (lambda s: s["model"]["layers"].insert(0, {"type": "dropout", "rate": 0.9999999}),
     "model.layers[0].rate"),
])
def test_a_value_outside_the_range_is_refused_naming_the_field(make_window, tmp_path,
                                                               monkeypatch, edit, field):
    told = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda *a, **k: told.append(a[2])))
    window = make_window(fake=True)
    before = window.experiment_dict()
    assert not window.open_experiment(experiment_file(tmp_path, edit))
    assert len(told) == 1 and field in told[0] and "unchanged" in told[0]
    assert window.experiment_dict() == before                    # the previous one is kept


EXACT = [  # (what the file says, where the editor is, the value the file gives)
    (lambda s: s["training"].update(clip_norm=1e-300), lambda w: w.training_panel.clip_norm,
     1e-300),
    (lambda s: s["training"]["optimizer"].update(eta=1.23456789012345e-9),
     lambda w: w.training_panel.learning_rate, 1.23456789012345e-9),
    (lambda s: s["training"].update(l2=3.3e-13), lambda w: w.training_panel.l2, 3.3e-13),
    (lambda s: s["model"]["layers"][0].update(units=150_000),
     lambda w: w.model_builder.rows[0].editors["units"], 150_000),
    (lambda s: s["model"]["layers"][0].update(activation="leaky_relu", alpha=1000.0),
     lambda w: w.model_builder.rows[0].alpha_spin, 1000.0),
]


@pytest.mark.parametrize("edit, editor, value", EXACT)
def test_a_value_inside_the_range_is_shown_unchanged(make_window, tmp_path, edit, editor,
                                                     value):
    window = make_window(fake=True)
    assert window.open_experiment(experiment_file(tmp_path, edit))
    assert editor(window).value() == value
    assert not window.statusBar().currentMessage().startswith("Changed")
    assert window.experiment_dict() == json.loads(open(tmp_path / "edited.json").read())


def test_a_changed_value_is_named_with_its_old_and_new_value():
    before = {"model": {"layers": [{"units": 10**6}]}, "training": {"l2": 0.0, "epochs": 5}}
    after = {"model": {"layers": [{"units": 100_000}]}, "training": {"l2": 0, "epochs": 5}}
    changes = changed_values(before, after)
    assert changes == [("model.layers[0].units", 10**6, 100_000)]
    assert changes_text(changes) == "model.layers[0].units 1000000 → 100000"
    many = [(f"f{i}", i, i + 1) for i in range(5)]
    assert changes_text(many).endswith("; and 2 more")

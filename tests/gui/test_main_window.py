"""The main window, driven as a user would: build, edit, train, pause, step, reset.

Settings go to a temporary INI file; the tests that train use the real
TrainingSession (a child process), the others a recording stand-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPlainTextEdit, QWidget

from nnviz.core import catalogue
from nnviz.core.experiment import Experiment, list_presets, load_preset
from nnviz.core.runs import RunState
from nnviz.core.trainer import Trainer
from nnviz.gui import MainWindow, theme

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import (TRAIN_TIMEOUT, FakeSession, answer, click, make_window,  # noqa: F401
                          no_leaks, points, settings, training_children)
except ImportError:
    from windows import (TRAIN_TIMEOUT, FakeSession, answer, click, make_window,  # noqa: F401
                         no_leaks, points, settings, training_children)

PRESETS = {"moons_small", "xor_small", "vanishing_sigmoid", "exploding_relu", "healthy_relu_he",
           "digits_mlp", "digits_cnn", "franke_regression", "sigmoid_vs_relu_he", "sgd_vs_adam",
           "batchnorm_compare"}
OBJECT_NAMES = ("datasetCombo", "layerList", "addLayerButton", "removeLayerButton", "costCombo",
                "initCombo", "optimizerCombo", "learningRateSpin", "batchSizeSpin", "epochsSpin",
                "startButton", "stepButton", "stopButton", "resetButton", "lossPlot",
                "gradientPlot", "activationPlot", "outputView", "convView", "networkView")


# ---------------------------------------------------------------------------- the window
def test_default_window_is_ready_to_start(make_window):
    window = make_window()
    for name in OBJECT_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    exp = window.experiment
    assert exp is not None and exp.dataset["name"] == "moons"
    assert exp.model["input_shape"] == [2]
    assert window.start_button.isEnabled() and window.step_button.isEnabled()
    assert not window.stop_button.isEnabled() and not window.reset_button.isEnabled()
    rows = window.model_builder.rows
    assert [r.info.text() for r in rows] == ["→ 8\n24 params", "→ 8\n72 params", "→ 2\n18 params"]
    assert window.visible_views() == {"output", "network"}      # conv is tabbed behind


def test_window_paints_before_it_loads_its_experiment(qtbot, settings):
    """The application's start (``load_later``): the first frame is on screen before
    the experiment (its data set, its previews) is loaded, however long that frame
    takes to come (here its paints are held back for 0.3 s), and the experiment is
    loaded right after it."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    order, held = [], [True]

    class PaintSpy(QObject):            # holds the window's paints back, then lets them through
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and obj is window:
                if held[0]:
                    return True
                if "paint" not in order:
                    order.append("paint")
            return False

    def release():
        held[0] = False
        window.update()

    window = MainWindow(load_preset("digits_mlp"), settings=settings, prepare=False,
                        load_later=True)
    qtbot.addWidget(window)
    spy = PaintSpy()
    window.installEventFilter(spy)
    loading = window.set_experiment
    window.set_experiment = lambda exp: (order.append("load"), loading(exp))
    window.show()
    QTimer.singleShot(300, release)
    qtbot.waitUntil(lambda: "load" in order, timeout=15000)
    assert order[:2] == ["paint", "load"]
    assert window.experiment.dataset["name"] == "digits"
    window.close()


def test_build_network_by_clicking(make_window, qtbot):
    window = make_window()
    builder = window.model_builder
    click(qtbot, window.findChild(QWidget, "addLayerButton"))
    specs = builder.specs()
    assert len(specs) == 4
    # a hidden layer goes in before the output layer, like its neighbour
    assert specs[2] == {"type": "dense", "units": 8, "activation": "tanh"}
    assert specs[3]["activation"] == "softmax"
    assert builder.rows[2].info.text() == "→ 8\n72 params"
    assert window.experiment.model["layers"][2]["units"] == 8
    assert "4 layers · 186 trainable parameters" in builder.summary.text()

    qtbot.mouseClick(builder.rows[0], Qt.MouseButton.LeftButton, pos=QPoint(4, 4))
    assert builder.list.currentRow() == 0
    click(qtbot, window.findChild(QWidget, "removeLayerButton"))
    assert len(builder.rows) == 3
    assert builder.rows[0].info.text() == "→ 8\n24 params"      # now fed by the 2 inputs
    assert len(window.experiment.model["layers"]) == 3

    builder.list.setCurrentRow(1)
    click(qtbot, builder.up_button)
    assert builder.list.currentRow() == 0
    click(qtbot, builder.down_button)
    assert [s["units"] for s in builder.specs()] == [8, 8, 2]
    assert window.start_button.isEnabled()


def test_invalid_layer_is_marked_and_blocks_start(make_window):
    window = make_window()
    row = window.model_builder.rows[0]
    row.type_combo.setCurrentIndex(row.type_combo.findData("conv2d"))
    assert row.is_invalid and "layers[0].type" in row.error_message
    assert "image input" in row.error_message
    assert not window.start_button.isEnabled() and not window.step_button.isEnabled()
    assert "layers[0].type" in window.start_button.toolTip()
    assert window.experiment is None

    row.type_combo.setCurrentIndex(row.type_combo.findData("dense"))
    assert not row.is_invalid and window.start_button.isEnabled()
    assert window.model_builder.specs()[0] == {"type": "dense", "units": 8, "activation": "tanh"}

    last = window.model_builder.rows[2]
    last.editors["units"].setValue(3)                       # 3 outputs for 2 classes
    assert last.is_invalid and "units" in last.error_message
    assert not window.start_button.isEnabled()
    last.editors["units"].setValue(2)
    last.activation_combo.setCurrentText("relu")            # cross-entropy needs softmax
    assert last.is_invalid and "softmax" in last.error_message
    assert window.training_panel.cost_combo.invalid_message
    last.activation_combo.setCurrentText("softmax")
    assert not last.is_invalid and not window.training_panel.cost_combo.invalid_message
    assert window.start_button.isEnabled()


def test_changing_the_dataset_fits_input_and_output(make_window):
    window = make_window()
    combo = window.findChild(QWidget, "datasetCombo")
    combo.setCurrentIndex(combo.findData("digits"))
    model = window.experiment.model
    assert model["input_shape"] == [64]
    assert model["layers"][-1]["units"] == 10 and model["cost"] == "cross_entropy"
    assert window.data_panel.info.text().startswith("1437 training + 360 validation")

    combo.setCurrentIndex(combo.findData("franke"))
    model = window.experiment.model
    assert model["input_shape"] == [2] and model["cost"] == "mse"
    assert model["layers"][-1] == {"type": "dense", "units": 1, "activation": "identity"}

    window.data_panel.editors["n_samples"].setValue(4)
    window.data_panel.editors["val_fraction"].setValue(0.99)
    assert window.experiment is None and not window.start_button.isEnabled()
    assert "dataset.val_fraction" in window.data_panel.error.text()


# ---------------------------------------------------------------------------- training
def test_start_pause_step_reset_stop(make_window, qtbot):
    window = make_window()
    window.training_panel.epochs.setValue(100_000)         # longer than the test
    loss, grad = window.views["loss"], window.views["gradient"]

    click(qtbot, window.start_button)
    assert window.start_button.text() == "Pause" and window.stop_button.isEnabled()
    qtbot.waitUntil(lambda: points(loss.curves["train_loss"]) >= 3
                    and len(grad.curves["weight"]) == 3
                    and all(points(c) >= 3 for c in grad.curves["weight"]), timeout=TRAIN_TIMEOUT)
    assert window.status_labels["step"].text().startswith("Step ")

    click(qtbot, window.start_button)                       # pause
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    assert window.start_button.text() == "Resume" and window.step_button.isEnabled()
    step = window.last_snapshot.step
    click(qtbot, window.step_button)
    qtbot.waitUntil(lambda: window.last_snapshot.step == step + 1, timeout=5000)
    assert window.state == "paused"

    click(qtbot, window.reset_button)
    assert window.session is None and window.last_snapshot is None
    assert points(loss.curves["train_loss"]) == 0
    assert window.start_button.text() == "Start" and not window.reset_button.isEnabled()

    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TRAIN_TIMEOUT)
    click(qtbot, window.stop_button)
    qtbot.waitUntil(lambda: window.state == "stopped", timeout=5000)
    assert window.start_button.text() == "Restart" and not window.stop_button.isEnabled()


@pytest.mark.parametrize("preset, kind", [("vanishing_sigmoid", "vanishing"),
                                          ("exploding_relu", "exploding"),
                                          ("healthy_relu_he", None)])
def test_gradient_banner(make_window, qtbot, preset, kind):
    window = make_window(load_preset(preset), thread=True)
    grad = window.views["gradient"]
    click(qtbot, window.step_button)
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: len(grad.curves["weight"]) == 6, timeout=5000)   # paced: soon after
    if kind is None:
        assert grad.diagnosis is None and grad.banner.isHidden()
    else:
        assert grad.diagnosis.kind == kind and not grad.banner.isHidden()
        assert "dense 0" in grad.banner.text()


def test_conv_view_shows_one_feature_map_per_filter(make_window, qtbot, answer):
    window = make_window(load_preset("digits_cnn"), thread=True)
    assert "conv" in window.visible_views()                 # raised for a conv network
    conv = window.views["conv"]
    qtbot.waitUntil(lambda: conv.feature_map_counts() == [8], timeout=15_000)   # initial weights

    click(qtbot, window.step_button)
    session = window.session
    received = []
    session.viewData.connect(lambda name, data: received.append(name))
    qtbot.waitUntil(lambda: "conv" in received, timeout=TRAIN_TIMEOUT)
    assert conv.feature_map_counts() == [8]

    asked = answer(True)
    window.model_builder.rows[0].editors["filters"].setValue(4)
    assert len(asked) == 1 and window.session is None        # a new run: asked, then reset
    qtbot.waitUntil(lambda: conv.feature_map_counts() == [4], timeout=15_000)


def test_closing_during_training_ends_the_worker(make_window, qtbot):
    window = make_window()
    window.training_panel.epochs.setValue(100_000)
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TRAIN_TIMEOUT)
    session = window.session
    assert session.is_alive and training_children()
    window.close()
    assert window.session is None and not session.is_alive
    qtbot.waitUntil(lambda: training_children() == [], timeout=TRAIN_TIMEOUT)


# ---------------------------------------------------------------------------- routing (fake session)
def test_idle_window_prepares_a_worker_and_edits_replace_it(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: pytest.fail("asked")))
    window = make_window(fake=True, prepare=True)
    qtbot.waitUntil(lambda: window.session is not None, timeout=15_000)
    first = window.session
    assert first.calls[-1] == ("prepare",) and not window.has_run
    window.model_builder.rows[0].editors["units"].setValue(5)    # no run yet: no question
    assert first.calls[-1] == ("shutdown",)
    qtbot.waitUntil(lambda: window.session is not None, timeout=15_000)
    assert window.session.experiment.model["layers"][0]["units"] == 5
    click(qtbot, window.start_button)
    assert window.session.calls[-1] == ("start",) and window.has_run


def test_space_starts_and_pauses(make_window, qtbot):
    window = make_window(fake=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    session = window.fake_sessions[0]
    assert session.state == "running" and window.start_button.text() == "Pause"
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert session.calls[-1] == ("pause",) and window.start_button.text() == "Resume"


def test_live_hyperparameters_reach_the_running_session(make_window, qtbot, answer):
    window = make_window(fake=True)
    asked = answer(False)
    click(qtbot, window.start_button)
    session = window.fake_sessions[0]
    assert ("start",) in session.calls and ("views", {"output", "network"}) in session.calls

    panel = window.training_panel
    panel.learning_rate.setValue(0.05)
    panel.l2.setValue(0.001)
    panel.clip_check.setChecked(True)
    hyper = [c[1] for c in session.calls if c[0] == "hyper"]
    assert hyper == [{"eta": 0.05}, {"l2": 0.001}, {"clip_norm": 1.0}]
    assert asked == [] and window.session is session
    assert window.experiment.training["optimizer"]["eta"] == 0.05


def test_architecture_change_asks_to_reset(make_window, qtbot, answer):
    window = make_window(fake=True)
    click(qtbot, window.start_button)
    session = window.fake_sessions[0]
    units = window.model_builder.rows[0].editors["units"]

    asked = answer(False)
    units.setValue(5)
    assert len(asked) == 1
    assert window.model_builder.rows[0].editors["units"].value() == 8     # reverted
    assert window.session is session and window.experiment.model["layers"][0]["units"] == 8

    answer(True)
    window.model_builder.rows[0].editors["units"].setValue(5)
    assert ("shutdown",) in session.calls and window.session is None
    assert window.experiment.model["layers"][0]["units"] == 5


def test_snapshots_and_view_data_are_routed(make_window, qtbot):
    window = make_window(fake=True)
    click(qtbot, window.start_button)
    session = window.fake_sessions[0]
    trainer = Trainer(window.experiment, snapshot_every=1)
    snaps = list(trainer.run(max_steps=3))
    for snap in snaps:                      # each drawn before the next comes, as a session does
        painted = session.calls.count(("painted",))
        session.emit_snapshot(snap)
        assert window.status_labels["step"].text().startswith(f"Step {snap.step} / ")
        qtbot.waitUntil(lambda: session.calls.count(("painted",)) > painted, timeout=5000)
    assert points(window.views["loss"].curves["train_loss"]) == 3
    assert all(points(c) == 3 for c in window.views["gradient"].curves["weight"])
    # Activations, behind the Gradients tab, is not updated while hidden...
    activation = window.views["activation"]
    assert window.pacer.updates.get(activation, 0) == 0
    window.docks["activation"].raise_()     # ...and once shown it draws the whole run
    qtbot.waitUntil(lambda: window.pacer.updates.get(activation) == 1, timeout=15_000)
    assert points(activation.saturated_curves[0]) == 3

    window.docks["conv"].raise_()
    qtbot.waitUntil(lambda: ("views", {"output", "conv"}) in session.calls, timeout=15_000)

    from nnviz.core.viewdata import network_data
    data = network_data(trainer.network)
    network = window.views["network"]
    session.viewData.emit("network", data)  # behind the Convolution tab: kept for later
    window.pacer.flush()                    # even when every pending update is made now
    assert network.data is not data
    window.docks["network"].raise_()
    qtbot.waitUntil(lambda: network.data is data, timeout=15_000)

    session._set("diverged")
    session.message.emit("diverged: the loss became nan")
    assert window.status_labels["state"].text() == "Diverged"
    assert "nan" in window.statusBar().currentMessage()


def test_new_open_and_reset_shut_the_session_down(make_window, qtbot, tmp_path):
    import shiboken6
    from nnviz.gui.session_pacer import ViewPacer
    window = make_window(fake=True)
    path = tmp_path / "xor.json"
    load_preset("xor_small").save(path)
    old = []
    for action in (window.reset, window.new_experiment, lambda: window.open_experiment(path),
                   lambda: window.open_preset("digits_mlp")):
        click(qtbot, window.start_button)
        session, pacer = window.fake_sessions[-1], window.pacer
        assert pacer is not None and not pacer.closed
        action()
        assert session.calls[-1] == ("shutdown",) and window.session is None
        assert window.pacer is None and pacer.closed
        old.append((session, pacer))
        session.snapshot.emit(object())      # an old session's late signal reaches nobody
    assert window.experiment.dataset["name"] == "digits"
    qtbot.waitUntil(lambda: not any(shiboken6.isValid(o) for pair in old for o in pair),
                    timeout=15_000)            # old sessions and pacers are deleted
    click(qtbot, window.start_button)        # the new session has its own pacer
    assert len(window.findChildren(ViewPacer)) == 1
    assert window.findChildren(ViewPacer)[0] is window.pacer


# ---------------------------------------------------------------------------- files
def test_bad_file_is_reported_and_the_experiment_kept(make_window, monkeypatch, tmp_path):
    window = make_window()
    before = window.experiment_dict()
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, title, text, *a: shown.append(text)))
    bad = load_preset("moons_small").to_dict()
    bad["dataset"]["noise"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert window.open_experiment(path) is False
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert window.open_experiment(garbage) is False
    assert len(shown) == 2
    assert "dataset.noise" in shown[0] and "unchanged" in shown[0]
    assert "not valid JSON" in shown[1]
    assert window.experiment_dict() == before


def test_save_and_open_round_trip(make_window, settings, tmp_path):
    window = make_window()
    window.model_builder.rows[0].editors["units"].setValue(5)
    path = tmp_path / "mine.json"
    assert window.save_experiment(path)
    saved = Experiment.load(path)
    assert saved.model["layers"][0]["units"] == 5
    window.new_experiment()
    assert window.experiment.model["layers"][0]["units"] == 8
    assert window.open_experiment(path)
    assert window.experiment == saved
    assert settings.recent_files()[0] == str(path)
    assert "mine.json" in window.windowTitle()


def test_presets_are_valid_and_shown_exactly(make_window):
    names = {name for name, _ in list_presets()}
    assert PRESETS <= names
    window = make_window(fake=True)
    for name in PRESETS:
        exp = load_preset(name)
        assert exp.title and exp.description
        window.set_experiment(exp)
        assert window.experiment_dict() == exp.to_dict()    # the editors hold every value
        assert window.experiment == exp and window.start_button.isEnabled()


# ---------------------------------------------------------------------------- presentation
def test_large_font_and_dark_theme(make_window, settings):
    window = make_window()
    base = QApplication.font().pointSizeF()
    window.large_font_action.trigger()
    assert window.font_scale == theme.LARGE_FONT_SCALE
    assert window.font().pointSizeF() == pytest.approx(base * theme.LARGE_FONT_SCALE)
    assert window.views["output"].font_scale == theme.LARGE_FONT_SCALE
    assert settings.large_font()
    try:
        window.theme_action.trigger()
        dark = theme.THEMES["dark"]
        assert QApplication.palette().window().color().name().upper() == dark.window.upper()
        assert settings.theme() == "dark"
    finally:
        window.set_theme("light")
    assert settings.theme() == "light"


def test_layout_and_last_experiment_are_remembered(make_window, settings):
    window = make_window()
    window.model_builder.rows[0].editors["units"].setValue(6)
    window.docks["loss"].close()
    window.close()
    assert settings.last_experiment()["model"]["layers"][0]["units"] == 6
    again = make_window()
    assert again.docks["loss"].isHidden() and not again.docks["output"].isHidden()


def test_screenshot_renders_window_and_single_view(tmp_path):
    from nnviz.gui.screenshot import render
    exp = load_preset("moons_small")
    path = render(exp, 20, tmp_path / "window.png")
    image = QImage(path)
    assert (image.width(), image.height()) == (1480, 920)
    view = QImage(render(exp, 20, tmp_path / "loss.png", view="loss"))
    assert 0 < view.width() <= 960 and 0 < view.height() <= 640
    colours = {view.pixel(x, y) for x in range(0, view.width(), 7) for y in range(0, view.height(), 7)}
    assert len(colours) > 20                                 # curves and text, not a blank


def test_app_refuses_a_bad_experiment_file(tmp_path, capsys):
    from nnviz.gui.app import main
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "nnviz-experiment/1", "dataset": {"name": "nope"},
                                "model": {}}))
    assert main(str(path)) == 2
    assert "dataset.name" in capsys.readouterr().err


@pytest.mark.parametrize("kind", sorted(catalogue.LAYERS))
def test_builder_add_layer_uses_the_catalogue_defaults(make_window, kind):
    builder = make_window(fake=True).model_builder
    builder.add_layer(kind)
    assert builder.specs()[-1] == {"type": kind, **catalogue.LAYERS[kind].defaults()}
    with pytest.raises(ValueError, match="unknown layer type"):
        builder.add_layer("no_such_layer")


NO_MAIN_GUARD = """
# A quick script the way course examples are written: no __main__ guard.
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
from nnviz.core.runs import RunState
from nnviz.gui import MainWindow

app = QApplication.instance() or QApplication([])
window = MainWindow(prepare=False)
window.training_panel.epochs.setValue(5)
window.show()
window.start_pause()

def check():
    if window.state is RunState.FINISHED:
        print("trained", len(window.runs[-1]), "points", flush=True)
        window.close()
        app.quit()
    elif window.state in (RunState.ERROR, RunState.DIVERGED):
        print("failed:", window.statusBar().currentMessage(), flush=True)
        window.close()
        app.quit()

timer = QTimer(interval=100)
timer.timeout.connect(check)
timer.start()
QTimer.singleShot(60_000, app.quit)
app.exec()
"""


def test_a_script_without_a_main_guard_opens_the_window_and_trains(tmp_path):
    script = tmp_path / "quick.py"
    script.write_text(NO_MAIN_GUARD)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained" in done.stdout, done.stdout + done.stderr[-2000:]
    assert int(done.stdout.split()[1]) >= 5          # a point per epoch at least


def test_a_training_process_that_cannot_start_is_reported(make_window, qtbot, monkeypatch):
    from nnviz.gui import session as session_module
    monkeypatch.setattr(session_module.sys, "executable", "/bin/false")
    window = make_window()
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.ERROR, timeout=TRAIN_TIMEOUT)
    assert "could not start" in window.statusBar().currentMessage()
    assert window.status_labels["state"].text() == "Error"
    assert window.start_button.isEnabled()            # Start again, once fixed


def test_formula_schedule_csv_and_precision_are_shown_exactly(make_window, tmp_path):
    (tmp_path / "points.csv").write_text("a,b,label\n" + "".join(
        f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40)))
    d = load_preset("xor_small").to_dict()
    d["dataset"] = {"name": "csv", "path": "points.csv", "target": "label"}
    d["model"]["input_shape"] = [2]
    d["model"]["layers"][0]["activation"] = {"formula": "x * sigmoid(x)"}
    d["model"]["dtype"] = "float32"
    d["training"]["schedule"] = {"name": "step", "step_size": 10, "gamma": 0.5}
    path = tmp_path / "mine.json"
    Experiment.from_dict(d).save(path)
    window = make_window(fake=True)
    assert window.open_experiment(path)
    shown = window.experiment_dict()
    assert shown["model"]["layers"][0]["activation"] == {"formula": "x * sigmoid(x)"}
    assert shown["model"]["dtype"] == "float32"
    assert shown["training"]["schedule"] == {"name": "step", "step_size": 10, "gamma": 0.5}
    assert shown["dataset"]["path"] == str(tmp_path / "points.csv")   # beside the file
    assert window.experiment is not None and window.start_button.isEnabled()
    row = window.model_builder.rows[0]
    assert row.activation_combo.currentText() == "ƒ(x) = x * sigmoid(x)"


def test_custom_activation_opens_the_formula_editor(make_window, monkeypatch):
    class Accepting:                         # the formula editor, answered at once
        def __init__(self, formula, parent):
            self.text = "tanh(x) * 2"

        def exec(self):
            return True

        def formula(self):
            return self.text

        def deleteLater(self):
            pass

    window = make_window(fake=True)
    row = window.model_builder.rows[0]
    monkeypatch.setattr(type(row), "formula_dialog", Accepting)
    row.activation_combo.setCurrentIndex(row.activation_combo.count() - 1)   # "custom…"
    assert window.experiment_dict()["model"]["layers"][0]["activation"] == {"formula": "tanh(x) * 2"}
    assert window.experiment is not None


def test_export_view_writes_png_and_svg(make_window, tmp_path):
    window = make_window(fake=True)
    png = window.export_view("loss", tmp_path / "loss.png")
    image = QImage(png)
    assert image.width() > 100 and image.height() > 100
    svg = window.export_view("gradients", tmp_path / "gradients.svg")
    import xml.etree.ElementTree as ET
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert any(el.tag.endswith(("path", "polyline", "line", "text")) for el in root.iter())


def test_export_weights_and_experiment(make_window, qtbot, tmp_path):
    import numpy as np
    window = make_window()
    window.training_panel.epochs.setValue(3)
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=TRAIN_TIMEOUT)
    window.export_weights(tmp_path / "w.npz")
    qtbot.waitUntil(lambda: (tmp_path / "w.json").exists(), timeout=TRAIN_TIMEOUT)
    with np.load(tmp_path / "w.npz", allow_pickle=False) as arrays:
        assert "layers.0.W" in arrays and arrays["layers.0.W"].shape[0] == 2
    assert Experiment.load(tmp_path / "w.json") == window.experiment


def test_continue_trains_on_from_the_weights_into_the_same_run(make_window, qtbot):
    window = make_window()
    window.training_panel.epochs.setValue(3)
    assert not window.controls.continue_button.isEnabled()
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=TRAIN_TIMEOUT)
    run = window.runs[-1]
    points, session = len(run), window.session
    assert window.controls.continue_button.isEnabled()
    click(qtbot, window.controls.continue_button)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and run.last("epoch") > 5.9,
                    timeout=TRAIN_TIMEOUT)
    assert window.session is session and window.runs[-1] is run     # same run, more points
    assert len(run) > points and run.last("epoch") == pytest.approx(6.0)
    assert window.status_labels["epoch"].text() == "Epoch 6.0 / 6"


def test_pace_slider_sets_the_pace_of_the_session(make_window):
    window = make_window(fake=True)
    slider = window.findChild(QWidget, "paceSlider")
    assert slider is window.pace_slider
    assert window.pace == 300.0                                      # the preset's pace
    assert window.pace_control.label.text() == "30 epochs/s"         # 10 steps an epoch
    slider.setValue(slider.maximum())
    assert window.pace is None and window.pace_control.label.text() == "flat out"
    assert "pace" not in window.experiment_dict()["training"]
    slider.setValue(0)
    assert window.pace == pytest.approx(1.0)
    assert "epoch" in window.pace_control.label.text()                 # small data: in epochs
    window.set_pace(25.0)
    assert window.pace == 25.0 and slider.value() < slider.maximum()
    assert window.experiment_dict()["training"]["pace"] == 25.0     # saved with the experiment
    click_start = window.start_pause
    click_start()
    assert ("pace", 25.0) in window.fake_sessions[0].calls
    with pytest.raises(ValueError):
        window.set_pace(0)


def test_search_dock_opens_from_the_training_menu_and_its_cells_reach_the_window(make_window):
    from PySide6.QtWidgets import QDockWidget

    from nnviz.core.runs import Run
    window = make_window(fake=True)
    assert window.findChild(QDockWidget, "gridSearch") is None          # made on first use
    window.actions["search"].trigger()
    dock = window.findChild(QDockWidget, "gridSearch")
    assert dock is window.search_dock and dock.isVisible()
    cell = window.experiment_dict()
    cell["training"]["optimizer"]["eta"] = 0.123
    dock.cell_chosen.emit(cell)                                         # a heatmap click
    assert window.experiment_dict()["training"]["optimizer"]["eta"] == 0.123
    run = Run("η 0.123", cell)
    run.record(Trainer(window.experiment, snapshot_every=1).snapshot())
    dock.cell_run_chosen.emit(run)                                      # pin the cell's run
    assert window.runs == [run] and window.runs_model.pinned[0].name == "η 0.123"


def test_text_from_a_file_is_shown_as_plain_text(make_window, tmp_path):
    d = load_preset("xor_small").to_dict()
    d["title"] = "<b>bold?</b>"
    d["description"] = "look <img src=/etc/passwd> & see"
    path = tmp_path / "hostile.json"
    Experiment.from_dict(d).save(path)
    window = make_window(fake=True)
    assert window.open_experiment(path)
    assert window.scenario_label.text() == "<b>bold?</b>"
    assert window.scenario_label.textFormat() == Qt.TextFormat.PlainText
    tip = window.description_label.toolTip()
    assert "<img" not in tip and "&lt;img src=/etc/passwd&gt; &amp; see" in tip


def test_load_later_shows_the_window_first_then_the_experiment(qtbot, settings):
    window = MainWindow(load_preset("xor_small"), settings=settings, prepare=False,
                        load_later=True)
    qtbot.addWidget(window)
    assert window.experiment_dict() == {}                 # nothing loaded before it is shown
    window.show()
    qtbot.waitUntil(lambda: window.experiment is not None, timeout=10_000)
    assert window.experiment == load_preset("xor_small")
    window.close()


def test_an_edited_preset_says_it_was_edited_and_saves_what_is_there(make_window, tmp_path):
    window = make_window(fake=True)
    assert window.open_preset("xor_small")
    title = load_preset("xor_small").title
    assert window.scenario_label.text() == title
    window.set_pace(3)                                           # slower: the same lesson
    assert window.scenario_label.text() == title and window.description_label.text()
    assert window.experiment.training["pace"] == 3               # kept with it all the same
    window.training_panel.epochs.setValue(7)
    assert window.scenario_label.text() == f"edited from {title}"
    assert window.description_label.text() == ""
    window.training_panel.epochs.setValue(8)                     # said once, not twice
    assert window.scenario_label.text() == f"edited from {title}"
    assert window.save_experiment(tmp_path / "mine.json")
    saved = Experiment.load(tmp_path / "mine.json")
    assert saved.title == f"edited from {title}" and not saved.description
    assert saved.training["epochs"] == 8


def test_a_huge_layer_is_not_previewed_on_the_gui_thread(make_window, qtbot, monkeypatch):
    import nnviz.gui.main_window as main_window
    computed = []
    monkeypatch.setattr(main_window, "view_data",
                        lambda name, *a: computed.append(name) or pytest.fail("previewed"))
    window = make_window(fake=True)
    window.model_builder.rows[0].editors["units"].setValue(100_000)   # a valid, huge layer
    assert window.experiment is not None                               # it can still train
    window._refresh_idle_views()
    assert computed == [] and "large network" in window.statusBar().currentMessage()


def test_projector_mode_at_1280x720_keeps_the_plots_readable(make_window, qtbot, settings):
    settings.set_large_font(True)
    window = make_window(fake=True, settings=settings)
    window.resize(1280, 720)
    window.set_large_font(True)
    qtbot.waitUntil(lambda: window.height() <= 720, timeout=5000)
    window._fit_layout_to_font()
    loss, gradient = window.views["loss"], window.views["gradient"]
    qtbot.waitUntil(lambda: loss.isVisible() and gradient.isVisible(), timeout=5000)
    # two views at full height: every curve plot keeps room for its labels
    qtbot.waitUntil(lambda: loss.loss_plot.height() >= 150
                    and gradient.plots["weight"].height() >= 150, timeout=5000)
    assert loss.loss_plot.getPlotItem().legend is None         # legends are outside the data
    assert loss.legend.width() <= loss.width()                  # and wrap instead of clipping
    _no_stray_tab_bars(window)
    window.set_large_font(False)
    window._fit_layout_to_font()
    assert not window._compact
    _no_stray_tab_bars(window)


def _no_stray_tab_bars(window):
    """Every tab bar on screen is one of the window's tab groups, and no two bars of
    different groups overlap (Qt leaves the bar of a dissolved group behind)."""
    from PySide6.QtWidgets import QDockWidget, QTabBar
    groups = set()
    for dock in window.findChildren(QDockWidget):
        tabbed = [d for d in (dock, *window.tabifiedDockWidgets(dock)) if not d.isHidden()]
        if len(tabbed) > 1:
            groups.add(tuple(sorted(d.windowTitle() for d in tabbed)))
    shown = [bar for bar in window.findChildren(QTabBar) if bar.isVisible()]
    titles = {bar: tuple(sorted(bar.tabText(i) for i in range(bar.count()))) for bar in shown}
    assert set(titles.values()) == groups, (titles, groups)
    for a in shown:
        for b in shown:
            if a is not b and titles[a] != titles[b]:
                assert not a.geometry().intersects(b.geometry()), (titles[a], titles[b])


def test_check_gradients_and_the_kernel_playground_open_from_the_menus(make_window, qtbot):
    window = make_window(fake=True)
    dialog = window.check_gradients()
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=TRAIN_TIMEOUT)
    weighted = len(window.model.check.network.weighted_layers)
    assert dialog.table.rowCount() == len(dialog.rows) == 2 * weighted   # W and b per layer
    assert dialog.status.text().startswith("On 8 training samples. Back propagation is correct")
    dialog.close()
    playground = window.show_playground()
    assert playground.objectName() == "kernelPlayground" and playground.isVisible()


def test_pace_label_says_one_epoch_not_one_epochs():
    from nnviz.gui.panels.pace import pace_text
    assert pace_text(10, 10) == "1 epoch/s" and pace_text(25, 10) == "2.5 epochs/s"
    assert pace_text(1, 1000) == "1 step/s" and pace_text(30, 1000) == "30 steps/s"
    assert pace_text(2.5, 10) == "1 epoch every 4 s"


def test_every_optimiser_in_the_list_has_a_tooltip(make_window):
    window = make_window(fake=True)
    combo = window.training_panel.optimizer_combo
    tips = [combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())]
    assert combo.count() == len(catalogue.OPTIMIZERS) and all(tips)
    assert tips[combo.findData("constant")] == catalogue.OPTIMIZERS["constant"].help


def test_number_boxes_show_their_value_whole_at_large_font(make_window, qtbot):
    spec = load_preset("digits_mlp").to_dict()
    spec["model"]["layers"].insert(1, {"type": "batchnorm", "momentum": 0.1})
    window = make_window(spec, fake=True)
    window.resize(1280, 720)
    window.set_large_font(True, remember=False)
    window.setup_docks["model"].raise_()
    from nnviz.gui.panels.widgets import NumberSpinBox
    boxes = [b for b in window.model_builder.findChildren(NumberSpinBox) if b.isVisible()]
    assert boxes
    def fits(box):
        return box.lineEdit().width() >= box.fontMetrics().horizontalAdvance(box.lineEdit().text())
    qtbot.waitUntil(lambda: all(fits(box) for box in boxes), timeout=10_000)


def test_every_view_explains_itself_without_taking_plot_height(make_window, qtbot):
    from nnviz.gui.explanations import EXPLANATIONS
    window = make_window(fake=True)
    window.resize(1280, 720)
    window.set_large_font(True, remember=False)
    for key in (*window.docks, "runs"):
        button = window.findChild(QWidget, f"{key}Explain")
        assert button is not None, key
        if key != "runs":
            window.docks[key].raise_()
        else:
            window.setup_docks["runs"].raise_()
        qtbot.waitUntil(button.isVisible)
        view = button.parentWidget()
        assert button.geometry().bottom() < view.height()     # inside its view, on top
        click(qtbot, button)
        assert button.panel.isVisible() and button.panel.toPlainText() == EXPLANATIONS[key].text()
        click(qtbot, button)
        assert not button.panel.isVisible()
    assert "∂C/∂W" in EXPLANATIONS["gradient"].text() and "δ" in EXPLANATIONS["inspector"].text()
    assert "validation" in EXPLANATIONS["loss"].text()
    dialog = window.explain_views()
    text = dialog.findChild(QPlainTextEdit).toPlainText()
    assert all(e.title in text for e in EXPLANATIONS.values())
    dialog.close()


START_UP = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from nnviz.gui.main_window import MainWindow
from nnviz.gui.settings import Settings
window = MainWindow(None, settings=Settings(sys.argv[1]), prepare=False)
window.show()
app.processEvents()
print(window.experiment.dataset["name"],
      sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy", "superqt", "qtpy"}))
"""


def test_the_window_starts_without_scikit_learn_or_superqt(tmp_path):
    """What the first paint and the default experiment need, and no more: scikit-learn
    (1.5 s of CPU) only to make a data set the cache does not hold yet, superqt and
    SciPy only when a dialog or a sigmoid first needs them."""
    def start():
        out = subprocess.run([sys.executable, "-c", START_UP, str(tmp_path / "s.ini")],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "NNVIZ_CACHE_DIR": str(tmp_path / "cache")})
        assert out.returncode == 0, out.stderr
        return out.stdout.split()[0], out.stdout.split(" ", 1)[1].strip()
    assert start()[0] == "moons"                       # the first start makes the data set
    assert start() == ("moons", "[]")                  # later ones read it


def test_elided_label_keeps_the_whole_text_and_shows_what_fits(qtbot):
    from nnviz.gui.panels.widgets import ElidedLabel
    label = ElidedLabel("Vanishing gradients: watch the first layer's curve fall")
    qtbot.addWidget(label)
    label.resize(120, 30)
    label.show()
    qtbot.waitExposed(label)
    assert label.text().startswith("Vanishing gradients: watch")
    shown = QLabel.text(label)
    assert shown.endswith("…") and len(shown) < len(label.text())
    assert label.fontMetrics().horizontalAdvance(shown) <= label.width()
    label.resize(900, 30)
    qtbot.waitUntil(lambda: QLabel.text(label) == label.text())
    assert label.minimumSizeHint().width() == 0

"""Huge networks in the window: a file, a typed size or the command line asking for a
network over the memory budget is refused with a message naming the layer and the
size, before anything is allocated; a large one within it opens without being built
on the GUI thread.  Neither freezes the window or takes GiBs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

import nnviz.gui.main_window as main_window
from nnviz.core.network import Network
from nnviz.core.trace import backprop_data
from nnviz.core.viewdata import conv_data, view_data
from nnviz.gui.views.conv_view import MAX_FILTERS, ConvView

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import make_window, no_leaks, settings  # noqa: F401
    from .windows import peak_rss, reset_peak_rss, rss
except ImportError:
    from windows import make_window, no_leaks, settings  # noqa: F401
    from windows import peak_rss, reset_peak_rss, rss

MiB = 2 ** 20
MAX_BUSY = 0.5            # s of GUI-thread CPU time in any one event-loop gap
MAX_GROWTH = 128 * MiB    # the weights of the large networks below alone are 180 or 20 MiB


def digits(*layers, input_shape=(64,)):
    return {"format": "nnviz-experiment/1", "title": "huge", "dataset": {"name": "digits"},
            "model": {"input_shape": list(input_shape), "layers": list(layers),
                      "cost": "cross_entropy"}}


def dense(units, activation="relu"):
    return {"type": "dense", "units": units, "activation": activation}


MILLION = digits(dense(1_000_000), dense(10, "softmax"))          # about 8 GiB to train
LARGE = {
    "300,000 units": digits(dense(300_000), dense(10, "softmax")),   # 2.6 GiB to train
    "4,096 filters": digits({"type": "conv2d", "filters": 4096, "kernel_size": 3,
                             "padding": "same"}, {"type": "flatten"}, dense(10, "softmax"),
                            input_shape=(1, 8, 8)),
    # 1.5 million parameters, 11 samples to validate: previews cheap enough, were it built
    "20,000 units, 11 to validate": {
        **digits(dense(20_000), dense(10, "softmax")),
        "dataset": {"name": "digits", "val_fraction": 0.006}},
}


class Probe:
    """A 10 ms heartbeat on the GUI thread: the longest event-loop gap, the GUI thread's
    CPU time in it (a loaded machine may deschedule us; CPU time is ours alone), and the
    growth of the process's peak memory."""

    def __init__(self, qtbot):
        self.qtbot, self.ticks, self.gap, self.busy = qtbot, 0, 0.0, 0.0
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now, cpu = time.perf_counter(), time.thread_time()
        if self.ticks:
            self.gap = max(self.gap, now - self.last)
            self.busy = max(self.busy, cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu
        self.ticks += 1

    def run(self, action, settled=lambda: True):
        """``action()`` from inside the event loop; returns its result once ``settled()``
        holds and the heartbeat has ticked a few times since."""
        peak_ok = reset_peak_rss()
        self.start = peak_rss() if peak_ok else rss()
        self.timer.start()
        self.qtbot.waitUntil(lambda: self.ticks >= 3)
        result = []
        QTimer.singleShot(0, lambda: result.append(action()))
        self.qtbot.waitUntil(lambda: bool(result) and settled(), timeout=30_000)
        seen = self.ticks
        self.qtbot.waitUntil(lambda: self.ticks >= seen + 10)
        self.timer.stop()
        self.growth = (peak_rss() if peak_ok else rss()) - self.start
        return result[0]

    def assert_smooth(self):
        assert self.busy < MAX_BUSY, f"the GUI thread computed {self.busy:.2f} s in one gap"
        assert self.growth < MAX_GROWTH, f"memory grew {self.growth / MiB:.0f} MiB"


@pytest.fixture(autouse=True)
def large_machine(monkeypatch):
    """The budget is MEMORY_CAP on any machine the tests run on (half of 64 GiB is more)."""
    from nnviz.core import network
    monkeypatch.setattr(network, "_machine_memory", lambda: 64 << 30)


@pytest.fixture
def critical(monkeypatch):
    """The texts of the error dialogs shown."""
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    return shown


@pytest.fixture
def window(make_window, qtbot, monkeypatch):
    """The default window, its first previews drawn; from now on any preview computed
    on the GUI thread fails the test."""
    window = make_window(fake=True)
    qtbot.waitUntil(lambda: not window._idle_timer.isActive())
    monkeypatch.setattr(main_window, "view_data",
                        lambda name, *a: pytest.fail(f"{name} previewed on the GUI thread"))
    return window


def write(tmp_path, experiment) -> str:
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(experiment))
    return str(path)


def test_opening_a_million_units_keeps_the_experiment_and_says_what_it_needs(
        window, qtbot, tmp_path, critical):
    before, title = window.experiment_dict(), window.windowTitle()
    probe = Probe(qtbot)
    assert probe.run(lambda: window.open_experiment(write(tmp_path, MILLION))) is False
    probe.assert_smooth()
    (text,) = critical
    assert "layers[0].units" in text and "GiB" in text and "use fewer units" in text
    assert window.experiment_dict() == before and window.windowTitle() == title
    assert window.experiment is not None


@pytest.mark.parametrize("name", LARGE)
def test_a_large_network_opens_without_being_built_on_the_gui_thread(
        window, qtbot, tmp_path, critical, name):
    probe = Probe(qtbot)
    status = window.statusBar()
    assert probe.run(lambda: window.open_experiment(write(tmp_path, LARGE[name])),
                     settled=lambda: "large network" in status.currentMessage())
    probe.assert_smooth()
    assert not critical and window.experiment is not None
    check = window.model.check
    assert check.network is None                  # planned from its shapes, never built
    assert f"{check.plan.param_count:,} trainable" in window.model_builder.summary.text()


def test_typed_sizes_are_refused_or_checked_without_a_freeze(window, qtbot):
    units = window.model_builder.rows[0].editors["units"]
    probe = Probe(qtbot)
    probe.run(lambda: units.setValue(1_000_000))
    probe.assert_smooth()
    error = window.model.check.error
    assert window.experiment is None and not window.start_button.isEnabled()
    assert error.field == "layers[0].units" and "GiB" in str(error)
    assert window.model_builder.rows[0].error.text() == str(error)
    probe = Probe(qtbot)
    probe.run(lambda: units.setValue(100_000))
    probe.assert_smooth()
    assert window.experiment is not None and window.model.check.network is None


def test_the_gradient_check_and_inspector_of_a_large_network_say_where_to_get_them(
        make_window, qtbot):
    window = make_window(LARGE["300,000 units"], fake=True)
    dialog = window.check_gradients()
    assert dialog.worker is None and "nnviz gradcheck" in dialog.status.text()
    dialog.close()
    inspector = window.show_inspector()
    inspector.request()
    assert "press Step" in inspector.header.text()


def test_the_command_line_refuses_a_million_units_before_opening_a_window(
        tmp_path, capsys, monkeypatch):
    from nnviz.cli import main
    monkeypatch.setattr(main_window, "MainWindow", lambda *a, **k: pytest.fail("a window opened"))
    assert main([write(tmp_path, MILLION)]) == 2
    err = capsys.readouterr().err
    assert "layers[0].units" in err and "GiB" in err


def test_the_conv_view_draws_the_first_filters_of_a_huge_layer(qtbot):
    net = Network.from_spec(LARGE["4,096 filters"]["model"])
    view = ConvView()
    qtbot.addWidget(view)
    view.update_data(conv_data(net, np.random.default_rng(0).random((1, 8, 8))))
    (row,) = view.rows
    assert view.feature_map_counts() == [MAX_FILTERS] and len(row.labels) == MAX_FILTERS
    assert f"the first {MAX_FILTERS} of 4,096 feature maps" in row.title.text()


def test_before_start_a_large_network_is_traced_by_the_prepared_training_process(
        make_window, qtbot):
    experiment = LARGE["20,000 units, 11 to validate"]
    window = make_window(experiment, prepare=True)
    qtbot.waitUntil(lambda: window.session is not None, timeout=30_000)
    inspector = window.show_inspector()
    inspector.select_sample("val", 3)
    qtbot.waitUntil(lambda: inspector.data is not None, timeout=30_000)
    assert window.model.check.network is None and not window.has_run
    expected = backprop_data(Network.from_spec(window.experiment.model),
                             window.model.check.dataset, 3, "val")
    assert inspector.data["index"] == 3 and inspector.data["split"] == "val"
    assert inspector.data["layers"][1]["delta"] == pytest.approx(expected["layers"][1]["delta"])


def test_a_500_layer_file_opens_row_by_row_without_a_freeze(window, qtbot, tmp_path, monkeypatch):
    from nnviz.gui.views import network_view
    monkeypatch.setattr(main_window, "view_data", view_data)      # small: previewed here
    deep = digits(*[dense(10)] * 500, dense(10, "softmax"))
    probe = Probe(qtbot)
    builder = window.model_builder
    assert probe.run(lambda: window.open_experiment(write(tmp_path, deep)),
                     settled=lambda: len(builder.rows) == 501)
    assert probe.busy < MAX_BUSY, f"the GUI thread computed {probe.busy:.2f} s in one gap"
    assert builder.specs() == window.experiment.model["layers"]
    assert window.views["network"].columns == []                  # a note, not 501 columns
    texts = [item.text() for item in window.views["network"].scene.items()
             if hasattr(item, "text")]
    assert any(f"at most {network_view.MAX_LAYERS}" in text for text in texts)


def test_the_layer_list_is_complete_while_its_rows_are_still_being_made(make_window, qtbot):
    window = make_window(digits(*[dense(10)] * 60, dense(10, "softmax")), fake=True)
    builder = window.model_builder
    builder.set_model(window.experiment.model, [(64,)])
    assert len(builder.rows) < 61 and builder.specs() == window.experiment.model["layers"]
    qtbot.waitUntil(lambda: len(builder.rows) == 61)
    assert builder.specs() == window.experiment.model["layers"]

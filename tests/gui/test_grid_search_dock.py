"""The grid-search dock: a 2x2 search from the dock fills the heatmap; click, export, cancel."""

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from nnviz.gui.grid_search_dock import GridSearchDock

SPEC = {"format": "nnviz-experiment/1",
        "dataset": {"name": "moons", "n_samples": 120, "seed": 0},
        "model": {"input_shape": [2], "cost": "cross_entropy", "init": "he",
                  "layers": [{"type": "dense", "units": 6, "activation": "relu"},
                             {"type": "dense", "units": 2, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 2, "batch_size": 16}}


@pytest.fixture
def dock(qtbot):
    widget = GridSearchDock(lambda: SPEC)
    qtbot.addWidget(widget)
    widget.resize(800, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def test_the_axes_start_with_eta_and_l2_from_the_catalogue(dock):
    first, second = dock.axes
    assert dock.objectName() == "gridSearch"
    assert first.path == "training.optimizer.eta" and second.path == "training.l2"
    assert first.values() == [0.0001, 0.001, 0.01, 0.1] and first.log_row.isVisibleTo(dock)
    assert second.values() == [0.0, 0.0001, 0.001, 0.01]
    paths = [second.field_combo.itemData(i) for i in range(second.field_combo.count())]
    assert None in paths and "model.layers[0].activation" in paths and "model.init" in paths
    second.set_path("model.init")
    assert "xavier" in second.values() and not second.log_row.isVisibleTo(dock)
    first.log_from.setText("0.001")
    first.log_to.setText("0.1")
    first.log_count.setValue(3)
    first.log_button.click()
    assert first.values() == [0.001, 0.01, 0.1]
    dock.refresh_fields()                           # e.g. the dock shown again
    assert first.values() == [0.001, 0.01, 0.1] and second.path == "model.init"


def test_a_2x2_search_from_the_dock_fills_the_heatmap(dock, qtbot, tmp_path):
    dock.axes[0].values_edit.setText("0.001, 0.05")
    dock.axes[1].values_edit.setText("0, 0.01")
    dock.jobs.setValue(2)
    filled = []
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    assert dock.running and not dock.run_button.isEnabled()
    dock.thread.cell_done.connect(lambda row, done, total: filled.append(dock.heatmap.result.done))
    qtbot.waitUntil(lambda: not dock.running and dock.result is not None and dock.result.done == 4,
                    timeout=120_000)
    assert filled == [1, 2, 3, 4]                  # the heatmap got each cell as it finished
    assert dock.progress.value() == 4 and "Best:" in dock.status.text()
    assert dock.heatmap.result is dock.result and dock.result.shape == (2, 2)
    assert all(r["status"] == "ok" for r in dock.result.rows)
    image = dock.heatmap.grab().toImage()
    pending = dock.heatmap.palette().alternateBase().color()
    for index in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        rect = dock.heatmap.cell_rect(index)
        assert image.pixelColor(int(rect.left() + 6), int(rect.top() + 6)) != pending

    runs = []
    dock.cell_run_chosen.connect(runs.append)
    with qtbot.waitSignal(dock.cell_chosen) as chosen:
        qtbot.mouseClick(dock.heatmap, Qt.MouseButton.LeftButton,
                         pos=dock.heatmap.cell_rect((1, 0)).center().toPoint())
    assert dock.result.has_history((1, 0))            # recorded by the worker, not trained here
    assert runs and runs[0].series("val_loss")[1][-1] == dock.result.row((1, 0))["val_loss"]
    cell = chosen.args[0]
    assert cell["training"]["optimizer"]["eta"] == 0.05 and cell["training"]["l2"] == 0
    assert cell["model"] == dock._current()["model"]

    dock.export_csv(tmp_path / "grid.csv")
    dock.export_png(tmp_path / "grid.png")
    assert len(list(csv.DictReader(open(tmp_path / "grid.csv")))) == 4
    assert not QImage(str(tmp_path / "grid.png")).isNull()
    assert dock.png_button.isEnabled() and dock.csv_button.isEnabled()


def test_invalid_values_are_shown_and_nothing_starts(dock):
    dock.axes[0].values_edit.setText("0.01, -3")
    assert dock.run() is False and not dock.running and dock.thread is None
    assert "training.optimizer.eta" in dock.status.text() and "-3" in dock.status.text()


def test_cancel_stops_the_search(dock, qtbot):
    dock.axes[0].set_path("training.epochs")
    dock.axes[0].values_edit.setText("1, 200000")
    dock.axes[1].set_path(None)
    dock.jobs.setValue(2)
    assert dock.run()
    qtbot.waitUntil(lambda: dock.result.done >= 1, timeout=120_000)
    qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.running and dock.thread is None, timeout=30_000)
    assert "Cancelled after 1 of 2" in dock.status.text()
    assert [r["status"] for r in dock.result.rows] == ["ok", "cancelled"]
    assert dock.run_button.isEnabled()

"""The grid-search heatmap: colours, marks, numbers, clicks and the saved PNG (no training)."""

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from nnviz.core import Experiment
from nnviz.core.grid import GridResult, plan_grid
from nnviz.gui.heatmap import BEST_COLOUR, HeatmapView, format_figure, save_heatmap

EXP = Experiment.from_dict({
    "dataset": {"name": "moons", "n_samples": 100},
    "model": {"input_shape": [2], "cost": "cross_entropy",
              "layers": [{"type": "dense", "units": 4, "activation": "relu"},
                         {"type": "dense", "units": 2, "activation": "softmax"}]},
    "training": {"epochs": 1}})


def filled(axes, figures):
    """A GridResult with the given (status, val_accuracy) per finished cell number."""
    result = GridResult(plan_grid(EXP, axes))
    for number, (status, acc) in figures.items():
        result.record(number, {"status": status, "val_accuracy": acc, "val_loss": 1.0 - (acc or 0),
                               "train_loss": 0.5, "epochs_run": 1.0, "seconds": 0.1,
                               "message": "diverged: the loss became nan" if status == "diverged" else ""})
    return result


AXES = {"training.optimizer.eta": [0.001, 0.01, 10.0], "training.l2": [0.0, 0.01]}


@pytest.fixture
def view(qtbot):
    widget = HeatmapView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    return widget


def pixel(view, index, dx=0.5, dy=0.5) -> QColor:
    rect = view.cell_rect(index)
    image = view.grab().toImage()
    return image.pixelColor(int(rect.left() + dx * rect.width()), int(rect.top() + dy * rect.height()))


def test_cells_are_coloured_by_accuracy_with_best_diverged_and_pending_distinct(view):
    result = filled(AXES, {0: ("ok", 0.6), 1: ("ok", 0.7), 2: ("ok", 0.95), 3: ("ok", 0.9),
                           4: ("diverged", None)})
    view.set_result(result)
    assert result.best_index() == (1, 0)
    border = pixel(view, (1, 0), dx=0.5, dy=0.0 + 3.5 / view.cell_rect((1, 0)).height())
    assert border.name().upper() == BEST_COLOUR
    low, high = pixel(view, (0, 0), 0.1, 0.1), pixel(view, (1, 1), 0.1, 0.1)
    assert high.lightnessF() > low.lightnessF()            # viridis: better = brighter
    diverged = pixel(view, (2, 0), 0.1, 0.1)
    hatched = [pixel(view, (2, 0), 0.1 + i / 40, 0.1) for i in range(8)]
    assert any(c.red() > 150 and c.green() < 60 for c in hatched + [diverged])
    pending = pixel(view, (2, 1), 0.1, 0.1)
    assert pending == view.palette().alternateBase().color()


def test_clicking_a_cell_emits_its_index(view, qtbot):
    view.set_result(filled(AXES, {0: ("ok", 0.5)}))
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.cell_clicked) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.cell_rect((2, 1)).center().toPoint())
    assert blocker.args == [(2, 1)]
    assert view.cell_at(view.cell_rect((0, 1)).center()) == (0, 1)
    assert view.cell_at(view.rect().topLeft().toPointF()) is None


def test_one_and_three_axes(view):
    one = filled({"training.l2": [0.0, 0.1, 1.0]}, {0: ("ok", 0.8), 2: ("failed", None)})
    view.set_result(one)
    assert view.cell_at(view.cell_rect((1,)).center()) == (1,)
    assert pixel(view, (0,), 0.1, 0.1) != pixel(view, (2,), 0.1, 0.1)
    three = filled({**AXES, "model.init": ["he", "xavier"]}, {7: ("ok", 0.9), 0: ("ok", 0.4)})
    view.set_result(three)
    assert three.best_index() == (1, 1, 1) and view.slice == 1          # opens on the best slice
    assert view.cell_at(view.cell_rect((1, 1)).center()) == (1, 1, 1)
    view.set_slice(0)
    assert view.cell_at(view.cell_rect((1, 1)).center()) == (1, 1, 0)


def test_save_heatmap_writes_a_png_of_the_size_asked(tmp_path, qapp):
    path = save_heatmap(filled(AXES, {i: ("ok", 0.1 * i) for i in range(6)}), tmp_path / "h.png",
                        size=(640, 480))
    image = QImage(path)
    assert (image.width(), image.height()) == (640, 480)
    three = filled({**AXES, "model.init": ["he", "xavier"]}, {i: ("ok", 0.05 * i) for i in range(12)})
    image = QImage(save_heatmap(three, tmp_path / "3.png", size=(400, 300)))
    assert (image.width(), image.height()) == (800, 300)       # a panel per third-axis value
    assert image.copy(0, 0, 400, 300) != image.copy(400, 0, 400, 300)


def test_numbers_in_cells():
    assert format_figure("val_accuracy", 0.9723) == "97.2"
    assert format_figure("val_loss", 0.012345) == "0.0123"
    assert format_figure("val_loss", math.nan) == "" and format_figure("val_accuracy", None) == ""


def test_regression_colours_losses_on_a_log_scale_lower_is_brighter(view):
    result = GridResult(plan_grid(EXP, {"training.l2": [0.0, 0.1, 1.0, 10.0]}))
    for number, loss in enumerate([0.01, 0.1, 1.0, 10.0]):
        result.record(number, {"status": "ok", "val_accuracy": None, "val_loss": loss,
                               "train_loss": loss, "epochs_run": 1.0, "seconds": 0.1})
    view.set_result(result)
    assert result.metric == "val_loss" and result.best_index() == (0,)
    lightness = [pixel(view, (i,), 0.1, 0.1).lightnessF() for i in range(4)]
    assert lightness == sorted(lightness, reverse=True)
    steps = [a - b for a, b in zip(lightness, lightness[1:])]
    assert min(steps) > 0.05                     # each decade its own shade, not only the last

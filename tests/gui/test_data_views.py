"""Output, convolution and network views drawn from real view data."""

import os
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from nnviz.core.network import Network
from nnviz.core.viewdata import conv_data, network_data, output_data
from nnviz.gui.views.conv_view import ConvView
from nnviz.gui.views.network_view import WIDTHS, NetworkView
from nnviz.gui.views.output_view import OutputView

RNG = np.random.default_rng(0)


def dense_net(n_in, hidden, n_out, out_act, cost):
    layers = [{"type": "dense", "units": h, "activation": "tanh"} for h in hidden]
    layers.append({"type": "dense", "units": n_out, "activation": out_act})
    return Network.from_spec({"input_shape": [n_in], "layers": layers, "cost": cost})


def dataset(X, y, n_train, task="classification", **extra):
    return SimpleNamespace(X_train=X[:n_train], y_train=y[:n_train], X_val=X[n_train:],
                           y_val=y[n_train:], task=task, **extra)


CNN_SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "filters": 5, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 11, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "flatten"},
    {"type": "dense", "units": 4, "activation": "softmax"}], "cost": "cross_entropy"}


def _view(qtbot, cls, width, height):
    view = cls()
    qtbot.addWidget(view)
    view.resize(width, height)
    return view


@pytest.fixture
def output_view(qtbot):
    return _view(qtbot, OutputView, 500, 400)


@pytest.fixture
def conv_view(qtbot):
    return _view(qtbot, ConvView, 500, 500)


@pytest.fixture
def network_view(qtbot):
    return _view(qtbot, NetworkView, 600, 400)


def point_count(items):
    return sum(len(item.data) for item in items)


# ------------------------------------------------------------------ output view


def boundary_data(resolution=24):
    y = np.arange(75) % 3
    X = RNG.normal(size=(75, 2)) + np.array([[0, 3], [3, 0], [-3, 0]])[y]
    ds = dataset(X, y, 60, class_names=("a", "b", "c"), n_classes=3)
    return output_data(dense_net(2, [4], 3, "softmax", "cross_entropy"), ds, resolution)


def test_boundary_image_has_the_grid_shape_and_every_point(output_view):
    data = boundary_data(24)
    output_view.update_data(data)
    page = output_view.page
    assert output_view.kind == "boundary"
    assert page.image.image.shape == (24, 24, 4)
    assert point_count(page.train) == len(data.train_points) == 60
    assert point_count(page.val) == len(data.val_points) == 15
    for c, item in enumerate(page.val):          # each class item holds its own points
        assert len(item.data) == np.sum(data.val_labels == c)
    assert f"{100 * data.accuracy:.1f} %" in output_view.plot.getPlotItem().titleLabel.text
    lines = page.lines.getData()[0]
    assert len(lines) == len(data.boundary_lines) > 0


def test_boundary_redraw_keeps_items_and_rebuilds_on_new_classes(output_view):
    output_view.update_data(boundary_data(16))
    page, image = output_view.page, output_view.page.image
    output_view.update_data(boundary_data(16))
    assert output_view.page is page and page.image is image
    X = RNG.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    binary = output_data(dense_net(2, [], 1, "sigmoid", "bce"), dataset(X, y, 20), 16)
    output_view.update_data(binary)
    assert output_view.page is not page
    assert len(output_view.page.val) == 2
    assert output_view.page.image.image.shape == (16, 16, 4)


def test_boundary_colours_follow_the_probabilities():
    from nnviz.gui.views.output_view import boundary_rgba, class_rgb
    probs = np.array([[0.0, 1.0, 0.5]])          # sure of 0, sure of 1, undecided
    rgba = boundary_rgba(probs, 2).astype(int)
    colours = class_rgb(2).round()
    np.testing.assert_array_equal(rgba[0, 0, :3], colours[0])
    np.testing.assert_array_equal(rgba[0, 1, :3], colours[1])
    assert rgba[0, 2, 3] < rgba[0, 0, 3] == rgba[0, 1, 3]   # unsure is more transparent


def test_confusion_counts_sum_to_the_validation_size(output_view):
    X = RNG.normal(size=(70, 5))
    y = RNG.integers(0, 4, 70)
    data = output_data(dense_net(5, [6], 4, "softmax", "cross_entropy"), dataset(X, y, 40))
    output_view.update_data(data)
    page = output_view.page
    assert output_view.kind == "confusion"
    assert len(page.texts) == 16
    counts = [int(t.toPlainText()) for t in page.texts]
    assert sum(counts) == 30
    np.testing.assert_array_equal(np.reshape(counts, (4, 4)), data.matrix)
    assert page.image.image.shape == (4, 4, 4)
    ticks = output_view.plot.getPlotItem().getAxis("bottom")._tickLevels
    assert [name for _, name in ticks[0]] == ["0", "1", "2", "3"]
    assert f"{100 * data.accuracy:.1f} %" in output_view.plot.getPlotItem().titleLabel.text


def test_curve_and_scatter_modes(output_view):
    x = np.linspace(-1, 1, 30)[:, None]
    y = x ** 2
    curve = output_data(dense_net(1, [3], 1, "identity", "mse"), dataset(x, y, 20, "regression"))
    output_view.update_data(curve)
    assert output_view.kind == "curve"
    cx, cy = output_view.page.curve.getData()
    np.testing.assert_allclose(cy, curve.curve_y)
    assert point_count(output_view.page.train) == 20
    assert point_count(output_view.page.val) == 10

    X = RNG.normal(size=(30, 3))
    scatter = output_data(dense_net(3, [], 2, "identity", "mse"),
                          dataset(X, X[:, :2], 20, "regression"))
    output_view.update_data(scatter)
    assert output_view.kind == "scatter"
    assert len(output_view.page.points.data) == 20          # 10 samples × 2 outputs
    output_view.clear()
    assert output_view.kind is None


def test_output_font_scale_enlarges_the_title(output_view):
    output_view.update_data(boundary_data(8))
    title = output_view.plot.getPlotItem().titleLabel
    size = float(title.opts["size"].rstrip("pt"))
    output_view.set_font_scale(2.0)
    assert float(title.opts["size"].rstrip("pt")) == pytest.approx(2 * size)
    assert output_view.page.val[0].opts["size"] > 9      # points grow too


# ------------------------------------------------------------------ conv view


def test_conv_view_shows_one_feature_map_per_filter(conv_view):
    net = Network.from_spec(CNN_SPEC)
    data = conv_data(net, RNG.random((1, 8, 8)))
    conv_view.update_data(data)
    assert conv_view.feature_map_counts() == [5, 11]
    for row, layer in zip(conv_view.rows, data.layers):
        assert len(row.labels) == layer.kernels.shape[0] == layer.maps.shape[0]
        assert row.mosaic.image.image.shape[:2] == (row.geometry.height, row.geometry.width)
    # 11 filters wrap onto two lines of at most 8
    assert conv_view.rows[1].geometry.lines == 2
    assert not conv_view.message.isVisibleTo(conv_view)


def test_conv_view_mosaic_places_each_map(conv_view):
    from nnviz.gui.views.conv_view import colorize
    net = Network.from_spec(CNN_SPEC)
    data = conv_data(net, RNG.random((1, 8, 8)))
    conv_view.update_data(data)
    row, layer = conv_view.rows[0], data.layers[0]
    maps = colorize(np.asarray(layer.maps), False)
    h, w = layer.maps.shape[1:]
    for i in range(len(maps)):
        top, left = row.geometry.origin(i)
        bottom = top + row.geometry.cell_h
        cell = row.mosaic.image.image[bottom - h:bottom, left:left + w]
        np.testing.assert_array_equal(cell, maps[i])


def test_conv_view_redraw_keeps_rows_and_rebuilds_on_new_layers(conv_view):
    net = Network.from_spec(CNN_SPEC)
    conv_view.update_data(conv_data(net, RNG.random((1, 8, 8))))
    rows = list(conv_view.rows)
    conv_view.update_data(conv_data(net, RNG.random((1, 8, 8))))
    assert conv_view.rows == rows
    dense = dense_net(4, [3], 2, "softmax", "cross_entropy")
    conv_view.update_data(conv_data(dense, np.zeros(4)))
    assert conv_view.rows == [] and conv_view.feature_map_counts() == []
    assert conv_view.message.isVisibleTo(conv_view)


def test_conv_view_chooser_emits_the_chosen_index(conv_view, qtbot):
    combo = conv_view.findChild(type(conv_view.combo), "convImageCombo")
    assert combo is conv_view.combo
    chosen = []
    conv_view.imageChosen.connect(chosen.append)
    conv_view.set_image_choices(["digit 0", "digit 1", "china"])
    assert chosen == [] and combo.count() == 3
    with qtbot.waitSignal(conv_view.imageChosen) as signal:
        combo.setCurrentIndex(2)
    assert signal.args == [2]
    conv_view.clear()
    conv_view.set_font_scale(1.5)


# ------------------------------------------------------------------ network view


def edge_count(column):
    return sum(item.path().elementCount() for item in column.edge_items) // 2


def test_network_view_has_one_node_per_unit_for_a_small_net(network_view):
    net = dense_net(3, [5, 4], 2, "softmax", "cross_entropy")
    network_view.update_data(network_data(net, output_names=["no", "yes"]))
    assert network_view.node_counts() == [3, 5, 4, 2]
    assert network_view.block_kinds() == []
    columns = network_view.columns
    assert [edge_count(c) for c in columns[1:]] == [15, 20, 8]
    assert all(len(c.edge_items) == 2 * len(WIDTHS) for c in columns[1:])
    texts = [i.text() for i in network_view.scene.items() if hasattr(i, "text")]
    assert {"x1", "x2", "x3", "no", "yes", "input", "output"} <= set(texts)


def test_network_view_redraws_weights_without_rebuilding(network_view):
    net = dense_net(2, [3], 1, "sigmoid", "bce")
    network_view.update_data(network_data(net))
    items = list(network_view.columns[1].edge_items)
    count = len(network_view.scene.items())
    net.layers[0].params["W"][:] = [[1.0, -1.0, 0.1], [0.2, -0.2, 2.0]]
    network_view.update_data(network_data(net))
    column = network_view.columns[1]
    assert column.edge_items == items and len(network_view.scene.items()) == count
    # positive items come first, 4 width buckets each: 2.0 is the widest positive edge
    per_item = [item.path().elementCount() // 2 for item in column.edge_items]
    assert per_item[3] == 1 and sum(per_item[:4]) == 4 and sum(per_item[4:]) == 2


def test_network_view_draws_blocks_for_a_cnn(network_view):
    spec = dict(CNN_SPEC, layers=CNN_SPEC["layers"][:4] + [
        {"type": "dropout", "rate": 0.5}, {"type": "batchnorm"},
        {"type": "dense", "units": 4, "activation": "softmax"}])
    network_view.update_data(network_data(Network.from_spec(spec)))
    assert network_view.block_kinds() == ["input", "conv2d", "maxpool2d", "conv2d",
                                          "flatten", "dropout", "batchnorm"]
    assert network_view.node_counts()[-1] == 4
    assert edge_count(network_view.columns[-1]) == 0     # 176 inputs: no weight edges
    texts = [i.text() for i in network_view.scene.items() if hasattr(i, "text")]
    assert "conv2d 5 × 3×3" in texts and "relu" in texts and "→ 11×4×4" in texts
    assert "50 params" in texts                            # 5 × 3×3 + 5 biases
    spec["layers"][0] = dict(spec["layers"][0], trainable=False)
    network_view.update_data(network_data(Network.from_spec(spec)))
    texts = [i.text() for i in network_view.scene.items() if hasattr(i, "text")]
    assert "50 params frozen" in texts and "50 params" not in texts
    network_view.set_font_scale(1.6)
    assert network_view.block_kinds()[1] == "conv2d"
    network_view.clear()
    assert network_view.node_counts() == []


# ------------------------------------------------------------------ themes


def test_views_follow_a_theme_switch(network_view, output_view, qtbot):
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication
    from nnviz.gui import theme

    network_view.update_data(network_data(dense_net(2, [3], 1, "sigmoid", "bce")))
    output_view.update_data(boundary_data(8))
    app = QApplication.instance()
    saved = (app.palette(), pg.getConfigOption("background"), pg.getConfigOption("foreground"))
    try:
        for name in ("dark", "light"):
            colours = theme.apply_theme(name)
            qtbot.waitUntil(lambda: network_view.view.backgroundBrush().color().name()
                            == colours.plot_background.lower(), timeout=15_000)
            pen = output_view.page.lines.opts["pen"]
            assert pen.color().name() == colours.plot_foreground.lower()
    finally:
        app.setPalette(saved[0])
        pg.setConfigOptions(background=saved[1], foreground=saved[2])


def test_network_view_draws_only_the_strongest_edges_of_big_layers(qtbot):
    import numpy as np

    from nnviz.gui.views.network_view import MAX_EDGES, strongest

    w = np.arange(-600, 600, dtype=float).reshape(30, 40)
    keep = strongest(w, MAX_EDGES)
    assert keep.sum() == MAX_EDGES
    assert np.abs(w[keep]).min() >= np.abs(w[~keep]).max()
    assert strongest(w[:4, :4], MAX_EDGES).all()


def test_a_deep_wide_mlp_stays_legible_in_a_narrow_projector_dock(network_view, qtbot):
    from PySide6.QtWidgets import QGraphicsSimpleTextItem
    from nnviz.gui.views.network_view import MAX_DRAWN, MIN_ZOOM
    network_view.resize(300, 560)                 # narrower than the diagram: it scrolls
    network_view.show()
    qtbot.waitExposed(network_view)
    network_view.set_font_scale(1.5)
    net = dense_net(64, [32] * 5, 10, "softmax", "cross_entropy")
    network_view.update_data(network_data(net))
    qtbot.waitUntil(lambda: network_view.zoom >= MIN_ZOOM)
    # wide layers are summarised: their first and last units and "+21" between
    assert all(len(c.units) <= MAX_DRAWN for c in network_view.columns)
    assert network_view.node_counts()[1:6] == [32] * 5
    texts = [i for i in network_view.scene.items() if isinstance(i, QGraphicsSimpleTextItem)]
    assert sum(t.text() == "+21" for t in texts) == 5
    # every label drawn at least MIN_ZOOM of the large font, and no two labels overlap
    smallest = min(t.font().pointSizeF() for t in texts) * network_view.zoom
    assert smallest >= MIN_ZOOM * 0.8 * network_view.font().pointSizeF()
    rects = [t.sceneBoundingRect().adjusted(1, 2, -1, -2) for t in texts]   # ink, not leading
    overlaps = [(texts[i].text(), texts[j].text()) for i in range(len(rects))
                for j in range(i) if rects[i].intersects(rects[j])]
    assert not overlaps
    # the drawn edges are the drawn units' weights
    first = network_view.columns[2]
    assert edge_count(first) == min(MAX_DRAWN * MAX_DRAWN, 96)


def test_output_title_shortens_to_fit_a_narrow_projector_dock(output_view, qtbot):
    """A 360 px dock at large text: the confusion title keeps the accuracy, drops
    words, and is never cut; a wide one gets the whole title again."""
    from PySide6.QtGui import QFontMetricsF
    from nnviz.gui.views import plotstyle
    X = RNG.normal(size=(70, 5))
    y = RNG.integers(0, 4, 70)
    data = output_data(dense_net(5, [6], 4, "softmax", "cross_entropy"), dataset(X, y, 40))
    output_view.set_font_scale(1.5)
    output_view.resize(360, 400)
    output_view.show()
    qtbot.waitExposed(output_view)
    output_view.update_data(data)
    item = output_view.plot.getPlotItem()
    accuracy = f"{100 * data.accuracy:.1f} %"
    font = QFontMetricsF(plotstyle.scaled_font(1.5, 1.1, bold=True))
    qtbot.waitUntil(lambda: font.horizontalAdvance(item.titleLabel.text) <= item.vb.width())
    assert accuracy in item.titleLabel.text and "Confusion · accuracy" not in item.titleLabel.text
    output_view.resize(1000, 400)
    qtbot.waitUntil(lambda: item.titleLabel.text.startswith("Confusion · accuracy"))

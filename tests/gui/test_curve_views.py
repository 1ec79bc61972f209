"""Loss, gradient and activation views: curves, log axes, banner, bounded history."""

import time
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QCheckBox

from nnviz.gui.views import ActivationView, GradientView, LossView
from nnviz.gui.views.activation_view import N_BINS, SHRINK_AFTER, histogram_range, nice_ceil
from nnviz.gui.views.plotstyle import LOG_CEILING, LOG_FLOOR

N = 25


def feed(view, snaps):
    for snap in snaps:
        view.update_snapshot(snap)
    return view


@pytest.fixture
def loss_view(qtbot):
    view = LossView()
    qtbot.addWidget(view)
    return view


@pytest.fixture
def gradient_view(qtbot):
    view = GradientView()
    qtbot.addWidget(view)
    return view


@pytest.fixture
def activation_view(qtbot):
    view = ActivationView()
    qtbot.addWidget(view)
    return view


def xy(curve):
    x, y = curve.getOriginalDataset()
    return (np.array([]), np.array([])) if x is None else (x, y)


# -- LossView -----------------------------------------------------------------

def test_loss_view_draws_one_point_per_snapshot(loss_view, make_snapshot):
    snaps = [make_snapshot(s) for s in range(1, N + 1)]
    feed(loss_view, snaps)
    assert loss_view.objectName() == "lossPlot"
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        assert len(xy(loss_view.curves[name])[0]) == N
    x, y = xy(loss_view.curves["train_loss"])
    assert x.tolist() == pytest.approx([s.epoch_progress for s in snaps])
    assert y.tolist() == pytest.approx([s.train_loss for s in snaps])
    assert xy(loss_view.curves["val_accuracy"])[1][-1] == pytest.approx(snaps[-1].val_accuracy)
    assert not loss_view.accuracy_plot.isHidden()


def test_loss_plots_follow_the_run(loss_view, make_snapshot, qtbot):
    """Both plots' x ranges follow the epochs while shown (no frozen x range),
    a round step ahead of the data, not far beyond it."""
    loss_view.resize(600, 500)
    loss_view.show()
    qtbot.waitExposed(loss_view)
    for step in range(1, 81):
        loss_view.update_snapshot(make_snapshot(step))
        if step % 20 == 0:
            loss_view.grab()
    for plot in (loss_view.loss_plot, loss_view.accuracy_plot):
        (x0, x1), _ = plot.getPlotItem().viewRange()
        assert x0 <= 0.1 and 8.0 <= x1 <= 16.0


def test_loss_view_skips_missing_validation(loss_view, make_snapshot):
    feed(loss_view, [make_snapshot(s, val_loss="auto" if s % 5 == 0 else None)
                     for s in range(1, N + 1)])
    assert len(xy(loss_view.curves["train_loss"])[0]) == N
    x, _ = xy(loss_view.curves["val_loss"])
    assert x.tolist() == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.5])


def test_loss_view_hides_accuracy_for_regression(loss_view, make_snapshot):
    feed(loss_view, [make_snapshot(s, classification=False) for s in range(1, N + 1)])
    assert loss_view.accuracy_plot.isHidden()
    assert len(xy(loss_view.curves["train_accuracy"])[0]) == 0
    assert len(xy(loss_view.curves["val_loss"])[0]) == N


def test_log_checkbox_switches_loss_axis(loss_view, make_snapshot):
    feed(loss_view, [make_snapshot(s, train_loss=0.0 if s == 3 else None)
                     for s in range(1, N + 1)])
    check = loss_view.findChild(QCheckBox, "logScaleCheck")
    axis = loss_view.loss_plot.getPlotItem().getAxis("left")
    assert not axis.logMode
    check.click()
    assert check.isChecked() and axis.logMode
    _, y = loss_view.curves["train_loss"].getData()          # log10 of what is drawn
    assert np.isfinite(y).all() and y[2] == pytest.approx(np.log10(LOG_FLOOR))
    check.setChecked(False)
    assert not axis.logMode


def test_loss_view_clear_and_new_run(loss_view, make_snapshot):
    feed(loss_view, [make_snapshot(s) for s in range(1, N + 1)])
    loss_view.clear()
    assert all(len(xy(c)[0]) == 0 for c in loss_view.curves.values())
    assert loss_view.accuracy_plot.isHidden()
    feed(loss_view, [make_snapshot(s) for s in range(1, 6)])
    feed(loss_view, [make_snapshot(s) for s in range(1, 4)])  # step went back: new run
    assert len(xy(loss_view.curves["train_loss"])[0]) == 3


# -- GradientView -------------------------------------------------------------

def vanishing(step, make_snapshot):
    return make_snapshot(step, 4, activation="sigmoid", saturated_fraction=0.7,
                         delta_norms=[1e-6, 1e-4, 1e-3, 1e-2])


def test_gradient_view_one_curve_per_layer(gradient_view, make_snapshot):
    gradient_view.set_mode("both")
    snaps = [make_snapshot(s, 3) for s in range(1, N + 1)]
    feed(gradient_view, snaps)
    assert gradient_view.objectName() == "gradientPlot"
    for quantity, attr in (("weight", "weight_grad_norm"), ("delta", "delta_norm")):
        curves = gradient_view.curves[quantity]
        assert len(curves) == 3
        for i, curve in enumerate(curves):
            x, y = xy(curve)
            assert len(x) == N
            assert y.tolist() == pytest.approx([getattr(s.layers[i], attr) for s in snaps])
    # this run's layers are named under their bars: the legend is for pinned runs
    assert gradient_view.legend.entries == [] and gradient_view.legend.isHidden()


def test_gradient_view_modes_show_the_right_plots(gradient_view, make_snapshot):
    feed(gradient_view, [make_snapshot(s, 3) for s in range(1, N + 1)])
    visible = lambda: {q for q, p in gradient_view.plots.items() if p.isVisibleTo(gradient_view)}
    texts = [gradient_view.mode_combo.itemText(i) for i in range(gradient_view.mode_combo.count())]
    assert texts == ["weight gradient", "back-propagated gradient", "both side by side"]
    assert gradient_view.mode == "weight" and visible() == {"weight"}
    gradient_view.mode_combo.setCurrentIndex(1)
    assert gradient_view.mode == "delta" and visible() == {"delta"}
    assert len(xy(gradient_view.curves["delta"][0])[0]) == N     # filled on switching
    gradient_view.set_mode("both")
    assert visible() == {"weight", "delta"}
    assert len(gradient_view.bars["weight"].opts["x"]) == 3
    assert len(gradient_view.bars["delta"].opts["x"]) == 3


def test_gradient_bars_are_log10_of_current_values(gradient_view, make_snapshot):
    snap = make_snapshot(1, 3, weight_grad_norms=[1e-5, 1e-3, 0.1], delta_norms=[1, 1, 1])
    gradient_view.update_snapshot(snap)
    opts = gradient_view.bars["weight"].opts
    assert opts["y0"] == -6.0                                   # a decade below the least
    assert np.asarray(opts["height"]) + opts["y0"] == pytest.approx([-5, -3, -1])
    assert list(opts["x"]) == [0, 1, 2]
    ticks = gradient_view.bar_plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["1\nrelu", "2\nrelu", "3\nrelu"]


def test_gradient_view_survives_zero_and_non_finite(gradient_view, make_snapshot):
    gradient_view.set_mode("both")
    odd = [[0.0, 1.0, 2.0], [np.inf, 1.0, 1.0], [np.nan, 1.0, 1.0], [1.0, 1.0, 1.0]]
    for step, norms in enumerate(odd, 1):
        gradient_view.update_snapshot(make_snapshot(step, 3, delta_norms=norms,
                                                    weight_grad_norms=norms))
    x, y = xy(gradient_view.curves["delta"][0])
    assert len(x) == 3                                          # the NaN point is left out
    assert y.tolist() == [LOG_FLOOR, LOG_CEILING, 1.0]
    _, drawn = gradient_view.curves["delta"][0].getData()
    assert np.isfinite(drawn).all()
    gradient_view.grab()


def test_banner_explains_vanishing_gradient(gradient_view, make_snapshot):
    feed(gradient_view, [vanishing(s, make_snapshot) for s in range(1, 4)])
    banner = gradient_view.banner
    assert banner.objectName() == "gradientBanner"
    assert banner.isVisibleTo(gradient_view)
    assert banner.wordWrap()
    text = banner.text()
    assert "Vanishing gradients" in text
    assert "10,000x less gradient" in text
    assert "dense 1 (sigmoid)" in text and "dense 4 (sigmoid)" in text
    assert "saturating activation" in text
    assert gradient_view.diagnosis.kind == "vanishing"


def test_banner_hidden_for_healthy_gradients(gradient_view, make_snapshot):
    feed(gradient_view, [make_snapshot(s, 4) for s in range(1, N + 1)])
    assert gradient_view.banner.isHidden()
    assert gradient_view.diagnosis is None


def test_banner_goes_away_after_a_few_healthy_snapshots(gradient_view, make_snapshot):
    feed(gradient_view, [vanishing(s, make_snapshot) for s in range(1, 4)])
    feed(gradient_view, [make_snapshot(s, 4) for s in range(4, 7)])
    assert gradient_view.banner.isVisibleTo(gradient_view)      # no flicker
    feed(gradient_view, [make_snapshot(s, 4) for s in range(7, 10)])
    assert gradient_view.banner.isHidden()
    feed(gradient_view, [vanishing(s, make_snapshot) for s in range(10, 11)])
    gradient_view.clear()
    assert gradient_view.banner.isHidden()


def test_banner_for_blown_up_training(gradient_view, make_snapshot):
    gradient_view.update_snapshot(make_snapshot(1, 3, delta_norms=[np.nan, 1.0, 1.0]))
    assert gradient_view.diagnosis.kind == "non_finite"
    assert "learning rate too large" in gradient_view.banner.text()
    assert "#D55E00" in gradient_view.banner.styleSheet()


def test_gradient_view_rebuilds_when_layers_change(gradient_view, make_snapshot):
    feed(gradient_view, [make_snapshot(s, 3) for s in range(1, 6)])
    feed(gradient_view, [make_snapshot(s, 5) for s in range(6, 9)])
    curves = gradient_view.curves["weight"]
    assert len(curves) == 5
    assert all(len(xy(c)[0]) == 3 for c in curves)
    item = gradient_view.plots["weight"].getPlotItem()
    assert len(item.listDataItems()) == 5


# -- ActivationView -----------------------------------------------------------

def test_activation_view_histograms_and_fractions(activation_view, make_snapshot):
    acts = ["sigmoid", "sigmoid", "relu", "softmax"]
    snaps = [make_snapshot(s, 4, activations=acts, saturated_fraction=0.01 * s,
                           dead_fraction=0.02 * s) for s in range(1, N + 1)]
    feed(activation_view, snaps)
    assert activation_view.objectName() == "activationPlot"
    assert len(activation_view.hist_curves) == 4
    assert set(activation_view.hist_plots) == {"sigmoid", "relu", "softmax"}
    for i, curve in enumerate(activation_view.hist_curves):
        edges, percent = xy(curve)
        assert len(edges) == N_BINS + 1 and len(percent) == N_BINS
        assert percent.sum() == pytest.approx(100.0, abs=1.0)   # relu may drop a tail value
    expected, _ = np.histogram(snaps[-1].layers[0].act_sample, bins=N_BINS, range=(0, 1))
    assert xy(activation_view.hist_curves[0])[1] == pytest.approx(
        100 * expected / expected.sum())
    assert sorted(activation_view.saturated_curves) == [0, 1]
    assert sorted(activation_view.dead_curves) == [2]
    x, y = xy(activation_view.saturated_curves[1])
    assert len(x) == N and y.tolist() == pytest.approx([0.01 * s for s in range(1, N + 1)])
    assert xy(activation_view.dead_curves[2])[1][-1] == pytest.approx(0.02 * N)


def test_histogram_edges_stay_fixed(activation_view, make_snapshot):
    acts = ["tanh", "relu"]
    activation_view.update_snapshot(make_snapshot(1, 2, activations=acts))
    tanh_edges = xy(activation_view.hist_curves[0])[0]
    relu_edges = xy(activation_view.hist_curves[1])[0]
    assert tanh_edges[0] == -1.0 and tanh_edges[-1] == 1.0
    assert relu_edges[0] == 0.0
    for s in range(2, 30):
        activation_view.update_snapshot(make_snapshot(s, 2, activations=acts))
    assert np.array_equal(xy(activation_view.hist_curves[0])[0], tanh_edges)
    assert xy(activation_view.hist_curves[1])[0][-1] >= relu_edges[-1]   # grows, never shrinks


def test_histogram_range_recovers_from_an_early_blow_up(activation_view, make_snapshot):
    def relu_snapshot(step, scale):
        snap = make_snapshot(step, 2, activations=["relu", "softmax"])
        layer = replace(snap.layers[0], act_sample=snap.layers[0].act_sample * scale)
        return replace(snap, layers=(layer, snap.layers[1]))

    activation_view.update_snapshot(relu_snapshot(1, 1e4))
    assert xy(activation_view.hist_curves[0])[0][-1] >= 1e4
    for step in range(2, SHRINK_AFTER + 1):                 # not yet: bins stay put
        activation_view.update_snapshot(relu_snapshot(step, 1.0))
    assert xy(activation_view.hist_curves[0])[0][-1] >= 1e4
    activation_view.update_snapshot(relu_snapshot(SHRINK_AFTER + 1, 1.0))
    edges, percent = xy(activation_view.hist_curves[0])
    assert edges[-1] <= 10 and percent.sum() > 95


def test_histogram_range_rules():
    rng = np.random.default_rng(0)
    assert histogram_range("sigmoid", rng.normal(size=50)) == (0.0, 1.0)
    assert histogram_range("tanh", np.array([])) == (-1.0, 1.0)
    lo, hi = histogram_range("relu", np.maximum(rng.normal(0, 1, 2000), 0))
    assert lo == 0.0 and hi == 3.0                       # 99.5th percentile ~2.6
    assert histogram_range("relu", np.zeros(10)) == (0.0, 1.0)       # all dead
    assert histogram_range("relu", np.full(10, 0.1), current=(0.0, 4.0)) == (0.0, 4.0)
    assert histogram_range("elu", np.array([-0.7, 0.0, 2.5])) == (-0.8, 3.0)
    assert [nice_ceil(v) for v in (0.0, 0.07, 1.0, 2.6, 7.0, 9.5)] == \
        [0.0, 0.08, 1.0, 3.0, 8.0, 10.0]


def test_activation_view_clear(activation_view, make_snapshot):
    feed(activation_view, [make_snapshot(s, 3, activation="tanh") for s in range(1, 6)])
    activation_view.clear()
    curves = [*activation_view.hist_curves, *activation_view.saturated_curves.values()]
    assert all(len(xy(c)[0]) == 0 for c in curves)
    activation_view.update_snapshot(make_snapshot(1, 3, activation="tanh"))
    assert len(xy(activation_view.saturated_curves[0])[0]) == 1


# -- all views ----------------------------------------------------------------

def _plot_items(view):
    items = [w.getPlotItem() for w in view.findChildren(pg.PlotWidget) if w.isVisibleTo(view)]
    if isinstance(view, ActivationView):
        items += list(view.hist_plots.values())
    return items


@pytest.mark.parametrize("cls", [LossView, GradientView, ActivationView])
def test_axis_ranges_change_rarely_while_data_grow(cls, qtbot, make_snapshot):
    """Re-fitting the axes on every update repaints them every frame (the main
    cost of a live plot): the ranges must stay put while the data fit and grow
    in steps, yet still show every point."""
    view = cls()
    qtbot.addWidget(view)
    view.resize(500, 600)
    view.show()
    qtbot.waitExposed(view)
    acts = ["tanh", "relu", "sigmoid"]
    changes, last = 0, None
    for step in range(1, 51):
        view.update_snapshot(make_snapshot(step, 3, activations=acts,
                                           train_loss=2.0 / step ** 0.5))
        QApplication.processEvents()           # let a pending auto-range happen
        ranges = [tuple(map(tuple, item.viewRange())) for item in _plot_items(view)]
        if last is not None and ranges != last:
            changes += 1
        last = ranges
    assert changes <= 12, f"ranges changed on {changes} of 49 updates"
    for item in _plot_items(view):          # ... and every point is inside
        (x0, x1), (y0, y1) = item.viewRange()
        for curve in item.listDataItems():
            if not isinstance(curve, pg.PlotDataItem):
                continue
            x, y = curve.getData()
            if x is None or len(x) == 0:
                continue
            y = y[np.isfinite(y)]
            assert x0 <= x.min() and x.max() <= x1
            assert y0 <= y.min() + 1e-9 and y.max() <= y1 + 1e-9


@pytest.mark.parametrize("cls", [LossView, GradientView, ActivationView])
def test_font_scale_grows_tick_fonts(cls, qtbot, make_snapshot):
    view = cls()
    qtbot.addWidget(view)
    view.update_snapshot(make_snapshot(1, 3))
    plot = view.findChildren(pg.GraphicsView)[0]
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot.ci.getItem(0, 0)
    before = item.getAxis("bottom").style["tickFont"].pointSizeF()
    widget_font = view.font().pointSizeF()
    view.set_font_scale(2.0)
    after = item.getAxis("bottom").style["tickFont"].pointSizeF()
    assert after == pytest.approx(2 * before)
    assert view.font().pointSizeF() == pytest.approx(2 * widget_font)
    assert item.getAxis("bottom").minimumHeight() > 60    # room for the bigger text


def test_soak_redraws_all_views(qtbot, make_snapshot):
    """Thousands of updates and repaints: the regression test for PySide6 6.12's
    none_dealloc abort, and a check that nothing grows while running."""
    views = [LossView(), GradientView(), ActivationView()]
    views[1].set_mode("both")
    for view in views:
        qtbot.addWidget(view)
        view.resize(640, 480)
        view.show()
    qtbot.waitExposed(views[-1])
    acts = ["tanh", "relu", "sigmoid", "softmax"]
    start = time.perf_counter()
    repaints = 0
    for step in range(1, 3001):
        snap = make_snapshot(step, 4, activations=acts, sample_size=128,
                             val_loss="auto" if step % 10 == 0 else None)
        for view in views:
            view.update_snapshot(snap)
        views[step % 3].repaint()
        repaints += 1
        if step % 150 == 0:
            for view in views:
                assert not view.grab().isNull()
                repaints += 1
    assert repaints >= 3000
    assert len(xy(views[0].curves["train_loss"])[0]) <= 2049
    assert len(xy(views[1].curves["delta"][3])[0]) <= 2049
    assert xy(views[0].curves["train_loss"])[0][-1] == pytest.approx(300.0)
    print(f"soak: {repaints} repaints in {time.perf_counter() - start:.1f} s")


def test_a_long_title_does_not_widen_the_plot_past_its_widget(qtbot):
    from nnviz.gui.views import plotstyle

    plot = plotstyle.make_plot("short", "x", "y")
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    plot.show()
    plotstyle.set_title(plot, "a very long title " * 12, 2.0)
    plot.resize(280, 200)
    qtbot.waitUntil(lambda: plot.getPlotItem().geometry().width() <= 280, timeout=15_000)
    assert plot.getPlotItem().titleLabel.minimumWidth() == 0


def test_loss_view_draws_the_learning_rate_only_when_it_changes(loss_view, make_snapshot):
    feed(loss_view, [make_snapshot(s) for s in range(1, 6)])
    assert loss_view.eta_plot.isHidden()                 # constant: no plot
    feed(loss_view, [replace(make_snapshot(s), learning_rate=0.1 * 0.5 ** s)
                     for s in range(6, 12)])
    assert not loss_view.eta_plot.isHidden()
    x, y = loss_view.eta_curve.getOriginalDataset()
    assert len(y) == 11 and y[-1] == pytest.approx(0.1 * 0.5 ** 11)


def test_banner_shortens_so_the_curves_keep_their_height(gradient_view, make_snapshot, qtbot):
    from nnviz.gui.views.gradient_view import MIN_PLOT_HEIGHT
    gradient_view.set_font_scale(1.5)               # projector: large text, a short dock
    gradient_view.resize(420, 560)
    gradient_view.show()
    qtbot.waitExposed(gradient_view)
    feed(gradient_view, [vanishing(s, make_snapshot) for s in range(1, 4)])
    banner, plot = gradient_view.banner, gradient_view.plots["weight"]
    qtbot.waitUntil(lambda: plot.height() >= MIN_PLOT_HEIGHT)
    assert "10,000x less gradient" in banner.text()             # the first sentence stays
    assert "saturating activation" not in banner.text()         # the rest is on demand
    assert "saturating activation" in banner.toolTip()
    gradient_view.resize(420, 1100)                             # room: the whole message
    qtbot.waitUntil(lambda: "saturating activation" in banner.text())
    assert plot.height() >= MIN_PLOT_HEIGHT


def test_both_side_by_side_fits_a_narrow_projector_dock(gradient_view, make_snapshot, qtbot):
    from PySide6.QtGui import QFontMetricsF
    from PySide6.QtWidgets import QBoxLayout
    from nnviz.gui.views import plotstyle
    from nnviz.gui.views.gradient_view import MIN_PLOT_HEIGHT
    gradient_view.set_font_scale(1.5)
    gradient_view.resize(420, 560)
    gradient_view.show()
    qtbot.waitExposed(gradient_view)
    feed(gradient_view, [make_snapshot(s, 4) for s in range(1, 4)])
    gradient_view.set_mode("both")
    weight, delta = gradient_view.plots["weight"], gradient_view.plots["delta"]
    qtbot.waitUntil(lambda: weight.isVisible() and delta.isVisible())
    # short titles, equal halves, neither plot squeezed to a sliver
    assert weight.getPlotItem().titleLabel.text.startswith("‖∂C/∂W‖") or \
        "‖∂C/∂W‖" in weight.getPlotItem().titleLabel.text
    assert "Weight gradient" not in weight.getPlotItem().titleLabel.text
    qtbot.waitUntil(lambda: abs(weight.width() - delta.width()) <= 2)
    # each title fits above its plot; the "norm" label gives its width to the curves
    title_font = QFontMetricsF(plotstyle.scaled_font(1.5, 1.1, bold=True))
    axis = weight.getPlotItem().getAxis("left")
    qtbot.waitUntil(lambda: axis.width() == axis.fixedWidth)       # laid out
    beside_axis = axis.width()
    for plot in (weight, delta):
        item = plot.getPlotItem()
        assert item.getAxis("left").labelText == ""
        room = plot.width() - item.getAxis("left").width()
        assert title_font.horizontalAdvance(item.titleLabel.text) <= room, item.titleLabel.text
    gradient_view.resize(420, 1000)                 # narrow but tall: one above the other
    qtbot.waitUntil(lambda: gradient_view.curves_row.direction()
                    == QBoxLayout.Direction.TopToBottom)
    qtbot.waitUntil(lambda: min(weight.height(), delta.height()) >= MIN_PLOT_HEIGHT)
    assert weight.getPlotItem().getAxis("left").labelText == "norm (log scale)"
    qtbot.waitUntil(lambda: axis.width() >= beside_axis + 15)      # the label's room
    assert delta.getPlotItem().titleLabel.text == "‖δ‖ = ‖∂C/∂z‖"     # the room for it
    gradient_view.resize(1200, 560)                 # wide: side by side again
    qtbot.waitUntil(lambda: gradient_view.curves_row.direction()
                    == QBoxLayout.Direction.LeftToRight)


def test_empty_plots_show_round_ranges_until_data_come(loss_view, gradient_view,
                                                      make_snapshot):
    """Before a run: epochs 0..10 and whole decades, not pyqtgraph's 0..1 ("0.2 0.4…")."""
    (x0, x1), _ = loss_view.loss_plot.getPlotItem().viewRange()
    assert x0 <= 0.0 and 9.5 <= x1 <= 11
    plot = gradient_view.plots["weight"].getPlotItem()
    (x0, x1), (y0, y1) = plot.viewRange()
    assert 9.5 <= x1 <= 11 and y0 <= -3.0 + 0.1 and -0.1 <= y1 <= 0.2     # 0.001 .. 1
    feed(gradient_view, [make_snapshot(s, 3) for s in range(1, N + 1)])   # data: their range
    assert gradient_view.x_ranges["weight"].range is not None
    (x0, x1), _ = plot.viewRange()
    assert x1 == pytest.approx(gradient_view.x_ranges["weight"].range[1], rel=0.1)


@pytest.mark.parametrize("height", [400, 130])
def test_log_axis_labels_every_decade_only_when_there_is_room(qtbot, height):
    """Six decades on a tall axis: a label each; on a short one (a projector's bar
    strip) every 2nd or 3rd, never two closer than a line of text."""
    from PySide6.QtGui import QFontMetrics
    from nnviz.gui.views.plotstyle import make_plot
    plot = make_plot("t", "x", "y")
    qtbot.addWidget(plot)
    plot.resize(300, height)
    item = plot.getPlotItem()
    item.setLogMode(y=True)
    item.setYRange(-6, 0, padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    axis = item.getAxis("left")
    qtbot.waitUntil(lambda: axis.range[0] <= -5.9 and axis.geometry().height() > 0)
    labels = axis.logTickStrings([-6, -5, -4, -3, -2, -1, 0], 1.0, 1.0)
    shown = [i for i, s in enumerate(labels) if s]
    per_decade = axis.geometry().height() / 6
    line = QFontMetrics(axis.style["tickFont"] or axis.font()).height()
    if per_decade >= 1.2 * line:
        assert len(shown) == 7, labels
    else:
        assert 2 <= len(shown) < 7 and labels[-1] == "1", labels
        gaps = [(b - a) * per_decade for a, b in zip(shown, shown[1:])]
        assert min(gaps) >= line, (labels, per_decade, line)
    assert height == 400 or len(shown) < 7                 # the short case is short


def _labels(axis) -> list[tuple[float, float, str]]:
    """(left px, right px, text) of every label the axis writes now."""
    from PySide6.QtGui import QFontMetrics
    lo, hi = axis.range
    length = axis.geometry().width()
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    out = []
    for spacing, values in axis.tickValues(lo, hi, length):
        for v, text in zip(values, axis.tickStrings(values, 1.0, spacing)):
            if text:
                x = (v - lo) / (hi - lo) * length
                w = metrics.horizontalAdvance(text)
                out.append((x - w / 2, x + w / 2, text))
    return sorted(out)


@pytest.mark.parametrize("width, span", [(230, 1.0), (300, 50.0), (900, 1.0), (300, 300.0)])
def test_bottom_tick_labels_never_touch(qtbot, width, span):
    from nnviz.gui.views.plotstyle import apply_font_scale, make_plot
    plot = make_plot("t", "x", "y")
    qtbot.addWidget(plot)
    plot.resize(width, 250)
    item = plot.getPlotItem()
    item.setXRange(0.0, span, padding=0.02)
    apply_font_scale(plot, 1.5)
    plot.show()
    qtbot.waitExposed(plot)
    axis = item.getAxis("bottom")
    qtbot.waitUntil(lambda: axis.geometry().width() > 0 and axis.range[1] >= span)
    labels = _labels(axis)
    assert len(labels) >= 2, labels                  # still says where the axis runs
    for (_, right, a), (left, _, b) in zip(labels, labels[1:]):
        assert right + 4 <= left, (a, b, labels)


def test_activation_view_fits_a_narrow_projector_dock(activation_view, make_snapshot, qtbot):
    """Six sigmoid layers and a softmax at large text in a 420 px dock: every plot and
    title inside the view, one legend under the plots that wraps."""
    from PySide6.QtGui import QFontMetricsF
    from nnviz.gui.views import plotstyle
    activation_view.set_font_scale(1.5)
    activation_view.resize(420, 560)
    activation_view.show()
    qtbot.waitExposed(activation_view)
    acts = ["sigmoid"] * 5 + ["softmax"]
    feed(activation_view, [make_snapshot(s, 6, activations=acts) for s in range(1, 6)])
    canvas = activation_view.hist_canvas
    qtbot.waitUntil(lambda: all(p.sceneBoundingRect().right() <= canvas.width() + 1
                                for p in activation_view.hist_plots.values()), timeout=10_000)
    title_font = QFontMetricsF(plotstyle.scaled_font(1.5, 1.1, bold=True))
    fraction = activation_view.fraction_plot
    for item, width in [*((p, p.geometry().width()) for p in activation_view.hist_plots.values()),
                        (fraction.getPlotItem(), fraction.width())]:
        qtbot.waitUntil(lambda: title_font.horizontalAdvance(item.titleLabel.text)
                        <= width - item.getAxis("left").width())
    legend = activation_view.legend
    assert legend.isVisible() and legend.width() <= activation_view.width()
    assert [name for name, *_ in legend.entries] == [f"dense {i}" for i in range(1, 7)]
    assert fraction.getPlotItem().legend is None
    assert all(p.legend is None for p in activation_view.hist_plots.values())


def test_banner_never_breaks_a_norm_over_two_lines(gradient_view, make_snapshot):
    """Qt breaks lines after "/": "(‖∂C/" then "∂z‖)" on a projector; the banner's
    norms carry a word joiner after the slash instead."""
    from nnviz.gui.views.gradient_view import _whole_formulas
    assert _whole_formulas("x ‖∂C/∂z‖ and ‖a b‖ / 2") == "x ‖∂C/\u2060∂z‖ and ‖a\u00a0b‖ / 2"
    feed(gradient_view, [vanishing(s, make_snapshot) for s in range(1, 4)])
    text = gradient_view.banner.text()
    assert "‖∂C/\u2060∂z‖" in text and "‖∂C/∂z‖" not in text.replace("Show ‖∂C/∂z‖", "")

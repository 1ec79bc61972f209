"""View data: decision boundary, curve, scatter, confusion, conv maps, diagram."""

from types import SimpleNamespace

import numpy as np
import pytest

from nnviz.core.datasets import load_dataset
from nnviz.core.errors import SpecError
from nnviz.core.network import Network
from nnviz.core.viewdata import (MAX_NODES, contour_segments, conv_data, network_data,
                                 output_data)


def dense_net(n_in, hidden, n_out, out_act, cost, seed=0):
    layers = [{"type": "dense", "units": h, "activation": "tanh"} for h in hidden]
    layers.append({"type": "dense", "units": n_out, "activation": out_act})
    return Network.from_spec({"input_shape": [n_in], "layers": layers, "cost": cost,
                              "seed": seed})


def split(X, y, n_train, task):
    return SimpleNamespace(X_train=X[:n_train], y_train=y[:n_train], X_val=X[n_train:],
                           y_val=y[n_train:], task=task)


@pytest.fixture(scope="module")
def blobs():
    """3 classes in 2-D, integer labels, 90 train / 30 validation points."""
    rng = np.random.default_rng(1)
    y = np.arange(120) % 3
    X = rng.normal(size=(120, 2)) * 0.4 + np.array([[0, 2], [2, -1], [-2, -1]])[y]
    return split(X, y, 90, "classification")


CNN_SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 6, "kernel_size": 3, "padding": "valid", "activation": "tanh"},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.2},
    {"type": "dense", "units": 3, "activation": "softmax"}], "cost": "cross_entropy"}


# ------------------------------------------------------------------ boundary


def test_boundary_softmax_grid_matches_the_network(blobs):
    net = dense_net(2, [5], 3, "softmax", "cross_entropy")
    data = output_data(net, blobs, resolution=20)
    assert data.kind == "boundary"
    assert data.probs.shape == (20, 20, 3)
    np.testing.assert_allclose(data.probs.sum(axis=-1), 1.0, atol=1e-9)
    xmin, xmax, ymin, ymax = data.extent
    everything = np.concatenate([blobs.X_train, blobs.X_val])
    assert xmin < everything[:, 0].min() and everything[:, 0].max() < xmax
    assert ymin < everything[:, 1].min() and everything[:, 1].max() < ymax
    # row i is y = ys[i] (bottom to top), column j is x = xs[j]
    corners = np.array([[xmin, ymin], [xmax, ymin], [xmin, ymax]])
    expected = net.forward(corners)
    np.testing.assert_allclose(data.probs[0, 0], expected[0])
    np.testing.assert_allclose(data.probs[0, -1], expected[1])
    np.testing.assert_allclose(data.probs[-1, 0], expected[2])


def test_boundary_points_labels_and_accuracy(blobs):
    net = dense_net(2, [5], 3, "softmax", "cross_entropy")
    data = output_data(net, blobs, resolution=16)
    assert data.n_classes == 3 and data.class_names == ("0", "1", "2")
    np.testing.assert_array_equal(data.train_points, blobs.X_train)
    np.testing.assert_array_equal(data.val_labels, blobs.y_val)
    predicted = net.forward(blobs.X_val).argmax(axis=1)
    assert data.accuracy == pytest.approx(np.mean(predicted == blobs.y_val))
    assert data.split == "validation"


def test_boundary_single_sigmoid_output_gives_p_of_class_one():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(float)[:, None]          # (N, 1) 0/1 targets
    net = dense_net(2, [], 1, "sigmoid", "bce")
    data = output_data(net, split(X, y, 40, None), resolution=12)   # task from the cost
    assert data.kind == "boundary" and data.probs.shape == (12, 12)
    assert data.n_classes == 2
    assert set(np.unique(data.train_labels)) == {0, 1}
    assert 0.0 <= data.probs.min() and data.probs.max() <= 1.0
    # the 0.5 contour of a logistic unit is the straight line w.x + b = 0
    # (up to the linear interpolation of the sigmoid between grid points)
    W, b = net.layers[0].params["W"][:, 0], net.layers[0].params["b"][0]
    ends = data.boundary_lines
    assert len(ends) > 0 and len(ends) % 2 == 0
    np.testing.assert_allclose((ends @ W + b) / np.linalg.norm(W), 0.0, atol=1e-3)


def test_boundary_with_a_real_dataset_and_no_validation_split():
    ds = load_dataset({"name": "xor", "n_samples": 4, "noise": 0.0})   # holdout False
    net = dense_net(2, [4], 2, "softmax", "cross_entropy")
    data = output_data(net, ds, resolution=10)
    assert data.kind == "boundary"
    assert len(data.val_points) == len(ds.X_val) == 4
    assert data.class_names == tuple(ds.class_names)

    empty = SimpleNamespace(X_train=ds.X_train, y_train=ds.y_train,
                            X_val=ds.X_train[:0], y_val=ds.y_train[:0])
    data = output_data(net, empty, resolution=10)
    assert data.split == "training" and len(data.val_points) == 0


def test_output_arrays_are_read_only_copies(blobs):
    net = dense_net(2, [5], 3, "softmax", "cross_entropy")
    data = output_data(net, blobs, resolution=10)
    before = data.probs.copy()
    net.layers[0].params["W"] += 1.0              # the worker keeps training
    np.testing.assert_array_equal(data.probs, before)
    for array in (data.probs, data.train_points, data.val_labels, data.boundary_lines):
        assert not array.flags.writeable


def test_bad_resolution_names_the_field(blobs):
    with pytest.raises(SpecError, match="resolution"):
        output_data(dense_net(2, [], 3, "softmax", "cross_entropy"), blobs, resolution=1)


# ------------------------------------------------------------------ contours


def test_contour_of_a_circle_lies_on_the_circle():
    xs = np.linspace(-1, 1, 41)
    X, Y = np.meshgrid(xs, xs)
    ends = contour_segments(np.hypot(X, Y), xs, xs, level=0.52)
    radius = np.hypot(ends[:, 0], ends[:, 1])
    np.testing.assert_allclose(radius, 0.52, atol=0.01)
    # a closed curve: every end point is shared by exactly two segments
    _, counts = np.unique(ends.round(9), axis=0, return_counts=True)
    assert set(counts) == {2}


def test_contour_of_a_saddle_follows_both_axes():
    xs = np.linspace(-1, 1, 10)            # no grid point on the axes
    X, Y = np.meshgrid(xs, xs)
    ends = contour_segments(X * Y, xs, xs)
    assert len(ends) > 0
    np.testing.assert_allclose(np.minimum(abs(ends[:, 0]), abs(ends[:, 1])), 0, atol=1e-12)
    assert contour_segments(X * 0 + 1.0, xs, xs).shape == (0, 2)


# ------------------------------------------------------------------ confusion


def test_confusion_counts_sum_to_the_validation_size():
    ds = load_dataset({"name": "iris", "val_fraction": 0.2, "seed": 0})
    net = dense_net(4, [6], 3, "softmax", "cross_entropy")
    data = output_data(net, ds)
    assert data.kind == "confusion"
    assert data.matrix.shape == (3, 3)
    assert data.matrix.sum() == len(ds.X_val)
    np.testing.assert_array_equal(data.matrix.sum(axis=1), np.bincount(ds.y_val, minlength=3))
    predicted = net.forward(ds.X_val).argmax(axis=1)
    np.testing.assert_array_equal(data.matrix.sum(axis=0), np.bincount(predicted, minlength=3))
    assert data.accuracy == pytest.approx(np.trace(data.matrix) / len(ds.X_val))
    assert data.class_names == tuple(ds.class_names)


def test_confusion_for_a_binary_sigmoid_network_on_many_inputs():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 5))
    y = (X.sum(axis=1) > 0).astype(int)
    net = dense_net(5, [], 1, "sigmoid", "bce")
    data = output_data(net, split(X, y, 30, "classification"))
    assert data.kind == "confusion" and data.matrix.shape == (2, 2)
    predicted = (net.forward(X[30:])[:, 0] > 0.5).astype(int)
    assert data.matrix[1, 1] == np.sum((predicted == 1) & (y[30:] == 1))
    assert data.matrix.sum() == 20


def test_confusion_for_an_image_network():
    rng = np.random.default_rng(4)
    X = rng.random((30, 1, 8, 8))
    y = rng.integers(0, 3, 30)
    data = output_data(Network.from_spec(CNN_SPEC), split(X, y, 20, "classification"))
    assert data.kind == "confusion" and data.matrix.sum() == 10


# ------------------------------------------------------------------ regression


def test_curve_for_one_input_regression():
    x = np.linspace(-2, 2, 50)[:, None]
    y = np.sin(x)
    net = dense_net(1, [4], 1, "identity", "mse")
    data = output_data(net, split(x, y, 40, "regression"), resolution=80)
    assert data.kind == "curve"
    assert data.curve_x.min() < -2 and data.curve_x.max() > 2
    np.testing.assert_allclose(data.curve_y, net.forward(data.curve_x[:, None])[:, 0])
    np.testing.assert_array_equal(data.val_points, np.column_stack([x[40:, 0], y[40:, 0]]))
    assert len(data.train_points) == 40
    pred = net.forward(x[40:])
    r2 = 1 - np.sum((y[40:] - pred) ** 2) / np.sum((y[40:] - y[40:].mean()) ** 2)
    assert data.r2 == pytest.approx(r2)


def test_scatter_for_regression_on_two_inputs():
    ds = load_dataset({"name": "franke", "n_samples": 60})
    net = dense_net(2, [4], 1, "identity", "mse")
    data = output_data(net, ds)
    assert data.kind == "scatter"
    np.testing.assert_allclose(data.y_true, ds.y_val.ravel())
    np.testing.assert_allclose(data.y_pred, net.forward(ds.X_val).ravel())


# ------------------------------------------------------------------ conv data


def test_conv_data_has_one_feature_map_per_filter():
    net = Network.from_spec(CNN_SPEC)
    image = np.random.default_rng(5).random((1, 8, 8))
    data = conv_data(net, image)
    assert [layer.index for layer in data.layers] == [0, 2]
    first, second = data.layers
    assert first.kernels.shape == (4, 1, 3, 3) and first.maps.shape == (4, 8, 8)
    assert second.kernels.shape == (6, 4, 3, 3) and second.maps.shape == (6, 2, 2)
    acts = net.activations(image[None])
    np.testing.assert_allclose(first.maps, acts[0][0])
    np.testing.assert_allclose(second.maps, acts[2][0])
    assert first.maps.min() >= 0                       # the layer's (ReLU) output
    assert "relu" in first.name and "tanh" in second.name
    net.layers[0].params["W"] += 1.0
    assert not np.allclose(first.kernels, net.layers[0].params["W"])   # a copy


def test_conv_data_reshapes_flat_images_and_rejects_wrong_sizes():
    net = Network.from_spec(CNN_SPEC)
    image = np.random.default_rng(6).random(64)
    assert conv_data(net, image).image.shape == (1, 8, 8)
    with pytest.raises(SpecError, match="image"):
        conv_data(net, np.zeros((1, 9, 9)))


def test_conv_data_of_a_dense_network_is_empty():
    net = dense_net(4, [3], 2, "softmax", "cross_entropy")
    assert conv_data(net, np.zeros(4)).layers == ()


# ------------------------------------------------------------------ network data


def test_network_data_small_dense_layers_carry_their_weights():
    net = dense_net(2, [8, MAX_NODES + 1], 3, "softmax", "cross_entropy")
    data = network_data(net, input_names=["a", "b"])
    assert data.input_shape == (2,) and data.output_shape == (3,)
    assert [l.units for l in data.layers] == [8, MAX_NODES + 1, 3]
    np.testing.assert_array_equal(data.layers[0].weights, net.layers[0].params["W"])
    assert data.layers[1].weights is None            # 33 units: a block
    assert data.layers[2].weights is None            # 33 inputs: no edges
    assert data.param_count == net.param_count
    assert data.input_names == ("a", "b") and data.cost == "cross_entropy"
    assert data.layers[0].activation == "tanh"


def test_network_data_structure_ignores_weight_changes():
    net = dense_net(2, [4], 1, "sigmoid", "bce")
    before = network_data(net)
    net.layers[0].params["W"] *= -3
    after = network_data(net)
    assert before.structure() == after.structure()
    assert not np.allclose(before.layers[0].weights, after.layers[0].weights)


def test_network_data_of_a_cnn():
    data = network_data(Network.from_spec(CNN_SPEC))
    assert [l.kind for l in data.layers] == ["conv2d", "maxpool2d", "conv2d", "flatten",
                                             "dropout", "dense"]
    assert [l.units for l in data.layers] == [None, None, None, 24, 24, 3]
    assert data.layers[0].label == "conv2d 4 × 3×3"
    assert data.layers[1].label == "max pool 2×2"
    assert data.layers[4].label == "dropout 0.2"
    assert data.layers[0].output_shape == (4, 8, 8)
    assert data.layers[5].weights is not None        # 24 inputs, 3 units: small

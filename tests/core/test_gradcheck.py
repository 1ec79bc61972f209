"""Back propagation against autograd and finite differences, and the reference itself.

The reference (nnviz.core.gradcheck) is first checked against hand-written numpy
(naive convolution loops, pooling by hand, closed-form gradients), then the
network's gradients are checked against it and against central differences.

Max pooling: autograd splits the gradient of tied maxima equally, the network
gives it to the first maximum, so every input here is continuous random data
(ties have probability 0; after a ReLU tied zeros get no gradient either way).
"""

from __future__ import annotations

import autograd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnviz.core.errors import SpecError
from nnviz.core.gradcheck import (
    GradCheckRow, activate, batchnorm, check_gradients, error_floors, conv2d, finite_difference_gradients, format_table,
    numeric_gradients, pool2d, reference_cost, reference_forward, reference_gradients,
    relative_error, same_padding)
from nnviz.core.network import Network

TOL = 1e-6
CHECKED = 30          # finite-difference elements per parameter: keeps the file fast
ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax"]


# ---------------------------------------------------------------- helpers

def dense(units, activation="identity", **extra):
    return {"type": "dense", "units": units, "activation": activation, **extra}


def conv(filters, kernel_size, stride=1, padding="valid", activation="identity"):
    return {"type": "conv2d", "filters": filters, "kernel_size": kernel_size,
            "stride": stride, "padding": padding, "activation": activation}


def model(input_shape, layers, cost="mse"):
    return {"input_shape": list(input_shape), "layers": layers, "cost": cost,
            "init": "xavier", "seed": 0}


def make_params(spec, rng, batch=6):
    """Random parameters for ``spec`` and a dropout mask (0 or 1/(1-rate)) per dropout layer.

    Shapes are found by running each layer of the reference in turn.
    """
    a = rng.normal(size=(batch, *spec["input_shape"]))
    params, masks = [], []
    for layer in spec["layers"]:
        kind, n_in = layer["type"], a.shape[1]
        p, mask = {}, None
        if kind == "dense":
            p = {"W": rng.normal(size=(n_in, layer["units"])) / np.sqrt(n_in),
                 "b": rng.normal(size=layer["units"]) * 0.1}
        elif kind == "conv2d":
            k = layer["kernel_size"]
            p = {"W": rng.normal(size=(layer["filters"], n_in, k, k)) / np.sqrt(n_in * k * k),
                 "b": rng.normal(size=layer["filters"]) * 0.1}
        elif kind == "batchnorm":
            p = {"gamma": 1 + 0.3 * rng.normal(size=n_in), "beta": 0.3 * rng.normal(size=n_in)}
        elif kind == "dropout":
            mask = (rng.random(a.shape) >= layer["rate"]) / (1 - layer["rate"])
        params.append(p)
        masks.append(mask)
        a = reference_forward({"layers": [layer]}, [p], a, [mask])
    return params, masks


def make_data(spec, rng, n=6):
    """Continuous random inputs and targets that suit the cost."""
    X = rng.normal(size=(n, *spec["input_shape"]))
    k = [layer for layer in spec["layers"] if layer["type"] == "dense"][-1]["units"]
    cost = spec["cost"]
    if cost == "cross_entropy":
        Y = np.eye(k)[rng.integers(0, k, size=n)]
    elif cost == "bce":
        Y = rng.integers(0, 2, size=(n, k)).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    return X, Y


def layer_masks(net):
    return [layer.mask if layer.kind == "dropout" else None for layer in net.layers]


def assert_reference_matches_its_finite_differences(spec, params, X, Y, l2=0.0, masks=None):
    cost = reference_cost(spec, params, X, Y, l2, masks)
    exact = autograd.grad(lambda ps: reference_cost(spec, ps, X, Y, l2, masks))(params)
    numeric, checked = numeric_gradients(lambda: reference_cost(spec, params, X, Y, l2, masks),
                                         params, max_elements=CHECKED)
    floor = error_floors(cost)[1]
    for i, p in enumerate(params):
        for name in p:
            idx = checked[i][name]
            err = relative_error(exact[i][name].reshape(-1)[idx], numeric[i][name].reshape(-1)[idx], floor)
            assert err <= TOL, (i, name, err)


def jitter(net, rng):
    """Move biases and batch-norm parameters off their initial 0 and 1.

    Zero biases behind a dead ReLU layer put z exactly on the kink, where central
    differences see half a slope: a property of the test point, not a bug.
    """
    for layer in net.layers:
        for name in ("b", "gamma", "beta"):
            if name in layer.params:
                layer.params[name] += 0.1 * rng.normal(size=layer.params[name].shape)
    return net


def assert_network_gradients_match(spec, X, Y, l2=0.0, seed=0):
    net = jitter(Network.from_spec(spec), np.random.default_rng(seed))
    rows = check_gradients(net, X, Y, l2, max_elements=CHECKED)
    assert len(rows) == sum(len(layer.params) for layer in net.layers)
    bad = [r for r in rows if not (r.error_autograd <= TOL and r.error_finite_difference <= TOL)]
    assert not bad, "\n" + format_table(rows)
    return net


# ------------------------------------------ the reference vs hand-written numpy

def naive_conv(x, W, b, stride, pads):
    """Cross-correlation by the definition, with explicitly given (before, after) pads."""
    x = np.pad(x, [(0, 0), (0, 0), *pads])
    out_c, _, k, _ = W.shape
    oh, ow = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], out_c, oh, ow))
    for o in range(out_c):
        for i in range(oh):
            for j in range(ow):
                window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
                out[:, o, i, j] = np.sum(window * W[o], axis=(1, 2, 3)) + b[o]
    return out


# (kernel, stride, padding) -> pads of a 7x5 image, worked out by hand from
# TensorFlow's rule (extra zero row/column at the bottom/right).
CONV_CASES = [
    (3, 1, "valid", [(0, 0), (0, 0)]),
    (3, 2, "valid", [(0, 0), (0, 0)]),
    (3, 1, 1, [(1, 1), (1, 1)]),
    (2, 1, "same", [(0, 1), (0, 1)]),      # out 7x5, pad 1 each way: all bottom/right
    (4, 1, "same", [(1, 2), (1, 2)]),      # pad 3: 1 top, 2 bottom
    (2, 2, "same", [(0, 1), (0, 1)]),      # out 4x3
    (3, 2, "same", [(1, 1), (1, 1)]),      # out 4x3
    (4, 2, "same", [(1, 2), (1, 2)]),      # out 4x3
]


@pytest.mark.parametrize("kernel, stride, padding, pads", CONV_CASES)
def test_conv2d_is_cross_correlation_with_tensorflow_padding(kernel, stride, padding, pads):
    rng = np.random.default_rng(kernel * 10 + stride)
    x, W, b = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(4, 3, kernel, kernel)), rng.normal(size=4)
    out = conv2d(x, W, b, stride, padding)
    np.testing.assert_allclose(out, naive_conv(x, W, b, stride, pads), rtol=1e-12, atol=1e-12)
    if padding == "same":
        assert out.shape[2:] == (-(-7 // stride), -(-5 // stride))


def test_same_padding_puts_the_extra_zero_after():
    assert same_padding(7, 2, 1) == (0, 1)
    assert same_padding(7, 4, 1) == (1, 2)
    assert same_padding(8, 2, 2) == (0, 0)
    assert same_padding(5, 1, 3) == (0, 0)


def test_pooling_takes_complete_windows_only():
    x = np.array([[1., 9, 2, 3, 0],
                  [4, 5, 6, 8, 7],
                  [0, 1, 2, 3, 4],
                  [5, 6, 7, 8, 9],
                  [9, 9, 9, 9, 9]]).reshape(1, 1, 5, 5)
    np.testing.assert_array_equal(pool2d(x, 2)[0, 0], [[9, 8], [6, 8]])
    np.testing.assert_allclose(pool2d(x, 2, mode="avg")[0, 0], [[4.75, 4.75], [3, 5]])
    np.testing.assert_array_equal(pool2d(x, 3, 2)[0, 0], [[9, 8], [9, 9]])
    assert pool2d(x, 2, 1).shape == (1, 1, 4, 4)


def test_maxpool_gradient_goes_to_the_maximum_and_ties_split():
    rng = np.random.default_rng(1)
    x, g = rng.normal(size=(2, 3, 6, 4)), rng.normal(size=(2, 3, 3, 2))
    grad = autograd.grad(lambda x: np.sum(pool2d(x, 2) * g))(x)
    windows = x.reshape(2, 3, 3, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 2, 4)
    expected = np.zeros((2, 3, 3, 2, 4))
    np.put_along_axis(expected, windows.argmax(-1)[..., None], g[..., None], axis=-1)
    expected = expected.reshape(2, 3, 3, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    np.testing.assert_allclose(grad, expected)
    # the documented difference from the network: autograd shares a tied maximum
    tied = autograd.grad(lambda x: np.sum(pool2d(x, 2)))(np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(tied, np.full((1, 1, 2, 2), 0.25))


@pytest.mark.parametrize("shape", [(8, 5), (6, 3, 4, 5)])
def test_batchnorm_normalises_per_feature_or_channel(shape):
    rng = np.random.default_rng(2)
    x = 3 + 2 * rng.normal(size=shape)
    c = shape[1]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    out = batchnorm(x, gamma, beta, eps=1e-5)
    axes = tuple(i for i in range(len(shape)) if i != 1)
    bshape = (1, c) + (1,) * (len(shape) - 2)
    var = x.var(axis=axes)                                  # biased
    np.testing.assert_allclose(out.mean(axis=axes), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=axes), np.abs(gamma) * np.sqrt(var / (var + 1e-5)))
    expected = (gamma.reshape(bshape) * (x - x.mean(axis=axes, keepdims=True))
                / np.sqrt(var.reshape(bshape) + 1e-5) + beta.reshape(bshape))
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_activations_follow_their_definitions():
    z = np.array([[-2.0, -0.5, 0.0, 0.7, 3.0]])
    expected = {
        "identity": z, "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z),
        "relu": np.maximum(z, 0), "leaky_relu": np.where(z > 0, z, 0.01 * z),
        "elu": np.where(z > 0, z, np.exp(z) - 1), "softmax": np.exp(z) / np.exp(z).sum()}
    for name, value in expected.items():
        np.testing.assert_allclose(activate(z, name), value, rtol=1e-12, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(activate(z, "leaky_relu", 0.2), np.where(z > 0, z, 0.2 * z))
    np.testing.assert_allclose(activate(z, "elu", 0.5), np.where(z > 0, z, 0.5 * (np.exp(z) - 1)))
    with pytest.raises(SpecError, match="activation"):
        activate(z, "swish")


def single_activation(act, cost):
    return model([3], [{"type": "activation", "activation": act}], cost)


def test_costs_by_hand():
    a, y = np.array([[1.0, 2.0, -1.0], [0.0, 0.5, 0.0]]), np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    assert reference_cost(single_activation("identity", "mse"), [{}], a, y) == pytest.approx(
        (1 + 4 + 1 + 1 + 0.25 + 1) / 2, rel=1e-14)
    s = 1 / (1 + np.exp(-a))
    bce = -np.sum(y * np.log(s) + (1 - y) * np.log(1 - s)) / 2
    assert reference_cost(single_activation("sigmoid", "bce"), [{}], a, y) == pytest.approx(bce, rel=1e-12)
    assert reference_cost(single_activation("sigmoid", "logreg"), [{}], a, y) == pytest.approx(bce, rel=1e-12)
    onehot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    ce = -np.sum(onehot * np.log(p)) / 2
    assert reference_cost(single_activation("softmax", "cross_entropy"), [{}], a, onehot) == pytest.approx(
        ce, rel=1e-12)
    # cross_entropy after a non-softmax output takes the log of the activations
    assert reference_cost(single_activation("identity", "cross_entropy"), [{}], p, onehot) == pytest.approx(
        ce, rel=1e-12)


def test_fused_costs_stay_finite_on_saturated_logits():
    z = np.array([[800.0, -800.0, 0.0]])
    for act, cost, y in [("sigmoid", "bce", [[0.0, 1.0, 1.0]]),
                         ("softmax", "cross_entropy", [[0.0, 1.0, 0.0]])]:
        spec = single_activation(act, cost)
        cost_value = reference_cost(spec, [{}], z, np.array(y))
        assert cost_value == pytest.approx(1600.0 + (np.log(2) if cost == "bce" else 0.0), rel=1e-14)


@pytest.mark.parametrize("act, cost, dz", [
    ("identity", "mse", lambda a, y, n: 2 * (a - y) / n),
    ("softmax", "cross_entropy", lambda a, y, n: (a - y) / n),
    ("sigmoid", "bce", lambda a, y, n: (a - y) / n)])
def test_closed_form_output_layer_gradients_with_l2(act, cost, dz):
    rng = np.random.default_rng(3)
    spec = model([4], [dense(3, act)], cost)
    X, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    Y = np.eye(3)[[0, 2, 1, 1, 0]] if cost != "mse" else rng.normal(size=(5, 3))
    a = activate(X @ W + b, act)
    d = dz(a, Y, 5)
    grads = autograd.grad(lambda ps: reference_cost(spec, ps, X, Y, l2=0.3))([{"W": W, "b": b}])[0]
    np.testing.assert_allclose(grads["W"], X.T @ d + 0.3 * W, rtol=1e-12)
    np.testing.assert_allclose(grads["b"], d.sum(axis=0), rtol=1e-12)     # no L2 on biases


def test_l2_counts_dense_and_conv_weights_only():
    rng = np.random.default_rng(4)
    spec = model([2, 4, 4], [conv(2, 3), {"type": "flatten"}, dense(2)])
    params, _ = make_params(spec, rng)
    X, Y = rng.normal(size=(3, 2, 4, 4)), rng.normal(size=(3, 2))
    penalty = reference_cost(spec, params, X, Y, l2=0.4) - reference_cost(spec, params, X, Y)
    expected = 0.2 * (np.sum(params[0]["W"] ** 2) + np.sum(params[2]["W"] ** 2))
    assert penalty == pytest.approx(expected, rel=1e-12)


def test_dropout_multiplies_by_the_given_mask_only():
    rng = np.random.default_rng(5)
    spec = model([4], [dense(6, "tanh"), {"type": "dropout", "rate": 0.5}, dense(2)])
    params, _ = make_params(spec, rng)
    X, Y = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = (rng.random((5, 6)) >= 0.5) * 2.0
    mask[:, 0] = 0.0                                          # unit 0 dropped for every sample
    h = np.tanh(X @ params[0]["W"] + params[0]["b"])
    out = (h * mask) @ params[2]["W"] + params[2]["b"]
    masks = [None, mask, None]
    assert reference_cost(spec, params, X, Y, masks=masks) == pytest.approx(np.sum((out - Y) ** 2) / 5)
    identity = h @ params[2]["W"] + params[2]["b"]
    np.testing.assert_allclose(reference_forward(spec, params, X), identity)
    grads = autograd.grad(lambda ps: reference_cost(spec, ps, X, Y, masks=masks))(params)
    np.testing.assert_array_equal(grads[0]["W"][:, 0], 0.0)
    assert np.all(grads[0]["W"][:, 1:].any(axis=0) == mask[:, 1:].any(axis=0))


def test_unknown_names_raise_spec_errors():
    with pytest.raises(SpecError, match="cost"):
        reference_cost(single_activation("identity", "hinge"), [{}], np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(SpecError, match="padding"):
        conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.ones(1), padding="full")


# ------------------------- the network's back propagation vs both references

HIDDEN = [model([4], [dense(5, act), dense(3)]) for act in ACTIVATIONS]
OUTPUT = [model([4], [dense(5, "tanh"), dense(3, act)]) for act in ACTIVATIONS]
CASES = {
    **{f"hidden_{s['layers'][0]['activation']}_mse": s for s in HIDDEN},
    **{f"output_{s['layers'][1]['activation']}_mse": s for s in OUTPUT},
    "softmax_cross_entropy": model([4], [dense(5, "elu"), dense(3, "softmax")], "cross_entropy"),
    "sigmoid_bce": model([4], [dense(5, "leaky_relu"), dense(2, "sigmoid")], "bce"),
    "alphas": model([4], [dense(5, "leaky_relu", alpha=0.2), dense(4, "elu", alpha=0.5), dense(2)]),
    "standalone_activations": model([4], [
        dense(5), {"type": "activation", "activation": "tanh"}, dense(3),
        {"type": "activation", "activation": "softmax"}], "cross_entropy"),
    "batchnorm_features": model([4], [
        dense(6), {"type": "batchnorm"}, {"type": "activation", "activation": "relu"},
        dense(5, "sigmoid"), {"type": "batchnorm"}, dense(3, "softmax")], "cross_entropy"),
    "dropout_features": model([4], [dense(8, "relu"), {"type": "dropout", "rate": 0.5}, dense(3)]),
    "conv_valid_3ch": model([3, 7, 5], [
        conv(4, 3, activation="tanh"), {"type": "flatten"}, dense(3, "softmax")], "cross_entropy"),
    "conv_stride2": model([3, 7, 5], [
        conv(3, 3, stride=2, activation="elu"), {"type": "flatten"}, dense(2)]),
    "conv_int_padding": model([2, 5, 4], [
        conv(2, 3, padding=1, activation="leaky_relu"), {"type": "flatten"}, dense(2)]),
    "conv_same_k2": model([3, 7, 5], [
        conv(2, 2, padding="same", activation="sigmoid"), {"type": "flatten"}, dense(2)]),
    "conv_same_k4": model([3, 7, 5], [
        conv(2, 4, padding="same", activation="tanh"), {"type": "flatten"}, dense(2)]),
    "conv_same_k2_stride2": model([3, 7, 5], [
        conv(3, 2, stride=2, padding="same", activation="tanh"), {"type": "flatten"}, dense(2)]),
    "conv_same_k3_stride2": model([1, 7, 5], [
        conv(2, 3, stride=2, padding="same", activation="relu"), {"type": "flatten"}, dense(2)]),
    "maxpool": model([3, 7, 5], [
        conv(3, 2, padding="same", activation="relu"), {"type": "maxpool2d", "size": 2},
        {"type": "flatten"}, dense(3, "softmax")], "cross_entropy"),
    "maxpool_overlapping": model([2, 7, 5], [
        conv(2, 3, activation="tanh"), {"type": "maxpool2d", "size": 2, "stride": 1},
        {"type": "flatten"}, dense(2)]),
    "avgpool": model([3, 7, 5], [
        conv(2, 3, padding="same", activation="elu"), {"type": "avgpool2d", "size": 2},
        {"type": "flatten"}, dense(2, "sigmoid")], "bce"),
    "avgpool_stride1": model([2, 5, 5], [
        {"type": "avgpool2d", "size": 3, "stride": 1}, conv(2, 2, activation="tanh"),
        {"type": "flatten"}, dense(2)]),
    "batchnorm_channels": model([3, 7, 5], [
        conv(4, 3, padding="same"), {"type": "batchnorm"}, {"type": "activation", "activation": "relu"},
        {"type": "maxpool2d", "size": 2}, {"type": "flatten"}, dense(3, "softmax")], "cross_entropy"),
    "dropout_channels": model([2, 6, 5], [
        conv(3, 3, activation="tanh"), {"type": "dropout", "rate": 0.3}, {"type": "flatten"},
        dense(2, "sigmoid")], "bce"),
    "deep_cnn": model([1, 8, 7], [
        conv(3, 3, padding="same", activation="relu"), {"type": "batchnorm"},
        conv(4, 2, stride=2, padding="same", activation="leaky_relu"), {"type": "avgpool2d", "size": 2},
        {"type": "flatten"}, dense(6, "tanh"), {"type": "dropout", "rate": 0.25},
        dense(4, "softmax")], "cross_entropy"),
}
L2 = {"alphas": 0.1, "conv_stride2": 0.05, "deep_cnn": 0.01, "batchnorm_features": 0.2}


@pytest.mark.parametrize("name", CASES)
def test_reference_matches_its_own_finite_differences(name):
    spec, rng = CASES[name], np.random.default_rng(len(name))
    params, masks = make_params(spec, rng, batch=6)
    X, Y = make_data(spec, rng)
    assert_reference_matches_its_finite_differences(spec, params, X, Y, L2.get(name, 0.0), masks)


@pytest.mark.parametrize("name", CASES)
def test_network_gradients_match_autograd_and_finite_differences(name):
    spec, rng = CASES[name], np.random.default_rng(100 + len(name))
    X, Y = make_data(spec, rng)
    assert_network_gradients_match(spec, X, Y, L2.get(name, 0.0))


@pytest.mark.parametrize("name", CASES)
def test_network_cost_equals_reference_cost(name):
    """Same forward conventions: the cost of one training pass agrees to rounding."""
    spec, rng = CASES[name], np.random.default_rng(200 + len(name))
    X, Y = make_data(spec, rng)
    net, l2 = Network.from_spec(spec), L2.get(name, 0.0)
    cost = net.compute_gradients(X, Y, l2)
    masks = layer_masks(net)
    params = [layer.params for layer in net.layers]
    assert cost == pytest.approx(reference_cost(net.to_spec(), params, X, Y, l2, masks), rel=1e-12)


def test_dropout_gradients_use_the_mask_of_the_pass():
    rng = np.random.default_rng(6)
    spec = CASES["dropout_features"]
    X, Y = make_data(spec, rng)
    net = Network.from_spec(spec)
    net.compute_gradients(X, Y)
    mask = net.layers[1].mask.copy()
    dropped = ~mask.any(axis=0)                     # units dropped for the whole batch
    ref = reference_gradients(net, X, Y)
    np.testing.assert_array_equal(ref[0]["W"][:, dropped], 0.0)
    np.testing.assert_allclose(net.layers[0].grads["W"], ref[0]["W"], rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(net.layers[1].mask, mask)


# ---------------------------------------------------------- randomised architectures

@st.composite
def dense_networks(draw):
    n_in = draw(st.integers(1, 4))
    layers = []
    for _ in range(draw(st.integers(0, 2))):
        act = draw(st.sampled_from(ACTIVATIONS))
        layers.append(dense(draw(st.integers(2 if act == "softmax" else 1, 5)), act))
    act, cost = draw(st.sampled_from([("softmax", "cross_entropy"), ("sigmoid", "bce"),
                                      ("identity", "mse"), ("tanh", "mse")]))
    layers.append(dense(draw(st.integers(2, 3)), act))
    return model([n_in], layers, cost), draw(st.sampled_from([0.0, 0.1])), draw(st.integers(0, 99))


@st.composite
def conv_networks(draw):
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(3, 7)), draw(st.integers(3, 7))
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same", 1]))
    layers = [conv(draw(st.integers(1, 3)), k, s, padding, draw(st.sampled_from(ACTIVATIONS[:-1])))]
    pad = {"valid": 0, "same": None, 1: 2}[padding]
    oh, ow = ((-(-h // s), -(-w // s)) if pad is None else ((h + pad - k) // s + 1, (w + pad - k) // s + 1))
    if draw(st.booleans()):
        layers.append({"type": "batchnorm"})
    if min(oh, ow) >= 2 and draw(st.booleans()):
        layers.append({"type": draw(st.sampled_from(["maxpool2d", "avgpool2d"])), "size": 2})
    layers.append({"type": "flatten"})
    if draw(st.booleans()):
        layers.append({"type": "dropout", "rate": 0.5})
    layers.append(dense(3, "softmax"))
    return model([c, h, w], layers, "cross_entropy"), draw(st.sampled_from([0.0, 0.1])), draw(st.integers(0, 99))


@settings(max_examples=8, deadline=None)
@given(dense_networks())
def test_random_dense_networks(case):
    spec, l2, seed = case
    X, Y = make_data(spec, np.random.default_rng(seed), n=4)
    assert_network_gradients_match(spec, X, Y, l2)


@settings(max_examples=8, deadline=None)
@given(conv_networks())
def test_random_conv_networks(case):
    spec, l2, seed = case
    X, Y = make_data(spec, np.random.default_rng(seed), n=3)
    assert_network_gradients_match(spec, X, Y, l2)


# ------------------------------------------------------------- the checker itself

def test_checker_reports_a_wrong_gradient():
    rng = np.random.default_rng(7)
    spec = CASES["maxpool"]
    X, Y = make_data(spec, rng)
    net = Network.from_spec(spec)
    honest = net.compute_gradients

    def slightly_wrong(X, Y, l2=0.0):
        cost = honest(X, Y, l2)
        net.layers[0].grads["W"] *= 1.001           # a 0.1 % bug in one parameter
        return cost

    net.compute_gradients = slightly_wrong
    rows = check_gradients(net, X, Y, max_elements=None)
    errors = {(r.index, r.param): (r.error_autograd, r.error_finite_difference) for r in rows}
    assert all(e > 1e-4 for e in errors.pop((0, "W")))
    assert all(e <= TOL for pair in errors.values() for e in pair)
    table = format_table(rows)
    assert table.count("FAIL") == 1 and "conv2d 0 (relu)" in table
    assert "3 of 4 parameters within 1e-06" in table


def test_finite_differences_restore_the_network():
    rng = np.random.default_rng(8)
    spec = CASES["batchnorm_channels"]
    X, Y = make_data(spec, rng)
    net = Network.from_spec(spec)
    net.compute_gradients(X, Y)
    before = [({k: v.copy() for k, v in layer.params.items()}, {k: v.copy() for k, v in layer.grads.items()})
              for layer in net.layers]
    running = net.layers[1].running_mean.copy()
    finite_difference_gradients(net, X, Y, max_elements=5, source="network")
    for layer, (params, grads) in zip(net.layers, before):
        for k in params:
            np.testing.assert_array_equal(layer.params[k], params[k])
            np.testing.assert_array_equal(layer.grads[k], grads[k])
    np.testing.assert_array_equal(net.layers[1].running_mean, running)


def test_finite_differences_sample_large_parameters_reproducibly():
    spec = model([30], [dense(10, "tanh"), dense(2)])
    rng = np.random.default_rng(9)
    X, Y = make_data(spec, rng, n=3)
    net = Network.from_spec(spec)
    grads, checked = finite_difference_gradients(net, X, Y, max_elements=12, seed=3)
    idx = checked[0]["W"]
    assert len(idx) == len(np.unique(idx)) == 12 and idx.max() < 300
    assert np.isnan(grads[0]["W"]).sum() == 300 - 12
    np.testing.assert_array_equal(checked[0]["b"], np.arange(10))   # small: every element
    _, again = finite_difference_gradients(net, X, Y, max_elements=12, seed=3)
    np.testing.assert_array_equal(again[0]["W"], idx)


def test_gradients_that_vanish_analytically_count_as_agreeing():
    """A bias followed by batch norm has zero gradient: rounding noise on both sides."""
    rng = np.random.default_rng(10)
    spec = model([4], [dense(6), {"type": "batchnorm"}, dense(2, "sigmoid")], "bce")
    X, Y = make_data(spec, rng)
    rows = check_gradients(Network.from_spec(spec), X, Y)
    bias = next(r for r in rows if r.index == 0 and r.param == "b")
    assert bias.error_autograd <= TOL and bias.error_finite_difference <= TOL


def test_relative_error_and_table_format():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2 ** 0.5 / 2)
    assert relative_error([1e-12], [0.0], floor=1e-6) == pytest.approx(1e-6)
    rows = [GradCheckRow(0, "dense 0 (tanh)", "W", 1e-9, 2e-8),
            GradCheckRow(0, "dense 0 (tanh)", "b", float("nan"), 0.0)]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["#", "layer", "param", "vs", "autograd", "vs", "finite", "diff", "result"]
    assert lines[2].split()[-3:] == ["1.00e-09", "2.00e-08", "ok"]
    assert lines[3].endswith("FAIL")
    assert lines[-1] == "1 of 2 parameters within 1e-06"

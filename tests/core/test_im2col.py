"""The two conv2d lowerings (im2col.py) compute the same convolution and its gradients."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core import Network, im2col
from nnviz.core.gradcheck import check_gradients, passes, reference_forward

GEOMETRIES = [  # (channels, height, width, kernel, padding)
    (2, 14, 14, 3, "same"), (3, 13, 16, 3, "valid"), (1, 12, 15, 5, 2), (2, 16, 12, 4, "same"),
    (2, 12, 12, 1, 0), (1, 20, 20, 3, 1)]


def conv_net(c, h, w, k, padding, dtype="float64"):
    return Network.from_spec({
        "input_shape": [c, h, w], "cost": "mse", "init": "xavier", "seed": 1, "dtype": dtype,
        "layers": [{"type": "conv2d", "filters": 3, "kernel_size": k, "padding": padding,
                    "activation": "tanh"},
                   {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same",
                    "activation": "identity"},
                   {"type": "flatten"}, {"type": "dense", "units": 2}]})


def run(net, X, Y):
    net.compute_gradients(X, Y)
    conv = net.layers[0]
    dx = conv.backward_delta(conv.delta, True)       # the input gradient of the first conv
    return conv.z.copy(), {k: g.copy() for k, g in conv.grads.items()}, dx


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_flat_and_tap_lowerings_agree(geometry, monkeypatch):
    rng = np.random.default_rng(0)
    c, h, w, _, _ = geometry
    X = rng.standard_normal((5, c, h, w))
    Y = rng.standard_normal((5, 2))
    flat = conv_net(*geometry)
    assert isinstance(flat.layers[0]._lowering, im2col.FlatLowering)
    monkeypatch.setattr(im2col, "FLAT_MIN_WIDTH", 10 ** 6)
    taps = conv_net(*geometry)
    assert isinstance(taps.layers[0]._lowering, im2col.TapLowering)
    (z1, g1, dx1), (z2, g2, dx2) = run(flat, X, Y), run(taps, X, Y)
    assert z1.shape == z2.shape and z1.flags.c_contiguous
    np.testing.assert_allclose(z1, z2, rtol=1e-12, atol=1e-12)
    for name in g1:
        np.testing.assert_allclose(g1[name], g2[name], rtol=1e-10, atol=1e-12)
    assert dx1.shape == (5, c, h, w)
    np.testing.assert_allclose(dx1, dx2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES[:4])
def test_flat_lowering_matches_the_reference_forward_and_gradients(geometry):
    rng = np.random.default_rng(1)
    c, h, w, _, _ = geometry
    X = rng.standard_normal((3, c, h, w))
    Y = rng.standard_normal((3, 2))
    net = conv_net(*geometry)
    params = [dict(layer.params) for layer in net.layers]
    np.testing.assert_allclose(net.forward(X), reference_forward(net.to_spec(), params, X),
                               rtol=1e-10, atol=1e-12)
    rows = check_gradients(net, X, Y, max_elements=30)
    assert rows and all(passes(row) for row in rows)


def test_repeated_batches_reuse_buffers_without_leaking_the_last_batch():
    rng = np.random.default_rng(2)
    net = conv_net(2, 14, 14, 3, "same")
    X1, X2 = rng.standard_normal((2, 4, 2, 14, 14))
    Y = rng.standard_normal((4, 2))
    first = run(net, X1, Y)
    kept = first[2].copy()
    run(net, X2, Y)
    np.testing.assert_array_equal(first[2], kept)   # dx is the caller's, not a reused buffer
    again = run(net, X1, Y)
    for a, b in zip(first[:1] + (first[2],), again[:1] + (again[2],)):
        np.testing.assert_array_equal(a, b)
    for name in first[1]:
        np.testing.assert_array_equal(first[1][name], again[1][name])

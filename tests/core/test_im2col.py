"""conv2d at image scale (im2col.py): forward and gradients against the autograd reference."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core import Network
from nnviz.core.gradcheck import check_gradients, passes, reference_forward

GEOMETRIES = [  # (channels, height, width, kernel, padding, stride)
    (2, 14, 14, 3, "same", 1), (3, 13, 16, 3, "valid", 1), (1, 12, 15, 5, 2, 1),
    (2, 16, 12, 4, "same", 1), (2, 12, 12, 1, 0, 1), (2, 15, 17, 3, "same", 2),
    (1, 18, 18, 4, 1, 3)]


def conv_net(c, h, w, k, padding, stride, dtype="float64"):
    return Network.from_spec({
        "input_shape": [c, h, w], "cost": "mse", "init": "xavier", "seed": 1, "dtype": dtype,
        "layers": [{"type": "conv2d", "filters": 3, "kernel_size": k, "padding": padding,
                    "stride": stride, "activation": "tanh"},
                   {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same",
                    "activation": "identity"},
                   {"type": "flatten"}, {"type": "dense", "units": 2}]})


def run(net, X, Y):
    net.compute_gradients(X, Y)
    conv = net.layers[0]
    dx = conv.backward_delta(conv.delta, True)       # the input gradient of the first conv
    return conv.z.copy(), {k: g.copy() for k, g in conv.grads.items()}, dx


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_conv_matches_the_reference_forward_and_gradients(geometry):
    rng = np.random.default_rng(1)
    c, h, w = geometry[:3]
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
    net = conv_net(2, 14, 14, 3, "same", 1)
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

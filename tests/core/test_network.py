"""Network construction, spec validation, layer behaviour and numerical stability."""

import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from nnviz.core.activations import ACTIVATIONS, make_activation
from nnviz.core.errors import SpecError
from nnviz.core.network import Network

CNN = {"input_shape": [1, 8, 8],
       "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "stride": 1, "padding": "same",
                   "activation": "relu"},
                  {"type": "maxpool2d", "size": 2},
                  {"type": "flatten"},
                  {"type": "dense", "units": 10, "activation": "softmax"}],
       "cost": "cross_entropy", "init": "he", "seed": 0}


def mlp(**changes):
    spec = {"input_shape": [4], "layers": [{"type": "dense", "units": 5, "activation": "tanh"},
                                           {"type": "dense", "units": 3, "activation": "softmax"}],
            "cost": "cross_entropy", "init": "xavier", "seed": 0}
    spec.update(changes)
    return spec


def test_shapes_parameter_layouts_and_counts():
    net = Network.from_spec(CNN)
    assert [layer.output_shape for layer in net.layers] == [(8, 8, 8), (8, 4, 4), (128,), (10,)]
    conv, dense = net.layers[0], net.layers[3]
    assert conv.params["W"].shape == (8, 1, 3, 3) and conv.params["b"].shape == (8,)
    assert dense.params["W"].shape == (128, 10)
    assert net.param_count == 8 * 9 + 8 + 128 * 10 + 10
    assert net.forward(np.zeros((2, 1, 8, 8))).shape == (2, 10)


def test_spec_round_trips_and_fills_defaults():
    net = Network.from_spec(CNN)
    spec = net.to_spec()
    assert spec["layers"][1] == {"type": "maxpool2d", "size": 2, "stride": 2}
    again = Network.from_spec(spec)
    assert again.to_spec() == spec
    for a, b in zip(net.layers, again.layers):
        for key in a.params:
            np.testing.assert_array_equal(a.params[key], b.params[key])


def test_seed_makes_initialisation_reproducible():
    w = lambda seed: Network.from_spec(mlp(seed=seed)).layers[0].params["W"]
    np.testing.assert_array_equal(w(3), w(3))
    assert not np.array_equal(w(3), w(4))


@pytest.mark.parametrize("init, check", [
    ("standard", lambda w, n_in, n_out: np.abs(w).max() <= 1 / np.sqrt(n_in)),
    ("xavier", lambda w, n_in, n_out: np.abs(w).max() <= np.sqrt(6 / (n_in + n_out))),
    ("he", lambda w, n_in, n_out: abs(w.std() - np.sqrt(2 / n_in)) < 0.05 * np.sqrt(2 / n_in)),
    ("normal", lambda w, n_in, n_out: abs(w.std() - 1) < 0.05),
])
def test_initialisations_follow_their_definitions(init, check):
    net = Network.from_spec({"input_shape": [400], "layers": [{"type": "dense", "units": 300}],
                             "cost": "mse", "init": init})
    w = net.layers[0].params["W"]
    assert check(w, 400, 300)
    assert not net.layers[0].params["b"].any()


@pytest.mark.parametrize("change, field", [
    ({"layers": [{"type": "dense", "units": 0}]}, "layers[0].units"),
    ({"layers": [{"type": "dense", "units": 3, "activation": "softmax"}, {"type": "bogus"}]}, "layers[1].type"),
    ({"layers": [{"type": "dense", "units": 3, "activation": "swish"}]}, "layers[0].activation"),
    ({"layers": [{"type": "dense", "units": 1, "activation": "softmax"}], "cost": "cross_entropy"}, "layers[0].units"),
    ({"layers": [{"type": "dense", "units": 3, "activation": "relu"}], "cost": "cross_entropy"}, "cost"),
    ({"layers": [{"type": "dense", "units": 3, "activation": "tanh"}], "cost": "bce"}, "cost"),
    ({"cost": "hinge"}, "cost"),
    ({"init": "zeros"}, "init"),
    ({"input_shape": [0]}, "input_shape"),
    ({"layers": []}, "layers"),
    ({"layers": [{"type": "dense", "units": 2.5}]}, "layers[0].units"),
    ({"layers": [{"type": "dense", "units": 3, "size": 2}]}, "layers[0].size"),
    ({"layers": [{"type": "conv2d", "filters": 2}]}, "layers[0].type"),
    ({"layers": [{"type": "dropout", "rate": 1.0}, {"type": "dense", "units": 2}]}, "layers[0].rate"),
    ({"seed": -1}, "seed"),
    ({"layers": [{"type": "dense", "units": 10 ** 9}]}, "layers[0].units"),
])
def test_invalid_specs_name_the_field(change, field):
    with pytest.raises(SpecError) as info:
        Network.from_spec(mlp(**change))
    assert info.value.field == field
    assert str(info.value).startswith(field)
    assert "(" in str(info.value)  # the message carries a fix


@pytest.mark.parametrize("layer, field", [
    ({"type": "conv2d", "filters": 2, "kernel_size": 9}, "layers[0].kernel_size"),
    ({"type": "conv2d", "filters": 2, "padding": "full"}, "layers[0].padding"),
    ({"type": "maxpool2d", "size": 9}, "layers[0].size"),
    ({"type": "dense", "units": 4}, "layers[0].type"),
])
def test_invalid_image_layers_name_the_field(layer, field):
    spec = dict(CNN, layers=[layer, {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}])
    with pytest.raises(SpecError) as info:
        Network.from_spec(spec)
    assert info.value.field == field


def test_spec_errors_are_value_errors_and_wrong_input_is_reported():
    assert issubclass(SpecError, ValueError)
    with pytest.raises(SpecError, match="input"):
        Network.from_spec(CNN).forward(np.zeros((2, 64)))


def test_same_padding_with_even_kernel_and_stride_two():
    spec = dict(CNN, input_shape=[3, 7, 5], layers=[
        {"type": "conv2d", "filters": 4, "kernel_size": 2, "padding": "same"},
        {"type": "conv2d", "filters": 2, "kernel_size": 3, "stride": 2, "padding": "same"},
        {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}])
    net = Network.from_spec(spec)
    assert net.layers[0].output_shape == (4, 7, 5)
    assert net.layers[1].output_shape == (2, 4, 3)  # ceil(7/2), ceil(5/2)


def test_conv_is_cross_correlation():
    spec = {"input_shape": [1, 3, 3], "layers": [{"type": "conv2d", "filters": 1, "kernel_size": 2},
                                                 {"type": "flatten"}], "cost": "mse"}
    net = Network.from_spec(spec)
    net.layers[0].params["W"][...] = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    # top-left window [[0,1],[3,4]] . [[1,2],[3,4]] = 0+2+9+16
    np.testing.assert_allclose(net.forward(x)[0], [27, 37, 57, 67])


def test_maxpool_gives_tied_gradient_to_the_first_maximum_only():
    spec = {"input_shape": [1, 2, 2], "layers": [{"type": "maxpool2d", "size": 2}, {"type": "flatten"}],
            "cost": "mse"}
    net = Network.from_spec(spec)
    pool = net.layers[0]
    pool.forward(np.zeros((1, 1, 2, 2)), True)
    grad = pool.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(grad[0, 0], [[1, 0], [0, 0]])


def test_dropout_is_inverted_in_training_and_off_at_evaluation():
    spec = {"input_shape": [10000], "layers": [{"type": "dropout", "rate": 0.25}], "cost": "mse"}
    net = Network.from_spec(spec)
    x = np.ones((1, 10000))
    np.testing.assert_array_equal(net.forward(x), x)
    out = net.forward(x, training=True)
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs(np.mean(out == 0) - 0.25) < 0.02


def test_batchnorm_uses_batch_statistics_in_training_and_running_averages_at_evaluation():
    spec = {"input_shape": [2, 3, 3], "layers": [{"type": "batchnorm"}, {"type": "flatten"}], "cost": "mse"}
    net = Network.from_spec(spec)
    x = np.random.default_rng(0).normal(5.0, 3.0, (64, 2, 3, 3))
    out = net.forward(x, training=True).reshape(64, 2, 9)
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2)), 1, atol=1e-3)
    bn = net.layers[0]
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=(0, 2, 3)))
    for _ in range(200):
        net.forward(x, training=True)
    evaluated = net.forward(x).reshape(64, 2, 9)
    np.testing.assert_allclose(evaluated.mean(axis=(0, 2)), 0, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivatives_match_autograd(name):
    act = make_activation(name)
    z = np.random.default_rng(1).normal(0, 2, (4, 5))
    grad_a = np.random.default_rng(2).normal(size=(4, 5))
    reference = {
        "identity": lambda z: z, "sigmoid": lambda z: 1 / (1 + anp.exp(-z)), "tanh": anp.tanh,
        "relu": lambda z: anp.maximum(z, 0), "leaky_relu": lambda z: anp.where(z > 0, z, 0.01 * z),
        "elu": lambda z: anp.where(z > 0, z, anp.exp(z) - 1),
        "softmax": lambda z: anp.exp(z) / anp.sum(anp.exp(z), axis=1, keepdims=True),
    }[name]
    np.testing.assert_allclose(act.forward(z), reference(z), rtol=1e-12)
    expected = autograd.grad(lambda z: anp.sum(reference(z) * grad_a))(z)
    np.testing.assert_allclose(act.backward(z, act.forward(z), grad_a), expected, rtol=1e-9, atol=1e-12)


def test_relu_reuses_its_zeros_for_every_size_and_dtype():
    """ReLU keeps an array of zeros for max(z, 0): larger, smaller, other-dtype batches."""
    relu = make_activation("relu")
    rng = np.random.default_rng(0)
    first = relu.forward(np.ones((4, 5)))
    for shape, dtype in [((4, 5), np.float64), ((8, 3, 4, 4), np.float64), ((2, 5), np.float64),
                         ((8, 3, 4, 4), np.float32), ((3, 7), np.float64)]:
        z = rng.normal(size=shape).astype(dtype)
        a = relu.forward(z)
        assert a.dtype == dtype and a.shape == shape
        np.testing.assert_array_equal(a, np.where(z > 0, z, 0))
        a[...] = 7.0                      # the caller owns the output: the zeros stay zeros
    np.testing.assert_array_equal(relu.forward(-np.ones((4, 5))), np.zeros((4, 5)))
    np.testing.assert_array_equal(first, np.ones((4, 5)))    # no output shares memory


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_are_stable_for_huge_inputs(name):
    act = make_activation(name)
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act.forward(z)
        g = act.backward(z, a, np.ones_like(z))
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(g))


@pytest.mark.parametrize("cost, activation", [("cross_entropy", "softmax"), ("bce", "sigmoid")])
def test_fused_costs_are_stable_for_confident_wrong_outputs(cost, activation):
    net = Network.from_spec({"input_shape": [2], "layers": [{"type": "dense", "units": 2, "activation": activation}],
                             "cost": cost})
    net.layers[0].params["W"][...] = [[1e4, -1e4], [0, 0]]
    X, Y = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = net.compute_gradients(X, Y)
    assert loss == pytest.approx(2e4, rel=1e-6) if cost == "cross_entropy" else np.isfinite(loss)
    assert np.all(np.isfinite(net.layers[0].grads["W"]))


def test_l2_adds_half_lambda_w_squared_to_cost_and_lambda_w_to_weight_gradients():
    net = Network.from_spec(mlp())
    X = np.random.default_rng(0).normal(size=(6, 4))
    Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    plain = net.compute_gradients(X, Y)
    grads = {k: v.copy() for k, v in net.layers[0].grads.items()}
    lam = 0.3
    with_l2 = net.compute_gradients(X, Y, l2=lam)
    assert with_l2 == pytest.approx(plain + lam / 2 * net.l2_penalty())
    np.testing.assert_allclose(net.layers[0].grads["W"], grads["W"] + lam * net.layers[0].params["W"])
    np.testing.assert_allclose(net.layers[0].grads["b"], grads["b"])


def test_sum_of_squares_is_exact_across_chunks():
    from nnviz.core.numerics import norm, sum_of_squares

    a = np.random.default_rng(0).normal(size=(3, 7, 1001))
    assert sum_of_squares(a) == pytest.approx(float(np.sum(a * a)), rel=1e-12)
    assert norm(a[:, :, :5]) == pytest.approx(np.linalg.norm(a[:, :, :5]), rel=1e-12)

"""trace(): one sample forward and back, against autograd, the chain rule and finite differences.

The independent reference is nnviz.core.gradcheck's autograd forward pass
(``reference_trace`` for z, a, delta; ``reference_gradients`` for the parameters).
Inputs are continuous random numbers, so no max-pooling window has tied maxima.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from nnviz.core import SpecError, load_dataset, trace
from nnviz.core.gradcheck import numeric_gradients, reference_gradients, reference_trace
from nnviz.core.network import Network
from nnviz.core.trace import backprop_data

TOL = 1e-9


def dense(units, activation="identity"):
    return {"type": "dense", "units": units, "activation": activation}


def model(input_shape, layers, cost):
    return {"input_shape": list(input_shape), "layers": layers, "cost": cost,
            "init": "xavier", "seed": 3}


def jittered(spec, seed=0):
    """A network whose biases (and batch-norm parameters) are off their initial 0 and 1."""
    net = Network.from_spec(spec)
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        for name in ("b", "gamma", "beta"):
            if name in layer.params:
                layer.params[name] += 0.2 * rng.normal(size=layer.params[name].shape)
    return net


def sample(net, seed=1):
    """One continuous random input and a target that suits the cost."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=net.input_shape)
    k = net.output_shape[0]
    if net.cost_name == "cross_entropy":
        y = np.eye(k)[rng.integers(k)]
    elif net.cost_name == "bce":
        y = rng.integers(0, 2, size=k).astype(float)
    else:
        y = rng.normal(size=k)
    return x, y


MLPS = {
    "tanh-relu-softmax-ce": model([3], [dense(5, "tanh"), dense(4, "relu"), dense(3, "softmax")],
                                  "cross_entropy"),
    "sigmoid-leaky-sigmoid-bce": model([4], [dense(4, "sigmoid"), dense(3, "leaky_relu"),
                                             dense(1, "sigmoid")], "bce"),
    "elu-identity-mse": model([2], [dense(6, "elu"), dense(2, "identity")], "mse"),
    "relu-sigmoid-mse": model([2], [dense(3, "relu"), dense(2, "sigmoid")], "mse"),
}
CNN = model([2, 6, 6], [
    {"type": "conv2d", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 2, "kernel_size": 2, "stride": 1, "activation": "tanh"},
    {"type": "avgpool2d", "size": 2},
    {"type": "flatten"},
    dense(3, "softmax")], "cross_entropy")
NETWORKS = {**MLPS, "cnn": CNN}


def assert_matches_autograd(net, x, y):
    records = trace(net, x, y)
    spec = net.to_spec()
    params = [{k: np.array(v) for k, v in layer.params.items()} for layer in net.layers]
    reference = reference_trace(spec, params, x[None], y[None])
    grads = reference_gradients(net, x[None], y[None], masks=[None] * len(net.layers))
    assert [r["name"] for r in records] == [layer.label for layer in net.layers]
    for i, (got, want) in enumerate(zip(records, reference)):
        for key in ("z", "a", "delta"):
            if want[key] is None:
                assert got[key] is None, (i, key)
            else:
                np.testing.assert_allclose(got[key], want[key][0], rtol=TOL, atol=TOL, err_msg=f"{i} {key}")
        assert set(got["grads"]) == set(grads[i])
        for name, g in grads[i].items():
            np.testing.assert_allclose(got["grads"][name], g, rtol=TOL, atol=TOL, err_msg=f"{i} {name}")
    return records


@pytest.mark.parametrize("name", list(NETWORKS))
def test_trace_matches_autograd(name):
    net = jittered(NETWORKS[name])
    assert_matches_autograd(net, *sample(net))


def test_each_layer_input_is_the_previous_output():
    net = jittered(CNN)
    x, y = sample(net)
    records = trace(net, x, y)
    np.testing.assert_array_equal(records[0]["input"], x)
    for before, after in zip(records, records[1:]):
        np.testing.assert_array_equal(after["input"], before["a"])
    # layers without z: delta is dC/d(output), and it is what the layer above passes down
    assert records[1]["z"] is None and records[4]["z"] is None
    np.testing.assert_array_equal(records[4]["delta"], records[4]["grad_a"])


@pytest.mark.parametrize("name", list(MLPS))
def test_chain_rule_identities(name):
    """delta_l = (W_{l+1} delta_{l+1}) * sigma'(z_l) and dC/dW_l = a_{l-1} delta_l^T, dC/db_l = delta_l."""
    net = jittered(MLPS[name])
    x, y = sample(net)
    records = trace(net, x, y)
    for layer, above in zip(records, records[1:]):
        backward = above["params"]["W"] @ above["delta"]
        np.testing.assert_allclose(layer["grad_a"], backward, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer["delta"], backward * layer["activation_derivative"],
                                   rtol=1e-12, atol=1e-15)
    for r in records:
        np.testing.assert_allclose(r["grads"]["W"], np.outer(r["input"], r["delta"]), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(r["grads"]["b"], r["delta"], rtol=1e-12, atol=1e-15)


def test_output_delta_of_the_fused_pairs_is_a_minus_y():
    for name in ("tanh-relu-softmax-ce", "sigmoid-leaky-sigmoid-bce"):
        net = jittered(MLPS[name])
        x, y = sample(net)
        last = trace(net, x, y)[-1]
        np.testing.assert_allclose(last["delta"], last["a"] - y, rtol=1e-12)


def test_mse_output_delta_is_2_a_minus_y_times_sigma_prime():
    net = jittered(MLPS["relu-sigmoid-mse"])
    x, y = sample(net)
    last = trace(net, x, y)[-1]
    a = last["a"]
    np.testing.assert_allclose(last["grad_a"], 2 * (a - y), rtol=1e-12)
    np.testing.assert_allclose(last["delta"], 2 * (a - y) * a * (1 - a), rtol=1e-12)


def test_l2_adds_lambda_w_to_the_weight_gradients_only():
    net = jittered(MLPS["elu-identity-mse"])
    x, y = sample(net)
    plain, with_l2 = trace(net, x, y), trace(net, x, y, l2=0.3)
    for p, q, layer in zip(plain, with_l2, net.layers):
        np.testing.assert_allclose(q["grads"]["W"], p["grads"]["W"] + 0.3 * layer.params["W"], rtol=1e-12)
        np.testing.assert_array_equal(q["grads"]["b"], p["grads"]["b"])


DROPOUT_BN = model([4], [dense(6, "identity"), {"type": "batchnorm"}, {"type": "activation", "activation": "tanh"},
                         {"type": "dropout", "rate": 0.5}, dense(2, "softmax")], "cross_entropy")


def trained_a_little(spec):
    """A network whose running statistics, masks and caches come from real batches."""
    net = jittered(spec)
    rng = np.random.default_rng(5)
    for _ in range(3):
        X = rng.normal(size=(8, *net.input_shape))
        Y = np.eye(net.output_shape[0])[rng.integers(net.output_shape[0], size=8)]
        net.compute_gradients(X, Y)
    return net


def test_inference_mode_gradients_are_those_of_the_evaluation_function():
    """Dropout off and batch norm on its running statistics: the gradients of
    net.forward(training=False)'s cost, checked by central differences."""
    net = trained_a_little(DROPOUT_BN)
    x, y = sample(net)
    records = trace(net, x, y)
    np.testing.assert_allclose(records[-1]["a"], net.forward(x[None], training=False)[0], rtol=1e-12)
    params = [layer.params for layer in net.layers]
    cost = lambda: net.cost_value(net.forward(x[None], training=False), y[None])  # noqa: E731
    numeric, _ = numeric_gradients(cost, params, max_elements=None)
    for r, want in zip(records, numeric):
        for name, g in want.items():
            np.testing.assert_allclose(r["grads"][name], g, rtol=1e-6, atol=1e-9, err_msg=f"{r['name']} {name}")
    assert records[3]["kind"] == "dropout"
    np.testing.assert_array_equal(records[3]["a"], records[3]["input"])


def arrays_of(net):
    """Every array a layer holds (caches, grads, params, running statistics), copied."""
    state = []
    for layer in net.layers:
        entry = {}
        for key, value in vars(layer).items():
            if isinstance(value, np.ndarray):
                entry[key] = value.copy()
            elif isinstance(value, dict) and key in ("params", "grads"):
                entry.update({f"{key}.{k}": v.copy() for k, v in value.items()})
        if hasattr(layer, "rng"):
            entry["rng"] = layer.rng.bit_generator.state
        state.append(entry)
    return state


@pytest.mark.parametrize("spec", [DROPOUT_BN, CNN], ids=["dropout-batchnorm", "cnn"])
def test_the_network_is_left_as_it_was(spec):
    net = trained_a_little(spec) if spec is DROPOUT_BN else jittered(spec)
    if spec is CNN:
        rng = np.random.default_rng(2)
        net.compute_gradients(rng.normal(size=(1, *net.input_shape)), np.eye(3)[[1]])
    before = arrays_of(net)
    trace(net, *sample(net))
    after = arrays_of(net)
    for layer_before, layer_after in zip(before, after):
        assert layer_before.keys() == layer_after.keys()
        for key, value in layer_before.items():
            if key == "rng":
                assert layer_after[key] == value
            else:
                np.testing.assert_array_equal(layer_after[key], value, err_msg=key)


def test_network_copy_is_independent_and_computes_the_same():
    net = trained_a_little(DROPOUT_BN)
    twin = net.copy()
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(twin.forward(X), net.forward(X))
    twin.layers[0].params["W"] += 1.0
    twin.layers[1].running_mean += 1.0
    assert not np.allclose(twin.forward(X), net.forward(X))


def test_bad_samples_are_named():
    net = jittered(MLPS["elu-identity-mse"])
    with pytest.raises(SpecError, match="x"):
        trace(net, np.zeros(3), np.zeros(2))
    with pytest.raises(SpecError, match="y"):
        trace(net, np.zeros(2), np.zeros(3))


# ---------------------------------------------------------------- view data


def plain(value) -> bool:
    """Only str, numbers, None, numpy arrays and lists/dicts of them."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, np.ndarray))


@pytest.fixture(scope="module")
def moons():
    return load_dataset({"name": "moons", "n_samples": 60, "seed": 0})


def test_backprop_data_is_plain_and_holds_the_trace(moons):
    net = jittered(model([2], [dense(3, "tanh"), dense(2, "softmax")], "cross_entropy"))
    data = backprop_data(net, moons, 7)
    assert plain(data)
    assert pickle.loads(pickle.dumps(data))["index"] == 7
    target = moons.targets(moons.y_train[7:8], 2)[0]
    records = trace(net, moons.X_train[7], target)
    for shown, record in zip(data["layers"], records):
        for key in ("z", "a", "delta", "grad_a"):
            np.testing.assert_array_equal(shown[key], record[key])
        np.testing.assert_array_equal(shown["params"]["W"], record["params"]["W"])
    output = net.forward(moons.X_train[7:8])
    assert data["cost"] == pytest.approx(net.cost_value(output, target[None]), rel=1e-12)
    assert data["fused"] and data["n_samples"] == len(moons.X_train)
    assert data["target_text"] == moons.class_names[moons.y_train[7]]
    assert data["predicted_text"] == moons.class_names[int(np.argmax(output))]
    assert backprop_data(net, moons, 0, split="val")["n_samples"] == len(moons.X_val)


def test_backprop_data_leaves_out_large_weight_arrays(moons):
    net = jittered(model([2], [dense(100, "relu"), dense(50, "relu"), dense(2, "softmax")], "cross_entropy"))
    layers = backprop_data(net, moons, 0)["layers"]
    assert "W" in layers[0]["params"] and "W" not in layers[1]["params"]   # 200 and 5000 weights
    assert "W" not in layers[1]["grads"] and "b" in layers[1]["grads"]


@pytest.mark.parametrize("index, split, field", [(999, "train", "sample"), (-1, "train", "sample"),
                                                 (1.5, "train", "sample"), (0, "test", "split")])
def test_backprop_data_rejects_bad_choices(moons, index, split, field):
    net = jittered(model([2], [dense(2, "softmax")], "cross_entropy"))
    with pytest.raises(SpecError, match=field):
        backprop_data(net, moons, index, split)

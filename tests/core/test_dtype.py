"""model.dtype: float32 training end to end, agreeing with float64; the gradient check in float64."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core import Experiment, Network, Trainer, describe
from nnviz.core.datasets import load_dataset
from nnviz.core.errors import SpecError
from nnviz.core.gradcheck import check_gradients, check_network, passes
from nnviz.core.viewdata import view_data

MLP = {"input_shape": [64], "cost": "cross_entropy", "init": "he", "seed": 3,
       "layers": [{"type": "dense", "units": 24, "activation": "leaky_relu"},
                  {"type": "batchnorm"},
                  {"type": "activation", "activation": "elu"},
                  {"type": "dropout", "rate": 0.3},
                  {"type": "dense", "units": 16, "activation": "tanh"},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}
CNN = {"input_shape": [1, 8, 8], "cost": "cross_entropy", "init": "he", "seed": 3,
       "layers": [{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same",
                   "activation": "relu"},
                  {"type": "batchnorm"},
                  {"type": "maxpool2d", "size": 2},
                  {"type": "conv2d", "filters": 6, "kernel_size": 3, "padding": 1,
                   "activation": "leaky_relu"},
                  {"type": "avgpool2d", "size": 2},
                  {"type": "flatten"},
                  {"type": "dropout", "rate": 0.25},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}
MODELS = {"mlp": MLP, "cnn": CNN}


def with_dtype(model: dict, dtype: str) -> dict:
    return {**model, "dtype": dtype}


def floating_arrays(obj, where: str, depth: int = 0):
    """(path, array) of every floating-point array reachable from obj's attributes,
    dicts, lists and tuples (scratch buffers, caches and state included)."""
    if isinstance(obj, np.ndarray):
        if np.issubdtype(obj.dtype, np.floating):
            yield where, obj
        return
    if depth > 4:
        return
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, (np.random.Generator, type)):
        items = vars(obj).items()
    else:
        return
    for key, value in items:
        yield from floating_arrays(value, f"{where}.{key}", depth + 1)


def trained(model: dict, steps: int = 4) -> tuple[Trainer, list]:
    exp = Experiment.from_dict({"dataset": {"name": "digits"}, "model": model,
                                "training": {"optimizer": {"name": "adam", "eta": 1e-3},
                                             "batch_size": 16, "epochs": 1}})
    trainer = Trainer(exp, snapshot_every=2)
    return trainer, list(trainer.run(max_steps=steps))


# ---------------------------------------------------------------------- the spec


def test_dtype_is_in_the_catalogue_with_float64_as_default():
    param = describe()["model"]["dtype"]
    assert param["default"] == "float64" and set(param["choices"]) == {"float32", "float64"}
    net = Network.from_spec(MLP)                     # omitted = the catalogue default
    assert net.dtype == np.float64 and net.to_spec()["dtype"] == "float64"


def test_to_spec_and_experiments_carry_the_dtype():
    net = Network.from_spec(with_dtype(MLP, "float32"))
    assert net.to_spec()["dtype"] == "float32"
    assert Network.from_spec(net.to_spec()).dtype == np.float32
    exp = Experiment.from_dict({"dataset": {"name": "digits"}, "model": with_dtype(MLP, "float32")})
    assert Experiment.from_dict(exp.to_dict()).model["dtype"] == "float32"


@pytest.mark.parametrize("value", ["float16", "double", 32, None])
def test_experiment_refuses_other_dtypes_naming_the_field(value):
    with pytest.raises(SpecError) as err:
        Experiment.from_dict({"dataset": {"name": "digits"}, "model": with_dtype(MLP, value)})
    assert err.value.field == "model.dtype" and "float32" in err.value.fix


def test_copy_keeps_or_changes_the_dtype_with_the_same_numbers():
    net = Network.from_spec(with_dtype(CNN, "float32"))
    assert net.copy().dtype == np.float32
    twin = net.copy("float64")
    assert twin.dtype == np.float64
    for mine, theirs in zip(net.layers, twin.layers):
        for name, value in mine.params.items():
            assert theirs.params[name].dtype == np.float64
            np.testing.assert_array_equal(theirs.params[name], value)


def test_float32_starts_from_the_float64_weights_rounded():
    w64 = Network.from_spec(MLP).layers[0].params["W"]
    w32 = Network.from_spec(with_dtype(MLP, "float32")).layers[0].params["W"]
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_memory_estimate_counts_four_bytes_per_float32_value(monkeypatch):
    from nnviz.core import network
    monkeypatch.setattr(network, "_machine_memory", lambda: 0)   # refuse all, say the need
    need = {}
    for dtype in ("float64", "float32"):
        with pytest.raises(SpecError) as err:
            Network.from_spec(with_dtype({**MLP, "layers": [{"type": "dense", "units": 10 ** 7}]},
                                         dtype))
        need[dtype] = float(err.value.problem.split("about ")[1].split(" GiB")[0])
    assert need["float64"] > 1 and need["float32"] == pytest.approx(need["float64"] / 2, rel=0.05)


# ---------------------------------------------------------------------- end to end


@pytest.mark.parametrize("kind", MODELS)
def test_float32_training_keeps_every_array_in_float32(kind):
    trainer, snaps = trained(with_dtype(MODELS[kind], "float32"))
    trainer.step()          # the caches of a training step (evaluation drops the masks)
    net = trainer.network
    found = dict(floating_arrays(net.layers, "layers"))
    for required in ("params", "grads", ".z", ".a", ".delta", ".mask", "running_mean", "xhat"):
        assert any(required in path for path in found), f"no array {required!r} was inspected"
    found.update(floating_arrays(trainer.optimizer, "optimizer"))
    assert any("_state" in path for path in found)
    found.update({"X_train": trainer.dataset.X_train, "X_val": trainer.dataset.X_val,
                  "Y_train": trainer.Y_train, "prediction": trainer.predict(trainer.dataset.X_val[:5])})
    found.update({f"act_sample {p.index}": p.act_sample for snap in snaps for p in snap.layers})
    wrong = {path: a.dtype for path, a in found.items() if a.dtype != np.float32}
    assert not wrong
    assert np.isfinite(snaps[-1].train_loss) and np.isfinite(snaps[-1].val_loss)


def test_float64_training_stays_float64():
    trainer, _ = trained(with_dtype(CNN, "float64"), steps=2)
    found = dict(floating_arrays(trainer.network.layers, "layers"))
    found.update(floating_arrays(trainer.optimizer, "optimizer"))
    assert found and all(a.dtype == np.float64 for a in found.values())


def test_float32_network_casts_float64_input():
    net = Network.from_spec(with_dtype(MLP, "float32"))
    data = load_dataset({"name": "digits"})
    X, Y = data.X_train[:8], data.targets(data.y_train[:8], 10)
    assert X.dtype == np.float64
    net.compute_gradients(X, Y)
    assert net.layers[0].z.dtype == np.float32 and net.layers[0].grads["W"].dtype == np.float32
    assert net.forward(X).dtype == np.float32


def test_view_data_of_a_float32_network_is_float32():
    trainer, _ = trained(with_dtype(CNN, "float32"), steps=1)
    conv = view_data("conv", trainer.network, trainer.dataset)
    maps = [m for layer in conv.layers for m in (layer.maps,) if m is not None]
    assert maps and all(m.dtype == np.float32 for m in maps)


@pytest.mark.parametrize("cost, act, units", [("bce", "sigmoid", 1), ("mse", "identity", 1)])
def test_float32_costs_stay_finite_and_float32(cost, act, units):
    spec = {"input_shape": [2], "cost": cost, "dtype": "float32", "init": "normal", "seed": 0,
            "layers": [{"type": "dense", "units": units, "activation": act}]}
    net = Network.from_spec(spec)
    net.layers[0].params["W"][...] = 40.0          # a sigmoid output of exactly 1.0 in float32
    X = np.ones((4, 2), np.float32)
    Y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    out = net.forward(X)
    assert out.dtype == np.float32
    assert np.isfinite(net.cost_value(out, Y))
    assert np.isfinite(net.compute_gradients(X, Y))
    assert net.layers[0].grads["W"].dtype == np.float32
    assert net.cost.gradient(out, Y).dtype == np.float32 and np.all(np.isfinite(net.cost.gradient(out, Y)))


# ---------------------------------------------------------------------- precision


def relative_error(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


@pytest.mark.parametrize("kind", MODELS)
def test_float32_gradients_agree_with_float64_to_float32_precision(kind):
    net32 = Network.from_spec(with_dtype(MODELS[kind], "float32"))
    net64 = net32.copy("float64")           # the same weights, and the same dropout masks
    data = load_dataset({"name": "digits"}, input_shape=net32.input_shape)
    X = data.X_train[:32].astype(np.float32)
    Y = data.targets(data.y_train[:32], 10)
    loss32, loss64 = net32.compute_gradients(X, Y, l2=1e-3), net64.compute_gradients(X, Y, l2=1e-3)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for l32, l64 in zip(net32.layers, net64.layers):
        for name in l32.params:
            assert l32.grads[name].dtype == np.float32
            # float32 rounds at 6e-8; a few hundred roundings per element add up to ~1e-6
            assert relative_error(l32.grads[name], l64.grads[name]) < 2e-5, (l32.label, name)
            assert relative_error(l32.grads[name], l64.grads[name]) > 0  # really computed in float32
        if l32.kind in ("dense", "conv2d"):
            assert relative_error(l32.delta, l64.delta) < 2e-5


@pytest.mark.parametrize("kind", MODELS)
def test_gradient_check_of_a_float32_network_runs_in_float64_on_a_copy(kind):
    net = Network.from_spec(with_dtype(MODELS[kind], "float32"))
    before = [{k: v.copy() for k, v in layer.params.items()} for layer in net.layers]
    data = load_dataset({"name": "digits"}, input_shape=net.input_shape)
    rows, n = check_network(net, data, samples=4)
    assert n == 4 and rows and all(passes(row) for row in rows)
    for layer, saved in zip(net.layers, before):
        for name, value in saved.items():
            assert layer.params[name].dtype == np.float32
            np.testing.assert_array_equal(layer.params[name], value)


def test_check_gradients_on_a_float32_network_leaves_its_grads_alone():
    net = Network.from_spec(with_dtype(MLP, "float32"))
    data = load_dataset({"name": "digits"})
    X, Y = data.X_train[:4], data.targets(data.y_train[:4], 10)
    rows = check_gradients(net, X, Y, max_elements=20)
    assert rows and all(passes(row) for row in rows)
    assert all(not np.any(g) for layer in net.layers for g in layer.grads.values())

"""A conv2d layer that starts from a hand-set kernel, trainable or frozen (issue 11)."""

import json

import numpy as np
import pytest

from nnviz.core import KERNELS, Experiment, Network, SpecError, Trainer, describe, make_optimizer
from nnviz.core.optimizers import OPTIMIZERS
from nnviz.core.run_names import run_name

SOBEL = KERNELS["sobel_x"].tolist()


def model(first=None, input_shape=(3, 8, 8), **extra):
    """conv2d (4 filters, 3x3) -> flatten -> dense softmax; ``first`` adds to the conv spec."""
    conv = {"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu", **(first or {})}
    return {"input_shape": list(input_shape), "cost": "cross_entropy", "init": "he", "seed": 3,
            "layers": [conv, {"type": "flatten"},
                       {"type": "dense", "units": 3, "activation": "softmax"}], **extra}


def batch(net, n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + net.input_shape), np.eye(3)[rng.integers(0, 3, n)]


def test_describe_lists_kernel_and_trainable_as_optional_conv_options():
    conv = json.loads(json.dumps(describe()))["layers"]["conv2d"]["params"]
    assert conv["kernel"]["kind"] == "kernel" and conv["kernel"]["default"] is None
    assert conv["kernel"]["nullable"] and conv["kernel"]["optional"]
    assert conv["trainable"] == {"kind": "bool", "default": True, "help": conv["trainable"]["help"],
                                 "label": "trainable", "optional": True}


def test_a_trainable_layer_starts_from_the_kernel_on_every_filter_and_channel():
    net = Network.from_spec(model({"kernel": SOBEL}))
    W, b = net.layers[0].params["W"], net.layers[0].params["b"]
    assert W.shape == (4, 3, 3, 3)
    assert (W == KERNELS["sobel_x"]).all() and (b == 0).all()
    assert net.layers[0].trainable
    # the kernel replaces the first layer's draw only: the next layers start as without it
    plain = Network.from_spec(model())
    assert not np.array_equal(plain.layers[0].params["W"], W)
    assert np.array_equal(plain.layers[2].params["W"], net.layers[2].params["W"])
    # and it trains away from the kernel
    opt = make_optimizer({"name": "constant", "eta": 0.1})
    net.compute_gradients(*batch(net))
    opt.apply(net)
    assert not (W == KERNELS["sobel_x"]).all()           # W is updated in place


def test_the_kernel_is_cast_to_the_model_dtype():
    net = Network.from_spec(model({"kernel": [[0.1, 0, 0], [0, 0.2, 0], [0, 0, 0.3]]},
                                  dtype="float32"))
    W = net.layers[0].params["W"]
    assert W.dtype == np.float32 and W[2, 1, 1, 1] == np.float32(0.2)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_frozen_layer_keeps_its_weights_bit_for_bit_under_every_optimiser(name):
    net = Network.from_spec(model({"kernel": SOBEL, "trainable": False}))
    frozen, dense = net.layers[0], net.layers[2]
    W0, b0, D0 = frozen.params["W"].copy(), frozen.params["b"].copy(), dense.params["W"].copy()
    opt = make_optimizer({"name": name})
    for step in range(20):
        net.compute_gradients(*batch(net, seed=step), l2=0.05)
        opt.apply(net)
    assert np.array_equal(frozen.params["W"], W0) and np.array_equal(frozen.params["b"], b0)
    assert np.abs(frozen.grads["W"]).sum() > 0        # still computed, for the views
    assert not np.array_equal(dense.params["W"], D0)   # the optimiser did train the rest


def test_freezing_a_layer_leaves_the_other_layers_updates_unchanged():
    """Adam's state is per parameter: skipping the frozen layer changes nobody else's step."""
    frozen = Network.from_spec(model({"kernel": SOBEL, "trainable": False}))
    free = Network.from_spec(model({"kernel": SOBEL}))
    for net in (frozen, free):
        opt = make_optimizer({"name": "adam", "eta": 0.01})
        net.compute_gradients(*batch(net), l2=0.1)
        opt.apply(net)
    assert np.array_equal(frozen.layers[2].params["W"], free.layers[2].params["W"])
    assert not np.array_equal(frozen.layers[0].params["W"], free.layers[0].params["W"])


def experiment(first, **training):
    return Experiment.from_dict({
        "dataset": {"name": "digits", "val_fraction": 0.2, "seed": 0},
        "model": {"input_shape": [1, 8, 8], "cost": "cross_entropy", "init": "he", "layers": [
            {"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu", **first},
            {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "momentum", "eta": 0.05}, "epochs": 1,
                     "batch_size": 64, **training}})


def test_training_and_continue_keep_a_frozen_layer_and_clipping_ignores_its_gradient():
    exp = experiment({"kernel": SOBEL, "trainable": False}, l2=0.01, clip_norm=0.5)
    trainer = Trainer(exp, snapshot_every=5)
    conv = trainer.network.layers[0]
    W0, b0 = conv.params["W"].copy(), conv.params["b"].copy()
    snaps = list(trainer.run())
    trainer.extend(1)
    snaps += list(trainer.run())
    assert trainer.epoch == 1 and snaps[-1].done
    assert np.array_equal(conv.params["W"], W0) and np.array_equal(conv.params["b"], b0)
    assert snaps[-1].layers[0].update_ratio == 0.0 and snaps[-1].layers[0].weight_grad_norm > 0
    assert snaps[-1].val_accuracy > 0.5                   # the dense layer learned on Sobel edges
    # the global norm that clipping limits is the trainable parameters' only
    net = trainer.network
    net.compute_gradients(trainer.dataset.X_train[:64], trainer.Y_train[:64])
    conv.grads["W"] *= 1e6                                # huge, and frozen: must not count
    trainable = np.sqrt(sum((g ** 2).sum() for layer in net.layers[1:]
                            for g in layer.grads.values()))
    trainer.clip_norm = trainable / 2
    assert trainer._clip_gradients() == pytest.approx(0.5)


def test_the_spec_round_trips_and_defaults_stay_out_of_it(tmp_path):
    spec = model({"kernel": SOBEL, "trainable": False})
    out = Network.from_spec(spec).to_spec()
    assert out["layers"][0]["kernel"] == SOBEL and out["layers"][0]["trainable"] is False
    assert Network.from_spec(out).to_spec() == out
    assert Network.from_spec(spec).copy().layers[0].trainable is False
    exp = experiment({"kernel": SOBEL, "trainable": False})
    exp.save(tmp_path / "e.json")
    assert Experiment.load(tmp_path / "e.json") == exp
    assert Experiment.load(tmp_path / "e.json").model["layers"][0]["kernel"] == SOBEL
    # at their defaults (or given as the defaults) they are not written at all
    for given in ({}, {"kernel": None, "trainable": True}):
        first = Network.from_spec(model(given)).to_spec()["layers"][0]
        assert "kernel" not in first and "trainable" not in first
    assert "trainable" not in Network.from_spec(model({"kernel": SOBEL})).to_spec()["layers"][0]


@pytest.mark.parametrize("first, field, words", [
    ({"kernel": SOBEL, "kernel_size": 5}, "layers[0].kernel",
     "is 3x3 but kernel_size is 5 (set kernel_size to 3, or give a 5x5 kernel)"),
    ({"kernel": [[1, 2, 3], [4, 5, 6]]}, "layers[0].kernel[0]", "must be a row of 2 numbers"),
    ({"kernel": [[1, 2], [3]]}, "layers[0].kernel[1]", "must be a row of 2 numbers"),
    ({"kernel": [[0, 0, 0], [0, float("nan"), 0], [0, 0, 0]]}, "layers[0].kernel[1][1]",
     "must be a finite number"),
    ({"kernel": [[0, 0, 0], [0, float("inf"), 0], [0, 0, 0]]}, "layers[0].kernel[1][1]",
     "must be a finite number"),
    ({"kernel": [[0, 0, 0], [0, 1e300, 0], [0, 0, 0]]}, "layers[0].kernel[1][1]", "out of range"),
    ({"kernel": [[0, "1", 0]] * 3}, "layers[0].kernel[0][1]", "must be a number"),
    ({"kernel": "sobel_x"}, "layers[0].kernel", "must be a square list of rows"),
    ({"kernel": []}, "layers[0].kernel", "must be a square list of rows"),
    ({"kernel": [[0] * 65] * 65, "kernel_size": 64}, "layers[0].kernel", "at most 64"),
    ({"trainable": "no"}, "layers[0].trainable", "must be true or false"),
    ({"trainable": 0}, "layers[0].trainable", "must be true or false"),
    ({"kernels": SOBEL}, "layers[0].kernels", "unknown key"),
])
def test_a_bad_kernel_or_flag_names_the_field_and_the_fix(first, field, words):
    with pytest.raises(SpecError) as info:
        Network.from_spec(model(first))
    assert info.value.field == field and words in str(info.value)


def test_only_conv2d_takes_a_kernel_and_experiments_name_the_model_field():
    spec = {"input_shape": [4], "layers": [{"type": "dense", "units": 2, "kernel": SOBEL,
                                            "activation": "softmax"}], "cost": "cross_entropy"}
    with pytest.raises(SpecError, match=r"layers\[0\]\.kernel: unknown key for a dense layer"):
        Network.from_spec(spec)
    with pytest.raises(SpecError) as info:
        experiment({"kernel": [[0, 0, 0], [0, 0, 0], [0, 0, float("inf")]]})
    assert info.value.field == "model.layers[0].kernel[2][2]"


def test_run_names_tell_hand_set_and_frozen_kernels_apart():
    plain = experiment({}).to_dict()
    frozen = experiment({"kernel": SOBEL, "trainable": False}).to_dict()
    own = experiment({"kernel": [[0, 0, 0], [0, 2, 0], [0, 0, 0]]}).to_dict()
    assert run_name(frozen, previous=plain) == "sobel_x frozen"
    assert run_name(plain, previous=frozen) == "random kernels"
    assert run_name(own, previous=frozen) == "own kernel"


def test_a_grid_axis_freezes_or_frees_the_kernel():
    from nnviz.core.grid import parse_value, plan_grid
    base = experiment({"kernel": SOBEL})
    plan = plan_grid(base, {"model.layers[0].trainable": [parse_value("true"),
                                                          parse_value("false")]})
    assert [cell["model"]["layers"][0].get("trainable") for cell in plan.cells] == [None, False]
    assert all(cell["model"]["layers"][0]["kernel"] == SOBEL for cell in plan.cells)

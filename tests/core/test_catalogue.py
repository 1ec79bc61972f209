"""describe(): one catalogue of choices, which the engine validates against."""

import json

import pytest

from nnviz.core import Network, SpecError, describe, make_optimizer
from nnviz.core.catalogue import LAYERS, OPTIMIZERS
from nnviz.core.experiment import Experiment

INPUTS = {"dense": [4], "dropout": [4], "batchnorm": [4], "activation": [4], "flatten": [1, 6, 6],
          "conv2d": [1, 6, 6], "maxpool2d": [1, 6, 6], "avgpool2d": [1, 6, 6]}


def test_describe_is_json_and_has_every_section():
    d = json.loads(json.dumps(describe()))
    for section in ("layers", "activations", "costs", "init", "optimizers", "datasets",
                    "model", "training"):
        assert d[section], section
    conv = d["layers"]["conv2d"]["params"]
    assert conv["padding"]["default"] == "valid" and conv["kernel_size"]["range"] == [1, 64]
    assert d["layers"]["dropout"]["params"]["rate"]["default"] == 0.5
    assert d["optimizers"]["adam"]["params"]["rho2"]["default"] == 0.999
    assert d["datasets"]["moons"]["params"]["noise"]["kind"] == "float"
    for entry in d["layers"].values():
        for param in entry["params"].values():
            assert param["help"] and "kind" in param and "default" in param


@pytest.mark.parametrize("kind", list(LAYERS))
def test_omitted_layer_parameters_are_the_catalogue_defaults(kind):
    """A layer spec with nothing but its type equals one with every default written out."""
    def net(layer):
        layers = [layer] + ([{"type": "flatten"}] if kind in ("conv2d", "maxpool2d", "avgpool2d")
                            else []) + [{"type": "dense", "units": 2, "activation": "softmax"}]
        if kind == "flatten":
            layers = [layer, {"type": "dense", "units": 2, "activation": "softmax"}]
        return Network.from_spec({"input_shape": INPUTS[kind], "layers": layers,
                                  "cost": "cross_entropy"})
    bare = net({"type": kind}).to_spec()["layers"][0]
    full = net({"type": kind, **LAYERS[kind].defaults()}).to_spec()["layers"][0]
    assert bare == full == {"type": kind, **LAYERS[kind].defaults()}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_omitted_optimizer_parameters_are_the_catalogue_defaults(name):
    spec = make_optimizer({"name": name}).to_spec()
    assert spec == {"name": name, **OPTIMIZERS[name].defaults()}


def test_omitted_training_settings_are_the_catalogue_defaults():
    d = describe()["training"]
    exp = Experiment.from_dict({"dataset": "moons", "model": {
        "input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}],
        "cost": "bce"}, "training": {}})
    for key in ("epochs", "batch_size", "l2", "clip_norm"):
        assert exp.training[key] == d[key]["default"], key
    assert exp.training["optimizer"]["name"] == d["optimizer"]["default"]


def test_values_outside_the_catalogue_range_name_the_field():
    with pytest.raises(SpecError) as info:
        Network.from_spec({"input_shape": [1, 6, 6], "layers": [
            {"type": "conv2d", "kernel_size": 65}, {"type": "flatten"}, {"type": "dense", "units": 1}]})
    assert info.value.field == "layers[0].kernel_size" and "64" in str(info.value)
    with pytest.raises(SpecError) as info:
        Network.from_spec({"input_shape": [4], "layers": [
            {"type": "dense", "units": 2, "activation": "relu", "alpha": 0.1}]})
    assert info.value.field == "layers[0].alpha"


def test_an_open_end_is_held_just_inside_by_the_engine_as_by_the_editors():
    from nnviz.core.catalogue import LAYERS, TINY, TRAINING
    clip, rate = TRAINING["clip_norm"], LAYERS["dropout"].params["rate"]
    assert clip.bounds() == (TINY, 1e12) and rate.bounds() == (0.0, 1 - 1e-6)
    assert clip.check(TINY, "c") == TINY and rate.check(0.999999, "r") == 0.999999
    with pytest.raises(SpecError, match=r"c: 0 is out of range: it must be greater than 0"):
        clip.check(0, "c")
    with pytest.raises(SpecError, match=r"c: 1e-310 .* at least 1e-300 \(the smallest value"):
        clip.check(1e-310, "c")
    with pytest.raises(SpecError, match=r"r: 0.9999999 .* at most 0.999999 \(the closest to 1"):
        rate.check(0.9999999, "r")
    with pytest.raises(SpecError, match=r"r: 1 is out of range: it must be less than 1"):
        rate.check(1, "r")

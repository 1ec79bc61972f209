"""Huge networks: refused from their shapes, naming the layer and the size, before any
parameter is allocated; large valid ones are checked without being built."""

import tracemalloc

import numpy as np
import pytest

from nnviz.core import network
from nnviz.core.errors import SpecError
from nnviz.core.experiment import Experiment, list_presets, load_preset
from nnviz.core.network import MEMORY_CAP, Network

MiB = 2 ** 20


def digits(*layers, input_shape=(64,)):
    return {"format": "nnviz-experiment/1", "dataset": {"name": "digits"},
            "model": {"input_shape": list(input_shape), "layers": list(layers),
                      "cost": "cross_entropy"}}


def dense(units, activation="relu"):
    return {"type": "dense", "units": units, "activation": activation}


OUTPUT = dense(10, "softmax")
MILLION = digits(dense(1_000_000), OUTPUT)                 # about 8.5 GiB to train
BIG = digits(dense(100_000), OUTPUT)                       # 7.5 million parameters, < 1 GiB
FILTERS = digits({"type": "conv2d", "filters": 4096, "kernel_size": 3, "padding": "same"},
                 {"type": "flatten"}, OUTPUT, input_shape=(1, 8, 8))


@pytest.fixture(autouse=True)
def large_machine(monkeypatch):
    """The budget is MEMORY_CAP on any machine the tests run on (half of 64 GiB is more)."""
    monkeypatch.setattr(network, "_machine_memory", lambda: 64 << 30)


def peak_allocation(action) -> int:
    """Bytes ``action`` allocated at its peak (numpy's arrays included)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("load", [Experiment.from_dict, lambda d: Network.from_spec(d["model"]),
                                  lambda d: Network.plan(d["model"])])
def test_a_million_units_are_refused_naming_the_layer_and_its_size(load):
    errors = []

    def attempt():
        try:
            load(MILLION)
        except SpecError as exc:
            errors.append(exc)
    assert peak_allocation(attempt) < 5 * MiB      # refused before anything was allocated
    (error,) = errors
    message = str(error)
    assert error.field.endswith("layers[0].units") and message.startswith(error.field)
    need, layer = (float(message.split(word)[1].split(" GiB")[0]) for word in ("about ", ", "))
    assert 7 < need < 10 and 7 < layer <= need   # 64 x 1e6 weights, 4 copies; 3e6 values x 256
    assert f"at most {MEMORY_CAP / 2**30:.1f} GiB fit" in message
    assert "use fewer units" in message


def test_too_many_filters_name_the_filters(monkeypatch):
    monkeypatch.setattr(network, "MEMORY_CAP", 1 << 30)
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(FILTERS)
    assert info.value.field == "model.layers[0].filters"
    assert "use fewer filters" in str(info.value)


def test_the_budget_is_half_the_machine_at_most_the_cap(monkeypatch):
    monkeypatch.setattr(network, "_machine_memory", lambda: 64 << 30)
    assert network.memory_budget() == MEMORY_CAP
    monkeypatch.setattr(network, "_machine_memory", lambda: 2 << 30)
    assert network.memory_budget() == 1 << 30


@pytest.mark.parametrize("spec", [BIG, FILTERS], ids=["100k units", "4096 filters"])
def test_large_valid_experiments_are_checked_without_building_them(spec):
    peak = peak_allocation(lambda: Experiment.from_dict(spec).to_dict())
    assert peak < 5 * MiB                              # the weights alone are 60 or 20 MiB
    plan = Network.plan(spec["model"])
    assert plan.memory < MEMORY_CAP


@pytest.mark.parametrize("name", [name for name, _ in list_presets()])
def test_a_plan_counts_the_parameters_the_network_builds(name):
    model = load_preset(name).model
    plan, net = Network.plan(model), Network.from_spec(model)
    assert plan.param_counts == [layer.param_count for layer in net.layers]
    assert [layer.output_shape for layer in plan.layers] == [layer.output_shape for layer in net.layers]
    assert plan.to_spec() == net.to_spec()


def test_a_plan_builds_the_same_network_as_from_spec():
    model = load_preset("digits_cnn").model
    built, direct = Network.plan(model).build(), Network.from_spec(model)
    for a, b in zip(built.layers, direct.layers):
        for key in a.params:
            np.testing.assert_array_equal(a.params[key], b.params[key])

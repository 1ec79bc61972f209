"""The lessons of the notes and of Glorot & Bengio, visible in the probes at initialisation.

Digits, 5 hidden layers of 64 units and a softmax output: the back-propagated gradient
||dC/dz|| from the output layer to the first layer, for each activation/initialisation.
"""

import numpy as np
import pytest

from nnviz.core.datasets import load_dataset
from nnviz.core.network import Network
from nnviz.core.probes import probe_layer


@pytest.fixture(scope="module")
def digits_batch():
    data = load_dataset({"name": "digits"})
    return data.X_train[:256], data.targets(data.y_train[:256], 10)


def probes_at_init(batch, activation, init):
    spec = {"input_shape": [64],
            "layers": [{"type": "dense", "units": 64, "activation": activation}] * 5
            + [{"type": "dense", "units": 10, "activation": "softmax"}],
            "cost": "cross_entropy", "init": init, "seed": 0}
    net = Network.from_spec(spec)
    net.compute_gradients(*batch)
    return [probe_layer(layer, None) for layer in net.weighted_layers]


def delta_ratio(probes):
    """||dC/dz|| of the first layer over that of the last (output) layer."""
    return probes[0].delta_norm / probes[-1].delta_norm


def test_sigmoid_standard_init_vanishes_by_about_1e4(digits_batch):
    ratio = delta_ratio(probes_at_init(digits_batch, "sigmoid", "standard"))
    assert 1e-5 < ratio < 1e-3


def test_tanh_standard_init_shrinks_delta_but_weight_gradients_stay_level(digits_batch):
    probes = probes_at_init(digits_batch, "tanh", "standard")
    assert 0.02 < delta_ratio(probes) < 0.3
    hidden = [p.weight_grad_norm for p in probes[:5]]
    assert max(hidden) / min(hidden) < 2.0


def test_relu_he_keeps_delta_within_a_factor_of_two(digits_batch):
    ratio = delta_ratio(probes_at_init(digits_batch, "relu", "he"))
    assert 0.5 < ratio < 2.0


def test_relu_normal_init_explodes(digits_batch):
    ratio = delta_ratio(probes_at_init(digits_batch, "relu", "normal"))
    assert 1e3 <= ratio <= 1e5


def test_sigmoid_normal_init_saturates_most_units(digits_batch):
    probes = probes_at_init(digits_batch, "sigmoid", "normal")
    saturated = np.mean([p.saturated_fraction for p in probes[:5]])
    assert saturated > 0.5
    assert all(p.saturated_fraction == 0.0 for p in probes_at_init(digits_batch, "sigmoid", "xavier")[:5])


def test_relu_dead_fraction_counts_units_silent_for_the_whole_batch(digits_batch):
    probes = probes_at_init(digits_batch, "relu", "he")
    assert all(0.0 <= p.dead_fraction < 0.2 for p in probes[:5])
    net = Network.from_spec({"input_shape": [64], "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                             {"type": "dense", "units": 10, "activation": "softmax"}], "cost": "cross_entropy"})
    net.layers[0].params["b"][:3] = -1e6  # three units can never fire
    net.compute_gradients(*digits_batch)
    assert probe_layer(net.layers[0], None).dead_fraction == pytest.approx(3 / 8)

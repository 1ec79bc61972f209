"""diagnose_gradients over whole training runs: every preset and a table of scenarios.

Each run is shortened to the epochs where its lesson already shows; the
verdict is checked at every snapshot, not only at initialisation.
"""

import pytest

from nnviz.core import Experiment, Trainer, list_presets, load_preset
from nnviz.core.diagnosis import diagnose_gradients

INIT_BLAME = {"small_init", "large_init"}


def run(preset, every, epochs, *, init=None, activation=None, eta=None):
    """(snapshot, diagnosis) at every snapshot of a shortened preset, and the trainer."""
    d = load_preset(preset).to_dict()
    d["training"]["epochs"] = epochs
    if eta is not None:
        d["training"]["optimizer"]["eta"] = eta
    if init is not None:
        d["model"]["init"] = init
    if activation is not None:
        for layer in d["model"]["layers"][:-1]:
            layer["activation"] = activation
    trainer = Trainer(Experiment.from_dict(d), snapshot_every=every)
    points = [(s, diagnose_gradients(s)) for s in trainer.run() if s.layers]
    return points, trainer


def causes(points):
    return [(d.kind, d.cause) if d else None for _, d in points]


# ---------------------------------------------------------------------- presets
# every preset's lesson, with (snapshot every, epochs) short enough for CI
HEALTHY = {"healthy_relu_he": (45, 40), "digits_mlp": (45, 20), "digits_cnn": (45, 8),
           "moons_small": (10, 150), "xor_small": (10, 150), "franke_regression": (10, 150),
           "sgd_vs_adam": (45, 10), "batchnorm_compare": (45, 10)}
SMALL_INIT = {"vanishing_sigmoid": (45, 40), "sigmoid_vs_relu_he": (45, 20)}
SPECIAL = {"exploding_relu"}                    # its own test below
INSTALLED = [name for name, _ in list_presets()]


def test_every_preset_has_a_diagnosis_lesson():
    assert set(INSTALLED) <= set(HEALTHY) | set(SMALL_INIT) | SPECIAL, \
        "add the new preset's expected verdicts to this file"


@pytest.mark.parametrize("preset", [n for n in HEALTHY if n in INSTALLED])
def test_presets_that_learn_are_never_diagnosed(preset):
    every, epochs = HEALTHY[preset]
    points, trainer = run(preset, every, epochs)
    assert len(points) >= epochs and trainer.stop_reason == "finished"
    assert causes(points) == [None] * len(points)


@pytest.mark.parametrize("preset", [n for n in SMALL_INIT if n in INSTALLED])
def test_deep_sigmoid_presets_blame_the_small_initialisation_throughout(preset):
    every, epochs = SMALL_INIT[preset]
    points, _ = run(preset, every, epochs)
    assert len(points) >= epochs
    assert set(causes(points)) == {("vanishing", "small_init")}
    last_snap, last = points[-1]
    assert "initialisation too small" in last.message and "at most 1/4" in last.message
    assert last.quantity == "delta" and last.quantity_label == "‖∂C/∂z‖"
    assert "‖∂C/∂z‖" in last.message.partition(": ")[0]      # the banner's heading
    # stuck at chance, and the weights are still at their initial size
    assert "no better than always guessing" in last.details
    assert all(0.9 < p.weight_norm / p.initial_weight_norm < 1.2 for p in last_snap.layers)


def test_exploding_relu_blames_the_large_init_never_a_small_one():
    points, _ = run("exploding_relu", 25, 50)
    verdicts = causes(points)
    assert verdicts[0] == ("exploding", "large_init")            # step 1: the explosion
    assert "initialisation too large for ReLU" in points[0][1].message
    assert not any("too small" in d.message for _, d in points if d)
    assert all(v is None or v[1] == "large_init" for v in verdicts)
    # after the first epochs the units of the last hidden layer are off: say so, always
    later = [(s, d) for s, d in points if s.epoch >= 3]
    assert len(later) >= 80 and all(d is not None for _, d in later)
    assert {d.kind for _, d in later} <= {"collapsed", "vanishing"}
    assert any(d.kind == "collapsed" for _, d in later)
    for _, d in later:
        assert "dense 4 (relu)" in d.message and "He initialisation" in d.message
        assert "the loss spiked to 3.45e+03 at step 1" in d.details
        assert "outputs 0" in d.details


# ---------------------------------------------------------------------- scenarios

def test_scenario_sigmoid_with_normal_init_saturates_but_never_blames_a_small_init():
    points, _ = run("vanishing_sigmoid", 45, 20, init="normal")
    assert max(s.layers[0].saturated_fraction for s, _ in points) >= 0.3
    assert all(d is None or d.cause == "saturation" for _, d in points)


def test_scenario_tanh_with_standard_init_learns_without_a_verdict():
    points, trainer = run("vanishing_sigmoid", 45, 20, activation="tanh")
    assert causes(points) == [None] * len(points)
    assert points[-1][0].val_accuracy > 0.85


def test_scenario_relu_with_he_init_is_healthy():
    points, _ = run("healthy_relu_he", 45, 20)
    assert causes(points) == [None] * len(points)
    assert points[-1][0].val_accuracy > 0.9


def test_scenario_relu_with_normal_init_explodes_at_the_start():
    points, _ = run("healthy_relu_he", 45, 2, init="normal", eta=0.001)
    first = points[0][1]
    assert (first.kind, first.cause) == ("exploding", "large_init")
    assert "He initialisation" in first.message


def test_scenario_a_learning_rate_that_kills_relus_blames_the_learning_rate():
    points, _ = run("healthy_relu_he", 45, 12, eta=1.0)
    later = [d for s, d in points if s.epoch >= 3]
    assert len(later) >= 9 and all(d is not None for d in later)
    assert {d.kind for d in later} <= {"collapsed", "vanishing"}
    assert {d.cause for d in later} == {"learning_rate"}
    assert all("learning rate 10x smaller" in d.message for d in later)
    assert all("never switch on" in d.message for d in later)


def test_scenario_a_diverging_learning_rate_is_stopped_and_blamed():
    points, trainer = run("healthy_relu_he", 1, 2, eta=3.0)
    assert trainer.stop_reason.startswith("diverged: the loss blew up at step")
    verdicts = [d for _, d in points if d]
    assert verdicts and all(d.cause == "learning_rate" for d in verdicts)
    assert verdicts[-1].kind == "exploding"
    assert "learning rate" in verdicts[-1].message

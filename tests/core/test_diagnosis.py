"""diagnose_gradients: the verdict, the ratio and the message on crafted probes."""

import math

import numpy as np
import pytest

from nnviz.core.diagnosis import Diagnosis, diagnose_gradients, format_factor
from nnviz.core.snapshot import LayerProbe


def probe(i, activation="relu", delta=1.0, wgrad=None, weight_norm=3.0,
          saturated=0.0, dead=0.0):
    return LayerProbe(index=i, name=f"dense {i + 1} ({activation})", activation=activation,
                      weight_grad_norm=delta if wgrad is None else wgrad, delta_norm=delta,
                      weight_norm=weight_norm, update_ratio=1e-3, act_mean=0.0, act_std=1.0,
                      saturated_fraction=saturated, dead_fraction=dead,
                      act_sample=np.zeros(4))


def net(deltas, activation="relu", output="softmax", **kw):
    """Probes of a network: hidden layers with `activation`, then an output layer."""
    acts = [activation] * (len(deltas) - 1) + [output]
    return [probe(i, a, d, **kw) for i, (a, d) in enumerate(zip(acts, deltas))]


def test_healthy_network_has_no_diagnosis():
    assert diagnose_gradients(net([0.5, 0.8, 1.0, 2.0])) is None
    # exactly at the thresholds is still healthy
    assert diagnose_gradients(net([0.01, 1.0])) is None
    assert diagnose_gradients(net([100.0, 1.0])) is None


def test_needs_two_weighted_layers():
    assert diagnose_gradients([]) is None
    assert diagnose_gradients([probe(0, delta=1e-9)]) is None
    assert diagnose_gradients([probe(0, delta=math.nan)]) is None


def test_vanishing_with_saturated_sigmoid():
    probes = net([1e-6, 1e-4, 1e-2], "sigmoid", saturated=0.8)
    d = diagnose_gradients(probes)
    assert isinstance(d, Diagnosis)
    assert d.kind == "vanishing"
    assert d.ratio == pytest.approx(1e-4)
    assert (d.first_layer, d.last_layer) == ("dense 1 (sigmoid)", "dense 3 (softmax)")
    assert "dense 1 (sigmoid)" in d.message and "dense 3 (softmax)" in d.message
    assert "10,000x less gradient than the last" in d.message
    assert "saturating activation" in d.message and "80%" in d.message
    assert "ReLU with He initialisation" in d.message


def test_vanishing_with_small_init_for_unsaturated_sigmoid():
    d = diagnose_gradients(net([2e-5, 1e-3, 0.1, 1.0], "sigmoid", saturated=0.05))
    assert d.kind == "vanishing"
    assert d.ratio == pytest.approx(2e-5)
    assert "50,000x less" in d.message
    assert "initialisation too small" in d.message
    assert "at most 1/4" in d.message


def test_vanishing_tanh_suggests_xavier():
    d = diagnose_gradients(net([1e-3, 1.0], "tanh", saturated=0.9))
    assert d.kind == "vanishing"
    assert "1,000x less" in d.message
    assert "Xavier initialisation for tanh" in d.message


def test_vanishing_through_dead_relus():
    d = diagnose_gradients(net([0.0, 1e-3, 1.0], "relu", dead=0.7))
    assert d.kind == "vanishing"
    assert d.ratio == 0.0
    assert "no gradient at all" in d.message
    assert "dead ReLUs" in d.message and "70%" in d.message


def test_exploding_with_relu_blames_large_init():
    probes = net([5e3, 50.0, 1.0], "relu", weight_norm=40.0)
    d = diagnose_gradients(probes)
    assert d.kind == "exploding"
    assert d.ratio == pytest.approx(5000.0)
    assert "5,000x more gradient" in d.message
    assert "initialisation too large for ReLU" in d.message
    assert "40" in d.message
    assert "He initialisation" in d.message and "gradient clipping" in d.message


def test_exploding_with_tanh_suggests_xavier_and_clipping():
    d = diagnose_gradients(net([1e3, 1.0], "tanh"))
    assert d.kind == "exploding"
    assert "Xavier" in d.message and "gradient clipping" in d.message


@pytest.mark.parametrize("field", ["delta", "wgrad", "weight_norm"])
def test_non_finite_norm_blames_learning_rate(field):
    probes = net([1.0, 1.0, 1.0])
    probes[1] = probe(1, **{field: math.inf if field != "delta" else math.nan})
    d = diagnose_gradients(probes)
    assert d.kind == "non_finite"
    assert "dense 2 (relu)" in d.message
    assert "learning rate too large" in d.message
    assert "smaller" in d.message


def test_non_finite_wins_over_vanishing():
    probes = net([1e-9, 1.0])
    probes[0] = probe(0, delta=1e-9, wgrad=math.nan)
    d = diagnose_gradients(probes)
    assert d.kind == "non_finite"
    assert d.ratio == pytest.approx(1e-9)


def test_last_layer_without_gradient_gives_no_verdict():
    assert diagnose_gradients(net([1.0, 0.0])) is None


@pytest.mark.parametrize("x, text", [
    (3.14, "3.1"), (10_000, "10,000"), (81_234, "81,000"), (999.4, "1,000"),
    (3.5e6, "3.5 million"), (2e9, "2 billion"), (1e15, "10^15"), (math.inf, "infinitely many"),
])
def test_format_factor(x, text):
    assert format_factor(x) == text


# ---------------------------------------------------------------------- at any point of training

def trained(deltas, activation="relu", *, growth=1.0, gain=1.4, dead=0.0, inactive=0.5,
            saturated=0.0):
    """Probes that know their initial weight size (as the Trainer's do)."""
    acts = [activation] * (len(deltas) - 1) + ["softmax"]
    return [LayerProbe(index=i, name=f"dense {i} ({a})", activation=a, weight_grad_norm=d,
                       delta_norm=d, weight_norm=5.0 * growth, update_ratio=1e-3, act_mean=0.0,
                       act_std=1.0, saturated_fraction=saturated if a != "softmax" else 0.0,
                       dead_fraction=dead if a != "softmax" else 0.0, act_sample=np.zeros(4),
                       initial_weight_norm=5.0, weight_gain=gain,
                       inactive_fraction=inactive if a != "softmax" else 0.0)
            for i, (a, d) in enumerate(zip(acts, deltas))]


def test_exploding_after_the_weights_grew_blames_the_learning_rate_not_the_init():
    d = diagnose_gradients(trained([1e4, 10.0, 1.0], growth=40.0))
    assert (d.kind, d.cause) == ("exploding", "learning_rate")
    assert "grown 40x" in d.message and "initialisation" not in d.message
    assert "learning rate" in d.message


def test_exploding_with_he_sized_weights_blames_the_learning_rate():
    d = diagnose_gradients(trained([1e4, 10.0, 1.0], gain=1.5))
    assert (d.kind, d.cause) == ("exploding", "learning_rate")


def test_relus_off_with_large_initial_weights_blame_the_initialisation():
    d = diagnose_gradients(trained([1e-5, 1e-3, 1.0], gain=8.0, inactive=0.97))
    assert (d.kind, d.cause) == ("vanishing", "large_init")
    assert "97% of the outputs of dense 0 (relu) are 0" in d.message
    assert "gain 8" in d.message and "He initialisation" in d.message
    assert "too small" not in d.message


def test_relus_dead_after_training_blame_the_learning_rate():
    d = diagnose_gradients(trained([0.3, 0.5, 1.0], gain=1.5, dead=0.9, inactive=0.99))
    assert (d.kind, d.cause) == ("collapsed", "learning_rate")   # the ratio alone looks fine
    assert d.message.startswith("Units switched off:")
    assert "90% of the units" in d.message and "learning rate 10x smaller" in d.message
    assert "dense 0 (relu): ‖∂C/∂z‖ 0.3, ‖W‖ 5, 1x its initial size, gain 1.5, " \
           "90% units dead, 99% outputs 0" in d.details


def test_relu_vanishing_with_large_weights_never_blames_a_small_init():
    d = diagnose_gradients(trained([1e-4, 1e-2, 1.0], gain=6.0, inactive=0.75))
    assert d.kind == "vanishing" and d.cause != "small_init"
    assert "too small" not in d.message


def test_relu_vanishing_with_small_weights_at_init_blames_the_init():
    d = diagnose_gradients(trained([1e-4, 1e-2, 1.0], gain=0.5))
    assert (d.kind, d.cause) == ("vanishing", "small_init")
    d = diagnose_gradients(trained([1e-4, 1e-2, 1.0], gain=0.5, growth=3.0))
    assert d.cause != "small_init"


def test_sigmoid_vanishing_after_the_weights_moved_blames_the_slope_not_the_init():
    d = diagnose_gradients(trained([1e-4, 1e-2, 1.0], "sigmoid", gain=0.6, growth=0.3))
    assert (d.kind, d.cause) == ("vanishing", "slope")
    assert "at most 1/4" in d.message and "initialisation too small" not in d.message


def test_a_snapshot_gives_the_loss_spike_and_being_stuck_as_evidence():
    from nnviz.core.snapshot import Snapshot
    snap = Snapshot(step=500, epoch=10, epoch_progress=10.0, samples_seen=16000, elapsed=1.0,
                    train_loss=2.2, val_loss=2.3, train_accuracy=0.2, val_accuracy=0.2,
                    layers=tuple(trained([1e-5, 1e-3, 1.0], gain=8.0, inactive=0.97)),
                    learning_rate=1e-3, baseline_loss=2.3, peak_loss=3450.0, peak_step=1)
    d = diagnose_gradients(snap)
    assert d.cause == "large_init"
    assert "the loss spiked to 3.45e+03 at step 1" in d.details
    assert "the loss now (2.2) is no better than always guessing" in d.details
    calm = Snapshot(**{**snap.__dict__, "peak_loss": 2.4, "train_loss": 0.3})
    details = diagnose_gradients(calm).details
    assert "spiked" not in details and "no better" not in details


def test_details_give_both_gradient_ratios_so_a_plot_of_either_can_be_matched():
    probes = net([960.0, 1.0], "relu", wgrad=None)
    probes[0] = probe(0, delta=960.0, wgrad=1.5)
    probes[1] = probe(1, "softmax", delta=1.0, wgrad=1.0)
    d = diagnose_gradients(probes)
    assert d.kind == "exploding" and d.quantity == "delta"
    assert d.ratio == pytest.approx(960) and d.weight_ratio == pytest.approx(1.5)
    assert d.details.startswith("‖∂C/∂z‖ first / last layer: 960 (‖∂C/∂W‖: 1.5;")


def test_leaky_units_below_zero_still_pass_gradient_so_they_are_not_switched_off():
    assert diagnose_gradients(trained([0.3, 0.5, 1.0], "leaky_relu", dead=0.9,
                                      inactive=0.99)) is None
    assert diagnose_gradients(trained([0.3, 0.5, 1.0], "relu", dead=0.9,
                                      inactive=0.99)).kind == "collapsed"

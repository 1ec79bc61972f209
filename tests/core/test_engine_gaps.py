"""Tests that close gaps a one-line mutation of the engine used to slip through (issue 8):
each names the mutation it catches."""

import numpy as np
import pytest

from nnviz.core import Experiment, Network, Trainer, load_dataset, load_preset
from nnviz.core.activations import make_activation
from nnviz.core.errors import SpecError
from nnviz.core.probes import dead_fraction, probe_layer


def preset(name, **training):
    d = load_preset(name).to_dict()
    d["training"].update(training)
    return Experiment.from_dict(d)


def by_hand_cross_entropy(p, Y):
    return -np.mean(np.sum(Y * np.log(np.clip(p, 1e-12, None)), axis=1))


def by_hand_bce(p, Y):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))


# mutation: the validation / evaluate() loss of cross-entropy or BCE summed, not averaged
@pytest.mark.parametrize("name, by_hand", [("moons_small", by_hand_cross_entropy),
                                           ("xor_small", by_hand_bce)])
def test_evaluate_loss_is_the_mean_over_samples(name, by_hand):
    trainer = Trainer(preset(name, epochs=3), snapshot_every=5)
    snaps = list(trainer.run())
    data = trainer.dataset
    result = trainer.evaluate()
    for split, X, Y in [("val", data.X_val, trainer.Y_val), ("train", data.X_train, trainer.Y_train)]:
        expected = by_hand(trainer.network.forward(X), Y)
        assert result[f"{split}_loss"] == pytest.approx(expected, rel=1e-6)
    assert 0.05 < result["val_loss"] < 1.5          # a mean of per-sample losses, not a sum
    assert snaps[-1].val_loss == pytest.approx(result["val_loss"], rel=1e-9)


# mutation: evaluate() without the L2 term
def test_evaluate_includes_the_l2_term():
    trainer = Trainer(preset("moons_small", epochs=2, l2=0.05), snapshot_every=5)
    list(trainer.run())
    net = trainer.network
    cost = by_hand_cross_entropy(net.forward(trainer.dataset.X_val), trainer.Y_val)
    penalty = 0.5 * 0.05 * sum(float(np.sum(w ** 2)) for w in net.weight_matrices())
    assert penalty > 1e-2
    assert trainer.evaluate()["val_loss"] == pytest.approx(cost + penalty, rel=1e-6)


# mutation: a validation split that overlaps the training split (regression sets)
@pytest.mark.parametrize("name", ["franke", "sine", "moons"])
def test_validation_split_does_not_overlap_the_training_split(name):
    data = load_dataset({"name": name, "n_samples": 200})
    assert len(data.X_train) + len(data.X_val) == 200 and len(data.X_val) == 40
    train_rows = {tuple(np.round(row, 10)) for row in data.X_train.reshape(len(data.X_train), -1)}
    val_rows = {tuple(np.round(row, 10)) for row in data.X_val.reshape(len(data.X_val), -1)}
    assert len(train_rows) == len(data.X_train) and len(val_rows) == len(data.X_val)
    assert not train_rows & val_rows


# mutation: the batches are shuffled once, not before every epoch
def test_batches_are_reshuffled_every_epoch(monkeypatch):
    trainer = Trainer(preset("moons_small", epochs=3, batch_size=16), snapshot_every=100)
    seen = []
    original = trainer.network.compute_gradients
    monkeypatch.setattr(trainer.network, "compute_gradients",
                        lambda X, Y, l2=0.0: seen.append(X.copy()) or original(X, Y, l2))
    list(trainer.run())
    per_epoch = trainer.steps_per_epoch
    epochs = [np.concatenate(seen[i * per_epoch:(i + 1) * per_epoch]) for i in range(3)]
    train = trainer.dataset.X_train
    key = lambda a: sorted(map(tuple, np.round(a, 12)))
    for order in epochs:                                  # each epoch sees every sample once
        assert key(order) == key(train)
    assert not np.array_equal(epochs[0], epochs[1])       # ... in a new order
    assert not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], train)


# mutation: the conv dead fraction counted per position instead of per filter
def test_conv_dead_fraction_counts_filters():
    z = -np.ones((2, 4, 3, 3))
    z[1, 1, 2, 0] = 0.5            # filter 1 fires once, at one position of one sample
    z[:, 2:] = 1.0                 # filters 2 and 3 fire everywhere
    assert dead_fraction(z) == pytest.approx(0.25)   # only filter 0 never fires
    net = Network.from_spec({"input_shape": [1, 8, 8], "init": "he", "seed": 0, "cost": "cross_entropy",
                             "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3,
                                         "padding": "same", "activation": "relu"},
                                        {"type": "flatten"},
                                        {"type": "dense", "units": 10, "activation": "softmax"}]})
    conv = net.layers[0]
    conv.params["b"][[0, 5]] = -1e3            # two filters that never switch on
    data = load_dataset({"name": "digits"}, input_shape=net.input_shape)
    net.compute_gradients(data.X_train[:16], data.targets(data.y_train[:16], 10))
    assert probe_layer(conv, None).dead_fraction == pytest.approx(2 / 8)


# mutation: the tanh saturated fraction stuck at 0
def test_tanh_saturated_fraction_counts_the_flat_ends():
    tanh = make_activation("tanh")
    assert tanh.saturated_fraction(np.array([0.95, -0.99, 0.5, 0.0, -0.89, 0.91])) == \
        pytest.approx(0.5)
    d = load_preset("vanishing_sigmoid").to_dict()
    d["model"]["init"] = "normal"
    for layer in d["model"]["layers"][:-1]:
        layer["activation"] = "tanh"
    d["training"]["epochs"] = 1
    snap = next(Trainer(Experiment.from_dict(d), snapshot_every=10).run())
    assert all(p.saturated_fraction > 0.3 for p in snap.layers[:-1])   # N(0,1) saturates tanh


# mutation: set_hyperparameters does not check clip_norm (and uses the catalogue's range)
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), 1e13, "1", True])
def test_set_hyperparameters_checks_clip_norm(bad):
    trainer = Trainer(preset("moons_small", epochs=1))
    with pytest.raises(SpecError) as err:
        trainer.set_hyperparameters(clip_norm=bad)
    assert err.value.field == "training.clip_norm"
    assert trainer.clip_norm is None                      # unchanged
    trainer.set_hyperparameters(clip_norm=2.5)
    assert trainer.clip_norm == 2.5
    trainer.set_hyperparameters(clip_norm=None)
    assert trainer.clip_norm is None


@pytest.mark.parametrize("bad", [-1.0, float("nan"), 1e7])
def test_set_hyperparameters_checks_l2_against_the_catalogue(bad):
    trainer = Trainer(preset("moons_small", epochs=1))
    with pytest.raises(SpecError, match="training.l2"):
        trainer.set_hyperparameters(l2=bad)

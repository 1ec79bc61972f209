"""The notes' examples reach their accuracies on held-out data (a few seconds each)."""

import numpy as np

from nnviz.core import Experiment, Trainer

MLP = {"input_shape": [64], "cost": "cross_entropy", "init": "he",
       "layers": [{"type": "dense", "units": 100, "activation": "relu"},
                  {"type": "dense", "units": 30, "activation": "relu"},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}
CNN = {"input_shape": [1, 8, 8], "cost": "cross_entropy", "init": "he",
       "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
                  {"type": "maxpool2d", "size": 2}, {"type": "flatten"},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}


def train(dataset, model, eta, epochs, batch_size=32):
    exp = Experiment.from_dict({"dataset": dataset, "model": model, "training": {
        "optimizer": {"name": "adam", "eta": eta}, "epochs": epochs, "batch_size": batch_size}})
    trainer = Trainer(exp, snapshot_every=10 ** 9)
    assert list(trainer.run())[-1].stop_reason == "finished"
    return trainer


def test_xor_gate_is_learned_exactly():
    model = {"input_shape": [2], "cost": "bce", "init": "xavier", "seed": 1,
             "layers": [{"type": "dense", "units": 2, "activation": "sigmoid"},
                        {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    trainer = train({"name": "xor", "noise": 0, "n_samples": 4}, model, eta=0.1, epochs=300, batch_size=4)
    assert trainer.evaluate()["val_accuracy"] == 1.0


def test_breast_cancer_reaches_95_percent():
    model = {"input_shape": [30], "cost": "bce", "init": "he",
             "layers": [{"type": "dense", "units": 16, "activation": "relu"},
                        {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    assert train({"name": "breast_cancer"}, model, eta=0.003, epochs=30).evaluate()["val_accuracy"] >= 0.95


def test_digits_mlp_64_100_30_10_reaches_96_percent():
    assert train({"name": "digits"}, MLP, eta=0.001, epochs=30).evaluate()["val_accuracy"] >= 0.96


def test_small_digits_cnn_reaches_97_percent():
    assert train({"name": "digits"}, CNN, eta=0.01, epochs=15).evaluate()["val_accuracy"] >= 0.97


def test_polynomial_regression_reaches_a_low_mse():
    model = {"input_shape": [2], "cost": "mse", "init": "xavier",
             "layers": [{"type": "dense", "units": 32, "activation": "tanh"},
                        {"type": "dense", "units": 32, "activation": "tanh"},
                        {"type": "dense", "units": 1}]}
    trainer = train({"name": "franke"}, model, eta=0.01, epochs=100)
    variance = float(np.var(trainer.Y_val))
    assert trainer.evaluate()["val_loss"] < 0.01 * variance  # R^2 > 0.99

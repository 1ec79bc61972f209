"""The training loop: snapshots, control requests, divergence, clipping, live changes."""

import math
import threading

import numpy as np
import pytest

from nnviz.core import Experiment, Trainer
from nnviz.core.errors import SpecError
from nnviz.core.runs import RunState


def experiment(epochs=2, eta=0.05, optimizer="adam", clip_norm=None, dataset=None, layers=None, **model):
    return Experiment.from_dict({
        "format": "nnviz-experiment/1",
        "dataset": dataset or {"name": "moons", "n_samples": 200, "noise": 0.1, "seed": 0},
        "model": {"input_shape": [2], "cost": "cross_entropy", "init": "xavier", "seed": 0,
                  "layers": layers or [{"type": "dense", "units": 8, "activation": "tanh"},
                                       {"type": "dense", "units": 2, "activation": "softmax"}], **model},
        "training": {"optimizer": {"name": optimizer, "eta": eta}, "epochs": epochs, "batch_size": 16,
                     "clip_norm": clip_norm}})


def test_snapshots_come_every_k_steps_first_after_step_one_last_when_done():
    trainer = Trainer(experiment(epochs=2), snapshot_every=5)
    snaps = list(trainer.run())
    assert trainer.steps_per_epoch == 10 and trainer.total_steps == 20  # 160 training samples
    assert [s.step for s in snaps] == [1, 5, 10, 15, 20]
    assert snaps[-1].done and snaps[-1].stop_reason == "finished"
    assert not any(s.done for s in snaps[:-1])
    assert snaps[-1].epoch == 1 and snaps[-1].epoch_progress == pytest.approx(2.0)
    assert snaps[-1].samples_seen == 320


def test_snapshot_fields_and_probes():
    snap = next(Trainer(experiment(), snapshot_every=1).run())
    assert snap.step == 1 and snap.epoch == 0
    assert math.isfinite(snap.train_loss) and math.isfinite(snap.val_loss)
    assert 0.0 <= snap.train_accuracy <= 1.0 and 0.0 <= snap.val_accuracy <= 1.0
    assert [p.name for p in snap.layers] == ["dense 0 (tanh)", "dense 1 (softmax)"]
    for p in snap.layers:
        assert p.weight_grad_norm > 0 and p.delta_norm > 0 and p.weight_norm > 0
        assert 0 < p.update_ratio < 1
        assert p.act_sample.ndim == 1 and 0 < p.act_sample.size <= 2000
    assert snap.layers[0].act_std > 0 and snap.layers[0].dead_fraction == 0.0


def test_snapshots_are_immutable_copies():
    trainer = Trainer(experiment(), snapshot_every=1)
    run = trainer.run()
    first = next(run)
    sample = first.layers[0].act_sample.copy()
    next(run), next(run)
    np.testing.assert_array_equal(first.layers[0].act_sample, sample)
    with pytest.raises(AttributeError):
        first.step = 7


def test_update_ratio_is_the_relative_change_of_the_weights():
    trainer = Trainer(experiment(optimizer="constant", eta=0.1), snapshot_every=1)
    w0 = trainer.network.layers[0].params["W"].copy()
    snap = next(trainer.run())
    w1 = trainer.network.layers[0].params["W"]
    assert snap.layers[0].update_ratio == pytest.approx(np.linalg.norm(w1 - w0) / np.linalg.norm(w0))
    # plain SGD: the change is eta times the gradient
    assert np.linalg.norm(w1 - w0) == pytest.approx(0.1 * snap.layers[0].weight_grad_norm)


def test_stop_request_is_honoured_between_steps():
    trainer = Trainer(experiment(epochs=50), snapshot_every=1)
    snaps = []
    for snap in trainer.run():
        snaps.append(snap)
        if snap.step == 3:
            trainer.request_stop()
    assert snaps[-1].done and snaps[-1].stop_reason == "stopped" and snaps[-1].step == 3


def test_max_steps_pauses_and_run_resumes_where_it_left_off():
    trainer = Trainer(experiment(epochs=1), snapshot_every=100)
    first = list(trainer.run(max_steps=3))
    assert [s.step for s in first] == [1, 3] and not first[-1].done
    rest = list(trainer.run(max_steps=1))
    assert [s.step for s in rest] == [4]
    assert list(trainer.run())[-1].step == trainer.total_steps


def test_stop_from_another_thread():
    trainer = Trainer(experiment(epochs=10_000), snapshot_every=1000)
    thread = threading.Thread(target=lambda: list(trainer.run()))
    thread.start()
    trainer.request_stop()
    thread.join(timeout=60)           # returns as soon as the run stops
    assert not thread.is_alive() and trainer.stop_reason == "stopped"


def test_divergence_stops_with_a_reason_and_keeps_the_last_good_weights():
    layers = [{"type": "dense", "units": 32, "activation": "relu"}] * 4 + [
        {"type": "dense", "units": 2, "activation": "softmax"}]
    trainer = Trainer(experiment(epochs=50, eta=1e6, optimizer="constant", layers=layers, init="normal"),
                      snapshot_every=1)
    snaps = list(trainer.run())
    assert snaps[-1].done and snaps[-1].stop_reason.startswith("diverged")
    assert "learning rate" in snaps[-1].stop_reason
    for layer in trainer.network.layers:
        assert all(np.all(np.isfinite(p)) for p in layer.params.values())
    assert math.isfinite(trainer.evaluate()["val_loss"])


def test_clipping_bounds_the_applied_gradient_but_probes_show_the_raw_one():
    trainer = Trainer(experiment(optimizer="constant", eta=1.0, clip_norm=1e-3), snapshot_every=1)
    before = [w.copy() for w in trainer.network.weight_matrices()]
    snap = next(trainer.run())
    moved = math.sqrt(sum(np.sum((w - b) ** 2) for w, b in zip(trainer.network.weight_matrices(), before)))
    assert moved <= 1e-3 * (1 + 1e-9)
    assert math.hypot(*(p.weight_grad_norm for p in snap.layers)) > 1e-2


def test_live_hyperparameter_changes_apply_to_the_next_steps():
    trainer = Trainer(experiment(epochs=5), snapshot_every=1)
    run = trainer.run()
    assert next(run).learning_rate == 0.05
    trainer.set_hyperparameters(eta=0.001, l2=0.1, clip_norm=5.0)
    snap = next(run)
    assert snap.learning_rate == 0.001 and trainer.l2 == 0.1 and trainer.clip_norm == 5.0
    trainer.set_hyperparameters(clip_norm=None)
    assert trainer.clip_norm is None
    with pytest.raises(SpecError, match="training.l2"):
        trainer.set_hyperparameters(l2=-1.0)


def test_training_is_reproducible():
    a = [s.train_loss for s in Trainer(experiment(), snapshot_every=3).run()]
    b = [s.train_loss for s in Trainer(experiment(), snapshot_every=3).run()]
    assert a == b


def test_regression_has_no_accuracy():
    exp = Experiment.from_dict({
        "dataset": {"name": "sine", "seed": 0},
        "model": {"input_shape": [1], "cost": "mse", "layers": [
            {"type": "dense", "units": 16, "activation": "tanh"}, {"type": "dense", "units": 1}]},
        "training": {"epochs": 1}})
    snap = list(Trainer(exp).run())[-1]
    assert snap.train_accuracy is None and snap.val_accuracy is None and math.isfinite(snap.val_loss)


def test_extend_trains_on_from_the_current_weights():
    trainer = Trainer(experiment(epochs=2), snapshot_every=1000)
    list(trainer.run())
    assert trainer.finished and trainer.end_state is RunState.FINISHED
    steps, weights = trainer.step_count, trainer.network.layers[0].params["W"].copy()
    trainer.extend(2)
    assert not trainer.finished and trainer.total_steps == steps + 2 * trainer.steps_per_epoch
    last = list(trainer.run())[-1]
    assert last.done and trainer.step_count == steps + 2 * trainer.steps_per_epoch
    assert trainer.end_state is RunState.FINISHED
    assert not np.array_equal(trainer.network.layers[0].params["W"], weights)   # trained on
    with pytest.raises(SpecError, match="epochs"):
        trainer.extend(0)


def recording_batches(trainer):
    """Make every training step record (z, a) of each weighted layer for its batch."""
    seen = []
    compute = trainer.network.compute_gradients

    def recorded(X, Y, l2=0.0):
        loss = compute(X, Y, l2)
        seen.append([(layer.z.copy(), layer.a.copy()) for layer in trainer.network.weighted_layers])
        return loss
    trainer.network.compute_gradients = recorded
    return seen


def relu_experiment():
    return experiment(layers=[{"type": "dense", "units": 16, "activation": "relu"},
                              {"type": "dense", "units": 2, "activation": "softmax"}], init="he")


def test_probes_describe_the_training_batch_not_the_validation_split():
    trainer = Trainer(relu_experiment(), snapshot_every=3)
    seen = recording_batches(trainer)
    snaps = list(trainer.run(max_steps=6))
    assert [s.step for s in snaps] == [1, 3, 6]
    for snap in snaps:
        z, a = seen[snap.step - 1][0]
        probe = snap.layers[0]
        assert probe.act_mean == pytest.approx(float(a.mean()), rel=1e-12)
        assert probe.act_std == pytest.approx(float(a.std()), rel=1e-12)
        assert probe.dead_fraction == pytest.approx(1.0 - np.mean((z > 0).any(axis=0)))
        assert probe.inactive_fraction == pytest.approx(1.0 - np.mean(z > 0))
    # ... which is not what the validation split gives (the probes read it before the fix)
    val = trainer.network.activations(trainer.dataset.X_val)[0]
    assert abs(float(val.mean()) - snaps[-1].layers[0].act_mean) > 1e-3


def digits_cnn_experiment():
    return Experiment.from_dict({
        "dataset": {"name": "digits"},
        "model": {"input_shape": [1, 8, 8], "cost": "cross_entropy", "init": "he", "seed": 0,
                  "layers": [{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same",
                              "activation": "relu"},
                             {"type": "maxpool2d", "size": 2}, {"type": "flatten"},
                             {"type": "dense", "units": 10, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 1, "batch_size": 16}})


@pytest.mark.parametrize("make", [relu_experiment, digits_cnn_experiment])
def test_an_evaluation_pass_before_a_snapshot_leaves_its_probes_alone(make):
    """The window's views run forward passes between steps: the probes still show the step."""
    plain, viewed = Trainer(make()), Trainer(make())
    for trainer in (plain, viewed):
        trainer.step()
    viewed.network.forward(viewed.dataset.X_val[:5], training=False)
    for a, b in zip(plain.snapshot().layers, viewed.snapshot().layers):
        assert (a.act_mean, a.act_std, a.dead_fraction, a.delta_norm) == \
               (b.act_mean, b.act_std, b.dead_fraction, b.delta_norm)
        np.testing.assert_array_equal(a.act_sample, b.act_sample)

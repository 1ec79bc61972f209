"""Divergence that is not NaN: a loss that blows up, or weights that grow without bound,
stops the run with a message naming the step, and the last good weights are kept."""

import json

import numpy as np
import pytest

import nnviz.core.trainer as trainer_module
from nnviz.cli import main
from nnviz.core import Experiment, RunState, Trainer, load_preset


def digits_mlp(optimizer, eta, epochs=3):
    d = load_preset("digits_mlp").to_dict()
    d["training"].update(optimizer={"name": optimizer, "eta": eta}, epochs=epochs)
    return Experiment.from_dict(d)


@pytest.mark.parametrize("optimizer, eta", [("constant", 1000.0), ("constant", 50.0)])
def test_a_loss_that_blows_up_stops_the_run_and_keeps_the_last_good_weights(optimizer, eta):
    trainer = Trainer(digits_mlp(optimizer, eta), snapshot_every=1)
    snaps = list(trainer.run())
    assert trainer.end_state is RunState.DIVERGED and snaps[-1].done
    reason = trainer.stop_reason
    step = trainer.step_count + 1
    assert reason.startswith(f"diverged: the loss blew up at step {step} (")
    assert "the learning rate is probably too large" in reason
    # the weights whose loss blew up are not kept: those of the snapshot before them are
    assert snaps[-2].step == step - 1
    kept = [np.linalg.norm(w) for w in trainer.network.weight_matrices()]
    if step > 2:
        assert [p.weight_norm for p in snaps[-3].layers] == pytest.approx(kept)
    else:
        assert Trainer(trainer.experiment).initial_weight_norms == pytest.approx(kept)


def test_adam_with_a_huge_rate_blows_the_weights_up_at_once_and_keeps_the_initial_ones():
    exp = digits_mlp("adam", 1e6)
    initial = [w.copy() for w in Trainer(exp).network.weight_matrices()]
    trainer = Trainer(exp, snapshot_every=1)
    list(trainer.run())
    assert trainer.stop_reason.startswith("diverged: the weights blew up at step 1 (||W|| of "
                                          "dense 0 (relu) grew from 14.1 to ")
    for w, w0 in zip(trainer.network.weight_matrices(), initial):
        np.testing.assert_array_equal(w, w0)


def test_the_weights_whose_loss_blew_up_are_not_kept():
    # the snapshot after step 1 looks sane (validation loss finite and below the limit),
    # but the next mini-batch loss computed with those weights blows up: the run keeps
    # the initial weights
    exp = digits_mlp("constant", 1000.0)
    initial = [w.copy() for w in Trainer(exp).network.weight_matrices()]
    trainer = Trainer(exp, snapshot_every=45)
    first = next(trainer.run())
    assert first.step == 1 and first.val_loss < trainer_module.LOSS_BLOWUP * trainer.first_loss
    list(trainer.run())
    assert trainer.stop_reason.startswith("diverged: the loss blew up at step 2")
    for w, w0 in zip(trainer.network.weight_matrices(), initial):
        np.testing.assert_array_equal(w, w0)


def test_the_blow_up_threshold_is_relative_to_the_start():
    # exploding_relu starts at a loss of 3,450, over 1000x the baseline (its lesson):
    # measured against its own start, it is not a divergence
    d = load_preset("exploding_relu").to_dict()
    d["training"]["epochs"] = 3
    trainer = Trainer(Experiment.from_dict(d), snapshot_every=45)
    list(trainer.run())
    assert trainer.first_loss > trainer_module.LOSS_BLOWUP * trainer.baseline_loss
    assert trainer.stop_reason == "finished"


def test_weights_that_grow_without_bound_stop_the_run(monkeypatch):
    monkeypatch.setattr(trainer_module, "WEIGHT_BLOWUP", 1.05)   # any real growth is "too much"
    exp = digits_mlp("adam", 0.05, epochs=5)
    trainer = Trainer(exp, snapshot_every=1)
    snaps = list(trainer.run())
    assert trainer.end_state is RunState.DIVERGED
    assert "diverged: the weights blew up at step" in trainer.stop_reason
    assert "||W|| of dense 0 (relu) grew from" in trainer.stop_reason
    assert "learning rate is probably too large" in trainer.stop_reason
    # the weights of the last snapshot (one step before) are kept, and they are within bounds
    last_good = snaps[-2]
    assert [p.weight_norm for p in last_good.layers] == pytest.approx(
        [np.linalg.norm(w) for w in trainer.network.weight_matrices()])


def test_a_healthy_run_keeps_its_peak_and_baseline_loss():
    exp = digits_mlp("adam", 0.001, epochs=2)
    trainer = Trainer(exp, snapshot_every=30)
    snaps = list(trainer.run())
    assert trainer.stop_reason == "finished"
    assert snaps[-1].baseline_loss == pytest.approx(np.log(10), abs=0.01)   # ~uniform classes
    assert snaps[-1].peak_loss >= snaps[0].train_loss and 1 <= snaps[-1].peak_step <= 90


@pytest.mark.parametrize("optimizer, eta", [("constant", 1000.0), ("adam", 1e6)])
def test_nnviz_train_exits_non_zero_with_the_message(tmp_path, capsys, optimizer, eta):
    path = tmp_path / "diverge.json"
    path.write_text(json.dumps(digits_mlp(optimizer, eta).to_dict()))
    out = tmp_path / "run"
    assert main(["train", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "nnviz: training diverged: the " in err and " blew up at step" in err
    assert "learning rate is probably too large" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stop_reason"].startswith("diverged: the ")
    weights = np.load(out / "weights.npz")
    assert all(np.isfinite(weights[k]).all() and np.abs(weights[k]).max() < 10 for k in weights)


def test_a_snapshot_whose_validation_loss_blew_up_is_not_kept_as_good():
    d = load_preset("franke_regression").to_dict()
    d["training"].update(optimizer={"name": "constant", "eta": 0.5}, epochs=5)
    trainer = Trainer(Experiment.from_dict(d), snapshot_every=1)
    snaps = list(trainer.run())
    assert trainer.stop_reason.startswith("diverged: the loss blew up at step 4")
    limit = trainer_module.LOSS_BLOWUP * trainer.first_loss
    blown, good = snaps[-2], snaps[-3]        # step 3 evaluated past the limit, step 2 did not
    assert blown.val_loss > limit >= good.val_loss
    assert trainer.evaluate()["val_loss"] == pytest.approx(good.val_loss)

"""Learning-rate schedules: hand-computed values, PyTorch's, validation, the trainer's use."""

from __future__ import annotations

import copy
import math

import pytest

from nnviz.core import Experiment, Trainer, describe, make_schedule
from nnviz.core.catalogue import SCHEDULES
from nnviz.core.errors import SpecError
from nnviz.core.schedules import normalise_schedule

ETA = 0.1


def rates(spec, n=8, eta=ETA):
    schedule = make_schedule(spec, eta)
    return [schedule(e) for e in range(n)]


@pytest.mark.parametrize("spec, expected", [
    ("constant", [0.1] * 6),
    ({"name": "step", "step_size": 2, "gamma": 0.5}, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]),
    ({"name": "multistep", "milestones": [1, 4], "gamma": 0.1},
     [0.1, 0.01, 0.01, 0.01, 0.001, 0.001]),
    ({"name": "exponential", "gamma": 0.5}, [0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125]),
    # 0.01 + 0.09 * (1 + cos(pi e / 4)) / 2 ; cos(pi/4) = 0.70711, cos(3 pi/4) = -0.70711
    ({"name": "cosine", "t_max": 4, "eta_min": 0.01},
     [0.1, 0.0868198, 0.055, 0.0231802, 0.01, 0.0231802]),
    # factors 0.2, 0.4, 0.6, 0.8, 1.0, then 1.0
    ({"name": "linear", "start_factor": 0.2, "end_factor": 1.0, "total_iters": 4},
     [0.02, 0.04, 0.06, 0.08, 0.1, 0.1]),
])
def test_schedules_match_hand_computed_values(spec, expected):
    assert rates(spec, len(expected)) == pytest.approx(expected, rel=1e-6)


def test_omitted_parameters_are_the_catalogue_defaults():
    for name, entry in SCHEDULES.items():
        assert normalise_schedule({"name": name}) == {"name": name, **entry.defaults()}
    assert normalise_schedule(None) == normalise_schedule("constant") == {"name": "constant"}
    # LinearLR's defaults: 1/3 of eta rising to eta over 5 epochs
    assert rates("linear", 7, eta=3.0) == pytest.approx([1, 1.4, 1.8, 2.2, 2.6, 3, 3])


def test_schedules_equal_pytorch_lr_scheduler():
    torch = pytest.importorskip("torch")
    sched = torch.optim.lr_scheduler
    cases = [({"name": "step", "step_size": 3, "gamma": 0.7}, sched.StepLR, dict(step_size=3, gamma=0.7)),
             ({"name": "multistep", "milestones": [2, 5, 6], "gamma": 0.3}, sched.MultiStepLR,
              dict(milestones=[2, 5, 6], gamma=0.3)),
             ({"name": "exponential", "gamma": 0.8}, sched.ExponentialLR, dict(gamma=0.8)),
             ({"name": "cosine", "t_max": 5, "eta_min": 0.001}, sched.CosineAnnealingLR,
              dict(T_max=5, eta_min=0.001)),
             ({"name": "linear", "start_factor": 0.25, "end_factor": 0.75, "total_iters": 4},
              sched.LinearLR, dict(start_factor=0.25, end_factor=0.75, total_iters=4))]
    for spec, cls, kwargs in cases:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=ETA)
        scheduler = cls(opt, **kwargs)
        expected = []
        for _ in range(12):
            expected.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        assert rates(spec, 12) == pytest.approx(expected, rel=1e-9, abs=1e-12), spec["name"]


@pytest.mark.parametrize("spec, field, words", [
    ({"name": "warmup"}, "training.schedule.name", "unknown schedule 'warmup'"),
    ({"name": "step", "step_size": 0}, "training.schedule.step_size", "at least 1"),
    ({"name": "step", "gama": 0.5}, "training.schedule.gama", "unknown key"),
    ({"name": "multistep", "milestones": [5, 3]}, "training.schedule.milestones", "increasing"),
    ({"name": "multistep", "milestones": 5}, "training.schedule.milestones", "must be a list"),
    ({"name": "multistep", "milestones": [2, "x"]}, "training.schedule.milestones[1]",
     "whole number"),
    ({"name": "linear", "start_factor": 0}, "training.schedule.start_factor", "greater than 0"),
    ({"name": "cosine", "eta_min": -1}, "training.schedule.eta_min", "at least 0"),
    (7, "training.schedule", "must be a name or an object"),
])
def test_bad_schedules_name_the_field(spec, field, words):
    with pytest.raises(SpecError) as info:
        make_schedule(spec, ETA)
    assert info.value.field == field and words in str(info.value)


def test_describe_lists_schedules_and_their_parameters():
    d = describe()
    assert set(d["schedules"]) == {"constant", "step", "multistep", "exponential", "cosine",
                                   "linear"}
    assert d["schedules"]["cosine"]["params"]["t_max"]["kind"] == "int"
    assert d["schedules"]["multistep"]["params"]["milestones"]["item"] == "int"
    assert d["training"]["schedule"]["default"] == "constant"


# ------------------------------------------------------------------ experiments and trainer

def experiment_dict(schedule=None, epochs=4, eta=0.2):
    training = {"optimizer": {"name": "constant", "eta": eta}, "epochs": epochs, "batch_size": 40}
    if schedule is not None:
        training["schedule"] = schedule
    return {"dataset": {"name": "moons", "n_samples": 100, "seed": 0},
            "model": {"input_shape": [2], "cost": "cross_entropy", "seed": 0,
                      "layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                                 {"type": "dense", "units": 2, "activation": "softmax"}]},
            "training": training}


def test_experiment_holds_a_schedule_only_when_the_file_gives_one(tmp_path):
    assert "schedule" not in Experiment.from_dict(experiment_dict()).training
    exp = Experiment.from_dict(experiment_dict({"name": "step", "step_size": 2}))
    assert exp.training["schedule"] == {"name": "step", "step_size": 2, "gamma": 0.1}
    exp.save(tmp_path / "e.json")
    assert Experiment.load(tmp_path / "e.json") == exp
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(experiment_dict({"name": "cosine", "t_max": 0}))
    assert info.value.field == "training.schedule.t_max"


def test_trainer_applies_the_schedule_per_epoch_and_snapshots_carry_the_step_rate():
    # 80 training samples, batch 40: 2 steps per epoch; epoch e uses 0.2 * 0.5**e
    exp = Experiment.from_dict(experiment_dict({"name": "exponential", "gamma": 0.5}))
    snaps = list(Trainer(exp, snapshot_every=1).run())
    seen = {(s.step, s.epoch, s.eta) for s in snaps if not s.done}
    assert seen == {(1, 0, 0.2), (2, 0, 0.2), (3, 1, 0.1), (4, 1, 0.1), (5, 2, 0.05),
                    (6, 2, 0.05), (7, 3, 0.025)}
    assert snaps[-1].done and snaps[-1].step == 8 and snaps[-1].eta == 0.025


def test_scheduled_rate_is_the_step_size_actually_taken():
    """Plain SGD moves W by exactly eta * grad: the scheduled eta is the one applied."""
    exp = Experiment.from_dict(experiment_dict({"name": "step", "step_size": 1, "gamma": 0.25},
                                               epochs=2))
    trainer = Trainer(exp, snapshot_every=1)
    run = trainer.run()
    next(run), next(run)              # epoch 0: rate 0.2
    layer = trainer.network.layers[0]
    before = layer.params["W"].copy()
    snap = next(run)                  # first step of epoch 1
    grad = layer.grads["W"]
    assert snap.eta == pytest.approx(0.05)
    assert layer.params["W"] == pytest.approx(before - 0.05 * grad, abs=1e-15)


def test_live_eta_change_rescales_the_schedule():
    exp = Experiment.from_dict(experiment_dict({"name": "exponential", "gamma": 0.5}))
    trainer = Trainer(exp, snapshot_every=1)
    run = trainer.run()
    for _ in range(3):                # steps 1-3: the third is in epoch 1 at 0.1
        snap = next(run)
    assert snap.eta == pytest.approx(0.1)
    trainer.set_hyperparameters(eta=0.4)          # new base: epoch 1 now runs at 0.2
    assert trainer.snapshot().eta == pytest.approx(0.1)   # no step at the new rate yet
    assert next(run).eta == pytest.approx(0.2)
    assert next(run).eta == pytest.approx(0.1)    # epoch 2: 0.4 * 0.25


def test_cosine_reaching_zero_trains_and_the_rate_is_zero():
    exp = Experiment.from_dict(experiment_dict({"name": "cosine", "t_max": 2}, epochs=3))
    snaps = list(Trainer(exp, snapshot_every=1).run())
    assert [(s.step, s.eta) for s in snaps if s.epoch == 2] == [(5, 0.0), (6, 0.0)]
    assert all(math.isfinite(s.train_loss) for s in snaps)


def test_without_a_schedule_the_rate_is_the_optimizers():
    exp = Experiment.from_dict(experiment_dict(epochs=3))
    assert {s.eta for s in Trainer(copy.deepcopy(exp), snapshot_every=1).run()} == {0.2}

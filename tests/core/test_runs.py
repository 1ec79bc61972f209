"""Run: one training run as data (bounded history, series, CSV)."""

import csv
import math

import numpy as np
import pytest

from nnviz.core import Experiment, Run, RunState, SpecError, Trainer
from nnviz.core.runs import PROBE_FIELDS, RUN_FIELDS


def moons(epochs=12):
    return Experiment.from_dict({
        "dataset": {"name": "moons", "n_samples": 200},
        "model": {"input_shape": [2], "cost": "bce", "layers": [
            {"type": "dense", "units": 8, "activation": "tanh"},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]},
        "training": {"epochs": epochs, "batch_size": 32}})


def recorded_run(epochs=12, **options):
    trainer = Trainer(moons(epochs), snapshot_interval=None, record_every=100, **options)
    run = Run("tanh", trainer.experiment)
    snaps = list(trainer.run())
    for snap in snaps:
        run.record(snap)
    return trainer, run, snaps


def test_a_fast_run_still_has_a_point_per_epoch():
    trainer, run, snaps = recorded_run()
    epochs, values = run.series("val_loss")
    assert len(epochs) >= 12                       # one per epoch, however fast it trained
    assert np.all(np.diff(epochs) >= 0) and math.isclose(epochs[-1], 12.0)
    assert values[-1] == pytest.approx(snaps[-1].val_loss)
    assert trainer.end_state is RunState.FINISHED and run.stop_reason == "finished"


def test_layer_series_by_index_and_name():
    _, run, snaps = recorded_run()
    name = snaps[-1].layers[1].name
    x, by_index = run.series("delta_norm", layer=1)
    _, by_name = run.series("delta_norm", layer=name)
    np.testing.assert_array_equal(by_index, by_name)
    assert by_index[-1] == pytest.approx(snaps[-1].layers[1].delta_norm)
    with pytest.raises(SpecError, match="layer"):
        run.series("delta_norm", layer=5)
    with pytest.raises(SpecError, match="layer="):
        run.series("delta_norm")
    with pytest.raises(SpecError):
        run.series("loss")


def test_memory_stays_bounded():
    run = Run("long", layers=["dense 0 (tanh)"], capacity=64)
    width = len(RUN_FIELDS) + len(PROBE_FIELDS)
    for step in range(1, 10_001):
        point = np.full(width, 0.5)
        point[0], point[1] = step, step / 100
        run.extend([point])
    assert len(run) <= 65 and run.recorded == 10_000
    epochs, _ = run.series("train_loss")
    assert epochs[0] == pytest.approx(0.01) and epochs[-1] == pytest.approx(100.0)


def test_csv_round_trips_the_figures(tmp_path):
    _, run, _ = recorded_run()
    path = tmp_path / "run.csv"
    run.to_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(run)
    assert set(RUN_FIELDS) <= set(rows[0])
    layer = run.layers[0]
    for field in ("weight_grad_norm", "delta_norm", "update_ratio", "saturated_fraction",
                  "dead_fraction"):
        assert f"{layer}: {field}" in rows[0]
    for field in ("val_loss", "train_loss", "val_accuracy", "eta"):
        _, values = run.series(field)
        read = np.array([float(r[field]) if r[field] else np.nan for r in rows])
        np.testing.assert_array_equal(read, values)
    _, grads = run.series("weight_grad_norm", layer=0)
    np.testing.assert_array_equal([float(r[f"{layer}: weight_grad_norm"]) for r in rows], grads)
    assert [int(r["step"]) for r in rows] == list(run.series("step")[1].astype(int))


def test_a_run_round_trips_through_plain_data():
    import json
    _, run, _ = recorded_run(3)
    run.experiment = {"model": {"init": "he"}}
    data = json.loads(json.dumps(run.to_dict()))            # JSON: no pickle needed
    back = Run.from_dict(data)
    assert back.name == run.name and back.layers == run.layers and back.experiment == run.experiment
    assert len(back) == len(run) and back.stop_reason == run.stop_reason
    for field in ("val_loss", "train_accuracy"):
        assert np.array_equal(back.series(field)[1], run.series(field)[1], equal_nan=True)
    assert np.array_equal(back.series("delta_norm", 0)[1], run.series("delta_norm", 0)[1])

"""Grid search on local processes: cells equal single runs, validation first, dead workers, cancel."""

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from nnviz.core import Experiment, GridResult, SpecError, Trainer, grid_search
from nnviz.core import grid_pool
from nnviz.core.grid import FIGURES, log_values, parse_value, plan_grid

ROOT = Path(__file__).resolve().parents[2]


def experiment(dataset=None, layers=None, cost="cross_entropy", eta=0.01, epochs=3, inputs=2):
    return Experiment.from_dict({
        "dataset": dataset or {"name": "moons", "n_samples": 200, "noise": 0.2, "seed": 0},
        "model": {"input_shape": [inputs], "cost": cost, "init": "he", "seed": 0,
                  "layers": layers or [{"type": "dense", "units": 8, "activation": "relu"},
                                       {"type": "dense", "units": 2, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "eta": eta}, "epochs": epochs, "batch_size": 16}})


AXES = {"training.optimizer.eta": [0.001, 0.05], "training.l2": [0.0, 0.01]}


@pytest.fixture(scope="module")
def result():
    return grid_search(experiment(), AXES, jobs=2)


def single_run(exp):
    """A plain Trainer run as the window makes it: probes and timed snapshots on."""
    trainer = Trainer(exp)
    for _ in trainer.run():
        pass
    return trainer.evaluate(), trainer


def test_a_cell_equals_a_single_trainer_run_exactly(result):
    for index in [(0, 1), (1, 0)]:
        row = result.row(index)
        final, trainer = single_run(Experiment.from_dict(result.experiment(index)))
        assert trainer.network.weighted_layers  # a real run, probes on
        for name in ("val_accuracy", "val_loss", "train_loss"):
            assert row[name] == final[name], name
        assert row["epochs_run"] == 3.0 and row["status"] == "ok" and row["message"] == ""
    assert result.row((0, 1))["val_loss"] != result.row((1, 0))["val_loss"]


def test_a_trainer_without_probes_trains_the_same_and_copies_no_weights():
    exp = experiment(epochs=2)
    with_probes, without = Trainer(exp, snapshot_every=3), Trainer(exp, snapshot_every=3, probes=False)
    a, b = list(with_probes.run()), list(without.run())
    assert all(s.layers for s in a) and all(s.layers == () for s in b)
    assert [(s.step, s.train_loss, s.val_loss) for s in a] == [(s.step, s.train_loss, s.val_loss) for s in b]
    assert without._weights_before is None


def test_rows_shape_array_and_best(result):
    assert result.shape == (2, 2) and result.paths == tuple(AXES) and result.axes == AXES
    assert [(r["training.optimizer.eta"], r["training.l2"]) for r in result.rows] == \
        [(0.001, 0.0), (0.001, 0.01), (0.05, 0.0), (0.05, 0.01)]
    assert list(result.rows[0]) == [*AXES, *FIGURES, "status", "message"]
    assert result.done == 4 and not result.cancelled
    acc = result.array()
    assert acc.shape == (2, 2) and acc[1, 0] == result.row((1, 0))["val_accuracy"]
    best = result.best()
    assert best["val_accuracy"] == np.nanmax(acc)
    assert result.best_index() == result.index_of(best)
    assert result.metric == "val_accuracy" and all(r["seconds"] > 0 for r in result.rows)
    assert result.experiment((1, 1))["training"]["optimizer"]["eta"] == 0.05
    assert result.experiment((1, 1))["training"]["l2"] == 0.01


def test_to_csv_reads_back_exactly(result, tmp_path):
    result.to_csv(tmp_path / "grid.csv")
    rows = list(csv.DictReader(open(tmp_path / "grid.csv")))
    assert len(rows) == 4 and list(rows[0]) == result.columns()
    for got, row in zip(rows, result.rows):
        assert float(got["val_loss"]) == row["val_loss"]
        assert float(got["training.optimizer.eta"]) == row["training.optimizer.eta"]
        assert got["status"] == "ok"


def test_history_on_request_is_the_cells_run(result):
    assert not result.has_history((1, 0))          # not kept: trained again on request
    run = result.history((1, 0))
    epochs, val_loss = run.series("val_loss")
    assert epochs[-1] == pytest.approx(3.0) and val_loss[-1] == result.row((1, 0))["val_loss"]
    assert len(run) >= 4                     # step 1 and every epoch's end
    assert "training.optimizer.eta=0.05" in run.name
    kept = grid_search(experiment(eta=0.001), {"training.l2": [0.0]}, jobs=1, history=True)
    assert kept.has_history((0,))
    np.testing.assert_array_equal(kept.history((0,)).series("val_loss")[1],
                                  result.history((0, 0)).series("val_loss")[1])


def test_progress_is_called_from_the_calling_thread_as_cells_finish():
    calls = []
    res = grid_search(experiment(epochs=1), {"model.init": ["he", "xavier"],
                                             "model.layers[0].activation": ["relu", "tanh"]},
                      jobs=2, progress=lambda row, done, total: calls.append(
                          (row["model.init"], done, total, threading.get_ident())))
    assert [c[1] for c in calls] == [1, 2, 3, 4] and {c[2] for c in calls} == {4}
    assert {c[3] for c in calls} == {threading.get_ident()}
    assert all(r["status"] == "ok" for r in res.rows)
    assert res.experiment((1, 1))["model"]["layers"][0]["activation"] == "tanh"


@pytest.mark.parametrize("axes, field, words", [
    ({"training.optimiser.eta": [0.1]}, "training.optimiser.eta", "does not exist"),
    ({"training.optimizer.eta": [0.1, -1.0]}, "training.optimizer.eta", "-1.0"),
    ({"model.layers[0].activation": ["relu", "sigmoidal"]}, "model.layers[0].activation", "sigmoidal"),
    ({"training.batch_size": [16, 0]}, "training.batch_size", "0"),
    ({"training.l2": []}, "training.l2", "non-empty list"),
    ({"training.l2": [0.1, 0.1]}, "training.l2", "twice"),
    ({}, "axes", "1 to 3 axes"),
    ({f"training.{k}": [1] for k in ("l2", "epochs", "batch_size", "clip_norm")}, "axes", "got 4"),
])
def test_bad_axes_are_spec_errors_before_anything_runs(monkeypatch, axes, field, words):
    def no_workers(*args, **kwargs):
        raise AssertionError("a worker started before every cell was validated")
    monkeypatch.setattr(grid_pool, "Worker", no_workers)
    with pytest.raises(SpecError) as info:
        grid_search(experiment(), axes, jobs=2)
    assert info.value.field == field and words in str(info.value)


def test_bad_jobs_and_epochs_are_spec_errors():
    with pytest.raises(SpecError, match="jobs"):
        grid_search(experiment(), {"training.l2": [0.0]}, jobs=0)
    with pytest.raises(SpecError) as info:
        grid_search(experiment(), {"training.l2": [0.0]}, epochs=0)
    assert info.value.field == "epochs"


def test_epochs_override_and_an_optimizer_axis():
    res = grid_search(experiment(), {"training.optimizer.name": ["adam", "momentum"]}, epochs=1, jobs=2)
    assert [r["epochs_run"] for r in res.rows] == [1.0, 1.0]
    assert res.experiment((1,))["training"]["optimizer"] == {"name": "momentum", "eta": 0.01,
                                                             "momentum": 0.9}


def test_diverged_cells_are_marked_and_never_best():
    res = grid_search(experiment(eta=1e4, cost="mse", layers=[
        {"type": "dense", "units": 8, "activation": "relu"},
        {"type": "dense", "units": 2, "activation": "identity"}]),
        {"training.optimizer.name": ["constant", "adam"], "training.optimizer.eta": [1e4, 1e-3]},
        jobs=2, epochs=2)
    assert res.row((0, 0))["status"] == "diverged" and "diverged" in res.row((0, 0))["message"]
    assert res.row((1, 1))["status"] == "ok"
    assert res.status_array()[0, 0] == "diverged"
    assert res.best()["status"] == "ok"


def test_regression_has_no_accuracy_and_the_best_cell_has_the_lowest_loss():
    res = grid_search(experiment(dataset={"name": "sine", "n_samples": 100}, cost="mse", layers=[
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 1, "activation": "identity"}], epochs=2, inputs=1),
        {"training.optimizer.eta": [1e-4, 1e-2]}, jobs=1)
    assert all(r["val_accuracy"] is None and r["status"] == "ok" for r in res.rows)
    assert res.metric == "val_loss" and not res.higher_is_better
    assert res.best()["val_loss"] == min(r["val_loss"] for r in res.rows)


def test_a_worker_that_dies_fails_its_cell_and_the_search_goes_on(monkeypatch):
    monkeypatch.setenv(grid_pool.DIE_ON_CELL_ENV, "1")
    res = grid_search(experiment(epochs=1), {"training.l2": [0.0, 0.001, 0.01, 0.1]}, jobs=2)
    assert [r["status"] for r in res.rows] == ["ok", "failed", "ok", "ok"]
    assert "killed (SIGKILL" in res.rows[1]["message"]
    assert res.done == 4


def test_killing_a_worker_pid_fails_only_its_cell():
    exp = experiment(epochs=1)
    plan = plan_grid(exp, {"training.epochs": [1, 2000, 2]})
    outcomes, workers = {}, []

    def on_outcome(number, outcome):
        outcomes[number] = outcome
        if number == 0:                      # the other worker is training the long cell
            victim = next(w for w in workers if w.number == 1)
            os.kill(victim.pid, 9)

    grid_pool.run_locally([(i, c, False) for i, c in enumerate(plan.cells)], 2, on_outcome,
                          lambda: False, workers=workers)
    assert outcomes[0]["status"] == "ok" and outcomes[2]["status"] == "ok"
    assert outcomes[1]["status"] == "failed" and "SIGKILL" in outcomes[1]["message"]
    assert workers[0].alive and not workers[1].alive      # the other one waits for the next search


def test_the_next_search_reuses_idle_workers_and_idle_ones_end_by_themselves(monkeypatch):
    plan = plan_grid(experiment(epochs=1), {"training.l2": [0.0, 0.01]})
    tasks = [(i, c, False) for i, c in enumerate(plan.cells)]
    grid_pool.stop_idle_workers()
    first, second = [], []
    grid_pool.run_locally(tasks, 2, lambda n, o: None, lambda: False, workers=first)
    grid_pool.run_locally(tasks, 2, lambda n, o: None, lambda: False, workers=second)
    assert {w.pid for w in second} == {w.pid for w in first} and all(w.alive for w in second)
    grid_pool.stop_idle_workers()
    assert not any(w.alive for w in second)

    monkeypatch.setattr(grid_pool, "IDLE_SECONDS", 0.2)
    idle = []
    grid_pool.run_locally(tasks, 2, lambda n, o: None, lambda: False, workers=idle)
    for worker in idle:
        worker.proc.wait(timeout=60)                 # each ends by itself, cleanly
        assert worker.proc.returncode == 0
    outcomes = {}                                    # a search after that starts new ones
    grid_pool.run_locally(tasks, 2, outcomes.__setitem__, lambda: False)
    assert [outcomes[i]["status"] for i in range(2)] == ["ok", "ok"]


def test_cancel_stops_every_worker_and_leaves_the_rest_cancelled():
    exp = experiment(epochs=1)
    plan = plan_grid(exp, {"training.epochs": [1, 200_000, 200_001, 200_002]})
    stop, workers, seen = threading.Event(), [], []
    grid_pool.run_locally([(i, c, False) for i, c in enumerate(plan.cells)], 2,
                          lambda number, outcome: (seen.append(number), stop.set()),
                          stop.is_set, workers=workers)
    assert seen == [0]
    assert workers and all(w.proc.poll() is not None for w in workers)

    stop = threading.Event()
    res = grid_search(exp, {"training.epochs": [1, 200_000, 200_001]}, jobs=2,
                      progress=lambda row, done, total: stop.set(), cancel=stop)
    assert [r["status"] for r in res.rows] == ["ok", "cancelled", "cancelled"] and res.cancelled


def test_workers_have_one_blas_thread_and_find_nnviz():
    env = grid_pool._worker_env()
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert str(ROOT) in env["PYTHONPATH"].split(os.pathsep)


def test_a_script_without_a_main_guard_can_search(tmp_path):
    script = tmp_path / "search.py"
    spec = experiment(epochs=1).to_dict()
    script.write_text(
        "import json\n"
        "from nnviz.core import grid_search\n"
        "print('script body ran')\n"
        f"res = grid_search({spec!r}, {{'training.l2': [0.0, 0.01]}}, jobs=2)\n"
        "print(json.dumps([r['status'] for r in res.rows]))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("script body ran") == 1       # workers never ran the script
    assert json.loads(done.stdout.splitlines()[-1]) == ["ok", "ok"]


def test_value_helpers():
    assert log_values(1e-4, 1e-1, 4) == [1e-4, 1e-3, 1e-2, 1e-1]
    assert log_values(1e-3, 1e-1, 3) == [0.001, 0.01, 0.1]
    assert log_values(0.01, 0.01, 1) == [0.01]
    with pytest.raises(SpecError):
        log_values(0, 1, 3)
    assert [parse_value(t) for t in ("1e-3", "32", "he", "null", '"x"')] == [0.001, 32, "he", None, "x"]


def test_grid_result_is_exported():
    assert isinstance(grid_search(experiment(epochs=1), {"training.l2": [0.0]}, jobs=1), GridResult)

"""The command line: headless training and the gradient check (no Qt involved)."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from nnviz.cli import main
from nnviz.core import Experiment

SPEC = {"format": "nnviz-experiment/1",
        "dataset": {"name": "moons", "n_samples": 200, "seed": 0},
        "model": {"input_shape": [2], "cost": "cross_entropy", "init": "he",
                  "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                             {"type": "batchnorm"},
                             {"type": "dense", "units": 2, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 3, "batch_size": 32}}


@pytest.fixture
def experiment_file(tmp_path):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(SPEC))
    return path


def test_train_writes_metrics_weights_and_summary(experiment_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(experiment_file), "--epochs", "4", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [float(r["epochs"]) for r in rows][-1] == pytest.approx(4.0)
    assert len(rows) == 5  # after step 1, then once per epoch
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stop_reason"] == "finished" and summary["steps"] == 4 * 5
    assert summary["experiment"]["training"]["epochs"] == 4
    assert 0.5 < summary["val_accuracy"] <= 1.0
    weights = np.load(out / "weights.npz", allow_pickle=False)
    assert weights["layers.0.W"].shape == (2, 8) and weights["layers.1.running_var"].shape == (8,)
    assert "finished" in capsys.readouterr().out


def test_gradcheck_prints_a_passing_table(experiment_file, capsys):
    assert main(["gradcheck", str(experiment_file)]) == 0
    out = capsys.readouterr().out
    assert "batchnorm" in out and "FAIL" not in out and "4 of 4" not in out
    assert "6 of 6 parameters within 1e-06" in out


def test_bad_files_give_a_message_and_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SPEC, "training": {"batch_size": 0}}))
    assert main(["train", str(bad)]) == 2
    assert "training.batch_size" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.json")]) == 2


def test_python_dash_m_nnviz_shows_help():
    done = subprocess.run([sys.executable, "-m", "nnviz", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "gradcheck" in done.stdout


def test_saved_experiment_trains_from_the_command_line(tmp_path):
    path = tmp_path / "saved.json"
    Experiment.from_dict(SPEC).save(path)
    assert main(["train", str(path), "--quiet", "--out", str(tmp_path / "r")]) == 0

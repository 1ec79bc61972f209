"""`nnviz grid`: the table, the heatmap PNG, the progress bar and clean errors.

Here rather than in tests/core because the heatmap is drawn with Qt (offscreen)."""

import csv
import json

import pytest
from PySide6.QtGui import QImage

from nnviz.cli import main, parse_axis

SPEC = {"format": "nnviz-experiment/1", "title": "tiny moons",
        "dataset": {"name": "moons", "n_samples": 120, "seed": 0},
        "model": {"input_shape": [2], "cost": "cross_entropy", "init": "he",
                  "layers": [{"type": "dense", "units": 6, "activation": "relu"},
                             {"type": "dense", "units": 2, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 5, "batch_size": 16}}


@pytest.fixture
def experiment_file(tmp_path):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(SPEC))
    return path


def test_grid_writes_the_table_and_the_heatmap(experiment_file, tmp_path, capsys, qapp):
    out = tmp_path / "grid"
    code = main(["grid", str(experiment_file), "--axis", "training.optimizer.eta=0.001,0.1",
                 "--axis", "training.l2=log:1e-4:1e-2:3", "--epochs", "2", "--jobs", "2",
                 "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(open(out / "grid.csv")))
    assert [(r["training.optimizer.eta"], r["training.l2"]) for r in rows] == \
        [(e, l) for e in ("0.001", "0.1") for l in ("0.0001", "0.001", "0.01")]
    assert {r["status"] for r in rows} == {"ok"} and {r["epochs_run"] for r in rows} == {"2.0"}
    image = QImage(str(out / "heatmap.png"))
    assert not image.isNull() and image.width() > 400
    captured = capsys.readouterr()
    assert "6/6 cells" in captured.err and "[########################]" in captured.err
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    assert f"training.optimizer.eta={best['training.optimizer.eta']}" in captured.out
    assert "wrote" in captured.out


@pytest.mark.parametrize("axis, words", [
    ("training.optimiser.eta=0.1", "training.optimiser.eta: does not exist"),
    ("training.optimizer.eta=0.1,-2", "training.optimizer.eta: -2"),
    ("training.l2", "--axis: expected PATH=V1,V2"),
    ("training.l2=log:1:x:3", "expected log:FROM:TO:COUNT"),
])
def test_bad_axes_are_one_line_errors(experiment_file, tmp_path, capsys, axis, words):
    assert main(["grid", str(experiment_file), "--axis", axis, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()          # nothing written for a bad grid


def test_bad_jobs_and_a_missing_axis(experiment_file, tmp_path, capsys):
    assert main(["grid", str(experiment_file), "--axis", "training.l2=0", "--jobs", "0",
                 "--out", str(tmp_path / "o")]) == 2
    assert "jobs: must be a whole number >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["grid", str(experiment_file), "--out", str(tmp_path / "o")])
    assert info.value.code == 2 and "--axis" in capsys.readouterr().err


def test_parse_axis_reads_numbers_and_names():
    assert parse_axis("model.init=he,xavier") == ("model.init", ["he", "xavier"])
    assert parse_axis("training.batch_size=16,32") == ("training.batch_size", [16, 32])
    assert parse_axis("training.l2=log:1e-3:1e-1:3") == ("training.l2", [0.001, 0.01, 0.1])

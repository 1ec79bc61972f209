"""CSV data sets: happy paths, relative paths beside the experiment, every broken file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnviz.core import Experiment, Trainer, describe, load_dataset
from nnviz.core import csv_data
from nnviz.core.errors import SpecError

IRIS_LIKE = """sepal,petal,species
5.1,1.4,setosa
4.9,1.3,setosa
4.7,1.5,setosa
5.0,1.4,setosa
7.0,4.7,versicolor
6.4,4.5,versicolor
6.9,4.9,versicolor
5.5,4.0,versicolor
6.3,6.0,virginica
5.8,5.1,virginica
7.1,5.9,virginica
6.5,5.8,virginica
"""


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def spec(path, **extra):
    return {"name": "csv", "path": str(path), **extra}


# ------------------------------------------------------------------ happy paths

def test_classification_from_text_labels_keeps_class_names_and_standardises(tmp_path):
    data = load_dataset(spec(write(tmp_path, IRIS_LIKE), target="species", val_fraction=0.25))
    assert data.task == "classification" and data.name == "csv"
    assert data.class_names == ("setosa", "versicolor", "virginica") and data.n_classes == 3
    assert data.input_shape == (2,)
    assert len(data.X_train) == 9 and len(data.X_val) == 3
    assert sorted(np.bincount(data.y_val)) == [1, 1, 1]          # stratified
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1, atol=1e-12)
    # features and labels stay paired: the largest sepal (7.1) is a virginica,
    # the smallest petal (1.3) a setosa
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    assert y[X[:, 0].argmax()] == 2 and y[X[:, 1].argmin()] == 0


def test_defaults_target_is_last_column_features_the_others_spec_normalised(tmp_path):
    data = load_dataset(spec(write(tmp_path, IRIS_LIKE)))
    assert data.class_names == ("setosa", "versicolor", "virginica")
    assert data.spec == {"name": "csv", "path": str(tmp_path / "data.csv"), "target": "",
                         "features": None, "task": None, "val_fraction": 0.2, "seed": 0}


def test_regression_inferred_for_numbers_and_features_chosen(tmp_path):
    rows = "\n".join(f"{i},{i * 0.5:.2f},{2 * i + 0.25:.2f}" for i in range(20))
    data = load_dataset(spec(write(tmp_path, "a;b;y\n" + rows.replace(",", ";")),
                             target="y", features=["b"]))
    assert data.task == "regression" and data.class_names == () and data.input_shape == (1,)
    X = np.concatenate([data.X_train, data.X_val])[:, 0]
    y = np.concatenate([data.y_train, data.y_val])[:, 0]
    assert y.shape == (20,) and np.corrcoef(X, y)[0, 1] == pytest.approx(1.0)
    assert sorted(y) == pytest.approx([2 * i + 0.25 for i in range(20)])


def test_whole_number_labels_are_classes_unless_task_says_regression(tmp_path):
    text = "x,label\n" + "\n".join(f"{i * 0.1},{i % 3}" for i in range(12))
    path = write(tmp_path, text)
    assert load_dataset(spec(path)).class_names == ("0", "1", "2")
    assert load_dataset(spec(path, task="regression")).task == "regression"


def test_relative_path_resolves_beside_the_experiment_file_and_trains(tmp_path, monkeypatch):
    folder = tmp_path / "course"
    folder.mkdir()
    write(folder, IRIS_LIKE, "flowers.csv")
    exp = {"format": "nnviz-experiment/1",
           "dataset": {"name": "csv", "path": "flowers.csv", "target": "species",
                       "val_fraction": 0.25},
           "model": {"input_shape": [2], "cost": "cross_entropy",
                     "layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
           "training": {"epochs": 2, "batch_size": 4}}
    (folder / "exp.json").write_text(json.dumps(exp))
    monkeypatch.chdir(tmp_path)                  # not the experiment's folder
    loaded = Experiment.load(folder / "exp.json")
    assert loaded.dataset["path"] == "flowers.csv"     # saved as written
    trainer = Trainer(loaded, snapshot_every=1)
    assert trainer.dataset.class_names == ("setosa", "versicolor", "virginica")
    assert list(trainer.run())[-1].done
    with pytest.raises(SpecError, match="dataset.path: no file"):
        load_dataset(loaded.dataset)            # without the base folder: not found here
    assert Trainer(loaded.copy()).dataset.n_classes == 3   # copies keep the folder


def test_describe_lists_the_csv_parameters():
    params = describe()["datasets"]["csv"]["params"]
    assert set(params) == {"path", "target", "features", "task", "val_fraction", "seed"}
    assert params["task"]["choices"] == ["classification", "regression"]


def test_quoted_cells_blank_lines_and_bom_are_fine(tmp_path):
    text = '\ufeff"x 1","label, long"\n"1.5","a, b"\n2,b\n\n3,"a, b"\n4,b\n5,"a, b"\n6,b\n\n'
    data = load_dataset(spec(write(tmp_path, text), features=["x 1"]))
    assert data.class_names == ("a, b", "b") and len(data.X_train) + len(data.X_val) == 6


# ------------------------------------------------------------------ broken files

BROKEN = [
    ("", "dataset.path", "is empty"),
    ("\n  \n", "dataset.path", "is empty"),
    ("a,b,c\n", "dataset.path", "has a header but no data rows"),
    ("a,b,c\n1,2,3\n4,5\n6,7,8\n", "dataset.path", "line 3 has 2 values but the header has 3"),
    ("a,b,c\n1,2,x\n4,5,y\n6,seven,x\n7,8,y\n", "dataset.features",
     "column 'b' is not numeric: 'seven' at line 4"),
    ("a,b,c\n1,,x\n4,5,y\n6,NaN,x\n7,8,\n", "dataset.path",
     "3 missing or NaN cells: line 2 column 'b', line 4 column 'b', line 5 column 'c'"),
    ("a,b,c\n1,2,x\n3,4,x\n5,6,x\n", "dataset.target", "only one class ('x')"),
    ("a,b,c\n1,2,x\n3,4,y\n", "dataset.target", "no column 'species'"),
    ("a,,c\n1,2,3\n", "dataset.path", "column 2 of the header (line 1) has no name"),
    ("a,a,c\n1,2,3\n", "dataset.path", "names two columns 'a'"),
    ("just one column\n1\n2\n", "dataset.path", "only one column"),
    (b"a,b\n1,\x002\n", "dataset.path", "not a text file"),
    (b"a,b\n1,2\n\xff\xfe,3\n", "dataset.path", "not UTF-8 text (line 3)"),
    ('a,b\n1,"2\n', "dataset.path", "cannot be read"),
]


@pytest.mark.parametrize("text, field, words", BROKEN)
def test_broken_files_name_the_field_and_where(tmp_path, text, field, words):
    target = "species" if "'species'" in words else ""
    with pytest.raises(SpecError) as info:
        load_dataset(spec(write(tmp_path, text), target=target))
    assert info.value.field == field
    assert words in str(info.value)


def test_more_than_five_missing_cells_are_counted_and_the_first_shown(tmp_path):
    text = "a,b\n" + "\n".join(f"{'' if i % 2 else i},{i % 2}" for i in range(20))
    with pytest.raises(SpecError, match=r"10 missing or NaN cells: line 3 column 'a', .* and 5 more"):
        load_dataset(spec(write(tmp_path, text)))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SpecError, match="dataset.path: no file .*nope.csv"):
        load_dataset(spec(tmp_path / "nope.csv"))
    with pytest.raises(SpecError, match="dataset.path: .* is a directory"):
        load_dataset(spec(tmp_path))
    with pytest.raises(SpecError, match="dataset.path: is missing"):
        load_dataset({"name": "csv"})


def test_file_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_data, "MAX_CSV_BYTES", 100)
    path = write(tmp_path, "a,b\n" + "1,0\n2,1\n" * 20)
    with pytest.raises(SpecError, match=r"dataset.path: .* is too large to load .*at most"):
        load_dataset(spec(path))


def test_bad_features_and_task(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    with pytest.raises(SpecError) as info:
        load_dataset(spec(path, target="species", features=["sepal", "stem"]))
    assert info.value.field == "dataset.features[1]" and "no column 'stem'" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_dataset(spec(path, target="species", features=["species"]))
    assert info.value.field == "dataset.features[0]" and "target column" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_dataset(spec(path, target="species", task="regression"))
    assert info.value.field == "dataset.task" and "'setosa' at line 2" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_dataset(spec(path, task="clustering"))
    assert info.value.field == "dataset.task"
    with pytest.raises(SpecError) as info:
        load_dataset(spec(path, colour="red"))
    assert info.value.field == "dataset.colour"


def test_cli_trains_a_csv_experiment_beside_its_file_with_epochs_override(tmp_path, monkeypatch):
    import csv

    from nnviz.cli import main
    folder = tmp_path / "course"
    folder.mkdir()
    write(folder, IRIS_LIKE, "flowers.csv")
    (folder / "exp.json").write_text(json.dumps({
        "format": "nnviz-experiment/1",
        "dataset": {"name": "csv", "path": "flowers.csv", "val_fraction": 0.25},
        "model": {"input_shape": [2], "cost": "cross_entropy",
                  "layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
        "training": {"epochs": 9, "batch_size": 9, "optimizer": {"name": "constant", "eta": 0.5},
                     "schedule": {"name": "step", "step_size": 1, "gamma": 0.5}}}))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert main(["train", str(folder / "exp.json"), "--epochs", "3", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [float(r["eta"]) for r in rows] == [0.5, 0.25, 0.125]   # one step per epoch
    assert main(["gradcheck", str(folder / "exp.json")]) == 0

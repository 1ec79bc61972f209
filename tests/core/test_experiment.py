"""Experiment files: defaults, validation naming the field, save/load, hostile files, presets."""

from __future__ import annotations

import copy
import json
import os
import random
import stat

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nnviz.core import experiment as experiment_module
from nnviz.core.errors import SpecError
from nnviz.core.experiment import FORMAT, MAX_FILE_BYTES, Experiment, list_presets, load_preset


MODEL = {"input_shape": [2],
         "layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                    {"type": "dense", "units": 2, "activation": "softmax"}],
         "cost": "cross_entropy", "init": "xavier", "seed": 0}


def base() -> dict:
    return {"format": FORMAT, "dataset": {"name": "moons", "noise": 0.3},
            "model": copy.deepcopy(MODEL),
            "training": {"optimizer": {"name": "momentum", "eta": 0.05}, "epochs": 5,
                         "batch_size": 16, "l2": 1e-4, "clip_norm": 1.0}}


def write(path, text: str | bytes):
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


# --- defaults and normalisation ----------------------------------------------------------

def test_defaults_are_filled_in():
    exp = Experiment.from_dict({"dataset": {"name": "moons"}, "model": MODEL})
    assert exp.training == {
        "optimizer": {"name": "adam", "eta": 0.001, "rho": 0.9, "rho2": 0.999, "eps": 1e-8},
        "epochs": 30, "batch_size": 32, "l2": 0.0, "clip_norm": None}
    assert exp.dataset["name"] == "moons"
    assert exp.dataset["val_fraction"] == 0.2 and exp.dataset["seed"] == 0
    assert exp.title is None and exp.description is None
    assert exp.model["layers"][0]["units"] == 8


def test_values_are_kept_and_normalised():
    exp = Experiment.from_dict(base())
    assert exp.dataset["noise"] == 0.3
    assert exp.training["optimizer"] == {"name": "momentum", "eta": 0.05, "momentum": 0.9}
    assert (exp.training["epochs"], exp.training["batch_size"]) == (5, 16)
    assert (exp.training["l2"], exp.training["clip_norm"]) == (1e-4, 1.0)
    assert isinstance(exp.training["l2"], float)


def test_dataset_may_be_just_a_name_and_model_aliases_resolve():
    d = base()
    d["dataset"] = "circles"
    d["model"]["cost"] = "mse"
    d["model"]["layers"][-1]["activation"] = "identity"
    exp = Experiment.from_dict(d)
    assert exp.dataset["name"] == "circles" and exp.dataset["seed"] == 0
    assert exp.model["cost"] == "mse"


def test_constructor_validates_like_from_dict():
    exp = Experiment({"name": "moons"}, MODEL, {"epochs": 3}, title="T")
    assert exp.training["epochs"] == 3 and exp.title == "T"
    with pytest.raises(SpecError, match=r"^training\.epochs"):
        Experiment({"name": "moons"}, MODEL, {"epochs": 0})


# --- dict round trip, copy, equality -----------------------------------------------------

def test_to_dict_round_trips_and_is_a_copy():
    d = base()
    d["title"] = "Moons"
    d["description"] = "Two half moons."
    exp = Experiment.from_dict(d)
    out = exp.to_dict()
    assert out["format"] == FORMAT and out["title"] == "Moons"
    assert list(out) == ["format", "title", "description", "dataset", "model", "training"]
    assert Experiment.from_dict(out) == exp
    out["training"]["epochs"] = 99
    out["model"]["layers"][0]["units"] = 99
    assert exp.training["epochs"] == 5 and exp.model["layers"][0]["units"] == 8


def test_copy_is_deep_and_equality_is_by_value():
    exp = Experiment.from_dict(base())
    twin = exp.copy()
    assert twin == exp and twin is not exp
    twin.training["optimizer"]["eta"] = 0.5
    twin.model["layers"][0]["units"] = 3
    assert exp.training["optimizer"]["eta"] == 0.05 and exp.model["layers"][0]["units"] == 8
    assert twin != exp
    assert exp != "not an experiment"
    assert "moons" in repr(exp)


# --- validation names the field ----------------------------------------------------------

def _set(path: str, value):
    """A mutation of base(): set the dotted ``path`` (missing-key marker: DELETE)."""
    def mutate(d):
        *parents, last = path.split(".")
        target = d
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
        return d
    return mutate


DELETE = object()

INVALID = [
    ("training.batch_size", True, "training.batch_size", "whole number"),
    ("training.batch_size", 0, "training.batch_size", "at least 1"),
    ("training.batch_size", 1.5, "training.batch_size", "whole number"),
    ("training.batch_size", "32", "training.batch_size", "whole number"),
    ("training.batch_size", 10 ** 9, "training.batch_size", "from 1 to 1e+06"),
    ("training.epochs", -3, "training.epochs", "at least 1"),
    ("training.epochs", None, "training.epochs", "whole number"),
    ("training.epochs", False, "training.epochs", "whole number"),
    ("training.l2", -0.1, "training.l2", "at least 0"),
    ("training.l2", float("nan"), "training.l2", "finite"),
    ("training.l2", "0", "training.l2", "must be a number"),
    ("training.clip_norm", 0, "training.clip_norm", "greater than 0"),
    ("training.clip_norm", float("inf"), "training.clip_norm", "or null"),
    ("training.clip_norm", [1], "training.clip_norm", "or null"),
    ("training.optimizer", {"name": "sgd9", "eta": 0.1}, "training.optimizer.name",
     "choose one of"),
    ("training.optimizer", {"name": "adam", "eta": -1}, "training.optimizer.eta", "greater than 0"),
    ("training.optimizer", "adam", "training.optimizer", "object"),
    ("training.optimizer.momentum", 1.0, "training.optimizer.momentum", "[0, 1)"),
    ("training.shuffle", True, "training.shuffle", "unknown key"),
    ("training", [], "training", "object"),
    ("dataset.name", "mnist", "dataset.name", "unknown data set 'mnist'"),
    ("dataset.name", DELETE, "dataset.name", "missing"),
    ("dataset.name", ["moons"], "dataset.name", "unknown data set"),
    ("dataset.noise", 99.0, "dataset.noise", "out of range"),
    ("dataset.val_fraction", 1.0, "dataset.val_fraction", "out of range"),
    ("dataset.seed", True, "dataset.seed", "number"),
    ("dataset.colour", 1, "dataset.colour", "no parameter"),
    ("dataset", 7, "dataset", "object"),
    ("dataset", DELETE, "dataset", "missing"),
    ("model", DELETE, "model", "missing"),
    ("model", [1, 2], "model", "object"),
    ("model.cost", "hinge", "model.cost", "hinge"),
    ("model.input_shape", "abc", "model.input_shape", ""),
    ("model.colour", 1, "model.colour", ""),
    ("format", "nnviz-experiment/2", "format", "unsupported version"),
    ("format", "something-else", "format", "expected 'nnviz-experiment/1'"),
    ("title", 12, "title", "text"),
    ("description", ["x"], "description", "text"),
    ("extra", 1, "extra", "unknown key"),
]


@pytest.mark.parametrize("path, value, field, words", INVALID,
                         ids=[f"{p}={v!r:.20}" for p, v, *_ in INVALID])
def test_invalid_experiments_name_the_field(path, value, field, words):
    d = _set(path, value)(base())
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(d)
    assert info.value.field == field
    assert str(info.value).startswith(field + ":")
    assert words in str(info.value)
    assert info.value.fix, "every error says how to fix it"


def test_layer_errors_are_prefixed_with_model():
    d = base()
    d["model"]["layers"][1]["type"] = "lstm"
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(d)
    assert info.value.field.startswith("model.layers[1]")


def test_non_dict_experiment():
    with pytest.raises(SpecError, match="^file: an experiment must be a JSON object"):
        Experiment.from_dict([base()])


def test_huge_integer_in_dict_gives_a_spec_error():
    d = _set("training.epochs", 10 ** 5000)(base())
    with pytest.raises(SpecError, match=r"^training\.epochs: .*too long to show"):
        Experiment.from_dict(d)


# --- files -------------------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    exp = Experiment.from_dict({**base(), "title": "Moons", "description": "Ünïcode ✓"})
    path = tmp_path / "exp.json"
    exp.save(path)
    again = Experiment.load(path)
    assert again == exp and again.description == "Ünïcode ✓"
    assert Experiment.load(str(path)) == exp
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "format": "nnviz-experiment/1"') and text.endswith("}\n")
    assert json.loads(text) == exp.to_dict()
    assert os.listdir(tmp_path) == ["exp.json"]                # no temporary file left


def test_save_replaces_atomically_and_keeps_permissions(tmp_path, monkeypatch):
    path = tmp_path / "exp.json"
    old = Experiment.from_dict(base())
    old.save(path)
    os.chmod(path, 0o640)
    new = old.copy()
    new.training["epochs"] = 7
    new.save(path)
    assert Experiment.load(path).training["epochs"] == 7
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    # If the final rename fails, the old file is untouched and no temporary file remains.
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(experiment_module.os, "replace", broken_replace)
    newer = new.copy()
    newer.training["epochs"] = 9
    with pytest.raises(SpecError, match="^file: cannot write .*No space left"):
        newer.save(path)
    assert Experiment.load(path).training["epochs"] == 7
    assert os.listdir(tmp_path) == ["exp.json"]


def test_save_into_missing_folder_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="^file: cannot write"):
        Experiment.from_dict(base()).save(tmp_path / "no" / "such" / "dir" / "e.json")


def _load_error(path) -> SpecError:
    with pytest.raises(SpecError) as info:
        Experiment.load(path)
    return info.value


HOSTILE_TEXT = [
    ("", "file", "not valid JSON"),
    ("{", "file", "not valid JSON (line 1"),
    ("[1, 2, 3]", "file", "a list, not an experiment object"),
    ('"hello"', "file", "a string, not an experiment"),
    ("null", "file", "null, not an experiment"),
    ('{"dataset": {"name": "moons"}}', "format", 'no "format" key'),
    ('{"format": 1}', "format", "expected"),
    ('{"format": "nnviz-experiment/1", "model": {}, "model": {}}', "file", "duplicate key"),
    ('{"format": "nnviz-experiment/1", "training": {"l2": NaN}}', "file", "NaN"),
    ('{"format": "nnviz-experiment/1", "x": Infinity}', "file", "Infinity"),
    ('{"format": "nnviz-experiment/1", "x": ' + "9" * 6000 + "}", "file", "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "file", "nested"),
    ('{"format": "nnviz-experiment/1", "model": ' + "[" * 80 + "]" * 80 + "}", "file",
     "nested more than"),
    ('{"format": "nnviz-experiment/1", "dataset": "moons", "model": {"layers": [[[{}]]], '
     '"cost": [], "input_shape": {"a": 1}}}', "model", ""),
    ('{"format": "nnviz-experiment/1", "dataset": {"name": {"x": [1]}}, "model": {}}',
     "dataset.name", "unknown data set"),
    ('{"format": "nnviz-experiment/1", "dataset": "moons", "model": {"input_shape": [2], '
     '"layers": [{"type": "dense", "units": 100000000}]}}', "model", ""),
]


@pytest.mark.parametrize("text, field, words", HOSTILE_TEXT,
                         ids=[t[:30] for t, *_ in HOSTILE_TEXT])
def test_hostile_json_files(tmp_path, text, field, words):
    err = _load_error(write(tmp_path / "bad.json", text))
    assert err.field == field or err.field.startswith(field + ".")
    assert words in str(err)


def test_binary_garbage(tmp_path):
    rng = random.Random(0)
    garbage = bytes(rng.randrange(256) for _ in range(4096))
    err = _load_error(write(tmp_path / "garbage.json", b"\xff\xfe" + garbage))
    assert err.field == "file" and "not a text file" in str(err)
    err = _load_error(write(tmp_path / "nul.json", b"{\x00\x00}"))
    assert err.field == "file" and "not valid JSON" in str(err)


def test_utf8_bom_is_accepted(tmp_path):
    text = json.dumps(Experiment.from_dict(base()).to_dict())
    assert Experiment.load(write(tmp_path / "bom.json", "\ufeff" + text)) == \
        Experiment.from_dict(base())


def test_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:               # sparse: no 5 MB actually written
        f.truncate(MAX_FILE_BYTES + 1)
    err = _load_error(path)
    assert err.field == "file" and "too large" in str(err)


def test_missing_file_directory_and_fifo(tmp_path):
    err = _load_error(tmp_path / "nope.json")
    assert err.field == "file" and "nope.json" in str(err) and "No such file" in str(err)
    err = _load_error(tmp_path)
    assert err.field == "file" and "not a regular file" in str(err)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")          # opening it would block forever
        err = _load_error(tmp_path / "fifo")
        assert "not a regular file" in str(err)
    err = _load_error(12.5)
    assert err.field == "file" and "not a file path" in str(err)


# --- fuzzing: any JSON value anywhere gives an Experiment or a SpecError -----------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
    | st.sampled_from(["dense", "conv2d", "relu", "softmax", "moons", "adam", "mse"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["type", "units", "activation", "name", "eta",
                                       "input_shape", "layers", "cost", "filters",
                                       "kernel_size", "size", "rate", "x"]),
                      children, max_size=4),
    max_leaves=12)

SECTIONS = ["dataset", "model", "training", "model.layers", "model.input_shape",
            "training.optimizer", "dataset.noise", "title"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=st.sampled_from(SECTIONS), value=json_values)
def test_fuzz_any_value_gives_experiment_or_spec_error(section, value):
    d = _set(section, value)(base())
    try:
        exp = Experiment.from_dict(d)
    except SpecError as exc:
        assert exc.field
    else:
        assert Experiment.from_dict(exp.to_dict()) == exp


# --- presets -----------------------------------------------------------------------------

@pytest.fixture
def preset_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment_module, "_presets_dir", lambda: tmp_path)
    return tmp_path


def test_presets_list_and_load(preset_dir):
    d = base()
    write(preset_dir / "02_moons.json", json.dumps({**d, "title": "Moons with momentum"}))
    write(preset_dir / "01_plain.json", json.dumps(d))
    write(preset_dir / "03_broken.json", "{not json")
    write(preset_dir / "notes.txt", "not a preset")
    assert list_presets() == [("01_plain", "01_plain"), ("02_moons", "Moons with momentum"),
                              ("03_broken", "03_broken")]
    exp = load_preset("02_moons")
    assert exp.title == "Moons with momentum" and exp.training["epochs"] == 5
    err = pytest.raises(SpecError, load_preset, "03_broken").value
    assert err.field == "file" and "preset 03_broken" in str(err)


@pytest.mark.parametrize("name", ["nope", "../02_moons", "notes", "", None, 3])
def test_unknown_preset(preset_dir, name):
    write(preset_dir / "02_moons.json", json.dumps(base()))
    with pytest.raises(SpecError) as info:
        load_preset(name)
    assert info.value.field == "preset" and "choose one of: 02_moons" in str(info.value)


def test_no_presets_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment_module, "_presets_dir", lambda: tmp_path / "missing")
    assert list_presets() == []
    with pytest.raises(SpecError, match="none installed"):
        load_preset("x")


def _shipped():
    try:
        return [name for name, _ in list_presets()]
    except ModuleNotFoundError:   # nnviz.resources not installed yet
        return []


@pytest.mark.parametrize("name", _shipped())
def test_every_shipped_preset_is_valid(name):
    exp = load_preset(name)
    assert exp.title, f"preset {name} needs a title for the GUI's list"
    assert Experiment.from_dict(exp.to_dict()) == exp

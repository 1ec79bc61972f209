"""Field paths into experiment dicts: read, write a copy, name the path when it does not exist."""

import pytest

from nnviz.core import Experiment, SpecError
from nnviz.core.field_paths import get_field, parse_path, searchable_fields, set_field

EXP = Experiment.from_dict({
    "dataset": {"name": "moons", "n_samples": 100},
    "model": {"input_shape": [2], "cost": "cross_entropy", "init": "he",
              "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 2, "activation": "softmax"}]},
    "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 2}}).to_dict()


def test_parse_path_gives_keys_and_indices():
    assert parse_path("model.layers[1].activation") == ("model", "layers", 1, "activation")
    assert parse_path("training.optimizer.eta") == ("training", "optimizer", "eta")
    for bad in ("", "training..l2", "model.layers[x]", "1abc", "training.l2]"):
        with pytest.raises(SpecError):
            parse_path(bad)


def test_get_field_reads_nested_values():
    assert get_field(EXP, "training.optimizer.eta") == 0.01
    assert get_field(EXP, "model.layers[0].activation") == "relu"
    assert get_field(EXP, "model.init") == "he"
    assert get_field(EXP, "training.batch_size") == 32       # the catalogue default, filled in
    assert get_field(EXP, "training.optimizer.name") == "adam"


@pytest.mark.parametrize("path, words", [
    ("training.optimiser.eta", "no 'optimiser' in training"),
    ("model.layers[5].activation", "has 2 items"),
    ("model.init.x", "does not exist"),
    ("nothing", "no 'nothing' in the experiment"),
])
def test_missing_paths_are_spec_errors_naming_the_path(path, words):
    with pytest.raises(SpecError) as info:
        get_field(EXP, path)
    assert info.value.field == path and words in str(info.value)


def test_set_field_returns_a_changed_copy():
    changed = set_field(EXP, "model.layers[0].activation", "tanh")
    assert changed["model"]["layers"][0]["activation"] == "tanh"
    assert EXP["model"]["layers"][0]["activation"] == "relu"
    assert set_field(EXP, "training.l2", 0.1)["training"]["l2"] == 0.1
    with pytest.raises(SpecError) as info:
        set_field(EXP, "training.optimiser.eta", 1.0)
    assert info.value.field == "training.optimiser.eta"


def test_changing_the_optimizer_keeps_only_its_parameters():
    changed = set_field(EXP, "training.optimizer.name", "momentum")
    assert set(changed["training"]["optimizer"]) == {"name", "eta"}
    assert changed["training"]["optimizer"]["eta"] == 0.01
    assert Experiment.from_dict(changed).training["optimizer"]["name"] == "momentum"


def test_searchable_fields_come_from_the_catalogue():
    fields = {f.path: f for f in searchable_fields(EXP)}
    for path in ("training.optimizer.eta", "training.l2", "training.batch_size", "model.init",
                 "training.optimizer.name", "model.layers[0].activation", "model.layers[1].units",
                 "model.dtype"):
        assert path in fields
        get_field(EXP, path)                      # every offered path exists
    assert fields["training.optimizer.eta"].log_scale and fields["training.l2"].log_scale
    assert not fields["training.batch_size"].log_scale
    assert "sgd" not in fields["training.optimizer.name"].choices
    assert "momentum" in fields["training.optimizer.name"].choices
    assert "tanh" in fields["model.layers[0].activation"].choices

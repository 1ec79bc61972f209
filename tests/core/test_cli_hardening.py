"""The command line and experiment files against careless and hostile input: every
problem is a message naming the argument or field and exit code 2, never a traceback."""

import json
import os

import pytest

from nnviz.cli import experiment_and_file, load_experiment, main
from nnviz.core import Experiment, load_preset
from nnviz.core.errors import SpecError

from test_cli import SPEC


@pytest.fixture
def experiment_file(tmp_path):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(SPEC))
    return path


def train_to(experiment, out, capsys):
    code = main(["train", str(experiment), "--quiet", "--out", str(out)])
    return code, capsys.readouterr().err


def test_out_at_an_existing_file(experiment_file, tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    code, err = train_to(experiment_file, target, capsys)
    assert code == 2 and "nnviz: --out: " in err and "is a file, not a folder" in err
    assert target.read_text() == "keep me"


def test_out_under_a_file(experiment_file, tmp_path, capsys):
    (tmp_path / "f").write_text("")
    code, err = train_to(experiment_file, tmp_path / "f" / "run", capsys)
    assert code == 2 and "nnviz: --out: cannot write results to" in err
    assert "Not a directory" in err


def test_out_where_nobody_can_write(experiment_file, capsys):
    code, err = train_to(experiment_file, "/proc/self/nnviz-run", capsys)
    assert code == 2 and "nnviz: --out: cannot write results to '/proc/self/nnviz-run'" in err


def test_out_empty(experiment_file, capsys):
    code, err = train_to(experiment_file, "", capsys)
    assert code == 2 and "nnviz: --out: is empty" in err


def test_out_with_a_300_character_name(experiment_file, tmp_path, capsys):
    code, err = train_to(experiment_file, tmp_path / ("x" * 300), capsys)
    assert code == 2 and "File name too long" in err
    assert "…" in err and len(err) < 300        # the path is shortened in the message


def test_out_is_checked_before_training(experiment_file, tmp_path, capsys, monkeypatch):
    import nnviz.core.trainer as trainer_module
    monkeypatch.setattr(trainer_module.Trainer, "run", lambda self: pytest.fail("trained"))
    (tmp_path / "f").write_text("")
    assert train_to(experiment_file, tmp_path / "f", capsys)[0] == 2


def test_a_nul_byte_in_a_path(experiment_file, tmp_path, capsys):
    code, err = train_to(experiment_file, str(tmp_path) + "/a\0b", capsys)
    assert code == 2 and "nnviz: --out: cannot write results" in err
    assert main(["train", "exp\0.json"]) == 2
    assert "nnviz: file: cannot read" in capsys.readouterr().err


def test_an_experiment_path_of_300_characters(tmp_path, capsys):
    assert main(["train", str(tmp_path / ("y" * 300 + ".json"))]) == 2
    assert "nnviz: file: cannot read" in capsys.readouterr().err


def test_a_preset_name_works_where_a_file_is_expected(tmp_path, capsys, monkeypatch):
    assert load_experiment("moons_small") == load_preset("moons_small")
    monkeypatch.chdir(tmp_path)
    d = load_preset("moons_small").to_dict()
    d["training"]["epochs"] = 2
    assert main(["train", "xor_small", "--epochs", "2", "--quiet", "--out", "run"]) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["experiment"][
        "dataset"]["name"] == "xor"
    # a file of that name wins over the preset
    Experiment.from_dict(d).save(tmp_path / "xor_small")
    assert load_experiment("xor_small").dataset["name"] == "moons"
    assert experiment_and_file("xor_small")[1] == "xor_small"          # saved back there
    assert experiment_and_file("moons_small") == (load_preset("moons_small"), None)


@pytest.mark.parametrize("value, problem", [
    ("0", "must be between 1 and 1024, got 0"), ("-5", "must be between 1 and 1024, got -5"),
    ("1e9", "must be a whole number, got '1e9'"),
    ("1000000000", "must be between 1 and 1024, got 1000000000")])
def test_gradcheck_samples_out_of_range_are_refused_not_clamped(experiment_file, capsys,
                                                                 value, problem):
    with pytest.raises(SystemExit) as exit_:
        main(["gradcheck", str(experiment_file), "--samples", value])
    assert exit_.value.code == 2
    assert f"argument --samples: {problem}" in capsys.readouterr().err


def test_gradcheck_samples_beyond_the_training_set(experiment_file, capsys):
    assert main(["gradcheck", str(experiment_file), "--samples", "1000"]) == 2
    assert "--samples: must be at most 160 (the training samples of moons)" in \
        capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_train_epochs_must_be_a_positive_whole_number(experiment_file, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(experiment_file), "--epochs", value])
    assert exit_.value.code == 2 and "argument --epochs" in capsys.readouterr().err


def test_proc_kmsg_and_a_fifo_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, problem in [("/proc/kmsg", "is empty"), (fifo, "is not a regular file"),
                          ("/dev/zero", "is not a regular file")]:
        if not os.path.exists(path):
            continue
        with pytest.raises(SpecError, match=problem) as err:
            Experiment.load(path)
        assert err.value.field == "file"


@pytest.mark.parametrize("section", ["model", "dataset"])
def test_a_seed_of_2_to_the_31_is_refused_naming_the_field(section):
    d = {"format": "nnviz-experiment/1", **{k: v for k, v in SPEC.items() if k != "format"}}
    d = json.loads(json.dumps(d))
    d[section]["seed"] = 2 ** 31
    with pytest.raises(SpecError) as err:
        Experiment.from_dict(d)
    assert err.value.field == f"{section}.seed"
    d[section]["seed"] = 2 ** 31 - 1
    assert getattr(Experiment.from_dict(d), section)["seed"] == 2 ** 31 - 1


@pytest.mark.parametrize("field, limit", [("title", 200), ("description", 10_000)])
def test_title_and_description_have_a_length_limit(field, limit):
    d = json.loads(json.dumps(SPEC))
    d[field] = "x" * limit
    assert getattr(Experiment.from_dict(d), field) == "x" * limit
    d[field] = "x" * 1_000_000
    with pytest.raises(SpecError) as err:
        Experiment.from_dict(d)
    assert err.value.field == field and "1,000,000 characters" in str(err.value)

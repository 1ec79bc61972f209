"""Hypothesis fuzz of experiment files and command-line arguments through ``nnviz``'s
command line: every outcome is a clean exit (a return code or SystemExit with a
message), never a traceback.  Engine only: the window is never started.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nnviz.cli import main

BASE = {"format": "nnviz-experiment/1",
        "dataset": {"name": "moons", "n_samples": 60, "seed": 0},
        "model": {"input_shape": [2], "cost": "cross_entropy", "init": "he", "seed": 0,
                  "layers": [{"type": "dense", "units": 4, "activation": "relu"},
                             {"type": "dense", "units": 2, "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 1,
                     "batch_size": 16}}

# small numbers, so that a mutated file that is still valid trains in milliseconds
values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.sampled_from([2 ** 31, 10 ** 30, -2 ** 63])
    | st.floats(allow_nan=False, allow_infinity=False, width=32) | st.text(max_size=6)
    | st.sampled_from(["dense", "conv2d", "flatten", "relu", "softmax", "sigmoid", "moons",
                       "digits", "adam", "sgd", "mse", "bce", "same", "csv", "/proc/kmsg"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["type", "units", "activation", "name", "eta", "seed",
                                       "input_shape", "filters", "kernel_size", "path"]),
                      children, max_size=3),
    max_leaves=8)

PATHS = ["format", "title", "dataset", "dataset.name", "dataset.n_samples", "dataset.seed",
         "model", "model.layers", "model.input_shape", "model.seed", "model.cost", "model.init",
         "model.layers.0", "model.layers.0.units", "model.layers.1.activation", "training",
         "training.optimizer", "training.optimizer.eta", "training.epochs",
         "training.batch_size", "training.clip_norm", "extra"]


def mutated(path: str, value, delete: bool) -> dict:
    d = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = d
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    key = int(last) if isinstance(node, list) else last
    if delete and not isinstance(node, list):
        node.pop(key, None)
    else:
        node[key] = value
    return d


@pytest.fixture(autouse=True)
def in_a_temporary_folder(tmp_path_factory, monkeypatch):
    """Relative paths the fuzz makes up (``--out -``) land in a temporary folder."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def run_cli(argv, capsys) -> int:
    """The exit code of ``nnviz ARGV``; any exception but SystemExit fails the test."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.strip(), "an error exit must say why"
    return code


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=values, delete=st.booleans(),
       command=st.sampled_from(["train", "gradcheck"]))
def test_fuzz_experiment_files_through_the_cli(tmp_path, capsys, path, value, delete, command):
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps(mutated(path, value, delete)))
    argv = [command, str(exp)] + (["--quiet", "--out", str(tmp_path / "run")]
                                  if command == "train" else ["--samples", "2"])
    run_cli(argv, capsys)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
       | st.sampled_from([b"", b"{", b"[]", b"null", b'{"format": "nnviz-experiment/1"}',
                          b"\xef\xbb\xbf{}", b'{"a": 1, "a": 2}', b"[" * 5000, b"1e999999",
                          json.dumps(BASE).encode()[:-7]]))
def test_fuzz_file_bytes_through_the_cli(tmp_path, capsys, data):
    exp = tmp_path / "exp.json"
    exp.write_bytes(data)
    assert run_cli(["train", str(exp), "--quiet", "--out", str(tmp_path / "run")],
                   capsys) == 2


POSITIONALS = st.sampled_from(["FILE", "xor_small", "no_such_preset", "/proc/kmsg",
                               "/dev/null", "/", "", "x" * 300, "--", "-h", "nul\0.json"]) \
    | st.text(max_size=8)
NUMBERS = st.sampled_from(["0", "-5", "1", "2", "1e9", "nan", "99999999999999999999", ""]) \
    | st.integers(-10, 3).map(str) | st.text(max_size=6)
PLACES = st.sampled_from(["OUT", "OUT/under", "/proc/self/run", "x" * 300, "FILE", "", "-",
                          "a\0b"])
OPTIONS = st.one_of(
    st.tuples(st.sampled_from(["--epochs", "--samples", "--steps"]), NUMBERS),
    st.tuples(st.just("--out"), PLACES),
    st.tuples(st.sampled_from(["--quiet", "--bogus", "-x", "--view"])),
    st.tuples(st.sampled_from(["--view", "--bogus"]), st.text(max_size=6)))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["train", "train", "gradcheck", "presets", "--help", "-x"]),
       positional=st.just(["FILE"]) | st.just(["xor_small"]) | st.lists(POSITIONALS, max_size=2),
       options=st.lists(OPTIONS, max_size=3))
def test_fuzz_command_line_arguments(tmp_path, capsys, command, positional, options):
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps(BASE))
    (tmp_path / "a_file").write_text("")

    def swap(token):
        for name, real in (("FILE", str(exp)), ("OUT", str(tmp_path / "a_file"))):
            token = token.replace(name, real) if token.startswith(name) else token
        return token if token != "x" * 300 else str(tmp_path / token)

    argv = [command] + [swap(t) for t in positional]
    argv += [swap(t) for pair in options for t in pair]
    if command == "train" and "--out" not in argv:
        argv += ["--out", str(tmp_path / "run")]        # never write into the working folder
    run_cli(argv, capsys)


@pytest.mark.parametrize("argv", [["train"], ["gradcheck", "--samples"], ["presets", "extra"],
                                  ["train", "moons_small", "--epochs", "1e9"]])
def test_usage_errors_exit_2_with_a_message(capsys, argv):
    assert run_cli(argv, capsys) == 2

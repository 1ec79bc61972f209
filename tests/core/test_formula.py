"""Activation formulas: the whitelist, hostile input, derivatives, and formulas in networks."""

from __future__ import annotations

import ast
import builtins
import copy
import os
import pickle

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from nnviz.core import Experiment
from nnviz.core.errors import SpecError
from nnviz.core.formula import MAX_LENGTH, compile_formula
from nnviz.core.gradcheck import check_gradients, format_table
from nnviz.core.network import Network

Z = np.linspace(-4.0, 4.0, 41) + 0.013        # never exactly on a kink


@pytest.fixture
def no_dynamic_code(monkeypatch):
    """Fail loudly if anything calls eval or exec, or compiles to code, while the test runs.

    ``ast.parse`` itself calls ``compile`` with PyCF_ONLY_AST, which builds a tree only.
    """
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec was called")

    def tree_only(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile() to code was called"
        return real_compile(source, filename, mode, flags, *args, **kwargs)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", tree_only)


# --------------------------------------------------------------- values and derivatives

@pytest.mark.parametrize("text, f, df", [
    ("x * sigmoid(x)", lambda z: z / (1 + np.exp(-z)),
     lambda z: 1 / (1 + np.exp(-z)) + z * np.exp(-z) / (1 + np.exp(-z)) ** 2),
    ("tanh(x)", np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    ("maximum(x, 0)", lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    ("where(x > 0, x, 0.1 * x)", lambda z: np.where(z > 0, z, 0.1 * z),
     lambda z: np.where(z > 0, 1.0, 0.1)),
    ("x ** 3 - 2 * x", lambda z: z ** 3 - 2 * z, lambda z: 3 * z ** 2 - 2),
    ("-exp(-x ** 2 / 2) / sqrt(2 * pi)", lambda z: -np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi),
     lambda z: z * np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi)),
    ("log(1 + e ** x)", lambda z: np.log1p(np.exp(z)), lambda z: 1 / (1 + np.exp(-z))),
    ("sin(x) * cos(x) + abs(x) / 2 - minimum(x, 1)",
     lambda z: np.sin(z) * np.cos(z) + np.abs(z) / 2 - np.minimum(z, 1),
     lambda z: np.cos(2 * z) + np.sign(z) / 2 - (z < 1)),
])
def test_formula_values_and_derivatives_match_hand_computed(text, f, df, no_dynamic_code):
    formula = compile_formula(text)
    np.testing.assert_allclose(formula.f(Z), f(Z), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(formula.df(Z), df(Z), rtol=1e-10, atol=1e-12)


def test_formula_keeps_shape_and_dtype_even_with_constant_branches():
    z = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    formula = compile_formula("where(x > 0, 1, -1) * x")
    assert formula.f(z).shape == (3, 4) and formula.f(z).dtype == np.float32
    np.testing.assert_allclose(formula.f(z), np.abs(z))
    assert compile_formula("where(x > 0, 1, 0)").f(z).shape == (3, 4)


# --------------------------------------------------------------- what is refused

HOSTILE = [
    ("__import__('os').system('touch {sentinel}')", "column 1: only the functions"),
    ("x.__class__", "column 1: attribute access"),
    ("[x for x in (1, 2)]", "column 1: a comprehension"),
    ("(lambda: 1)()", "column 1: only the functions"),
    ("lambda x: x", "column 1: lambda"),
    ("9**9**9", "column 4: an exponent must be a plain number"),
    ("x ** 10 ** 10", "column 6: an exponent must be a plain number"),
    ("x ** 1000", "the exponent 1000 is too large"),
    ("1e400 * x", "is too large"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("exp(x, 2)", "exp() takes 1 argument, got 2"),
    ("maximum(x, initial=0)", "takes no keyword arguments"),
    ("x if x > 0 else 0", "if/else"),
    ("x[0]", "indexing"),
    ("x % 2", "the operator % is not allowed"),
    ("x > 0", "a comparison outside where()"),
    ("where(x, 1, 0)", "must be a comparison"),
    ("y + 1", "unknown name 'y'"),
    ("tanh", "a function needs brackets"),
    ("'x'", "not a real number"),
    ("2 * pi", "does not use x"),
    ("(x + 1", "syntax error at column 1"),
    ("x" + " + x" * 60, f"more than {MAX_LENGTH}"),
]


@pytest.mark.parametrize("text, reason", HOSTILE)
def test_hostile_or_invalid_formulas_are_refused_naming_field_position_and_reason(
        text, reason, tmp_path, monkeypatch, no_dynamic_code):
    sentinel = tmp_path / "pwned"
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    field = "model.layers[1].activation.formula"
    with pytest.raises(SpecError) as info:
        compile_formula(text.format(sentinel=sentinel), field)
    assert info.value.field == field
    assert reason in str(info.value)
    assert not sentinel.exists() and not calls


def test_network_refuses_a_bad_formula_at_its_layer():
    spec = {"input_shape": [2], "layers": [
        {"type": "dense", "units": 4, "activation": "tanh"},
        {"type": "dense", "units": 1, "activation": {"formula": "x.real"}}]}
    with pytest.raises(SpecError, match=r"^layers\[1\]\.activation\.formula: column 1"):
        Network.from_spec(spec)
    spec["layers"][1]["activation"] = {"formula": "x", "alpha": 1}
    with pytest.raises(SpecError, match=r"layers\[1\]\.activation\.alpha: unknown key"):
        Network.from_spec(spec)
    spec["layers"][1]["activation"] = {}
    with pytest.raises(SpecError, match=r"layers\[1\]\.activation\.formula: is missing"):
        Network.from_spec(spec)


def test_experiment_names_the_model_field():
    model = {"input_shape": [2], "layers": [
        {"type": "dense", "units": 4, "activation": {"formula": "9**9**9"}},
        {"type": "dense", "units": 2, "activation": "softmax"}], "cost": "cross_entropy"}
    with pytest.raises(SpecError) as info:
        Experiment.from_dict({"dataset": {"name": "moons"}, "model": model})
    assert info.value.field == "model.layers[0].activation.formula"


# --------------------------------------------------------------- inside a network

def _net(hidden_activation, output="identity", units=3, cost="mse", seed=0):
    return Network.from_spec({
        "input_shape": [4], "seed": seed, "cost": cost, "init": "xavier",
        "layers": [{"type": "dense", "units": 5, "activation": hidden_activation},
                   {"type": "dense", "units": units, "activation": output}]})


@pytest.mark.parametrize("builtin, text", [("tanh", "tanh(x)"), ("sigmoid", "sigmoid(x)"),
                                           ("relu", "maximum(x, 0)")])
def test_back_propagation_through_a_formula_equals_the_builtin(builtin, text):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(16, 4)), rng.normal(size=(16, 3))
    a, b = _net(builtin), _net({"formula": text})
    loss_a, loss_b = a.compute_gradients(X, Y), b.compute_gradients(X, Y)
    assert loss_a == pytest.approx(loss_b, rel=1e-12)
    for la, lb in zip(a.layers, b.layers):
        for k in la.grads:
            np.testing.assert_allclose(lb.grads[k], la.grads[k], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("text", ["x * sigmoid(x)", "where(x > 0, x, 0.2 * x)", "x ** 2 / 4"])
def test_gradient_check_covers_formula_activations(text):
    rng = np.random.default_rng(1)
    net = _net({"formula": text}, output={"formula": "tanh(x) + x / 10"})
    for layer in net.layers:
        layer.params["b"] += 0.1 * rng.normal(size=layer.params["b"].shape)
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    rows = check_gradients(net, X, Y, max_elements=30)
    assert len(rows) == 4
    assert all(r.error_autograd <= 1e-6 and r.error_finite_difference <= 1e-6 for r in rows), \
        format_table(rows)


def test_gradient_check_sees_a_wrong_formula_derivative(monkeypatch):
    """The reference differentiates the formula itself: a wrong f' in the network fails."""
    from nnviz.core.formula import Formula
    monkeypatch.setattr(Formula, "df", lambda self, z: np.ones_like(z))
    net = _net({"formula": "x * sigmoid(x)"})
    rng = np.random.default_rng(0)
    rows = check_gradients(net, rng.normal(size=(6, 4)), rng.normal(size=(6, 3)))
    assert max(r.error_autograd for r in rows) > 1e-3


def test_formula_spec_round_trips_through_to_spec_and_experiment_files(tmp_path):
    act = {"formula": "  x * sigmoid(x) "}
    net = _net(act)
    spec = net.to_spec()
    assert spec["layers"][0]["activation"] == {"formula": "x * sigmoid(x)"}
    assert net.layers[0].label == "dense 0 (x * sigmoid(x))"
    spec["layers"][0]["activation"]["formula"] = "changed(x)"   # to_spec is a copy
    assert net.to_spec()["layers"][0]["activation"] == {"formula": "x * sigmoid(x)"}
    exp = Experiment.from_dict({"dataset": {"name": "sine"}, "model": {
        "input_shape": [1], "layers": [{"type": "dense", "units": 8, "activation": act},
                                       {"type": "dense", "units": 1}]}})
    exp.save(tmp_path / "e.json")
    again = Experiment.load(tmp_path / "e.json")
    assert again == exp and again.model["layers"][0]["activation"] == {"formula": "x * sigmoid(x)"}
    assert Network.from_spec(again.model).to_spec() == again.model


def test_reference_autograd_function_is_differentiable_through_autograd():
    fn = compile_formula("x * sigmoid(x)").autograd_fn()
    g = autograd.grad(lambda z: anp.sum(fn(z)))(Z)
    np.testing.assert_allclose(g, compile_formula("x * sigmoid(x)").df(Z))


def test_networks_with_formulas_pickle_and_deep_copy():
    net = _net({"formula": "x * sigmoid(x)"})
    X = np.random.default_rng(0).normal(size=(5, 4))
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        np.testing.assert_array_equal(other.forward(X), net.forward(X))

"""Optimisers: per-element reference rules, known numbers, validation, in-place updates."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from nnviz.core.errors import SpecError
from nnviz.core.optimizers import OPTIMIZERS, Optimizer, make_optimizer

NAMES = list(OPTIMIZERS)


class FakeLayer:
    def __init__(self, params):
        self.params = params
        self.grads = {k: np.zeros_like(v) for k, v in params.items()}


class FakeNet:
    """Just enough of Network for an optimiser: layers with params/grads dicts."""

    def __init__(self, rng, shapes=(((3, 4), (4,)), None, ((4, 2), (2,)))):
        self.layers = []
        for shape in shapes:
            if shape is None:                       # a layer without parameters
                self.layers.append(FakeLayer({}))
            else:
                w, b = shape
                self.layers.append(FakeLayer({"W": rng.normal(size=w), "b": rng.normal(size=b)}))

    def set_random_grads(self, rng):
        for layer in self.layers:
            for k, g in layer.grads.items():
                g[...] = rng.normal(size=g.shape)

    def flat(self, what="params"):
        return [getattr(layer, what)[k].copy() for layer in self.layers
                for k in sorted(getattr(layer, what))]


# --- a straightforward scalar reference implementation, one element at a time ------------

def reference_step(name, h, p, g, state, t):
    """One update of a scalar parameter ``p``; ``state`` is a dict of scalars."""
    eta = h["eta"]
    if name == "constant":
        return p - eta * g
    if name == "momentum":
        state["v"] = h["momentum"] * state.get("v", 0.0) + g
        return p - eta * state["v"]
    if name in ("adagrad", "adagrad_momentum"):
        state["G"] = state.get("G", 0.0) + g * g
        d = g / (math.sqrt(state["G"]) + h["eps"])
        if name == "adagrad":
            return p - eta * d
        state["v"] = h["momentum"] * state.get("v", 0.0) + d
        return p - eta * state["v"]
    if name == "rmsprop":
        state["s"] = h["rho"] * state.get("s", 0.0) + (1 - h["rho"]) * g * g
        return p - eta * g / (math.sqrt(state["s"]) + h["eps"])
    if name == "adam":
        b1, b2 = h["rho"], h["rho2"]
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        mhat = state["m"] / (1 - b1 ** t)
        vhat = state["v"] / (1 - b2 ** t)
        return p - eta * mhat / (math.sqrt(vhat) + h["eps"])
    raise AssertionError(name)


def run_reference(name, h, params, grads_per_step):
    params = [p.astype(float).copy() for p in params]
    states = [[{} for _ in range(p.size)] for p in params]
    for t, grads in enumerate(grads_per_step, start=1):
        for p, g, st in zip(params, grads, states):
            flat_p, flat_g = p.reshape(-1), g.reshape(-1)
            for j in range(flat_p.size):
                flat_p[j] = reference_step(name, h, flat_p[j], flat_g[j], st[j], t)
    return params


SPECS = [
    {"name": "constant", "eta": 0.1},
    {"name": "momentum", "eta": 0.05},
    {"name": "momentum", "eta": 0.05, "momentum": 0.5},
    {"name": "adagrad", "eta": 0.3},
    {"name": "adagrad", "eta": 0.3, "eps": 1e-3},
    {"name": "adagrad_momentum", "eta": 0.2},
    {"name": "adagrad_momentum", "eta": 0.2, "momentum": 0.3, "eps": 0.01},
    {"name": "rmsprop", "eta": 0.01},
    {"name": "rmsprop", "eta": 0.01, "rho": 0.5, "eps": 1e-4},
    {"name": "adam", "eta": 0.01},
    {"name": "adam", "eta": 0.01, "rho": 0.5, "rho2": 0.8, "eps": 1e-3},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(f"{v}" for v in s.values()))
def test_matches_per_element_reference(spec):
    rng = np.random.default_rng(1)
    net = FakeNet(rng)
    opt = make_optimizer(spec)
    h = opt.to_spec()
    start = net.flat()
    grads_per_step = []
    for _ in range(7):
        net.set_random_grads(rng)
        grads_per_step.append(net.flat("grads"))
        opt.apply(net)
    expected = run_reference(spec["name"], h, start, grads_per_step)
    for got, want in zip(net.flat(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert opt.steps == 7


def _one_step(spec, g, p0=1.0):
    layer = FakeLayer({"W": np.full(g.shape, p0)})
    layer.grads["W"][...] = g
    net = type("Net", (), {"layers": [layer]})()
    opt = make_optimizer(spec)
    opt.apply(net)
    return layer.params["W"] - p0, opt, net


G = np.array([3.0, -0.02, 1e-3, -250.0])


def test_known_first_steps():
    eta = 0.01
    step, _, _ = _one_step({"name": "constant", "eta": eta}, G)
    np.testing.assert_allclose(step, -eta * G)
    # Adam, Adagrad: the first step is eta * sign(g) whatever the size of g.
    for name in ("adam", "adagrad"):
        step, _, _ = _one_step({"name": name, "eta": eta}, G)
        np.testing.assert_allclose(step, -eta * np.sign(G), rtol=1e-4)
    # RMSprop: s = (1-rho) g^2, so the first step is eta / sqrt(1-rho) = 10 eta.
    step, _, _ = _one_step({"name": "rmsprop", "eta": eta}, G)
    np.testing.assert_allclose(step, -10 * eta * np.sign(G), rtol=1e-4)


def test_momentum_constant_gradient_geometric_sum():
    # v_n = g (1 + mu + ... + mu^(n-1)); total move = eta g sum_k (1-mu^k)/(1-mu)
    mu, eta, n = 0.9, 0.1, 5
    layer = FakeLayer({"W": np.zeros(2)})
    layer.grads["W"][...] = [1.0, -2.0]
    net = type("Net", (), {"layers": [layer]})()
    opt = make_optimizer({"name": "momentum", "eta": eta, "momentum": mu})
    for _ in range(n):
        opt.apply(net)
    total = eta * sum((1 - mu ** k) / (1 - mu) for k in range(1, n + 1))
    np.testing.assert_allclose(layer.params["W"], -total * np.array([1.0, -2.0]))


def test_adam_bias_correction_counts_update_steps():
    # With a constant gradient, mhat = g and vhat = g^2 at every step, so each step is eta*sign(g).
    layer = FakeLayer({"W": np.zeros(3)})
    layer.grads["W"][...] = [0.5, -4.0, 2e-3]
    net = type("Net", (), {"layers": [layer]})()
    opt = make_optimizer({"name": "adam", "eta": 0.1})
    for k in range(1, 6):
        opt.apply(net)
        np.testing.assert_allclose(layer.params["W"], -0.1 * k * np.array([1, -1, 1]), rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_updates_in_place_and_views_stay_valid(name):
    rng = np.random.default_rng(0)
    net = FakeNet(rng)
    W = net.layers[0].params["W"]
    view = W[1]
    before = W.copy()
    net.set_random_grads(rng)
    make_optimizer({"name": name, "eta": 0.1}).apply(net)
    assert net.layers[0].params["W"] is W
    assert not np.array_equal(W, before)
    np.testing.assert_array_equal(view, W[1])


@pytest.mark.parametrize("name", NAMES)
def test_no_per_step_allocation(name):
    rng = np.random.default_rng(0)
    net = FakeNet(rng, shapes=(((100, 100), (100,)),))
    net.set_random_grads(rng)
    opt = make_optimizer({"name": name, "eta": 1e-3})
    opt.apply(net)                                  # creates the state lazily
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            opt.apply(net)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 8_000, f"{name} allocated {peak} bytes per step (W alone is 80 kB)"


@pytest.mark.parametrize("name", NAMES)
def test_minimises_a_quadratic(name):
    # f(p) = 1/2 sum a (p - c)^2 with curvatures a spread over two decades.
    a = np.array([0.1, 1.0, 3.0, 10.0])
    c = np.array([1.0, -2.0, 0.5, 3.0])
    eta = {"constant": 0.09, "momentum": 0.02, "adagrad": 1.0, "adagrad_momentum": 0.2,
           "rmsprop": 0.01, "adam": 0.05}[name]
    layer = FakeLayer({"W": np.zeros(4)})
    net = type("Net", (), {"layers": [layer]})()
    opt = make_optimizer({"name": name, "eta": eta})
    f0 = 0.5 * np.sum(a * c ** 2)
    for _ in range(1500):
        np.multiply(a, layer.params["W"] - c, out=layer.grads["W"])
        opt.apply(net)
    f = 0.5 * np.sum(a * (layer.params["W"] - c) ** 2)
    assert f < 1e-3 * f0
    np.testing.assert_allclose(layer.params["W"], c, atol=0.05)


def test_eta_settable_live_and_validated():
    rng = np.random.default_rng(2)
    net = FakeNet(rng)
    net.set_random_grads(rng)
    opt = make_optimizer({"name": "constant", "eta": 0.1})
    opt.eta = 0.5
    W0 = net.layers[0].params["W"].copy()
    opt.apply(net)
    np.testing.assert_allclose(net.layers[0].params["W"], W0 - 0.5 * net.layers[0].grads["W"])
    assert opt.to_spec()["eta"] == 0.5
    for bad in (0, -1.0, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(SpecError, match=r"training\.optimizer\.eta"):
            opt.eta = bad
    assert opt.eta == 0.5


def test_reset_clears_state():
    eta = 0.01
    step, opt, net = _one_step({"name": "adam", "eta": eta}, G)
    layer = net.layers[0]
    layer.grads["W"][...] = -G                      # opposite gradient: momentum fights it
    opt.reset()
    assert opt.steps == 0
    before = layer.params["W"].copy()
    opt.apply(net)
    np.testing.assert_allclose(layer.params["W"] - before, eta * np.sign(G), rtol=1e-4)


def test_state_restarts_when_the_layout_changes():
    rng = np.random.default_rng(3)
    net = FakeNet(rng)
    net.set_random_grads(rng)
    opt = make_optimizer({"name": "adam", "eta": 0.01})
    opt.apply(net)
    opt.apply(net)
    assert opt.steps == 2
    # The same optimiser on a net whose layer 0 changed shape starts fresh: t = 1 again.
    net.layers[0] = FakeLayer({"W": np.zeros((5, 5)), "b": np.zeros(5)})
    net.layers[0].grads["W"][...] = 2.0
    net.layers[0].grads["b"][...] = -3.0
    opt.apply(net)
    assert opt.steps == 1
    np.testing.assert_allclose(net.layers[0].params["W"], -0.01, rtol=1e-5)
    np.testing.assert_allclose(net.layers[0].params["b"], 0.01, rtol=1e-5)


def test_state_survives_replaced_arrays_of_the_same_layout():
    """Loading weights may swap the arrays; the moments of each (layer, param) carry on."""
    rng = np.random.default_rng(6)
    a, b = FakeNet(rng), FakeNet(np.random.default_rng(6))
    opt_a = make_optimizer({"name": "momentum", "eta": 0.1})
    opt_b = make_optimizer({"name": "momentum", "eta": 0.1})
    for step in range(4):
        a.set_random_grads(rng)
        for la, lb in zip(a.layers, b.layers):
            for k in la.grads:
                lb.grads[k][...] = la.grads[k]
        if step == 2:                                   # new arrays, equal values
            for layer in b.layers:
                layer.params = {k: v.copy() for k, v in layer.params.items()}
        opt_a.apply(a)
        opt_b.apply(b)
    for x, y in zip(a.flat(), b.flat()):
        np.testing.assert_allclose(x, y, rtol=1e-14)
    assert opt_b.steps == 4


@pytest.mark.parametrize("grads, words", [({}, "'W' is missing"),
                                          ({"W": np.zeros(3)}, "wrong shape")])
def test_missing_or_misshapen_gradient_is_a_clear_error(grads, words):
    layer = FakeLayer({"W": np.zeros(2)})
    layer.grads = grads
    net = type("Net", (), {"layers": [layer]})()
    with pytest.raises(ValueError, match=words):
        make_optimizer({"name": "constant", "eta": 0.1}).apply(net)


def test_float32_parameters_stay_float32():
    layer = FakeLayer({"W": np.ones(3, dtype=np.float32)})
    layer.grads["W"][...] = 1.0
    net = type("Net", (), {"layers": [layer]})()
    make_optimizer({"name": "adam", "eta": 0.1}).apply(net)
    assert layer.params["W"].dtype == np.float32
    np.testing.assert_allclose(layer.params["W"], 0.9, rtol=1e-5)


# --- specs -------------------------------------------------------------------------------

def test_to_spec_fills_defaults_and_round_trips():
    assert make_optimizer({"name": "adam", "eta": 1e-3}).to_spec() == {
        "name": "adam", "eta": 1e-3, "rho": 0.9, "rho2": 0.999, "eps": 1e-8}
    assert make_optimizer({"name": "rmsprop", "eta": 1}).to_spec() == {
        "name": "rmsprop", "eta": 1.0, "rho": 0.99, "eps": 1e-8}
    assert make_optimizer({"name": "momentum", "eta": 0.1}).to_spec()["momentum"] == 0.9
    assert make_optimizer({"name": "constant", "eta": 0.1}).to_spec() == {
        "name": "constant", "eta": 0.1}
    for name in NAMES:
        spec = make_optimizer({"name": name, "eta": 0.2}).to_spec()
        opt = make_optimizer(spec)
        assert isinstance(opt, Optimizer) and opt.to_spec() == spec
        assert name in repr(opt)


@pytest.mark.parametrize("spec, field, words", [
    ({"name": "sgdx", "eta": 0.1}, "training.optimizer.name", "unknown optimizer 'sgdx'"),
    ({"name": "sgdx", "eta": 0.1}, "training.optimizer.name", "choose one of: constant"),
    ({"eta": 0.1}, "training.optimizer.name", "missing"),
    ({"name": 3, "eta": 0.1}, "training.optimizer.name", "unknown optimizer 3"),
    ({"name": "adam", "eta": 0}, "training.optimizer.eta", "greater than 0"),
    ({"name": "adam", "eta": -0.1}, "training.optimizer.eta", "greater than 0"),
    ({"name": "adam", "eta": float("nan")}, "training.optimizer.eta", "finite"),
    ({"name": "adam", "eta": float("inf")}, "training.optimizer.eta", "finite"),
    ({"name": "adam", "eta": "0.1"}, "training.optimizer.eta", "number"),
    ({"name": "adam", "eta": None}, "training.optimizer.eta", "number"),
    ({"name": "adam", "eta": True}, "training.optimizer.eta", "number"),
    ({"name": "momentum", "eta": 0.1, "momentum": 1.0}, "training.optimizer.momentum", "[0, 1)"),
    ({"name": "momentum", "eta": 0.1, "momentum": -0.1}, "training.optimizer.momentum", "[0, 1)"),
    ({"name": "rmsprop", "eta": 0.1, "rho": 1.5}, "training.optimizer.rho", "[0, 1)"),
    ({"name": "adam", "eta": 0.1, "rho2": 1.0}, "training.optimizer.rho2", "[0, 1)"),
    ({"name": "adam", "eta": 0.1, "eps": 0.0}, "training.optimizer.eps", "greater than 0"),
    ({"name": "adam", "eta": 0.1, "eps": [1]}, "training.optimizer.eps", "number"),
    ({"name": "adam", "eta": 0.1, "beta1": 0.9}, "training.optimizer.beta1", "unknown key"),
    ({"name": "constant", "eta": 0.1, "momentum": 0.9}, "training.optimizer.momentum",
     "not used by the 'constant'"),
    ({"name": "adam", "eta": 0.1, "momentum": 0.9}, "training.optimizer.momentum",
     "momentum, adagrad_momentum"),
    ([("name", "adam")], "training.optimizer", "must be an object"),
])
def test_invalid_specs_name_the_field(spec, field, words):
    with pytest.raises(SpecError) as info:
        make_optimizer(spec)
    assert info.value.field == field
    assert str(info.value).startswith(field + ":")
    assert words in str(info.value)


def test_momentum_zero_is_plain_sgd():
    rng = np.random.default_rng(4)
    a, b = FakeNet(rng), FakeNet(np.random.default_rng(4))   # equal parameters
    sgd = make_optimizer({"name": "constant", "eta": 0.1})
    mom = make_optimizer({"name": "momentum", "eta": 0.1, "momentum": 0})
    for _ in range(3):
        a.set_random_grads(rng)
        for la, lb in zip(a.layers, b.layers):
            for k in la.grads:
                lb.grads[k][...] = la.grads[k]
        sgd.apply(a)
        mom.apply(b)
    for x, y in zip(a.flat(), b.flat()):
        np.testing.assert_allclose(x, y)


# --- against PyTorch, when it is installed ---------------------------------------------

TORCH = {
    "constant": lambda t, ps, h: t.optim.SGD(ps, lr=h["eta"]),
    "momentum": lambda t, ps, h: t.optim.SGD(ps, lr=h["eta"], momentum=h["momentum"]),
    "adagrad": lambda t, ps, h: t.optim.Adagrad(ps, lr=h["eta"], eps=h["eps"]),
    "rmsprop": lambda t, ps, h: t.optim.RMSprop(ps, lr=h["eta"], alpha=h["rho"], eps=h["eps"]),
    "adam": lambda t, ps, h: t.optim.Adam(ps, lr=h["eta"], betas=(h["rho"], h["rho2"]),
                                          eps=h["eps"]),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    net = FakeNet(rng)
    opt = make_optimizer({"name": name, "eta": 0.03})
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.flat()]
    topt = TORCH[name](torch, tparams, opt.to_spec())
    for _ in range(6):
        net.set_random_grads(rng)
        for tp, g in zip(tparams, net.flat("grads")):
            tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        opt.apply(net)
    for got, tp in zip(net.flat(), tparams):
        np.testing.assert_allclose(got, tp.detach().numpy(), rtol=1e-10, atol=1e-12)

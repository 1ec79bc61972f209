"""The inspector's Qt-free parts: the step order and the chain-rule text (no widgets)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnviz.core import Network
from nnviz.core.datasets import load_dataset
from nnviz.core.trace import backprop_data
from nnviz.gui.inspector.chain import explain, fmt
from nnviz.gui.inspector.heatmaps import MAX_DRAWN, as_map
from nnviz.gui.inspector.stepper import Stepper


def small_data(cost="bce", out_activation="sigmoid", index=3):
    net = Network.from_spec({"input_shape": [2], "cost": cost, "seed": 1, "layers": [
        {"type": "dense", "units": 3, "activation": "tanh"},
        {"type": "dense", "units": 1, "activation": out_activation}]})
    dataset = load_dataset({"name": "xor", "n_samples": 40, "seed": 0}, input_shape=(2,))
    return backprop_data(net, dataset, index)


def test_stepper_reveals_forward_then_backward():
    s = Stepper()
    s.start(2)                                   # a 2-3-1 network: 7 stages
    assert s.n_stages == 7
    seen = []
    for _ in range(s.n_stages):
        seen.append({(q, l) for q in ("input", "z", "a", "cost", "delta", "grad")
                     for l in (0, 1) if s.shows(q, l)})
        s.advance()
    assert seen[0] == {("input", 0), ("input", 1)}
    assert ("z", 0) in seen[1] and ("z", 1) not in seen[1]
    assert ("a", 1) in seen[2] and ("cost", 0) not in seen[2]
    assert ("cost", 0) in seen[3] and ("delta", 1) not in seen[3]
    assert ("delta", 1) in seen[4] and ("delta", 0) not in seen[4]
    assert ("delta", 0) in seen[5] and ("grad", 0) not in seen[5]
    assert ("grad", 0) in seen[6]
    assert s.stage == 0                          # after the last stage: back to the start
    s.stop()
    assert s.shows("grad", 0) and not s.advance()


def _evaluate(expression: str) -> float:
    return eval(expression.replace("·", "*").replace("−", "-"), {})   # noqa: S307 - our text


def test_hidden_chain_rule_sum_equals_the_trace():
    data = small_data()
    for j in range(3):
        ex = explain(data, 0, j)
        layer, nxt = data["layers"][0], data["layers"][1]
        assert ex.delta == layer["delta"][j]
        assert [w for w, _ in ex.terms] == list(nxt["params"]["W"][j])
        assert [d for _, d in ex.terms] == list(nxt["delta"])
        assert sum(w * d for w, d in ex.terms) * ex.derivative == pytest.approx(ex.delta, rel=1e-12)
        # the written sum, evaluated from the shown (rounded) numbers, gives the shown δ
        line = next(l for l in ex.text.splitlines() if l.strip().startswith("= (") and "·" in l)
        written = line.strip()[2:]
        assert _evaluate(written) == pytest.approx(float(fmt(ex.delta)), rel=0.02)
        bias = next(l for l in ex.text.splitlines() if "∂C/∂b" in l)
        assert bias.endswith(f"= {fmt(layer['grads']['b'][j])}")


def test_output_chain_rule_fused_and_not():
    data = small_data()
    ex = explain(data, 1, 0)
    assert "a − y" in ex.text and ex.derivative is None
    assert ex.output_factors[0] - ex.output_factors[1] == pytest.approx(ex.delta)
    data = small_data(cost="mse", out_activation="sigmoid")
    ex = explain(data, 1, 0)
    grad_a, d = ex.output_factors
    assert grad_a * d == pytest.approx(data["layers"][1]["delta"][0], rel=1e-12)
    assert f"= {fmt(ex.delta)}" in ex.text
    m = re.search(r"∂C/∂W₁₁ = .* = (\S+)$", ex.text, re.M)
    assert float(m.group(1)) == pytest.approx(float(fmt(data["layers"][1]["grads"]["W"][0, 0])))


def test_heatmap_map_is_capped():
    array, note = as_map(np.arange(100_000.0))
    assert array.size <= 2 * MAX_DRAWN and "100000" in note
    array, note = as_map(np.ones((8, 400, 400)), channel=3)
    assert array.size <= 2 * MAX_DRAWN and "filter 4 of 8" in note

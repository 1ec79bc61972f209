"""The chain-rule step of one neuron, written out with the trace's numbers (no Qt).

For neuron j of dense layer l (both counted from 1 in the text), from the
inspector's data (``nnviz.core.trace.backprop_data``):

* forward: z = Σᵢ a_prev,i · W_ij + b_j, a = σ(z);
* backward, output layer: δ = ∂C/∂a · σ′(z), or a − y when the output
  activation and the cost are fused (softmax + cross-entropy, sigmoid + BCE);
  a softmax output otherwise needs its Jacobian: δ_j = a_j (∂C/∂a_j − Σₖ aₖ ∂C/∂aₖ);
* backward, hidden layer: δ = (Σₖ W_next,jk · δ_next,k) · σ′(z), term by term;
* gradients: ∂C/∂b_j = δ, ∂C/∂W_ij = a_prev,i · δ.

Numbers have 3 significant digits; ``Explanation`` also keeps the exact values
the text was written from, so a test can check the written sum against δ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_TERMS = 6          # a sum with more terms shows the first SHOWN_TERMS and "…"
SHOWN_TERMS = 4
FUSED = {"softmax": "softmax + cross-entropy", "sigmoid": "sigmoid + binary cross-entropy"}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt(value) -> str:
    """A number with 3 significant digits (−0 shown as 0)."""
    value = float(value)
    return "0" if value == 0 else f"{value:.3g}"


def sub(n: int) -> str:
    return str(n).translate(_SUB)


def sup(n: int) -> str:
    """Layer ``n`` as a superscript: ⁽²⁾."""
    return "⁽" + str(n).translate(_SUP) + "⁾"


def _factor(value) -> str:
    """A number as a factor of a product: negatives in brackets."""
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text


@dataclass
class Explanation:
    """The chain-rule text of one neuron and the exact numbers it was written from."""

    text: str
    layer: int                       # 0-based layer index
    unit: int                        # 0-based neuron index
    z: float
    a: float
    delta: float
    derivative: float | None         # σ′(z); None for a fused or softmax output
    terms: list = field(default_factory=list)   # hidden layer: (W_next[j, k], δ_next[k])
    output_factors: tuple = ()       # output layer: (∂C/∂a, σ′(z)) or (a, y) when fused


def _sum_text(products: list[tuple[float, float]]) -> tuple[str, str]:
    """(the sum of products written out, the same with each product evaluated)."""
    shown = products if len(products) <= MAX_TERMS else products[:SHOWN_TERMS]
    written = " + ".join(f"{_factor(u)}·{_factor(v)}" for u, v in shown)
    evaluated = " + ".join(_factor(u * v) for u, v in shown)
    if len(shown) < len(products):
        rest = len(products) - len(shown)
        tail = sum(u * v for u, v in products[len(shown):])
        written += f" + … ({rest} more terms)"
        evaluated += f" + … ({rest} more: {fmt(tail)})"
    return written, evaluated


def _previous(data: dict, i: int) -> tuple[np.ndarray, str]:
    if i == 0:
        return np.ravel(data["input"]), "x"
    return np.ravel(data["layers"][i - 1]["a"]), f"a{sup(i)}"


def _output_delta(data: dict, layer: dict, j: int, lines: list) -> tuple:
    a, grad_a = np.ravel(layer["a"]), np.ravel(layer["grad_a"])
    activation = layer["activation"] or "linear"
    if data.get("fused"):
        y = float(np.ravel(data["target"])[j])
        lines += [f"  output layer, {FUSED.get(activation, activation + ' + its cost')}: "
                  "∂C/∂a and σ′(z) cancel, δ = a − y",
                  f"  δ = {fmt(a[j])} − {_factor(y)} = {fmt(a[j] - y)}"]
        return None, (float(a[j]), y)
    deriv = layer["activation_derivative"]
    if deriv is None:                       # softmax with another cost: its Jacobian
        dot = float(np.dot(a, grad_a))
        lines += [f"  output layer, softmax with {data.get('cost_name', 'this cost')}: "
                  "δⱼ = aⱼ (∂C/∂aⱼ − Σₖ aₖ ∂C/∂aₖ)",
                  f"  δ = {fmt(a[j])} · ({fmt(grad_a[j])} − {_factor(dot)})",
                  f"    = {fmt(a[j] * (grad_a[j] - dot))}"]
        return None, (float(grad_a[j]), float(a[j]))
    d = float(np.ravel(deriv)[j])
    lines += [f"  output layer: δ_L = ∂C/∂a ⊙ σ′(z_L)   (C = {data.get('cost_name', 'cost')})",
              f"  δ = {_factor(grad_a[j])} · {_factor(d)} = {fmt(grad_a[j] * d)}"]
    return d, (float(grad_a[j]), d)


def _hidden_delta(data: dict, i: int, j: int, lines: list) -> tuple:
    layer, nxt = data["layers"][i], data["layers"][i + 1]
    W = np.asarray(nxt["params"]["W"])
    d_next = np.ravel(nxt["delta"])
    d = float(np.ravel(layer["activation_derivative"])[j])
    terms = [(float(W[j, k]), float(d_next[k])) for k in range(len(d_next))]
    total = sum(u * v for u, v in terms)
    written, evaluated = _sum_text(terms)
    n = i + 2
    lines += [f"  hidden layer: δ{sup(i + 1)} = (W{sup(n)} δ{sup(n)}) ⊙ σ′(z{sup(i + 1)})",
              f"  δ{sub(j + 1)} = (Σₖ W{sup(n)}{sub(j + 1)}ₖ · δ{sup(n)}ₖ) · σ′(z{sub(j + 1)})",
              f"     = ({written}) · {_factor(d)}",
              *([f"     = ({evaluated}) · {_factor(d)}"] if len(terms) > 1 else []),
              f"     = {_factor(total)} · {_factor(d)}",
              f"     = {fmt(total * d)}"]
    return d, terms


def explain(data: dict, i: int, j: int) -> Explanation:
    """The forward, backward and gradient lines of neuron ``j`` of layer ``i`` (0-based)."""
    layers = data["layers"]
    layer = layers[i]
    if layer["kind"] != "dense":
        raise ValueError(f"the chain rule is written out for dense layers, not {layer['kind']}")
    z, a, delta = (float(np.ravel(layer[k])[j]) for k in ("z", "a", "delta"))
    prev, prev_name = _previous(data, i)
    W, b = np.asarray(layer["params"]["W"]), np.ravel(layer["params"]["b"])
    activation = layer["activation"] or "linear"
    last = i == len(layers) - 1
    role = "output" if last else "hidden"
    lines = [f"Layer {i + 1} = {layer['name']}, {role} layer, neuron {j + 1} — "
             f"sample {data['index']} ({data['split']})", "", "Forward pass"]
    products = [(float(prev[k]), float(W[k, j])) for k in range(len(prev))]
    written, _ = _sum_text(products)
    lines += [f"  z = Σᵢ {prev_name}ᵢ · Wᵢ{sub(j + 1)} + b{sub(j + 1)}",
              f"    = {written} + {_factor(b[j])}",
              f"    = {fmt(z)}",
              f"  a = {activation}(z) = {fmt(a)}", "", "Backward pass (chain rule)"]
    terms, factors = [], ()
    if last:
        derivative, factors = _output_delta(data, layer, j, lines)
    elif layers[i + 1]["kind"] == "dense":
        derivative, terms = _hidden_delta(data, i, j, lines)
    else:
        derivative = None
        lines.append(f"  δ = {fmt(delta)} (the next layer is {layers[i + 1]['kind']})")
    lines += ["", "Gradients of this sample's cost",
              f"  ∂C/∂b{sub(j + 1)} = δ = {fmt(delta)}"]
    grads_W = layer["grads"].get("W")
    shown = range(len(prev)) if len(prev) <= MAX_TERMS else range(SHOWN_TERMS)
    for k in shown:
        g = float(grads_W[k, j]) if grads_W is not None else prev[k] * delta
        lines.append(f"  ∂C/∂W{sub(k + 1)}{sub(j + 1)} = {prev_name}{sub(k + 1)} · δ = "
                     f"{_factor(prev[k])} · {_factor(delta)} = {fmt(g)}")
    if len(shown) < len(prev):
        lines.append(f"  … ({len(prev) - len(shown)} more weights into this neuron)")
    return Explanation("\n".join(lines), i, j, z, a, delta, derivative, terms, factors)

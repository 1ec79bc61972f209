"""Independent check of the network's hand-written back propagation.

Two references, both independent of ``nnviz.core.layers``:

* ``reference_cost`` writes the whole forward pass and cost again with
  ``autograd.numpy``, straight from the model spec and docs/DESIGN.md's definitions;
  ``autograd.grad`` of it gives exact gradients (``reference_gradients``).
* ``finite_difference_gradients`` perturbs each parameter element and takes
  central differences of the cost, so it needs no model of the layers at all.

``check_gradients`` compares ``layer.grads`` against both and returns one row per
parameter; ``format_table`` renders those rows for ``nnviz gradcheck``.

Conventions implemented by the reference (the network must match them):

* dense: ``z = a @ W + b`` with ``W`` (in, out).
* conv2d: cross-correlation, NCHW, ``W`` (out_c, in_c, kh, kw). Padding
  ``"valid"`` (none), an int ``p`` (p zeros on every side) or ``"same"`` as in
  TensorFlow, for any stride: ``out = ceil(in / stride)``,
  ``pad_total = max((out - 1) * stride + k - in, 0)``, ``pad_top = pad_total // 2``
  and the rest at the bottom (likewise left/right): an even kernel gets its extra
  zero row/column at the bottom/right.
* maxpool2d / avgpool2d: ``size``, ``stride`` defaulting to ``size``, only
  complete windows, ``out = (in - size) // stride + 1``.
* flatten: C order, ``reshape(N, -1)``.
* dropout: multiply by the given mask (values 0 or 1/(1-rate)); identity without one.
* batchnorm: training mode: batch mean and biased batch variance over every axis
  except axis 1 (per feature for (N, F), per channel for NCHW), ``eps`` 1e-5.
* activations: identity, sigmoid, tanh, relu, leaky_relu (alpha 0.01), elu
  (alpha 1.0), softmax over axis 1; a layer's ``"alpha"`` key overrides the default;
  ``{"formula": text}`` applies the formula's autograd.numpy function (so the check
  compares the network's element-wise derivative with autograd through the whole net).
* costs, mean over samples of the sum over outputs: mse ``(a - y)**2``,
  bce ``-(y log a + (1 - y) log(1 - a))``, cross_entropy ``-y log a``; softmax +
  cross_entropy and sigmoid + bce are evaluated from the logits (log-sum-exp).
* L2: ``+ (l2 / 2) * sum(W**2)`` over dense and conv2d weights, not biases.

Max pooling caveat: autograd splits the gradient of a max equally between tied
elements, while the network (like PyTorch) gives it all to the first maximum, so
the two only agree when the window maxima are unique (continuous random inputs).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import autograd
import autograd.numpy as anp
import numpy as np

from nnviz.core.catalogue import COST_ALIASES
from nnviz.core.errors import SpecError
from nnviz.core.formula import compile_formula

DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}
WEIGHTED_KINDS = ("dense", "conv2d")
ACTIVATED_KINDS = ("dense", "conv2d", "activation")   # layers with a pre-activation z
STATE_ATTRIBUTES = ("mask", "running_mean", "running_var")
TINY = 1e-300


# --------------------------------------------------------------------------
# The reference forward pass and cost (autograd.numpy, from the spec only)
# --------------------------------------------------------------------------

def _pair(value) -> tuple[int, int]:
    """An int or a 2-sequence as (rows, cols)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_padding(padding, shape, kernel, stride) -> list[tuple[int, int]]:
    """(before, after) zeros for the two spatial axes."""
    if padding == "valid":
        return [(0, 0), (0, 0)]
    if padding == "same":
        return [same_padding(n, k, s) for n, k, s in zip(shape, kernel, stride)]
    if isinstance(padding, str):
        raise SpecError("padding", f"unknown padding {padding!r}",
                        'use "valid", "same" or a number of zeros')
    return [(p, p) for p in _pair(padding)]


def _windows(x, size, stride):
    """Every (kh, kw) window of NCHW ``x``: shape (N, C, Ho, Wo, kh*kw)."""
    (kh, kw), (sh, sw) = size, stride
    out_h = (x.shape[2] - kh) // sh + 1
    out_w = (x.shape[3] - kw) // sw + 1
    if out_h < 1 or out_w < 1:
        raise SpecError("layers", f"window {size} larger than the input {x.shape[2:]}",
                        "use a smaller kernel or pool size, or pad the input")
    slices = [x[:, :, u:u + sh * (out_h - 1) + 1:sh, v:v + sw * (out_w - 1) + 1:sw]
              for u in range(kh) for v in range(kw)]
    return anp.stack(slices, axis=-1)


def conv2d(x, W, b, stride=1, padding="valid"):
    """Cross-correlation of NCHW ``x`` with ``W`` (out_c, in_c, kh, kw), plus ``b``."""
    stride, kernel = _pair(stride), W.shape[2:]
    pads = _conv_padding(padding, x.shape[2:], kernel, stride)
    if any(p for pair in pads for p in pair):
        x = anp.pad(x, [(0, 0), (0, 0)] + pads, mode="constant")
    windows = _windows(x, kernel, stride)
    flat_w = anp.reshape(W, (W.shape[0], W.shape[1], -1))
    return anp.einsum("nchwk,ock->nohw", windows, flat_w) + anp.reshape(b, (1, -1, 1, 1))


def pool2d(x, size, stride=None, mode="max"):
    """Max or average over complete (size x size) windows of NCHW ``x``."""
    size = _pair(size)
    windows = _windows(x, size, _pair(stride) if stride is not None else size)
    return anp.max(windows, axis=-1) if mode == "max" else anp.mean(windows, axis=-1)


def batchnorm(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm: batch statistics over every axis but axis 1."""
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = anp.mean(x, axis=axes, keepdims=True)
    var = anp.mean((x - mean) ** 2, axis=axes, keepdims=True)
    x_hat = (x - mean) / anp.sqrt(var + eps)
    return anp.reshape(gamma, shape) * x_hat + anp.reshape(beta, shape)


def log_softmax(z):
    """Stable log of the softmax over axis 1."""
    shifted = z - anp.max(z, axis=1, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))


def activate(z, name: str, alpha: float | None = None):
    """Apply the named activation element-wise (softmax: over axis 1)."""
    if isinstance(name, dict):      # {"formula": text}: the same autograd.numpy function
        return compile_formula(name["formula"]).autograd_fn()(z)
    if alpha is None:
        alpha = DEFAULT_ALPHA.get(name)
    if name == "identity":
        return z
    if name == "sigmoid":
        return 0.5 * (anp.tanh(0.5 * z) + 1.0)
    if name == "tanh":
        return anp.tanh(z)
    if name == "relu":
        return anp.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return anp.where(z > 0, z, alpha * z)
    if name == "elu":
        return anp.where(z > 0, z, alpha * (anp.exp(anp.minimum(z, 0.0)) - 1.0))
    if name == "softmax":
        return anp.exp(log_softmax(z))
    raise SpecError("activation", f"unknown activation {name!r}",
                    "use identity, sigmoid, tanh, relu, leaky_relu, elu or softmax")


def _activation_of(layer: dict) -> tuple[str, float | None]:
    name = layer.get("activation") or "identity"
    return name, layer.get("alpha")


def _apply_layer(layer: dict, p: dict, a, mask):
    """One layer: returns (pre-activation z, activation name, output)."""
    kind = layer["type"]
    if kind == "dense":
        if a.ndim != 2:
            raise SpecError("layers", f"dense layer got input of shape {a.shape[1:]}",
                            "put a flatten layer before it")
        z = anp.dot(a, p["W"]) + p["b"]
    elif kind == "conv2d":
        z = conv2d(a, p["W"], p["b"], layer.get("stride", 1), layer.get("padding", "valid"))
    elif kind == "activation":
        z = a
    elif kind in ("maxpool2d", "avgpool2d"):
        z = pool2d(a, layer["size"], layer.get("stride"), "max" if kind == "maxpool2d" else "avg")
    elif kind == "flatten":
        z = anp.reshape(a, (a.shape[0], -1))
    elif kind == "dropout":
        z = a if mask is None else a * mask
    elif kind == "batchnorm":
        z = batchnorm(a, p["gamma"], p["beta"], layer.get("eps", 1e-5))
    else:
        raise SpecError("layers", f"unknown layer type {kind!r}", "see describe()[\"layers\"] for the layer types")
    if kind in ACTIVATED_KINDS:
        name, alpha = _activation_of(layer)
        return z, name, activate(z, name, alpha)
    return z, "identity", z


def _forward(spec: dict, params: Sequence[dict], X, masks=None):
    """Run every layer; returns (output, logits of the last activation, its name)."""
    layers = spec["layers"]
    if len(params) != len(layers):
        raise ValueError(f"{len(params)} parameter dicts for {len(layers)} layers")
    masks = masks if masks is not None else [None] * len(layers)
    a, z, name = X, X, "identity"
    for layer, p, mask in zip(layers, params, masks):
        z, name, a = _apply_layer(layer, p, a, mask)
    return a, z, name


def reference_forward(spec: dict, params: Sequence[dict], X, masks=None):
    """Output activations of the whole network (training mode for batch norm)."""
    return _forward(spec, params, X, masks)[0]


def cost_name(spec: dict) -> str:
    """The spec's cost with aliases resolved."""
    name = spec.get("cost", "mse")
    return COST_ALIASES.get(name, name)


def _data_cost(cost: str, a, z, act: str, Y):
    """Mean over samples of the per-sample cost summed over outputs."""
    n = a.shape[0]
    if cost == "mse":
        return anp.sum((a - Y) ** 2) / n
    if cost == "bce":
        if act == "sigmoid":   # log a = -softplus(-z), log(1 - a) = -softplus(z)
            return anp.sum(Y * anp.logaddexp(0.0, -z) + (1 - Y) * anp.logaddexp(0.0, z)) / n
        return -anp.sum(Y * anp.log(a) + (1 - Y) * anp.log(1 - a)) / n
    if cost == "cross_entropy":
        log_a = log_softmax(z) if act == "softmax" else anp.log(a)
        return -anp.sum(Y * log_a) / n
    raise SpecError("cost", f"unknown cost {cost!r}", "use mse, bce or cross_entropy")


def l2_penalty(spec: dict, params: Sequence[dict], l2: float):
    """(l2 / 2) * sum of squared dense and conv2d weights."""
    total = 0.0
    for layer, p in zip(spec["layers"], params):
        if layer["type"] in WEIGHTED_KINDS:
            total = total + anp.sum(p["W"] ** 2)
    return 0.5 * l2 * total


def reference_cost(spec: dict, params: Sequence[dict], X, Y, l2: float = 0.0, masks=None):
    """The cost of the whole network, L2 term included, written with autograd.numpy.

    ``params`` is one dict per layer (name -> array); ``masks`` one dropout mask
    (or None) per layer. Differentiable with ``autograd.grad`` in ``params``.
    """
    X = np.asarray(X, dtype=np.float64)
    a, z, act = _forward(spec, params, X, masks)
    Y = np.asarray(Y, dtype=np.float64).reshape(a.shape)
    cost = _data_cost(cost_name(spec), a, z, act, Y)
    return cost + l2_penalty(spec, params, l2) if l2 else cost


# --------------------------------------------------------------------------
# Gradients of a Network: autograd reference and finite differences
# --------------------------------------------------------------------------

def _layer_masks(net) -> list:
    """The dropout masks the network used in its last training pass."""
    masks = []
    for layer in net.layers:
        mask = getattr(layer, "mask", None) if layer.kind == "dropout" else None
        masks.append(None if mask is None else np.asarray(mask, dtype=np.float64))
    return masks


def _net_spec_params(net) -> tuple[dict, list[dict]]:
    spec = net.to_spec()
    if len(spec["layers"]) != len(net.layers):
        raise ValueError(f"to_spec() has {len(spec['layers'])} layers, "
                         f"the network {len(net.layers)}")
    return spec, [dict(layer.params) for layer in net.layers]


def reference_gradients(net, X, Y, l2: float = 0.0, masks=None) -> list[dict]:
    """autograd gradients of ``reference_cost`` in every parameter of ``net``.

    Dropout masks default to the ones stored on the layers, so call this after
    ``net.compute_gradients`` to differentiate the same training pass.
    """
    spec, params = _net_spec_params(net)
    params = [{k: np.asarray(v, dtype=np.float64) for k, v in p.items()} for p in params]
    masks = _layer_masks(net) if masks is None else masks
    grad = autograd.grad(lambda ps: reference_cost(spec, ps, X, Y, l2, masks))
    return grad(params)


def _chosen_indices(size: int, max_elements: int | None, rng) -> np.ndarray:
    """Flat indices to check: all of them, or a sorted random subset."""
    if max_elements is None or size <= max_elements:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_elements, replace=False))


def numeric_gradients(cost: Callable[[], float], params: Sequence[dict], eps: float = 1e-6,
                      max_elements: int | None = 200, seed: int = 0):
    """Central differences of ``cost()`` in the arrays of ``params``, perturbed in place.

    Returns ``(grads, checked)``: ``grads`` has the structure of ``params`` with
    NaN at elements that were not checked; ``checked`` holds the flat indices
    that were (all, or a seeded random subset of ``max_elements`` per array).
    Every element is restored exactly, also when ``cost`` raises.
    """
    rng = np.random.default_rng(seed)
    grads, checked = [], []
    for p in params:
        g, c = {}, {}
        for name, array in p.items():
            if array.dtype != np.float64:
                raise TypeError(f"parameter {name} is {array.dtype}; gradient checks need float64")
            idx = _chosen_indices(array.size, max_elements, rng)
            g[name], c[name] = np.full(array.shape, np.nan), idx
            for flat in idx:
                g[name][np.unravel_index(flat, array.shape)] = _central_difference(
                    cost, array, np.unravel_index(flat, array.shape), eps)
        grads.append(g)
        checked.append(c)
    return grads, checked


def _central_difference(cost, array, index, eps) -> float:
    original = array[index]
    try:
        array[index] = original + eps
        plus = float(cost())
        array[index] = original - eps
        minus = float(cost())
    finally:
        array[index] = original
    return (plus - minus) / (2 * eps)


def _save_state(net) -> list[dict]:
    """Copies of what a training pass overwrites: grads, masks, running statistics."""
    saved = []
    for layer in net.layers:
        state = {"grads": {k: np.array(v, copy=True) for k, v in getattr(layer, "grads", {}).items()}}
        for attr in STATE_ATTRIBUTES:
            value = getattr(layer, attr, None)
            if isinstance(value, np.ndarray):
                state[attr] = value.copy()
        saved.append(state)
    return saved


def _restore_array(current, saved):
    """Write ``saved`` back into ``current`` in place when possible; return the array to keep."""
    if isinstance(current, np.ndarray) and current.shape == saved.shape and current.flags.writeable:
        np.copyto(current, saved)
        return current
    return saved


def _restore_state(net, saved: list[dict]) -> None:
    for layer, state in zip(net.layers, saved):
        for name, value in state["grads"].items():
            layer.grads[name] = _restore_array(layer.grads.get(name), value)
        for attr in STATE_ATTRIBUTES:
            if attr in state:
                setattr(layer, attr, _restore_array(getattr(layer, attr, None), state[attr]))


def _has_dropout(net) -> bool:
    return any(layer.kind == "dropout" for layer in net.layers)


def finite_difference_gradients(net, X, Y, l2: float = 0.0, eps: float = 1e-6,
                                max_elements: int | None = 200, seed: int = 0,
                                source: str = "auto"):
    """Central-difference gradients of the cost in every parameter of ``net``.

    ``source="network"`` differentiates the network's own ``compute_gradients``
    cost, so it needs no reference model at all; ``"reference"`` uses
    ``reference_cost`` with the layers' stored dropout masks. ``"auto"`` picks
    the network unless it has dropout (whose mask changes on every call).
    Returns ``(grads, checked)`` as ``numeric_gradients`` does; the network's
    grads, masks and running statistics are left as they were.
    """
    if source == "auto":
        source = "reference" if _has_dropout(net) else "network"
    params = [layer.params for layer in net.layers]
    if source == "network":
        cost = lambda: net.compute_gradients(X, Y, l2)  # noqa: E731
    elif source == "reference":
        spec, masks = net.to_spec(), _layer_masks(net)
        cost = lambda: reference_cost(spec, params, X, Y, l2, masks)  # noqa: E731
    else:
        raise ValueError(f"source must be 'auto', 'network' or 'reference', not {source!r}")
    saved = _save_state(net)
    try:
        return numeric_gradients(cost, params, eps, max_elements, seed)
    finally:
        _restore_state(net, saved)


# --------------------------------------------------------------------------
# The comparison table
# --------------------------------------------------------------------------

class GradCheckRow(NamedTuple):
    """One parameter of one layer: relative errors of its back-propagated gradient."""

    index: int
    label: str
    param: str
    error_autograd: float
    error_finite_difference: float


def relative_error(a, b, floor: float = TINY) -> float:
    """||a - b|| / max(||a|| + ||b||, floor); 0 when both are zero.

    ``floor`` is the norm below which a gradient counts as zero: a gradient that
    vanishes analytically (the bias of a layer followed by batch norm) is pure
    rounding noise in both a and b, and their ratio would be meaningless.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def layer_label(index: int, layer) -> str:
    """The layer's own ``label`` when it has one, else e.g. "dense 2 (relu)"."""
    label = getattr(layer, "label", None)
    label = label() if callable(label) else label
    if isinstance(label, str) and label:
        return label
    activation = getattr(layer, "activation", None)
    activation = getattr(activation, "name", activation)
    return f"{layer.kind} {index}" + (f" ({activation})" if activation else "")


def error_floors(cost: float, eps: float = 1e-6) -> tuple[float, float]:
    """Gradient norms that count as zero against autograd and against central differences.

    Their rounding noise: ``1e-8 * s`` and ``1e-9 / eps * s`` with
    ``s = max(|cost|, 1)``. A relative error of at most 1e-6 then means 1e-6
    relative agreement or, for a gradient that vanishes analytically (rounding
    noise on both sides), agreement to 1e-14 s (autograd) and 1e-15 s / eps
    (finite differences).
    """
    scale = max(abs(float(cost)), 1.0)
    return 1e-8 * scale, 1e-9 / eps * scale


def in_float64(net):
    """``net`` itself if it computes in float64, else a float64 copy (``Network.copy``).

    Finite differences with eps 1e-6 and tolerances of 1e-6 are meaningless in float32,
    whose rounding error is about 1e-7 relative.
    """
    return net if np.dtype(getattr(net, "dtype", np.float64)) == np.float64 else net.copy("float64")


def check_gradients(net, X, Y, l2: float = 0.0, eps: float = 1e-6,
                    max_elements: int | None = 200, seed: int = 0) -> list[GradCheckRow]:
    """Run ``net.compute_gradients`` and compare ``layer.grads`` with both references.

    One row per parameter of every layer that has parameters. Finite differences
    are compared on the checked elements only. ``layer.grads`` keep the values of
    the first ``compute_gradients`` call.

    Gradient norms below ``error_floors`` count as zero (see ``relative_error``).
    The check needs float64: a network of another dtype (``model.dtype`` float32) is
    checked on a float64 copy, and its own grads are left alone.
    """
    net = in_float64(net)
    exact_floor, numeric_floor = error_floors(net.compute_gradients(X, Y, l2), eps)
    backprop = [{k: np.array(v, dtype=np.float64) for k, v in layer.grads.items()}
                for layer in net.layers]
    exact = reference_gradients(net, X, Y, l2)
    numeric, checked = finite_difference_gradients(net, X, Y, l2, eps, max_elements, seed)
    rows = []
    for i, layer in enumerate(net.layers):
        for name in layer.params:
            bp, idx = backprop[i][name], checked[i][name]
            rows.append(GradCheckRow(
                i, layer_label(i, layer), name,
                relative_error(bp, exact[i][name], exact_floor),
                relative_error(bp.reshape(-1)[idx], numeric[i][name].reshape(-1)[idx],
                               numeric_floor)))
    return rows


def format_table(rows: Sequence[GradCheckRow], tol: float = 1e-6) -> str:
    """A plain-text table of ``rows``, marking errors above ``tol`` as FAIL."""
    header = ("#", "layer", "param", "vs autograd", "vs finite diff", "result")
    body = [(str(r.index), r.label, r.param, f"{r.error_autograd:.2e}",
             f"{r.error_finite_difference:.2e}",
             "ok" if passes(r, tol) else "FAIL") for r in rows]
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
             for line in [header, *body]]
    lines.insert(1, "-" * len(lines[0]))
    failed = sum(not passes(r, tol) for r in rows)
    lines.append(f"{len(rows) - failed} of {len(rows)} parameters within {tol:g}")
    return "\n".join(lines)


def passes(row: GradCheckRow, tol: float = 1e-6) -> bool:
    """Both relative errors of ``row`` finite and at most ``tol``."""
    errors = (row.error_autograd, row.error_finite_difference)
    return all(math.isfinite(e) and e <= tol for e in errors)


def move_off_kinks(net, scale: float = 0.1, seed: int = 0) -> None:
    """Shift biases (and batch-norm betas) by small random amounts, in place.

    At initialisation biases are exactly 0, so a ReLU unit fed a blank patch (the
    background of the digits) sits exactly on its kink, where central differences see
    half a slope and back propagation, correctly, a one-sided one. Moving the biases
    off 0 makes the comparison meaningful without changing what is checked.
    """
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        for name in ("b", "beta"):
            if name in layer.params:
                layer.params[name] += rng.uniform(-scale, scale, layer.params[name].shape)


# --------------------------------------------------------------------------
# Checking a network (the CLI's and the window's check), in plain language
# --------------------------------------------------------------------------

def check_network(net, dataset, samples: int = 8, l2: float = 0.0) -> tuple[list[GradCheckRow], int]:
    """``check_gradients`` on a copy of ``net``, over the first ``samples`` training samples.

    The copy is float64 whatever ``net``'s dtype, and its biases are moved off 0 first
    (``move_off_kinks``); ``net`` itself is not touched, so this can run on the network
    being trained. Returns (rows, number of samples used).
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SpecError("samples", f"must be a whole number >= 1, got {samples!r}", "use e.g. 8")
    copy = net.copy("float64")
    n = min(samples, len(dataset.X_train))
    X = dataset.X_train[:n]
    Y = dataset.targets(dataset.y_train[:n], int(np.prod(copy.output_shape)))
    move_off_kinks(copy)
    return check_gradients(copy, X, Y, l2=l2), n


def verdict(rows: Sequence[GradCheckRow], tol: float = 1e-6) -> str:
    """What the table means, in a sentence or two for a student."""
    if not rows:
        return "The network has no parameters, so there is nothing to check."
    worst = max(rows, key=lambda r: max(r.error_autograd, r.error_finite_difference))
    worst_error = max(worst.error_autograd, worst.error_finite_difference)
    where = f"{worst.label}, {worst.param}"
    failed = [r for r in rows if not passes(r, tol)]
    if not failed:
        return (f"Back propagation is correct: all {len(rows)} gradients agree with autograd and "
                f"with finite differences to within {tol:g} (largest relative error "
                f"{worst_error:.1e}, {where}).")
    layers = sorted({r.label for r in failed})
    only_numeric = all(passes(r._replace(error_finite_difference=0.0), tol) for r in failed)
    advice = ("Only finite differences disagree: a ReLU or a max-pooling tie sitting exactly on "
              "a kink, or a very large cost, can cause this; the exact autograd check passed."
              if only_numeric else
              "Back propagation disagrees with autograd: the hand-written gradient of these "
              "layers is wrong, so training follows a wrong direction.")
    return (f"{len(failed)} of {len(rows)} gradients differ by more than {tol:g}, in "
            f"{', '.join(layers)} (largest relative error {worst_error:.1e}, {where}). {advice}")


def reference_trace(spec: dict, params: Sequence[dict], X, Y, masks=None) -> list[dict]:
    """Per layer: ``z`` (None for layers without one), ``a`` and ``delta`` = dC/dz
    (dC/da for layers without z), from the reference forward pass and autograd.

    Independent of ``nnviz.core.layers``: the check of ``nnviz.core.trace``.
    Batch norm in training mode, as everywhere in the reference.
    """
    layers, cost = spec["layers"], cost_name(spec)
    masks = masks if masks is not None else [None] * len(layers)
    a = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)

    def cost_from(i: int, value, has_z: bool):
        out = activate(value, *_activation_of(layers[i])) if has_z else value
        z, act = (value, _activation_of(layers[i])[0]) if has_z else (out, "identity")
        for layer, p, mask in zip(layers[i + 1:], params[i + 1:], masks[i + 1:]):
            z, act, out = _apply_layer(layer, p, out, mask)
        return _data_cost(cost, out, z, act, Y.reshape(out.shape))

    records = []
    for i, (layer, p, mask) in enumerate(zip(layers, params, masks)):
        z, _, a = _apply_layer(layer, p, a, mask)
        has_z = layer["type"] in ACTIVATED_KINDS
        at = z if has_z else a
        delta = autograd.grad(lambda v, i=i, has_z=has_z: cost_from(i, v, has_z))(at)
        records.append({"z": z if has_z else None, "a": a, "delta": delta})
    return records

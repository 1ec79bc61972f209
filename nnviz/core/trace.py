"""One sample forward and back through the network: the numbers back propagation uses.

``trace(net, x, y)`` runs a copy of ``net`` (the network's own layers, so exactly
its arithmetic) on one sample and returns, per layer in order, its input, z, a,
delta = dC/dz and the gradients of its parameters for that sample's cost.
``backprop_data(net, dataset, index)`` is the back-propagation inspector's view
data: the same as plain dicts of arrays, which a worker process can ship.

Inference mode: dropout is the identity and batch norm uses its running
statistics, as in predictions.  One sample has no batch statistics worth the
name (its variance is 0, so batch norm would output beta), and a random dropout
mask would change the picture on every look.  The trace therefore shows the
function the network computes and the exact gradients of that function; for a
network without dropout and batch norm they are the per-sample terms of the
training gradient (which averages them over the batch).

The network itself is never touched: its cached batch (z, a, delta, grads),
dropout masks and batch-norm running statistics stay as they were.
"""

from __future__ import annotations

import numpy as np

from nnviz.core.errors import SpecError
from nnviz.core.layers import ActivatedLayer

# Layers whose training-mode forward pass computes different numbers (a random
# mask, batch statistics).  Every other layer computes the same in both modes,
# and its training mode keeps what back propagation needs (max pooling's winners).
INFERENCE_KINDS = ("dropout", "batchnorm")
SPLITS = ("train", "val")
MAX_VIEW_ARRAY = 4096     # parameter arrays larger than this are left out of view data


def _one_sample(value, shape: tuple, field: str) -> np.ndarray:
    """``value`` as a batch of one, float64: shape ``shape`` or (1,) + ``shape``."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape == tuple(shape):
        return array[None]
    if array.shape == (1,) + tuple(shape):
        return array
    if field == "y" and array.size == int(np.prod(shape)):
        return array.reshape((1,) + tuple(shape))
    raise SpecError(field, f"has shape {array.shape}, the network needs one sample of shape "
                    f"{tuple(shape)}", "pass one sample, e.g. dataset.X_train[i] and its target row")


def _copy(array) -> np.ndarray | None:
    return None if array is None else np.array(array[0], dtype=np.float64, copy=True)


def _derivative(layer) -> np.ndarray | None:
    """sigma'(z) element by element; None without z or for softmax (not element-wise)."""
    if not isinstance(layer, ActivatedLayer) or layer.activation.name == "softmax":
        return None
    return layer.activation.backward(layer.z, layer.a, np.ones_like(layer.z))


def _run(net, x, y, l2: float = 0.0) -> tuple[list[dict], float]:
    """The per-layer records of ``trace`` and the sample's cost (L2 term included)."""
    twin = net.copy()
    X = _one_sample(x, twin.input_shape, "x")
    Y = _one_sample(y, twin.output_shape, "y")
    inputs, outputs, out = [], [], X
    for layer in twin.layers:
        inputs.append(out)
        out = layer.forward(out, layer.kind not in INFERENCE_KINDS)
        outputs.append(out)
    cost, grad, is_delta = twin.output_gradient(out, Y)
    grad_outputs = [None] * len(twin.layers)
    for i in range(len(twin.layers) - 1, -1, -1):
        layer = twin.layers[i]
        if is_delta and i == len(twin.layers) - 1:
            grad_outputs[i] = twin.cost.gradient(out, Y)
            grad = layer.backward_delta(grad, i > 0)
        else:
            grad_outputs[i] = grad
            grad = layer.backward(grad, i > 0)
    records = []
    for layer, x_in, a, grad_a in zip(twin.layers, inputs, outputs, grad_outputs):
        has_z = isinstance(layer, ActivatedLayer)
        grads = {name: np.array(g, dtype=np.float64, copy=True) for name, g in layer.grads.items()}
        if l2 and "W" in grads:
            grads["W"] += l2 * layer.params["W"]
            cost += 0.5 * l2 * float(np.sum(layer.params["W"] ** 2))
        records.append({
            "name": layer.label, "kind": layer.kind,
            "activation": layer.activation.name if layer.activation is not None else None,
            "input": _copy(x_in), "z": _copy(layer.z) if has_z else None, "a": _copy(a),
            "delta": _copy(layer.delta) if has_z else _copy(grad_a),
            "grad_a": _copy(grad_a), "activation_derivative": _copy(_derivative(layer)),
            "params": {name: np.array(p, copy=True) for name, p in layer.params.items()},
            "grads": grads})
    return records, float(cost)


def trace(net, x, y, l2: float = 0.0) -> list[dict]:
    """One sample through ``net`` and back: one dict per layer, in order.

    ``x`` is one sample (shape ``net.input_shape``, or with a batch axis of 1),
    ``y`` its target row as the network trains on it (``dataset.targets``).
    Each dict holds ``name`` (the layer's label), ``kind``, ``activation``,
    ``input``, ``z`` (pre-activation; None for layers without one), ``a`` (the
    output), ``delta`` (dC/dz; dC/da for layers without z), ``grad_a`` (dC/da),
    ``activation_derivative`` (sigma'(z); None for softmax and layers without z),
    ``params`` and ``grads`` (name -> array), all without the batch axis.
    C is this sample's cost, plus (l2/2) sum W^2 when ``l2`` is given.
    Inference mode (dropout off, batch norm on running statistics); ``net`` is
    left exactly as it was.
    """
    return _run(net, x, y, l2)[0]


# ---------------------------------------------------------------- view data


def _class_text(dataset, label: int) -> str:
    names = tuple(getattr(dataset, "class_names", ()) or ())
    return names[label] if 0 <= label < len(names) else str(label)


def _labels(dataset, target: np.ndarray, output: np.ndarray) -> tuple[str, str]:
    """(target, prediction) as short texts: class names, or the numbers for regression."""
    if getattr(dataset, "task", "") != "classification":
        show = lambda v: ", ".join(f"{float(t):.3g}" for t in np.ravel(v))  # noqa: E731
        return show(target), show(output)
    if output.size == 1:
        return (_class_text(dataset, int(round(float(target[0])))),
                _class_text(dataset, int(output[0] > 0.5)))
    return _class_text(dataset, int(np.argmax(target))), _class_text(dataset, int(np.argmax(output)))


def _view_layer(record: dict, spec: dict) -> dict:
    small = lambda arrays: {k: v for k, v in arrays.items() if v.size <= MAX_VIEW_ARRAY}  # noqa: E731
    return {"name": record["name"], "kind": record["kind"], "activation": record["activation"],
            "spec": spec, "z": record["z"], "a": record["a"], "delta": record["delta"],
            "grad_a": record["grad_a"], "activation_derivative": record["activation_derivative"],
            "params": small(record["params"]), "grads": small(record["grads"])}


def backprop_data(net, dataset, index: int, split: str = "train") -> dict:
    """The inspector's data for sample ``index`` of the ``split`` ("train" or "val").

    Plain data only (str, numbers, numpy arrays, lists and dicts of them), so a
    worker process can compute it on the current weights and ship it.  Keys:
    ``split``, ``index``, ``n_samples``, ``cost`` (this sample's), ``cost_name``,
    ``fused`` (the output delta is a - y: softmax + cross-entropy, sigmoid + bce),
    ``input``, ``target``, ``output``, ``target_text``, ``predicted_text`` and
    ``layers``: per layer the keys of ``trace`` except ``input``, plus its ``spec``;
    parameter arrays with more than MAX_VIEW_ARRAY elements are left out.
    """
    if split not in SPLITS:
        raise SpecError("split", f"unknown split {split!r}", 'use "train" or "val"')
    X, y = getattr(dataset, f"X_{split}"), getattr(dataset, f"y_{split}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(X):
        raise SpecError("sample", f"{index!r} is not a sample of the {split} set ({len(X)} samples)",
                        f"choose a whole number from 0 to {len(X) - 1}")
    index = int(index)
    target = dataset.targets(y[index:index + 1], int(np.prod(net.output_shape)))[0]
    records, cost = _run(net, X[index], target)
    output = records[-1]["a"]
    target_text, predicted_text = _labels(dataset, target, output)
    return {"split": split, "index": index, "n_samples": int(len(X)), "cost": cost,
            "cost_name": net.cost_name, "fused": net.cost.fused_activation == records[-1]["activation"],
            "input": np.array(X[index], dtype=np.float64, copy=True), "target": target,
            "output": output, "target_text": target_text, "predicted_text": predicted_text,
            "layers": [_view_layer(r, layer.to_spec()) for r, layer in zip(records, net.layers)]}

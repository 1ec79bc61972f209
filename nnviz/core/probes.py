"""Per-layer health probes, computed from arrays the training step already has."""

from __future__ import annotations

import numpy as np

from .numerics import norm as _norm
from .snapshot import LayerProbe

SAMPLE_SIZE = 2000  # activation values kept per layer for histograms


def dead_fraction(z: np.ndarray) -> float:
    """Units with z <= 0 for every sample of the batch (conv: per filter)."""
    axes = (0,) if z.ndim == 2 else (0, 2, 3)
    alive = (z > 0).any(axis=axes)
    return 1.0 - float(np.count_nonzero(alive)) / alive.size


def activation_sample(a: np.ndarray, size: int = SAMPLE_SIZE) -> np.ndarray:
    """At most ``size`` evenly strided activation values (a copy, in a's dtype)."""
    flat = a.reshape(-1)
    stride = max(1, -(-flat.size // size))
    return np.array(flat[::stride][:size])


def inactive_fraction(z: np.ndarray) -> float:
    """The share of a ReLU layer's outputs that are off (z <= 0), over samples and units."""
    return 1.0 - float(np.count_nonzero(z > 0)) / max(z.size, 1)


def weight_gain(w: np.ndarray, weight_norm: float) -> float:
    """sqrt(fan_in * mean(W^2)) = ||W|| / sqrt(units): He gives 1.41, N(0, 1) sqrt(fan_in)."""
    units = w.shape[-1] if w.ndim == 2 else w.shape[0]   # dense (in, out); conv (F, C, k, k)
    return weight_norm / float(np.sqrt(units))


def probe_layer(layer, weights_before: np.ndarray | None, grad_scale: float = 1.0,
                initial_weight_norm: float = float("nan")) -> LayerProbe:
    """The probe of a weighted layer after a step.

    ``weights_before`` is W before the optimiser's update (None: ratio unknown);
    ``grad_scale`` undoes gradient clipping, so the probe shows the raw gradient;
    ``initial_weight_norm`` (||W|| before training) lets the diagnosis tell a grown
    network from its initialisation.
    """
    w, a, act = layer.params["W"], layer.a, layer.activation
    weight_norm = _norm(w)
    if weights_before is None:
        update_ratio = float("nan")
    else:
        before = _norm(weights_before)
        update_ratio = _norm(w - weights_before) / before if before > 0 else float("inf")
    return LayerProbe(
        index=layer.index,
        name=layer.label,
        activation=act.name,
        weight_grad_norm=_norm(layer.grads["W"]) / grad_scale,
        delta_norm=_norm(layer.delta) / grad_scale,
        weight_norm=weight_norm,
        update_ratio=update_ratio,
        act_mean=float(a.mean()),
        act_std=float(a.std()),
        saturated_fraction=act.saturated_fraction(a),
        dead_fraction=dead_fraction(layer.z) if act.relu_family else 0.0,
        act_sample=activation_sample(a),
        initial_weight_norm=initial_weight_norm,
        weight_gain=weight_gain(w, weight_norm),
        inactive_fraction=inactive_fraction(layer.z) if act.relu_family else 0.0,
    )

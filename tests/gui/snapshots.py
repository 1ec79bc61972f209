"""Fake Snapshots for GUI tests: deterministic, cheap, no engine needed."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from nnviz.core.snapshot import LayerProbe, Snapshot

STEPS_PER_EPOCH = 10


def fake_activations(activation: str, rng: np.random.Generator, size: int) -> np.ndarray:
    """A plausible activation sample for a layer with `activation`."""
    z = rng.normal(0.0, 1.5, size)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation in ("relu", "leaky_relu"):
        return np.maximum(z, 0.01 * z if activation == "leaky_relu" else 0.0)
    if activation == "softmax":
        e = np.exp(z.reshape(-1, 4))
        return (e / e.sum(axis=1, keepdims=True)).ravel()
    return z


def make_snapshot(step: int, n_layers: int = 3, *,
                  activation: str = "relu",
                  activations: Sequence[str] | None = None,
                  delta_norms: Sequence[float] | None = None,
                  weight_grad_norms: Sequence[float] | None = None,
                  weight_norms: Sequence[float] | None = None,
                  saturated_fraction: float = 0.0,
                  dead_fraction: float = 0.0,
                  train_loss: float | None = None,
                  val_loss: float | None | str = "auto",
                  classification: bool = True,
                  sample_size: int = 256,
                  done: bool = False) -> Snapshot:
    """A Snapshot after `step` steps of a fake run with `n_layers` dense layers.

    Defaults describe a healthy run: a slowly falling loss, validation values
    on every snapshot, and back-propagated gradient norms within a factor of 2
    across the layers.  Layers are named "dense k (<activation>)".  Pass
    val_loss=None to leave the validation values out, classification=False
    for a regression run (no accuracies).
    """
    acts = list(activations) if activations is not None else [activation] * n_layers
    if len(acts) != n_layers:
        raise ValueError("activations needs one entry per layer")
    rng = np.random.default_rng(step)
    wobble = 1.0 + 0.1 * np.sin(step)
    healthy = [0.05 * wobble * (1.0 + 0.5 * i / max(n_layers - 1, 1)) for i in range(n_layers)]
    deltas = list(delta_norms) if delta_norms is not None else healthy
    wgrads = (list(weight_grad_norms) if weight_grad_norms is not None
              else [0.5 * d for d in deltas])
    wnorms = list(weight_norms) if weight_norms is not None else [3.0] * n_layers
    probes = tuple(
        LayerProbe(index=2 * i, name=f"dense {i + 1} ({act})", activation=act,
                   weight_grad_norm=float(wgrads[i]), delta_norm=float(deltas[i]),
                   weight_norm=float(wnorms[i]), update_ratio=1e-3,
                   act_mean=0.5, act_std=0.3,
                   saturated_fraction=saturated_fraction if act in ("sigmoid", "tanh") else 0.0,
                   dead_fraction=dead_fraction if act in ("relu", "leaky_relu", "elu") else 0.0,
                   act_sample=fake_activations(act, rng, sample_size))
        for i, act in enumerate(acts))
    loss = train_loss if train_loss is not None else 2.0 / (1.0 + 0.01 * step) * wobble
    val = loss * 1.1 if val_loss == "auto" else val_loss
    accuracy = min(0.99, 1.0 - loss / 2.5) if classification else None
    return Snapshot(
        step=step, epoch=(step - 1) // STEPS_PER_EPOCH,
        epoch_progress=step / STEPS_PER_EPOCH, samples_seen=32 * step,
        elapsed=0.01 * step, train_loss=float(loss),
        val_loss=None if val is None else float(val),
        train_accuracy=accuracy,
        val_accuracy=None if (val is None or accuracy is None) else accuracy - 0.02,
        layers=probes, learning_rate=0.01, done=done,
        stop_reason="finished" if done else "")

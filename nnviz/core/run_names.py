"""Automatic run names that say what a run changed: "relu · he", "adam · η 0.001".

A comparison is read from its legend, so a run is named after the choices
that distinguish it from the run before it (the first run after its main
choices: activation, initialisation, optimiser).
"""

from __future__ import annotations

from typing import Callable

from .catalogue import ACTIVATED_LAYERS
from .convolution import kernel_name

__all__ = ["run_name", "unique_name"]


def _activations(exp: dict) -> str:
    """The hidden layers' activations ("relu", or "tanh/relu" when mixed)."""
    layers = exp.get("model", {}).get("layers", [])
    names: list[str] = []
    for layer in layers[:-1]:                  # the output layer's is the task's
        if layer.get("type") in ACTIVATED_LAYERS or layer.get("type") == "activation":
            act = layer.get("activation", "identity" if layer.get("type") != "activation"
                            else "relu")
            act = act.get("formula", "custom") if isinstance(act, dict) else str(act)
            if act != "identity" and act not in names:
                names.append(act)
    return "/".join(names) or "linear"


def _architecture(exp: dict) -> str:
    parts = []
    for layer in exp.get("model", {}).get("layers", []):
        kind = layer.get("type")
        if kind == "dense":
            parts.append(str(layer.get("units", "?")))
        elif kind == "conv2d":
            parts.append(f"conv{layer.get('filters', '?')}")
        elif kind in ("batchnorm", "dropout"):
            parts.append({"batchnorm": "bn", "dropout": "drop"}[kind])
    return "-".join(parts)


def _kernels(exp: dict) -> str:
    """The conv layers' hand-set or frozen kernels ("sobel_x frozen"); "" when all are
    drawn by the initialisation and trained."""
    parts = []
    for layer in exp.get("model", {}).get("layers", []):
        kernel, frozen = layer.get("kernel"), layer.get("trainable") is False
        if layer.get("type") == "conv2d" and (kernel is not None or frozen):
            name = "random" if kernel is None else kernel_name(kernel) or "own kernel"
            parts.append(name + (" frozen" if frozen else ""))
    return "/".join(parts)


def _training(key: str) -> Callable[[dict], object]:
    return lambda exp: exp.get("training", {}).get(key)


def _optimizer(key: str) -> Callable[[dict], object]:
    return lambda exp: exp.get("training", {}).get("optimizer", {}).get(key)


def _fmt(prefix: str) -> Callable[[object], str]:
    return lambda v: f"{prefix} {v:g}" if isinstance(v, (int, float)) else f"{prefix} {v}"


#: (what is compared, how it is read from an experiment, how it is written), most telling first.
_FEATURES = (
    ("dataset", lambda e: e.get("dataset", {}).get("name"), str),
    ("activation", _activations, str),
    ("init", lambda e: e.get("model", {}).get("init"), str),
    ("optimizer", _optimizer("name"), lambda v: "sgd" if v == "constant" else str(v)),
    ("eta", _optimizer("eta"), _fmt("η")),
    ("architecture", _architecture, str),
    ("kernels", _kernels, lambda v: v or "random kernels"),
    ("l2", _training("l2"), _fmt("λ")),
    ("batch", _training("batch_size"), _fmt("batch")),
    ("clip", _training("clip_norm"), lambda v: "no clip" if v is None else f"clip {v:g}"),
    ("schedule", lambda e: (e.get("training", {}).get("schedule") or {}).get("name"),
     lambda v: "constant η" if v is None else str(v)),
    ("cost", lambda e: e.get("model", {}).get("cost"), str),
    ("dataset options", lambda e: sorted((k, repr(v)) for k, v in e.get("dataset", {}).items()
                                         if k not in ("name", "seed")), lambda v: "data"),
    ("epochs", _training("epochs"), _fmt("epochs")),
    ("seed", lambda e: e.get("model", {}).get("seed"), _fmt("seed")),
)
_FIRST = ("activation", "init", "optimizer")
MAX_PARTS = 3


def run_name(experiment: dict, previous: dict | None = None) -> str:
    """A short name: what ``experiment`` changes from ``previous`` (at most three
    choices, joined by " · "); without ``previous`` its main choices.  "" when
    nothing differs (the caller numbers such runs)."""
    parts = []
    for key, read, write in _FEATURES:
        value = read(experiment)
        if previous is None:
            if key in _FIRST:
                parts.append(write(value))
        elif value != read(previous):
            parts.append(write(value))
    return " · ".join(parts[:MAX_PARTS])


def unique_name(name: str, taken) -> str:
    """``name``, or ``name (2)``, ``name (3)``… if that is already taken."""
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"

"""Checking an experiment as the user edits it, without touching a widget.

``check_experiment`` runs the engine's own validation (data set, network,
targets, experiment file) and turns the first SpecError into *where* to show
it: which panel, which layer row, which field.  It also works out every
layer's output shape and parameter count, as far as the stack is valid, so
the model builder can show them live.  All of it from shapes: the network is
built (for the previews) only when that takes milliseconds.  ``changed_values``
says which fields the editors could not hold as a file gave them.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np

from nnviz.core.catalogue import show_value
from nnviz.core.datasets import load_dataset
from nnviz.core.errors import SpecError
from nnviz.core.layers import make_layer
from nnviz.core.network import Network, NetworkPlan, layer_sizes

IMAGE_KINDS = ("conv2d", "maxpool2d", "avgpool2d")   # layers that need (C, H, W) input
#: Parameters of the largest network the window builds itself (a few milliseconds);
#: a larger one is only planned, and its previews come from the training process.
BUILD_LIMIT = 1_000_000
_LAYER_FIELD = re.compile(r"^layers\[(-?\d+)\](?:\.(\w+))?")


@dataclass
class LayerInfo:
    """What the model builder shows next to a layer (None: unknown, the stack is broken)."""

    output_shape: tuple | None = None
    param_count: int | None = None


@dataclass
class Check:
    """The outcome of checking an experiment dict."""

    error: SpecError | None = None
    section: str = ""            # "data", "model", "training" or "" (the file as a whole)
    row: int | None = None       # layer index the error belongs to
    key: str = ""                # field inside the section, e.g. "kernel_size", "optimizer.eta"
    layers: list[LayerInfo] = field(default_factory=list)
    plan: NetworkPlan | None = None     # the valid network's shapes and sizes
    network: Network | None = None      # built: a valid network within BUILD_LIMIT
    dataset: object | None = None
    experiment: object | None = None

    @property
    def valid(self) -> bool:
        return self.error is None

    @property
    def total_params(self) -> int | None:
        return self.plan.param_count if self.plan is not None else None


# --------------------------------------------------------------------------- data sets
@functools.lru_cache(maxsize=16)
def _load(key: str, input_shape: tuple | None):
    return load_dataset(json.loads(key), input_shape=input_shape)


def load_cached(spec: dict, input_shape=None):
    """load_dataset with a small cache: previews and checks reload the same set often.

    The returned Dataset is shared: read it, never modify it.
    """
    shape = tuple(int(d) for d in input_shape) if input_shape is not None else None
    return _load(json.dumps(spec, sort_keys=True), shape)


def input_shapes(dataset_spec: dict) -> list[tuple]:
    """The per-sample shapes a model may take the data set in: its default first,
    then the other of flat / (1, s, s) image, when the data set accepts it."""
    default = tuple(load_cached(dataset_spec).input_shape)
    if len(default) == 3:
        other = (int(np.prod(default)),)
    else:
        side = math.isqrt(default[0])
        other = (1, side, side) if side > 1 and side * side == default[0] else None
    shapes = [default]
    if other is not None:
        try:
            load_cached(dataset_spec, other)
            shapes.append(other)
        except SpecError:
            pass
    return shapes


def output_targets(dataset) -> int:
    """Number of regression targets (1 for a column vector)."""
    y = np.asarray(dataset.y_train)
    return int(np.prod(y.shape[1:])) if y.ndim > 1 else 1


# --------------------------------------------------------------------------- fitting
def fit_to_dataset(experiment: dict, shapes: list[tuple], dataset) -> dict:
    """A copy of ``experiment`` whose input and output layer fit a newly chosen data set.

    The input shape becomes one the data set offers (an image if the first
    layer needs one); a dense output layer gets one unit per class (softmax,
    cross-entropy) or per regression target (identity, mse).  A 2-class
    sigmoid/bce output is kept.  Hidden layers are the user's and stay.
    """
    exp = copy.deepcopy(experiment)
    model = exp.setdefault("model", {})
    layers = model.get("layers") or []
    current = tuple(model.get("input_shape") or ())
    if current not in shapes:
        images = [s for s in shapes if len(s) == 3]
        flats = [s for s in shapes if len(s) == 1]
        wants_image = bool(layers) and layers[0].get("type") in IMAGE_KINDS
        chosen = images[0] if wants_image and images else (flats or shapes)[0]
        model["input_shape"] = list(chosen)
    if not layers or layers[-1].get("type") != "dense":
        return exp
    last = layers[-1]
    if dataset.task == "classification":
        k = dataset.n_classes
        binary_ok = (k == 2 and last.get("units") == 1 and last.get("activation") == "sigmoid")
        if not binary_ok and last.get("units") != k:
            last.update(units=k, activation="softmax")
            model["cost"] = "cross_entropy"
    else:
        t = output_targets(dataset)
        if last.get("units") != t or last.get("activation") in ("softmax", "sigmoid"):
            last.update(units=t, activation="identity")
            last.pop("alpha", None)
            model["cost"] = "mse"
    return exp


# --------------------------------------------------------------------------- checking
def locate(error: SpecError, n_layers: int) -> tuple[str, int | None, str]:
    """(section, layer row, key) of the field a SpecError names."""
    name = error.field or ""
    if name.startswith("model."):
        name = name[len("model."):]
    match = _LAYER_FIELD.match(name)
    if match:
        row = int(match.group(1))
        if row < 0:
            row += n_layers
        row = min(max(row, 0), max(n_layers - 1, 0))
        return "model", row, match.group(2) or ""
    if name in ("cost",):
        return "model", max(n_layers - 1, 0), "cost"   # the output layer does not fit the cost
    if name in ("init", "seed"):
        return "training", None, name
    if name in ("input_shape", "input", "layers", "model"):
        return "model", None, name
    if name.startswith("dataset"):
        return "data", None, name.partition(".")[2]
    if name.startswith("training"):
        return "training", None, name.partition(".")[2]
    return "", None, name


def layer_infos(model: dict) -> list[LayerInfo]:
    """Output shape and parameter count of each layer, up to the first invalid one."""
    specs = model.get("layers") or []
    infos = [LayerInfo() for _ in specs]
    try:
        shape = tuple(int(d) for d in model["input_shape"])
        for i, spec in enumerate(specs):
            layer = make_layer(spec, i)
            layer.output_shape = tuple(layer.infer_output_shape(shape))
            infos[i] = LayerInfo(layer.output_shape, layer_sizes(layer, shape)[0])
            shape = layer.output_shape
    except (SpecError, KeyError, TypeError, ValueError):
        pass
    return infos


def check_experiment(experiment: dict) -> Check:
    """Validate an experiment dict the way training will; say where the first problem is."""
    model = experiment.get("model") or {}
    n_layers = len(model.get("layers") or [])
    check = Check(layers=layer_infos(model))
    try:
        plan = check.plan = Network.plan(model)
        check.layers = [LayerInfo(tuple(layer.output_shape), params)
                        for layer, params in zip(plan.layers, plan.param_counts)]
        check.dataset = load_cached(experiment.get("dataset"), plan.input_shape)
        check.dataset.targets(check.dataset.y_train[:1], plan.output_shape[0])
        from nnviz.core.experiment import Experiment
        check.experiment = Experiment.from_dict(experiment)
        if plan.param_count <= BUILD_LIMIT:
            check.network = plan.build()
    except SpecError as error:
        check.error = error
        check.section, check.row, check.key = locate(error, n_layers)
        check.experiment = None
    return check


# --------------------------------------------------------------------------- changes
_MISSING = object()


def changed_values(before, after, where: str = "") -> list[tuple[str, object, object]]:
    """(field, value in ``before``, value in ``after``) for every field that differs,
    e.g. ("model.layers[0].units", 1000000, 100000); a missing field is None."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in list(before) + [k for k in after if k not in before]:
            path = f"{where}.{key}" if where else str(key)
            changes += changed_values(before.get(key, _MISSING), after.get(key, _MISSING), path)
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (b, a) in enumerate(zip(before, after))
                for c in changed_values(b, a, f"{where}[{i}]")]
    if before == after and isinstance(before, bool) == isinstance(after, bool):
        return []
    return [(where, None if before is _MISSING else before, None if after is _MISSING else after)]


def changes_text(changes: list[tuple[str, object, object]], limit: int = 3) -> str:
    """"model.layers[0].units 1000000 → 100000; ..." (at most ``limit``, then "and N more")."""
    parts = [f"{name} {show_value(old, 24)} → {show_value(new, 24)}"
             for name, old, new in changes[:limit]]
    more = len(changes) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")

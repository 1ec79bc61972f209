"""Field paths into an experiment dict: ``"training.optimizer.eta"``, ``"model.layers[0].activation"``.

A grid search names what it varies by such paths.  ``get_field`` reads one,
``set_field`` returns a copy with one changed (the caller validates the result
as a whole with ``Experiment.from_dict``), and ``searchable_fields`` lists the
paths worth searching in an experiment, with what the catalogue says of them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from .catalogue import ACTIVATIONS, MODEL, OPTIMIZERS, TRAINING, Param
from .errors import SpecError

__all__ = ["parse_path", "get_field", "set_field", "SearchField", "searchable_fields"]

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")
_FIX = 'write e.g. "training.optimizer.eta" or "model.layers[0].activation"'


def parse_path(path: str) -> tuple[str | int, ...]:
    """The keys (str) and list indices (int) of a path; SpecError if it is malformed."""
    if not isinstance(path, str) or not path:
        raise SpecError("axes", f"a field path must be non-empty text, got {path!r}", _FIX)
    keys: list[str | int] = []
    for part in path.split("."):
        match = _TOKEN.fullmatch(part)
        if match is None:
            raise SpecError(path, "is not a field path", _FIX)
        keys.append(match.group(1))
        keys.extend(int(i) for i in _INDEX.findall(match.group(2)))
    return tuple(keys)


def _walk(d: Any, path: str, keys: tuple) -> Any:
    """The container that holds the last key of ``keys``."""
    node = d
    for depth, key in enumerate(keys[:-1]):
        node = _child(node, key, path, keys[:depth + 1])
    return node


def _child(node: Any, key: str | int, path: str, so_far: tuple) -> Any:
    if isinstance(key, int):
        if isinstance(node, list) and key < len(node):
            return node[key]
        size = f"has {len(node)} items" if isinstance(node, list) else "is not a list"
        raise SpecError(path, f"does not exist ({_show(so_far[:-1])} {size})",
                        "count list items from 0")
    if isinstance(node, dict) and key in node:
        return node[key]
    there = ", ".join(str(k) for k in node) if isinstance(node, dict) else "nothing"
    raise SpecError(path, f"does not exist (no {key!r} in {_show(so_far[:-1]) or 'the experiment'})",
                    f"fields there: {there}")


def _show(keys: tuple) -> str:
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def get_field(d: dict, path: str) -> Any:
    """The value at ``path`` in the experiment dict ``d``; SpecError naming the path if absent."""
    keys = parse_path(path)
    return _child(_walk(d, path, keys), keys[-1], path, keys)


def set_field(d: dict, path: str, value: Any) -> dict:
    """A deep copy of ``d`` with ``path`` set to ``value``.

    The container must exist; a dict may gain the last key (validation then
    says whether it is allowed).  Changing ``training.optimizer.name`` keeps
    only the parameters the new optimiser has, so ``eta`` carries over.
    """
    keys = parse_path(path)
    out = copy.deepcopy(d)
    parent = _walk(out, path, keys)
    last = keys[-1]
    if isinstance(last, int):
        _child(parent, last, path, keys)          # the item must exist
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    else:
        raise SpecError(path, f"does not exist ({_show(keys[:-1])} is not an object)", _FIX)
    if keys == ("training", "optimizer", "name") and value in OPTIMIZERS:
        known = OPTIMIZERS[value].params
        for name in [k for k in parent if k != "name" and k not in known]:
            del parent[name]
    return out


@dataclass(frozen=True)
class SearchField:
    """A field a grid search can vary: its path, a label, and the catalogue's Param."""

    path: str
    label: str
    param: Param

    @property
    def log_scale(self) -> bool:
        """Values are best spaced by factors (η, λ), not by steps."""
        return self.param.scale == "log"

    @property
    def choices(self) -> tuple:
        return tuple(self.param.choices or ())


def searchable_fields(experiment: dict) -> list[SearchField]:
    """The fields of ``experiment`` (a dict) worth a grid axis, from the catalogue:
    the optimiser's parameters and name, L2, batch size, epochs, clipping,
    initialisation, seed, precision, and each layer's activation and size."""
    training = experiment["training"]
    optimizer = training["optimizer"]
    fields = [SearchField(f"training.optimizer.{name}", f"{p.label or name} ({optimizer['name']})", p)
              for name, p in OPTIMIZERS[optimizer["name"]].params.items()]
    fields.append(SearchField("training.optimizer.name", "optimiser",
                              Param("choice", optimizer["name"], "the update rule",
                                    choices=tuple(OPTIMIZERS), label="optimiser")))
    fields += [SearchField(f"training.{name}", p.label or name, p)
               for name, p in TRAINING.items()]
    fields += [SearchField(f"model.{name}", p.label or name, p)
               for name, p in MODEL.items() if name in ("init", "seed", "dtype")]
    activation = Param("choice", "relu", "the layer's activation", choices=tuple(ACTIVATIONS),
                       label="activation")
    for i, layer in enumerate(experiment["model"]["layers"]):
        kind = layer.get("type", "dense")
        if "activation" in layer:
            fields.append(SearchField(f"model.layers[{i}].activation",
                                      f"layer {i} ({kind}) activation", activation))
        for size in ("units", "filters"):
            if size in layer:
                fields.append(SearchField(f"model.layers[{i}].{size}", f"layer {i} ({kind}) {size}",
                                          Param("int", layer[size], f"the layer's {size}", 1, 100_000,
                                                label=size)))
    return fields

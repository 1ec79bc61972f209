"""Experiment files: data set, model and training settings in one JSON document.

An experiment is what the GUI saves and loads, what a preset is and what the
command line runs (format in docs/DESIGN.md)::

    {"format": "nnviz-experiment/1",
     "title": "optional", "description": "optional",
     "dataset": {"name": "digits", "val_fraction": 0.2, "seed": 0},
     "model": {...model spec...},
     "training": {"optimizer": {"name": "adam", "eta": 0.001}, "epochs": 30,
                  "batch_size": 32, "l2": 0.0, "clip_norm": null,
                  "schedule": {"name": "cosine", "t_max": 30}}}   (schedule optional)

``Experiment.from_dict`` validates everything and fills in the defaults, so an
Experiment always holds the normalised form: the data set with all its
parameters, the model as ``Network.to_spec()`` returns it, the optimiser as
``Optimizer.to_spec()`` returns it.  Files are data: JSON only, size-limited,
and every problem (a missing or huge file, binary garbage, wrong types) is a
SpecError naming the field ("file" for the file as a whole).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import stat
import tempfile
from importlib import resources
from typing import Any

from nnviz.core.catalogue import (DEFAULT_OPTIMIZER, PACE, TRAINING, Entry, check_params,
                                  show_value as _show)
from nnviz.core.errors import SpecError
from nnviz.core.optimizers import make_optimizer
from nnviz.core.schedules import normalise_schedule

__all__ = ["Experiment", "FORMAT", "list_presets", "load_preset"]

FORMAT = "nnviz-experiment/1"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64                  # nesting of JSON containers; real files need about 5
MAX_TEXT = {"title": 200, "description": 10_000}   # characters: a toolbar line, a tooltip

TOP_KEYS = ("format", "title", "description", "dataset", "model", "training")
TRAINING_KEYS = ("optimizer", *TRAINING, "schedule", "pace")
TRAINING_ENTRY = Entry("training", "training settings", TRAINING)


class Experiment:
    """A validated experiment: ``dataset``, ``model`` and ``training`` dicts.

    ``training`` holds ``optimizer`` (dict), ``epochs`` (int >= 1),
    ``batch_size`` (int >= 1), ``l2`` (float >= 0) and ``clip_norm``
    (None or float > 0), and ``schedule`` (dict) only if one was given.  ``title`` and ``description`` are optional text.
    """

    __hash__ = None  # mutable, compared by value

    def __init__(self, dataset: dict | str, model: dict, training: dict | None = None, *,
                 title: str | None = None, description: str | None = None):
        self.dataset = _check_dataset(dataset)
        self.model = _check_model(model)
        self.training = _check_training({} if training is None else training)
        self.title = _check_text(title, "title")
        self.description = _check_text(description, "description")
        #: the folder of the file this came from (load sets it): relative data paths start here
        self.base_dir: str | None = None

    # ------------------------------------------------------------------ dicts
    @classmethod
    def from_dict(cls, d: dict) -> "Experiment":
        """Validate ``d`` (a parsed experiment file) and fill in the defaults.

        ``format`` may be left out here; if present it must be FORMAT.
        """
        if not isinstance(d, dict):
            raise SpecError("file", f"an experiment must be a JSON object, got {_kind(d)}",
                            'start the file with {"format": "' + FORMAT + '", ...}')
        for key in d:
            if key not in TOP_KEYS:
                raise SpecError(_key_field("", key), "unknown key",
                                "allowed keys: " + ", ".join(TOP_KEYS))
        if "format" in d:
            _check_format(d["format"])
        for key in ("dataset", "model"):
            if key not in d:
                raise SpecError(key, "is missing", f'add a "{key}" section')
        return cls(d["dataset"], d["model"], d.get("training"),
                   title=d.get("title"), description=d.get("description"))

    def to_dict(self) -> dict:
        """The experiment as a JSON-ready dict (a deep copy)."""
        d: dict[str, Any] = {"format": FORMAT}
        if self.title is not None:
            d["title"] = self.title
        if self.description is not None:
            d["description"] = self.description
        d["dataset"] = self.dataset
        d["model"] = self.model
        d["training"] = self.training
        return copy.deepcopy(d)

    def copy(self) -> "Experiment":
        """An independent deep copy (no re-validation)."""
        new = object.__new__(type(self))
        new.__dict__.update(copy.deepcopy(self.__dict__))
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Experiment):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        opt = self.training["optimizer"]
        return (f"<Experiment {self.title or ''!s}{' ' if self.title else ''}"
                f"dataset={self.dataset['name']} layers={len(self.model['layers'])} "
                f"optimizer={opt['name']}(eta={opt['eta']:g}) epochs={self.training['epochs']}>")

    # ------------------------------------------------------------------ files
    @classmethod
    def load(cls, path: str | os.PathLike) -> "Experiment":
        """Read and validate an experiment file; SpecError("file", ...) if unreadable.

        ``base_dir`` becomes the file's folder, so a CSV path in it is read from there.
        """
        exp = _from_bytes(_read_limited(path), os.fspath(path))
        exp.base_dir = os.path.dirname(os.path.abspath(os.fspath(path)))
        return exp

    def save(self, path: str | os.PathLike) -> None:
        """Write pretty JSON atomically: a temporary file next to ``path``, then os.replace."""
        path = os.fspath(path)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        folder = os.path.dirname(os.path.abspath(path))
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".nnviz-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _mode_for(path))
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            raise SpecError("file", f"cannot write {path!r}: {exc.strerror or exc}",
                            "choose a folder you can write to") from None
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


# ---------------------------------------------------------------------- presets

def _presets_dir():
    """The presets folder inside the installed package (a Traversable)."""
    return resources.files("nnviz.resources") / "presets"


def _preset_files() -> dict[str, Any]:
    """name -> Traversable of every ``presets/<name>.json``, sorted by name."""
    folder = _presets_dir()
    if not folder.is_dir():
        return {}
    files = {e.name[:-5]: e for e in folder.iterdir()
             if e.name.endswith(".json") and e.is_file()}
    return dict(sorted(files.items()))


def list_presets() -> list[tuple[str, str]]:
    """(name, title) of every shipped preset, sorted by name; title falls back to name."""
    out = []
    for name, entry in _preset_files().items():
        title = name
        try:
            d = _parse(entry.read_bytes(), name)
        except (SpecError, OSError):
            d = None  # listed anyway: load_preset will say what is wrong
        if isinstance(d, dict) and isinstance(d.get("title"), str) and d["title"].strip():
            title = d["title"]
        out.append((name, title))
    return out


def load_preset(name: str) -> Experiment:
    """The shipped preset ``name`` (see list_presets) as a validated Experiment."""
    files = _preset_files()
    entry = files.get(name) if isinstance(name, str) else None
    if entry is None:
        raise SpecError("preset", f"unknown preset {name!r}",
                        "choose one of: " + (", ".join(files) or "(none installed)"))
    try:
        data = entry.read_bytes()
    except OSError as exc:
        raise SpecError("file", f"cannot read preset {name!r}: {exc}",
                        "reinstall nnviz") from None
    return _from_bytes(data, f"preset {name}")


# ---------------------------------------------------------------------- reading files

def _read_limited(path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; SpecError("file") otherwise.

    Never blocks: FIFOs, devices and the like are refused before and after opening
    (non-blocking), and a "regular" file that reports no size (/proc/kmsg) is not read.
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise SpecError("file", f"not a file path: {path!r}", "give a path to a .json file") \
            from None
    try:
        _check_regular(os.stat(path), path)
        fd = os.open(path, os.O_RDONLY | _NO_WAIT)
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            _check_regular(info, path)       # the same file we stat'ed, or refuse it
            data = f.read(MAX_FILE_BYTES + 1) if info.st_size > 0 else b""
    except BlockingIOError:
        raise SpecError("file", f"{path!r} has nothing to read yet (a device or a pipe?)",
                        "choose an experiment .json file") from None
    except (OSError, ValueError) as exc:      # ValueError: a NUL byte in the path
        raise SpecError("file", f"cannot read {path!r}: {getattr(exc, 'strerror', None) or exc}",
                        "check the path and its permissions") from None
    if len(data) > MAX_FILE_BYTES:  # grew after stat
        raise SpecError("file", f"{path!r} is larger than {MAX_FILE_BYTES} bytes",
                        "choose an experiment .json file")
    if not data:
        raise SpecError("file", f"{path!r} is not valid JSON: it is empty",
                        "choose an experiment .json file")
    return data


_NO_WAIT = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def _check_regular(info: os.stat_result, path: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SpecError("file", f"{path!r} is not a regular file",
                        "choose an experiment .json file")
    if info.st_size > MAX_FILE_BYTES:
        raise SpecError("file", f"{path!r} is too large ({info.st_size} bytes; "
                        f"experiment files are at most {MAX_FILE_BYTES} bytes)",
                        "choose an experiment .json file")


def _from_bytes(data: bytes, source: str) -> Experiment:
    """Parse, check the format marker, validate."""
    d = _parse(data, source)
    if not isinstance(d, dict):
        raise SpecError("file", f"{source!r} holds {_kind(d)}, not an experiment object",
                        'an experiment file starts with {"format": "' + FORMAT + '"')
    if "format" not in d:
        raise SpecError("format", f'{source!r} has no "format" key',
                        f'add "format": "{FORMAT}" (is this an nnviz experiment file?)')
    return Experiment.from_dict(d)


def _parse(data: bytes, source: str) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, bounded nesting."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError("file", f"{source!r} is not a text file (not UTF-8)",
                        "choose an experiment .json file") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant,
                           object_pairs_hook=_unique_keys)
    except RecursionError:
        raise SpecError("file", f"{source!r} is nested too deeply",
                        "choose an experiment .json file") from None
    except ValueError as exc:  # JSONDecodeError, huge integers, our hooks
        where = (f" (line {exc.lineno}, column {exc.colno})"
                 if isinstance(exc, json.JSONDecodeError) else "")
        problem = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise SpecError("file", f"{source!r} is not valid JSON{where}: {problem}",
                        "fix the file or choose another one") from None
    _check_depth(value, source)
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {dup!r}")
    return d


def _check_depth(value: Any, source: str) -> None:
    """SpecError if containers nest deeper than MAX_DEPTH (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise SpecError("file", f"{source!r} is nested more than {MAX_DEPTH} levels deep",
                                "choose an experiment .json file")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _mode_for(path: str) -> int:
    """Permissions for the saved file: those of the file replaced, else rw-r--r--."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o644


# ---------------------------------------------------------------------- validation

def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             type(None): "null", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _key_field(prefix: str, key: Any) -> str:
    """``prefix.key`` for a key of any type, kept short and printable."""
    text = key if isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9_\-]{1,40}", key) \
        else _show(key, 40)
    return f"{prefix}.{text}" if prefix else text


def _check_format(value: Any) -> None:
    if value == FORMAT:
        return
    if isinstance(value, str) and value.startswith("nnviz-experiment/"):
        raise SpecError("format", f"unsupported version {value!r}; this nnviz reads {FORMAT!r}",
                        "use a newer nnviz, or save the experiment again")
    raise SpecError("format", f"expected {FORMAT!r}, got {_show(value)}",
                    "is this an nnviz experiment file?")


def _check_text(value: Any, field: str) -> str | None:
    if value is None:
        return value
    if not isinstance(value, str):
        raise SpecError(field, f"must be text, got {_kind(value)}", "write it in double quotes")
    limit = MAX_TEXT[field]
    if len(value) > limit:
        raise SpecError(field, f"is {len(value):,} characters long; at most {limit:,} fit",
                        "shorten it")
    return value


def _check_dataset(spec: Any) -> dict:
    """The data-set spec with its name checked and every parameter filled in."""
    from nnviz.core.datasets import normalise_spec
    return normalise_spec(spec)


def _check_model(spec: Any) -> dict:
    """The normalised model spec, validated from shapes alone (nothing is allocated)."""
    from nnviz.core.network import Network
    if not isinstance(spec, dict):
        raise SpecError("model", f"must be an object, got {_kind(spec)}",
                        "see the model spec in the documentation")
    try:
        return Network.plan(spec).to_spec()
    except SpecError as exc:
        field = exc.field or "model"
        if not (field == "model" or field.startswith(("model.", "model["))):
            field = "model." + field
        raise SpecError(field, exc.problem, exc.fix) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError,
            OverflowError, RecursionError) as exc:
        # A value of a type the network code did not expect: still the user's input.
        raise SpecError("model", f"invalid model spec ({type(exc).__name__}: {exc})",
                        "check the types of the model's values") from None


def _check_training(spec: Any) -> dict:
    """Training settings checked against the catalogue, defaults filled in."""
    if not isinstance(spec, dict):
        raise SpecError("training", f"must be an object, got {_kind(spec)}",
                        'write e.g. {"epochs": 30, "batch_size": 32}')
    for key in spec:
        if key not in TRAINING_KEYS:
            raise SpecError(_key_field("training", key), "unknown key",
                            "allowed keys: " + ", ".join(TRAINING_KEYS))
    optimizer = spec.get("optimizer", {"name": DEFAULT_OPTIMIZER})
    values = check_params(TRAINING_ENTRY, {k: v for k, v in spec.items()
                                           if k not in ("optimizer", "schedule", "pace")},
                          "training")
    if "schedule" in spec:    # only when given: files without one stay as they were
        values["schedule"] = normalise_schedule(spec["schedule"])
    if spec.get("pace") is not None:     # the window's speed, likewise only when given
        values["pace"] = PACE.check(spec["pace"], "training.pace")
    return {"optimizer": make_optimizer(optimizer).to_spec(), **values}

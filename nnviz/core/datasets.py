"""Built-in data sets: 2-D toys, regression surfaces, scikit-learn sets, photos.

``load_dataset(spec)`` turns a data-set spec (``{"name": "moons", "noise": 0.2}``
or just ``"moons"``) into a :class:`Dataset`: a train/validation split (stratified
for classification), scaled with statistics of the *training* split only, so no
information from the validation data leaks into training.

``{"name": "csv", "path": ..., "target": ...}`` reads the user's own file
(``csv_data.py``), split and standardised like the built-in tables.

Everything is deterministic from ``seed``. scikit-learn is imported lazily (it is
slow to import: about 1.5 s) and only when the arrays are not yet in the on-disk
data-set cache (``data_cache.py``); the raw arrays of its loaders are also kept
in memory, read-only; every Dataset gets fresh arrays that callers may modify.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from nnviz.core.catalogue import Param
from nnviz.core.data_cache import cached_arrays
from nnviz.core.errors import SpecError

# --------------------------------------------------------------------------- #
# The Dataset record
# --------------------------------------------------------------------------- #

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True, eq=False)
class Dataset:
    """A split, scaled data set, ready to train on.

    X arrays are float64 with shape ``(N,) + input_shape``; ``y`` holds int labels
    ``0..n_classes-1`` for classification, float ``(N, k)`` targets for regression.
    ``holdout`` is False only for the 4-point XOR gate, which (as in the course
    notes) is validated on its own training points: there is nothing to hold out.
    ``spec`` is the normalised spec (every parameter filled in).
    """

    name: str
    task: str
    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_val: np.ndarray = field(repr=False)
    y_val: np.ndarray = field(repr=False)
    n_classes: int
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    spec: dict = field(default_factory=dict)
    holdout: bool = True

    def targets(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        """The float64 array a network with ``n_outputs`` output units trains on.

        Classification: 1 output -> (N, 1) 0/1 column (2-class sets only);
        ``n_classes`` outputs -> one-hot rows. Regression: targets as (N, k),
        where k must equal ``n_outputs``.
        """
        y = np.asarray(y)
        if self.task == REGRESSION:
            return self._regression_targets(y, n_outputs)
        return self._class_targets(y, n_outputs)

    def _regression_targets(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        y = y.reshape(len(y), -1).astype(np.float64)
        if y.shape[1] != n_outputs:
            raise SpecError(
                "model.layers[-1].units",
                f"{n_outputs} output unit(s), but '{self.name}' has {y.shape[1]} target(s)",
                f"use {y.shape[1]} unit(s) with the identity activation")
        return y

    def _class_targets(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        k = self.n_classes
        labels = y.reshape(-1).astype(np.int64)
        if n_outputs == 1 and k == 2:
            return (labels == 1).astype(np.float64)[:, None]
        if n_outputs == k:
            return np.eye(k)[labels]
        if n_outputs == 1:
            problem = f"1 output unit fits only 2 classes; '{self.name}' has {k}"
        else:
            problem = f"{n_outputs} output units do not fit the {k} classes of '{self.name}'"
        fix = f"use {k} units with softmax" + (" or 1 unit with sigmoid" if k == 2 else "")
        raise SpecError("model.layers[-1].units", problem, fix)


# --------------------------------------------------------------------------- #
# Parameters
# --------------------------------------------------------------------------- #


_VAL_FRACTION = Param("float", 0.2, "fraction of the samples held out for validation", 0.0, 1.0,
                      low_open=True, high_open=True)
_SEED = Param("int", 0, "random seed: data generation and the split", 0, 2 ** 31 - 1)


def _n_samples(default: int, hi: int = 20000) -> Param:
    return Param("int", default, "number of samples (train + validation)", 4, hi)


def _noise(default: float) -> Param:
    return Param("float", default, "standard deviation of the gaussian noise", 0.0, 5.0)


def _n_classes(default: int) -> Param:
    return Param("int", default, "number of classes", 2, 10)


# --------------------------------------------------------------------------- #
# Raw data (before split and scaling)
# --------------------------------------------------------------------------- #


@dataclass
class _Raw:
    """What a builder returns: flat features ``X`` (N, d) and labels or targets."""

    X: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...] = ()     # empty: regression
    image_shape: tuple[int, ...] | None = None   # natural per-sample image shape
    standardize: bool = True              # StandardScaler fitted on the train split
    images_by_default: bool = False       # shape without a model: image_shape, not flat
    holdout: bool = True


def _rng(p: Mapping) -> np.random.Generator:
    return np.random.default_rng(p["seed"])


def _split_counts(n: int, k: int) -> list[int]:
    """``n`` samples shared out over ``k`` groups as evenly as possible."""
    return [n // k + (i < n % k) for i in range(k)]


def _xor(p: Mapping) -> _Raw:
    """Gaussian blobs at the 4 corners of the unit square, label x XOR y.

    With ``n_samples`` 4 it is the notes' XOR gate, in the notes' order; with
    noise 0 every blob collapses onto its corner.
    """
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    counts = _split_counts(p["n_samples"], 4)
    X = np.repeat(corners, counts, axis=0)
    X = X + p["noise"] * _rng(p).standard_normal(X.shape)
    y = np.repeat(np.array([0, 1, 1, 0]), counts)
    return _Raw(X, y, ("0", "1"), holdout=p["n_samples"] > 4)


def _circles(p: Mapping) -> _Raw:
    from sklearn.datasets import make_circles
    X, y = make_circles(p["n_samples"], noise=p["noise"], factor=0.5, random_state=p["seed"])
    return _Raw(X, y, ("outer", "inner"))


def _moons(p: Mapping) -> _Raw:
    from sklearn.datasets import make_moons
    X, y = make_moons(p["n_samples"], noise=p["noise"], random_state=p["seed"])
    return _Raw(X, y, ("upper", "lower"))


def _spirals(p: Mapping) -> _Raw:
    """``n_classes`` interleaved arms, each 1.5 turns from the centre outwards."""
    k = p["n_classes"]
    parts = []
    for arm, m in enumerate(_split_counts(p["n_samples"], k)):
        t = np.linspace(0.05, 1.0, m)
        angle = 3 * np.pi * t + 2 * np.pi * arm / k
        parts.append(np.column_stack([t * np.cos(angle), t * np.sin(angle)]))
    X = np.concatenate(parts)
    X = X + p["noise"] * _rng(p).standard_normal(X.shape)
    y = np.repeat(np.arange(k), _split_counts(p["n_samples"], k))
    return _Raw(X, y, tuple(f"arm {i}" for i in range(k)))


def _gaussians(p: Mapping) -> _Raw:
    """``n_classes`` gaussian blobs with centres evenly spaced on the unit circle."""
    k = p["n_classes"]
    angles = 2 * np.pi * np.arange(k) / k
    centres = np.column_stack([np.cos(angles), np.sin(angles)])
    y = np.repeat(np.arange(k), _split_counts(p["n_samples"], k))
    X = centres[y] + p["noise"] * _rng(p).standard_normal((len(y), 2))
    return _Raw(X, y, tuple(f"blob {i}" for i in range(k)))


def _franke(p: Mapping) -> _Raw:
    """The notes' polynomial surface 1x + 2y + 3x^2 + 4xy + 5y^2 on [0, 1]^2, plus noise."""
    rng = _rng(p)
    x, y = rng.uniform(0.0, 1.0, (2, p["n_samples"]))
    z = 1 * x + 2 * y + 3 * x**2 + 4 * x * y + 5 * y**2
    z = z + p["noise"] * rng.standard_normal(z.shape)
    return _Raw(np.column_stack([x, y]), z[:, None])


def _sine(p: Mapping) -> _Raw:
    """y = sin(x) + noise for x uniform in [-pi, pi]."""
    rng = _rng(p)
    x = rng.uniform(-np.pi, np.pi, p["n_samples"])
    y = np.sin(x) + p["noise"] * rng.standard_normal(x.shape)
    return _Raw(x[:, None], y[:, None])


def _readonly(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.setflags(write=False)
    return arrays


@functools.lru_cache(maxsize=None)
def _sklearn_raw(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Cached, read-only (X, y, class names) of a scikit-learn toy set."""
    def load() -> dict[str, np.ndarray]:
        from sklearn import datasets as skd
        bunch = getattr(skd, f"load_{name}")()
        return {"X": np.asarray(bunch.data, dtype=np.float64),
                "y": np.asarray(bunch.target, dtype=np.int64),
                "names": np.array([str(c) for c in bunch.target_names], dtype=str)}
    data = cached_arrays({"scikit-learn": name}, load)
    return (*_readonly(data["X"], data["y"]), tuple(str(c) for c in data["names"]))


def _tabular(name: str) -> Callable[[Mapping], _Raw]:
    def build(p: Mapping) -> _Raw:
        X, y, names = _sklearn_raw(name)
        return _Raw(X.copy(), y.copy(), names)
    build.__doc__ = f"scikit-learn's {name} set, standardised on the train split."
    return build


def _digits(p: Mapping) -> _Raw:
    """8x8 handwritten digits, pixels scaled from 0..16 to [0, 1]."""
    X, y, names = _sklearn_raw("digits")
    return _Raw(X / 16.0, y.copy(), names, image_shape=(1, 8, 8), standardize=False)


PHOTOS = ("china", "flower")


@functools.lru_cache(maxsize=None)
def _photo_rgb(name: str) -> np.ndarray:
    """Cached, read-only colour (3, H, W) float64 photo in [0, 1]."""
    try:
        import PIL.Image  # noqa: F401  (scikit-learn decodes the JPEGs with Pillow)
    except ImportError:
        raise SpecError("dataset.name",
                        "the sample photographs need Pillow to be read",
                        "install it: pip install Pillow") from None
    def load() -> dict[str, np.ndarray]:
        from sklearn.datasets import load_sample_image
        rgb = np.asarray(load_sample_image(f"{name}.jpg"), dtype=np.float64) / 255.0
        return {"rgb": np.ascontiguousarray(np.moveaxis(rgb, -1, 0))}
    return _readonly(cached_arrays({"photo": name}, load)["rgb"])[0]


@functools.lru_cache(maxsize=None)
def _photo_gray(name: str) -> np.ndarray:
    """Cached, read-only grayscale (H, W) float64 photo in [0, 1] (BT.601 luma)."""
    gray = np.tensordot(np.array([0.299, 0.587, 0.114]), _photo_rgb(name), axes=1)
    return _readonly(np.clip(gray, 0.0, 1.0))[0]


def _photos(p: Mapping) -> _Raw:
    """Random square grayscale patches from each photo; label = which photo."""
    rng, size = _rng(p), p["patch"]
    offsets = np.arange(size)
    patches = []
    for name, m in zip(PHOTOS, _split_counts(p["n_samples"], len(PHOTOS))):
        gray = _photo_gray(name)
        rows = rng.integers(0, gray.shape[0] - size + 1, m)
        cols = rng.integers(0, gray.shape[1] - size + 1, m)
        patches.append(gray[rows[:, None, None] + offsets[None, :, None],
                            cols[:, None, None] + offsets[None, None, :]])
    X = np.concatenate(patches).reshape(p["n_samples"], -1)
    y = np.repeat(np.arange(len(PHOTOS)), _split_counts(p["n_samples"], len(PHOTOS)))
    return _Raw(X, y, PHOTOS, image_shape=(1, size, size), standardize=False,
                images_by_default=True)


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Entry:
    description: str
    build: Callable[[Mapping], _Raw]
    params: dict[str, Param]


def _entry(description: str, build: Callable[[Mapping], _Raw], **params: Param) -> _Entry:
    """A registry entry; every data set also takes val_fraction and seed."""
    return _Entry(description, build, {**params, "val_fraction": _VAL_FRACTION, "seed": _SEED})


def _toy(description: str, build: Callable[[Mapping], _Raw], noise: float,
         **extra: Param) -> _Entry:
    return _entry(description, build, n_samples=_n_samples(400), noise=_noise(noise), **extra)


_REGISTRY: dict[str, _Entry] = {
    "xor": _toy("XOR: 4 gaussian blobs at the corners, label x XOR y "
                "(noise 0 and 4 samples: the exact XOR gate)", _xor, 0.15),
    "circles": _toy("Two concentric circles (2-D, 2 classes)", _circles, 0.1),
    "moons": _toy("Two interleaving half moons (2-D, 2 classes)", _moons, 0.2),
    "spirals": _toy("Interleaved spiral arms (2-D, one class per arm)", _spirals, 0.05,
                    n_classes=_n_classes(2)),
    "gaussians": _toy("Gaussian blobs around a circle (2-D, one class per blob)",
                      _gaussians, 0.3, n_classes=_n_classes(3)),
    "franke": _toy("Regression: the notes' polynomial surface "
                   "x + 2y + 3x^2 + 4xy + 5y^2 on [0,1]^2 plus noise", _franke, 0.1),
    "sine": _toy("Regression: y = sin(x) + noise, x in [-pi, pi]", _sine, 0.1),
    "breast_cancer": _entry("Breast cancer diagnosis: 30 features, 2 classes (scikit-learn)",
                            _tabular("breast_cancer")),
    "iris": _entry("Iris flowers: 4 features, 3 classes (scikit-learn)", _tabular("iris")),
    "wine": _entry("Wine cultivars: 13 features, 3 classes (scikit-learn)", _tabular("wine")),
    "digits": _entry("Handwritten digits: 8x8 images, 10 classes (scikit-learn); "
                     "input [64] or [1, 8, 8]", _digits),
    "photos": _entry("Grayscale patches of two photographs (china, flower), 2 classes",
                     _photos, n_samples=_n_samples(400, hi=4000),
                     patch=Param("int", 16, "patch side in pixels", 4, 64)),
}

#: name -> short description, in the order a GUI should list them.
DATASETS: dict[str, str] = {name: e.description for name, e in _REGISTRY.items()}
#: name -> {parameter: Param} (type, default, range, help) of every editable parameter.
PARAMS: dict[str, dict[str, Param]] = {name: dict(e.params) for name, e in _REGISTRY.items()}
#: name -> {parameter: default value}.
DEFAULTS: dict[str, dict[str, Any]] = {
    name: {key: p.default for key, p in params.items()} for name, params in PARAMS.items()}

#: The user's own CSV file (read by ``csv_data``); not in DATASETS, which lists the
#: built-in sets a picker shows: a CSV file is opened, not picked.
CSV_DESCRIPTION = ("Your own CSV file: a header row, one sample per line; numeric features "
                   "(standardised), a target column of class labels or numbers")
CSV_PARAMS: dict[str, Param] = {
    "path": Param("text", "", "the CSV file; a relative path is read beside the experiment file"),
    "target": Param("text", "", "the column to predict (empty: the last column)"),
    "features": Param("list", None, "the feature columns (null: every other column)",
                      item="text", nullable=True),
    "task": Param("choice", None, "classification or regression (null: text labels or at most "
                  "10 whole numbers are classes, other numbers regression)",
                  choices=(CLASSIFICATION, REGRESSION), nullable=True),
    "val_fraction": _VAL_FRACTION,
    "seed": _SEED,
}


# --------------------------------------------------------------------------- #
# load_dataset
# --------------------------------------------------------------------------- #


def load_dataset(spec: str | Mapping[str, Any], *,
                 input_shape: tuple[int, ...] | list[int] | None = None,
                 base_dir: str | os.PathLike | None = None) -> Dataset:
    """Build the data set ``spec`` names, split and scaled.

    ``input_shape`` is the model's per-sample input shape when known; image sets
    (digits, photos) then come flat ``(C*H*W,)`` or as NCHW images ``(C, H, W)``
    to match it (without it: digits flat, photos as images). A shape that fits
    neither raises SpecError("model.input_shape").  ``base_dir`` is where a
    relative CSV path is read from (the experiment file's folder; default the
    working directory).
    """
    name, params = _parse_spec(spec)
    if name == "csv":      # the user's file may change: read it every time
        data = _split_data(name, params, base_dir)
    else:
        data = cached_arrays({"dataset": {"name": name, **params}},
                             lambda: _split_data(name, params, None))
    class_names = tuple(str(c) for c in data["class_names"])
    image_shape = tuple(int(d) for d in data["image_shape"]) or None
    shape = _choose_shape(name, data["X_train"].shape[1], image_shape,
                          bool(data["images_by_default"]), input_shape)
    return Dataset(
        name=name,
        task=CLASSIFICATION if class_names else REGRESSION,
        X_train=data["X_train"].reshape((-1,) + shape),
        y_train=data["y_train"],
        X_val=data["X_val"].reshape((-1,) + shape),
        y_val=data["y_val"],
        n_classes=len(class_names),
        class_names=class_names,
        input_shape=shape,
        spec={"name": name, **params},
        holdout=bool(data["holdout"]),
    )


def _split_data(name: str, params: Mapping, base_dir) -> dict[str, np.ndarray]:
    """The raw set split and scaled, flat, with what ``load_dataset`` needs to know
    of it, all as arrays (what the data-set cache stores)."""
    raw = _csv(params, base_dir) if name == "csv" else _REGISTRY[name].build(params)
    classify = bool(raw.class_names)
    if raw.holdout:
        size_field = "dataset.n_samples" if "n_samples" in params else "dataset.val_fraction"
        train, val = _split_indices(len(raw.X), raw.y if classify else None, params,
                                    size_field)
    else:
        train = val = np.arange(len(raw.X))
    X_train, X_val = raw.X[train], raw.X[val]
    if raw.standardize:
        X_train, X_val = _standardize(X_train, X_val)
    return {"X_train": X_train, "y_train": raw.y[train], "X_val": X_val, "y_val": raw.y[val],
            "class_names": np.array(raw.class_names, dtype=str),
            "image_shape": np.array(raw.image_shape or (), dtype=np.int64),
            "images_by_default": np.array(raw.images_by_default),
            "holdout": np.array(raw.holdout)}


def normalise_spec(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """The data-set spec validated, every parameter filled in: {"name": ..., ...}."""
    name, params = _parse_spec(spec)
    return {"name": name, **params}


def _parse_spec(spec: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Validated (name, every parameter with defaults filled in)."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise SpecError("dataset", f"expected a name or an object, got {spec!r}",
                        'e.g. {"name": "moons", "noise": 0.2}')
    name = spec.get("name")
    if not isinstance(name, str) or (name not in _REGISTRY and name != "csv"):
        problem = ("missing data set name" if name is None
                   else f"unknown data set {name!r}")
        raise SpecError("dataset.name", problem,
                        "choose one of: " + ", ".join(_REGISTRY) + ', or "csv" for your own file')
    allowed = CSV_PARAMS if name == "csv" else PARAMS[name]
    params = {key: p.default for key, p in allowed.items()}
    for key, value in spec.items():
        if key == "name":
            continue
        if key not in allowed:
            raise SpecError(f"dataset.{key}", f"'{name}' has no parameter {key!r}",
                            "its parameters are: " + ", ".join(allowed))
        params[key] = allowed[key].check(value, f"dataset.{key}")
    if name == "csv" and not params["path"].strip():
        raise SpecError("dataset.path", "is missing", 'give the CSV file, e.g. "data.csv"')
    return name, params


def _csv(params: Mapping, base_dir) -> _Raw:
    """The CSV file of a "csv" spec, its relative path taken from ``base_dir``."""
    from nnviz.core.csv_data import read_csv_table, table_arrays
    path = os.path.join(os.fspath(base_dir) if base_dir is not None else os.getcwd(),
                        os.path.expanduser(params["path"]))
    X, y, names, _, _ = table_arrays(read_csv_table(os.path.normpath(path)), params["target"],
                                     params["features"], params["task"])
    return _Raw(X, y, names)


def _split_indices(n: int, y: np.ndarray | None, params: Mapping,
                   size_field: str) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation indices; stratified by ``y`` unless it is None (regression)."""
    from sklearn.model_selection import train_test_split
    fraction = params["val_fraction"]
    _check_split_possible(y, n, fraction, size_field)
    try:
        return train_test_split(np.arange(n), test_size=fraction, random_state=params["seed"],
                                stratify=y)
    except ValueError as exc:  # a case the check above did not foresee
        raise SpecError("dataset.val_fraction", f"cannot split {n} samples: {exc}",
                        "use more samples or another val_fraction") from None


def _check_split_possible(y: np.ndarray | None, n: int, fraction: float,
                          size_field: str) -> None:
    """SpecError unless both parts get at least one sample (per class, if stratified)."""
    n_val = math.ceil(fraction * n)   # as scikit-learn rounds
    n_train = n - n_val
    k = 1
    if y is not None:
        counts = np.bincount(y)
        k = int(np.count_nonzero(counts))
        if counts.min() < 2:
            raise SpecError(size_field, f"a class has only {counts.min()} sample(s); "
                            "a stratified split needs at least 2 per class",
                            "use more samples")
    need = f"{k} (one per class)" if y is not None else "1"
    if n_val < k:
        raise SpecError("dataset.val_fraction",
                        f"{fraction:g} of {n} samples leaves {n_val} for validation, "
                        f"fewer than {need}",
                        f"use val_fraction >= {k / n:.3g} or more samples")
    if n_train < k:
        raise SpecError("dataset.val_fraction",
                        f"{fraction:g} of {n} samples leaves {n_train} for training, "
                        f"fewer than {need}",
                        f"use val_fraction <= {1 - k / n:.3g} or more samples")


def _standardize(X_train: np.ndarray, X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both parts scaled with mean and std of the training part only (no leakage)."""
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val)


def _choose_shape(name: str, n_features: int, image_shape: tuple[int, ...] | None,
                  images_by_default: bool, input_shape: Any) -> tuple[int, ...]:
    """Per-sample shape the model wants: flat features, or the image shape."""
    flat = (n_features,)
    fits = [flat] + ([image_shape] if image_shape else [])
    if input_shape is None:
        return fits[-1] if images_by_default else flat
    shape = _as_shape(input_shape)
    if shape in fits:
        return shape
    options = " or ".join(str(list(s)) for s in fits)
    fix = f"use {options}"
    if name == "photos" and len(shape) == 3 and shape[0] == 1 and shape[1] == shape[2]:
        fix += f", or set dataset.patch to {shape[1]}"
    raise SpecError("model.input_shape",
                    f"{list(shape)} does not fit '{name}' (samples of shape {list(fits[-1])})",
                    fix)


def _as_shape(value: Any) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in value)
        ok = bool(shape) and all(d > 0 and d == v for d, v in zip(shape, value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpecError("model.input_shape", f"{value!r} is not a shape",
                        "use a list of positive whole numbers, e.g. [64] or [1, 8, 8]")
    return shape


# --------------------------------------------------------------------------- #
# Single images for the convolution view
# --------------------------------------------------------------------------- #

#: names sample_image knows besides "digits:<index>".
SAMPLE_IMAGES = PHOTOS


def sample_image(name: str, size: int | tuple[int, int] | None = None, *,
                 colour: bool = False) -> np.ndarray:
    """A (1, H, W) float64 grayscale image in [0, 1] to show convolutions on.

    ``name``: "china" or "flower" (scikit-learn's sample photographs) or
    "digits:<i>" (the i-th 8x8 digit). ``size``: side of a square, (H, W), or
    None for the native size; the centre is cropped to the target's aspect
    ratio, then resampled by area averaging.  ``colour``: a photo as (3, H, W)
    RGB instead (digits have no colour).
    """
    image = _native_image(name, colour)
    if size is None:
        return image.copy() if colour else image[None].copy()
    h, w = _image_size(size)
    resized = _resize(_crop_to_aspect(image, h / w), h, w)
    return resized if colour else resized[None]


def _native_image(name: str, colour: bool = False) -> np.ndarray:
    if isinstance(name, str) and name in PHOTOS:
        return _photo_rgb(name) if colour else _photo_gray(name)
    if isinstance(name, str) and name.startswith("digits:"):
        if colour:
            raise SpecError("colour", "the digits are grayscale images",
                            "ask for a digit without colour=True")
        images = _sklearn_raw("digits")[0]
        index = name.split(":", 1)[1]
        if index.isdigit() and int(index) < len(images):
            return images[int(index)].reshape(8, 8) / 16.0
        raise SpecError("image", f"no digit {index!r}",
                        f"use digits:0 .. digits:{len(images) - 1}")
    raise SpecError("image", f"unknown image {name!r}",
                    "use " + ", ".join(SAMPLE_IMAGES) + " or digits:<index>")


def _image_size(size: Any) -> tuple[int, int]:
    dims = (size, size) if isinstance(size, (int, np.integer)) else size
    try:
        h, w = (int(d) for d in dims)
        ok = not isinstance(size, bool) and 1 <= h <= 4096 and 1 <= w <= 4096
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpecError("size", f"{size!r} is not an image size",
                        "use a side length or (height, width) from 1 to 4096")
    return h, w


def _crop_to_aspect(image: np.ndarray, ratio: float) -> np.ndarray:
    """The largest centred crop with height/width == ``ratio`` (to within a pixel)."""
    H, W = image.shape[-2:]
    h, w = min(H, round(W * ratio)), min(W, round(H / ratio))
    top, left = (H - h) // 2, (W - w) // 2
    return image[..., top:top + h, left:left + w]


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: each output pixel averages the input span it covers."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    j = np.arange(n_in)[None, :]
    overlap = np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)
    overlap = np.clip(overlap, 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _resize(image: np.ndarray, h: int, w: int) -> np.ndarray:
    """Area-averaging resample of the last two axes (no aliasing when shrinking,
    blocky when enlarging)."""
    H, W = image.shape[-2:]
    return _area_weights(H, h) @ image @ _area_weights(W, w).T

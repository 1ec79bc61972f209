"""The "heavy" view data: what the network currently does, as plain arrays.

These functions run in the training worker on the current weights, at a lower
rate than snapshots, and hand the GUI frozen records of read-only copies, so
the GUI thread only draws.  Each costs one batched forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.core.errors import SpecError

OUTPUT_KINDS = ("boundary", "curve", "scatter", "confusion")
MAX_NODES = 32            # dense layers up to this size are drawn unit by unit
MAX_TRAIN_POINTS = 2000   # train points shipped for the boundary and curve plots
CLASSIFICATION_COSTS = ("bce", "cross_entropy")
ELEMENTWISE_KINDS = ("dropout", "batchnorm", "activation")


def _frozen(array) -> np.ndarray | None:
    """A read-only copy, so neither the worker nor pyqtgraph can alter it later."""
    if array is None:
        return None
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class OutputData:
    """What the network outputs over its input space, in one of four forms.

    boundary:  2-D classification.  ``probs`` is (R, R) for one sigmoid output
               (p of class 1) or (R, R, C); row i is y = ys[i], column j is
               x = xs[j], over ``extent`` = (xmin, xmax, ymin, ymax).
               ``boundary_lines`` holds the segments (pairs of rows) where
               the predicted class changes (the 0.5 contour for one output).
    curve:     regression on one input: ``curve_x``, ``curve_y`` and the data
               as (x, target) rows in ``train_points`` / ``val_points``.
    scatter:   other regression: ``y_true`` against ``y_pred`` (validation,
               every output flattened).
    confusion: other classification: ``matrix[true, predicted]`` counts.
    """

    kind: str
    boundary_lines: np.ndarray | None = None   # (2K, 2): K segments where the class changes
    n_classes: int = 0
    class_names: tuple[str, ...] = ()
    accuracy: float | None = None          # classification, on ``split``
    r2: float | None = None                # regression, on ``split``
    split: str = "validation"              # the data set part the scores use
    extent: tuple[float, float, float, float] | None = None
    probs: np.ndarray | None = None
    train_points: np.ndarray | None = None
    train_labels: np.ndarray | None = None
    val_points: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    train_index: np.ndarray | None = None   # data set index of each train point (subsampled)
    curve_x: np.ndarray | None = None
    curve_y: np.ndarray | None = None
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    matrix: np.ndarray | None = None

    def __post_init__(self):
        if self.kind not in OUTPUT_KINDS:
            raise ValueError(f"OutputData.kind must be one of {OUTPUT_KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class ConvLayerData:
    """Kernels and feature maps of one conv2d layer for one input image."""

    index: int                 # position in Network.layers
    name: str                  # e.g. "conv2d 0: 8 × 3×3, relu"
    kernels: np.ndarray        # (out_c, in_c, kh, kw)
    maps: np.ndarray           # (out_c, H, W): the layer's output activations


@dataclass(frozen=True)
class ConvData:
    """The chosen input image and what every conv layer makes of it."""

    image: np.ndarray                      # (C, H, W)
    layers: tuple[ConvLayerData, ...]


@dataclass(frozen=True)
class LayerInfo:
    """One layer as the network diagram shows it."""

    index: int
    kind: str
    label: str                 # short title, e.g. "dense 16" or "conv2d 8 × 3×3"
    activation: str | None
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    param_count: int
    units: int | None          # flat output size; None for image-shaped outputs
    weights: np.ndarray | None = None      # dense (in, out), only for small layers
    bias: np.ndarray | None = None
    trainable: bool = True     # False: a frozen layer, its weights keep their start values


@dataclass(frozen=True)
class NetworkData:
    """The network as a diagram: input, layers, output."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: tuple[LayerInfo, ...]
    cost: str = ""
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()

    @property
    def param_count(self) -> int:
        return sum(layer.param_count for layer in self.layers)

    def structure(self) -> tuple:
        """What decides the diagram's layout; weights may change, this may not."""
        return (self.input_shape, self.input_names, self.output_names,
                tuple((l.kind, l.label, l.output_shape, l.weights is not None, l.trainable)
                      for l in self.layers))


# ---------------------------------------------------------------- data set access


def _attr(obj, *names):
    """The first of ``names`` that ``obj`` has (data sets spell splits variously)."""
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _splits(dataset):
    """(X_train, y_train, X_val, y_val) of a data set; validation may be empty."""
    X_train = _attr(dataset, "X_train", "x_train")
    y_train = _attr(dataset, "y_train", "Y_train")
    if X_train is None or y_train is None:
        raise SpecError("dataset", "has no training data (X_train, y_train)",
                        "pass the data set the network was trained on")
    X_val = _attr(dataset, "X_val", "x_val")
    y_val = _attr(dataset, "y_val", "Y_val")
    if X_val is None or y_val is None or len(X_val) == 0:
        X_val, y_val = X_train[:0], y_train[:0]
    return (np.asarray(X_train), np.asarray(y_train),
            np.asarray(X_val), np.asarray(y_val))


def _cost_name(net) -> str:
    cost = getattr(net, "cost_name", None) or getattr(net, "cost", "")
    return str(getattr(cost, "name", cost))


def _activation_name(layer) -> str | None:
    act = getattr(layer, "activation", None)
    return None if act is None else str(getattr(act, "name", act))


def _is_classification(net, dataset) -> bool:
    task = getattr(dataset, "task", None)
    if task:
        return str(task).startswith("class")
    return _cost_name(net) in CLASSIFICATION_COSTS


def _labels(y) -> np.ndarray:
    """Integer class labels from one-hot, (N, 1) 0/1 or (N,) targets."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return (np.rint(y.reshape(len(y))).astype(int) if y.size
            else np.zeros(0, dtype=int))


def _predicted_labels(out: np.ndarray) -> np.ndarray:
    out = out.reshape(len(out), -1)
    if out.shape[1] == 1:
        return (out[:, 0] > 0.5).astype(int)
    return np.argmax(out, axis=1)


def _class_probs(out: np.ndarray) -> np.ndarray:
    """Outputs as probabilities: p(class 1) for one output, else rows summing to 1."""
    out = np.nan_to_num(out.reshape(len(out), -1), nan=0.0, posinf=1.0, neginf=0.0)
    if out.shape[1] == 1:
        return np.clip(out[:, 0], 0.0, 1.0)
    p = np.clip(out, 0.0, None)
    total = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[1])
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), uniform)


def _class_names(dataset, n_classes: int) -> tuple[str, ...]:
    names = _attr(dataset, "class_names", "target_names")
    if names is not None and len(names) == n_classes:
        return tuple(str(n) for n in names)
    return tuple(str(i) for i in range(n_classes))


def _subsample(n: int, limit: int) -> np.ndarray:
    """Evenly spaced indices, at most ``limit`` of ``n`` (deterministic)."""
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


def _padded_range(values: np.ndarray, margin: float = 0.1) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = margin * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


# ---------------------------------------------------------------- contours


def contour_segments(values: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                     level: float = 0.0) -> np.ndarray:
    """Marching squares: where ``values[i, j]`` (at xs[j], ys[i]) crosses ``level``.

    Returns (2K, 2) points; rows 2k and 2k+1 are the ends of segment k.
    Vectorised, so a 80×80 grid takes well under a millisecond.
    """
    v = np.asarray(values, dtype=float) - level
    a, b, c, d = v[:-1, :-1], v[:-1, 1:], v[1:, 1:], v[1:, :-1]   # corners ccw from (i, j)
    x0, x1 = xs[None, :-1], xs[None, 1:]
    y0, y1 = ys[:-1, None], ys[1:, None]

    def crossing(p, q):
        """Fraction along p->q where the sign changes, NaN where it does not."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((p > 0) != (q > 0), p / (p - q), np.nan)

    t_bottom, t_right, t_top, t_left = crossing(a, b), crossing(b, c), crossing(d, c), crossing(a, d)
    points = np.stack([                          # (4 edges, rows, cols, xy)
        np.stack(np.broadcast_arrays(x0 + t_bottom * (x1 - x0), y0), -1),
        np.stack(np.broadcast_arrays(x1, y0 + t_right * (y1 - y0)), -1),
        np.stack(np.broadcast_arrays(x0 + t_top * (x1 - x0), y1), -1),
        np.stack(np.broadcast_arrays(x0, y0 + t_left * (y1 - y0)), -1)])
    points = points.reshape(4, -1, 2)
    crossed = ~np.isnan(points).any(axis=-1)     # (4, cells)
    count = crossed.sum(axis=0)
    segments = []
    two = np.flatnonzero(count == 2)
    if two.size:
        first = np.argmax(crossed[:, two], axis=0)
        second = 3 - np.argmax(crossed[::-1, two], axis=0)
        segments.append(np.stack([points[first, two], points[second, two]], axis=1))
    four = np.flatnonzero(count == 4)
    if four.size:
        # saddle: if the centre has a's sign, a and c connect and the lines cut
        # off corners b (bottom-right edges) and d (top-left); else a and c.
        centre = (a + b + c + d).reshape(-1)[four]
        joins_ac = (centre > 0) == (a.reshape(-1)[four] > 0)
        for cells, pairs in ((four[joins_ac], ((0, 1), (2, 3))),
                             (four[~joins_ac], ((0, 3), (1, 2)))):
            for e, f in pairs:
                segments.append(np.stack([points[e, cells], points[f, cells]], axis=1))
    if not segments:
        return np.zeros((0, 2))
    return np.concatenate(segments).reshape(-1, 2)


def _class_boundaries(probs: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Segments where the most probable class changes.

    Every boundary touches one of the classes 0..C-2, so the margins
    p_c - max(other p) of those classes find them all.
    """
    if probs.ndim == 2:
        return contour_segments(probs, xs, ys, 0.5)
    top_two = np.sort(probs, axis=-1)[..., -2:]
    winner = np.argmax(probs, axis=-1)
    pieces = []
    for c in range(probs.shape[-1] - 1):
        best_other = np.where(winner == c, top_two[..., 0], top_two[..., 1])
        pieces.append(contour_segments(probs[..., c] - best_other, xs, ys))
    return np.concatenate(pieces)


# ---------------------------------------------------------------- output data


def output_data(net, dataset, resolution: int = 80) -> OutputData:
    """The network's output in the form that suits the task and input size."""
    if resolution < 2:
        raise SpecError("resolution", f"must be at least 2, got {resolution}",
                        "use e.g. 80")
    X_train, y_train, X_val, y_val = _splits(dataset)
    n_inputs = int(np.prod(X_train.shape[1:]))
    if _is_classification(net, dataset):
        if X_train.ndim == 2 and n_inputs == 2:
            return _boundary(net, dataset, X_train, y_train, X_val, y_val, resolution)
        return _confusion(net, dataset, X_train, y_train, X_val, y_val)
    n_outputs = int(np.prod(np.shape(y_train)[1:])) if np.ndim(y_train) > 1 else 1
    if X_train.ndim == 2 and n_inputs == 1 and n_outputs == 1:
        return _curve(net, X_train, y_train, X_val, y_val, resolution)
    return _scatter(net, X_train, y_train, X_val, y_val)


def _eval_split(X_train, y_train, X_val, y_val):
    """The split the scores are computed on: validation, or train if there is none."""
    if len(X_val):
        return X_val, y_val, "validation"
    return X_train, y_train, "training"


def _n_classes(net, dataset, *label_arrays) -> int:
    """Classes: the data set's count, else what the outputs and labels imply."""
    declared = getattr(dataset, "n_classes", None)
    if isinstance(declared, int) and declared >= 2:
        return declared
    n_out = int(np.prod(net.output_shape))
    seen = max((int(l.max()) + 1 for l in label_arrays if l.size), default=2)
    return max(2 if n_out == 1 else n_out, seen)


def _boundary(net, dataset, X_train, y_train, X_val, y_val, resolution) -> OutputData:
    points = np.concatenate([X_train, X_val])
    xmin, xmax = _padded_range(points[:, 0])
    ymin, ymax = _padded_range(points[:, 1])
    xs = np.linspace(xmin, xmax, resolution)
    ys = np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)             # row i = ys[i], column j = xs[j]
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X_train.dtype, copy=False)
    X_eval, y_eval, split = _eval_split(X_train, y_train, X_val, y_val)
    out = np.asarray(net.forward(np.concatenate([grid, X_eval]), training=False))
    probs = _class_probs(out[: len(grid)])
    probs = probs.reshape(resolution, resolution, *probs.shape[1:])
    train_labels, val_labels = _labels(y_train), _labels(y_val)
    n_classes = _n_classes(net, dataset, train_labels, val_labels)
    accuracy = float(np.mean(_predicted_labels(out[len(grid):]) == _labels(y_eval)))
    keep = _subsample(len(X_train), MAX_TRAIN_POINTS)
    return OutputData(
        kind="boundary", n_classes=n_classes,
        class_names=_class_names(dataset, n_classes), accuracy=accuracy, split=split,
        extent=(xmin, xmax, ymin, ymax), probs=_frozen(probs),
        boundary_lines=_frozen(_class_boundaries(probs, xs, ys)),
        train_points=_frozen(X_train[keep]), train_labels=_frozen(train_labels[keep]),
        val_points=_frozen(X_val), val_labels=_frozen(val_labels), train_index=_frozen(keep))


def _confusion(net, dataset, X_train, y_train, X_val, y_val) -> OutputData:
    X_eval, y_eval, split = _eval_split(X_train, y_train, X_val, y_val)
    true = _labels(y_eval)
    predicted = _predicted_labels(np.asarray(net.forward(X_eval, training=False)))
    n_classes = _n_classes(net, dataset, true, _labels(y_train))
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true, np.clip(predicted, 0, n_classes - 1)), 1)
    accuracy = float(np.trace(matrix) / max(len(true), 1))
    return OutputData(kind="confusion", n_classes=n_classes,
                      class_names=_class_names(dataset, n_classes),
                      accuracy=accuracy, split=split, matrix=_frozen(matrix))


def _r2(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Coefficient of determination (1 is perfect, 0 is "predict the mean")."""
    if y_true.size < 2:
        return None
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    if total == 0.0:
        return None
    return 1.0 - float(np.sum((y_true - y_pred) ** 2)) / total


def _curve(net, X_train, y_train, X_val, y_val, resolution) -> OutputData:
    xmin, xmax = _padded_range(np.concatenate([X_train, X_val])[:, 0], margin=0.05)
    curve_x = np.linspace(xmin, xmax, max(resolution, 200))
    X_eval, y_eval, split = _eval_split(X_train, y_train, X_val, y_val)
    grid = curve_x[:, None].astype(X_train.dtype, copy=False)
    out = np.asarray(net.forward(np.concatenate([grid, X_eval]), training=False))
    out = out.reshape(len(out))
    keep = _subsample(len(X_train), MAX_TRAIN_POINTS)
    pairs = lambda X, y: np.column_stack([X[:, 0], np.reshape(y, len(y))])
    return OutputData(
        kind="curve", r2=_r2(np.reshape(y_eval, len(y_eval)), out[len(grid):]),
        split=split, curve_x=_frozen(curve_x), curve_y=_frozen(out[: len(grid)]),
        train_points=_frozen(pairs(X_train[keep], y_train[keep])),
        val_points=_frozen(pairs(X_val, y_val)))


def _scatter(net, X_train, y_train, X_val, y_val) -> OutputData:
    X_eval, y_eval, split = _eval_split(X_train, y_train, X_val, y_val)
    y_pred = np.asarray(net.forward(X_eval, training=False)).ravel()
    y_true = np.asarray(y_eval, dtype=float).ravel()
    return OutputData(kind="scatter", r2=_r2(y_true, y_pred), split=split,
                      y_true=_frozen(y_true), y_pred=_frozen(y_pred))


# ---------------------------------------------------------------- conv data


def _shape_text(shape) -> str:
    return "×".join(str(int(s)) for s in shape)


def layer_label(layer) -> str:
    """A short title for a layer: kind and size, e.g. "conv2d 8 × 3×3"."""
    kind = layer.kind
    spec = getattr(layer, "spec", None) or {}
    if kind == "dense":
        return f"dense {int(np.prod(layer.output_shape))}"
    if kind == "conv2d":
        out_c, _, kh, kw = layer.params["W"].shape
        return f"conv2d {out_c} × {kh}×{kw}"
    if kind in ("maxpool2d", "avgpool2d"):
        size = spec.get("size", "")
        return f"{kind[:3]} pool {size}×{size}" if size else f"{kind[:3]} pool"
    if kind == "dropout":
        rate = spec.get("rate")
        return f"dropout {rate:g}" if isinstance(rate, (int, float)) else "dropout"
    if kind == "activation":
        return _activation_name(layer) or "activation"
    return kind


def conv_data(net, image) -> ConvData:
    """Kernels and feature maps of every conv2d layer for one image (C, H, W)."""
    image = np.asarray(image)
    in_shape = tuple(net.input_shape)
    if image.shape != in_shape:
        if image.size != int(np.prod(in_shape)):
            raise SpecError("image", f"has shape {image.shape}, the network takes "
                            f"{in_shape}", "choose an image of the network's data set")
        image = image.reshape(in_shape)
    activations = net.activations(image[None])
    layers = []
    for index, layer in enumerate(net.layers):
        if layer.kind != "conv2d":
            continue
        name = f"{index}: {layer_label(layer)}"
        if _activation_name(layer):
            name += f", {_activation_name(layer)}"
        layers.append(ConvLayerData(index=index, name=name,
                                    kernels=_frozen(layer.params["W"]),
                                    maps=_frozen(np.asarray(activations[index])[0])))
    return ConvData(image=_frozen(image), layers=tuple(layers))


# ---------------------------------------------------------------- network data


def _flat_size(shape) -> int | None:
    return int(shape[0]) if len(shape) == 1 else None


def network_data(net, input_names=None, output_names=None) -> NetworkData:
    """The layers as a diagram; small dense layers carry their weights for edges."""
    infos = []
    for index, layer in enumerate(net.layers):
        units = _flat_size(tuple(layer.output_shape))
        weights = bias = None
        if layer.kind == "dense":
            W = layer.params["W"]
            if W.shape[0] <= MAX_NODES and W.shape[1] <= MAX_NODES:
                weights, bias = _frozen(W), _frozen(layer.params["b"])
        infos.append(LayerInfo(
            index=index, kind=layer.kind, label=layer_label(layer),
            activation=_activation_name(layer),
            input_shape=tuple(int(s) for s in layer.input_shape),
            output_shape=tuple(int(s) for s in layer.output_shape),
            param_count=int(layer.param_count), units=units,
            weights=weights, bias=bias, trainable=layer.trainable))
    return NetworkData(
        input_shape=tuple(int(s) for s in net.input_shape),
        output_shape=tuple(int(s) for s in net.output_shape),
        layers=tuple(infos), cost=_cost_name(net),
        input_names=tuple(str(n) for n in (input_names or ())),
        output_names=tuple(str(n) for n in (output_names or ())))


def view_data(name: str, network, dataset, image=None):
    """The data of the heavy view ``name`` ("output", "network" or "conv").

    ``image`` is the conv view's input; by default the first validation image.
    """
    if name == "output":
        return output_data(network, dataset)
    if name == "network":
        names = tuple(dataset.class_names or ())
        outputs = names if len(names) == int(np.prod(network.output_shape)) else ()
        return network_data(network, output_names=outputs)
    if image is None:
        image = (dataset.X_val if len(dataset.X_val) else dataset.X_train)[0]
    return conv_data(network, image)

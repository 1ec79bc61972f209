"""The catalogue of every choice nnviz offers, declared once.

Layer types, activations, costs, initialisations, optimisers, model and
training settings: each parameter with its kind, default, range or choices and
a one-line help.  The engine validates specs against these declarations (an
omitted parameter means its default), the GUI builds its editors, tooltips and
defaults from them, and :func:`describe` hands the whole catalogue out as plain
JSON for scripts and documentation.  Data-set parameters live beside their
builders in ``datasets.py`` and use the same :class:`Param`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Mapping

from .errors import SpecError

__all__ = ["Param", "TINY", "Entry", "describe", "LAYERS", "ACTIVATIONS", "COSTS", "COST_ALIASES",
           "INITS", "OPTIMIZERS", "SCHEDULES", "MODEL", "TRAINING", "check_params"]


#: How an open end of a range is held, by the engine and by every editor alike: a
#: range "(0, x]" starts at TINY, one "[0, 1)" ends a millionth below 1.  The editors
#: hold any number from TINY up exactly, so a value the engine accepts is shown as it is.
TINY = 1e-300
BELOW_OPEN_END = 1e-6
MAX_KERNEL_SIDE = 64            # as a conv2d kernel_size


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is "int", "float", "choice", "padding", "text", "bool",
    "list" or "kernel".

    A "list" holds values of kind ``item`` ("int" or "text"), each checked
    against this parameter's range (e.g. a schedule's milestones).  A "kernel" is a
    square K x K list of lists of numbers in this parameter's range, K at most
    MAX_KERNEL_SIDE (a conv2d layer's hand-set starting weights).

    Numbers lie in [low, high] (an end is excluded when ``low_open`` or
    ``high_open``); ``scale="log"`` marks a number spanning decades (the GUI
    gives it a logarithmic editor); ``nullable`` allows null (e.g. "off");
    ``default_from`` names a sibling parameter whose value is the default
    (a pooling stride defaults to the window size); ``omit_default`` keeps a
    rarely used option out of a normalised spec (and out of ``Entry.defaults``)
    while it is at its default, so files that never set it stay as they were.
    """

    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    scale: str = "linear"
    nullable: bool = False
    default_from: str | None = None
    label: str = ""
    item: str = ""
    omit_default: bool = False

    def check(self, value: Any, where: str) -> Any:
        """``value`` normalised (int, float, str or None), or SpecError naming ``where``."""
        if value is None and self.nullable:
            return None
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise SpecError(where, f"unknown value {value!r}",
                            "choose one of: " + ", ".join(map(str, self.choices)))
        if self.kind == "padding":
            if value in ("valid", "same"):
                return value
            if isinstance(value, Integral) and not isinstance(value, bool) and 0 <= value <= self.high:
                return int(value)
            raise SpecError(where, f"unknown padding {value!r}",
                            f'use "valid", "same" or a whole number of pixels from 0 to {self.high:g}')
        if self.kind == "text":
            if isinstance(value, str):
                return value
            raise SpecError(where, f"must be text, got {value!r}", "write it in double quotes")
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise SpecError(where, f"must be true or false, got {show_value(value)}",
                            "write true or false, without quotes")
        if self.kind == "list":
            return self._check_list(value, where)
        if self.kind == "kernel":
            return self._check_kernel(value, where)
        return self._check_number(value, where)

    def _check_list(self, value: Any, where: str) -> list:
        if not isinstance(value, (list, tuple)):
            raise SpecError(where, f"must be a list, got {show_value(value)}",
                            "write it in square brackets, e.g. [10, 20]")
        item = Param(self.item, None, self.help, self.low, self.high, self.low_open,
                     self.high_open)
        return [item.check(v, f"{where}[{i}]") for i, v in enumerate(value)]

    def _check_kernel(self, value: Any, where: str) -> list[list[float]]:
        """A square list of rows of numbers; its size is checked before its values."""
        fix = "write K rows of K numbers, e.g. [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]"
        if not isinstance(value, (list, tuple)) or not value:
            raise SpecError(where, f"must be a square list of rows, got {show_value(value)}", fix)
        k = len(value)
        if k > MAX_KERNEL_SIDE:
            raise SpecError(where, f"has {k} rows; a kernel has at most {MAX_KERNEL_SIDE}", fix)
        for r, row in enumerate(value):
            if not isinstance(row, (list, tuple)) or len(row) != k:
                got = (f"{len(row)} number{'s' if len(row) != 1 else ''}"
                       if isinstance(row, (list, tuple)) else show_value(row))
                raise SpecError(f"{where}[{r}]", f"must be a row of {k} numbers (the kernel "
                                f"has {k} rows), got {got}", fix)
        item = Param("float", None, self.help, self.low, self.high)
        return [[item.check(v, f"{where}[{r}][{c}]") for c, v in enumerate(row)]
                for r, row in enumerate(value)]

    def _check_number(self, value: Any, where: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, Real):
            noun = "a whole number" if self.kind == "int" else "a number"
            raise SpecError(where, f"must be {noun}, got {show_value(value)}", self.range_text())
        if not isinstance(value, Integral):
            if not math.isfinite(float(value)):
                raise SpecError(where, f"must be a finite number, got {value!r}", self.range_text())
            if self.kind == "int" and not float(value).is_integer():
                raise SpecError(where, f"must be a whole number, got {value!r}", self.range_text())
        if not self.contains(value):    # before any conversion: a huge int stays exact
            raise SpecError(where, f"{show_value(value)} is out of range: it "
                            f"{self._violation(value)}", self.range_text())
        value = int(value) if self.kind == "int" else float(value)
        return value

    def bounds(self) -> tuple[float | None, float | None]:
        """The closed range values must lie in, which every editor of this parameter
        takes as its own: an open end moved just inside (TINY, BELOW_OPEN_END)."""
        low, high = self.low, self.high
        if low is not None and self.low_open:
            low = low + max(abs(low) * BELOW_OPEN_END, TINY)
        if high is not None and self.high_open:
            high = high - max(abs(high), 1.0) * BELOW_OPEN_END
        return low, high

    def contains(self, value: float) -> bool:
        """``value`` lies inside the parameter's range (its ``bounds``)."""
        low, high = self.bounds()
        return (low is None or value >= low) and (high is None or value <= high)

    def _violation(self, value: float) -> str:
        low, high = self.bounds()
        if low is not None and value < low:
            if self.low_open and value <= self.low:
                return f"must be greater than {self.low:g}"
            return f"must be at least {low:g}" + (" (the smallest value nnviz holds)"
                                                   if self.low_open else "")
        if self.high_open and value >= self.high:
            return f"must be less than {self.high:g}"
        return f"must be at most {high:g}" + (f" (the closest to {self.high:g} nnviz holds)"
                                               if self.high_open else "")

    def interval(self) -> str:
        """The range in interval notation, e.g. "[0, 1)"."""
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"

    def range_text(self) -> str:
        """How to fix an out-of-range value, in words."""
        noun = "a whole number" if self.kind == "int" else "a number"
        closed = not (self.low_open or self.high_open) and None not in (self.low, self.high)
        where = f"from {self.low:g} to {self.high:g}" if closed else f"in {self.interval()}"
        return f"use {noun} {where}" + (", or null for off" if self.nullable else "")

    def to_dict(self) -> dict:
        """A JSON-able description (what ``describe`` lists)."""
        d: dict[str, Any] = {"kind": self.kind, "default": self.default, "help": self.help}
        if self.label:
            d["label"] = self.label
        if self.item:
            d["item"] = self.item
        if self.kind in ("int", "float", "padding", "kernel") or self.item in ("int", "float"):
            d["range"] = [self.low, self.high]
            if self.low_open or self.high_open:
                d["open"] = [self.low_open, self.high_open]
        if self.choices:
            d["choices"] = list(self.choices)
        if self.scale != "linear":
            d["scale"] = self.scale
        if self.nullable:
            d["nullable"] = True
        if self.default_from:
            d["default_from"] = self.default_from
        if self.omit_default:
            d["optional"] = True
        return d


@dataclass(frozen=True)
class Entry:
    """One choice of a section (a layer type, an optimiser...): its parameters."""

    label: str
    help: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def defaults(self) -> dict:
        """Every parameter at its default (``default_from`` resolved), as a normalised
        spec holds them: without the ``omit_default`` ones."""
        values = {k: p.default for k, p in self.params.items()
                  if not (p.default_from or p.omit_default)}
        values.update({k: values[p.default_from] for k, p in self.params.items() if p.default_from})
        return values

    def to_dict(self) -> dict:
        return {"label": self.label, "help": self.help,
                "params": {k: p.to_dict() for k, p in self.params.items()}}


def check_params(entry: Entry, spec: Mapping, prefix: str, *, skip: tuple = ()) -> dict:
    """The values of ``entry``'s parameters in ``spec``, checked, defaults filled in
    (an ``omit_default`` parameter only when it is given and not at its default).

    Keys other than the entry's parameters (and ``skip``) are refused with a
    SpecError naming ``prefix.key``.
    """
    for key in spec:
        if key not in entry.params and key not in skip:
            allowed = ", ".join(entry.params) or "none"
            raise SpecError(f"{prefix}.{key}", f"unknown key {key!r}",
                            f"allowed keys: {allowed}")
    values = {}
    for key, param in entry.params.items():
        if key in spec:
            value = param.check(spec[key], f"{prefix}.{key}")
            if not (param.omit_default and value == param.default):
                values[key] = value
        elif param.omit_default:
            continue
        elif param.default_from:
            values[key] = values[param.default_from]
        else:
            values[key] = param.default
    return values


def show_value(value: Any, limit: int = 60) -> str:
    """A short repr for messages (safe for huge numbers and long strings)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --------------------------------------------------------------------------- activations
_ALPHA_LEAKY = Param("float", 0.01, "slope for negative inputs", 0.0, 1e6, label="alpha")
_ALPHA_ELU = Param("float", 1.0, "scale of the negative branch", 0.0, 1e6, label="alpha")

ACTIVATIONS: dict[str, Entry] = {
    "identity": Entry("identity", "a = z (linear): regression outputs, or before batch norm"),
    "sigmoid": Entry("sigmoid", "a = 1/(1+e^-z), in (0, 1): saturates for large |z|, "
                     "gradients vanish in deep stacks"),
    "tanh": Entry("tanh", "a = tanh z, in (-1, 1): zero-centred, still saturates"),
    "relu": Entry("ReLU", "a = max(0, z): no saturation for z > 0; units can die"),
    "leaky_relu": Entry("leaky ReLU", "a = z for z > 0, alpha*z otherwise: never quite dead",
                        {"alpha": _ALPHA_LEAKY}),
    "elu": Entry("ELU", "a = z for z > 0, alpha*(e^z - 1) otherwise: smooth, mean near 0",
                 {"alpha": _ALPHA_ELU}),
    "softmax": Entry("softmax", "a_i = e^z_i / sum e^z_j: class probabilities (output layer)"),
}
ACTIVATION_NAMES = tuple(ACTIVATIONS)


# --------------------------------------------------------------------------- layers
def _activation(default: str) -> Param:
    return Param("choice", default, 'activation function a = f(z); or a formula in x, '
                 'e.g. {"formula": "x * sigmoid(x)"}', choices=ACTIVATION_NAMES,
                 label="activation")


_SIZE_LIMIT = 2 ** 31 - 1     # units, filters: the memory check refuses what does not fit
_POOL_PARAMS = {
    "size": Param("int", 2, "side of the pooling window", 1, 64, label="size"),
    "stride": Param("int", 2, "step between windows (default: the window size)", 1, 64,
                    default_from="size", label="stride"),
}

LAYERS: dict[str, Entry] = {
    "dense": Entry("dense", "fully connected: every input to every neuron", {
        "units": Param("int", 16, "number of neurons", 1, _SIZE_LIMIT, label="units"),
        "activation": _activation("identity")}),
    "conv2d": Entry("conv2d", "2-D convolution: small kernels slid over the image", {
        "filters": Param("int", 8, "number of kernels = output channels", 1, _SIZE_LIMIT,
                         label="filters"),
        "kernel_size": Param("int", 3, "kernel side in pixels", 1, MAX_KERNEL_SIDE,
                             label="kernel"),
        "stride": Param("int", 1, "step between kernel positions", 1, 64, label="stride"),
        "padding": Param("padding", "valid", 'border of zeros around the input: "same" keeps '
                         'the size, "valid" adds none, or a number of pixels', 0, 64,
                         label="padding"),
        "activation": _activation("identity"),
        "kernel": Param("kernel", None, "hand-set starting weights: K rows of K numbers "
                        "(K = kernel_size), the same kernel for every input channel of every "
                        "filter (e.g. a Sobel edge detector); null: drawn by the "
                        "initialisation", -1e6, 1e6, nullable=True, omit_default=True,
                        label="kernel"),
        "trainable": Param("bool", True, "false freezes the layer: its weights and biases "
                           "keep their starting values (their gradients are still computed "
                           "and shown)", omit_default=True, label="trainable")}),
    "maxpool2d": Entry("max pool", "keeps the largest value of each window", _POOL_PARAMS),
    "avgpool2d": Entry("average pool", "averages each window", _POOL_PARAMS),
    "flatten": Entry("flatten", "turns an image (C, H, W) into a flat vector"),
    "dropout": Entry("dropout", "randomly zeroes units while training (regularisation)", {
        "rate": Param("float", 0.5, "fraction of units dropped while training", 0.0, 1.0,
                      high_open=True, label="rate")}),
    "batchnorm": Entry("batch norm", "normalises each feature (or channel) over the mini-batch", {
        "momentum": Param("float", 0.1, "weight of a new batch in the running mean and "
                          "variance used at evaluation", 0.0, 1.0, label="momentum"),
        "eps": Param("float", 1e-5, "added to the variance before the square root", 0.0, 1.0,
                     low_open=True, high_open=True, scale="log", label="eps")}),
    "activation": Entry("activation", "a standalone activation function (e.g. after batch norm)",
                        {"activation": _activation("relu")}),
}
#: layer types whose spec carries an activation (and its options, e.g. alpha)
ACTIVATED_LAYERS = tuple(k for k, e in LAYERS.items() if "activation" in e.params)


# --------------------------------------------------------------------------- costs, init
COSTS: dict[str, Entry] = {
    "mse": Entry("Mean squared error", "regression (also works for classification)"),
    "bce": Entry("Binary cross-entropy", "two classes, one sigmoid output"),
    "cross_entropy": Entry("Cross-entropy", "several classes, softmax output"),
}
COST_ALIASES = {"ols": "mse", "logreg": "bce"}

INITS: dict[str, Entry] = {
    "normal": Entry("normal  N(0, 1)", "every weight from N(0, 1): saturates sigmoid units, "
                    "explodes tanh and ReLU gradients in deep nets"),
    "standard": Entry("standard  U(±1/√n_in)", "Glorot & Bengio's 'standard' initialisation: "
                      "vanishing gradients with sigmoid"),
    "xavier": Entry("Xavier / Glorot", "U(±√(6/(n_in+n_out))): keeps the variance for tanh "
                    "and sigmoid"),
    "he": Entry("He / Kaiming", "N(0, 2/n_in): keeps the variance for ReLU"),
}


# --------------------------------------------------------------------------- optimisers
def _eta(default: float) -> Param:
    return Param("float", default, "learning rate η: the size of each step", 0.0, 1e6,
                 low_open=True, scale="log", label="learning rate η")


def _decay(default: float, help_text: str, label: str) -> Param:
    return Param("float", default, help_text, 0.0, 1.0, high_open=True, label=label)


_MOMENTUM = _decay(0.9, "fraction of the previous step kept (velocity decay)", "momentum")
_RHO_RMS = _decay(0.99, "decay of the running average of squared gradients", "ρ")
_RHO_ADAM = _decay(0.9, "decay of the running average of the gradients (first moment)", "ρ")
_RHO2 = _decay(0.999, "Adam: decay of the running average of squared gradients", "ρ₂")
_EPS = Param("float", 1e-8, "added to the square root in the denominator, avoids division "
             "by zero", 0.0, 1.0, low_open=True, scale="log", label="ε")

OPTIMIZERS: dict[str, Entry] = {
    "constant": Entry("SGD (constant η)", "plain gradient descent: p -= η·g",
                      {"eta": _eta(0.01)}),
    "momentum": Entry("SGD with momentum", "v = momentum·v + g; p -= η·v: rolls through "
                      "flat regions and ravines", {"eta": _eta(0.01), "momentum": _MOMENTUM}),
    "adagrad": Entry("Adagrad", "per-weight rate η/√(sum of g²): big steps for rare features, "
                     "ever smaller steps", {"eta": _eta(0.01), "eps": _EPS}),
    "adagrad_momentum": Entry("Adagrad with momentum", "Adagrad's scaled direction with "
                              "heavy-ball momentum",
                              {"eta": _eta(0.01), "momentum": _MOMENTUM, "eps": _EPS}),
    "rmsprop": Entry("RMSprop", "per-weight rate η/√(running average of g²): adapts, "
                     "does not fade", {"eta": _eta(0.001), "rho": _RHO_RMS, "eps": _EPS}),
    "adam": Entry("Adam", "momentum plus RMSprop scaling with bias correction: a robust default",
                  {"eta": _eta(0.001), "rho": _RHO_ADAM, "rho2": _RHO2, "eps": _EPS}),
}


# --------------------------------------------------------------------------- schedules
_GAMMA = "factor the rate is multiplied by"
_EPOCHS_LIMIT = 1_000_000       # as MAX_COUNT below: the longest run

SCHEDULES: dict[str, Entry] = {
    "constant": Entry("constant", "the same learning rate η every epoch"),
    "step": Entry("step (StepLR)", "η·γ^⌊epoch/step_size⌋: multiply by γ every step_size epochs", {
        "step_size": Param("int", 10, "epochs between two decays", 1, _EPOCHS_LIMIT,
                           label="step size"),
        "gamma": Param("float", 0.1, _GAMMA + " at each step", 0.0, 1e6, label="γ")}),
    "multistep": Entry("multistep (MultiStepLR)", "multiply by γ at each milestone epoch", {
        "milestones": Param("list", [10, 20], "epochs at which the rate is multiplied by γ, "
                            "increasing", 1, _EPOCHS_LIMIT, item="int", label="milestones"),
        "gamma": Param("float", 0.1, _GAMMA + " at each milestone", 0.0, 1e6, label="γ")}),
    "exponential": Entry("exponential (ExponentialLR)", "η·γ^epoch: multiply by γ every epoch", {
        "gamma": Param("float", 0.9, _GAMMA + " every epoch", 0.0, 1e6, label="γ")}),
    "cosine": Entry("cosine (CosineAnnealingLR)", "from η down to eta_min along half a cosine "
                    "over t_max epochs: η_min + (η − η_min)(1 + cos(π·epoch/t_max))/2", {
        "t_max": Param("int", 30, "epochs of the half cosine (η_min is reached at t_max)",
                       1, _EPOCHS_LIMIT, label="t_max"),
        "eta_min": Param("float", 0.0, "the smallest learning rate", 0.0, 1e6, label="η_min")}),
    "linear": Entry("linear warm-up (LinearLR)", "η times a factor going linearly from "
                    "start_factor to end_factor over total_iters epochs, then constant", {
        "start_factor": Param("float", 1 / 3, "factor of η in the first epoch", 0.0, 1.0,
                              low_open=True, label="start factor"),
        "end_factor": Param("float", 1.0, "factor of η from epoch total_iters on", 0.0, 1.0,
                            label="end factor"),
        "total_iters": Param("int", 5, "epochs until end_factor is reached", 1, _EPOCHS_LIMIT,
                             label="total epochs")}),
}
DEFAULT_SCHEDULE = "constant"


# --------------------------------------------------------------------------- model, training
MAX_COUNT = 1_000_000           # upper bound for epochs and batch_size

MODEL: dict[str, Param] = {
    "cost": Param("choice", "mse", "the cost C minimised by training", choices=tuple(COSTS),
                  label="cost"),
    "init": Param("choice", "xavier", "how the weights start (biases start at 0)",
                  choices=tuple(INITS), label="initialisation"),
    "seed": Param("int", 0, "random seed of the initial weights, dropout and shuffling",
                  0, 2 ** 31 - 1, label="seed"),
    "dtype": Param("choice", "float64", "floating-point precision of training: float32 is "
                   "about twice as fast on large networks, float64 keeps every lesson's "
                   "numbers exact (the gradient check always uses float64)",
                   choices=("float64", "float32"), label="precision"),
}

TRAINING: dict[str, Param] = {
    "epochs": Param("int", 30, "passes over the training set", 1, MAX_COUNT, label="epochs"),
    "batch_size": Param("int", 32, "samples per gradient step (mini-batch)", 1, MAX_COUNT,
                        label="batch size"),
    "l2": Param("float", 0.0, "L2 weight decay λ: adds (λ/2)·ΣW² to the cost", 0.0, 1e6,
                scale="log", label="L2 λ"),
    "clip_norm": Param("float", None, "clip the global gradient norm to this value "
                       "(null: no clipping)", 0.0, 1e12, low_open=True, scale="log",
                       nullable=True, label="clip norm"),
}
#: The window's training speed (steps per second; null: flat out).  Only kept when an
#: experiment gives it: a preset's lesson is visible at its pace; scripts and the CLI
#: train flat out whatever it says.
PACE = Param("float", None, "steps per second the window trains at, so a class can follow "
             "(null: as fast as possible); scripts and the command line ignore it",
             0.0, 1e6, low_open=True, scale="log", nullable=True, label="pace")
DEFAULT_OPTIMIZER = "adam"


# --------------------------------------------------------------------------- describe
def describe() -> dict:
    """The whole catalogue as a JSON-serialisable dict.

    Sections: layers, activations, costs, init, optimizers, schedules, datasets,
    model, training; each choice has a label, a one-line help and its parameters
    (kind, default, range or choices, help).  Omitted in a spec = the default.
    """
    from .datasets import CSV_DESCRIPTION, CSV_PARAMS, DATASETS, PARAMS   # load on demand

    def section(entries: Mapping[str, Entry]) -> dict:
        return {name: entry.to_dict() for name, entry in entries.items()}

    return {
        "layers": section(LAYERS),
        "activations": section(ACTIVATIONS),
        "costs": {**section(COSTS), **{alias: {"alias_of": name}
                                        for alias, name in COST_ALIASES.items()}},
        "init": section(INITS),
        "optimizers": section(OPTIMIZERS),
        "schedules": section(SCHEDULES),
        "datasets": {name: {"label": name, "help": DATASETS[name],
                            "params": {k: p.to_dict() for k, p in PARAMS[name].items()}}
                     for name in DATASETS} | {
                         "csv": {"label": "CSV file", "help": CSV_DESCRIPTION,
                                 "params": {k: p.to_dict() for k, p in CSV_PARAMS.items()}}},
        "model": {k: p.to_dict() for k, p in MODEL.items()},
        "training": {**{k: p.to_dict() for k, p in TRAINING.items()}, "pace": PACE.to_dict(),
                     "optimizer": {"kind": "choice", "default": DEFAULT_OPTIMIZER,
                                   "choices": list(OPTIMIZERS),
                                   "help": "the update rule; its parameters are under "
                                           "'optimizers'"},
                     "schedule": {"kind": "choice", "default": DEFAULT_SCHEDULE,
                                  "choices": list(SCHEDULES),
                                  "help": "how the learning rate changes per epoch (PyTorch's "
                                          "lr_scheduler); its parameters are under "
                                          "'schedules'"}},
    }

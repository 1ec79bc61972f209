"""The network: a validated stack of layers with a cost, trained by back propagation."""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np

from .catalogue import COST_ALIASES, MODEL
from .costs import make_cost
from .errors import SpecError
from .layers import ActivatedLayer, make_layer
from .numerics import sum_of_squares

SPEC_KEYS = {"input_shape", "layers", "cost", "init", "seed", "dtype"}
# Training memory for a batch of this many samples must fit in the memory budget.
_MEMORY_BATCH = 256
#: The most memory a network may need, however large the machine: nnviz trains small
#: networks to watch them learn; a bigger one would only freeze and swap.
MEMORY_CAP = 4 << 30
RUNNING_STATISTICS = ("running_mean", "running_var")   # state besides params (batch norm)


def _machine_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def memory_budget() -> int:
    """Bytes a network may need to train: half the machine's memory, at most MEMORY_CAP."""
    return min(_machine_memory() // 2, MEMORY_CAP)


def _size_text(n_bytes: float) -> str:
    """'3.9 GiB', '120 MiB'."""
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


class Network:
    """A feed-forward network built from a model spec (see docs/DESIGN.md)."""

    def __init__(self, layers, input_shape, cost, init, seed, dtype="float64"):
        self.layers = layers
        self.dtype = np.dtype(dtype)   # of parameters, activations, gradients
        self.input_shape = tuple(input_shape)
        self.cost_name = cost
        self.cost = make_cost(cost)
        self.init = init
        self.seed = seed
        self.output_shape = layers[-1].output_shape if layers else self.input_shape

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_spec(cls, spec: dict) -> "Network":
        """Validate ``spec`` and build the network; raises SpecError naming the field."""
        return cls.plan(spec).build()

    @staticmethod
    def plan(spec: dict) -> "NetworkPlan":
        """Validate ``spec`` from shapes alone: no parameter is allocated, so a network
        too large for the machine is refused (SpecError naming the layer) before it is
        built, and a large valid one costs nothing to check."""
        if not isinstance(spec, dict):
            raise SpecError("model", f"must be an object, got {type(spec).__name__}",
                            "see the model spec in the documentation")
        for key in spec:
            if key not in SPEC_KEYS:
                raise SpecError(f"model.{key}", "unknown key", f"allowed keys: {', '.join(sorted(SPEC_KEYS))}")
        input_shape = _parse_input_shape(spec.get("input_shape"))
        cost = spec.get("cost", MODEL["cost"].default)
        cost = MODEL["cost"].check(COST_ALIASES.get(cost, cost) if isinstance(cost, str) else cost,
                                   "cost")
        init = MODEL["init"].check(spec.get("init", MODEL["init"].default), "init")
        seed = MODEL["seed"].check(spec.get("seed", MODEL["seed"].default), "seed")
        dtype = MODEL["dtype"].check(spec.get("dtype", MODEL["dtype"].default), "dtype")
        layer_specs = spec.get("layers")
        if not isinstance(layer_specs, list) or not layer_specs:
            raise SpecError("layers", "the network needs at least one layer",
                            'add e.g. {"type": "dense", "units": 2, "activation": "softmax"}')
        layers = [make_layer(s, i) for i, s in enumerate(layer_specs)]
        shape = input_shape
        for layer in layers:
            shape = layer.infer_output_shape(shape)
            layer.output_shape = shape
        plan = NetworkPlan(layers, input_shape, cost, init, int(seed), np.dtype(dtype))
        _check_memory(plan)
        _check_output(layers[-1], cost)
        return plan

    def to_spec(self) -> dict:
        return {"input_shape": list(self.input_shape),
                "layers": [layer.to_spec() for layer in self.layers],
                "cost": self.cost_name, "init": self.init, "seed": self.seed,
                "dtype": self.dtype.name}

    # ------------------------------------------------------------------ computation
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """The output activations for a batch X of shape (N,) + input_shape."""
        out = self._check_input(X)
        for layer in self.layers:
            out = layer.forward(out, training)
        return out

    def activations(self, X: np.ndarray) -> list[np.ndarray]:
        """The output of every layer at evaluation, in order (copies)."""
        outputs, out = [], self._check_input(X)
        for layer in self.layers:
            out = layer.forward(out, False)
            outputs.append(np.array(out, copy=True))
        return outputs

    def cost_value(self, output: np.ndarray, Y: np.ndarray) -> float:
        """The cost of ``output`` against targets Y (no L2 term)."""
        return self.cost.value(output, self.as_dtype(Y))

    def l2_penalty(self) -> float:
        """sum over dense and conv weights of W^2 (multiply by l2/2 for the cost)."""
        return sum(sum_of_squares(w) for w in self.weight_matrices())

    def weight_matrices(self):
        return [layer.params["W"] for layer in self.layers if "W" in layer.params]

    def compute_gradients(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0) -> float:
        """Forward (training) and back propagation: fills every layer.grads.

        Returns the cost of the batch, L2 term (l2/2)*sum W^2 included.
        """
        output = self.forward(X, training=True)
        last = self.layers[-1]
        loss, grad, is_delta = self.output_gradient(output, self.as_dtype(Y))
        if is_delta:
            grad = last.backward_delta(grad, len(self.layers) > 1)
        else:
            grad = last.backward(grad, len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            grad = self.layers[i].backward(grad, i > 0)
        if l2:
            for layer in self.layers:
                if "W" in layer.params:
                    w = layer.params["W"]
                    layer.grads["W"] += l2 * w
                    loss += 0.5 * l2 * sum_of_squares(w)
        return loss

    def output_gradient(self, output: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray, bool]:
        """Where back propagation starts, after a forward pass that gave ``output``.

        Returns (cost without L2, gradient, is_delta).  For softmax + cross-entropy
        and sigmoid + bce the gradient is already dC/dz of the last layer,
        (a - y) / N (``is_delta``); otherwise it is dC/da.
        """
        last = self.layers[-1]
        if self._fused(last):
            return self.cost.value_from_logits(last.z, Y), (output - Y) / len(output), True
        return self.cost.value(output, Y), self.cost.gradient(output, Y), False

    def copy(self, dtype: str | None = None) -> "Network":
        """An independent network computing the same function: same spec, parameters
        and batch-norm running statistics; no cached batch, grads at zero.

        ``dtype`` ("float32" or "float64") gives the copy another precision, e.g. a
        float64 copy of a float32 network for the gradient check.
        """
        spec = self.to_spec() if dtype is None else {**self.to_spec(), "dtype": dtype}
        twin = Network.from_spec(spec)
        for mine, theirs in zip(self.layers, twin.layers):
            for name, value in mine.params.items():
                np.copyto(theirs.params[name], value)
            for name in RUNNING_STATISTICS:
                if hasattr(mine, name):
                    np.copyto(getattr(theirs, name), getattr(mine, name))
        return twin

    def _fused(self, last) -> bool:
        act = last.activation
        return act is not None and act.name == self.cost.fused_activation

    def as_dtype(self, array: np.ndarray) -> np.ndarray:
        """``array`` in the network's dtype (itself when it already is: no copy)."""
        return np.asarray(array, dtype=self.dtype)

    def _check_input(self, X):
        """X in the network's dtype; SpecError if its sample shape does not fit."""
        if X.ndim != len(self.input_shape) + 1 or X.shape[1:] != self.input_shape:
            raise SpecError("input", f"expected a batch of shape (N, {', '.join(map(str, self.input_shape))}),"
                            f" got {X.shape}", "give the model's input_shape the data's sample shape")
        return self.as_dtype(X)

    @property
    def weighted_layers(self) -> list:
        """Layers with a weight matrix (dense and conv2d): the ones probes report."""
        return [layer for layer in self.layers if "W" in layer.params]

    @property
    def param_count(self) -> int:
        return sum(layer.param_count for layer in self.layers)

    @property
    def sample_bytes(self) -> int:
        """Bytes a training pass keeps per sample (activations, gradients, im2col columns)."""
        values = int(np.prod(self.input_shape)) + sum(
            layer_sizes(layer, layer.input_shape)[1] for layer in self.layers)
        return self.dtype.itemsize * values


class NetworkPlan:
    """A checked model spec before any parameter exists (``Network.plan``): every
    layer's output shape, parameter count and training memory, from shapes alone."""

    def __init__(self, layers, input_shape, cost, init, seed, dtype):
        self.layers, self.input_shape = layers, tuple(input_shape)
        self.cost, self.init, self.seed, self.dtype = cost, init, seed, np.dtype(dtype)
        self.output_shape = layers[-1].output_shape
        shapes = [self.input_shape] + [layer.output_shape for layer in layers[:-1]]
        #: (parameters, values per sample) of every layer
        self.sizes = [layer_sizes(layer, shape) for layer, shape in zip(layers, shapes)]

    @property
    def param_counts(self) -> list[int]:
        return [params for params, _ in self.sizes]

    @property
    def param_count(self) -> int:
        return sum(self.param_counts)

    def layer_bytes(self) -> list[tuple[int, int]]:
        """(weights, batch values) per layer: bytes of its parameters, gradients and
        optimiser state, and of its values for a batch of _MEMORY_BATCH samples."""
        item = self.dtype.itemsize
        return [(item * 4 * params, item * _MEMORY_BATCH * values) for params, values in self.sizes]

    @property
    def memory(self) -> int:
        """Bytes training is estimated to need (the input batch included)."""
        inputs = self.dtype.itemsize * _MEMORY_BATCH * int(np.prod(self.input_shape))
        return inputs + sum(w + v for w, v in self.layer_bytes())

    def to_spec(self) -> dict:
        return {"input_shape": list(self.input_shape),
                "layers": [layer.to_spec() for layer in self.layers],
                "cost": self.cost, "init": self.init, "seed": self.seed,
                "dtype": self.dtype.name}

    def build(self) -> Network:
        """The network, its parameters drawn from the seed (the plan's layers become its)."""
        rng = np.random.default_rng(self.seed)
        shape = self.input_shape
        for layer in self.layers:
            layer.dtype = self.dtype
            shape = layer.build(shape, rng, self.init)
        return Network(self.layers, self.input_shape, self.cost, self.init, self.seed,
                       self.dtype.name)


def _parse_input_shape(shape):
    ok = (isinstance(shape, (list, tuple)) and len(shape) in (1, 3)
          and all(isinstance(d, Integral) and not isinstance(d, bool) and d >= 1 for d in shape))
    if not ok:
        raise SpecError("input_shape", f"must be [features] or [channels, height, width] of positive"
                        f" whole numbers, got {shape!r}", "e.g. [64] for flat digits, [1, 8, 8] for images")
    return tuple(int(d) for d in shape)


def _check_output(last, cost):
    act = last.activation.name if isinstance(last, ActivatedLayer) else None
    where = f"layers[{last.index}].activation"
    if cost == "cross_entropy" and act != "softmax":
        raise SpecError("cost", f"cross_entropy needs a softmax output layer, the last layer has {act}",
                        f"set {where} to softmax, or choose the mse cost")
    if cost == "bce" and act != "sigmoid":
        raise SpecError("cost", f"bce needs a sigmoid output layer, the last layer has {act}",
                        f"set {where} to sigmoid, or choose the mse cost")
    if len(last.output_shape) != 1:
        raise SpecError(f"layers[{last.index}]", f"the output must be flat, got shape {last.output_shape}",
                        "end the network with flatten and dense layers")


def layer_sizes(layer, input_shape) -> tuple[int, int]:
    """(parameters, values per sample) of a layer whose output shape is known, from
    shapes alone: the values a training pass keeps for one sample are z, a and delta
    (3 per output), and a convolution's im2col columns."""
    out = layer.output_shape
    values = 3 * int(np.prod(out))
    if layer.kind == "dense":
        return (int(np.prod(input_shape)) + 1) * out[0], values
    if layer.kind == "conv2d":
        ckk = input_shape[0] * layer.spec["kernel_size"] ** 2
        return (ckk + 1) * out[0], values + ckk * int(np.prod(out[1:]))
    if layer.kind == "batchnorm":
        return 2 * out[0], values
    return 0, values


_SIZE_KEYS = {"dense": ("units", "use fewer units"),
              "conv2d": ("filters", "use fewer filters, a stride, or pooling before this layer")}


def _check_memory(plan: NetworkPlan) -> None:
    """SpecError naming the layer that needs the most memory, if training would need
    more than ``memory_budget()``."""
    need, budget = plan.memory, memory_budget()
    if need <= budget:
        return
    per_layer = plan.layer_bytes()
    i = max(range(len(per_layer)), key=lambda j: sum(per_layer[j]))
    weights, values = per_layer[i]
    key, fix = _SIZE_KEYS.get(plan.layers[i].kind,
                              (None, "use fewer units or filters before it, or add pooling layers"))
    raise SpecError(f"layers[{i}].{key}" if key else f"layers[{i}]",
                    f"the network would need about {_size_text(need)} of memory, "
                    f"{_size_text(weights + values)} of it for this layer ({_size_text(weights)} "
                    f"for its weights, gradients and optimiser state, {_size_text(values)} for "
                    f"a batch of {_MEMORY_BATCH} samples); at most {_size_text(budget)} fit", fix)

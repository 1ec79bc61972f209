"""Layers: forward pass, back propagation, and spec validation.

Every layer works on a mini-batch: ``forward(x, training)`` caches what
``backward(grad_out)`` needs, ``backward`` fills ``grads`` (same keys and shapes
as ``params``) and returns the gradient with respect to the layer's input.
Dense and conv2d layers carry their activation, so probes can see z, a and
dC/dz (``delta``) of the same layer.  At evaluation (``training=False``) they
cache nothing: a validation pass or a view's forward pass between a training
step and its snapshot leaves that step's z, a and delta for the probes, and
skips the stores a pass without backward does not need.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import catalogue
from .activations import make_activation
from .errors import SpecError
from .formula import compile_formula
from .im2col import Im2col
from .init import INITIALISERS


# --------------------------------------------------------------------------- spec helpers
def _field(index: int, key: str) -> str:
    return f"layers[{index}].{key}"


def parse_layer_spec(spec: dict, index: int) -> dict:
    """The layer's options checked against the catalogue, defaults filled in.

    The options of the chosen activation (e.g. leaky ReLU's alpha) sit beside
    it in the layer spec; ``{"formula": "x * sigmoid(x)"}`` in place of a name
    is a user formula (see ``formula.py``).
    """
    entry = catalogue.LAYERS[spec["type"]]
    prefix = f"layers[{index}]"
    body = {k: v for k, v in spec.items() if k != "type"}
    for key in body:
        if not isinstance(key, str):
            raise SpecError(prefix, f"keys must be text, got {key!r}", "write the key in quotes")
    act_options = {}
    if "activation" in entry.params and isinstance(body.get("activation"), dict):
        act_options = {"activation": _formula_spec(body.pop("activation"), index)}
    elif "activation" in entry.params:
        name = entry.params["activation"].check(body.pop("activation", entry.params["activation"].default),
                                                _field(index, "activation"))
        act_entry = catalogue.ACTIVATIONS[name]
        given = {k: body.pop(k) for k in list(body) if k in act_entry.params}
        act_options = {"activation": name, **catalogue.check_params(act_entry, given, prefix)}
    for key in body:
        if key not in entry.params:
            raise SpecError(_field(index, key), f"unknown key for a {spec['type']} layer",
                            f"allowed keys: {', '.join(sorted(entry.params)) or 'none'}")
    return {**catalogue.check_params(entry, body, prefix, skip=("activation",)), **act_options}


def _formula_spec(spec: dict, index: int) -> dict:
    """``{"formula": text}`` checked (the formula compiles), text stripped."""
    where = _field(index, "activation")
    for key in spec:
        if key != "formula":
            raise SpecError(f"{where}.{key}" if isinstance(key, str) else where,
                            f"unknown key {key!r}", 'write {"formula": "x * sigmoid(x)"}')
    if "formula" not in spec:
        raise SpecError(f"{where}.formula", "is missing", 'write {"formula": "x * sigmoid(x)"}')
    return {"formula": compile_formula(spec["formula"], f"{where}.formula").text}


# --------------------------------------------------------------------------- numpy helpers
class _Scratch:
    """Scratch arrays reused between calls, one set per (batch size, mode).

    A few sets are kept, so training batches and the larger evaluation batches do not
    reallocate each other's buffers; very large sets are not kept at all.
    """

    MAX_SETS = 6
    MAX_BYTES = 64 * 2 ** 20

    def __init__(self, make):
        self._make = make  # make(n, training) -> dict of arrays
        self._sets = {}

    def get(self, n, training):
        key = (n, training)
        bufs = self._sets.get(key)
        if bufs is None:
            bufs = self._make(n, training)
            if sum(a.nbytes for a in bufs.values() if isinstance(a, np.ndarray)) <= self.MAX_BYTES:
                if len(self._sets) >= self.MAX_SETS:
                    del self._sets[next(iter(self._sets))]
                self._sets[key] = bufs
        return bufs


# --------------------------------------------------------------------------- base classes
class Layer:
    """A layer without parameters; subclasses override what they need."""

    kind = ""
    dtype = np.dtype(np.float64)   # of parameters and buffers; the network sets it before build

    def __init__(self, spec: dict, index: int):
        self.index = index
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.activation = None
        self.input_shape: tuple = ()
        self.output_shape: tuple = ()
        self.spec = {"type": self.kind, **parse_layer_spec({**spec, "type": self.kind}, index)}
        self._configure()

    def _configure(self) -> None:
        """Set up from the validated ``self.spec`` (e.g. the activation function)."""

    def build(self, input_shape: tuple, rng: np.random.Generator, init: str) -> tuple:
        """Fix the input shape, create parameters, return the output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.infer_output_shape(self.input_shape)
        return self.output_shape

    def _initial(self, init, rng, shape, fan_in, fan_out):
        """Initial weights drawn in float64 (the same numbers for every dtype), then cast."""
        return INITIALISERS[init](rng, shape, fan_in, fan_out).astype(self.dtype, copy=False)

    def infer_output_shape(self, input_shape: tuple) -> tuple:
        """The per-sample output shape for ``input_shape``; SpecError if it does not fit.

        Needs no parameters, so a model builder can show shapes of an unbuilt stack.
        """
        return input_shape

    @property
    def param_count(self) -> int:
        return sum(p.size for p in self.params.values())

    @property
    def trainable(self) -> bool:
        """False for a frozen layer: optimisers leave its parameters as they are."""
        return self.spec.get("trainable", True)

    @property
    def label(self) -> str:
        act = f" ({self.activation.name})" if self.activation is not None else ""
        return f"{self.kind} {self.index}{act}"

    def to_spec(self) -> dict:
        return {k: dict(v) if isinstance(v, dict) else v for k, v in self.spec.items()}

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True):
        return grad_out

    def _require(self, ok: bool, key: str, problem: str, fix: str):
        if not ok:
            raise SpecError(_field(self.index, key), problem, fix)

    def _require_image(self, input_shape):
        self._require(len(input_shape) == 3, "type",
                      f"a {self.kind} layer needs image input (C, H, W), got shape {input_shape}",
                      "put it before the flatten layer, or use an image data set")


class ActivatedLayer(Layer):
    """A layer computing a = f(z); keeps z, a and delta = dC/dz of the last batch."""

    def _configure(self):
        act = self.spec["activation"]
        if isinstance(act, dict):       # {"formula": ...}, checked by parse_layer_spec
            self.activation = make_activation(act)
            return
        options = {k: v for k, v in self.spec.items() if k in catalogue.ACTIVATIONS[act].params}
        self.activation = make_activation(act, **options)

    def forward(self, x, training):
        if not training:   # keep z and a of the last training batch (the probes read them)
            return self.activation.forward(self._linear(x, False))
        self.z = self._linear(x, True)
        self.a = self.activation.forward(self.z)
        return self.a

    def backward(self, grad_out, need_input_grad=True):
        delta = self.activation.backward(self.z, self.a, grad_out)
        return self.backward_delta(delta, need_input_grad)

    def backward_delta(self, delta, need_input_grad=True):
        """Back-propagate from dC/dz (used directly by the fused output costs)."""
        self.delta = delta
        return self._linear_backward(delta, need_input_grad)

    def _linear(self, x, training):
        return x

    def _linear_backward(self, delta, need_input_grad):
        return delta


# --------------------------------------------------------------------------- layers
class Dense(ActivatedLayer):
    kind = "dense"

    def infer_output_shape(self, input_shape):
        self._require(len(input_shape) == 1, "type",
                      f"a dense layer needs flat input, got shape {input_shape}",
                      "add a flatten layer before it")
        if self.activation.name == "softmax":
            self._require(self.spec["units"] >= 2, "units", "softmax over a single unit is always 1",
                          "use at least 2 units, or a sigmoid output with the bce cost")
        return (self.spec["units"],)

    def build(self, input_shape, rng, init):
        out = super().build(input_shape, rng, init)
        n_in, n_out = input_shape[0], out[0]
        self.params = {"W": self._initial(init, rng, (n_in, n_out), n_in, n_out),
                       "b": np.zeros(n_out, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        return out

    def _linear(self, x, training):
        if training:
            self.x = x
        z = x @ self.params["W"]
        z += self.params["b"]
        return z

    def _linear_backward(self, delta, need_input_grad):
        np.matmul(self.x.T, delta, out=self.grads["W"])
        delta.sum(axis=0, out=self.grads["b"])
        if not need_input_grad:
            return None
        # (W @ delta.T).T equals delta @ W.T, and OpenBLAS runs this product
        # 1.5 to 1.9 times faster for 512-1024 units (a transposed view; no copy)
        return (self.params["W"] @ delta.T).T


def conv_padding(padding, size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding along one axis; "same" follows TensorFlow's convention."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2
    return padding, padding


class Conv2D(ActivatedLayer):
    """2-D cross-correlation over NCHW images, as in every deep-learning library.

    im2col per sample (``im2col.py``): ``cols`` is (N, C*k*k + 1, OH*OW) with a
    constant row of ones for the bias, so z[n] = [W | b] @ cols[n] is already NCHW
    and the sum over n of cols[n] @ delta[n].T is [dW | db].T: one stacked matrix
    product each, every buffer reused between batches of the same size.  Stacked
    per-sample products keep BLAS on one thread for small images (one large product
    would wake its pool) and beat one large product for large ones (cache).
    """

    kind = "conv2d"

    def _configure(self):
        super()._configure()
        kernel, k = self.spec.get("kernel"), self.spec["kernel_size"]
        if kernel is not None and len(kernel) != k:
            side = len(kernel)
            raise SpecError(_field(self.index, "kernel"), f"is {side}x{side} but kernel_size "
                            f"is {k}", f"set kernel_size to {side}, or give a {k}x{k} kernel")

    def infer_output_shape(self, input_shape):
        self._require_image(input_shape)
        c, h, w = input_shape
        k, s, p = self.spec["kernel_size"], self.spec["stride"], self.spec["padding"]
        self.pads = [conv_padding(p, size, k, s) for size in (h, w)]
        (pt, pb), (pl, pr) = self.pads
        self._require(k <= h + pt + pb and k <= w + pl + pr, "kernel_size",
                      f"kernel {k}x{k} is larger than its (padded) input {h + pt + pb}x{w + pl + pr}",
                      f"use a kernel_size of at most {min(h + pt + pb, w + pl + pr)}, or padding \"same\"")
        oh, ow = (h + pt + pb - k) // s + 1, (w + pl + pr - k) // s + 1
        return (self.spec["filters"], oh, ow)

    def build(self, input_shape, rng, init):
        out = super().build(input_shape, rng, init)
        f, k, c = self.spec["filters"], self.spec["kernel_size"], input_shape[0]
        # drawn even under a hand-set kernel: the later layers start as they would without it
        self.params = {"W": self._initial(init, rng, (f, c, k, k), c * k * k, f * k * k),
                       "b": np.zeros(f, self.dtype)}
        if self.spec.get("kernel") is not None:     # the same kernel for every filter and channel
            self.params["W"][...] = np.asarray(self.spec["kernel"], dtype=self.dtype)
        self.grads = {key: np.zeros_like(v) for key, v in self.params.items()}
        self._im2col = Im2col(c, input_shape[1:], k, self.spec["stride"], self.pads, out[1:])
        self._scratch = _Scratch(self._make_scratch)
        return out

    def _make_scratch(self, n, training):
        f, ckk = self.spec["filters"], self._im2col.ckk
        bufs = self._im2col.buffers(n, self.dtype, training)
        bufs["wb"] = np.empty((f, ckk + 1), self.dtype)
        if training:  # evaluation never back-propagates: no backward buffers
            bufs.update(dwb=np.empty((n, ckk + 1, f), self.dtype),     # transposed: see backward
                        dwb_sum=np.empty((ckk + 1, f), self.dtype))
        return bufs

    def _linear(self, x, training):
        n, (f, oh, ow) = x.shape[0], self.output_shape
        bufs = self._scratch.get(n, training)
        self._im2col.fill(bufs, x)
        wb = bufs["wb"]
        np.copyto(wb[:, :-1], self.params["W"].reshape(f, -1))
        wb[:, -1] = self.params["b"]
        if training:
            self._bufs = bufs
        return np.matmul(wb, bufs["cols"]).reshape(n, f, oh, ow)

    def _linear_backward(self, delta, need_input_grad):
        bufs, f = self._bufs, self.spec["filters"]
        d = delta.reshape(delta.shape[0], f, -1)          # (N, F, OH*OW)
        # [dW | db].T = sum over n of cols[n] @ d[n].T: OpenBLAS runs this product about
        # 1.5 times faster than d[n] @ cols[n].T (measured at 16x16 with 16 -> 32 filters)
        dwb = np.sum(np.matmul(bufs["cols"], d.transpose(0, 2, 1), out=bufs["dwb"]), axis=0,
                     out=bufs["dwb_sum"])
        np.copyto(self.grads["W"].reshape(f, -1), dwb[:-1].T)
        np.copyto(self.grads["b"], dwb[-1])
        if not need_input_grad:
            return None
        np.matmul(self.params["W"].reshape(f, -1).T, d, out=bufs["dcols"])
        return self._im2col.input_grad(bufs, self.dtype)


class _Pool2D(Layer):
    """Pooling over p x p windows with stride s.

    Training max pooling gathers the windows in one copy into ``win`` (p*p, N*C*OH*OW),
    window position first, so the reductions and the first-maximum mask run over
    contiguous rows; plain maxima and sums reduce the p*p strided views directly.
    The gradient is written into dx through the p*p strided views: one multiply each
    when windows do not overlap (stride >= size), an accumulation otherwise.
    """

    def infer_output_shape(self, input_shape):
        self._require_image(input_shape)
        c, h, w = input_shape
        p, s = self.spec["size"], self.spec["stride"]
        self._require(p <= h and p <= w, "size",
                      f"pool window {p}x{p} is larger than its input {h}x{w}",
                      f"use a size of at most {min(h, w)}")
        return (c, (h - p) // s + 1, (w - p) // s + 1)

    def build(self, input_shape, rng, init):
        out = super().build(input_shape, rng, init)
        c, h, w = input_shape
        p, s = self.spec["size"], self.spec["stride"]
        _, oh, ow = out
        self._tiled = s == p                        # windows tile the input: reshape views
        self._covers = self._tiled and oh * p == h and ow * p == w  # ... all of it
        self._scratch = _Scratch(self._make_scratch)
        return out

    def _make_scratch(self, n, training):
        c, oh, ow = self.output_shape
        pp = self.spec["size"] ** 2
        return {"win": np.empty((pp, n * c * oh * ow), self.dtype)}

    def _windows(self, a):
        """View (N, C, OH, p, OW, p) of a's windows (s >= p: they do not overlap)."""
        n = a.shape[0]
        c, oh, ow = self.output_shape
        p, s = self.spec["size"], self.spec["stride"]
        if self._tiled:
            if not self._covers:
                a = a[:, :, :oh * p, :ow * p]
            return a.reshape(n, c, oh, p, ow, p)
        sn, sc, sh, sw = a.strides
        return as_strided(a, (n, c, oh, p, ow, p), (sn, sc, sh * s, sh, sw * s, sw))

    def _gather(self, x, training):
        """win[(i, j), (n, c, oy, ox)] = x[n, c, oy*s + i, ox*s + j]."""
        n = x.shape[0]
        c, oh, ow = self.output_shape
        p = self.spec["size"]
        bufs = self._scratch.get(n, training)
        win = bufs["win"]
        if self.spec["stride"] >= p:
            np.copyto(win.reshape(p, p, n, c, oh, ow), self._windows(x).transpose(3, 5, 0, 1, 2, 4))
        else:
            sn, sc, sh, sw = x.strides
            s = self.spec["stride"]
            view = as_strided(x, (p, p, n, c, oh, ow), (sh, sw, sn, sc, sh * s, sw * s))
            np.copyto(win.reshape(p, p, n, c, oh, ow), view)
        return bufs, win

    def _reduce(self, x, ufunc):
        """ufunc.reduce over the p*p strided window-position views of x (no gather)."""
        p, s = self.spec["size"], self.spec["stride"]
        _, oh, ow = self.output_shape
        views = [x[:, :, i:i + s * oh:s, j:j + s * ow:s] for i in range(p) for j in range(p)]
        if len(views) == 1:
            return views[0].copy()
        out = ufunc(views[0], views[1])
        for view in views[2:]:
            ufunc(out, view, out=out)
        return out

    def _scatter(self, grad_out, weight):
        """dx: sum over window positions k = (i, j) of grad_out * weight(k), scattered back."""
        n = grad_out.shape[0]
        c, oh, ow = self.output_shape
        p, s = self.spec["size"], self.spec["stride"]
        shape = (n,) + self.input_shape
        dx = np.empty(shape, self.dtype) if self._covers else np.zeros(shape, self.dtype)
        for i in range(p):
            for j in range(p):
                view = dx[:, :, i:i + s * oh:s, j:j + s * ow:s]
                if s >= p:  # windows do not overlap
                    np.multiply(grad_out, weight(i * p + j), out=view)
                else:
                    view += grad_out * weight(i * p + j)
        return dx


class MaxPool2D(_Pool2D):
    """Max pooling; on ties the gradient goes to the first maximum only (as PyTorch)."""

    kind = "maxpool2d"

    def _make_scratch(self, n, training):
        bufs = super()._make_scratch(n, training)
        shape = bufs["win"].shape
        bufs["hit"] = np.empty(shape, dtype=bool)
        bufs["seen"] = np.empty(shape, dtype=bool)
        bufs["chosen"] = np.empty(shape, dtype=bool)
        return bufs

    def forward(self, x, training):
        if not training:
            return self._reduce(x, np.maximum)
        n = x.shape[0]
        bufs, win = self._gather(x, training)
        out = win.max(axis=0)
        # Which window position gives each maximum, the first one on ties.
        hit, seen, chosen = bufs["hit"], bufs["seen"], bufs["chosen"]
        np.equal(win, out, out=hit)
        seen[0] = hit[0]  # seen[k]: a maximum at a position <= k
        for k in range(1, len(win)):
            np.logical_or(seen[k - 1], hit[k], out=seen[k])
        chosen[0] = seen[0]
        np.greater(seen[1:], seen[:-1], out=chosen[1:])
        self.chosen = chosen.reshape((len(win), n) + self.output_shape)
        return out.reshape((n,) + self.output_shape)

    def backward(self, grad_out, need_input_grad=True):
        return self._scatter(grad_out, self.chosen.__getitem__)


class AvgPool2D(_Pool2D):
    kind = "avgpool2d"

    def forward(self, x, training):
        out = self._reduce(x, np.add)
        out /= self.spec["size"] ** 2
        return out

    def backward(self, grad_out, need_input_grad=True):
        share = grad_out / self.spec["size"] ** 2
        return self._scatter(share, lambda k: 1.0)


class Flatten(Layer):
    """Flattens each sample in C order, as ``reshape(N, -1)``."""

    kind = "flatten"

    def infer_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training):
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out.reshape((grad_out.shape[0],) + self.input_shape)


class Dropout(Layer):
    """Inverted dropout: scaled at training time, the identity at evaluation."""

    kind = "dropout"
    def build(self, input_shape, rng, init):
        self.rng = rng
        self.mask = None
        return super().build(input_shape, rng, init)

    def forward(self, x, training):
        rate = self.spec["rate"]
        if not training or rate == 0.0:
            self.mask = None
            return x
        # float64 draws whatever the dtype: the same seed drops the same units
        self.mask = (self.rng.random(x.shape) >= rate).astype(x.dtype)
        self.mask *= 1.0 / (1.0 - rate)
        return x * self.mask

    def backward(self, grad_out, need_input_grad=True):
        return grad_out if self.mask is None else grad_out * self.mask


class BatchNorm(Layer):
    """Batch normalisation per feature (N, F) or per channel (N, C, H, W).

    ``backward`` differentiates the last forward pass: through the batch statistics
    after a training pass, through the fixed running statistics after an evaluation one.
    """

    kind = "batchnorm"
    def build(self, input_shape, rng, init):
        out = super().build(input_shape, rng, init)
        c = input_shape[0]
        self.params = {"gamma": np.ones(c, self.dtype), "beta": np.zeros(c, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean, self.running_var = np.zeros(c, self.dtype), np.ones(c, self.dtype)
        image = len(input_shape) == 3
        self.axes = (0, 2, 3) if image else (0,)
        self.bshape = (1, c, 1, 1) if image else (1, c)
        return out

    def forward(self, x, training):
        eps, m = self.spec["eps"], self.spec["momentum"]
        if training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            count = x.size // mean.size
            self.running_mean += m * (mean - self.running_mean)
            unbiased = var * count / max(count - 1, 1)
            self.running_var += m * (unbiased - self.running_var)
        else:
            mean, var = self.running_mean, self.running_var
        self.batch_statistics = training   # what backward differentiates
        self.inv_std = (1.0 / np.sqrt(var + eps)).reshape(self.bshape)
        self.xhat = (x - mean.reshape(self.bshape)) * self.inv_std
        return self.xhat * self.params["gamma"].reshape(self.bshape) + self.params["beta"].reshape(self.bshape)

    def backward(self, grad_out, need_input_grad=True):
        xhat, axes = self.xhat, self.axes
        (grad_out * xhat).sum(axis=axes, out=self.grads["gamma"])
        grad_out.sum(axis=axes, out=self.grads["beta"])
        if not need_input_grad:
            return None
        dxhat = grad_out * self.params["gamma"].reshape(self.bshape)
        if not self.batch_statistics:   # running statistics are constants: an affine map
            return dxhat * self.inv_std
        mean_d = dxhat.mean(axis=axes, keepdims=True)
        mean_dx = (dxhat * xhat).mean(axis=axes, keepdims=True)
        return self.inv_std * (dxhat - mean_d - xhat * mean_dx)


class ActivationLayer(ActivatedLayer):
    """A standalone activation, e.g. after batch normalisation."""

    kind = "activation"
    def infer_output_shape(self, input_shape):
        if self.activation.name == "softmax":
            self._require(input_shape[0] >= 2, "activation", "softmax over a single unit is always 1",
                          "use at least 2 units before it, or sigmoid with the bce cost")
        return input_shape


LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (
    Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Dropout, BatchNorm, ActivationLayer)}


def make_layer(spec, index: int) -> Layer:
    """The layer described by ``spec`` (validated; errors name ``layers[index]``)."""
    if not isinstance(spec, dict):
        raise SpecError(f"layers[{index}]", f"must be an object, got {type(spec).__name__}",
                        'write it as {"type": "dense", "units": 10}')
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in LAYERS:
        raise SpecError(_field(index, "type"), f"unknown layer type {kind!r}",
                        f"choose one of: {', '.join(LAYERS)}")
    return LAYERS[kind](spec, index)

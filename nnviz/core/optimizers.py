"""Gradient-descent optimisers that update a network's parameters in place.

``make_optimizer(spec)`` builds one of six update rules from a small dict::

    {"name": "adam", "eta": 0.001, "rho": 0.9, "rho2": 0.999, "eps": 1e-8}

Every rule is the standard per-element definition, the one PyTorch's
``torch.optim`` uses (``g`` is the gradient, ``p`` the parameter, all
operations element-wise, state starts at zero):

``constant``          ``p -= eta * g``                                (plain SGD)
``momentum``          ``v = momentum*v + g;  p -= eta * v``           (SGD momentum)
``adagrad``           ``G += g*g;  p -= eta * g / (sqrt(G) + eps)``
``adagrad_momentum``  ``G += g*g;  v = momentum*v + g / (sqrt(G) + eps);  p -= eta * v``
``rmsprop``           ``s = rho*s + (1-rho)*g*g;  p -= eta * g / (sqrt(s) + eps)``
``adam``              ``m = rho*m + (1-rho)*g;  v = rho2*v + (1-rho2)*g*g``
                      ``p -= eta * mhat / (sqrt(vhat) + eps)`` with
                      ``mhat = m / (1-rho**t)``, ``vhat = v / (1-rho2**t)`` and
                      ``t`` = number of updates since the state was created, from 1.

``adagrad_momentum`` has no PyTorch counterpart: it is heavy-ball momentum
applied to Adagrad's scaled step direction.  As in PyTorch, the velocity does
not include ``eta``, so changing the learning rate live (``opt.eta = ...``)
takes effect at once instead of fading in through the velocity.

Updates are in place (``p -= ...``) so views of the parameter arrays (held by
views and probes) stay valid.  The optimiser runs every training step on small
arrays, where numpy's per-call overhead dominates, so all parameters share
preallocated flat buffers: each rule is a few whole-buffer numpy calls, plus
one gradient copy in and one subtraction per parameter, and no allocation.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from nnviz.core import catalogue
from nnviz.core.errors import SpecError

__all__ = ["Optimizer", "make_optimizer", "OPTIMIZERS"]

FIELD = "training.optimizer"



class Optimizer:
    """Base class: gathers the gradients, computes the update, applies it in place.

    All parameters share flat state arrays (one slice per layer index and
    parameter name), so each rule costs a handful of numpy calls per step
    however many layers there are, plus one copy in and one subtraction per
    parameter.  Subclasses set ``name`` and ``n_state`` (state arrays) and
    implement ``_step(g, u, *state)``, which leaves the update in ``u``; their
    hyperparameters besides eta (``hyper``) and ``defaults`` come from the
    catalogue.
    """

    name = ""
    hyper: tuple[str, ...] = ()
    defaults: dict[str, float] = {}
    n_state = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        params = catalogue.OPTIMIZERS[cls.name].params
        cls.hyper = tuple(k for k in params if k != "eta")
        cls.defaults = {k: params[k].default for k in cls.hyper}

    def __init__(self, eta: float, **hyper: float):
        unknown = sorted(set(hyper) - set(self.hyper))
        if unknown:
            raise TypeError(f"{self.name} optimizer takes no {', '.join(unknown)}")
        self.eta = eta
        for key in self.hyper:
            setattr(self, key, _check(self.name, key, hyper.get(key, self.defaults[key])))
        self.reset()

    @property
    def eta(self) -> float:
        """Learning rate; may be changed between steps (the GUI does so live)."""
        return self._eta

    @eta.setter
    def eta(self, value: float) -> None:
        self._eta = _check(self.name, "eta", value)

    def reset(self) -> None:
        """Forget all state (moments, accumulators, step count)."""
        self.steps = 0          # updates since the state was created; Adam's t
        self._layout = None     # ((layer index, name, shape, dtype), ...) of the state
        self._plan = []         # (param array, gradient view, update view) per parameter
        self._g = self._u = None
        self._state = ()

    def apply(self, net) -> None:
        """Update every ``layer.params[k]`` of ``net`` in place from ``layer.grads[k]``;
        a frozen layer's (``layer.trainable`` false) are left alone, and hold no state.

        State is created lazily with zeros, per (layer index, parameter name).
        It is kept while the layout (indices, names, shapes) stays the same,
        even if the arrays are replaced, and starts afresh when it changes;
        call ``reset()`` before reusing the optimiser on a new network.
        """
        if not self._gather(net):
            self._rebuild(net)
            self._gather(net)
        self.steps += 1
        self._step(self._g, self._u, *self._state)
        for p, _, u in self._plan:
            p -= u

    def _gather(self, net) -> bool:
        """Copy the gradients into the flat buffer; False if the plan does not fit ``net``."""
        plan = self._plan
        count = len(plan)
        n = 0
        for i, layer in enumerate(net.layers):
            params = getattr(layer, "params", None)
            if not params or not getattr(layer, "trainable", True):
                continue
            grads = layer.grads
            for key, p in params.items():
                if n == count or plan[n][0] is not p:
                    return False
                g = grads.get(key)
                view = plan[n][1]
                if g is None or g.shape != view.shape:
                    raise ValueError(
                        f"layer {i}: gradient {key!r} is missing or has the wrong shape "
                        f"(expected {view.shape}); compute gradients before applying "
                        "the optimiser")
                np.copyto(view, g)
                n += 1
        return n == count

    def _rebuild(self, net) -> None:
        """Lay out flat buffers for ``net``'s parameters, keeping state if the layout matches."""
        params = [(i, key, p) for i, layer in enumerate(net.layers)
                  if getattr(layer, "trainable", True)
                  for key, p in (getattr(layer, "params", None) or {}).items()]
        dtype = np.result_type(np.float32, *(p.dtype for _, _, p in params))
        layout = tuple((i, key, p.shape, dtype) for i, key, p in params)
        if layout != self._layout:
            size = sum(p.size for _, _, p in params)
            self.reset()
            self._layout = layout
            self._g = np.empty(size, dtype)
            self._u = np.empty(size, dtype)
            self._state = tuple(np.zeros(size, dtype) for _ in range(self.n_state))
        self._plan = []
        offset = 0
        for _, _, p in params:
            end = offset + p.size
            self._plan.append((p, self._g[offset:end].reshape(p.shape),
                               self._u[offset:end].reshape(p.shape)))
            offset = end

    def _step(self, g: np.ndarray, u: np.ndarray, *state: np.ndarray) -> None:
        raise NotImplementedError

    def to_spec(self) -> dict:
        """The normalised spec: name, eta and every hyperparameter, defaults filled in."""
        spec = {"name": self.name, "eta": self.eta}
        for key in self.hyper:
            spec[key] = getattr(self, key)
        return spec

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_spec().items() if k != "name")
        return f"<{type(self).__name__} {self.name}: {args}>"


class Constant(Optimizer):
    """Plain stochastic gradient descent: ``p -= eta * g``."""

    name = "constant"

    def _step(self, g, u):
        np.multiply(g, self._eta, out=u)


class Momentum(Optimizer):
    """Classic (heavy-ball) momentum as in PyTorch's SGD: ``v = mu*v + g; p -= eta*v``."""

    name = "momentum"
    n_state = 1

    def _step(self, g, u, v):
        v *= self.momentum
        v += g
        np.multiply(v, self._eta, out=u)


def _adagrad_direction(g, u, acc, eps):
    """Adagrad core: ``acc += g*g``; leave ``g / (sqrt(acc) + eps)`` in ``u``."""
    np.multiply(g, g, out=u)
    acc += u
    np.sqrt(acc, out=u)
    u += eps
    np.divide(g, u, out=u)


class Adagrad(Optimizer):
    """Adagrad: ``G += g*g; p -= eta * g / (sqrt(G) + eps)``."""

    name = "adagrad"
    n_state = 1

    def _step(self, g, u, acc):
        _adagrad_direction(g, u, acc, self.eps)
        u *= self._eta


class AdagradMomentum(Optimizer):
    """Momentum on Adagrad's step: ``v = mu*v + g/(sqrt(G)+eps); p -= eta*v``."""

    name = "adagrad_momentum"
    n_state = 2

    def _step(self, g, u, acc, v):
        _adagrad_direction(g, u, acc, self.eps)
        v *= self.momentum
        v += u
        np.multiply(v, self._eta, out=u)


class RMSprop(Optimizer):
    """RMSprop (PyTorch's, ``alpha`` = rho): ``s = rho*s + (1-rho)*g*g; p -= eta*g/(sqrt(s)+eps)``."""

    name = "rmsprop"
    n_state = 1

    def _step(self, g, u, s):
        s *= self.rho
        np.multiply(g, g, out=u)
        u *= 1.0 - self.rho
        s += u
        np.sqrt(s, out=u)
        u += self.eps
        np.divide(g, u, out=u)
        u *= self._eta


class Adam(Optimizer):
    """Adam with bias correction (rho = beta1, rho2 = beta2); t counts update steps."""

    name = "adam"
    n_state = 2

    def _step(self, g, u, m, v):
        b1, b2, t = self.rho, self.rho2, self.steps
        m *= b1                      # m = b1*m + (1-b1)*g
        np.multiply(g, 1.0 - b1, out=u)
        m += u
        v *= b2                      # v = b2*v + (1-b2)*g*g
        np.multiply(g, g, out=u)
        u *= 1.0 - b2
        v += u
        # eta * mhat / (sqrt(vhat) + eps), computed as PyTorch does:
        # (eta / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
        np.sqrt(v, out=u)
        u *= 1.0 / math.sqrt(1.0 - b2 ** t)
        u += self.eps
        np.divide(m, u, out=u)
        u *= self._eta / (1.0 - b1 ** t)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (Constant, Momentum, Adagrad, AdagradMomentum, RMSprop, Adam)
}


def _check(name: str, key: str, value) -> float:
    """``value`` of optimiser ``name``'s ``key`` checked against the catalogue."""
    return catalogue.OPTIMIZERS[name].params[key].check(value, f"{FIELD}.{key}")


def make_optimizer(spec: dict) -> Optimizer:
    """Build an optimiser from ``{"name": ..., "eta": ..., ...}``; SpecError if invalid."""
    if not isinstance(spec, dict):
        raise SpecError(FIELD, f"must be an object, got {type(spec).__name__}",
                        'write e.g. {"name": "adam", "eta": 0.001}')
    name = spec.get("name")
    cls = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if cls is None:
        problem = ("is missing" if name is None else f"unknown optimizer {name!r}")
        raise SpecError(f"{FIELD}.name", problem, "choose one of: " + ", ".join(OPTIMIZERS))
    entry = catalogue.OPTIMIZERS[name]
    hyper = {}
    for key, value in spec.items():
        if key == "name":
            continue
        if key not in entry.params:
            users = ", ".join(n for n, e in catalogue.OPTIMIZERS.items() if key in e.params)
            if not users:
                raise SpecError(f"{FIELD}.{key}", f"unknown key {key!r}",
                                "allowed keys: name, " + ", ".join(entry.params))
            raise SpecError(f"{FIELD}.{key}", f"is not used by the {name!r} optimizer",
                            f"remove it, or choose an optimizer that uses it: {users}")
        hyper[key] = value
    hyper.setdefault("eta", entry.params["eta"].default)
    return cls(**hyper)

"""Activation functions with closed-form derivatives, stable for large inputs,
and user formulas differentiated by autograd."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .formula import compile_formula


class Activation:
    """An element-wise (or, for softmax, row-wise) non-linearity a = f(z).

    ``backward`` maps dC/da to dC/dz given the cached z and a of the forward pass.
    ``saturating`` and ``relu_family`` tell the probes what "saturated" and
    "dead" mean for this function.
    """

    name = ""
    saturating = False
    relu_family = False

    def __init__(self, **options):
        self.options = options

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def saturated_fraction(self, a: np.ndarray) -> float:
        return 0.0


class Identity(Activation):
    name = "identity"

    def forward(self, z):
        return z

    def backward(self, z, a, grad_a):
        return grad_a


class Sigmoid(Activation):
    name = "sigmoid"
    saturating = True

    def forward(self, z):
        # imported on first use: scipy.special takes 0.4 s to import, which the
        # window's start-up (the builder needs this module) should not wait for
        from scipy.special import expit
        return expit(z)

    def backward(self, z, a, grad_a):
        return grad_a * a * (1.0 - a)

    def saturated_fraction(self, a):
        return float(np.count_nonzero((a < 0.05) | (a > 0.95))) / max(a.size, 1)


class Tanh(Activation):
    name = "tanh"
    saturating = True

    def forward(self, z):
        return np.tanh(z)

    def backward(self, z, a, grad_a):
        return grad_a * (1.0 - a * a)

    def saturated_fraction(self, a):
        return float(np.count_nonzero(np.abs(a) > 0.9)) / max(a.size, 1)


class ReLU(Activation):
    name = "relu"
    relu_family = True

    def __init__(self, **options):
        super().__init__(**options)
        self._zeros = np.zeros(0)   # grown as needed, never written: see forward

    def forward(self, z):
        # max(z, 0) against an array of zeros, not the scalar 0: numpy (2.4) runs its SIMD
        # loop for two contiguous arrays only, and this is 1.5-3 times faster (measured on
        # float32 (32, 16, 32, 32) and (32, 512)); the same numbers.
        if self._zeros.size < z.size or self._zeros.dtype != z.dtype:
            self._zeros = np.zeros(z.size, z.dtype)
        return np.maximum(z, self._zeros[:z.size].reshape(z.shape))

    def backward(self, z, a, grad_a):
        return grad_a * (z > 0)


class LeakyReLU(Activation):
    name = "leaky_relu"
    relu_family = True

    def __init__(self, alpha: float = 0.01):
        super().__init__(alpha=alpha)
        self.alpha = alpha

    def forward(self, z):
        return np.where(z > 0, z, self.alpha * z)

    def backward(self, z, a, grad_a):
        # alpha * grad_a, not where(z > 0, 1.0, alpha): two Python floats make a float64 array
        return np.where(z > 0, grad_a, self.alpha * grad_a)


class ELU(Activation):
    name = "elu"
    relu_family = True

    def __init__(self, alpha: float = 1.0):
        super().__init__(alpha=alpha)
        self.alpha = alpha

    def forward(self, z):
        # expm1 of min(z, 0) never overflows, even where the branch is unused.
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0.0)))

    def backward(self, z, a, grad_a):
        # For z <= 0, f'(z) = alpha * exp(z) = a + alpha.
        return grad_a * np.where(z > 0, 1.0, a + self.alpha)


class Softmax(Activation):
    """Softmax over axis 1 (the units of a dense layer, the channels of an image)."""

    name = "softmax"

    def forward(self, z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, z, a, grad_a):
        return a * (grad_a - (grad_a * a).sum(axis=1, keepdims=True))


class FormulaActivation(Activation):
    """a = f(z) for a user formula such as "x * sigmoid(x)"; f' from autograd.

    ``name`` is the formula text, so labels and probes show what was typed.
    """

    def __init__(self, formula: str, field: str = "activation.formula"):
        super().__init__()
        self.formula = compile_formula(formula, field)
        self.name = self.formula.text

    def forward(self, z):
        return self.formula.f(z)

    def backward(self, z, a, grad_a):
        return grad_a * self.formula.df(z)


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softmax)
}


def make_activation(name: str | Mapping, **options) -> Activation:
    """The activation called ``name`` (names as in ``ACTIVATIONS``), or for
    ``{"formula": text}`` the FormulaActivation of that text."""
    if isinstance(name, Mapping):
        return FormulaActivation(name["formula"])
    return ACTIVATIONS[name](**options)

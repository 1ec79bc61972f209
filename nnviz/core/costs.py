"""Cost functions: mean over the samples of a batch, summed over the outputs."""

from __future__ import annotations

import numpy as np

from .catalogue import COST_ALIASES
from .numerics import sum_of_squares

_TINY = 1e-12


def _clip_unit(a: np.ndarray) -> np.ndarray:
    """a clipped into [TINY, 1 - TINY], in a's dtype.

    In float32 1 - 1e-12 rounds to 1, where log(1 - a) is -inf: the upper bound is then
    the largest float32 below 1 instead.
    """
    return np.clip(a, _TINY, min(1.0 - _TINY, 1.0 - np.finfo(a.dtype).epsneg))


class Cost:
    name = ""
    # The output activation whose combination with this cost has the simple,
    # stable gradient dC/dz = (a - y) / N (None: no such pairing).
    fused_activation: str | None = None

    def value(self, a: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """dC/da."""
        raise NotImplementedError

    def value_from_logits(self, z: np.ndarray, y: np.ndarray) -> float:
        """The cost computed from the output layer's z (stable for the fused pair)."""
        raise NotImplementedError


class MSE(Cost):
    """C = (1/N) sum (a - y)^2 (ordinary least squares)."""

    name = "mse"

    def value(self, a, y):
        return sum_of_squares(a - y) / len(a)

    def gradient(self, a, y):
        return (2.0 / len(a)) * (a - y)


class BCE(Cost):
    """Binary cross-entropy (logistic regression) on sigmoid outputs."""

    name = "bce"
    fused_activation = "sigmoid"

    def value(self, a, y):
        a = _clip_unit(a)
        return -float(np.sum(y * np.log(a) + (1.0 - y) * np.log1p(-a))) / len(a)

    def gradient(self, a, y):
        a = _clip_unit(a)
        return (a - y) / (a * (1.0 - a) * len(a))

    def value_from_logits(self, z, y):
        # log(1 + e^z) - y z, written so that neither branch overflows.
        return float(np.sum(np.logaddexp(0.0, z) - y * z)) / len(z)


class CrossEntropy(Cost):
    """Categorical cross-entropy on softmax outputs, one-hot targets."""

    name = "cross_entropy"
    fused_activation = "softmax"

    def value(self, a, y):
        return -float(np.sum(y * np.log(np.clip(a, _TINY, None)))) / len(a)

    def gradient(self, a, y):
        return -y / (np.clip(a, _TINY, None) * len(a))

    def value_from_logits(self, z, y):
        m = z.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(z - m).sum(axis=1, keepdims=True)) + m
        return float(np.vdot(log_sum, y.sum(axis=1, keepdims=True)) - np.vdot(y, z)) / len(z)


COSTS = {"mse": MSE, "bce": BCE, "cross_entropy": CrossEntropy}


def make_cost(name: str) -> Cost:
    return COSTS[COST_ALIASES.get(name, name)]()

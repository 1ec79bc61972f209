"""Weight initialisation schemes (Glorot & Bengio's comparison, plus He)."""

from __future__ import annotations

import numpy as np


def normal(rng, shape, fan_in, fan_out):
    """N(0, 1): the notes' default; saturates sigmoid, explodes tanh and ReLU."""
    return rng.standard_normal(shape)


def standard(rng, shape, fan_in, fan_out):
    """U[-1/sqrt(n_in), 1/sqrt(n_in)]: Glorot & Bengio's "standard" initialisation."""
    limit = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-limit, limit, shape)


def xavier(rng, shape, fan_in, fan_out):
    """U[-sqrt(6/(n_in+n_out)), +sqrt(6/(n_in+n_out))]: keeps variances level for tanh."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


def he(rng, shape, fan_in, fan_out):
    """N(0, 2/n_in): keeps variances level for ReLU."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


INITIALISERS = {f.__name__: f for f in (normal, standard, xavier, he)}

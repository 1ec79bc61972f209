"""Small numeric helpers shared by the engine."""

from __future__ import annotations

import numpy as np

# OpenBLAS wakes its thread pool for dot products longer than about 10,000
# elements; on this kind of machine that costs 0.6-1.5 ms under load and slows
# the rest of the process afterwards. Chunks below that stay on one thread.
_CHUNK = 8192


def sum_of_squares(a: np.ndarray) -> float:
    """sum(a**2) without a temporary array and without waking BLAS threads."""
    flat = a.reshape(-1)
    if flat.size <= _CHUNK:
        return float(np.dot(flat, flat))
    return float(sum(np.dot(part, part) for part in
                     (flat[i:i + _CHUNK] for i in range(0, flat.size, _CHUNK))))


def norm(a: np.ndarray) -> float:
    """The Frobenius norm of a."""
    return float(np.sqrt(sum_of_squares(a)))

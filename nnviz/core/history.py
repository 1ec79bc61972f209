"""A fixed-memory, decimating time series for runs and live plots.

A training run can last millions of steps; the GUI must not grow with it.
`History` keeps at most `capacity` points in preallocated arrays.  When they
fill up it keeps every other point and from then on stores only every second
appended point, so the points stay evenly spread over the whole run (the
first point is never dropped) while memory stays constant.  The newest point
is always shown, even when the stride skips it, so a curve ends at "now".

Everything it returns is a fresh copy: pyqtgraph keeps views of the arrays it
is given, and these buffers are overwritten in place.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


class History:
    """`n_series` values per x position, in at most `capacity` points."""

    def __init__(self, n_series: int, capacity: int = 2048):
        if n_series < 1:
            raise ValueError("n_series must be at least 1")
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.n_series = n_series
        self.capacity = capacity
        self._x = np.empty(capacity)
        self._y = np.empty((n_series, capacity))
        self._tail_x = 0.0
        self._tail_y = np.empty(n_series)
        self.clear()

    def clear(self) -> None:
        """Forget every point (the buffers are reused)."""
        self._n = 0          # committed points; point k was append number k * stride
        self._stride = 1
        self._count = 0      # appends since the last clear

    @property
    def stride(self) -> int:
        """How many appends one stored point stands for."""
        return self._stride

    @property
    def appended(self) -> int:
        """Number of appends since the last clear."""
        return self._count

    def __len__(self) -> int:
        return self._n + self._has_tail()

    def append(self, x: float, values: Iterable[float | None]) -> None:
        """Add one point; None (or NaN) marks a missing value of a series."""
        row = self._tail_y
        row[:] = [np.nan if v is None else v for v in values]
        self._tail_x = x
        if self._count % self._stride == 0:
            self._x[self._n] = x
            self._y[:, self._n] = row
            self._n += 1
            if self._n == self.capacity:
                self._halve()
        self._count += 1

    def x(self) -> np.ndarray:
        """A copy of the x positions, oldest first."""
        if self._has_tail():
            return np.append(self._x[:self._n], self._tail_x)
        return self._x[:self._n].copy()

    def series(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (x, y) for series `i`, missing values as NaN."""
        if self._has_tail():
            return self.x(), np.append(self._y[i, :self._n], self._tail_y[i])
        return self.x(), self._y[i, :self._n].copy()

    def finite_series(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (x, y) for series `i` with NaN and infinite values left out."""
        x, y = self.series(i)
        keep = np.isfinite(y)
        return x[keep], y[keep]

    def rows(self) -> np.ndarray:
        """A copy of every kept point, one row per point: (len(self), n_series)."""
        if self._has_tail():
            return np.vstack([self._y[:, :self._n].T, self._tail_y])
        return self._y[:, :self._n].T.copy()

    def last(self) -> np.ndarray:
        """A copy of the newest appended values (NaN before the first append)."""
        if self._count == 0:
            return np.full(self.n_series, np.nan)
        return self._tail_y.copy()

    def _has_tail(self) -> bool:
        """True when the newest append was not stored as a committed point."""
        return self._count > 0 and (self._count - 1) != (self._n - 1) * self._stride

    def _halve(self) -> None:
        half = self.capacity // 2
        self._x[:half] = self._x[0::2]
        self._y[:, :half] = self._y[:, 0::2]
        self._n = half
        self._stride *= 2

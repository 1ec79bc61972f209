"""History: the bounded, evenly thinned series a Run keeps."""

import numpy as np
import pytest

from nnviz.core.history import History


def test_history_keeps_every_point_until_full():
    h = History(2, capacity=8)
    for i in range(5):
        h.append(i * 0.5, (i, None))
    x, y = h.series(0)
    assert x.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert y.tolist() == [0, 1, 2, 3, 4]
    assert np.isnan(h.series(1)[1]).all()
    assert h.finite_series(1)[0].size == 0


def test_history_halves_when_full_and_keeps_the_newest_point():
    h = History(1, capacity=8)
    for i in range(9):
        h.append(i, [i * 10])
    assert h.stride == 2
    assert h.x().tolist() == [0, 2, 4, 6, 8]
    for i in range(9, 12):
        h.append(i, [i * 10])
    # committed points every 2 appends, plus the newest (11) as the tail
    assert h.x().tolist() == [0, 2, 4, 6, 8, 10, 11]
    assert h.series(0)[1].tolist() == [0, 20, 40, 60, 80, 100, 110]
    assert h.last().tolist() == [110]


def test_history_stays_bounded_and_even_after_100k_appends():
    h = History(3, capacity=512)
    buffers = (h._x, h._y)
    for i in range(100_000):
        h.append(float(i), (i, -i, None))
    x = h.x()
    assert h._x is buffers[0] and h._y is buffers[1]        # no reallocation
    assert 256 <= len(x) <= 513
    assert x[0] == 0 and x[-1] == 99_999                    # first and newest kept
    steps = np.diff(x[:-1])
    assert (steps == h.stride).all()                        # evenly spread
    assert h.stride == 256
    assert h.appended == 100_000


def test_history_returns_copies():
    h = History(1, capacity=4)
    for i in range(3):
        h.append(i, [i])
    x, y = h.series(0)
    x[:] = -1
    y[:] = -1
    assert h.series(0)[1].tolist() == [0, 1, 2]
    for i in range(3, 10):                                  # buffers overwritten in place
        h.append(i, [i])
    assert y.tolist() == [-1, -1, -1]


def test_history_clear_and_bad_arguments():
    h = History(1, capacity=4)
    h.append(1.0, [1.0])
    h.clear()
    assert len(h) == 0 and h.x().size == 0 and np.isnan(h.last()).all()
    with pytest.raises(ValueError):
        History(1, capacity=5)
    with pytest.raises(ValueError):
        History(0)
    with pytest.raises(ValueError):
        h.append(0.0, [1.0, 2.0])

"""Shared GUI-test setup: offscreen Qt, collection between tests, a fake-snapshot factory."""

import gc
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .snapshots import make_snapshot as _make_snapshot
except ImportError:
    from snapshots import make_snapshot as _make_snapshot


@pytest.fixture
def make_snapshot():
    """The factory `make_snapshot(step, n_layers=3, ...)` from tests/gui/snapshots.py."""
    return _make_snapshot


@pytest.fixture(autouse=True)
def collect_garbage_between_tests():
    """No automatic collection inside a test: it can start inside a Qt call that holds
    Qt's signal-slot lock and deadlock deleting an earlier test's widgets (seen in CI).
    Collect here instead, after the test's widgets are closed."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()
    gc.collect()

"""Shared GUI-test setup: offscreen Qt, collection between tests (and no application
collector left behind), a fake-snapshot factory."""

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


@pytest.fixture(autouse=True)
def no_collector_left(qapp):
    """A test that installs the application's garbage collector (the screenshot
    renderer does) removes it afterwards, so the next test starts as this one did."""
    installed = hasattr(qapp, "_nnviz_gc")
    yield
    if not installed:
        from nnviz.gui.gc_policy import stop_collecting
        stop_collecting(qapp)

"""Shared GUI-test setup: offscreen Qt and a fake-snapshot factory."""

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

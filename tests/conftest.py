"""Settings for the whole test suite."""

import os
import shutil
import tempfile

# The data-set cache (nnviz/core/data_cache.py) in a folder of this run's own,
# inherited by the training processes the tests start: the tests never read
# arrays an earlier run, or the user's own nnviz, left behind.
_CACHE = tempfile.mkdtemp(prefix="nnviz-test-cache-")
os.environ["NNVIZ_CACHE_DIR"] = _CACHE


def pytest_unconfigure(config):
    shutil.rmtree(_CACHE, ignore_errors=True)

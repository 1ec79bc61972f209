"""An on-disk cache of generated data-set arrays, so a new process needs no scikit-learn.

Importing scikit-learn takes about 1.5 s of CPU (most of it SciPy), and every
built-in data set uses it (its generators, loaders, the stratified split and the
scaler).  The window, its training process and each grid worker would pay that
on every start.  The arrays are deterministic functions of the data-set spec, so
they are kept, once made, as plain ``.npz`` files (read with
``allow_pickle=False``: data, never code) under the user's cache folder.

The key holds everything the arrays depend on: the spec, the source of
``datasets.py`` (a changed generator never meets an old file) and the installed
scikit-learn and NumPy versions.  A missing, unreadable or corrupt file is made
again; a cache that cannot be written is skipped: the cache only ever saves time.

``NNVIZ_CACHE_DIR`` chooses the folder; set to an empty string it turns the
cache off.  The default is ``$XDG_CACHE_HOME/nnviz`` or ``~/.cache/nnviz``.  The
folder holds at most MAX_BYTES: the files used longest ago go first (a grid search
over seeds makes a file per seed), and a data set over a quarter of that is not kept.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

#: bumped when the layout of the files changes
FORMAT = 1
#: the most the cache folder holds; the files used longest ago are removed beyond it
MAX_BYTES = 256 * 2**20


def cache_dir() -> Path | None:
    """The folder of the data-set cache, or None when it is turned off."""
    chosen = os.environ.get("NNVIZ_CACHE_DIR")
    if chosen is not None:
        return Path(chosen).expanduser() if chosen.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnviz"


def cached_arrays(key: Mapping, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``make()``'s arrays, from the cache when an earlier call with ``key`` stored them.

    ``key``: JSON-able, everything the arrays depend on besides the versions this
    module adds.  The arrays returned are fresh and writable either way.
    """
    folder = cache_dir()
    if folder is None:
        return make()
    path = folder / f"{_digest(key)}.npz"
    arrays = _read(path)
    if arrays is None:
        arrays = make()
        if sum(a.nbytes for a in arrays.values()) <= MAX_BYTES // 4:
            _write(path, arrays)
            _prune(folder, keep=path)
    return arrays


def _digest(key: Mapping) -> str:
    text = json.dumps({"key": key, "versions": _versions()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=None)
def _versions() -> dict:
    """What else the arrays depend on: this package's data code and the libraries'."""
    from importlib import metadata
    source = Path(__file__).with_name("datasets.py").read_bytes()
    try:
        sklearn = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        sklearn = None
    return {"format": FORMAT, "datasets.py": hashlib.sha256(source).hexdigest(),
            "scikit-learn": sklearn, "numpy": np.__version__}


def _read(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None if it is missing or cannot be read as one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.array(data[name]) for name in data.files}
    except Exception:       # missing, truncated, not a zip, an object array: make it again
        return None
    try:
        os.utime(path)      # used now: the last to go when the folder is pruned
    except OSError:
        pass
    return arrays


def _prune(folder: Path, keep: Path) -> None:
    """Remove the files used longest ago until the folder holds at most MAX_BYTES."""
    try:
        files = [(f.stat().st_mtime, f.stat().st_size, f) for f in folder.glob("*.npz")]
    except OSError:
        return
    total = 0
    for _, size, file in sorted(files, key=lambda entry: entry[0], reverse=True):
        total += size
        if total > MAX_BYTES and file != keep:
            try:
                file.unlink()
            except OSError:
                pass


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Store atomically (a whole file or none, also with several processes at once);
    a cache that cannot be written is left alone."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(file, **arrays)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except (OSError, ValueError):
        pass

"""The wheel carries the presets, and they load from an installed copy, not only a checkout."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nnviz.core import Experiment, list_presets, load_preset

ROOT = Path(__file__).resolve().parents[2]


def test_every_preset_in_the_checkout_is_listed_and_valid():
    names = {name for name, _ in list_presets()}
    files = {p.stem for p in (ROOT / "resources" / "presets").glob("*.json")}
    assert files and names == files
    for name in names:
        assert isinstance(load_preset(name), Experiment)


@pytest.mark.slow
def test_wheel_contains_presets_and_every_package(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path),
                           str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("nnviz-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = {n for n in names if n.startswith("nnviz/resources/presets/") and n.endswith(".json")}
    assert len(presets) == len(list((ROOT / "resources" / "presets").glob("*.json")))
    for package in ("nnviz/core", "nnviz/gui", "nnviz/gui/views", "nnviz/gui/panels"):
        assert f"{package}/__init__.py" in names
    with zipfile.ZipFile(wheel) as zf:
        some = sorted(presets)[0]
        assert json.loads(zf.read(some))["format"] == "nnviz-experiment/1"

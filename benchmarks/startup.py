"""How long until the window is on screen, and until its experiment is loaded?

Launches ``nnviz [PRESET]`` as a user would (a new Python process, the
application's own ``main()``), repeatedly, and reports, from the moment the
process is started:

* **first paint**: the main window's first paint event (it is on screen);
* **loaded**: the experiment is loaded into the panels (Start can be pressed
  and answers: the window's worker has been asked to prepare);
* **import**: how long the imports before ``QApplication`` took;
* **first paint cpu**: the CPU time the process had used at its first paint
  (what the start-up costs, whatever else the machine is doing).

Each launch uses a fresh settings folder (a first start: no remembered
experiment) unless ``--warm-settings``, and a data-set cache that an uncounted
first launch filled (``--cold-cache``: an empty one, as at the very first start,
when scikit-learn makes the data set).  Run it on an idle machine::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup.py [--repeat 7] [PRESET]
    xvfb-run -a .venv/bin/python benchmarks/startup.py          # a real X window

Target (issue 7): first paint <= 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_FIRST_PAINT = 1.5

# Runs inside the launched process: the application's main(), with the main
# window's paintEvent wrapped to note its first paint (an application-wide event
# filter would itself cost tens of ms), then when the experiment has been
# loaded; then it quits.  Times are wall-clock (time.time()) so that the
# parent can subtract its own launch time.
DRIVER = r"""
import json, sys, time
launched = float(sys.argv[1])
marks = {}
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
marks["import"] = time.time() - launched
from nnviz.gui import app as nnviz_app, main_window

painting = main_window.MainWindow.paintEvent

def paint(window, event):            # the window's own paint, noted once
    painting(window, event)
    if "first_paint" not in marks:
        marks["first_paint"] = time.time() - launched
        marks["first_paint_cpu"] = time.process_time()
        QTimer.singleShot(0, lambda: poll(window))

def poll(window):
    if window._pending is None:
        marks["loaded"] = time.time() - launched
        print("MARKS " + json.dumps(marks), flush=True)
        QApplication.instance().exit(0)
    else:
        QTimer.singleShot(5, lambda: poll(window))

main_window.MainWindow.paintEvent = paint
sys.exit(nnviz_app.main(sys.argv[2] if len(sys.argv) > 2 else None))
"""


def launch(preset: str | None, settings_dir: str, cache_dir: str) -> dict:
    """One start of the application; the marks in seconds from the launch."""
    env = dict(os.environ, XDG_CONFIG_HOME=settings_dir, HOME=settings_dir,
               NNVIZ_CACHE_DIR=cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules are cached
    extra = [preset] if preset else []
    out = subprocess.run([sys.executable, "-c", DRIVER, repr(time.time()), *extra], env=env, capture_output=True, text=True, timeout=120)
    line = next((s for s in out.stdout.splitlines() if s.startswith("MARKS ")), None)
    if line is None:
        raise RuntimeError(f"the application did not report (exit {out.returncode}):\n{out.stderr}")
    return json.loads(line[len("MARKS "):])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default=None,
                        help="a preset's name or an experiment file (default: the first start's)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--warm-settings", action="store_true",
                        help="keep one settings folder across launches (the remembered experiment)")
    parser.add_argument("--cold-cache", action="store_true",
                        help="an empty data-set cache at every launch (the first start after "
                             "installing: scikit-learn makes the data set)")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as shared, tempfile.TemporaryDirectory() as cache:
        launch(args.preset, shared, cache)   # warms the file, bytecode and data caches
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as fresh:
                runs.append(launch(args.preset, shared if args.warm_settings else fresh,
                                   fresh if args.cold_cache else cache))
    print(f"nnviz start-up, {args.repeat} launches, platform "
          f"{os.environ.get('QT_QPA_PLATFORM', 'default')}, "
          f"{'empty' if args.cold_cache else 'warm'} data-set cache, "
          f"load {os.getloadavg()[0]:.2f}")
    for key in ("import", "first_paint", "first_paint_cpu", "loaded"):
        values = sorted(r[key] for r in runs)
        print(f"  {key:12s} median {statistics.median(values):5.2f} s"
              f"  min {values[0]:5.2f}  max {values[-1]:5.2f}")
    median = statistics.median(r["first_paint"] for r in runs)
    verdict = "meets" if median <= TARGET_FIRST_PAINT else "misses"
    print(f"first paint {median:.2f} s {verdict} the target of {TARGET_FIRST_PAINT} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

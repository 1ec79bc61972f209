"""Render the real window (or one of its views) to a PNG or SVG, offscreen.

``render`` trains synchronously on the GUI thread (no worker: the picture is
the same on every run), feeds the snapshots and the final view data to the
window exactly as a training session would, lets the views paint, and grabs
the window.  Used by ``nnviz screenshot`` and for the README's pictures.
"""

from __future__ import annotations

import math
import os
import tempfile
import time

from nnviz.core.errors import SpecError

WINDOW_SIZE = (1480, 920)
VIEW_SIZE = (960, 640)
MAX_FRAMES = 150           # snapshots fed to the curve views, spread over the run
SETTLE_SECONDS = 0.3       # event processing before the grab, so layouts settle


def _application():
    """The QApplication, created offscreen when none exists yet."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["nnviz-screenshot"])
    from nnviz.gui.gc_policy import collect_on_gui_thread
    collect_on_gui_thread(app)
    return app


def _experiment(experiment):
    from nnviz.core.experiment import Experiment
    if isinstance(experiment, Experiment):
        return experiment
    if isinstance(experiment, dict):
        return Experiment.from_dict(experiment)
    return Experiment.load(experiment)


def view_key(name: str) -> str:
    """The window's key ("loss", "gradient"...) for a view named by key, plural,
    objectName ("lossPlot") or dock title; SpecError for anything else."""
    from nnviz.gui.main_window import VIEWS
    wanted = name.strip().lower()
    for key, cls, title, _ in VIEWS:
        if wanted in (key, key + "s", cls.OBJECT_NAME.lower(), title.lower()):
            return key
    raise SpecError("view", f"unknown view {name!r}",
                    "choose one of: " + ", ".join(key for key, *_ in VIEWS))


def _settle(app, seconds: float = SETTLE_SECONDS) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def render(experiment, steps: int, out_path, view: str | None = None, *,
           large_font: bool = False, theme: str = "light") -> str:
    """Train ``steps`` steps of ``experiment`` (an Experiment, a dict or a file path)
    and save the window, or only ``view``, at ``out_path``: PNG, or a vector SVG when
    the path ends in .svg; returns the path."""
    from nnviz.core.trainer import Trainer
    from nnviz.gui.main_window import MainWindow, view_data
    from nnviz.gui.settings import Settings

    if steps < 0:
        raise SpecError("steps", f"must be >= 0, got {steps}", "use e.g. 200")
    key = view_key(view) if view else None
    out_path = os.fspath(out_path)
    app = _application()
    exp = _experiment(experiment)
    with tempfile.TemporaryDirectory(prefix="nnviz-shot-") as tmp:
        settings = Settings(os.path.join(tmp, "settings.ini"))
        settings.set_theme(theme)
        settings.set_large_font(large_font)
        window = MainWindow(exp, settings=settings, prepare=False)
        try:
            window.resize(*(VIEW_SIZE if key else WINDOW_SIZE))
            window.show()
            if key:
                _show_only(window, key)
            _settle(app, 0.1)
            window.begin_external_run()
            trainer = Trainer(exp, snapshot_every=max(1, math.ceil(steps / MAX_FRAMES)))
            if steps:
                for snap in trainer.run(max_steps=steps):
                    window.show_snapshot(snap)      # painted once, at the end
            for name in window.visible_views():
                window.show_view_data(name, view_data(name, trainer.network, trainer.dataset,
                                                      window.conv_image()))
            _show_summary(window, trainer)
            _settle(app)
            target = window.views[key] if key else window
            if out_path.lower().endswith(".svg"):
                from nnviz.gui.export import export_widget
                export_widget(target, out_path, title=exp.title or "nnviz")
            elif not target.grab().save(out_path, "PNG"):
                raise SpecError("out", f"cannot write {out_path!r}",
                                "choose a writable path ending in .png or .svg")
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()
    return out_path


def _show_summary(window, trainer) -> None:
    """Status bar of a synchronous run: steps, training speed and time."""
    labels = window.status_labels
    labels["state"].setText(f"Trained {trainer.step_count:,} steps")
    if trainer.elapsed > 0:
        labels["rate"].setText(f"{trainer.samples_seen / trainer.elapsed:,.0f} samples/s")
    labels["elapsed"].setText(f"{int(trainer.elapsed // 60)}:{trainer.elapsed % 60:04.1f}")


def _show_only(window, key: str) -> None:
    """Hide every dock but the view's, so the view fills the window."""
    for dock in list(window.setup_docks.values()) + list(window.docks.values()):
        if dock is not window.docks[key]:
            dock.hide()
    window.docks[key].show()
    window.docks[key].raise_()

"""Start the nnviz application: ``main(path=None) -> exit code``."""

from __future__ import annotations

import sys

from nnviz.core.errors import SpecError


def main(path: str | None = None) -> int:
    """Open the window with the experiment at ``path``, or the last one used
    (the default experiment the first time), and run until it is closed.

    An unreadable ``path`` is reported on stderr (naming the bad field) with
    exit code 2, before any window opens.
    """
    from PySide6.QtWidgets import QApplication

    from nnviz.cli import experiment_and_file
    from nnviz.gui.gc_policy import collect_on_gui_thread
    from nnviz.gui.main_window import MainWindow
    from nnviz.gui.settings import Settings

    experiment = None
    if path is not None:
        try:
            experiment, path = experiment_and_file(path)   # a file, or a preset's name
        except SpecError as exc:
            print(f"nnviz: cannot open {path}: {exc}", file=sys.stderr)
            return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("nnviz")
    app.setOrganizationName("nnviz")
    app.setApplicationDisplayName("nnviz")
    collect_on_gui_thread(app)
    settings = Settings()
    if experiment is None:
        experiment = _last_experiment(settings)
    window = MainWindow(experiment, settings=settings, load_later=True)   # on screen at once
    if path is not None:
        window.set_path(path)
    window.show()
    return app.exec()


def _last_experiment(settings):
    """The experiment open at the last exit, if it is still valid."""
    from nnviz.core.experiment import Experiment
    last = settings.last_experiment()
    if last is None:
        return None
    try:
        return Experiment.from_dict(last)
    except SpecError:
        return None

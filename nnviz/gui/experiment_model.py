"""The experiment being edited, as a model the window's panels bind to.

It holds the experiment dict (possibly invalid while the user types), checks
it with the engine after every change and says so: ``loaded`` when a whole
new experiment arrives (the editors show it), ``validated`` after every check
(panels mark the offending field, the controls enable Start).  It also knows
the file the experiment came from and whether it was edited since.
"""

from __future__ import annotations

import copy
import os

from PySide6.QtCore import QObject, Signal

from nnviz.core.experiment import Experiment
from nnviz.gui.panels.validation import Check, check_experiment


class ExperimentModel(QObject):
    loaded = Signal(dict)             # a new experiment: every editor shows it
    validated = Signal(object)        # the Check of the experiment as it now is
    pathChanged = Signal(object)      # the file it belongs to (str or None)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._spec: dict = {}
        self._check = Check()
        self.path: str | None = None
        self.modified = False

    # ------------------------------------------------------------------ reading
    @property
    def spec(self) -> dict:
        """The experiment as edited (a copy; possibly invalid)."""
        return copy.deepcopy(self._spec)

    @property
    def check(self) -> Check:
        return self._check

    @property
    def experiment(self) -> Experiment | None:
        """The experiment if it is valid, else None."""
        return self._check.experiment

    @property
    def valid(self) -> bool:
        return self._check.valid

    def section(self, key: str, default=None):
        return copy.deepcopy(self._spec.get(key, default))

    # ------------------------------------------------------------------ changing
    def load(self, spec: dict) -> None:
        """A whole new experiment (from a file, a preset, New): shown, then checked."""
        self._spec = copy.deepcopy(spec)
        self.modified = False
        self.loaded.emit(self.spec)
        self.revalidate()

    def update(self, spec: dict) -> None:
        """The user edited the experiment: keep it and check it."""
        self._spec = copy.deepcopy(spec)
        self.modified = True
        self.revalidate()

    def replace_quietly(self, spec: dict) -> None:
        """Take the editors' version of a just-loaded experiment (values the editors
        had to adjust), without marking it edited."""
        self._spec = copy.deepcopy(spec)

    def revalidate(self) -> None:
        self._check = check_experiment(self._spec)
        self.validated.emit(self._check)

    def set_path(self, path: str | os.PathLike | None) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.pathChanged.emit(self.path)

    def mark_saved(self) -> None:
        self.modified = False

"""The window's file commands: experiments (new, open, save, presets, recent files),
screenshots, and exports (a view as PNG/SVG, runs as CSV, weights with their experiment).

A mixin of ``MainWindow``: it uses the window's ``model`` (the experiment),
``settings``, ``views``, ``docks``, ``runs`` and ``session``.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from nnviz.core.errors import SpecError
from nnviz.core.experiment import Experiment, list_presets, load_preset

DEFAULT_PRESET = "moons_small"   # what a new window opens: a small net on a 2-D set
PRESET_ORDER = ("moons_small", "xor_small", "vanishing_sigmoid", "exploding_relu",
                "healthy_relu_he", "sigmoid_vs_relu_he", "sgd_vs_adam", "digits_mlp",
                "digits_cnn", "batchnorm_compare", "franke_regression")


class FileCommands:
    """Open, save and export, each with a dialog and a scriptable method."""

    def new_experiment(self) -> None:
        """Back to the default experiment, not tied to a file (pinned runs stay)."""
        self.set_experiment(None)
        self.set_path(None)

    def open_experiment(self, path: str | os.PathLike) -> bool:
        """Load an experiment file; a bad one is reported in a dialog naming the field,
        and the current experiment is kept."""
        path = os.fspath(path)
        try:
            experiment = Experiment.load(path)
        except SpecError as exc:
            if not os.path.exists(path):
                self.settings.remove_recent_file(path)
            QMessageBox.critical(self, "Cannot open experiment",
                                 f"{os.path.basename(path)} could not be opened:\n\n{exc}\n\n"
                                 "The current experiment is unchanged.")
            return False
        self.set_experiment(experiment)
        self.set_path(path)
        return True

    def set_path(self, path: str | os.PathLike | None) -> None:
        """The file the current experiment came from (Save writes there)."""
        self.model.set_path(path)
        if self.model.path:
            self.settings.add_recent_file(self.model.path)

    def open_preset(self, name: str) -> bool:
        try:
            experiment = load_preset(name)
        except SpecError as exc:
            QMessageBox.critical(self, "Cannot open preset", f"Preset {name!r}:\n\n{exc}")
            return False
        self.set_experiment(experiment)
        self.set_path(None)
        return True

    def save_experiment(self, path: str | os.PathLike) -> bool:
        """Write the current experiment to ``path``; it must be valid."""
        path = os.fspath(path)
        experiment = self.experiment
        try:
            if experiment is None:
                error = self.model.check.error
                raise SpecError(error.field, f"the experiment is not valid yet: {error}",
                                "fix the marked field first")
            experiment.save(path)
        except SpecError as exc:
            QMessageBox.critical(self, "Cannot save experiment", str(exc))
            return False
        self.model.mark_saved()
        self.setWindowModified(False)
        self.set_path(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open experiment", self._folder(),
                                              "nnviz experiments (*.json);;All files (*)")
        if path:
            self.open_experiment(path)

    def _save(self) -> None:
        if self.model.path:
            self.save_experiment(self.model.path)
        else:
            self._save_as_dialog()

    def _save_as_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save experiment", self._folder(),
                                              "nnviz experiments (*.json)")
        if path:
            if not path.endswith(".json"):
                path += ".json"
            self.save_experiment(path)

    def _screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", self._folder(),
                                              "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            if not self.grab().save(path, "PNG"):
                QMessageBox.critical(self, "Cannot save screenshot", f"Could not write {path}.")

    def export_runs(self, folder: str | os.PathLike) -> list[str]:
        """Write every run (pinned, then current) as ``<name>.csv`` into ``folder``."""
        folder = os.fspath(folder)
        paths = []
        for i, run in enumerate(self.runs):
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run.name)
            path = os.path.join(folder, f"{i + 1:02d}_{safe or 'run'}.csv")
            run.to_csv(path)
            paths.append(path)
        return paths

    def export_view(self, name: str, path: str | os.PathLike) -> str:
        """Save one view ("loss", "gradients", "activations", "output", "conv",
        "network") as PNG or SVG (a vector drawing), by the suffix of ``path``."""
        from nnviz.gui.export import export_widget
        from nnviz.gui.screenshot import view_key
        key = view_key(name)
        title = self.docks[key].windowTitle()
        return export_widget(self.views[key], path, title=f"nnviz — {title}")

    def _export_view_dialog(self, key: str) -> None:
        title = self.docks[key].windowTitle()
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {title}", os.path.join(self._folder(), f"{key}.png"),
            "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                self.statusBar().showMessage(f"Wrote {self.export_view(key, path)}", 6000)
            except SpecError as exc:
                QMessageBox.critical(self, "Cannot export view", str(exc))

    def _fill_export_menu(self) -> None:
        menu = self.menus["{export}"]
        menu.clear()
        for key, dock in self.docks.items():
            action = menu.addAction(f"{dock.windowTitle()}…")
            action.triggered.connect(lambda _=False, k=key: self._export_view_dialog(k))

    def export_weights(self, path: str | os.PathLike) -> None:
        """Ask the worker for the trained weights; they are written to ``path`` (.npz,
        no pickle), with the experiment beside it (.json), when they arrive."""
        session = self.session
        if session is None or not hasattr(session, "request_weights"):
            raise SpecError("weights", "there is no trained network yet", "train first")
        path = os.fspath(path)

        def write(arrays: dict) -> None:
            session.weights.disconnect(write)
            import numpy as np
            try:
                np.savez(path, **arrays)
                self.model.experiment.save(os.path.splitext(path)[0] + ".json")
            except (OSError, SpecError) as exc:
                QMessageBox.critical(self, "Cannot export weights", str(exc))
                return
            self.statusBar().showMessage(f"Wrote {path} and its experiment", 6000)
        session.weights.connect(write)
        session.request_weights()

    def _export_weights_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export weights",
                                              os.path.join(self._folder(), "weights.npz"),
                                              "numpy arrays (*.npz)")
        if path:
            if not path.endswith(".npz"):
                path += ".npz"
            try:
                self.export_weights(path)
            except SpecError as exc:
                QMessageBox.critical(self, "Cannot export weights", str(exc))

    def _export_runs_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export runs to folder", self._folder())
        if folder:
            try:
                paths = self.export_runs(folder)
            except SpecError as exc:
                QMessageBox.critical(self, "Cannot export runs", str(exc))
                return
            self.statusBar().showMessage(f"Wrote {len(paths)} CSV files to {folder}", 6000)

    def _folder(self) -> str:
        recent = self.settings.recent_files()
        return os.path.dirname(self.model.path or (recent[0] if recent else "")) or os.getcwd()

    def _fill_recent_menu(self) -> None:
        menu = self.menus["{recent}"]
        menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = menu.addAction(os.path.basename(path))
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_experiment(p))
        if not files:
            menu.addAction("(none)").setEnabled(False)

    def _fill_presets_menu(self) -> None:
        menu = self.menus["{presets}"]
        menu.clear()
        presets = sorted(list_presets(), key=lambda p: (
            PRESET_ORDER.index(p[0]) if p[0] in PRESET_ORDER else len(PRESET_ORDER), p[1]))
        for name, title in presets:
            action = menu.addAction(title)
            action.triggered.connect(lambda _=False, n=name: self.open_preset(n))
        if not presets:
            menu.addAction("(none installed)").setEnabled(False)

    @property
    def presets_menu(self) -> QMenu:
        return self.menus["{presets}"]

    @property
    def recent_menu(self) -> QMenu:
        return self.menus["{recent}"]

    def _update_title(self) -> None:
        path = self.model.path
        name = os.path.basename(path) if path else self.model.spec.get("title") or "untitled"
        self.setWindowTitle(f"{name}[*] — nnviz")

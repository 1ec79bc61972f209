"""The main window: set up an experiment, train it in the background, watch it learn.

The window owns the experiment as a plain dict (``experiment_dict``), edited
by the panels and checked by the engine after every edit; a valid one becomes
an ``Experiment`` that a ``TrainingSession`` trains off the GUI thread.  A
``ViewPacer`` per session hands its snapshots to the curve views and its view
data to the heavy views, one view per event-loop turn and only to the views on
screen (a hidden one gets the newest data when it is shown); the window's own
snapshot slot updates only the status bar.  Before a run the heavy views show
the freshly initialised network.
"""

from __future__ import annotations

import copy
import importlib
import math
import os
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow,
                               QMenu, QMessageBox, QSizePolicy, QTabBar, QTabWidget, QToolBar,
                               QWidget)

from nnviz.core.errors import SpecError
from nnviz.core.experiment import Experiment, list_presets, load_preset
from nnviz.core.viewdata import view_data
from nnviz.gui import theme
from nnviz.gui.panels import ControlsPanel, DataPanel, ModelBuilder, TrainingPanel
from nnviz.gui.panels.controls import ENDED
from nnviz.gui.panels.widgets import ElidedLabel
from nnviz.gui.panels.training_panel import LIVE_KEYS
from nnviz.gui.panels.validation import (Check, check_experiment, fit_to_dataset, input_shapes,
                                         load_cached)
from nnviz.gui.settings import Settings

DEFAULT_PRESET = "moons_small"   # what a new window opens: a small net on a 2-D set
PRESET_ORDER = ("moons_small", "xor_small", "vanishing_sigmoid", "exploding_relu",
                "healthy_relu_he", "digits_mlp", "digits_cnn", "franke_regression")

# key, class, module, dock title, name of its view data (None: fed by snapshots)
VIEWS = (
    ("loss", "LossView", "loss_view", "Loss and accuracy", None),
    ("gradient", "GradientView", "gradient_view", "Gradients", None),
    ("activation", "ActivationView", "activation_view", "Activations", None),
    ("output", "OutputView", "output_view", "Output", "output"),
    ("conv", "ConvView", "conv_view", "Convolution", "conv"),
    ("network", "NetworkView", "network_view", "Network diagram", "network"),
)
VIEW_OBJECT_NAMES = {"loss": "lossPlot", "gradient": "gradientPlot", "activation": "activationPlot",
                     "output": "outputView", "conv": "convView", "network": "networkView"}
CONV_CHOICES = 12          # validation images offered to the convolution view
PREPARE_DELAY_MS = 800     # quiet time after the last edit before the worker is started
STATE_VERSION = 1          # bump when the dock layout changes incompatibly
STATE_TEXT = {"idle": "Ready", "running": "Training…", "paused": "Paused",
              "finished": "Finished", "stopped": "Stopped", "diverged": "Diverged",
              "error": "Error"}


class _PlaceholderView(QLabel):
    """Stands in for a view that is not installed, with the same small API."""

    def __init__(self, key: str):
        super().__init__(f"The {key} view is not available.")
        self.setObjectName(VIEW_OBJECT_NAMES[key])
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def update_snapshot(self, snap) -> None:
        pass

    def update_data(self, data) -> None:
        pass

    def clear(self) -> None:
        pass

    def set_font_scale(self, scale: float) -> None:
        pass


def make_view(key: str, class_name: str, module: str) -> QWidget:
    """The view class from nnviz.gui.views (or its module), else a placeholder."""
    for path in ("nnviz.gui.views", f"nnviz.gui.views.{module}"):
        try:
            cls = getattr(importlib.import_module(path), class_name)
        except (ImportError, AttributeError):
            continue
        return cls()
    return _PlaceholderView(key)


def _live_free(experiment: dict) -> dict:
    """The experiment without what a running session can change live."""
    d = copy.deepcopy(experiment)
    training = d.get("training", {})
    training.get("optimizer", {}).pop("eta", None)
    for key in LIVE_KEYS:
        training.pop(key, None)
    for key in ("title", "description", "format"):
        d.pop(key, None)
    return d


def _live_values(experiment: dict) -> dict:
    training = experiment.get("training", {})
    return {"eta": training.get("optimizer", {}).get("eta"), "l2": training.get("l2"),
            "clip_norm": training.get("clip_norm")}


def _as_dict(experiment) -> dict:
    if experiment is None:
        return load_preset(DEFAULT_PRESET).to_dict()
    if isinstance(experiment, Experiment):
        return experiment.to_dict()
    return Experiment.from_dict(experiment).to_dict()


class MainWindow(QMainWindow):
    """The nnviz window. ``MainWindow(experiment=None)`` opens the default experiment.

    ``settings`` (a :class:`Settings`) stores layout, recent files and the last
    experiment; tests pass one backed by a temporary file.  ``session_factory``
    (default ``TrainingSession``) makes the training session for an Experiment;
    with ``prepare`` its worker is started while the window is idle, so that
    Start responds at once.
    """

    def __init__(self, experiment=None, *, settings: Settings | None = None,
                 session_factory=None, prepare: bool = True):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else Settings()
        self._session_factory = session_factory
        self.session = None
        self.pacer = None                # feeds the views from self.session
        self._started = False
        self._prepare = prepare
        self._spec: dict = {}
        self._check = Check()
        self._path: str | None = None
        self._conv_index = 0
        self._font_scale = 1.0
        self._theme = self.settings.theme()
        self._run_clock = 0.0            # seconds spent running (wall clock)
        self._running_since: float | None = None
        self._rate: float | None = None
        self._last_snap = None
        self._prev_rate_point: tuple[float, int] | None = None
        self._closing = False

        self.resize(1480, 920)
        self._build_panels()
        self._build_views()
        self._build_menus()
        self._build_status_bar()
        self._idle_timer = QTimer(self, singleShot=True, interval=60)
        self._idle_timer.timeout.connect(self._refresh_idle_views)
        self._visible_timer = QTimer(self, singleShot=True, interval=0)
        self._visible_timer.timeout.connect(self._send_visible_views)
        self._prepare_timer = QTimer(self, singleShot=True, interval=PREPARE_DELAY_MS)
        self._prepare_timer.timeout.connect(self._prepare_session)
        self._clock_timer = QTimer(self, interval=500)
        self._clock_timer.timeout.connect(self._update_clock)

        self._arranged = False           # docks are placed on the first show
        self._default_state = None
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        theme.apply_theme(self._theme, self)
        self.theme_action.setChecked(self._theme == "dark")
        self.set_large_font(self.settings.large_font(), remember=False)
        self.set_experiment(experiment)

    # ================================================================== building
    def _build_panels(self) -> None:
        self.data_panel = DataPanel()
        self.model_builder = ModelBuilder()
        self.training_panel = TrainingPanel()
        self.controls = ControlsPanel()
        self.data_panel.changed.connect(lambda: self._on_edit("data"))
        self.model_builder.changed.connect(lambda: self._on_edit("model"))
        self.training_panel.changed.connect(lambda: self._on_edit("training"))
        self.controls.startClicked.connect(self.start_pause)
        self.controls.stepClicked.connect(self.step)
        self.controls.stopClicked.connect(self.stop)
        self.controls.resetClicked.connect(self.reset)
        self.start_button = self.controls.start_button
        self.step_button = self.controls.step_button
        self.stop_button = self.controls.stop_button
        self.reset_button = self.controls.reset_button

        toolbar = QToolBar("Training controls")
        toolbar.setObjectName("controlsToolBar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.controls)
        self.scenario_label = QLabel()               # the experiment's title...
        self.scenario_label.setObjectName("scenarioLabel")
        self.scenario_label.setContentsMargins(12, 0, 8, 0)
        self.description_label = ElidedLabel()       # ...and what to watch, cut to fit
        self.description_label.setObjectName("descriptionLabel")
        self.description_label.setSizePolicy(QSizePolicy.Policy.Expanding,
                                             QSizePolicy.Policy.Preferred)
        toolbar.addWidget(self.scenario_label)
        toolbar.addWidget(self.description_label)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

        self.setup_docks = {key: self._dock(key, title, widget) for key, title, widget in (
            ("data", "Data", self.data_panel), ("model", "Model", self.model_builder),
            ("training", "Training", self.training_panel))}

    def _build_views(self) -> None:
        self.views: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        for key, class_name, module, title, _ in VIEWS:
            view = make_view(key, class_name, module)
            self.views[key] = view
            dock = self._dock(key, title, view)
            dock.visibilityChanged.connect(self._schedule_visible_views)
            self.docks[key] = dock
        conv = self.views["conv"]
        if hasattr(conv, "imageChosen"):
            conv.imageChosen.connect(self._conv_image_chosen)

    def _arrange_docks(self) -> None:
        """Setup panels tabbed on the left; views two by two on the right, with
        Activations behind Gradients and Convolution behind the diagram.

        Runs on the first show: arranging nested, tabbed docks before the window
        is shown leaves stray copies of the tab bars on screen (Qt 6.11).
        """
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.setDockNestingEnabled(True)
        self.setTabPosition(left, QTabWidget.TabPosition.North)
        s, d = self.setup_docks, self.docks
        for dock in s.values():
            self.addDockWidget(left, dock)
        self.tabifyDockWidget(s["data"], s["model"])
        self.tabifyDockWidget(s["model"], s["training"])
        self.addDockWidget(right, d["loss"])
        self.splitDockWidget(d["loss"], d["gradient"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["loss"], d["output"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["gradient"], d["network"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["gradient"], d["activation"])
        self.tabifyDockWidget(d["network"], d["conv"])
        for dock in (s["model"], d["gradient"], d["network"]):
            dock.raise_()
        if self._has_conv():
            d["conv"].raise_()
        self._default_sizes()

    def _default_sizes(self) -> None:
        s, d = self.setup_docks, self.docks
        self.resizeDocks([s["model"], d["loss"], d["gradient"]], [430, 520, 520],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([d["loss"], d["output"]], [1, 1], Qt.Orientation.Vertical)
        # the gradient view may carry a banner: give its column's top more room
        self.resizeDocks([d["gradient"], d["network"]], [3, 2], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._arranged:
            self._arranged = True
            self._arrange_docks()
            self._default_state = self.saveState(STATE_VERSION)
            state = self.settings.window_state()
            if state is not None:
                self.restoreState(state, STATE_VERSION)
            self._schedule_visible_views()

    def _has_conv(self) -> bool:
        return any(l.get("type") == "conv2d" for l in self._spec.get("model", {}).get("layers", []))

    def _dock(self, key: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New experiment", self.new_experiment, QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open experiment…", self._open_dialog, QKeySequence.StandardKey.Open)
        self.presets_menu = file_menu.addMenu("Open &preset")
        self.presets_menu.aboutToShow.connect(self._fill_presets_menu)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self._action(file_menu, "&Save experiment", self._save, QKeySequence.StandardKey.Save)
        self._action(file_menu, "Save experiment &as…", self._save_as_dialog,
                     QKeySequence.StandardKey.SaveAs)
        self._action(file_menu, "Save &screenshot…", self._screenshot_dialog)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        train_menu = bar.addMenu("&Training")
        self.start_action = self._action(train_menu, "Start / Pause", self.start_pause,
                                         QKeySequence(Qt.Key.Key_Space))
        self.start_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._action(train_menu, "Step one batch", self.step, QKeySequence("Ctrl+Right"))
        self._action(train_menu, "Stop", self.stop, QKeySequence("Ctrl+."))
        self._action(train_menu, "Reset weights", self.reset, QKeySequence("Ctrl+R"))

        view_menu = bar.addMenu("&View")
        for dock in list(self.setup_docks.values()) + list(self.docks.values()):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        self.large_font_action = self._action(view_menu, "&Large fonts (projector)",
                                              self.set_large_font, QKeySequence("Ctrl+L"),
                                              checkable=True)
        self.theme_action = self._action(view_menu, "&Dark theme",
                                         lambda on: self.set_theme("dark" if on else "light"),
                                         QKeySequence("Ctrl+D"), checkable=True)
        self._action(view_menu, "Reset &layout", self.reset_layout)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About nnviz", self._about)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setCheckable(checkable)
        action.triggered.connect(slot if checkable else (lambda _=False: slot()))
        menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_labels = {}
        for key in ("state", "epoch", "step", "rate", "elapsed"):
            label = QLabel()
            label.setObjectName(f"{key}Label")
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
            self.status_labels[key] = label
        self._show_progress(None)

    # ================================================================== experiment
    @property
    def experiment(self) -> Experiment | None:
        """The current experiment if it is valid, else None."""
        return self._check.experiment

    def experiment_dict(self) -> dict:
        """The experiment as edited (a copy; possibly invalid)."""
        return copy.deepcopy(self._spec)

    def set_experiment(self, experiment=None) -> None:
        """Show ``experiment`` (an Experiment or a dict; None: the default) from scratch.

        Raises SpecError for an invalid dict, leaving the window as it was.
        """
        spec = _as_dict(experiment)
        self._end_session()
        self._spec = spec
        self._load_panels(spec)
        self._spec = self._collect()        # what the editors hold is what will train
        if self._spec != spec:
            self.statusBar().showMessage("Some values of the experiment were outside the "
                                         "editors' ranges and have been adjusted.", 10000)
        self._validate()
        if self._has_conv():
            self.docks["conv"].raise_()
        self.setWindowModified(False)
        self._update_title()
        self._show_progress(None)

    def _load_panels(self, spec: dict) -> None:
        self.data_panel.set_spec(spec["dataset"])
        try:
            shapes = input_shapes(spec["dataset"])
        except SpecError:
            shapes = []
        self.model_builder.set_model(spec["model"], shapes)
        self.training_panel.set_values(spec["model"], spec.get("training", {}))
        title = spec.get("title") or ""
        description = spec.get("description") or ""
        self.scenario_label.setText(f"<b>{_escape(title)}</b>" if title else "")
        self.scenario_label.setToolTip(description)
        self.description_label.set_full_text(description)

    def _collect(self) -> dict:
        """The experiment dict as the panels show it."""
        spec = {key: self._spec[key] for key in ("format", "title", "description") if key in self._spec}
        spec["dataset"] = self.data_panel.spec()
        spec["model"] = {"input_shape": self.model_builder.input_shape(),
                         "layers": self.model_builder.layers(),
                         **self.training_panel.model_values()}
        spec["training"] = self.training_panel.training()
        return spec

    def _on_edit(self, source: str) -> None:
        new = self._collect()
        if source == "data" and new["dataset"] != self._spec.get("dataset"):
            new = self._fit_dataset(new)
        if self.has_run:
            if _live_free(new) != _live_free(self._spec):
                if not self._confirm_reset():
                    self._load_panels(self._spec)
                    return
                self._end_session()
            else:
                self._apply_live(new)
        elif self.session is not None:          # prepared for the old experiment
            self._end_session(clear=False)
        self._spec = new
        self._validate()
        self.setWindowModified(True)

    def _fit_dataset(self, spec: dict) -> dict:
        """Adapt input shape and output layer to a newly chosen data set."""
        try:
            shapes = input_shapes(spec["dataset"])
            dataset = load_cached(spec["dataset"])
        except SpecError:
            return spec                     # _validate shows the data-set error
        fitted = fit_to_dataset(spec, shapes, dataset)
        self.model_builder.set_model(fitted["model"], shapes)
        self.training_panel.set_values(fitted["model"], fitted["training"])
        return self._collect()

    def _apply_live(self, new: dict) -> None:
        old, now = _live_values(self._spec), _live_values(new)
        changed = {k: v for k, v in now.items() if v != old.get(k)}
        if changed:
            self.session.set_hyperparameters(**changed)
            self.statusBar().showMessage("Applied to the running training: " + ", ".join(
                f"{k} = {'off' if v is None else f'{v:g}'}" for k, v in changed.items()), 4000)

    def _confirm_reset(self) -> bool:
        answer = QMessageBox.question(
            self, "Start a new run?",
            "This change needs a new network: the current run and its trained weights "
            "will be discarded.\n\nReset and apply the change?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def _validate(self) -> None:
        """Check the experiment, mark problems where they are, refresh previews."""
        self._check = check = check_experiment(self._spec)
        message = str(check.error) if check.error else None
        self.model_builder.show_check(check)
        self.data_panel.show_error(check.key if check.section == "data" else None,
                                   message if check.section == "data" else None)
        training_key = check.key if check.section == "training" or check.key == "cost" else None
        self.training_panel.show_error(training_key, message if training_key else None)
        if check.error and check.section == "":
            self.statusBar().showMessage(message, 10000)
        self._update_data_preview()
        self._update_conv_choices()
        self._update_controls()
        if not self._started:
            self._idle_timer.start()
            self._prepare_timer.start()

    def _update_data_preview(self) -> None:
        dataset_spec = self._spec["dataset"]
        try:
            shapes = input_shapes(dataset_spec)
            image = next((s for s in shapes if len(s) == 3), None)
            dataset = self._check.dataset or load_cached(dataset_spec)
        except SpecError:
            self.data_panel.show_preview(None)
            return
        self.data_panel.show_preview(dataset, image)

    def _update_conv_choices(self) -> None:
        conv = self.views["conv"]
        if not hasattr(conv, "set_image_choices"):
            return
        dataset = self._check.dataset
        if dataset is None or len(dataset.input_shape) != 3:
            conv.set_image_choices([])
            return
        source = dataset.X_val if len(dataset.X_val) else dataset.X_train
        labels = dataset.y_val if len(dataset.X_val) else dataset.y_train
        n = min(CONV_CHOICES, len(source))
        names = [f"#{i}: {dataset.class_names[int(labels[i])]}" if dataset.class_names
                 else f"#{i}" for i in range(n)]
        self._conv_index = min(self._conv_index, max(n - 1, 0))
        conv.set_image_choices(names, self._conv_index)

    def conv_image(self):
        """The image the convolution view shows (None: the network takes no images)."""
        dataset = self._check.dataset
        if dataset is None or len(dataset.input_shape) != 3:
            return None
        source = dataset.X_val if len(dataset.X_val) else dataset.X_train
        return source[min(self._conv_index, len(source) - 1)]

    def _conv_image_chosen(self, index: int) -> None:
        self._conv_index = max(index, 0)
        if self.session is not None:
            self.session.set_conv_image(self.conv_image())
        if not self._started:
            self._idle_timer.start()

    def _refresh_idle_views(self) -> None:
        """Before a run: the heavy views show the network as initialised."""
        if self._started or self._closing:
            return
        check = self._check
        for key, *_, name in VIEWS:
            if name is None:
                continue
            view = self.views[key]
            if not check.valid:
                view.clear()
                continue
            try:
                view.update_data(view_data(name, check.network, check.dataset, self.conv_image()))
            except SpecError as exc:
                view.clear()
                self.statusBar().showMessage(str(exc), 5000)

    # ================================================================== files
    def new_experiment(self) -> None:
        """Back to the default experiment, not tied to a file."""
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
        self._path = os.fspath(path) if path is not None else None
        if self._path:
            self.settings.add_recent_file(self._path)
        self._update_title()

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
                raise SpecError(self._check.error.field, "the experiment is not valid yet: "
                                f"{self._check.error}", "fix the marked field first")
            experiment.save(path)
        except SpecError as exc:
            QMessageBox.critical(self, "Cannot save experiment", str(exc))
            return False
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
        if self._path:
            self.save_experiment(self._path)
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

    def _folder(self) -> str:
        recent = self.settings.recent_files()
        return os.path.dirname(self._path or (recent[0] if recent else "")) or os.getcwd()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(os.path.basename(path))
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_experiment(p))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _fill_presets_menu(self) -> None:
        self.presets_menu.clear()
        presets = sorted(list_presets(), key=lambda p: (
            PRESET_ORDER.index(p[0]) if p[0] in PRESET_ORDER else len(PRESET_ORDER), p[1]))
        for name, title in presets:
            action = self.presets_menu.addAction(title)
            action.triggered.connect(lambda _=False, n=name: self.open_preset(n))
        if not presets:
            self.presets_menu.addAction("(none installed)").setEnabled(False)

    def _update_title(self) -> None:
        name = (os.path.basename(self._path) if self._path
                else self._spec.get("title") or "untitled")
        self.setWindowTitle(f"{name}[*] — nnviz")

    # ================================================================== training
    @property
    def state(self) -> str:
        return self.session.state if self.session is not None else "idle"

    @property
    def last_snapshot(self):
        """The newest snapshot shown (None before the first of a run)."""
        return self._last_snap

    @property
    def has_run(self) -> bool:
        """A run was started (its weights would be lost by a reset)."""
        return self.session is not None and self._started

    def start_pause(self) -> None:
        """Start, pause or resume (Space); after a run ended, start a fresh one."""
        state = self.state
        if state == "running":
            self.session.pause()
        elif state == "paused":
            self.session.resume()
        elif self._check.valid:
            session = self._begin_run()
            if session is not None:
                session.start()
        self._update_controls()

    def step(self) -> None:
        """Train one mini-batch, then pause."""
        if self.state == "running" or not self._check.valid:
            return
        session = self._begin_run()
        if session is not None:
            session.step()
        self._update_controls()

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    def reset(self) -> None:
        """Discard the run: fresh weights, empty plots."""
        self._end_session()
        self._update_controls()

    def _ensure_session(self):
        if self.session is None:
            factory = self._session_factory
            if factory is None:
                from nnviz.gui.session import TrainingSession as factory
            session = factory(self._check.experiment, self)
            for signal, slot in self._session_slots(session):
                signal.connect(slot)
            session.set_visible_views(self.visible_views())
            session.set_conv_image(self.conv_image())
            self.pacer = self._make_pacer(session)
            self.session = session
        return self.session

    def _session_slots(self, session):
        return ((session.snapshot, self._on_snapshot), (session.stateChanged, self._on_state),
                (session.message, self._on_message))

    def _make_pacer(self, session):
        """The views, fed from ``session`` one per event-loop turn (it calls
        ``session.frame_painted`` when a frame is on screen)."""
        from nnviz.gui.session_pacer import ViewPacer
        pacer = ViewPacer(session)
        for key, *_, name in VIEWS:
            if name is None:
                pacer.add_snapshot_view(self.views[key])
            else:
                pacer.add_data_view(name, self.views[key])
        return pacer

    def _begin_run(self):
        """The session to train with (a fresh one after a run ended); the curve
        views start empty."""
        if self.state in ENDED:
            self._end_session()
        if not self._started:
            self._started = True
            self._reset_progress()
            for key, *_, name in VIEWS:
                if name is None:
                    self.views[key].clear()
        return self._ensure_session()

    def begin_external_run(self) -> None:
        """Snapshots and view data will be fed from outside (a screenshot trains
        synchronously): no worker, no previews of the initial network."""
        self._end_session(clear=False)
        self._started = True
        self._idle_timer.stop()
        self._prepare_timer.stop()

    def _prepare_session(self) -> None:
        """Start the worker ahead of time (it takes a few seconds to spawn and load
        the data), so that Start begins at once."""
        if (self.session is None and self._check.valid and self.isVisible()
                and not self._closing and self._prepare):
            session = self._ensure_session()
            if hasattr(session, "prepare"):
                session.prepare()

    def _end_session(self, clear: bool = True) -> None:
        """Shut the session down (promptly, on every path) and clear the plots."""
        self._started = False
        self._prepare_timer.stop()
        session, self.session = self.session, None
        pacer, self.pacer = self.pacer, None
        if pacer is not None:
            pacer.close()                 # no more updates, event filters removed
            pacer.setParent(None)
            pacer.deleteLater()
        if session is not None:
            for signal, slot in self._session_slots(session):
                signal.disconnect(slot)
            session.shutdown()
            session.setParent(None)
            session.deleteLater()
        self._reset_progress()
        if clear:
            for view in self.views.values():
                view.clear()
        self._update_controls()
        if not self._closing:
            self._idle_timer.start()
            self._prepare_timer.start()

    def _on_snapshot(self, snap) -> None:
        """A snapshot of the session: the status bar (the pacer feeds the views)."""
        self._show_progress(snap)

    def show_snapshot(self, snap) -> None:
        """A snapshot fed from outside (``begin_external_run``): every curve view
        at once, and the status bar."""
        for key, *_, name in VIEWS:
            if name is None:
                self.views[key].update_snapshot(snap)
        self._show_progress(snap)

    def show_view_data(self, name: str, data) -> None:
        """View data fed from outside (``begin_external_run``): to the view of that name."""
        view = self.views.get(name)
        if view is not None:
            view.update_data(data)

    def _on_state(self, state: str) -> None:
        now = time.perf_counter()
        if state == "running" and self._running_since is None:
            self._running_since = now
            self._clock_timer.start()
        elif state != "running" and self._running_since is not None:
            self._run_clock += now - self._running_since
            self._running_since = None
            self._clock_timer.stop()
        self._update_controls()
        self._update_clock()

    def _on_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
        label = self.status_labels["state"]
        label.setToolTip(text)

    def _update_controls(self) -> None:
        state = self.state
        reason = "" if self._check.valid else f"Fix this first: {self._check.error}"
        self.controls.set_state(state, can_start=self._check.valid,
                                has_run=self.has_run, reason=reason)
        label = self.status_labels["state"]
        label.setText(STATE_TEXT.get(state, state) if self._check.valid or self.session
                      else "Not valid")
        bad = state in ("diverged", "error") or not (self._check.valid or self.session)
        label.setStyleSheet(f"color: {theme.current().error}; font-weight: bold;" if bad else "")

    # ================================================================== status bar
    def _reset_progress(self) -> None:
        self._run_clock = 0.0
        self._running_since = None
        self._clock_timer.stop()
        self._rate = None
        self._prev_rate_point = None
        self._last_snap = None
        self._show_progress(None)

    def _show_progress(self, snap) -> None:
        labels = self.status_labels
        total_epochs = int(self._spec.get("training", {}).get("epochs", 0)) if self._spec else 0
        if snap is None:
            labels["epoch"].setText(f"Epoch 0 / {total_epochs}")
            labels["step"].setText("Step 0")
            labels["rate"].setText("– samples/s")
            labels["elapsed"].setText("0:00")
            return
        self._last_snap = snap
        now = self._wall_clock()
        if self._prev_rate_point is not None and now > self._prev_rate_point[0] + 0.2:
            t0, s0 = self._prev_rate_point
            rate = (snap.samples_seen - s0) / (now - t0)
            self._rate = rate if self._rate is None else 0.7 * self._rate + 0.3 * rate
            self._prev_rate_point = (now, snap.samples_seen)
        elif self._prev_rate_point is None:
            self._prev_rate_point = (now, snap.samples_seen)
        labels["epoch"].setText(f"Epoch {snap.epoch_progress:.1f} / {total_epochs}")
        total = self._total_steps()
        labels["step"].setText(f"Step {snap.step:,}" + (f" / {total:,}" if total else ""))
        labels["rate"].setText("– samples/s" if self._rate is None
                               else f"{self._rate:,.0f} samples/s")
        self._update_clock()

    def _total_steps(self) -> int | None:
        dataset = self._check.dataset
        if dataset is None:
            return None
        training = self._spec["training"]
        n = len(dataset.X_train)
        return math.ceil(n / min(training["batch_size"], n)) * training["epochs"]

    def _wall_clock(self) -> float:
        running = time.perf_counter() - self._running_since if self._running_since else 0.0
        return self._run_clock + running

    def _update_clock(self) -> None:
        seconds = self._wall_clock()
        self.status_labels["elapsed"].setText(f"{int(seconds // 60)}:{seconds % 60:04.1f}")

    # ================================================================== views
    def visible_views(self) -> set[str]:
        """The heavy views (output, conv, network) a user can currently see."""
        shown = self.isVisible()
        names = set()
        for key, *_, name in VIEWS:
            dock = self.docks[key]
            # a dock behind another tab stays "visible", moved off screen
            seen = not dock.visibleRegion().isEmpty() if shown else not dock.isHidden()
            if name is not None and seen:
                names.add(name)
        return names

    def _schedule_visible_views(self, *_) -> None:
        self._visible_timer.start()

    def _send_visible_views(self) -> None:
        if self.session is not None:
            self.session.set_visible_views(self.visible_views())
        if self.pacer is not None:
            self.pacer.refresh()         # views now in sight get what they missed

    def reset_layout(self) -> None:
        """Back to the arrangement of a first start."""
        if self._default_state is None:
            return
        before = self._tab_bars()
        self.restoreState(self._default_state, STATE_VERSION)
        # Qt 6.11 leaves the tab bars of the old layout on screen, frozen in place,
        # when restoreState makes new ones: hide every old bar that has a successor.
        new = [bar for bar in self._tab_bars() if bar not in before]
        titles = {_tab_titles(bar) for bar in new}
        for bar in before:
            if _tab_titles(bar) in titles:
                bar.hide()
        self._default_sizes()

    def _tab_bars(self) -> list[QTabBar]:
        return self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)

    # ================================================================== presentation
    def set_large_font(self, on: bool, remember: bool = True) -> None:
        """Projector mode: larger text in the panels, menus and every view."""
        on = bool(on)
        self._font_scale = theme.font_scale(on)
        base = QApplication.font()
        font = QFont(base)
        if base.pointSizeF() > 0:
            font.setPointSizeF(base.pointSizeF() * self._font_scale)
        self.setFont(font)
        for menu in self.findChildren(QMenu):
            menu.setFont(font)
        for view in self.views.values():
            view.set_font_scale(self._font_scale)
        self.large_font_action.blockSignals(True)
        self.large_font_action.setChecked(on)
        self.large_font_action.blockSignals(False)
        self.model_builder.sync_sizes()
        if remember:
            self.settings.set_large_font(on)

    @property
    def font_scale(self) -> float:
        return self._font_scale

    def set_theme(self, name: str) -> None:
        """Light or dark: widgets, plots and error marks."""
        self._theme = name
        theme.apply_theme(name, self)
        for view in self.views.values():
            if hasattr(view, "set_theme"):
                view.set_theme(name)
            view.set_font_scale(self._font_scale)      # re-renders titles in the new colours
        self._validate()
        self.theme_action.blockSignals(True)
        self.theme_action.setChecked(name == "dark")
        self.theme_action.blockSignals(False)
        self.settings.set_theme(name)

    def _about(self) -> None:
        QMessageBox.about(self, "About nnviz",
                          "<b>nnviz</b> — build a neural network, train it and watch it learn: "
                          "loss, gradients per layer, activations, decision boundary and "
                          "convolutions, live.")

    # ================================================================== layout memory
    def save_settings(self) -> None:
        """Window layout and the experiment (if valid: an invalid one keeps the last)."""
        self.settings.set_geometry(self.saveGeometry())
        if self._arranged:
            self.settings.set_window_state(self.saveState(STATE_VERSION))
        if self.experiment is not None:
            self.settings.set_last_experiment(self.experiment.to_dict())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self.save_settings()
        self._closing = True
        self._idle_timer.stop()
        self._end_session()
        super().closeEvent(event)


def _tab_titles(bar: QTabBar) -> tuple[str, ...]:
    return tuple(sorted(bar.tabText(i) for i in range(bar.count())))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

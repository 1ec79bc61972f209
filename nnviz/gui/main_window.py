"""The main window: set up an experiment, train it in the background, compare runs.

The window composes and wires; the work is elsewhere (napari's split of a thin
Qt shell over models):

* ``ExperimentModel`` holds the experiment being edited and checks it;
  the Data, Model and Training panels show it and report edits;
* ``RunController`` owns the training session, its view pacer, the clock and
  the current run; ``RunsModel`` keeps the pinned runs for comparison, drawn
  by the curve views and listed in the Runs dock;
* ``actions.COMMANDS`` declares every command once (menus and buttons come
  from it), ``dock_layout`` places the docks, ``RunStatusBar`` shows progress.

Before a run the heavy views (output, convolution, network) show the freshly
initialised network.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (QApplication, QDialog, QDockWidget, QLabel, QMainWindow, QMenu,
                               QMessageBox, QPlainTextEdit, QSizePolicy, QToolBar,
                               QVBoxLayout, QWidget)

from nnviz.core.errors import SpecError
from nnviz.core.experiment import Experiment, load_preset
from nnviz.core.runs import RunState
from nnviz.core.viewdata import view_data
from nnviz.gui import actions as commands, dock_layout, explain_button, theme
from nnviz.gui.experiment_model import ExperimentModel
from nnviz.gui.file_commands import DEFAULT_PRESET, FileCommands
from nnviz.gui.panels import ControlsPanel, DataPanel, ModelBuilder, TrainingPanel
from nnviz.gui.panels.pace import PaceControl
from nnviz.gui.panels.widgets import ElidedLabel, plain_tooltip
from nnviz.gui.panels.runs_panel import RunsPanel
from nnviz.gui.panels.validation import (changed_values, changes_text, fit_to_dataset,
                                         input_shapes, load_cached)
from nnviz.gui.run_controller import RunController
from nnviz.gui.runs_model import RunsModel
from nnviz.gui.settings import Settings
from nnviz.gui.status_bar import RunStatusBar
from nnviz.gui.views import ActivationView, ConvView, GradientView, LossView, NetworkView, OutputView


# key, view class, dock title, name of its view data (None: a curve view, fed snapshots)
VIEWS = (
    ("loss", LossView, "Loss and accuracy", None),
    ("gradient", GradientView, "Gradients", None),
    ("activation", ActivationView, "Activations", None),
    ("output", OutputView, "Output", "output"),
    ("conv", ConvView, "Convolution", "conv"),
    ("network", NetworkView, "Network diagram", "network"),
)
CONV_CHOICES = 12          # validation images offered to the convolution view
EDITED = "edited from "     # the title of an experiment once it is edited
LOAD_FALLBACK_MS = 1000    # load_later: the experiment loads after the first paint, or this
COMPACT_HEIGHT = 900       # px: below this, large text gets the compact arrangement
#: Multiply-adds a preview may cost on the GUI thread (about a tenth of a second); a
#: bigger network's previews come from the training process instead (computed there
#: as soon as it is up), so typing 100,000 units never freezes the window.
PREVIEW_BUDGET = 1e8
PREVIEW_SAMPLES = 80 * 80  # the output view's decision-boundary grid


def _without_pace(spec: dict) -> dict:
    training = {k: v for k, v in spec.get("training", {}).items() if k != "pace"}
    return {**spec, "training": training}


def _as_dict(experiment) -> dict:
    if experiment is None:
        return load_preset(DEFAULT_PRESET).to_dict()
    if isinstance(experiment, Experiment):
        return _absolute_data_path(experiment.to_dict(), getattr(experiment, "base_dir", None))
    return Experiment.from_dict(experiment).to_dict()


def _absolute_data_path(spec: dict, base_dir) -> dict:
    """A CSV data set's path made absolute (it is relative to the experiment file):
    the window checks and trains the experiment away from that folder."""
    dataset = spec.get("dataset", {})
    path = dataset.get("path")
    if dataset.get("name") == "csv" and isinstance(path, str) and base_dir \
            and not os.path.isabs(path):
        dataset["path"] = os.path.normpath(os.path.join(os.fspath(base_dir), path))
    return spec


def _preview_cost(check) -> float:
    """Multiply-adds of the previews, from the network's shapes: one forward pass of
    the validation set (the confusion matrix), and of the decision-boundary grid for
    2-D data."""
    plan, per_sample = check.plan, 0.0
    for layer, params in zip(plan.layers, plan.param_counts):
        shape = tuple(layer.output_shape)
        positions = shape[1] * shape[2] if layer.kind == "conv2d" and len(shape) == 3 else 1
        per_sample += params * positions
    grid = PREVIEW_SAMPLES if tuple(check.dataset.input_shape) == (2,) else 0
    return per_sample * (grid + len(check.dataset.X_val) + 1)


class MainWindow(FileCommands, QMainWindow):
    """The nnviz window. ``MainWindow(experiment=None)`` opens the default experiment.

    ``settings`` (a :class:`Settings`) stores layout, recent files and the last
    experiment; tests pass one backed by a temporary file.  ``session_factory``
    (default ``TrainingSession``) makes the training session for an Experiment;
    with ``prepare`` its worker is started while the window is idle, so that
    Start responds at once.  With ``load_later`` the experiment is loaded just
    after the window first appears (its data set needs scikit-learn, whose
    import takes longer than showing the window).
    """

    def __init__(self, experiment=None, *, settings: Settings | None = None,
                 session_factory=None, prepare: bool = True, load_later: bool = False):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else Settings()
        self.model = ExperimentModel(self)
        self.runs_model = RunsModel(self)
        self._conv_index = 0
        self._font_scale = 1.0
        self._theme = self.settings.theme()
        self._arranged = False           # docks are placed on the first show
        self._compact = False            # the compact arrangement is in place
        self._default_state = None

        self.resize(1480, 920)
        self.views: dict[str, QWidget] = {key: cls() for key, cls, *_ in VIEWS}
        self.controller = RunController(
            self.runs_model, [(self.views[key], name) for key, _, _, name in VIEWS],
            session_factory=session_factory, prepare=prepare, shown=self.isVisible,
            visible_views=self.visible_views, parent=self)
        self.actions = commands.build_actions(self)
        self._build_panels()
        self._build_docks()
        self._search_dock = None          # made on first use: Training → Search…
        self._playground_dock = None      # made on first use: View → Kernel playground
        self._inspector_dock = None       # made on first use: View → Back-propagation inspector
        self.menus = commands.build_menus(self, self.actions, {"&View": [
            dock.toggleViewAction() for dock in (*self.setup_docks.values(),
                                                 *self.docks.values())]})
        self.status = RunStatusBar(self)
        self.setStatusBar(self.status)
        self.status_labels = self.status.labels
        self._wire()

        self._idle_timer = QTimer(self, singleShot=True, interval=60)
        self._idle_timer.timeout.connect(self._refresh_idle_views)
        self._visible_timer = QTimer(self, singleShot=True, interval=0)
        self._visible_timer.timeout.connect(self._send_visible_views)
        self._figures_timer = QTimer(self, interval=1000)
        self._figures_timer.timeout.connect(self._update_run_figures)

        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        theme.apply_theme(self._theme, self)
        self.theme_action.setChecked(self._theme == "dark")
        self.set_large_font(self.settings.large_font(), remember=False)
        self._pending = (experiment,) if load_later else None   # loaded once on screen
        if load_later:
            self.statusBar().showMessage("Loading the experiment…")
        else:
            self.set_experiment(experiment)

    def _load_first(self) -> None:
        if self._pending is None:           # shown twice before it loaded
            return
        (experiment,), self._pending = self._pending, None
        self.statusBar().clearMessage()
        try:
            self.set_experiment(experiment)
        except SpecError as exc:
            self.set_experiment(None)
            QMessageBox.critical(self, "Cannot open experiment", str(exc))

    # ================================================================== building
    def _build_panels(self) -> None:
        self.data_panel = DataPanel()
        self.model_builder = ModelBuilder()
        self.training_panel = TrainingPanel()
        self.controls = ControlsPanel()
        self.runs_panel = RunsPanel(self.runs_model, self.actions["pin"])
        self.start_button = self.controls.start_button
        self.step_button = self.controls.step_button
        self.stop_button = self.controls.stop_button
        self.reset_button = self.controls.reset_button
        self.start_action = self.actions["start"]
        self.large_font_action = self.actions["large_font"]
        self.theme_action = self.actions["dark"]

        toolbar = QToolBar("Training controls")
        toolbar.setObjectName("controlsToolBar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.controls)
        self.pace_control = PaceControl()
        self.pace_slider = self.pace_control.slider
        toolbar.addWidget(self.pace_control)
        self.scenario_label = QLabel()               # the experiment's title...
        self.scenario_label.setObjectName("scenarioLabel")
        self.scenario_label.setContentsMargins(12, 0, 8, 0)
        self.scenario_label.setTextFormat(Qt.TextFormat.PlainText)
        self.description_label = ElidedLabel()       # ...and what to watch, cut to fit
        self.description_label.setObjectName("descriptionLabel")
        self.description_label.setTextFormat(Qt.TextFormat.PlainText)
        self.description_label.setMinimumWidth(20)
        self.description_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                             QSizePolicy.Policy.Preferred)
        toolbar.addWidget(self.scenario_label)
        toolbar.addWidget(self.description_label)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

    def _build_docks(self) -> None:
        make = lambda key, title, widget, scroll=False: dock_layout.make_dock(  # noqa: E731
            self, key, title, widget, scroll)
        self.setup_docks = {key: make(key, title, widget, scroll) for key, title, widget, scroll in (
            ("data", "Data", self.data_panel, True), ("model", "Model", self.model_builder, False),
            ("training", "Training", self.training_panel, True),
            ("runs", "Runs", self.runs_panel, False))}
        self.docks: dict[str, QDockWidget] = {}
        for key, _, title, _ in VIEWS:
            view = self.views[key]
            export = QAction(f"Export {title}…", view)       # right-click on the view
            export.triggered.connect(lambda _=False, k=key: self._export_view_dialog(k))
            view.addAction(export)
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            dock = make(key, title, view)
            dock.visibilityChanged.connect(self._schedule_visible_views)
            self.docks[key] = dock
            explain_button.attach(view, key)
        explain_button.attach(self.runs_panel, "runs")

    def _wire(self) -> None:
        m, c = self.model, self.controller
        self.data_panel.changed.connect(lambda: self._on_edit("data"))
        self.model_builder.changed.connect(lambda: self._on_edit("model"))
        self.training_panel.changed.connect(lambda: self._on_edit("training"))
        self.controls.startClicked.connect(self.start_pause)
        self.controls.stepClicked.connect(self.step)
        self.controls.continueClicked.connect(self.continue_run)
        self.pace_control.changed.connect(self._pace_changed)
        self.controls.stopClicked.connect(self.stop)
        self.controls.resetClicked.connect(self.reset)
        m.loaded.connect(self._load_panels)
        m.validated.connect(self._show_check)
        m.pathChanged.connect(lambda _: self._update_title())
        c.stateChanged.connect(self._on_state)
        c.progress.connect(lambda snap: self.status.show_progress(snap, c.rate))
        c.clock.connect(self.status.show_clock)
        c.message.connect(self.status.show_message)
        c.runStarted.connect(self._run_started)
        self.runs_model.changed.connect(self._show_runs)
        self.views["conv"].imageChosen.connect(self._conv_image_chosen)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._arranged:
            self._arranged = True
            dock_layout.arrange(self, self.setup_docks, self.docks, conv_first=self._has_conv())
            self._default_state = self.saveState(dock_layout.STATE_VERSION)
            state = self.settings.window_state()
            if state is not None:
                self.restoreState(state, dock_layout.STATE_VERSION)
            else:
                self._fit_layout_to_font()
            self._schedule_visible_views()
            self.controller.schedule_prepare()
        if self._pending is not None:       # a window never painted loads all the same
            QTimer.singleShot(LOAD_FALLBACK_MS, self, self._load_first)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._pending is not None:       # the first frame is on screen: load now
            QTimer.singleShot(0, self, self._load_first)

    def _has_conv(self) -> bool:
        layers = self.model.section("model", {}).get("layers", [])
        return any(layer.get("type") == "conv2d" for layer in layers)

    # ================================================================== experiment
    @property
    def experiment(self) -> Experiment | None:
        """The current experiment if it is valid, else None."""
        return self.model.experiment

    def experiment_dict(self) -> dict:
        """The experiment as edited (a copy; possibly invalid)."""
        return self.model.spec

    def set_experiment(self, experiment=None) -> None:
        """Show ``experiment`` (an Experiment or a dict; None: the default) from scratch;
        pinned runs stay.  Raises SpecError for an invalid dict, leaving the window as it was.
        """
        spec = _as_dict(experiment)
        self.controller.end_session()
        self.model.load(spec)
        collected = self._collect()         # what the editors hold is what will train
        if collected != spec:
            self.model.replace_quietly(collected)
            self.model.revalidate()
            self.statusBar().showMessage("Changed to what the editors hold: " + changes_text(
                changed_values(spec, collected)), 10000)
        if self._has_conv():
            self.docks["conv"].raise_()
        self.setWindowModified(False)
        self._update_title()
        self.status.show_progress(None)

    def _load_panels(self, spec: dict) -> None:
        self.data_panel.set_spec(spec["dataset"])
        try:
            shapes = input_shapes(spec["dataset"])
        except SpecError:
            shapes = []
        self.model_builder.set_model(spec["model"], shapes)
        self.training_panel.set_values(spec["model"], spec.get("training", {}))
        self.pace_control.blockSignals(True)
        self.pace_control.set_pace(spec.get("training", {}).get("pace"))
        self.pace_control.blockSignals(False)
        self.controller.set_pace(self.pace_control.pace)
        self._show_title(spec)

    def _show_title(self, spec: dict) -> None:
        """The experiment's title (bold) and what to watch, in the toolbar, as plain text."""
        title = spec.get("title") or ""
        description = spec.get("description") or ""
        self.scenario_label.setText(title)
        font = self.scenario_label.font()
        font.setBold(True)
        self.scenario_label.setFont(font)
        self.scenario_label.setToolTip(plain_tooltip(description))
        self.description_label.setText(description)
        self.description_label.setToolTip(plain_tooltip(description))

    def _collect(self) -> dict:
        """The experiment dict as the panels show it."""
        old = self.model.spec
        spec = {key: old[key] for key in ("format", "title", "description") if key in old}
        spec["dataset"] = self.data_panel.spec()
        spec["model"] = {"input_shape": self.model_builder.input_shape(),
                         "layers": self.model_builder.specs(),
                         **self.training_panel.model_values()}
        spec["training"] = self.training_panel.training()
        if self.pace_control.pace is not None:      # the toolbar's speed slider
            spec["training"]["pace"] = self.pace_control.pace
        return spec

    def _on_edit(self, source: str) -> None:
        new = self._collect()
        if source == "data" and new["dataset"] != self.model.section("dataset"):
            new = self._fit_dataset(new)
        how = self.controller.edit(new)
        if how == "restart":
            if not self._confirm_reset():
                self._load_panels(self.model.spec)
                return
            self.controller.end_session()
        title = new.get("title")
        if title and not title.startswith(EDITED) \
                and _without_pace(new) != _without_pace(self.model.spec):
            # a preset's title and lesson no longer describe an edited experiment (its
            # speed is saved with it, but playing a lesson slower does not change it)
            new["title"] = f"{EDITED}{title}"[:200]
            new.pop("description", None)
            self._show_title(new)
        self.model.update(new)
        self.setWindowModified(True)

    def _fit_dataset(self, spec: dict) -> dict:
        """Adapt input shape and output layer to a newly chosen data set."""
        try:
            shapes = input_shapes(spec["dataset"])
            dataset = load_cached(spec["dataset"])
        except SpecError:
            return spec                     # the check shows the data-set error
        fitted = fit_to_dataset(spec, shapes, dataset)
        self.model_builder.set_model(fitted["model"], shapes)
        self.training_panel.set_values(fitted["model"], fitted["training"])
        return self._collect()

    def _confirm_reset(self) -> bool:
        answer = QMessageBox.question(
            self, "Start a new run?",
            "This change needs a new network: the current run and its trained weights "
            "will be discarded (pin the run first to keep its curves).\n\n"
            "Reset and apply the change?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def _show_check(self, check) -> None:
        """Mark problems where they are, refresh previews, tell the controller."""
        message = str(check.error) if check.error else None
        self.model_builder.show_check(check)
        self.data_panel.show_error(check.key if check.section == "data" else None,
                                   message if check.section == "data" else None)
        training_key = check.key if check.section == "training" or check.key == "cost" else None
        self.training_panel.show_error(training_key, message if training_key else None)
        if check.error and check.section == "":
            self.statusBar().showMessage(message, 10000)
        self._update_totals()
        self._update_data_preview()
        self._update_conv_choices()
        self.controller.set_experiment(check.experiment, self.model.spec)
        self._update_controls()
        if not self.controller.started:
            self._idle_timer.start()

    def _update_totals(self) -> None:
        training = self.model.section("training", {})
        self.status.total_epochs = int(training.get("epochs", 0) or 0)
        dataset = self.model.check.dataset
        if dataset is None or not training.get("batch_size"):
            self.status.total_steps = None
        else:
            n = len(dataset.X_train)
            per_epoch = -(-n // min(training["batch_size"], n))
            self.status.total_steps = per_epoch * training["epochs"]
            self.pace_control.set_steps_per_epoch(per_epoch)

    def _update_data_preview(self) -> None:
        dataset_spec = self.model.section("dataset")
        try:
            shapes = input_shapes(dataset_spec)
            image = next((s for s in shapes if len(s) == 3), None)
            dataset = self.model.check.dataset or load_cached(dataset_spec)
        except SpecError:
            self.data_panel.show_preview(None)
            return
        self.data_panel.show_preview(dataset, image)

    def _update_conv_choices(self) -> None:
        conv = self.views["conv"]
        dataset = self.model.check.dataset
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
        self.controller.set_conv_image(self.conv_image())

    def conv_image(self):
        """The image the convolution view shows (None: the network takes no images)."""
        dataset = self.model.check.dataset
        if dataset is None or len(dataset.input_shape) != 3:
            return None
        source = dataset.X_val if len(dataset.X_val) else dataset.X_train
        return source[min(self._conv_index, len(source) - 1)]

    def _conv_image_chosen(self, index: int) -> None:
        self._conv_index = max(index, 0)
        self.controller.set_conv_image(self.conv_image())
        if not self.controller.started:
            self._idle_timer.start()

    def _refresh_idle_views(self) -> None:
        """Before a run: the heavy views show the network as initialised."""
        if self.controller.started or self.controller.closing:
            return
        check = self.model.check
        too_big = check.valid and (check.network is None
                                   or _preview_cost(check) > PREVIEW_BUDGET)
        if too_big:
            self.statusBar().showMessage("A large network: its previews are computed in the "
                                         "background and appear in a moment.", 6000)
        for key, _, _, name in VIEWS:
            if name is None:
                continue
            view = self.views[key]
            if not check.valid or too_big:
                view.clear()
                continue
            try:
                view.update_data(view_data(name, check.network, check.dataset, self.conv_image()))
            except SpecError as exc:
                view.clear()
                self.statusBar().showMessage(str(exc), 5000)

    # ================================================================== training
    @property
    def session(self):
        return self.controller.session

    @property
    def pacer(self):
        return self.controller.pacer

    @property
    def state(self) -> RunState:
        return self.controller.state

    @property
    def last_snapshot(self):
        """The newest snapshot shown (None before the first of a run)."""
        return self.controller.last_snapshot

    @property
    def has_run(self) -> bool:
        """A run was started (its weights would be lost by a reset)."""
        return self.controller.has_run

    def start_pause(self) -> None:
        """Start, pause or resume (Space); after a run ended, start a fresh one."""
        self.controller.start_pause()
        self._update_controls()

    def step(self) -> None:
        """Train one mini-batch, then pause."""
        self.controller.step()
        self._update_controls()

    def stop(self) -> None:
        self.controller.stop()

    def continue_run(self, epochs: int | None = None) -> None:
        """After a run finished or was stopped: train on from its weights, another
        ``epochs`` (default: the experiment's epochs again), on the same curves."""
        if self.controller.can_continue:
            epochs = epochs or self.training_panel.epochs.value()
            self.controller.continue_run(epochs)
            self.status.total_epochs += epochs
            if self.status.total_steps:
                per_epoch = self.status.total_steps // max(self.status.total_epochs - epochs, 1)
                self.status.total_steps += per_epoch * epochs
            self._update_controls()

    def set_pace(self, steps_per_second: float | None) -> None:
        """Train at most this many steps a second (None: as fast as possible)."""
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"steps_per_second must be > 0 or None, got {steps_per_second!r}")
        self.pace_control.set_pace(steps_per_second)

    def _pace_changed(self, steps_per_second) -> None:
        """The speed applies at once (a live change) and is part of the experiment."""
        self.controller.set_pace(steps_per_second)
        self._on_edit("training")

    @property
    def pace(self) -> float | None:
        return self.controller.pace

    def reset(self) -> None:
        """Discard the run: fresh weights, the current run off the plots (pinned stay)."""
        self.controller.reset()
        self._update_controls()

    def begin_external_run(self) -> None:
        """Snapshots and view data will be fed from outside (a screenshot trains
        synchronously): no worker, no previews of the initial network."""
        self.controller.begin_external_run()
        self._idle_timer.stop()

    def show_snapshot(self, snap) -> None:
        """A snapshot fed from outside (``begin_external_run``): recorded in the
        current run, every curve view at once, and the status bar."""
        self.controller.show_snapshot(snap)

    def show_view_data(self, name: str, data) -> None:
        """View data fed from outside (``begin_external_run``): to the view of that name."""
        view = self.views.get(name)
        if view is not None:
            view.update_data(data)

    def _run_started(self, run) -> None:
        self.statusBar().clearMessage()     # an old run's "diverged at step 53" is not this one's
        self.status_labels["state"].setToolTip("")
        self._update_controls()

    def _on_state(self, state: RunState) -> None:
        self._update_controls()
        if state is RunState.RUNNING:
            self._figures_timer.start()
        else:
            self._figures_timer.stop()
            self.runs_panel.update_figures()
        if state is RunState.IDLE and not self.controller.closing:
            self._idle_timer.start()

    def _update_controls(self) -> None:
        check, state = self.model.check, self.state
        reason = "" if check.valid else f"Fix this first: {check.error}"
        self.controls.set_state(state, can_start=check.valid, has_run=self.has_run,
                                reason=reason, can_continue=self.controller.can_continue)
        self.status.show_state(state, check.valid, self.session is not None)
        commands.update_enabled(self, self.actions)

    # ================================================================== runs
    @property
    def runs(self) -> list:
        """Every run on the plots: the pinned runs first, the current run last."""
        return self.runs_model.runs

    @property
    def can_continue(self) -> bool:
        return self.controller.can_continue

    @property
    def can_pin(self) -> bool:
        current = self.runs_model.current
        return current is not None and len(current) > 0

    @property
    def has_runs(self) -> bool:
        return any(len(run) for run in self.runs)

    def pin_run(self):
        """Keep the current run on the plots for comparison (Ctrl+P); the next
        Start makes a new run.  Returns the pinned run (None: nothing to pin)."""
        pinned = self.runs_model.pin_current()
        if pinned is not None:
            self.statusBar().showMessage(
                f"Pinned “{pinned.name}”: change something and train again to compare.", 8000)
        return pinned

    def _update_run_figures(self) -> None:
        """While training: the Runs dock's figures, and Pin once the run has points."""
        self.runs_panel.update_figures()
        commands.update_enabled(self, self.actions)

    # ================================================================== grid search
    @property
    def search_dock(self):
        """The grid-search dock (objectName ``gridSearch``), made on first use."""
        if self._search_dock is None:
            from nnviz.gui.grid_search_dock import GridSearchDock
            dock = GridSearchDock(self.experiment_dict, self)
            dock.cell_chosen.connect(self._search_cell_chosen)
            dock.cell_run_chosen.connect(self.runs_model.pin)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            dock.setFloating(False)
            self._search_dock = dock
        return self._search_dock

    def show_search(self) -> None:
        """Training → Search…: the grid-search dock, beside the views."""
        dock = self.search_dock
        dock.show()
        dock.raise_()

    @property
    def can_check(self) -> bool:
        return self.model.valid

    def check_gradients(self):
        """Training → Check gradients…: the per-layer table for the network as
        initialised, computed in the background (returns the dialog; a network too
        large to build in the window is not checked, the dialog says so)."""
        from nnviz.gui.gradcheck_dialog import GradCheckDialog
        check = self.model.check
        if not check.valid:
            return None
        dialog = GradCheckDialog(check.network, check.dataset,
                                 self.model.section("training", {}).get("l2", 0.0), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def use_kernel(self, kernel, trainable: bool) -> bool:
        """The playground's "Use as the first kernel of my CNN": ``kernel`` becomes the
        starting weights of the model's first conv2d layer, an edit like any other.
        Says what happened in the status bar and under the button; False if nothing
        changed (no image input or conv layer, or a running session the user kept)."""
        try:
            message = self.model_builder.use_kernel(kernel, trainable)   # -> _on_edit
        except SpecError as exc:
            message, applied = f"Not copied: {exc}", False
        else:
            first = next((layer for layer in self.model.section("model", {}).get("layers", [])
                          if layer.get("type") == "conv2d"), {})
            applied = (first.get("kernel") == [[float(v) for v in row] for row in kernel]
                       and first.get("trainable", True) == trainable)
            if not applied:
                message = "Not copied: the current run was kept"
        self.statusBar().showMessage(message, 10000)
        if self._playground_dock is not None:
            self._playground_dock.widget().show_use_result(message, applied)
        return applied

    def show_playground(self):
        """View → Kernel playground: a dock (objectName ``kernelPlayground`` inside)."""
        if self._playground_dock is None:
            from nnviz.gui.playground import KernelPlayground
            playground = KernelPlayground()
            playground.kernel_chosen.connect(self.use_kernel)
            explain_button.attach(playground, "playground")
            self._playground_dock = dock_layout.make_dock(self, "playground",
                                                          "Kernel playground", playground)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self._playground_dock)
            self._playground_dock.setFloating(True)
            self._playground_dock.resize(1100, 700)
        self._playground_dock.show()
        self._playground_dock.raise_()
        return self._playground_dock.widget()

    def show_inspector(self):
        """View → Back-propagation inspector: a dock (objectName ``backpropInspector`` inside)."""
        if self._inspector_dock is None:
            from nnviz.gui.inspector.wiring import make_inspector
            self._inspector_dock = dock_layout.make_dock(self, "inspector",
                                                         "Back-propagation inspector",
                                                         make_inspector(self))
            explain_button.attach(self._inspector_dock.widget(), "inspector")
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self._inspector_dock)
            self._inspector_dock.setFloating(True)
            self._inspector_dock.resize(1100, 700)
        self._inspector_dock.show()
        self._inspector_dock.raise_()
        return self._inspector_dock.widget()

    def _search_cell_chosen(self, experiment: dict) -> None:
        """A heatmap cell clicked: its setting becomes the current experiment."""
        if self.has_run and not self._confirm_reset():
            return
        try:
            self.set_experiment(experiment)
        except SpecError as exc:
            QMessageBox.critical(self, "Cannot use this cell", str(exc))
            return
        self.setWindowModified(True)

    def _show_runs(self) -> None:
        current, pinned = self.runs_model.current, self.runs_model.pinned
        for key, _, _, name in VIEWS:
            if name is None:
                self.views[key].show_runs(current, pinned)
        commands.update_enabled(self, self.actions)

    # ================================================================== views
    def visible_views(self) -> set[str]:
        """The heavy views (output, conv, network) a user can currently see."""
        shown = self.isVisible()
        names = set()
        for key, _, _, name in VIEWS:
            dock = self.docks[key]
            # a dock behind another tab stays "visible", moved off screen
            seen = not dock.visibleRegion().isEmpty() if shown else not dock.isHidden()
            if name is not None and seen:
                names.add(name)
        return names

    def _schedule_visible_views(self, *_) -> None:
        self._visible_timer.start()

    def _send_visible_views(self) -> None:
        self.controller.update_visible_views()

    def reset_layout(self) -> None:
        """Back to the arrangement of a first start."""
        if self._default_state is not None:
            dock_layout.restore(self, self._default_state, self.setup_docks, self.docks)
            self._compact = False

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
        self._fit_layout_to_font()
        if remember:
            self.settings.set_large_font(on)

    def _fit_layout_to_font(self) -> None:
        """Large text on a small screen: the compact arrangement (two views at full
        height); back to the usual one when the text is normal again."""
        if not self._arranged:
            return                          # the first show arranges, then calls this
        compact = self._font_scale > 1.0 and self.height() < COMPACT_HEIGHT
        if compact and not self._compact:
            dock_layout.arrange_compact(self, self.setup_docks, self.docks)
        elif not compact and self._compact:
            self.reset_layout()
        self._compact = compact

    @property
    def font_scale(self) -> float:
        return self._font_scale

    def _set_dark(self, on: bool) -> None:
        self.set_theme("dark" if on else "light")

    def set_theme(self, name: str) -> None:
        """Light or dark: widgets, plots and error marks."""
        self._theme = name
        theme.apply_theme(name, self)
        for view in self.views.values():
            if hasattr(view, "set_theme"):
                view.set_theme(name)
            view.set_font_scale(self._font_scale)      # re-renders titles in the new colours
        self.model.revalidate()
        self.theme_action.blockSignals(True)
        self.theme_action.setChecked(name == "dark")
        self.theme_action.blockSignals(False)
        self.settings.set_theme(name)

    def explain_views(self) -> QDialog:
        """Help → What am I looking at?: every view's explanation in one window."""
        from nnviz.gui.explanations import EXPLANATIONS
        dialog = QDialog(self)
        dialog.setObjectName("explanationsDialog")
        dialog.setWindowTitle("What am I looking at?")
        text = QPlainTextEdit("\n\n\n".join(e.text() for e in EXPLANATIONS.values()))
        text.setReadOnly(True)
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(720, 640)
        dialog.show()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(self, "About nnviz",
                          "<b>nnviz</b> — build a neural network, train it and watch it learn: "
                          "loss, gradients per layer, activations, decision boundary and "
                          "convolutions, live; pin runs to compare them.")

    # ================================================================== layout memory
    def save_settings(self) -> None:
        """Window layout and the experiment (if valid: an invalid one keeps the last)."""
        self.settings.set_geometry(self.saveGeometry())
        if self._arranged:
            self.settings.set_window_state(self.saveState(dock_layout.STATE_VERSION))
        if self.experiment is not None:
            self.settings.set_last_experiment(self.experiment.to_dict())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self.save_settings()
        self.controller.closing = True
        self._idle_timer.stop()
        if self._search_dock is not None:
            self._search_dock.shutdown()
        self.controller.end_session()
        super().closeEvent(event)

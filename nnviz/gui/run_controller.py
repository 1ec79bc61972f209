"""The run controller: a training session's life, seen from the window.

It owns the ``TrainingSession`` (worker process) and the ``ViewPacer`` that
feeds the views, starts the worker ahead of time while the window is idle (so
Start answers at once), decides whether an edit can reach a running session
live (η, L2, clipping) or needs a new run, records the current run's history
points into the current :class:`~nnviz.core.Run`, and keeps the training
clock and rate.  The window, the controls and the status bar listen to its
signals; none of them touches the session.
"""

from __future__ import annotations

import copy
import time

from PySide6.QtCore import QObject, QTimer, Signal

from nnviz.core.runs import RunState
from nnviz.gui.panels.training_panel import LIVE_KEYS

PREPARE_DELAY_MS = 800     # quiet time after the last edit before the worker is started
CLOCK_MS = 500             # how often the clock is shown while running


def live_free(experiment: dict) -> dict:
    """The experiment without what a running session can change live."""
    d = copy.deepcopy(experiment)
    training = d.get("training", {})
    training.get("optimizer", {}).pop("eta", None)
    for key in (*LIVE_KEYS, "pace"):
        training.pop(key, None)
    for key in ("title", "description", "format"):
        d.pop(key, None)
    return d


def live_values(experiment: dict) -> dict:
    """What a running session can change live: η, L2 and clipping."""
    training = experiment.get("training", {})
    return {"eta": training.get("optimizer", {}).get("eta"), "l2": training.get("l2"),
            "clip_norm": training.get("clip_norm")}


class RunController(QObject):
    """Start, pause, step, stop and reset the training of the current experiment.

    ``views`` is a list of (view, data name or None): None marks a curve view,
    fed snapshots; the others get the named view data.  ``session_factory``
    (default ``TrainingSession``) makes a session for an Experiment; with
    ``prepare`` its worker is started ahead of time while ``shown()``;
    ``visible_views()`` names the heavy views on screen.
    """

    stateChanged = Signal(object)     # RunState
    progress = Signal(object)         # the newest Snapshot, or None after a reset
    message = Signal(str)             # a divergence, an error, a rejected setting
    clock = Signal(float)             # seconds of training so far
    runStarted = Signal(object)       # the Run the session records into
    runEnded = Signal()               # the session is gone (reset, new experiment)
    trace = Signal(object)            # the session's answer to request_trace (a Trace)

    def __init__(self, runs, views, *, session_factory=None, prepare: bool = True,
                 shown=lambda: True, visible_views=frozenset,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.runs = runs
        self._views = list(views)
        self._factory = session_factory
        self._prepare = prepare
        self._shown = shown              # the window is on screen (worth preparing for)
        self._visible_views = visible_views   # the heavy views the user can see now
        self.session = None
        self.pacer = None
        self.run = None                  # the Run being recorded
        self._experiment = None          # the valid Experiment to train, or None
        self._spec: dict = {}
        self._started = False
        self._external = False
        self._image = None
        self.pace: float | None = None     # steps per second (None: flat out)
        self._run_clock = 0.0
        self._running_since: float | None = None
        self._rate: float | None = None
        self._rate_point: tuple[float, int] | None = None
        self.last_snapshot = None
        self.closing = False
        self._prepare_timer = QTimer(self, singleShot=True, interval=PREPARE_DELAY_MS)
        self._prepare_timer.timeout.connect(self._prepare_session)
        self._clock_timer = QTimer(self, interval=CLOCK_MS)
        self._clock_timer.timeout.connect(lambda: self.clock.emit(self.seconds))

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> RunState:
        return RunState(self.session.state) if self.session is not None else RunState.IDLE

    @property
    def has_run(self) -> bool:
        """A run was started (its weights would be lost by a reset)."""
        return self._started and (self.session is not None or self._external)

    @property
    def started(self) -> bool:
        return self._started

    @property
    def seconds(self) -> float:
        """Training time of this run (not the time spent waiting or paused)."""
        running = time.perf_counter() - self._running_since if self._running_since else 0.0
        return self._run_clock + running

    @property
    def rate(self) -> float | None:
        """Samples per second, smoothed (None before the rate is known)."""
        return self._rate

    def set_experiment(self, experiment, spec: dict) -> None:
        """What Start trains next: a valid Experiment (None: nothing can start)."""
        self._experiment = experiment
        self._spec = copy.deepcopy(spec)
        if not self._started:
            self.schedule_prepare()

    # ------------------------------------------------------------------ commands
    def start_pause(self) -> None:
        """Start, pause or resume; after a run ended, start a fresh one."""
        state = self.state
        if state is RunState.RUNNING:
            self.session.pause()
        elif state is RunState.PAUSED:
            self.session.resume()
        elif self._experiment is not None:
            session = self._begin_run()
            if session is not None:
                session.start()

    def step(self) -> None:
        """Train one mini-batch, then pause."""
        if self.state is RunState.RUNNING or self._experiment is None:
            return
        session = self._begin_run()
        if session is not None:
            session.step()

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    @property
    def can_continue(self) -> bool:
        """The run finished or was stopped, and its weights are still there."""
        return (self.session is not None and not self._external
                and self.state in (RunState.FINISHED, RunState.STOPPED))

    def continue_run(self, epochs: int) -> None:
        """Train ``epochs`` more from the current weights, recording into the same run."""
        if self.can_continue:
            self.session.continue_run(epochs)

    def set_pace(self, steps_per_second: float | None) -> None:
        """Train at most this many steps a second (None: as fast as possible); applies
        to the running session at once and to every later one."""
        self.pace = steps_per_second
        if self.session is not None and hasattr(self.session, "set_pace"):
            self.session.set_pace(steps_per_second)

    def reset(self) -> None:
        """Discard the run: fresh weights, the current run off the plots."""
        self.end_session()

    def edit(self, new_spec: dict) -> str:
        """How an edit reaches the run: "live" (applied now), "restart" (the run
        must be discarded first: ask, then ``end_session``) or "idle"."""
        if self.has_run and not self._external:
            if live_free(new_spec) != live_free(self._spec):
                return "restart"
            self._apply_live(new_spec)
            return "live"
        if self.session is not None:            # prepared for the old experiment
            self.end_session(clear=False)
        return "idle"

    def _apply_live(self, new: dict) -> None:
        old, now = live_values(self._spec), live_values(new)
        changed = {k: v for k, v in now.items() if v != old.get(k)}
        self._spec = copy.deepcopy(new)
        if changed:
            self.session.set_hyperparameters(**changed)
            self.message.emit("Applied to the running training: " + ", ".join(
                f"{k} = {'off' if v is None else f'{v:g}'}" for k, v in changed.items()))

    # ------------------------------------------------------------------ views
    def update_visible_views(self) -> None:
        """The views in sight changed: compute data for those, fill in what they missed."""
        if self.session is not None:
            self.session.set_visible_views(self._visible_views())
        if self.pacer is not None:
            self.pacer.refresh()         # views now in sight get what they missed

    def set_conv_image(self, image) -> None:
        self._image = image
        if self.session is not None:
            self.session.set_conv_image(image)

    def begin_external_run(self) -> None:
        """Snapshots and view data will be fed from outside (``show_snapshot``; a
        screenshot trains synchronously): no worker."""
        self.end_session(clear=False)
        self._started = self._external = True
        self._prepare_timer.stop()
        self._new_run()

    def show_snapshot(self, snap) -> None:
        """A snapshot fed from outside: recorded, then every curve view at once."""
        self.run.record(snap)
        for view, name in self._views:
            if name is None:
                view.update_snapshot(snap)
        self._on_snapshot(snap)

    def request_trace(self, split: str, index: int, before_start: bool = False) -> bool:
        """Ask the run's worker for one sample's back propagation on its current weights
        (``trace`` answers); False when there is no run to ask (before the first Start,
        unless ``before_start``: a prepared worker holds the initial weights)."""
        if (not (self._started or before_start) or self.session is None
                or not hasattr(self.session, "request_trace")):
            return False
        self.session.request_trace(split, index)
        return True

    # ------------------------------------------------------------------ session life
    def schedule_prepare(self) -> None:
        if not self.closing:
            self._prepare_timer.start()

    def _make_session(self):
        factory = self._factory
        if factory is None:
            from nnviz.gui.session import TrainingSession as factory
        return factory(self._experiment, self)

    def _ensure_session(self):
        if self.session is None:
            session = self._make_session()
            session.snapshot.connect(self._on_snapshot)
            session.stateChanged.connect(self._on_state)
            session.message.connect(self.message)
            if hasattr(session, "points"):
                session.points.connect(self._on_points)
            session.set_visible_views(self._visible_views())
            session.set_conv_image(self._image)
            if hasattr(session, "trace"):
                session.trace.connect(self.trace)
            if self.pace is not None and hasattr(session, "set_pace"):
                session.set_pace(self.pace)
            self.pacer = self._make_pacer(session)
            self.session = session
        return self.session

    def _make_pacer(self, session):
        from nnviz.gui.session_pacer import ViewPacer
        pacer = ViewPacer(session)
        for view, name in self._views:
            if name is None:
                pacer.add_snapshot_view(view)
            else:
                pacer.add_data_view(name, view)
        return pacer

    def _begin_run(self):
        """The session to train with (a fresh one after a run ended), and a new Run."""
        if self.state.ended or self._external:
            self.end_session()
        if not self._started:
            self._started = True
            self._reset_progress()
            self._new_run()
        return self._ensure_session()

    def _new_run(self) -> None:
        for view, name in self._views:
            if name is None:
                view.clear()
        self.run = self.runs.start_run(self._spec)     # the views are shown it
        self.runStarted.emit(self.run)

    def _prepare_session(self) -> None:
        """Start the worker ahead of time (it takes a few seconds to start and load
        the data), so that Start begins at once."""
        if (self.session is None and self._experiment is not None and self._prepare
                and self._shown() and not self.closing and not self._started):
            session = self._ensure_session()
            if hasattr(session, "prepare"):
                session.prepare()

    def end_session(self, clear: bool = True) -> None:
        """Shut the session down (never waits) and, with ``clear``, drop the current run."""
        self._started = self._external = False
        self._prepare_timer.stop()
        session, self.session = self.session, None
        pacer, self.pacer = self.pacer, None
        if pacer is not None:
            pacer.close()                 # no more updates, event filters removed
            pacer.setParent(None)
            pacer.deleteLater()
        if session is not None:
            for signal, slot in ((session.snapshot, self._on_snapshot),
                                 (session.stateChanged, self._on_state),
                                 (session.message, self.message)):
                signal.disconnect(slot)
            if hasattr(session, "points"):
                session.points.disconnect(self._on_points)
            if hasattr(session, "trace"):
                session.trace.disconnect(self.trace)
            session.shutdown()
            session.setParent(None)
            session.deleteLater()
        self._reset_progress()
        if clear:
            self.run = None
            self.runs.drop_current()
            for view, _ in self._views:
                view.clear()
        self.runEnded.emit()
        self.stateChanged.emit(RunState.IDLE)
        self.schedule_prepare()

    # ------------------------------------------------------------------ from the session
    def _on_points(self, points, layers) -> None:
        if self.run is not None:
            self.run.extend(points, layers=layers)

    def _on_snapshot(self, snap) -> None:
        self.last_snapshot = snap
        now = self.seconds
        if self._rate_point is not None and now > self._rate_point[0] + 0.2:
            t0, s0 = self._rate_point
            rate = (snap.samples_seen - s0) / (now - t0)
            self._rate = rate if self._rate is None else 0.7 * self._rate + 0.3 * rate
            self._rate_point = (now, snap.samples_seen)
        elif self._rate_point is None:
            self._rate_point = (now, snap.samples_seen)
        self.progress.emit(snap)

    def _on_state(self, state) -> None:
        state = RunState(state)
        now = time.perf_counter()
        if state is RunState.RUNNING and self._running_since is None:
            self._running_since = now
            self._clock_timer.start()
        elif state is not RunState.RUNNING and self._running_since is not None:
            self._run_clock += now - self._running_since
            self._running_since = None
            self._clock_timer.stop()
        if self.run is not None and state.ended:
            self.run.stop_reason = (getattr(self.session, "last_message", "")
                                    if state is RunState.DIVERGED else state.value)
        self.stateChanged.emit(state)
        self.clock.emit(self.seconds)

    def _reset_progress(self) -> None:
        self._run_clock = 0.0
        self._running_since = None
        self._clock_timer.stop()
        self._rate = None
        self._rate_point = None
        self.last_snapshot = None
        self.progress.emit(None)
        self.clock.emit(0.0)

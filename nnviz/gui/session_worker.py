"""The training side of a TrainingSession: a command loop around a Trainer.

No Qt in this module: the same ``Driver`` runs either in a thread of the GUI
process or, by default, in the training process (``nnviz.gui.worker_entry``),
so the numeric work never competes with the GUI thread for Python's GIL.  It
talks through two callables only:

* ``receive(timeout)`` returns the next command, or None after ``timeout``
  seconds (``timeout=None`` blocks until one arrives);
* ``send(message)`` hands a message to the GUI side.

Commands and messages are the typed records of ``nnviz.gui.worker_protocol``.
The trainer records a history point at every epoch end and every
``RECORD_EVERY`` steps (``Trainer(record_every=...)``); the driver ships them
in :class:`Frame` batches, with the newest snapshot at most once per
``snapshot_interval``, so a run's history does not depend on how fast it
trains or how often the window paints.
"""

from __future__ import annotations

import math
import time
import traceback
from typing import Any, Callable

import numpy as np

from nnviz.core.errors import SpecError
from nnviz.core.runs import RunState, snapshot_point
from nnviz.gui.worker_protocol import (Continue, Frame, GetTrace, GetWeights, Notice, Pause, Ready,
                                       SetHyper, SetImage, SetPace, ShowViews, Shutdown,
                                       StateChanged, Step, Stop, Trace, Train, ViewData,
                                       Weights)

VIEW_NAMES = frozenset({"output", "conv", "network"})
SNAPSHOT_INTERVAL = 1 / 30   # seconds between snapshots while running
VIEW_INTERVAL = 0.25         # seconds between view-data updates while running
RECORD_EVERY = 25            # steps between history points inside long epochs
PACE_TICK = 0.05             # s: a paced run trains the steps due every tick at most


class Disconnected(Exception):
    """The other side of the link is gone: the driver ends quietly."""


def describe(exc: BaseException) -> str:
    """A one-line, human-readable text for an exception (SpecError is already one)."""
    if isinstance(exc, SpecError):
        return str(exc)
    text = str(exc) or "no details"
    return f"{type(exc).__name__}: {text}"


class Driver:
    """Runs a Trainer under commands; pause, step and stop act between steps.

    States (:class:`RunState`): idle -> running <-> paused -> finished |
    stopped | diverged | error.  After an ended state the driver keeps serving
    view requests (so the final network can still be inspected) until Shutdown.
    """

    def __init__(self, experiment, send: Callable[[object], None],
                 receive: Callable[[float | None], object | None], *,
                 snapshot_interval: float = SNAPSHOT_INTERVAL,
                 view_interval: float = VIEW_INTERVAL, record_every: int = RECORD_EVERY,
                 after_snapshot: Callable[[], None] | None = None):
        self.experiment = experiment
        self._send = send
        self._receive = receive
        self._after_snapshot = after_snapshot
        self.snapshot_interval = snapshot_interval
        self.view_interval = view_interval
        self.record_every = record_every
        self.trainer = None
        self.state = RunState.IDLE
        self.visible: frozenset[str] = frozenset()
        self.image: np.ndarray | None = None
        self._run = None                  # the live trainer.run() generator
        self._last_step = 0               # step of the last point recorded
        self._points: list[np.ndarray] = []   # recorded, not sent yet
        self._last_frame = -math.inf
        self._views_due: set[str] = set()
        self._last_views = -math.inf
        self.pace: float | None = None    # steps per second (None: flat out)
        self._pace_origin = (0.0, 0)      # (time, step) the pace counts from

    # ------------------------------------------------------------------ loop
    def serve(self) -> None:
        """Obey commands until Shutdown (or until the GUI side goes away)."""
        try:
            self._build()
            while True:
                waiting = self.state != RunState.RUNNING
                command = self._receive(None if waiting else self._until_next_step())
                while command is not None:
                    if isinstance(command, Shutdown):
                        return
                    self._guarded(self._handle, command)
                    command = self._receive(0.0)
                if self.state == RunState.RUNNING:
                    self._guarded(self._advance)
                self._guarded(self._send_views)
        except Disconnected:
            return                        # the GUI side closed the connection

    def _guarded(self, action, *args) -> None:
        """Run ``action``; any exception ends the run as ERROR (no traceback printed)."""
        if self.state == RunState.ERROR:
            return
        try:
            action(*args)
        except Disconnected:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI
            self._close_run()
            self._set_state(RunState.ERROR, describe(exc), traceback.format_exc())

    def _build(self) -> None:
        from nnviz.core.trainer import Trainer   # heavy imports happen in the worker
        try:
            self.trainer = Trainer(self.experiment, snapshot_interval=self.snapshot_interval,
                                   record_every=self.record_every)
        except Exception as exc:  # noqa: BLE001
            self._set_state(RunState.ERROR, describe(exc), traceback.format_exc())
        self._send(Ready())

    # ------------------------------------------------------------------ commands
    def _handle(self, command) -> None:
        if isinstance(command, ShowViews):
            new = frozenset(command.names) & VIEW_NAMES
            self._views_due |= new - self.visible
            self.visible = new
        elif isinstance(command, SetImage):
            self.image = None if command.image is None else np.asarray(command.image)
            self._views_due.add("conv")
        elif isinstance(command, SetHyper):
            self._set_hyperparameters(command.values)
        elif isinstance(command, SetPace):
            self.pace = command.steps_per_second
            self._restart_pace()
        elif isinstance(command, GetWeights):
            if self.trainer is not None:
                from nnviz.cli import weights_arrays
                self._send(Weights(weights_arrays(self.trainer.network)))
        elif isinstance(command, GetTrace):
            if self.trainer is not None:
                self._send(self._trace(command))
        elif isinstance(command, Continue):
            if self.trainer is not None and self.state in (RunState.FINISHED, RunState.STOPPED):
                self.trainer.extend(command.epochs)
                self._restart_pace()
                self._set_state(RunState.RUNNING)
        elif self.state.ended or self.trainer is None:
            return
        elif isinstance(command, Train):
            self._restart_pace()
            self._set_state(RunState.RUNNING)
        elif isinstance(command, Pause):
            if self.state == RunState.RUNNING:
                self._close_run()
                self._record(self.trainer.snapshot())   # where the pause caught the run
                self._flush(force=True)
                self._set_state(RunState.PAUSED)
                self._views_due |= self.visible
        elif isinstance(command, Step):
            self._step_once()
        elif isinstance(command, Stop):
            self.trainer.request_stop()
            self._advance()

    def _trace(self, command: GetTrace) -> Trace:
        """The inspector's data for one sample; a bad request is an answer, not an error."""
        from nnviz.core.trace import backprop_data
        step = int(self.trainer.step_count)
        try:
            data = backprop_data(self.trainer.network, self.trainer.dataset,
                                 command.index, command.split)
        except Exception as exc:  # noqa: BLE001 - the run goes on; the inspector says why
            return Trace(None, describe(exc), step)
        return Trace(data, "", step)

    def _set_hyperparameters(self, values: dict) -> None:
        if self.trainer is None:
            return
        try:
            self.trainer.set_hyperparameters(**values)
        except SpecError as exc:
            self._send(Notice(str(exc)))

    # ------------------------------------------------------------------ training
    def _restart_pace(self) -> None:
        self._pace_origin = (time.perf_counter(), self.trainer.step_count if self.trainer else 0)

    def _steps_due(self) -> int:
        """With a pace: the steps the clock allows now (at most a tick's worth ahead)."""
        t0, s0 = self._pace_origin
        allowed = s0 + (time.perf_counter() - t0) * self.pace
        if allowed - self.trainer.step_count > 2 * max(self.pace * PACE_TICK, 1):
            self._pace_origin = (time.perf_counter(), self.trainer.step_count)   # fell behind
            return 1
        return max(0, math.floor(allowed) - self.trainer.step_count)

    def _until_next_step(self) -> float:
        """How long the command loop may wait for a command: 0 flat out, else until
        the paced run's next step is due (never busy-waiting)."""
        if self.pace is None or self.trainer is None:
            return 0.0
        t0, s0 = self._pace_origin
        due_at = t0 + (self.trainer.step_count + 1 - s0) / self.pace
        return min(max(0.0, due_at - time.perf_counter()), self.view_interval)

    def _advance(self) -> None:
        """Train until the next snapshot (a history point, or one due for display);
        with a pace, the steps that are due now."""
        if self.pace is not None:
            self._advance_paced()
            return
        if self._run is None:
            self._run = self.trainer.run()
        snap = next(self._run, None)
        if snap is None:                  # the run was already over
            self._close_run()
            self._end()
            return
        self._record(snap)
        self._flush(force=snap.done)
        if snap.done:
            self._close_run()
            self._end()

    def _advance_paced(self) -> None:
        self._close_run()
        steps = self._steps_due()
        if not steps:
            return
        last = None
        for snap in self.trainer.run(max_steps=steps):
            last = snap
            self._record(snap)
        self._flush(force=last is not None and last.done)
        if (last is not None and last.done) or self.trainer.finished:
            self._flush(force=True)
            self._end()

    def _step_once(self) -> None:
        """One mini-batch, its frame, then paused (or ended)."""
        self._close_run()
        last = None
        for snap in self.trainer.run(max_steps=1):
            last = snap
            self._record(snap)
        self._flush(force=True)
        self._views_due |= self.visible
        if (last is not None and last.done) or self.trainer.finished:
            self._end()
        else:
            self._set_state(RunState.PAUSED)

    def _record(self, snap) -> None:
        """Keep the snapshot as a history point (once per step) and as the newest one."""
        if snap.step > self._last_step:
            self._last_step = snap.step
            self._points.append(snapshot_point(snap))
            self._newest = snap

    def _flush(self, force: bool = False) -> None:
        """Send the newest snapshot with the points recorded since the last frame,
        at most once per ``snapshot_interval`` (always when ``force``)."""
        if not self._points:
            return
        now = time.perf_counter()
        if not force and now - self._last_frame < self.snapshot_interval:
            return
        points, self._points = tuple(self._points), []
        names = tuple(p.name for p in self._newest.layers)
        self._send(Frame(self._newest, points, names))
        if self._after_snapshot is not None:
            self._after_snapshot()          # the thread link waits for the paint here
        self._last_frame = time.perf_counter()

    def _end(self) -> None:
        state = self.trainer.end_state or RunState.FINISHED
        self._views_due |= self.visible
        self._send_views()
        self._set_state(state, self.trainer.stop_reason if state == RunState.DIVERGED else "")

    def _close_run(self) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None

    def _set_state(self, state: RunState, message: str = "", details: str = "") -> None:
        if state != self.state or message:
            self.state = state
            self._send(StateChanged(state, message, details))

    # ------------------------------------------------------------------ view data
    def _send_views(self) -> None:
        """Recompute the visible views that are due (all of them every view_interval)."""
        if self.trainer is None:
            return
        now = time.perf_counter()
        if self.state == RunState.RUNNING and now - self._last_views >= self.view_interval:
            self._views_due |= self.visible
        due = self._views_due & self.visible
        self._views_due.clear()
        if not due:
            return
        self._last_views = now
        for name in sorted(due):
            try:
                data = self._view_data(name)
            except SpecError as exc:
                if name == "conv":
                    self.image = None     # fall back to the data set's first image
                self._send(Notice(str(exc)))
                continue
            self._send(ViewData(name, data))

    def _view_data(self, name: str) -> Any:
        from nnviz.core.viewdata import view_data
        return view_data(name, self.trainer.network, self.trainer.dataset, self.image)


# ---------------------------------------------------------------------- transport


def serve_connection(conn) -> None:
    """Run a Driver over ``conn`` (a multiprocessing Connection): its first message
    is ``(experiment, options)``, then commands; messages go back the same way.
    The training process's whole life (see ``nnviz.gui.worker_entry``)."""

    def receive(timeout: float | None):
        try:
            return conn.recv() if conn.poll(timeout) else None
        except (EOFError, OSError) as exc:
            raise Disconnected() from exc

    def send(message) -> None:
        try:
            conn.send(message)
        except (EOFError, OSError) as exc:
            raise Disconnected() from exc

    try:
        experiment, options = conn.recv()
    except (EOFError, OSError):
        return
    try:
        Driver(experiment, send, receive, **options).serve()
    finally:
        conn.close()

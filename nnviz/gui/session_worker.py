"""The training side of a TrainingSession: a command loop around a Trainer.

No Qt in this module: the same ``Driver`` runs either in a thread of the GUI
process or, by default, in a child process started with the "spawn" method
(``child_main``), so the numeric work never competes with the GUI thread for
Python's GIL.  It talks through two callables only:

* ``receive(timeout)`` returns the next command tuple, or None after
  ``timeout`` seconds (``timeout=None`` blocks until one arrives);
* ``send(message)`` hands a message tuple to the GUI side.

Commands (GUI -> worker)::

    ("run",)  ("pause",)  ("step",)  ("stop",)  ("shutdown",)
    ("hyper", {"eta": ..., "l2": ..., "clip_norm": ...})
    ("views", frozenset of names)    ("image", ndarray or None)

Messages (worker -> GUI)::

    ("snapshot", Snapshot)       at most one per ``snapshot_interval`` while running
    ("view", name, data)         OutputData / ConvData / NetworkData
    ("state", state, message, details)
    ("message", text)            a problem that does not end the run
"""

from __future__ import annotations

import math
import signal
import time
import traceback
from typing import Any, Callable

import numpy as np

from nnviz.core.errors import SpecError

VIEW_NAMES = frozenset({"output", "conv", "network"})
TERMINAL_STATES = frozenset({"finished", "stopped", "diverged", "error"})
SNAPSHOT_INTERVAL = 1 / 30   # seconds between snapshots while running
VIEW_INTERVAL = 0.25         # seconds between view-data updates while running


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

    States: idle -> running <-> paused -> finished | stopped | diverged | error.
    After a terminal state the driver keeps serving view requests (so the
    final network can still be inspected) until "shutdown".
    """

    def __init__(self, experiment, send: Callable[[tuple], None],
                 receive: Callable[[float | None], tuple | None], *,
                 snapshot_interval: float = SNAPSHOT_INTERVAL,
                 view_interval: float = VIEW_INTERVAL,
                 after_snapshot: Callable[[], None] | None = None):
        self.experiment = experiment
        self._send = send
        self._receive = receive
        self._after_snapshot = after_snapshot
        self._quiet_until = -math.inf     # with after_snapshot: no snapshot before this
        self.snapshot_interval = snapshot_interval
        self.view_interval = view_interval
        self.trainer = None
        self.state = "idle"
        self.visible: frozenset[str] = frozenset()
        self.image: np.ndarray | None = None
        self._run = None                  # the live trainer.run() generator
        self._last_step = 0               # step of the last snapshot sent
        self._views_due: set[str] = set()
        self._last_views = -math.inf

    # ------------------------------------------------------------------ loop
    def serve(self) -> None:
        """Obey commands until "shutdown" (or until the GUI side goes away)."""
        try:
            self._build()
            while True:
                waiting = self.state != "running"
                command = self._receive(None if waiting else 0.0)
                while command is not None:
                    if command[0] == "shutdown":
                        return
                    self._guarded(self._handle, command)
                    command = self._receive(0.0)
                if self.state == "running":
                    self._guarded(self._advance)
                self._guarded(self._send_views)
        except Disconnected:
            return                        # the GUI side closed the connection

    def _guarded(self, action, *args) -> None:
        """Run ``action``; any exception ends the run as "error" (no traceback printed)."""
        if self.state == "error":
            return
        try:
            action(*args)
        except Disconnected:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI
            self._close_run()
            self._set_state("error", describe(exc), traceback.format_exc())

    def _build(self) -> None:
        from nnviz.core.trainer import Trainer   # heavy imports happen in the worker
        try:
            self.trainer = Trainer(self.experiment, snapshot_interval=self.snapshot_interval)
        except Exception as exc:  # noqa: BLE001
            self._set_state("error", describe(exc), traceback.format_exc())

    # ------------------------------------------------------------------ commands
    def _handle(self, command: tuple) -> None:
        name = command[0]
        if name == "views":
            new = frozenset(command[1]) & VIEW_NAMES
            self._views_due |= new - self.visible
            self.visible = new
        elif name == "image":
            self.image = None if command[1] is None else np.asarray(command[1])
            self._views_due.add("conv")
        elif name == "hyper":
            self._set_hyperparameters(command[1])
        elif self.state in TERMINAL_STATES or self.trainer is None:
            return
        elif name == "run":
            self._set_state("running")
        elif name == "pause":
            if self.state == "running":
                self._close_run()
                self._emit_current()
                self._set_state("paused")
                self._views_due |= self.visible
        elif name == "step":
            self._step_once()
        elif name == "stop":
            self.trainer.request_stop()
            self._advance()

    def _set_hyperparameters(self, values: dict) -> None:
        if self.trainer is None:
            return
        try:
            self.trainer.set_hyperparameters(**values)
        except SpecError as exc:
            self._send(("message", str(exc)))

    # ------------------------------------------------------------------ training
    def _advance(self) -> None:
        """Train until the next snapshot is due (or the run ends) and send it."""
        if self._run is None:
            self._run = self.trainer.run()
        snap = next(self._run, None)
        if snap is None:                  # the run was already over
            self._close_run()
            self._end(self.trainer.stop_reason or "finished")
            return
        self._emit(snap, running=not snap.done)
        if snap.done:
            self._close_run()
            self._end(snap.stop_reason)

    def _step_once(self) -> None:
        """One mini-batch, its snapshot, then paused (or ended)."""
        self._close_run()
        last = None
        for snap in self.trainer.run(max_steps=1):
            last = snap
            self._emit(snap)
        self._views_due |= self.visible
        if last is not None and last.done:
            self._end(last.stop_reason)
        elif self.trainer.finished:
            self._end(self.trainer.stop_reason)
        else:
            self._set_state("paused")

    def _emit(self, snap, running: bool = False) -> None:
        """Send a snapshot unless it repeats a step already shown (e.g. the one
        a stop or a divergence after a pause re-reports).

        With ``after_snapshot`` (a wait until the GUI has painted), the run's
        snapshots are also spaced ``snapshot_interval`` after the wait ends, or
        the trainer, whose interval ran out during the wait, would take one
        step per wait.
        """
        if snap.step <= self._last_step:
            return
        if running and time.perf_counter() < self._quiet_until:
            return
        self._last_step = snap.step
        self._send(("snapshot", snap))
        if self._after_snapshot is not None:
            self._after_snapshot()
            self._quiet_until = time.perf_counter() + self.snapshot_interval

    def _emit_current(self) -> None:
        """Show where a pause caught the run, if no snapshot has shown it yet."""
        if self.trainer.step_count > self._last_step:
            self._emit(self.trainer.snapshot())

    def _end(self, reason: str) -> None:
        state = reason.split(":", 1)[0].strip() or "finished"
        if state not in ("finished", "stopped", "diverged"):
            state = "finished"
        self._views_due |= self.visible
        self._send_views()
        self._set_state(state, reason if state == "diverged" else "")

    def _close_run(self) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None

    def _set_state(self, state: str, message: str = "", details: str = "") -> None:
        if state != self.state or message:
            self.state = state
            self._send(("state", state, message, details))

    # ------------------------------------------------------------------ view data
    def _send_views(self) -> None:
        """Recompute the visible views that are due (all of them every view_interval)."""
        if self.trainer is None:
            return
        now = time.perf_counter()
        if self.state == "running" and now - self._last_views >= self.view_interval:
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
                self._send(("message", str(exc)))
                continue
            self._send(("view", name, data))

    def _view_data(self, name: str) -> Any:
        from nnviz.core.viewdata import view_data
        return view_data(name, self.trainer.network, self.trainer.dataset, self.image)


# ---------------------------------------------------------------------- transports


def child_main(experiment, commands, events, options: dict) -> None:
    """Entry point of the training child process (multiprocessing "spawn").

    ``commands`` and ``events`` are the child's ends of two one-way pipes.
    Ctrl-C is left to the parent, which ends the child through "shutdown".
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def receive(timeout: float | None):
        try:
            return commands.recv() if commands.poll(timeout) else None
        except (EOFError, OSError) as exc:
            raise Disconnected() from exc

    def send(message: tuple) -> None:
        try:
            events.send(message)
        except (EOFError, OSError) as exc:
            raise Disconnected() from exc

    try:
        Driver(experiment, send, receive, **options).serve()
    finally:
        events.close()
        commands.close()

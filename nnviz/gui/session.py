"""TrainingSession: runs an experiment's training off the GUI thread and relays it.

Design (measured with benchmarks/gui_responsiveness.py on a 2-core machine):
the numeric work runs in a child process started with multiprocessing "spawn"
(forking a process that has Qt loaded is unsafe).  A thread that trains in the
GUI process holds Python's GIL: flat out it freezes the window (lag p95 in
the hundreds of ms, max seconds), and one that waits for each frame to be
painted (``mode="thread"``) keeps the window responsive but trains at a
fraction of the speed as soon as painting costs a few tens of ms.  The child
trains on its own core; it sends snapshots at most ``max_fps`` times a second
and the view data (decision boundary, feature maps, network diagram) of the
visible views a few times a second.  A relay thread here receives them and
wakes the GUI thread, which emits only the newest snapshot, at most
``max_fps`` times a second and, once the views report paints
(``frame_painted``), not before the previous frame is on screen.

Feed the views through a ``ViewPacer`` (nnviz/gui/session_pacer.py), which
updates one view per event-loop turn, so no repaint of all views at once
blocks the window.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import threading
import time
import weakref
from collections import deque

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from nnviz.gui.session_pacer import ViewPacer
from nnviz.gui.session_worker import (SNAPSHOT_INTERVAL, TERMINAL_STATES, VIEW_INTERVAL,
                                      VIEW_NAMES, Disconnected, Driver, child_main,
                                      describe)

__all__ = ["TrainingSession", "ViewPacer", "MODES"]

MODES = ("process", "thread")
MAX_FPS = 20.0           # frames/s: >= 15 on screen, and the painting leaves CPU to training
PAINT_TIMEOUT = 0.1      # s: the longest a frame waits for the previous one to be painted
JOIN_TIMEOUT = 1.0       # s: how long the worker gets to end by itself before it is killed


class TrainingSession(QObject):
    """Trains one experiment in the background; the GUI thread only draws.

    States: "idle" -> "running" <-> "paused" -> "finished" | "stopped" |
    "diverged" | "error".  ``start`` shows "running" at once; the other state
    changes are reported when the worker has made them, after every snapshot
    that preceded them (so after "paused" no snapshot arrives until ``resume``
    or ``step``).  A session that has ended keeps serving view data for the
    final network until ``shutdown``; to train again, make a new session.
    No signal is emitted after ``shutdown``.
    """

    snapshot = Signal(object)          # Snapshot, <= max_fps (20) per second, newest wins
    viewData = Signal(str, object)     # ("output" | "conv" | "network", data)
    stateChanged = Signal(str)
    message = Signal(str)              # divergence reason, error, rejected setting
    _wake = Signal()                   # relay/worker thread -> GUI thread

    def __init__(self, experiment, parent: QObject | None = None, *, mode: str = "process",
                 max_fps: float = MAX_FPS, view_interval: float = VIEW_INTERVAL):
        super().__init__(parent)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._experiment = experiment
        self._mode = mode
        self._options = {"snapshot_interval": max(SNAPSHOT_INTERVAL, 1.0 / max_fps),
                         "view_interval": view_interval}
        self._min_interval = 1.0 / max_fps
        self._state = "idle"
        self._link = None
        self._closed = False
        self._visible: frozenset[str] = frozenset()
        self._image: np.ndarray | None = None
        self._hyper: dict = {}
        self.last_message = ""
        self.error_details = ""            # traceback text of the last worker error
        # messages from the worker, drained on the GUI thread
        self._inbox: deque = deque()
        self._lock = threading.Lock()
        self._wake_posted = False
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        # throttled, coalesced emission
        self._pending_snapshot = None
        self._pending_views: dict[str, object] = {}
        self._last_frame = -math.inf
        self._paint_feedback = False
        self._awaiting_paint = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._maybe_emit)

    # ------------------------------------------------------------------ properties
    @property
    def state(self) -> str:
        return self._state

    @property
    def experiment(self):
        return self._experiment

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def is_alive(self) -> bool:
        """True while a worker (thread or process) exists."""
        return self._link is not None

    # ------------------------------------------------------------------ control
    def prepare(self) -> None:
        """Start the worker without training, so the visible views show the
        initial network and the first ``start`` begins at once."""
        self._ensure_link()

    def start(self) -> None:
        """Train from the start, or resume a paused run; no effect once ended."""
        if self._state in ("idle", "paused") and self._ensure_link():
            self._send(("run",))
            self._set_state("running")

    def resume(self) -> None:
        """Continue a paused run (same as ``start``)."""
        self.start()

    def pause(self) -> None:
        """Stop training after the current step; "paused" follows."""
        if self._state == "running":
            self._send(("pause",))

    def step(self) -> None:
        """Train one mini-batch, emit its snapshot, then pause."""
        if self._state in ("idle", "paused", "running") and self._ensure_link():
            self._send(("step",))

    def stop(self) -> None:
        """End the run for good ("stopped"); the weights stay inspectable."""
        if self._link is not None and self._state not in TERMINAL_STATES:
            self._send(("stop",))

    def set_hyperparameters(self, *, eta: float | None = None, l2: float | None = None,
                            clip_norm=...) -> None:
        """Change learning rate, L2 or gradient clipping (None: off) for the next steps."""
        values = {"eta": eta, "l2": l2}
        values = {k: v for k, v in values.items() if v is not None}
        if clip_norm is not ...:
            values["clip_norm"] = clip_norm
        if values:
            self._hyper.update(values)
            self._send(("hyper", values))

    def set_visible_views(self, names) -> None:
        """Compute view data only for these of "output", "conv", "network"."""
        names = frozenset(names)
        unknown = names - VIEW_NAMES
        if unknown:
            raise ValueError(f"unknown view names {sorted(unknown)}; use {sorted(VIEW_NAMES)}")
        self._visible = names
        self._send(("views", names))

    def set_conv_image(self, image) -> None:
        """The (C, H, W) image the conv view shows (None: the data set's first)."""
        self._image = None if image is None else np.array(image, dtype=np.float64, copy=True)
        self._send(("image", self._image))

    def frame_painted(self) -> None:
        """Views call this after painting a frame: the next one may come (back-pressure)."""
        self._paint_feedback = True
        self._awaiting_paint = False
        if isinstance(self._link, _ThreadLink):
            self._link.painted.set()
        if self._pending_snapshot is not None and not self._timer.isActive():
            self._maybe_emit()

    def watch_paints(self, *widgets: QWidget) -> None:
        """Call ``frame_painted`` after any of these widgets (or plots inside) paint."""
        watcher = _PaintWatcher(self)
        for widget in widgets:
            targets = [widget] + widget.findChildren(QAbstractScrollArea)
            for target in targets:
                if isinstance(target, QAbstractScrollArea):
                    target = target.viewport()
                target.installEventFilter(watcher)

    def shutdown(self) -> None:
        """End the worker promptly (blocks at most ~2 s); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        if self._link is not None:
            self._link = None
            self._finalizer()
        with self._lock:
            self._inbox.clear()
        self._pending_snapshot = None
        self._pending_views.clear()

    # ------------------------------------------------------------------ worker link
    def _ensure_link(self) -> bool:
        """Start the worker if needed; False after shutdown."""
        if self._closed:
            return False
        if self._link is None:
            link_type = _ProcessLink if self._mode == "process" else _ThreadLink
            try:
                self._link = link_type(self._experiment, self._options, self._deliver)
            except Exception as exc:  # noqa: BLE001 - e.g. an experiment that cannot be sent
                self._set_state("error")
                self._say(f"Could not start training: {describe(exc)}")
                return False
            # ends the worker even if shutdown() is never called: when Qt deletes
            # the session with its parent, or at interpreter exit
            self._finalizer = weakref.finalize(self, self._link.close)
            self.destroyed.connect(self._finalizer)
            self._send(("views", self._visible))
            if self._image is not None:
                self._send(("image", self._image))
            if self._hyper:
                self._send(("hyper", dict(self._hyper)))
        return True

    def _send(self, command: tuple) -> None:
        if self._link is not None:
            self._link.send(command)

    def _deliver(self, message: tuple) -> None:
        """Called from the relay or worker thread: queue, and wake the GUI thread once."""
        with self._lock:
            self._inbox.append(message)
            post, self._wake_posted = not self._wake_posted, True
        if post:
            try:
                self._wake.emit()
            except RuntimeError:          # the session object is being destroyed
                pass

    # ------------------------------------------------------------------ GUI thread
    def _drain(self) -> None:
        with self._lock:
            messages = list(self._inbox)
            self._inbox.clear()
            self._wake_posted = False
        for message in messages:
            if self._closed:
                return
            kind = message[0]
            if kind == "snapshot":
                self._pending_snapshot = message[1]
            elif kind == "view":
                self._pending_views[message[1]] = message[2]
            elif kind == "message":
                self._say(message[1])
            elif kind == "state":
                self._flush()
                _, state, text, details = message
                if details:
                    self.error_details = details
                self._set_state(state)
                if text:
                    self._say(text)
            elif kind == "lost":
                self._flush()
                if self._state not in TERMINAL_STATES:
                    self.error_details = ""
                    self._set_state("error")
                    self._say(f"The training process ended unexpectedly ({message[1]}).")
        self._maybe_emit()

    def _say(self, text: str) -> None:
        self.last_message = text
        self.message.emit(text)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    def _maybe_emit(self) -> None:
        """Emit the newest pending frame if the frame rate and the painter allow."""
        if self._closed or (self._pending_snapshot is None and not self._pending_views):
            return
        now = time.perf_counter()
        wait = self._last_frame + self._min_interval - now
        if self._awaiting_paint:
            wait = max(wait, self._last_frame + PAINT_TIMEOUT - now)
        if wait > 0:
            if not self._timer.isActive():
                self._timer.start(max(1, math.ceil(wait * 1000)))
            return
        self._flush()

    def _flush(self) -> None:
        """Emit what is pending now (before a state change, whatever the throttle)."""
        snap, self._pending_snapshot = self._pending_snapshot, None
        views, self._pending_views = self._pending_views, {}
        if snap is None and not views:
            return
        self._last_frame = time.perf_counter()
        if snap is not None:
            self._awaiting_paint = self._paint_feedback
            self.snapshot.emit(snap)
            if not self._paint_feedback and isinstance(self._link, _ThreadLink):
                self._link.painted.set()    # nobody reports paints: do not hold the worker
        for name, data in views.items():
            self.viewData.emit(name, data)


class _PaintWatcher(QObject):
    """Event filter: after a watched widget paints, tell the session (once per frame)."""

    def __init__(self, session: TrainingSession):
        super().__init__(session)
        self._session = session
        self._scheduled = False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self._fire)     # runs once the paint is done
        return False

    def _fire(self) -> None:
        self._scheduled = False
        self._session.frame_painted()


# ---------------------------------------------------------------------- links


class _ProcessLink:
    """The driver in a spawned child process; a relay thread forwards its messages."""

    def __init__(self, experiment, options: dict, deliver):
        context = multiprocessing.get_context("spawn")
        child_commands, self._commands = context.Pipe(duplex=False)
        self._events, child_events = context.Pipe(duplex=False)
        self.process = context.Process(
            target=child_main, args=(experiment, child_commands, child_events, options),
            name="nnviz-training", daemon=True)
        try:
            self.process.start()
        except BaseException:
            for end in (child_commands, child_events, self._commands, self._events):
                end.close()
            raise
        finally:
            child_commands.close()    # only the child holds these ends now, so either
            child_events.close()      # side sees EOF when the other one goes away
        self._deliver = deliver
        self._closed = False
        self._relay = threading.Thread(target=self._relay_loop, name="nnviz-relay", daemon=True)
        self._relay.start()

    def send(self, command: tuple) -> None:
        try:
            self._commands.send(command)
        except (OSError, ValueError):
            pass                  # the child is gone; the relay reports it

    def _relay_loop(self) -> None:
        while True:
            try:
                message = self._events.recv()
            except (EOFError, OSError):
                break
            self._deliver(message)
        if not self._closed:              # the child died by itself (crash, killed)
            try:
                self.process.join(JOIN_TIMEOUT)
                code = self.process.exitcode
            except ValueError:            # closed meanwhile by close()
                return
            self._deliver(("lost", f"exit code {code}"))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.send(("shutdown",))
        self.process.join(JOIN_TIMEOUT)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(JOIN_TIMEOUT / 2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._commands.close()
        self._relay.join(JOIN_TIMEOUT)
        self._events.close()
        self.process.close()


class _ThreadLink:
    """The driver in a thread of this process, held back while the GUI paints."""

    def __init__(self, experiment, options: dict, deliver):
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self.painted = threading.Event()
        self._deliver = deliver
        self._closed = False
        driver = Driver(experiment, self._send_message, self._receive,
                        after_snapshot=self._wait_for_paint, **options)
        self.thread = threading.Thread(target=driver.serve, name="nnviz-training", daemon=True)
        self.thread.start()

    def send(self, command: tuple) -> None:
        self._commands.put(command)

    def _receive(self, timeout: float | None):
        if self._closed:
            raise Disconnected()
        try:
            return self._commands.get(timeout=timeout) if timeout != 0 \
                else self._commands.get_nowait()
        except queue.Empty:
            return None

    def _send_message(self, message: tuple) -> None:
        if message[0] == "snapshot":
            self.painted.clear()
        self._deliver(message)

    def _wait_for_paint(self) -> None:
        """Leave the GIL to the GUI thread until it has painted this snapshot."""
        self.painted.wait(PAINT_TIMEOUT)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.send(("shutdown",))
        self.painted.set()
        self.thread.join(2 * JOIN_TIMEOUT)

"""TrainingSession: runs an experiment's training off the GUI thread and relays it.

Design (measured with benchmarks/gui_responsiveness.py on a 2-core machine):
the numeric work runs in a child process, a fresh Python started on the
module ``nnviz.gui.worker_entry`` (forking a process that has Qt loaded is
unsafe, and multiprocessing's "spawn" would re-run the user's script).  A thread that trains in the
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

import atexit
import math
import multiprocessing
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

import nnviz
from nnviz.core.runs import RunState
from nnviz.gui.session_pacer import ViewPacer
from nnviz.gui.session_worker import (SNAPSHOT_INTERVAL, VIEW_INTERVAL, VIEW_NAMES,
                                      Disconnected, Driver, describe)
from nnviz.gui.worker_protocol import (Continue, Frame, GetTrace, GetWeights, Lost, Notice, Pause, Ready,
                                       SetHyper, SetImage, SetPace, ShowViews, Shutdown,
                                       StateChanged, Step, Stop, Trace, Train, ViewData,
                                       Weights)

__all__ = ["TrainingSession", "ViewPacer", "MODES"]

MODES = ("process", "thread")
MAX_FPS = 20.0           # frames/s: >= 15 on screen, and the painting leaves CPU to training
PAINT_TIMEOUT = 0.1      # s: the longest a frame waits for the previous one to be painted
JOIN_TIMEOUT = 1.0       # s: how long the worker gets to end by itself before it is killed
START_TIMEOUT = 60.0     # s: a training process that has not reported by then is given up


class TrainingSession(QObject):
    """Trains one experiment in the background; the GUI thread only draws.

    States (:class:`RunState`): idle -> running <-> paused -> finished |
    stopped | diverged | error.  ``start`` shows "running" at once; the other state
    changes are reported when the worker has made them, after every snapshot
    that preceded them (so after "paused" no snapshot arrives until ``resume``
    or ``step``).  A session that has ended keeps serving view data for the
    final network until ``shutdown``; to train again, make a new session.
    No signal is emitted after ``shutdown``.
    """

    snapshot = Signal(object)          # Snapshot, <= max_fps (20) per second, newest wins
    points = Signal(tuple, tuple)      # every history point, in order, none dropped;
                                       # and the names of the layers they describe
    viewData = Signal(str, object)     # ("output" | "conv" | "network", data)
    stateChanged = Signal(object)      # RunState
    ready = Signal()                   # the worker is up (Start begins at once now)
    weights = Signal(dict)             # the answer to request_weights()
    trace = Signal(object)             # the answer to request_trace(): a Trace record
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
        self._state = RunState.IDLE
        self.is_ready = False
        self._link = None
        self._closed = False
        self._visible: frozenset[str] = frozenset()
        self._image: np.ndarray | None = None
        self._hyper: dict = {}
        self._pace: float | None = None
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
    def state(self) -> RunState:
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
        if self._state in (RunState.IDLE, RunState.PAUSED) and self._ensure_link():
            self._send(Train())
            self._set_state(RunState.RUNNING)

    def resume(self) -> None:
        """Continue a paused run (same as ``start``)."""
        self.start()

    def pause(self) -> None:
        """Stop training after the current step; "paused" follows."""
        if self._state == RunState.RUNNING:
            self._send(Pause())

    def step(self) -> None:
        """Train one mini-batch, emit its snapshot, then pause."""
        if not self._state.ended and self._ensure_link():
            self._send(Step())

    def stop(self) -> None:
        """End the run for good ("stopped"); the weights stay inspectable."""
        if self._link is not None and not self._state.ended:
            self._send(Stop())

    def set_hyperparameters(self, *, eta: float | None = None, l2: float | None = None,
                            clip_norm=...) -> None:
        """Change learning rate, L2 or gradient clipping (None: off) for the next steps."""
        values = {"eta": eta, "l2": l2}
        values = {k: v for k, v in values.items() if v is not None}
        if clip_norm is not ...:
            values["clip_norm"] = clip_norm
        if values:
            self._hyper.update(values)
            self._send(SetHyper(values))

    def continue_run(self, epochs: int) -> None:
        """After "finished" or "stopped": train ``epochs`` more from the current weights."""
        if self._link is not None and self._state in (RunState.FINISHED, RunState.STOPPED):
            self._send(Continue(int(epochs)))
            self._set_state(RunState.RUNNING)

    def set_pace(self, steps_per_second: float | None) -> None:
        """Train at most this many steps a second (None: as fast as possible)."""
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"steps_per_second must be > 0 or None, got {steps_per_second!r}")
        self._pace = steps_per_second
        self._send(SetPace(steps_per_second))

    def request_weights(self) -> None:
        """Ask for the network's parameters as they are now (``weights`` answers)."""
        if self._ensure_link():
            self._send(GetWeights())

    def request_trace(self, split: str, index: int) -> None:
        """Ask for one sample's back propagation on the current weights (``trace`` answers)."""
        if self._ensure_link():
            self._send(GetTrace(str(split), int(index)))

    def set_visible_views(self, names) -> None:
        """Compute view data only for these of "output", "conv", "network"."""
        names = frozenset(names)
        unknown = names - VIEW_NAMES
        if unknown:
            raise ValueError(f"unknown view names {sorted(unknown)}; use {sorted(VIEW_NAMES)}")
        self._visible = names
        self._send(ShowViews(names))

    def set_conv_image(self, image) -> None:
        """The (C, H, W) image the conv view shows (None: the data set's first)."""
        self._image = None if image is None else np.array(image, dtype=np.float64, copy=True)
        self._send(SetImage(self._image))

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
        """End the worker (it is reaped in the background: this never waits); safe twice."""
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
                self._set_state(RunState.ERROR)
                self._say(f"Could not start training: {describe(exc)}")
                return False
            # ends the worker even if shutdown() is never called: when Qt deletes
            # the session with its parent, or at interpreter exit
            self._finalizer = weakref.finalize(self, self._link.close)
            self.destroyed.connect(self._finalizer)
            self._send(ShowViews(self._visible))
            if self._image is not None:
                self._send(SetImage(self._image))
            if self._hyper:
                self._send(SetHyper(dict(self._hyper)))
            if self._pace is not None:
                self._send(SetPace(self._pace))
        return True

    def _send(self, command) -> None:
        if self._link is not None:
            self._link.send(command)

    def _deliver(self, message) -> None:
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
            self._handle(message)
        self._maybe_emit()

    def _handle(self, message) -> None:
        if isinstance(message, Frame):
            if message.points:
                self.points.emit(message.points, message.layers)
            if message.snapshot is not None:
                self._pending_snapshot = message.snapshot
        elif isinstance(message, ViewData):
            self._pending_views[message.name] = message.data
        elif isinstance(message, Notice):
            self._say(message.text)
        elif isinstance(message, Weights):
            self.weights.emit(message.arrays)
        elif isinstance(message, Trace):
            self.trace.emit(message)
        elif isinstance(message, Ready):
            self.is_ready = True
            self.ready.emit()
        elif isinstance(message, StateChanged):
            self._flush()
            if message.details:
                self.error_details = message.details
            self._set_state(message.state)
            if message.message:
                self._say(message.message)
        elif isinstance(message, Lost):
            self._flush()
            if not self._state.ended:
                self.error_details = ""
                self._set_state(RunState.ERROR)
                self._say(message.reason)

    def _say(self, text: str) -> None:
        self.last_message = text
        self.message.emit(text)

    def _set_state(self, state: RunState) -> None:
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


#: BLAS on one thread in the training process: the window needs the other core, and on
#: a busy machine a multi-threaded matrix product of the validation set took 3 ms
#: instead of 0.1 ms (digits MLP: 9,400 -> 68,000 samples/s, measured under load).
ONE_BLAS_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


def _child_environment() -> dict:
    """The environment of the training process: this one, with nnviz importable
    even when the program that opened the window put it on sys.path by hand, and
    BLAS on one thread unless the user chose otherwise."""
    env = {**ONE_BLAS_THREAD, **os.environ}
    root = os.path.dirname(os.path.dirname(os.path.abspath(nnviz.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


_LIVE_PROCESSES: set[subprocess.Popen] = set()


def live_workers() -> list[subprocess.Popen]:
    """Training processes of this program that have not ended yet."""
    return [p for p in list(_LIVE_PROCESSES) if p.poll() is None]


@atexit.register
def _kill_workers() -> None:
    for process in live_workers():
        process.kill()


class _ProcessLink:
    """The driver in its own training process; a relay thread forwards its messages.

    Closing never waits: the process is told to shut down and is reaped (or
    killed) by a background thread.  A process that exits, or does not report
    within ``START_TIMEOUT``, is reported as :class:`Lost` with the end of
    what it wrote to stderr.
    """

    def __init__(self, experiment, options: dict, deliver, *,
                 start_timeout: float = START_TIMEOUT):
        ours, theirs = multiprocessing.Pipe(duplex=True)      # a socket pair
        self._stderr = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nnviz.gui.worker_entry", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stderr=self._stderr,
                env=_child_environment())
        except BaseException:
            ours.close()
            self._stderr.close()
            raise
        finally:
            theirs.close()        # only the child holds that end now: EOF when it goes
        _LIVE_PROCESSES.add(self.process)
        self._conn = ours
        self._deliver = deliver
        self._closed = False
        self._start_timeout = start_timeout
        self._send_lock = threading.Lock()
        self.send((experiment, options))
        self._relay = threading.Thread(target=self._relay_loop, name="nnviz-relay", daemon=True)
        self._relay.start()

    def send(self, command) -> None:
        try:
            with self._send_lock:
                self._conn.send(command)
        except (OSError, ValueError):
            pass                  # the child is gone; the relay reports it

    def _relay_loop(self) -> None:
        started, ready = time.monotonic(), False
        reason = None
        try:
            while not self._closed:
                try:
                    if self._conn.poll(0.2):
                        message = self._conn.recv()
                        ready = ready or isinstance(message, Ready)
                        self._deliver(message)
                        continue
                except (EOFError, OSError):
                    pass
                code = self.process.poll()
                if code is not None:
                    reason = self._ended_text(code, ready)
                    break
                if not ready and time.monotonic() - started > self._start_timeout:
                    self.process.kill()
                    reason = (f"The training process did not start within "
                              f"{self._start_timeout:.0f} s.")
                    break
        finally:
            if reason is not None and not self._closed:
                self._deliver(Lost(reason))
            self._conn.close()

    def _ended_text(self, code: int, ready: bool) -> str:
        if ready:
            return f"The training process ended unexpectedly (exit code {code})."
        tail = ""
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            tail = lines[-1] if lines else ""
        except (OSError, ValueError):
            pass
        return (f"The training process could not start (exit code {code})"
                + (f": {tail}" if tail else "."))

    def close(self) -> None:
        if self._closed:
            return
        self.send(Shutdown())
        self._closed = True
        threading.Thread(target=self._reap, name="nnviz-reaper", daemon=True).start()

    def _reap(self) -> None:
        try:
            self.process.wait(JOIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(JOIN_TIMEOUT / 2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _LIVE_PROCESSES.discard(self.process)
        self._relay.join(JOIN_TIMEOUT)
        self._stderr.close()


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

    def send(self, command) -> None:
        self._commands.put(command)

    def _receive(self, timeout: float | None):
        if self._closed:
            raise Disconnected()
        try:
            return self._commands.get(timeout=timeout) if timeout != 0 \
                else self._commands.get_nowait()
        except queue.Empty:
            return None

    def _send_message(self, message) -> None:
        if isinstance(message, Frame):
            self.painted.clear()
        self._deliver(message)

    def _wait_for_paint(self) -> None:
        """Leave the GIL to the GUI thread until it has painted this snapshot."""
        self.painted.wait(PAINT_TIMEOUT)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.send(Shutdown())
        self.painted.set()
        self.thread.join(2 * JOIN_TIMEOUT)

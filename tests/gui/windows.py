"""What the window tests share: a recording stand-in session, a window factory
that closes its windows, dialog answers, and a check that nothing leaks."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from nnviz.core.runs import snapshot_point
from nnviz.gui import MainWindow
from nnviz.gui.session import live_workers
from nnviz.gui.settings import Settings

TRAIN_TIMEOUT = 30_000     # ms; the worker process needs a few seconds to start


class FakeSession(QObject):
    """Records what the window asks of a session; emits only what a test makes it."""

    snapshot = Signal(object)
    points = Signal(tuple, tuple)
    viewData = Signal(str, object)
    stateChanged = Signal(str)
    message = Signal(str)

    def emit_snapshot(self, snap):
        """As a real session does: the snapshot's history point, then the snapshot."""
        self.points.emit((snapshot_point(snap),), tuple(p.name for p in snap.layers))
        self.snapshot.emit(snap)

    def __init__(self, experiment, parent=None):
        super().__init__(parent)
        self.experiment = experiment
        self.state = "idle"
        self.calls: list = []

    def _record(self, *call):
        self.calls.append(call)

    def _set(self, state):
        self.state = state
        self.stateChanged.emit(state)

    def start(self):
        self._record("start")
        self._set("running")

    def resume(self):
        self._record("resume")
        self._set("running")

    def pause(self):
        self._record("pause")
        self._set("paused")

    def step(self):
        self._record("step")
        self._set("paused")

    def stop(self):
        self._record("stop")
        self._set("stopped")

    def shutdown(self):
        self._record("shutdown")

    def prepare(self):
        self._record("prepare")

    def set_hyperparameters(self, **values):
        self._record("hyper", values)

    def set_visible_views(self, names):
        self._record("views", set(names))

    def set_conv_image(self, image):
        self._record("image", image)

    def frame_painted(self):
        self._record("painted")

    def continue_run(self, epochs):
        self._record("continue", epochs)
        self._set("running")

    def request_weights(self):
        self._record("weights")

    def set_pace(self, steps_per_second):
        self._record("pace", steps_per_second)


def points(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


# ------------------------------------------------------------------ memory
def _status_bytes(pid: int | str, field: str) -> int | None:
    """A memory field (``VmHWM``, ``VmRSS``) of /proc/PID/status in bytes; None if unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss(pid: int | str = "self") -> int | None:
    """The peak resident memory (VmHWM) of a process in bytes; None once it is gone."""
    return _status_bytes(pid, "VmHWM")


def rss(pid: int | str = "self") -> int:
    """The resident memory (VmRSS) of a process in bytes now; 0 if unknown."""
    return _status_bytes(pid, "VmRSS") or 0


def reset_peak_rss() -> bool:
    """Start this process's peak memory afresh (Linux: clear_refs 5); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def training_children():
    return live_workers()


def worker_threads():
    return {t.name for t in threading.enumerate()} & {"nnviz-training", "nnviz-relay",
                                                       "nnviz-reaper"}


@pytest.fixture(autouse=True)
def no_leaks(qtbot):
    """No window, training process or thread may outlive a test (they are reaped
    in the background: wait for it)."""
    yield
    qtbot.waitUntil(lambda: not training_children() and not worker_threads(), timeout=15000)
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]


@pytest.fixture
def settings(tmp_path):
    return Settings(tmp_path / "settings.ini")


@pytest.fixture
def make_window(qtbot, settings):
    """make_window(experiment=None, fake=False, ...): a shown window, closed after the test.

    Sessions are real child processes, or with ``thread`` real sessions in a
    thread, or with ``fake`` FakeSessions.
    """
    made = []

    def make(experiment=None, fake=False, settings=settings, prepare=False, thread=False):
        sessions = []

        def factory(experiment, parent):
            session = FakeSession(experiment, parent)
            sessions.append(session)
            return session

        def in_thread(experiment, parent):      # no child process to start: quicker
            from nnviz.gui.session import TrainingSession
            return TrainingSession(experiment, parent, mode="thread")

        window = MainWindow(experiment, settings=settings, prepare=prepare,
                            session_factory=factory if fake else in_thread if thread else None)
        window.fake_sessions = sessions
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()


@pytest.fixture
def answer(monkeypatch):
    """answer(yes): what QMessageBox.question replies; the questions asked are kept."""
    asked = []

    def install(yes: bool):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No
        monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
        return asked
    return install

"""TrainingSession: the worker's life cycle as the GUI thread sees it.

Small XOR experiments; the default design (a spawned child process) is tested
throughout, the thread design on the life cycle and the conv image.  The
ViewPacer is tested on fake views and a fake session.
"""

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QObject, QtMsgType, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from nnviz.core.experiment import Experiment
from nnviz.core.viewdata import ConvData, NetworkData, OutputData
from nnviz.gui.session import TrainingSession, ViewPacer, live_workers

WAIT_MS = 15000          # generous: a child process needs ~1 s to import numpy etc.


def xor_spec(epochs=100_000, eta=0.05, optimizer="adam", n_samples=400, init="xavier",
             activation="tanh", cost="bce", output="sigmoid"):
    return {"dataset": {"name": "xor", "n_samples": n_samples},
            "model": {"input_shape": [2], "cost": cost, "init": init,
                      "layers": [{"type": "dense", "units": 8, "activation": activation},
                                 {"type": "dense", "units": 1, "activation": output}]},
            "training": {"optimizer": {"name": optimizer, "eta": eta}, "epochs": epochs,
                         "batch_size": 16}}


def xor_experiment(**kw):
    return Experiment.from_dict(xor_spec(**kw))


class Recorder:
    """Everything a session emits, in order."""

    def __init__(self, session):
        self.snapshots, self.states, self.messages, self.views = [], [], [], []
        session.snapshot.connect(self.snapshots.append)
        session.stateChanged.connect(self.states.append)
        session.message.connect(self.messages.append)
        session.viewData.connect(lambda name, data: self.views.append((name, data)))

    @property
    def steps(self):
        return [s.step for s in self.snapshots]


@pytest.fixture
def session_factory(qtbot):
    """make(experiment, mode) -> (session, recorder); every session is shut down after."""
    made = []

    def make(experiment, mode="process"):
        session = TrainingSession(experiment, mode=mode)
        made.append(session)
        return session, Recorder(session)

    yield make
    for session in made:
        session.shutdown()


# the offscreen platform says so whenever a window with a layout is shown
PLATFORM_NOTES = ("This plugin does not support propagateSizeHints()",)


@pytest.fixture(autouse=True)
def no_qt_warnings(qtlog):
    yield
    bad = [r.message for r in qtlog.records
           if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
           and r.message not in PLATFORM_NOTES]
    assert bad == []


def wait_state(qtbot, session, state):
    if session.state != state:
        with qtbot.waitSignal(session.stateChanged, timeout=WAIT_MS,
                              check_params_cb=lambda s: s == state):
            pass
    assert session.state == state


def worker_threads():
    return [t for t in threading.enumerate() if t.name.startswith("nnviz")]


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_start_pause_step_resume_stop(qtbot, session_factory, mode):
    session, rec = session_factory(xor_experiment(), mode)
    assert session.state == "idle"
    session.start()
    assert session.state == "running"
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 3, timeout=WAIT_MS)
    assert rec.steps[0] == 1 and rec.steps == sorted(set(rec.steps))

    session.pause()
    wait_state(qtbot, session, "paused")
    paused_at = len(rec.snapshots)
    qtbot.wait(300)
    assert len(rec.snapshots) == paused_at          # nothing after "paused"

    last = rec.steps[-1]
    session.step()
    qtbot.waitUntil(lambda: len(rec.snapshots) == paused_at + 1, timeout=WAIT_MS)
    assert rec.steps[-1] == last + 1
    qtbot.wait(200)
    assert len(rec.snapshots) == paused_at + 1 and session.state == "paused"

    session.resume()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= paused_at + 3, timeout=WAIT_MS)
    assert rec.steps[-1] > last + 1 and rec.steps == sorted(set(rec.steps))

    session.stop()
    wait_state(qtbot, session, "stopped")
    assert rec.states == ["running", "paused", "running", "stopped"]
    assert rec.messages == []
    count = len(rec.snapshots)
    session.start()                                  # an ended run stays ended
    qtbot.wait(200)
    assert session.state == "stopped" and len(rec.snapshots) == count


def test_step_from_idle_trains_one_batch_then_pauses(qtbot, session_factory):
    session, rec = session_factory(xor_experiment())
    session.step()
    wait_state(qtbot, session, "paused")
    assert rec.steps == [1]
    session.step()
    qtbot.waitUntil(lambda: len(rec.snapshots) == 2, timeout=WAIT_MS)
    assert rec.steps == [1, 2] and rec.states == ["paused"]


def test_finished_run_reports_its_last_step(qtbot, session_factory):
    # 40 samples, 20 % held out: 32 to train on, 2 batches of 16 per epoch, 3 epochs
    session, rec = session_factory(xor_experiment(epochs=3, n_samples=40))
    session.start()
    wait_state(qtbot, session, "finished")
    last = rec.snapshots[-1]
    assert last.step == 6 and last.done and last.stop_reason == "finished"
    assert rec.states == ["running", "finished"] and rec.messages == []


def test_live_learning_rate_change_reaches_later_snapshots(qtbot, session_factory):
    session, rec = session_factory(xor_experiment(eta=0.05))
    session.start()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 2, timeout=WAIT_MS)
    session.set_hyperparameters(eta=0.125, l2=0.001)
    qtbot.waitUntil(lambda: rec.snapshots[-1].learning_rate == 0.125, timeout=WAIT_MS)
    rates = [s.learning_rate for s in rec.snapshots]
    switch = rates.index(0.125)
    assert switch >= 2
    assert set(rates[:switch]) == {0.05} and set(rates[switch:]) == {0.125}


def test_rejected_hyperparameter_is_a_message_not_an_error(qtbot, session_factory):
    session, rec = session_factory(xor_experiment())
    session.start()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 1, timeout=WAIT_MS)
    session.set_hyperparameters(l2=-1.0)
    qtbot.waitUntil(lambda: bool(rec.messages), timeout=WAIT_MS)
    assert "training.l2" in rec.messages[0]
    count = len(rec.snapshots)
    qtbot.waitUntil(lambda: len(rec.snapshots) > count, timeout=WAIT_MS)
    assert session.state == "running"


def test_diverging_run_says_why(qtbot, session_factory):
    session, rec = session_factory(xor_experiment(
        optimizer="constant", eta=1e6, init="normal", activation="relu", cost="mse",
        output="identity"))
    session.start()
    wait_state(qtbot, session, "diverged")
    assert len(rec.messages) == 1
    assert rec.messages[0].startswith("diverged: the weights blew up at step 1")   # not only NaN
    assert "learning rate" in rec.messages[0]
    assert all(np.isfinite(s.train_loss) for s in rec.snapshots)


def test_worker_error_reaches_the_gui_without_a_traceback(qtbot, session_factory, capfd):
    spec = xor_spec()
    spec["model"]["layers"][0]["units"] = -3            # Network.from_spec rejects it
    bad = SimpleNamespace(dataset=spec["dataset"], model=spec["model"],
                          training=spec["training"])
    session, rec = session_factory(bad)
    session.start()
    wait_state(qtbot, session, "error")
    assert len(rec.messages) == 1 and "layers[0].units" in rec.messages[0]
    assert "SpecError" in session.error_details       # kept for a bug report, not printed
    assert rec.snapshots == []
    session.shutdown()
    assert "Traceback" not in capfd.readouterr().err


def test_views_computed_only_when_visible(qtbot, session_factory):
    session, rec = session_factory(xor_experiment())
    session.set_visible_views({"output"})
    session.step()
    qtbot.waitUntil(lambda: bool(rec.views), timeout=WAIT_MS)
    wait_state(qtbot, session, "paused")
    names = {name for name, _ in rec.views}
    assert names == {"output"}
    output = rec.views[-1][1]
    assert isinstance(output, OutputData) and output.kind == "boundary"
    assert output.probs.shape == (80, 80)

    session.set_visible_views({"network"})              # computed at once, even paused
    qtbot.waitUntil(lambda: rec.views[-1][0] == "network", timeout=WAIT_MS)
    network = rec.views[-1][1]
    assert isinstance(network, NetworkData) and len(network.layers) == 2
    assert network.layers[0].weights.shape == (2, 8)
    with pytest.raises(ValueError, match="unknown view"):
        session.set_visible_views({"loss"})


def test_conv_view_gets_feature_maps_of_the_chosen_image(qtbot, session_factory):
    experiment = Experiment.from_dict({
        "dataset": {"name": "digits"},
        "model": {"input_shape": [1, 8, 8], "cost": "cross_entropy",
                  "layers": [{"type": "conv2d", "filters": 3, "kernel_size": 3,
                              "padding": "same", "activation": "relu"},
                             {"type": "flatten"},
                             {"type": "dense", "units": 10, "activation": "softmax"}]},
        "training": {"epochs": 1, "batch_size": 32}})
    session, rec = session_factory(experiment, "thread")
    image = np.linspace(0.0, 1.0, 64).reshape(1, 8, 8)
    session.set_visible_views({"conv"})
    session.set_conv_image(image)
    session.prepare()
    qtbot.waitUntil(lambda: bool(rec.views), timeout=WAIT_MS)
    conv = rec.views[-1][1]
    assert isinstance(conv, ConvData)
    np.testing.assert_array_equal(conv.image, image)
    assert len(conv.layers) == 1 and conv.layers[0].maps.shape == (3, 8, 8)

    session.set_conv_image(np.zeros((3, 5, 5)))           # wrong shape: said, not fatal
    qtbot.waitUntil(lambda: bool(rec.messages), timeout=WAIT_MS)
    assert "image" in rec.messages[0]
    assert session.state == "idle"


def test_training_process_that_dies_is_reported_as_an_error(qtbot, session_factory):
    session, rec = session_factory(xor_experiment())
    session.start()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 1, timeout=WAIT_MS)
    session._link.process.kill()                       # as the OS would on a crash
    wait_state(qtbot, session, "error")
    assert rec.messages == ["The training process ended unexpectedly (exit code -9)."]
    session.shutdown()
    qtbot.waitUntil(lambda: live_workers() == [], timeout=WAIT_MS)


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_shutdown_while_training_is_prompt_and_complete(qtbot, session_factory, mode):
    before = worker_threads()
    session, rec = session_factory(xor_experiment(), mode)
    session.set_visible_views({"output", "network"})
    session.start()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 2, timeout=WAIT_MS)
    session.shutdown()                 # returns at once: the process is reaped behind
    assert not session.is_alive
    # no thread of this session is left; one of an earlier test's (a reaper still
    # joining its relay when this test began) may end meanwhile: a subset, not equal
    qtbot.waitUntil(lambda: set(worker_threads()) <= set(before) and live_workers() == [],
                    timeout=WAIT_MS)
    count = len(rec.snapshots)
    session.shutdown()                                   # twice is fine
    session.start()                                      # and nothing restarts
    qtbot.wait(200)
    assert len(rec.snapshots) == count and live_workers() == []


# ---------------------------------------------------------------------- ViewPacer

class FakeSession(QObject):
    """The signals a ViewPacer listens to, and a count of frame_painted calls."""

    snapshot = Signal(object)
    viewData = Signal(str, object)

    def __init__(self):
        super().__init__()
        self.painted = 0

    def frame_painted(self):
        self.painted += 1


class FakeView(QWidget):
    """Logs its updates and paints into a shared list."""

    def __init__(self, name, log):
        super().__init__()
        self.name, self.log = name, log
        self.setMinimumSize(60, 40)

    def update_snapshot(self, snap):
        self.log.append(("update", self.name, snap))
        self.update()

    update_data = update_snapshot

    def paintEvent(self, event):  # noqa: N802 - Qt API
        self.log.append(("paint", self.name))


@pytest.fixture
def paced(qtbot):
    """A FakeSession, a ViewPacer on it, and a log shared by the views."""
    session, log = FakeSession(), []
    pacer = ViewPacer(session)
    return session, pacer, log


def shown_views(qtbot, names, log):
    """FakeViews side by side in one shown window, its first paints done."""
    window = QWidget()
    qtbot.addWidget(window)
    layout = QHBoxLayout(window)
    views = [FakeView(name, log) for name in names]
    for view in views:
        layout.addWidget(view)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: {e[1] for e in log} == set(names), timeout=5000)
    log.clear()
    return window, views


def test_pacer_updates_one_view_per_paint_with_the_newest_data(qtbot, paced):
    session, pacer, log = paced
    window, views = shown_views(qtbot, "abc", log)
    for view in views:
        pacer.add_snapshot_view(view)
    for snap in (1, 2, 3):                  # arrive together: only the newest is drawn
        session.snapshot.emit(snap)
    qtbot.waitUntil(lambda: session.painted == 1, timeout=5000)
    assert log == [("update", "a", 3), ("paint", "a"), ("update", "b", 3), ("paint", "b"),
                   ("update", "c", 3), ("paint", "c")]


def test_pacer_routes_view_data_by_name_and_keeps_it_for_hidden_views(qtbot, paced):
    session, pacer, log = paced
    output = FakeView("output", log)            # not shown yet: not updated, not waited for
    qtbot.addWidget(output)
    network = FakeView("network", log)
    qtbot.addWidget(network)
    pacer.add_data_view("output", output)
    pacer.add_data_view("network", network)
    session.viewData.emit("output", "old")
    session.viewData.emit("output", "boundary")
    assert session.painted == 2 and log == []   # nothing to draw: the next frame may come
    pacer.flush()
    assert log == []
    output.show()                               # shown: gets the newest data it missed
    qtbot.waitUntil(lambda: ("update", "output", "boundary") in log, timeout=5000)
    assert [e for e in log if e[0] == "update"] == [("update", "output", "boundary")]
    qtbot.waitUntil(lambda: session.painted == 3, timeout=5000)


def test_pacer_leaves_hidden_snapshot_views_alone_until_shown(qtbot, paced):
    session, pacer, log = paced
    window, (shown,) = shown_views(qtbot, "a", log)
    hidden = FakeView("h", log)
    qtbot.addWidget(hidden)
    pacer.add_snapshot_view(shown)
    pacer.add_snapshot_view(hidden)
    for snap in (1, 2, 3, 4):
        session.snapshot.emit(snap)
        qtbot.wait(50)
    qtbot.waitUntil(lambda: ("update", "a", 4) in log, timeout=5000)
    assert [e for e in log if e[1] == "h"] == []       # its run keeps the history meanwhile
    hidden.show()                               # then the newest one it missed
    qtbot.waitUntil(lambda: ("update", "h", 4) in log, timeout=5000)
    assert [e for e in log if e[1] == "h" and e[0] == "update"] == [("update", "h", 4)]


def test_closed_pacer_feeds_nobody(qtbot, paced):
    session, pacer, log = paced
    window, views = shown_views(qtbot, "ab", log)
    for view in views:
        pacer.add_snapshot_view(view)
    session.snapshot.emit(1)
    pacer.close()
    pacer.close()
    session.snapshot.emit(2)
    qtbot.wait(200)
    assert [e for e in log if e[0] == "update"] in ([], [("update", "a", 1)])
    assert pacer.closed


def test_a_paced_driver_keeps_its_pace_without_busy_waiting(monkeypatch):
    """The worker honours a pace in steps per second; it waits for commands meanwhile.

    The driver's clock is virtual: it moves only while the driver waits for a
    command, by the time it asked to wait (and a microsecond a call).  So the
    pace measured is the driver's own arithmetic, whatever the machine's load;
    a driver that busy-waited would hardly move the clock (and is stopped after
    many calls)."""
    from types import SimpleNamespace

    from nnviz.gui import session_worker
    from nnviz.gui.session_worker import Driver
    from nnviz.gui.worker_protocol import Frame, SetPace, Shutdown, Train

    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(session_worker, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    commands = [SetPace(40.0), Train()]
    frames: list = []
    waits: list = []

    def receive(timeout):
        waits.append(timeout)
        if commands:
            return commands.pop(0)
        if clock.now > 1003.0 or len(waits) > 100_000:
            return Shutdown()
        clock.now += (timeout or 0.0) + 1e-6   # the driver slept this long (+ a call's cost)
        return None

    def send(message):
        if isinstance(message, Frame):
            frames.append((clock.now, message.snapshot.step))

    Driver(xor_experiment(epochs=10_000), send, receive).serve()
    (t0, s0), (t1, s1) = frames[0], frames[-1]
    rate = (s1 - s0) / (t1 - t0)
    assert t1 - t0 > 2.0 and 40 * 0.95 <= rate <= 40 * 1.05, rate
    assert sum(1 for w in waits if w and w > 0) > 0.5 * (s1 - s0)   # it slept between steps

"""The inspector in the window: where its numbers come from, and when.

With a run (started, paused or ended) the training worker computes the trace on
its current weights (``RunController.request_trace`` → ``Trace``).  Before the
first Start there is no trained network: the trace is computed on a superqt
thread from the experiment's network with its initial weights (or, for a network
too large for the window to build, by the prepared worker).  While training
runs, the inspector refreshes on demand, or every REFRESH_MS when asked and on
screen; an answer older than the latest request is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from superqt.utils import create_worker

from nnviz.core.trace import backprop_data
from nnviz.gui.inspector.widget import BackpropInspector

REFRESH_MS = 1000


class InspectorLink(QObject):
    """Connects a BackpropInspector to a MainWindow's controller, model and output view."""

    def __init__(self, window, inspector: BackpropInspector):
        super().__init__(inspector)
        self.window = window
        self.inspector = inspector
        self.controller = window.controller
        self.worker = None
        self._wanted = None               # the latest (split, index) asked for
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        inspector.trace_requested.connect(self.request)
        self.controller.trace.connect(self._from_worker)
        window.model.validated.connect(lambda _check: self._sizes())
        window.views["output"].sample_clicked.connect(inspector.select_sample)
        self._sizes()

    def _sizes(self) -> None:
        dataset = self.window.model.check.dataset
        if dataset is not None:
            self.inspector.set_sizes(len(dataset.X_train), len(dataset.X_val))

    def _tick(self) -> None:
        if (self.inspector.auto.isChecked() and self.inspector.isVisible()
                and self.controller.state.value == "running"):
            self.inspector.request()

    def request(self, split: str, index: int) -> None:
        self._wanted = (split, int(index))
        if self.controller.request_trace(split, index):
            return
        check = self.window.model.check
        if not check.valid:
            self.inspector.show_error("the experiment is not valid yet")
            return
        if check.network is None:         # too large to build here: the worker has it
            if not self.controller.request_trace(split, index, before_start=True):
                self.inspector.show_error("a network this large is traced by the training "
                                          "process: press Step, then trace again")
            return
        worker = create_worker(backprop_data, check.network, check.dataset, int(index), split)
        worker.returned.connect(lambda data: self._show(data, "initial weights (before training)"))
        worker.errored.connect(lambda exc: self.inspector.show_error(str(exc)))
        self.worker = worker
        worker.start()

    def _from_worker(self, trace) -> None:
        if trace.data is None:
            self.inspector.show_error(trace.error)
            return
        state = self.controller.state.value
        self._show(trace.data, f"weights at step {trace.step} ({state})")

    def _show(self, data: dict, source: str) -> None:
        if self._wanted is not None and (data["split"], data["index"]) != self._wanted:
            return                         # an older answer: a newer one is on its way
        self.inspector.show_trace(data, source)


def make_inspector(window) -> BackpropInspector:
    """A BackpropInspector wired to ``window`` (its link is its child)."""
    inspector = BackpropInspector()
    inspector.link = InspectorLink(window, inspector)
    return inspector

"""The runs of a window: the pinned ones kept for comparison, and the current one.

Qt-side model (napari style: the views and the Runs dock subscribe to its
signals).  The run data itself is ``nnviz.core.Run``; this adds what a window
needs to compare runs: a colour per pinned run, shown or hidden, a name that
says what the run changed, and the order (pinned runs first, the current run
last).  Pinned runs survive Reset, New, Open and presets: only ``remove``
drops one.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from nnviz.core.run_names import run_name, unique_name
from nnviz.core.runs import Run
from nnviz.gui.views.run_curves import RUN_COLOURS, PinnedRun


class RunsModel(QObject):
    """Pinned runs and the current run; ``changed`` when any of them is added,
    removed, renamed, shown or hidden (not when the current run grows)."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pinned: list[PinnedRun] = []
        self._current: Run | None = None
        self._previous: dict | None = None    # experiment of the last run started
        self._colours_used = 0

    # ------------------------------------------------------------------ reading
    @property
    def pinned(self) -> list[PinnedRun]:
        return list(self._pinned)

    @property
    def current(self) -> Run | None:
        return self._current

    @property
    def runs(self) -> list[Run]:
        """Pinned runs first, then the current run (if there is one)."""
        runs = [p.run for p in self._pinned]
        if self._current is not None and self._current not in runs:
            runs.append(self._current)
        return runs

    # ------------------------------------------------------------------ the current run
    def start_run(self, experiment: dict) -> Run:
        """A new current run for ``experiment``, named after what it changes."""
        name = run_name(experiment, self._previous) or f"run {self._colours_used + 1}"
        taken = [p.name for p in self._pinned]
        run = Run(unique_name(name, taken), experiment)
        self._previous = experiment
        self._current = run
        self.changed.emit()
        return run

    def drop_current(self) -> None:
        """The current run is discarded (Reset, a new experiment); pinned ones stay."""
        if self._current is not None:
            self._current = None
            self.changed.emit()

    def pin_current(self) -> PinnedRun | None:
        """Keep the current run for comparison (None when there is nothing to keep)."""
        run = self._current
        if run is None or not len(run) or any(p.run is run for p in self._pinned):
            return None
        self._current = None
        return self.pin(run)

    def pin(self, run: Run) -> PinnedRun:
        """Keep ``run`` (e.g. one trained elsewhere: a grid-search cell) for comparison."""
        run.name = unique_name(run.name, [p.name for p in self._pinned])
        pinned = PinnedRun(run, RUN_COLOURS[self._colours_used % len(RUN_COLOURS)])
        self._colours_used += 1
        self._pinned.append(pinned)
        self.changed.emit()
        return pinned

    # ------------------------------------------------------------------ editing
    def set_visible(self, index: int, visible: bool) -> None:
        if self._pinned[index].visible != bool(visible):
            self._pinned[index].visible = bool(visible)
            self.changed.emit()

    def rename(self, index: int, name: str) -> None:
        name = name.strip()
        if name and name != self._pinned[index].name:
            others = [p.name for i, p in enumerate(self._pinned) if i != index]
            self._pinned[index].run.name = unique_name(name, others)
            self.changed.emit()

    def remove(self, index: int) -> None:
        del self._pinned[index]
        self.changed.emit()

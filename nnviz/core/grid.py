"""Hyper-parameter grid search: train one cell per combination of axis values.

``grid_search(experiment, {"training.optimizer.eta": [...], "training.l2": [...]})``
validates every cell first (a bad path or value is a SpecError naming it),
then trains the cells in worker processes (:mod:`nnviz.core.grid_pool`) or on
a Dask cluster (:mod:`nnviz.core.grid_dask`) and returns a :class:`GridResult`.
A cell is a plain ``Trainer`` run without probes: its figures equal those of a
single run of the same experiment, exactly.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .catalogue import show_value
from .errors import SpecError
from .experiment import Experiment
from .field_paths import get_field, parse_path, set_field

__all__ = ["grid_search", "plan_grid", "GridPlan", "GridResult", "run_cell", "log_values",
           "parse_value", "FIGURES", "STATUSES"]

MAX_AXES = 3
MAX_CELLS = 10_000
#: The numbers of a cell, in CSV column order after the axis paths.
FIGURES = ("val_accuracy", "val_loss", "train_loss", "epochs_run", "seconds")
#: "cancelled": the search stopped before the cell ran.
STATUSES = ("ok", "diverged", "failed", "cancelled")


# --------------------------------------------------------------------------- values
def log_values(start: float, stop: float, count: int) -> list[float]:
    """``count`` values from ``start`` to ``stop`` spaced by equal factors, to 3
    significant digits (1e-4, 1e-3, 1e-2 rather than 0.00316227766...)."""
    if not (isinstance(count, int) and count >= 1):
        raise SpecError("count", f"must be a whole number >= 1, got {count!r}", "use e.g. 5")
    if not (start > 0 and stop > 0 and math.isfinite(start) and math.isfinite(stop)):
        raise SpecError("from", f"log-spaced values need from and to > 0, got {start!r} and {stop!r}",
                        "use e.g. from 0.0001 to 0.1")
    if count == 1:
        return [float(f"{start:.3g}")]
    return [float(f"{v:.3g}") for v in np.geomspace(start, stop, count)]


def parse_value(text: str) -> Any:
    """A value typed on the command line or in the window: a JSON number, true,
    false, null or quoted text, else the text itself ("he", "relu")."""
    import json
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class GridPlan:
    """A validated grid: the axes (path, values) and every cell's experiment dict (C order)."""

    base: dict
    axes: tuple[tuple[str, tuple], ...]
    cells: tuple[dict, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(values) for _, values in self.axes)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for path, _ in self.axes)


def _base_dict(experiment) -> dict:
    if isinstance(experiment, Experiment):
        return experiment.to_dict()
    if isinstance(experiment, Mapping):
        return Experiment.from_dict(dict(experiment)).to_dict()
    raise SpecError("experiment", f"must be an Experiment or a dict, got {type(experiment).__name__}",
                    "load one with Experiment.load(path)")


def plan_grid(experiment, axes: Mapping[str, Sequence], *, epochs: int | None = None) -> GridPlan:
    """Check the axes and every cell (SpecError naming the path or value); nothing trains."""
    base = _base_dict(experiment)
    if epochs is not None:
        base = _validated(set_field(base, "training.epochs", epochs), "epochs", epochs)
    if not isinstance(axes, Mapping) or not 1 <= len(axes) <= MAX_AXES:
        raise SpecError("axes", f"give 1 to {MAX_AXES} axes (field path -> list of values), "
                        f"got {len(axes) if isinstance(axes, Mapping) else type(axes).__name__}",
                        'e.g. {"training.optimizer.eta": [0.001, 0.01], "training.l2": [0, 0.001]}')
    checked: list[tuple[str, tuple]] = []
    seen: set[tuple] = set()
    for path, values in axes.items():
        keys = parse_path(path)
        if keys in seen:
            raise SpecError(path, "is given twice", "give each field one axis")
        seen.add(keys)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise SpecError(path, f"needs a non-empty list of values, got {show_value(values)}",
                            "e.g. [0.001, 0.01, 0.1]")
        for i, v in enumerate(values):
            if any(_same(v, w) for w in values[:i]):
                raise SpecError(path, f"lists {show_value(v)} twice", "give each value once")
            _validated(set_field(base, path, v), path, v)
        checked.append((path, tuple(values)))
    count = math.prod(len(v) for _, v in checked)
    if count > MAX_CELLS:
        raise SpecError("axes", f"{count} cells is more than {MAX_CELLS}", "use fewer values")
    cells = []
    for combo in itertools.product(*(values for _, values in checked)):
        cell = base
        for (path, _), value in zip(checked, combo):
            cell = set_field(cell, path, value)
        where = ", ".join(f"{p}={show_value(v)}" for (p, _), v in zip(checked, combo))
        cells.append(_validated(cell, where, None))
    return GridPlan(base, tuple(checked), tuple(cells))


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _validated(d: dict, where: str, value) -> dict:
    """The normalised experiment dict, or SpecError naming the axis (and the value)."""
    try:
        return Experiment.from_dict(d).to_dict()
    except SpecError as exc:
        shown = "" if value is None else f"{show_value(value)}: "
        if exc.field == where:
            raise SpecError(where, f"{shown}{exc.problem}", exc.fix) from None
        raise SpecError(where, f"{shown}{exc}", "choose other values for this axis") from None


# --------------------------------------------------------------------------- one cell
def run_cell(experiment: dict, history: bool = False) -> dict:
    """Train one cell; returns its figures, status and message (and ``run``, a
    :class:`~nnviz.core.runs.Run` with a point per epoch, when ``history``).

    Exceptions become status "failed" with the message: one bad cell never
    stops a search.
    """
    from .runs import Run, RunState
    from .trainer import Trainer

    start = time.perf_counter()
    run = None
    try:
        exp = Experiment.from_dict(experiment)
        # Snapshots only at step 1 and the end (plus each epoch's end for history):
        # training does not depend on them, evaluation does not change the weights.
        trainer = Trainer(exp, snapshot_every=2 ** 62, probes=False,
                          record_every=2 ** 62 if history else None)
        run = Run(exp.title or "cell", experiment) if history else None
        for snap in trainer.run():
            if run is not None:
                run.record(snap)
        final = trainer.evaluate()
        diverged = trainer.end_state == RunState.DIVERGED or not math.isfinite(final["val_loss"])
        out = {"val_accuracy": final["val_accuracy"], "val_loss": final["val_loss"],
               "train_loss": final["train_loss"],
               "epochs_run": trainer.samples_seen / len(trainer.dataset.X_train),
               "status": "diverged" if diverged else "ok",
               "message": trainer.stop_reason if diverged else ""}
    except Exception as exc:  # noqa: BLE001 - reported in the cell's row
        out = {**_empty_figures(), "status": "failed", "message": _describe(exc)}
    out["seconds"] = time.perf_counter() - start
    out["run"] = run
    return out


def warm_up() -> None:
    """Import what every cell needs (scikit-learn's loaders take seconds), so a
    worker's first cell is timed like the others."""
    import sklearn.datasets  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.preprocessing  # noqa: F401

    from . import trainer  # noqa: F401


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SpecError) else f"{type(exc).__name__}: {exc}"


def _empty_figures() -> dict:
    return {name: None for name in FIGURES}


# --------------------------------------------------------------------------- the result
class GridResult:
    """The table of a grid search, one row per cell in C order (last axis fastest).

    Each row: every axis path with its value, then :data:`FIGURES`, ``status``
    (one of :data:`STATUSES`) and ``message``.  ``array()`` gives a figure in the
    grid's shape for a heatmap; ``best()`` the best "ok" row.
    """

    def __init__(self, plan: GridPlan):
        self.plan = plan
        self.rows: list[dict] = [self._row(i, {**_empty_figures(), "status": "cancelled",
                                               "message": "not run"})
                                 for i in range(len(plan.cells))]
        self.done = 0
        self._finished = [False] * len(plan.cells)
        self._runs: dict[int, Any] = {}

    # ------------------------------------------------------------------ shape
    @property
    def axes(self) -> dict[str, list]:
        """Axis path -> its values, in axis order."""
        return {path: list(values) for path, values in self.plan.axes}

    @property
    def paths(self) -> tuple[str, ...]:
        return self.plan.paths

    @property
    def shape(self) -> tuple[int, ...]:
        return self.plan.shape

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def cancelled(self) -> bool:
        """Some cells never ran (the search was cancelled)."""
        return self.done < self.size

    def index(self, number: int) -> tuple[int, ...]:
        """The grid index of row ``number``."""
        return tuple(int(i) for i in np.unravel_index(number, self.shape))

    def number(self, index: Sequence[int]) -> int:
        """The row number of grid ``index``."""
        return int(np.ravel_multi_index(tuple(index), self.shape))

    def index_of(self, row: Mapping) -> tuple[int, ...]:
        """The grid index of a row (found by its axis values)."""
        return tuple(next(i for i, v in enumerate(values) if _same(v, row[path]))
                     for path, values in self.plan.axes)

    def row(self, index: Sequence[int]) -> dict:
        return self.rows[self.number(index)]

    def experiment(self, index: Sequence[int]) -> dict:
        """The validated experiment dict of the cell at ``index`` (a copy)."""
        import copy
        return copy.deepcopy(self.plan.cells[self.number(index)])

    # ------------------------------------------------------------------ filling
    def _row(self, number: int, figures: Mapping) -> dict:
        index = np.unravel_index(number, self.shape)
        row = {path: values[i] for (path, values), i in zip(self.plan.axes, index)}
        row.update({name: figures.get(name) for name in FIGURES})
        row["status"], row["message"] = figures["status"], figures.get("message", "")
        return row

    def record(self, number: int, outcome: Mapping) -> dict:
        """Store the outcome of cell ``number`` (from :func:`run_cell`); returns its row."""
        row = self._row(number, outcome)
        self.rows[number] = row
        if outcome.get("run") is not None:
            self._runs[number] = outcome["run"]
        if not self._finished[number]:
            self._finished[number] = True
            self.done += 1
        return row

    def is_finished(self, index: Sequence[int]) -> bool:
        return self._finished[self.number(index)]

    # ------------------------------------------------------------------ reading
    @property
    def metric(self) -> str:
        """The figure a heatmap shows: validation accuracy, or validation loss for regression."""
        if any(r["val_accuracy"] is not None for r in self.rows):
            return "val_accuracy"
        return "val_loss" if any(r["val_loss"] is not None for r in self.rows) else "val_accuracy"

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "val_accuracy"

    def array(self, field: str | None = None) -> np.ndarray:
        """A figure in the grid's shape (float; NaN where missing, failed or not run)."""
        field = field or self.metric
        if field not in FIGURES:
            raise SpecError("field", f"unknown figure {field!r}", "use one of: " + ", ".join(FIGURES))
        values = [math.nan if r[field] is None else float(r[field]) for r in self.rows]
        return np.array(values, dtype=float).reshape(self.shape)

    def status_array(self) -> np.ndarray:
        """The status of every cell, in the grid's shape."""
        return np.array([r["status"] for r in self.rows], dtype=object).reshape(self.shape)

    def best_index(self) -> tuple[int, ...] | None:
        """The grid index of the best "ok" cell (None if none)."""
        ok = [(i, r[self.metric]) for i, r in enumerate(self.rows)
              if r["status"] == "ok" and r[self.metric] is not None and math.isfinite(r[self.metric])]
        if not ok:
            return None
        sign = -1.0 if self.higher_is_better else 1.0
        number = min(ok, key=lambda item: (sign * item[1], item[0]))[0]
        return self.index(number)

    def best(self) -> dict | None:
        """The row with the best validation accuracy (lowest validation loss for regression)."""
        index = self.best_index()
        return None if index is None else self.row(index)

    def has_history(self, index: Sequence[int]) -> bool:
        """The search kept this cell's run (``history=True``): no training to get it."""
        return self.number(index) in self._runs

    def history(self, index: Sequence[int]):
        """The cell's run (a :class:`~nnviz.core.runs.Run`, one point per epoch):
        kept from the search when it recorded histories, else trained again here
        (the same figures: training is deterministic)."""
        number = self.number(index)
        if number not in self._runs:
            outcome = run_cell(self.plan.cells[number], history=True)
            if outcome["run"] is None:
                raise SpecError("cell", f"cell {tuple(index)} cannot be trained: {outcome['message']}")
            self._runs[number] = outcome["run"]
        run = self._runs[number]
        run.name = ", ".join(f"{p}={show_value(v)}" for p, v in zip(self.paths, self.index_values(index)))
        return run

    def index_values(self, index: Sequence[int]) -> tuple:
        return tuple(values[i] for (_, values), i in zip(self.plan.axes, index))

    def columns(self) -> list[str]:
        return [*self.paths, *FIGURES, "status", "message"]

    def to_csv(self, path: str | os.PathLike) -> None:
        """One row per cell; empty cells for missing figures; floats that read back exactly."""
        try:
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(self.columns())
                for row in self.rows:
                    writer.writerow([_cell_text(row[c]) for c in self.columns()])
        except OSError as exc:
            raise SpecError("file", f"cannot write {os.fspath(path)}: {exc.strerror or exc}",
                            "choose a folder you can write to") from None

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.shape))
        return f"GridResult({shape} over {', '.join(self.paths)}; {self.done}/{self.size} done)"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --------------------------------------------------------------------------- the search
def _cancel_check(cancel) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return lambda: bool(cancel())
    raise SpecError("cancel", f"must be a threading.Event or a callable, got {type(cancel).__name__}")


def _check_jobs(jobs, cells: int) -> int:
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SpecError("jobs", f"must be a whole number >= 1, got {jobs!r}", "use e.g. 2")
    return min(jobs, cells)


def grid_search(experiment, axes: Mapping[str, Sequence], *, jobs: int | None = None,
                cluster=None, progress: Callable[[dict, int, int], None] | None = None,
                epochs: int | None = None, cancel=None, history: bool = False) -> GridResult:
    """Train every combination of the axis values and return the table.

    ``experiment``: an Experiment or a dict; ``axes``: 1 to 3 field paths, each
    with a list of values (``"training.optimizer.eta"``, ``"model.layers[0].activation"``...);
    ``jobs``: worker processes (default: the number of cores); ``cluster``: a
    Dask scheduler address ("tcp://host:8786"), Client or LocalCluster instead;
    ``epochs`` overrides the experiment's; ``progress(row, done, total)`` is
    called from this thread as cells finish; ``cancel`` (an Event or a callable
    returning True) stops the search, leaving the cells not run "cancelled";
    ``history`` keeps each cell's run (else ``GridResult.history`` retrains one).
    """
    plan = plan_grid(experiment, axes, epochs=epochs)
    result = GridResult(plan)
    cancelled = _cancel_check(cancel)
    tasks = [(number, cell, bool(history)) for number, cell in enumerate(plan.cells)]

    def on_outcome(number: int, outcome: Mapping) -> None:
        row = result.record(number, outcome)
        if progress is not None:
            progress(row, result.done, result.size)

    if cluster is not None:
        from .grid_dask import run_on_cluster
        run_on_cluster(tasks, cluster, on_outcome, cancelled)
    else:
        from .grid_pool import run_locally
        run_locally(tasks, _check_jobs(jobs, len(tasks)), on_outcome, cancelled)
    return result

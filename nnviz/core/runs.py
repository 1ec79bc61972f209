"""Runs as data: the bounded history of one training run, for plots, comparison and CSV.

A :class:`Run` records compact points (a row of numbers per recorded
snapshot: the run's scalars, then every probe field of every weighted layer)
in a decimating :class:`~nnviz.core.history.History`, so its memory stays
flat however long it trains.  The training worker turns snapshots into points
with :func:`snapshot_point` and ships them in batches; views ask the run for
``series(field, layer=...)``.
"""

from __future__ import annotations

import csv
import math
import os
from enum import Enum
from typing import Iterable, Sequence

import numpy as np

from .errors import SpecError
from .history import History

__all__ = ["Run", "RunState", "RUN_FIELDS", "PROBE_FIELDS", "snapshot_point"]


class RunState(str, Enum):
    """Where a training run is: idle -> running <-> paused -> one of the ended states."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    ERROR = "error"

    @property
    def ended(self) -> bool:
        """The run cannot go on by itself (finished, stopped, diverged or failed)."""
        return self in (RunState.FINISHED, RunState.STOPPED, RunState.DIVERGED, RunState.ERROR)

    @property
    def text(self) -> str:
        """The state in plain words, for a status bar."""
        return _STATE_TEXT[self]

    def __str__(self) -> str:
        return self.value


_STATE_TEXT = {RunState.IDLE: "Ready", RunState.RUNNING: "Training…", RunState.PAUSED: "Paused",
               RunState.FINISHED: "Finished", RunState.STOPPED: "Stopped",
               RunState.DIVERGED: "Diverged", RunState.ERROR: "Error"}

#: Snapshot fields a run keeps, in column order ("epoch" is the fractional epoch).
RUN_FIELDS = ("step", "epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "eta")
#: LayerProbe fields a run keeps per weighted layer, in column order.
PROBE_FIELDS = ("weight_grad_norm", "delta_norm", "weight_norm", "update_ratio",
                "act_mean", "act_std", "saturated_fraction", "dead_fraction")
#: CSV columns per layer (the layer's name comes first: "dense 1 (relu): delta_norm").
CSV_PROBE_FIELDS = PROBE_FIELDS
CAPACITY = 2048        # points kept per run (older ones are thinned, evenly)


def _number(value) -> float:
    return math.nan if value is None else float(value)


def snapshot_point(snap) -> np.ndarray:
    """The numbers a run keeps of one snapshot, as one flat float array."""
    head = (snap.step, snap.epoch_progress, snap.train_loss, snap.val_loss,
            snap.train_accuracy, snap.val_accuracy, getattr(snap, "eta", snap.learning_rate))
    probes = [getattr(p, f) for p in snap.layers for f in PROBE_FIELDS]
    return np.array([_number(v) for v in head] + [_number(v) for v in probes])


class Run:
    """One training run: its name, its experiment and a bounded history.

    ``record(snapshot)`` adds a point; ``extend(points)`` adds points made by
    :func:`snapshot_point` elsewhere (the training process).  The layer names
    are fixed by the first snapshot (or ``layers=``): a run trains one network.
    """

    def __init__(self, name: str, experiment=None, *, layers: Sequence[str] = (),
                 capacity: int = CAPACITY):
        self.name = str(name)
        self.experiment = experiment
        self.layers: tuple[str, ...] = tuple(layers)
        self.stop_reason = ""
        self._capacity = capacity
        self._history: History | None = None
        if self.layers:
            self._make_history()

    # ------------------------------------------------------------------ recording
    def record(self, snap) -> None:
        """Add a snapshot's losses, accuracies, rate and layer probes."""
        if self._history is None and not self.layers:
            self.layers = tuple(p.name for p in snap.layers)
        self.extend([snapshot_point(snap)])
        if getattr(snap, "done", False):
            self.stop_reason = snap.stop_reason

    def extend(self, points: Iterable[np.ndarray], layers: Sequence[str] = ()) -> None:
        """Add points (rows of :func:`snapshot_point`), oldest first; ``layers``
        names the weighted layers they describe (taken if the run has none yet)."""
        if self._history is None and not self.layers:
            self.layers = tuple(layers)
        for point in points:
            if self._history is None:
                self._make_history()
            if len(point) != self._width:
                raise ValueError(f"a point of {len(point)} values does not fit run {self.name!r} "
                                 f"({self._width} values: {len(self.layers)} layers)")
            self._history.append(point[1], point)

    def _make_history(self) -> None:
        self._width = len(RUN_FIELDS) + len(PROBE_FIELDS) * len(self.layers)
        self._history = History(self._width, self._capacity)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return 0 if self._history is None else len(self._history)

    @property
    def recorded(self) -> int:
        """Points recorded since the start (before thinning)."""
        return 0 if self._history is None else self._history.appended

    def series(self, field: str, layer: int | str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of a run field, or of a probe field of ``layer``
        (its position among the weighted layers, or its name); missing values are NaN."""
        column = self._column(field, layer)
        if self._history is None:
            return np.empty(0), np.empty(0)
        return self._history.series(column)

    def last(self, field: str, layer: int | str | None = None) -> float | None:
        """The newest value of a field (None before the first point or when missing)."""
        if self._history is None or not len(self._history):
            return None
        value = float(self._history.last()[self._column(field, layer)])
        return None if math.isnan(value) else value

    def _column(self, field: str, layer: int | str | None) -> int:
        if layer is None:
            if field not in RUN_FIELDS:
                hint = " (a layer probe field: give layer=)" if field in PROBE_FIELDS else ""
                raise SpecError("field", f"unknown run field {field!r}{hint}",
                                "use one of: " + ", ".join(RUN_FIELDS + PROBE_FIELDS))
            return RUN_FIELDS.index(field)
        if field not in PROBE_FIELDS:
            raise SpecError("field", f"unknown layer field {field!r}",
                            "use one of: " + ", ".join(PROBE_FIELDS))
        index = self._layer_index(layer)
        return len(RUN_FIELDS) + index * len(PROBE_FIELDS) + PROBE_FIELDS.index(field)

    def _layer_index(self, layer: int | str) -> int:
        if isinstance(layer, str):
            if layer not in self.layers:
                raise SpecError("layer", f"run {self.name!r} has no layer {layer!r}",
                                "use one of: " + ", ".join(self.layers))
            return self.layers.index(layer)
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) \
                or not -len(self.layers) <= layer < len(self.layers):
            raise SpecError("layer", f"run {self.name!r} has no weighted layer {layer!r}",
                            f"use 0 to {len(self.layers) - 1} or a layer name")
        return int(layer) % len(self.layers)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        """The run as plain data (JSON-able: numbers, strings, lists): it crosses
        processes without pickle.  ``Run.from_dict`` reads it back."""
        rows = self._history.rows() if self._history is not None else np.empty((0, 0))
        return {"name": self.name, "experiment": self.experiment, "layers": list(self.layers),
                "stop_reason": self.stop_reason, "points": rows.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "Run":
        run = cls(data["name"], data.get("experiment"), layers=data.get("layers") or ())
        run.extend(np.asarray(point, dtype=float) for point in data.get("points", ()))
        run.stop_reason = str(data.get("stop_reason", ""))
        return run

    def columns(self) -> list[str]:
        """The CSV header: run fields, then "<layer name>: <probe field>" per layer."""
        return list(RUN_FIELDS) + [f"{name}: {field}" for name in self.layers
                                   for field in PROBE_FIELDS]

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write every kept point, one row per point; empty cells for missing values."""
        rows = self._history.rows() if self._history is not None else np.empty((0, 0))
        try:
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(self.columns())
                for row in rows:
                    writer.writerow(_cells(row))
        except OSError as exc:
            raise SpecError("file", f"cannot write {os.fspath(path)}: {exc.strerror or exc}",
                            "choose a folder you can write to") from None

    def __repr__(self) -> str:
        return f"Run({self.name!r}, {len(self)} points, layers={list(self.layers)})"


def _cells(row: np.ndarray) -> list[str]:
    cells = []
    for i, v in enumerate(row):
        if math.isnan(v):
            cells.append("")
        elif i == 0:
            cells.append(str(int(v)))              # the step
        else:
            cells.append(repr(float(v)))           # shortest text that reads back exactly
    return cells

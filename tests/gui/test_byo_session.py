"""A bring-your-own experiment (CSV beside the file, formula activation, schedule)
trains in the window's real training process."""

from __future__ import annotations

import json

from nnviz.core.experiment import Experiment
from nnviz.gui.session import TrainingSession

WAIT_MS = 15000          # a child process needs about a second to import numpy etc.


def test_csv_formula_and_schedule_train_in_the_worker_process(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "course"
    folder.mkdir()
    rows = "\n".join(f"{i % 7 * 0.3:.1f},{i % 5 * 0.2:.1f},{'ab'[i % 2]}" for i in range(40))
    (folder / "points.csv").write_text("u,v,label\n" + rows)
    (folder / "exp.json").write_text(json.dumps({
        "format": "nnviz-experiment/1",
        "dataset": {"name": "csv", "path": "points.csv"},       # 32 train, 8 validation
        "model": {"input_shape": [2], "cost": "bce", "layers": [
            {"type": "dense", "units": 4, "activation": {"formula": "x * sigmoid(x)"}},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]},
        "training": {"epochs": 3, "batch_size": 16,
                     "optimizer": {"name": "constant", "eta": 0.4},
                     "schedule": {"name": "exponential", "gamma": 0.5}}}))
    monkeypatch.chdir(tmp_path)               # the worker must not rely on the working folder
    session = TrainingSession(Experiment.load(folder / "exp.json"), mode="process")
    snapshots = []
    session.snapshot.connect(snapshots.append)
    try:
        session.start()
        qtbot.waitUntil(lambda: bool(snapshots) and snapshots[-1].done, timeout=WAIT_MS)
    finally:
        session.shutdown()
    last = snapshots[-1]
    assert last.stop_reason == "finished" and last.step == 6
    assert last.eta == 0.1                                 # epoch 2: 0.4 * 0.5**2
    assert {(s.epoch, s.eta) for s in snapshots} <= {(0, 0.4), (1, 0.2), (2, 0.1)}
    assert last.layers[0].name == "dense 0 (x * sigmoid(x))"

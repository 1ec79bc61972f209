"""Time-based snapshots: every snapshot_interval, spaced further when snapshots are costly.

A fake clock replaces time.perf_counter in the trainer: a step costs 1 ms and a snapshot
``cost`` ms of that clock, so the test counts snapshots without measuring real time.
"""

import pytest

from nnviz.core import Experiment, Trainer, trainer as trainer_module


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def paced_trainer(monkeypatch, snapshot_cost: float) -> Trainer:
    clock = FakeClock()
    monkeypatch.setattr(trainer_module.time, "perf_counter", clock)
    exp = Experiment.from_dict({
        "dataset": {"name": "moons", "n_samples": 200, "seed": 0},
        "model": {"input_shape": [2], "cost": "cross_entropy",
                  "layers": [{"type": "dense", "units": 2, "activation": "softmax"}]},
        "training": {"epochs": 100, "batch_size": 16}})
    trainer = Trainer(exp, snapshot_interval=0.05)
    step, snapshot = trainer.step, trainer.snapshot

    def timed_step(probe=True):
        step(probe)
        clock.now += 0.001

    def timed_snapshot(done=False):
        snap = snapshot(done)
        clock.now += snapshot_cost
        return snap
    monkeypatch.setattr(trainer, "step", timed_step)
    monkeypatch.setattr(trainer, "snapshot", timed_snapshot)
    return trainer


def paced_run(monkeypatch, snapshot_cost: float, steps: int = 400) -> list[int]:
    trainer = paced_trainer(monkeypatch, snapshot_cost)
    return [snap.step for snap in trainer.run(max_steps=steps)]


def test_cheap_snapshots_come_every_interval(monkeypatch):
    steps = paced_run(monkeypatch, snapshot_cost=0.001)
    gaps = {b - a for a, b in zip(steps[1:-1], steps[2:-1])}
    # 50 ms apart: 50 steps of 1 ms, minus the 1 ms of the snapshot itself
    assert gaps <= {49, 50} and len(steps) == pytest.approx(400 / 50 + 2, abs=1)


def test_costly_snapshots_take_at_most_a_fifteenth_of_the_time(monkeypatch):
    cost = 0.020                       # 20 ms: 30 per second would be most of the time
    steps = paced_run(monkeypatch, snapshot_cost=cost, steps=1000)
    gaps = [b - a for a, b in zip(steps[1:-1], steps[2:-1])]   # between time-based ones
    assert gaps
    for gap in gaps:                   # each cycle: `gap` steps of 1 ms and one snapshot
        assert cost / (cost + 0.001 * gap) == pytest.approx(1 / 15, abs=0.004)


def test_the_interval_counts_across_run_calls(monkeypatch):
    trainer = paced_trainer(monkeypatch, snapshot_cost=0.001)
    assert [snap.step for snap in trainer.run(max_steps=10)] == [1, 10]   # first, last
    later = [snap.step for snap in trainer.run(max_steps=100)]
    # step 11 is no snapshot: 50 ms have not passed since the one of step 10
    assert later[0] == 10 + 49 and later[-1] == 110

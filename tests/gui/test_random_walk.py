"""A careless student at the window: a seeded random walk of clicks and edits.

Each step picks an action — buttons, presets, layer edits, spin boxes at their
limits, data sets, pace, pin, the Runs dock, theme and font — and the window
must take it: pytest-qt fails the test on any exception raised in a Qt slot,
and the walk checks that the window stays consistent and the event loop never
stalls for long.  Sessions are recording stand-ins fed real snapshots, so the
walk is quick; ``-m slow`` runs a longer walk.
"""

from __future__ import annotations

import random
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from nnviz.core import catalogue
from nnviz.core.experiment import list_presets
from nnviz.core.trainer import Trainer

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import make_window, no_leaks, settings  # noqa: F401
except ImportError:
    from windows import make_window, no_leaks, settings  # noqa: F401

MAX_GAP = 2.0            # s: the longest the event loop may stall (generous for loaded CI)


class Walker:
    def __init__(self, window, rng: random.Random):
        self.window, self.rng = window, rng
        self.presets = [name for name, _ in list_presets()]
        self.actions = [self.start, self.step, self.stop, self.reset, self.continue_,
                        self.pin, self.feed, self.feed, self.add_layer, self.remove_layer,
                        self.move_layer, self.activation, self.spin, self.spin, self.dataset,
                        self.preset, self.new, self.pace, self.runs_dock, self.theme,
                        self.font, self.layer_spin]

    def act(self) -> str:
        action = self.rng.choice(self.actions)
        action()
        return action.__name__

    # the actions ---------------------------------------------------------------
    def start(self):
        self.window.start_pause()

    def step(self):
        self.window.step()

    def stop(self):
        self.window.stop()

    def reset(self):
        self.window.reset()

    def continue_(self):
        self.window.continue_run(2)

    def pin(self):
        self.window.pin_run()

    def feed(self):
        """What a running worker sends: a few snapshots of the experiment."""
        window = self.window
        session = window.session
        if session is None or window.experiment is None or not hasattr(session, "emit_snapshot"):
            return
        trainer = Trainer(window.experiment, snapshot_every=1)
        for snap in trainer.run(max_steps=self.rng.randint(1, 4)):
            session.emit_snapshot(snap)

    def add_layer(self):
        self.window.model_builder.add_layer(self.rng.choice([None, *catalogue.LAYERS]))

    def remove_layer(self):
        self.window.model_builder.remove_layer()

    def move_layer(self):
        self.window.model_builder.move_layer(self.rng.choice([-1, 1]))

    def activation(self):
        rows = self.window.model_builder.rows
        if rows:
            combo = self.rng.choice(rows).activation_combo
            combo.setCurrentIndex(self.rng.randrange(combo.count() - 1))   # not "custom…"

    def spin(self):
        panel = self.window.training_panel
        box = self.rng.choice([panel.epochs, panel.batch_size, panel.learning_rate, panel.l2,
                               panel.seed])
        box.setValue(self.rng.choice([box.minimum(), box.maximum(),
                                      self.rng.uniform(box.minimum(), min(box.maximum(), 100))]))

    def layer_spin(self):
        rows = self.window.model_builder.rows
        editors = [e for row in rows for e in row.editors.values() if hasattr(e, "maximum")]
        if editors:
            box = self.rng.choice(editors)
            box.setValue(self.rng.choice([box.minimum(), min(box.maximum(), 64), 3]))

    def dataset(self):
        combo = self.window.data_panel.combo
        combo.setCurrentIndex(self.rng.randrange(combo.count()))

    def preset(self):
        self.window.open_preset(self.rng.choice(self.presets))

    def new(self):
        self.window.new_experiment()

    def pace(self):
        self.window.set_pace(self.rng.choice([None, 1.0, 25.0, 3000.0]))

    def runs_dock(self):
        model = self.window.runs_model
        if model.pinned:
            i = self.rng.randrange(len(model.pinned))
            if self.rng.random() < 0.5:
                model.set_visible(i, not model.pinned[i].visible)
            else:
                model.remove(i)

    def theme(self):
        self.window.set_theme(self.rng.choice(["light", "dark"]))

    def font(self):
        self.window.set_large_font(self.rng.random() < 0.5, remember=False)


def walk(make_window, qtbot, monkeypatch, seed: int, steps: int) -> tuple[float, dict]:
    rng = random.Random(seed)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: rng.choice([QMessageBox.StandardButton.Yes,
                                    QMessageBox.StandardButton.No])))
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda *a, **k: None))
    window = make_window(fake=True)
    walker = Walker(window, rng)
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    done: dict[str, int] = {}
    for _ in range(steps):
        name = walker.act()
        done[name] = done.get(name, 0) + 1
        qtbot.wait(1)                       # the event loop runs between actions
        # the window stays consistent: what the editors show is what would train
        spec = window.experiment_dict()
        assert spec["model"]["layers"] == window.model_builder.specs()
        if window.experiment is None and window.session is None:
            assert not window.start_button.isEnabled()   # nothing invalid can start
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return max(gaps, default=0.0), done


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_walk_through_the_window_throws_nothing(make_window, qtbot, monkeypatch, seed):
    worst, done = walk(make_window, qtbot, monkeypatch, seed, steps=150)
    assert len(done) >= 15                  # the walk reached most of the actions
    assert worst < MAX_GAP, f"the event loop stalled {worst:.2f} s"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_long_random_walk(make_window, qtbot, monkeypatch, seed):
    worst, _ = walk(make_window, qtbot, monkeypatch, seed, steps=1000)
    print(f"seed {seed}: worst event-loop gap {worst:.2f} s")
    assert worst < MAX_GAP

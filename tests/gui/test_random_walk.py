"""A careless student at the window: a seeded random walk of clicks and edits.

Each step picks an action — buttons, presets, layer edits, spin boxes at their
limits, data sets, pace, pin, the Runs dock, theme and font — and the window
must take it: pytest-qt fails the test on any exception raised in a Qt slot,
and the walk checks that the window stays consistent and the event loop never
stalls for long.  Sessions are recording stand-ins fed real snapshots, so the
walk is quick; ``-m slow`` runs a longer walk, with real training processes.

A heartbeat timer records every event-loop gap over GAP_REPORTED with the
actions that ran in it and the CPU time the GUI thread spent in it (a gap the
GUI thread spent computing is ours; one it spent descheduled is the machine's
load), and the walk records the peak memory (VmHWM) of the GUI process and of
every training process; all are printed at the end.
"""

from __future__ import annotations

import random
import resource
import time
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from nnviz.core import catalogue
from nnviz.core.experiment import list_presets
from nnviz.core.trainer import Trainer
from nnviz.gui.session import live_workers

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import make_window, no_leaks, settings  # noqa: F401
    from .windows import peak_rss, reset_peak_rss, rss
except ImportError:
    from windows import make_window, no_leaks, settings  # noqa: F401
    from windows import peak_rss, reset_peak_rss, rss

MAX_GAP = 2.0            # s: the longest the event loop may stall (generous for loaded CI)
GAP_REPORTED = 0.5       # s: gaps longer than this are recorded with their actions
MAX_LONG_GAPS = 5        # the long walk may have a handful the GUI thread was busy for
MAX_GUI_MEMORY = 2**30   # bytes: peak resident memory of the GUI process (walk alone)
# In a whole-suite run the process already holds what earlier tests left (torch, caches):
# there the walk's own growth is held to what a fresh GUI (about 250 MiB) may add.
MAX_GUI_GROWTH = 3 * 2**28


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


# ------------------------------------------------------------------ measuring
@dataclass
class Watch:
    """What the heartbeat saw: long event-loop gaps with their actions, peak memory."""

    gaps: list[tuple[float, float, tuple[str, ...]]] = field(default_factory=list)
    gui_peak: int = 0
    gui_start: int = 0                  # resident memory when the walk began
    child_peaks: dict[int, int] = field(default_factory=dict)
    since_tick: list[str] = field(default_factory=list)
    last_tick: float | None = None
    last_cpu: float = 0.0

    def tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self.last_tick is not None and now - self.last_tick > GAP_REPORTED:
            self.gaps.append((now - self.last_tick, cpu - self.last_cpu,
                              tuple(self.since_tick)))
        self.last_tick, self.last_cpu = now, cpu
        self.since_tick.clear()
        self.sample_children()

    def sample_children(self) -> None:
        for process in live_workers():
            peak = peak_rss(process.pid)
            if peak is not None:
                self.child_peaks[process.pid] = max(peak, self.child_peaks.get(process.pid, 0))

    def finish(self, reset_ok: bool) -> None:
        self.sample_children()
        if reset_ok:
            self.gui_peak = peak_rss() or 0
        else:                               # the whole process's life: an upper bound
            self.gui_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def report(self, label: str) -> str:
        mib = 2**20
        child = max(self.child_peaks.values(), default=0)
        lines = [f"{label}: peak GUI memory {self.gui_peak / mib:.0f} MiB "
                 f"({(self.gui_peak - self.gui_start) / mib:+.0f} MiB over the walk's start), "
                 f"peak training process {child / mib:.0f} MiB "
                 f"({len(self.child_peaks)} processes), "
                 f"{len(self.gaps)} event-loop gaps over {GAP_REPORTED} s"]
        lines += [f"  {gap:.2f} s ({cpu:.2f} s of GUI-thread CPU) after "
                  f"{', '.join(actions) or 'no action'}" for gap, cpu, actions in self.gaps]
        return "\n".join(lines)

    def memory_ok(self) -> bool:
        """Under 1 GiB, or (after other tests filled the process) grown by at most
        MAX_GUI_GROWTH over the walk."""
        return self.gui_peak < MAX_GUI_MEMORY or self.gui_peak - self.gui_start < MAX_GUI_GROWTH

    @property
    def worst(self) -> float:
        return max((gap for gap, _, _ in self.gaps), default=0.0)

    @property
    def busy_gaps(self) -> list:
        """Gaps the GUI thread spent computing for over GAP_REPORTED: ours, whatever the load."""
        return [g for g in self.gaps if g[1] > GAP_REPORTED]


def walk(make_window, qtbot, monkeypatch, seed: int, steps: int,
         fake: bool = True) -> tuple[Watch, dict]:
    rng = random.Random(seed)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: rng.choice([QMessageBox.StandardButton.Yes,
                                    QMessageBox.StandardButton.No])))
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda *a, **k: None))
    reset_ok = reset_peak_rss()
    start = rss()
    window = make_window(fake=fake)
    qtbot.waitUntil(lambda: window.experiment is not None, timeout=30_000)   # start-up done
    walker = Walker(window, rng)
    watch = Watch(gui_start=start)
    timer = QTimer(interval=10)
    timer.timeout.connect(watch.tick)
    timer.start()
    done: dict[str, int] = {}
    for _ in range(steps):
        name = walker.act()
        watch.since_tick.append(name)
        done[name] = done.get(name, 0) + 1
        qtbot.wait(1)                       # the event loop runs between actions
        # the window stays consistent: what the editors show is what would train
        spec = window.experiment_dict()
        assert spec["model"]["layers"] == window.model_builder.specs()
        if window.experiment is None and window.session is None:
            assert not window.start_button.isEnabled()   # nothing invalid can start
    qtbot.wait(20)                          # a last tick measures the last action
    timer.stop()
    watch.finish(reset_ok)
    return watch, done


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_walk_through_the_window_throws_nothing(make_window, qtbot, monkeypatch, seed):
    watch, done = walk(make_window, qtbot, monkeypatch, seed, steps=150)
    print(watch.report(f"seed {seed}, 150 actions"))
    assert len(done) >= 15                  # the walk reached most of the actions
    assert watch.worst < MAX_GAP, watch.report("the event loop stalled")
    assert watch.memory_ok(), watch.report("too much memory")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_long_random_walk(make_window, qtbot, monkeypatch, seed):
    """Real training processes: Start, Step and Continue train in a child."""
    watch, _ = walk(make_window, qtbot, monkeypatch, seed, steps=1000, fake=False)
    print(watch.report(f"seed {seed}, 1000 actions"))
    assert watch.worst < MAX_GAP, watch.report("the event loop stalled")
    assert len(watch.busy_gaps) <= MAX_LONG_GAPS, watch.report("too many stalls")
    assert watch.memory_ok(), watch.report("too much memory")
    assert watch.child_peaks, "no training process ran"

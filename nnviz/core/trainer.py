"""The training loop: a plain iterator of Snapshots, driven by the CLI or a GUI worker."""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from .datasets import load_dataset
from .errors import SpecError, TrainingDiverged
from .network import Network
from .numerics import sum_of_squares
from .optimizers import make_optimizer
from .probes import probe_layer
from .runs import RunState
from .snapshot import Snapshot

_EVAL_CHUNK = 1024  # samples per forward pass when evaluating a whole split


class Trainer:
    """Trains the network of an Experiment on its data set, one mini-batch at a time.

    ``run()`` yields immutable Snapshots every ``snapshot_every`` steps, or every
    ``snapshot_interval`` seconds (default 0.05 s); the first comes after step 1.
    Stop requests and hyperparameter changes take effect between steps.
    With ``record_every`` it also snapshots at the end of every epoch and every
    ``record_every`` steps, so a run's history does not depend on its speed.
    With ``probes=False`` snapshots carry no layer probes and no step copies
    the weights for them (a grid-search cell needs only the losses).
    On NaN or inf the weights of the last snapshot are restored and the run
    ends with ``stop_reason`` "diverged: ..." (``end_state`` says how it ended).
    """

    def __init__(self, experiment, *, snapshot_every: int | None = None,
                 snapshot_interval: float | None = None, record_every: int | None = None,
                 probes: bool = True):
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError("snapshot_every must be >= 1")
        self.experiment = experiment
        self.snapshot_every = snapshot_every
        self.snapshot_interval = 0.05 if snapshot_interval is None and snapshot_every is None \
            else snapshot_interval
        self.network = Network.from_spec(experiment.model)
        self.dataset = load_dataset(experiment.dataset, input_shape=self.network.input_shape)
        n_outputs = self.network.output_shape[0]
        self.Y_train = self.dataset.targets(self.dataset.y_train, n_outputs)
        self.Y_val = self.dataset.targets(self.dataset.y_val, n_outputs)
        training = experiment.training
        self.optimizer = make_optimizer(training["optimizer"])
        self.l2 = float(training.get("l2", 0.0))
        self.clip_norm = training.get("clip_norm")
        self.epochs = int(training["epochs"])
        n = len(self.dataset.X_train)
        self.batch_size = min(int(training["batch_size"]), n)
        self.steps_per_epoch = -(-n // self.batch_size)
        self.total_steps = self.epochs * self.steps_per_epoch
        self.classification = self.dataset.task == "classification"
        self._rng = np.random.default_rng(self.network.seed + 1)
        self._order = np.arange(n)
        self._pos = n  # the first step starts epoch 0
        self.step_count = 0
        self.epoch = -1
        self.samples_seen = 0
        self.elapsed = 0.0
        self.finished = False
        self.stop_reason = ""
        self.end_state: RunState | None = None   # set when the run ends
        # also snapshot at the end of every epoch and every record_every steps (history)
        self.record_every = record_every
        self.probes = probes
        self._stop = threading.Event()
        self._control = threading.Condition()
        self._paused = False
        self._steps_allowed = 0  # single steps granted while paused
        self._weights_before = None
        self._grad_scale = 1.0
        self._reset_running()
        self._backup = self._copy_params()

    # ------------------------------------------------------------------ control
    def request_stop(self) -> None:
        """Ask the loop to stop before its next step (thread-safe; wakes a paused loop)."""
        self._stop.set()
        with self._control:
            self._control.notify_all()

    def request_pause(self) -> None:
        """Make ``run()`` wait before its next step until resume, step or stop (thread-safe)."""
        with self._control:
            self._paused = True

    def resume(self) -> None:
        with self._control:
            self._paused = False
            self._control.notify_all()

    def request_step(self) -> None:
        """While paused: let exactly one more step through; its snapshot is yielded."""
        with self._control:
            self._steps_allowed += 1
            self._control.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def _wait_while_paused(self) -> bool:
        """Block while paused; True when the next step is a granted single step."""
        with self._control:
            while self._paused and not self._steps_allowed and not self._stop.is_set():
                self._control.wait()
            if self._paused and self._steps_allowed and not self._stop.is_set():
                self._steps_allowed -= 1
                return True
            return False

    def set_hyperparameters(self, *, eta: float | None = None, l2: float | None = None,
                            clip_norm=...) -> None:
        """Change learning rate, L2 or clipping (None: off) for the following steps."""
        if eta is not None:
            self.optimizer.eta = eta
        if l2 is not None:
            if not (math.isfinite(l2) and l2 >= 0):
                raise SpecError("training.l2", f"must be a number >= 0, got {l2!r}", "use e.g. 0.001")
            self.l2 = float(l2)
        if clip_norm is not ...:
            if clip_norm is not None and not (math.isfinite(clip_norm) and clip_norm > 0):
                raise SpecError("training.clip_norm", f"must be > 0 or null, got {clip_norm!r}",
                                "use e.g. 1.0, or null for no clipping")
            self.clip_norm = clip_norm

    # ------------------------------------------------------------------ the loop
    def run(self, max_steps: int | None = None):
        """Train, yielding Snapshots, until the epochs are done, a stop request,
        divergence, or ``max_steps`` more steps (then the last snapshot has done=False)."""
        if self.finished:
            return
        end = self.total_steps if max_steps is None else min(self.total_steps, self.step_count + max_steps)
        last_time, shown = -math.inf, self.step_count
        while True:
            if self._paused and shown != self.step_count:
                shown = self.step_count  # show where the pause caught the run
                yield self.snapshot()
            single = self._paused and self._wait_while_paused()
            if self._stop.is_set():
                self._finish(RunState.STOPPED, "stopped")
                break
            if self.step_count >= end:
                return
            now = time.perf_counter()
            next_step = self.step_count + 1
            due = (single or next_step == 1 or next_step == end
                   or (self.snapshot_every is not None and next_step % self.snapshot_every == 0)
                   or (self.record_every is not None and (next_step % self.steps_per_epoch == 0
                                                          or next_step % self.record_every == 0))
                   or (self.snapshot_interval is not None and now - last_time >= self.snapshot_interval))
            try:
                self.step(probe=due and self.probes)
            except TrainingDiverged as exc:
                self._restore()
                self._finish(RunState.DIVERGED, f"diverged: {exc}")
                break
            if self.step_count == self.total_steps:
                self._finish(RunState.FINISHED, "finished")
                break
            if due:
                last_time, shown = now, self.step_count
                yield self.snapshot()
        yield self.snapshot(done=True)

    def step(self, probe: bool = True) -> None:
        """One mini-batch update; with ``probe`` the next snapshot sees the update ratio."""
        # Overflow is reported as divergence below, not as numpy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._step(probe)

    def _step(self, probe: bool) -> None:
        start = time.perf_counter()
        n = len(self._order)
        if self._pos >= n:
            self._rng.shuffle(self._order)
            self._pos = 0
            self.epoch += 1
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += len(idx)
        X, Y = self.dataset.X_train[idx], self.Y_train[idx]
        net = self.network
        loss = net.compute_gradients(X, Y, self.l2)
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the loss became {loss} at step {self.step_count + 1}; "
                                   "try a smaller learning rate, gradient clipping or another initialisation")
        self._grad_scale = self._clip_gradients()
        self._weights_before = [w.copy() for w in net.weight_matrices()] if probe else None
        self.optimizer.apply(net)
        self.step_count += 1
        self.samples_seen += len(idx)
        self._run_loss += loss * len(idx)
        self._run_count += len(idx)
        if self.classification:
            self._run_correct += _count_correct(net.layers[-1].a, Y)
        self.elapsed += time.perf_counter() - start

    def _clip_gradients(self) -> float:
        """Scale all gradients to global norm <= clip_norm; returns the scale used."""
        if self.clip_norm is None:
            return 1.0
        grads = [g.reshape(-1) for layer in self.network.layers for g in layer.grads.values()]
        total = math.sqrt(sum(sum_of_squares(g) for g in grads))
        if not math.isfinite(total):
            raise TrainingDiverged(f"the gradient norm became {total} at step {self.step_count + 1}; "
                                   "try a smaller learning rate")
        if total <= self.clip_norm:
            return 1.0
        scale = self.clip_norm / total
        for g in grads:
            g *= scale
        return scale

    # ------------------------------------------------------------------ observation
    def snapshot(self, done: bool = False) -> Snapshot:
        """A record of the current state; evaluates the validation split."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._snapshot(done)

    def _snapshot(self, done: bool) -> Snapshot:
        net = self.network
        val_loss, val_acc = self._evaluate(self.dataset.X_val, self.Y_val)
        count = max(self._run_count, 1)
        train_loss = self._run_loss / count if self._run_count else float("nan")
        train_acc = (self._run_correct / count if self._run_count else None) if self.classification else None
        probes = ()
        if self.step_count > 0 and self.probes:
            before = self._weights_before or [None] * len(net.weighted_layers)
            probes = tuple(probe_layer(layer, w, self._grad_scale)
                           for layer, w in zip(net.weighted_layers, before))
        snap = Snapshot(
            step=self.step_count, epoch=max(self.epoch, 0),
            epoch_progress=self.samples_seen / len(self._order),
            samples_seen=self.samples_seen, elapsed=self.elapsed,
            train_loss=train_loss, val_loss=val_loss,
            train_accuracy=train_acc, val_accuracy=val_acc,
            layers=probes, learning_rate=self.optimizer.eta,
            done=done, stop_reason=self.stop_reason)
        if math.isfinite(val_loss):
            self._backup = self._copy_params()
        self._reset_running()
        return snap

    def evaluate(self) -> dict:
        """Loss and accuracy on the whole training and validation splits."""
        train_loss, train_acc = self._evaluate(self.dataset.X_train, self.Y_train)
        val_loss, val_acc = self._evaluate(self.dataset.X_val, self.Y_val)
        return {"train_loss": train_loss, "val_loss": val_loss,
                "train_accuracy": train_acc, "val_accuracy": val_acc}

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Network outputs for X, in chunks so memory stays bounded."""
        parts = [self.network.forward(X[i:i + _EVAL_CHUNK]) for i in range(0, len(X), _EVAL_CHUNK)]
        return np.concatenate(parts) if parts else np.zeros((0,) + self.network.output_shape)

    def _evaluate(self, X, Y):
        if len(X) == 0:
            return float("nan"), None
        out = self.predict(X)
        loss = self.network.cost_value(out, Y) + 0.5 * self.l2 * self.network.l2_penalty()
        acc = _count_correct(out, Y) / len(X) if self.classification else None
        return loss, acc

    # ------------------------------------------------------------------ internals
    def _finish(self, state: RunState, reason: str) -> None:
        self.finished = True
        self.end_state = state
        self.stop_reason = reason

    def _reset_running(self):
        self._run_loss = 0.0
        self._run_count = 0
        self._run_correct = 0

    def _copy_params(self):
        return [{k: v.copy() for k, v in layer.params.items()} for layer in self.network.layers]

    def _restore(self):
        for layer, saved in zip(self.network.layers, self._backup):
            for k, v in saved.items():
                layer.params[k][...] = v


def _count_correct(output: np.ndarray, Y: np.ndarray) -> int:
    """Correct predictions: argmax for several outputs, threshold 0.5 for one."""
    if output.shape[1] == 1:
        return int(np.count_nonzero((output[:, 0] > 0.5) == (Y[:, 0] > 0.5)))
    return int(np.count_nonzero(output.argmax(axis=1) == Y.argmax(axis=1)))

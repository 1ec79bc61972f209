"""The training loop: a plain iterator of Snapshots, driven by the CLI or a GUI worker."""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import numpy as np

from .catalogue import TRAINING
from .datasets import load_dataset
from .errors import SpecError, TrainingDiverged
from .network import Network
from .numerics import norm, sum_of_squares
from .optimizers import make_optimizer
from .probes import probe_layer
from .runs import RunState
from .schedules import make_schedule
from .snapshot import Snapshot

# A time-based snapshot comes at least this many times the last one's cost after it: those
# snapshots (a validation pass and the probes) then take at most 1/15 of the time, so a
# large network is shown less often instead of training at half speed.  A trade-off,
# measured on the 32 px CNN (float32, ~19 ms a snapshot, one more at each epoch's end;
# benchmarks/README.md): spacing 5 made an epoch 1.42x PyTorch's bare one and gave ~4.3
# snapshots an epoch (~13 a second), 10 1.34x and ~3.0 (~9 a second), 15 1.24x and ~2.0
# (~7 a second); a 64 px CNN (~95 ms a snapshot) gets a time-based one every 1.4 s.
# Cheap snapshots (under 1/15 of snapshot_interval) are not affected.
_SNAPSHOT_SPACING = 15.0
# Evaluating a whole split: chunks of about _EVAL_BYTES of activations (they stay in
# cache: a 32x32 CNN evaluates 1.4 times faster in chunks of 8 samples than of 160,
# a 64x64 one 1.7 times), of 8 to _EVAL_CHUNK samples.
_EVAL_CHUNK = 1024
_EVAL_BYTES = 4 << 20
LOSS_BLOWUP = 1e3     # a mini-batch loss this many times its start (or the baseline): diverged
WEIGHT_BLOWUP = 1e4   # a layer's ||W|| this many times its initial size: diverged


class Trainer:
    """Trains the network of an Experiment on its data set, one mini-batch at a time.

    ``run()`` yields immutable Snapshots every ``snapshot_every`` steps, or every
    ``snapshot_interval`` seconds (default 0.05 s), or less often when a snapshot is
    expensive (at most 1/15 of the time goes to them), counted across ``run()`` calls;
    the first comes after step 1, and the last step of every ``run()`` has one.
    Stop requests and hyperparameter changes take effect between steps.
    ``training.schedule`` (if any) sets the learning rate at the start of every
    epoch; each Snapshot's ``eta`` is the rate of the step that made it.
    With ``record_every`` it also snapshots at the end of every epoch and every
    ``record_every`` steps, so a run's history does not depend on its speed.
    With ``probes=False`` snapshots carry no layer probes and no step copies
    the weights for them (a grid-search cell needs only the losses).
    On NaN or inf, a loss LOSS_BLOWUP times its start or weights WEIGHT_BLOWUP
    times their initial size, the weights of the last good snapshot (one whose
    validation loss and next mini-batch loss were both sane) are restored
    and the run ends with ``stop_reason`` "diverged: ..." (``end_state`` says how).
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
        self.dataset = _in_dtype(load_dataset(experiment.dataset, input_shape=self.network.input_shape,
                                              base_dir=getattr(experiment, "base_dir", None)),
                                 self.network.dtype)
        n_outputs = self.network.output_shape[0]
        self.Y_train = self.network.as_dtype(self.dataset.targets(self.dataset.y_train, n_outputs))
        self.Y_val = self.network.as_dtype(self.dataset.targets(self.dataset.y_val, n_outputs))
        training = experiment.training
        self.optimizer = make_optimizer(training["optimizer"])
        self.schedule_spec = training.get("schedule")     # None: constant
        self._schedule = make_schedule(self.schedule_spec, self.optimizer.eta)
        self._step_eta = self._schedule(0)               # the rate of the last step
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
        self._weights_before = None
        self._grad_scale = 1.0
        self._snapshot_cost = 0.0   # seconds the last snapshot of run() took
        self._snapshot_at = -math.inf   # when the step of that snapshot began (all run() calls)
        self._reset_running()
        self._backup = self._copy_params()    # the last good weights, restored on divergence
        self._candidate = None   # a snapshot's weights, good once the next loss is sane
        self.initial_weight_norms = [norm(w) for w in self.network.weight_matrices()]
        self.baseline_loss = _baseline_loss(self.network, self.Y_train)
        self.first_loss = math.nan       # the loss of the first mini-batch
        self.peak_loss, self.peak_step = math.nan, 0

    # ------------------------------------------------------------------ control
    def request_stop(self) -> None:
        """Ask the loop to stop before its next step (thread-safe)."""
        self._stop.set()

    def extend(self, epochs: int) -> None:
        """Allow ``epochs`` more epochs, trained on from the current weights: a run
        that finished or was stopped can go on ("Continue")."""
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise SpecError("epochs", f"must be a whole number >= 1, got {epochs!r}", "use e.g. 10")
        self.epochs += epochs
        self.total_steps = self.epochs * self.steps_per_epoch
        self.finished = False
        self.stop_reason = ""
        self.end_state = None
        self._stop.clear()

    def set_hyperparameters(self, *, eta: float | None = None, l2: float | None = None,
                            clip_norm=...) -> None:
        """Change learning rate, L2 or clipping (None: off) for the following steps.

        With a schedule, ``eta`` is the new base rate: the schedule goes on scaling
        it, so the next step uses schedule(epoch) computed from the new ``eta``
        (e.g. halving η mid-run halves every later scheduled rate).
        """
        if eta is not None:
            self.optimizer.eta = eta      # checks the value
            self._schedule = make_schedule(self.schedule_spec, eta)
            self._set_rate(self._schedule(max(self.epoch, 0)))
        # the catalogue's ranges, as in an experiment file and the editors
        if l2 is not None:
            self.l2 = float(TRAINING["l2"].check(l2, "training.l2"))
        if clip_norm is not ...:
            self.clip_norm = TRAINING["clip_norm"].check(clip_norm, "training.clip_norm")

    # ------------------------------------------------------------------ the loop
    def run(self, max_steps: int | None = None):
        """Train, yielding Snapshots, until the epochs are done, a stop request,
        divergence, or ``max_steps`` more steps (then the last snapshot has done=False)."""
        if self.finished:
            return
        end = self.total_steps if max_steps is None else min(self.total_steps, self.step_count + max_steps)
        while True:
            if self._stop.is_set():
                self._finish(RunState.STOPPED, "stopped")
                break
            if self.step_count >= end:
                return
            now = time.perf_counter()
            next_step = self.step_count + 1
            due = (next_step == 1 or next_step == end
                   or (self.snapshot_every is not None and next_step % self.snapshot_every == 0)
                   or (self.record_every is not None and (next_step % self.steps_per_epoch == 0
                                                          or next_step % self.record_every == 0))
                   or (self.snapshot_interval is not None and now - self._snapshot_at >= self._spacing()))
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
                self._snapshot_at = now
                yield self._timed_snapshot()
        yield self.snapshot(done=True)

    def _spacing(self) -> float:
        """Seconds between time-based snapshots: the interval, or more for costly ones."""
        return max(self.snapshot_interval, _SNAPSHOT_SPACING * self._snapshot_cost)

    def _timed_snapshot(self) -> Snapshot:
        start = time.perf_counter()
        snap = self.snapshot()
        self._snapshot_cost = time.perf_counter() - start
        return snap

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
            self._set_rate(self._schedule(self.epoch))
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += len(idx)
        X, Y = self.dataset.X_train[idx], self.Y_train[idx]
        net = self.network
        loss = net.compute_gradients(X, Y, self.l2)
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the loss became {loss} at step {self.step_count + 1}; "
                                   "try a smaller learning rate, gradient clipping or another initialisation")
        self._track_loss(loss)
        if self._candidate is not None:    # these weights just gave a sane loss: good
            self._backup, self._candidate = self._candidate, None
        self._grad_scale = self._clip_gradients()
        self._weights_before = [w.copy() for w in net.weight_matrices()] if probe else None
        self.optimizer.apply(net)
        self._step_eta = self.optimizer.eta
        if probe:
            self._check_weights()
        self.step_count += 1
        self.samples_seen += len(idx)
        self._run_loss += loss * len(idx)
        self._run_count += len(idx)
        if self.classification:
            self._run_correct += _count_correct(net.layers[-1].a, Y)
        self.elapsed += time.perf_counter() - start

    def _track_loss(self, loss: float) -> None:
        """Record the first and the peak loss; a loss that blew up ends the run."""
        step = self.step_count + 1
        if step == 1:
            self.first_loss = loss
        if not loss <= self.peak_loss:
            self.peak_loss, self.peak_step = loss, step
        if loss > self._loss_limit():
            raise TrainingDiverged(
                f"the loss blew up at step {step} ({loss:.3g}, from {self.first_loss:.3g} at "
                "the start): the learning rate is probably too large; try one 10x smaller "
                "or gradient clipping")

    def _loss_limit(self) -> float:
        """LOSS_BLOWUP times the larger of the first loss and the baseline (inf before step 1)."""
        known = [x for x in (self.first_loss, self.baseline_loss) if math.isfinite(x)]
        return LOSS_BLOWUP * max(known) if known else math.inf

    def _check_weights(self) -> None:
        """Weights that grew WEIGHT_BLOWUP times their initial size (or overflowed) end the run."""
        for layer, start in zip(self.network.weighted_layers, self.initial_weight_norms):
            size = norm(layer.params["W"])
            if not size <= WEIGHT_BLOWUP * max(start, 1e-12):
                raise TrainingDiverged(
                    f"the weights blew up at step {self.step_count + 1} (||W|| of {layer.label} "
                    f"grew from {start:.3g} to {size:.3g}): the learning rate is probably too "
                    "large; try one 10x smaller or gradient clipping")

    def _clip_gradients(self) -> float:
        """Scale all gradients so the trainable ones have global norm <= clip_norm (as
        PyTorch's clip_grad_norm_ over the parameters that have gradients: a frozen
        layer's gradient does not shrink the others' steps); returns the scale used."""
        if self.clip_norm is None:
            return 1.0
        layers = self.network.layers
        grads = [g.reshape(-1) for layer in layers for g in layer.grads.values()]
        total = math.sqrt(sum(sum_of_squares(g) for layer in layers if layer.trainable
                              for g in layer.grads.values()))
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
        # Probes first: they read the z, a and delta the last training step left in the
        # layers, which a validation pass would overwrite with its last chunk's.
        probes = self._probes()
        val_loss, val_acc = self._evaluate(self.dataset.X_val, self.Y_val)
        count = max(self._run_count, 1)
        train_loss = self._run_loss / count if self._run_count else float("nan")
        train_acc = (self._run_correct / count if self._run_count else None) if self.classification else None
        snap = Snapshot(
            step=self.step_count, epoch=max(self.epoch, 0),
            epoch_progress=self.samples_seen / len(self._order),
            samples_seen=self.samples_seen, elapsed=self.elapsed,
            train_loss=train_loss, val_loss=val_loss,
            train_accuracy=train_acc, val_accuracy=val_acc,
            layers=probes, learning_rate=self._step_eta,
            done=done, stop_reason=self.stop_reason,
            baseline_loss=self.baseline_loss, peak_loss=self.peak_loss, peak_step=self.peak_step)
        if val_loss <= self._loss_limit():   # finite and not blown up: maybe good weights
            self._candidate = self._copy_params()
        self._reset_running()
        return snap

    def _probes(self) -> tuple:
        """One probe per weighted layer, of the last training step's batch."""
        net = self.network
        if self.step_count == 0 or not self.probes:
            return ()
        before = self._weights_before or [None] * len(net.weighted_layers)
        return tuple(probe_layer(layer, w, self._grad_scale, w0)
                     for layer, w, w0 in zip(net.weighted_layers, before, self.initial_weight_norms))

    def evaluate(self) -> dict:
        """Loss and accuracy on the whole training and validation splits."""
        train_loss, train_acc = self._evaluate(self.dataset.X_train, self.Y_train)
        val_loss, val_acc = self._evaluate(self.dataset.X_val, self.Y_val)
        return {"train_loss": train_loss, "val_loss": val_loss,
                "train_accuracy": train_acc, "val_accuracy": val_acc}

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Network outputs for X, in chunks so memory stays bounded."""
        chunk = eval_chunk(self.network)
        parts = [self.network.forward(X[i:i + chunk]) for i in range(0, len(X), chunk)]
        return np.concatenate(parts) if parts else np.zeros((0,) + self.network.output_shape)

    def _evaluate(self, X, Y):
        if len(X) == 0:
            return float("nan"), None
        out = self.predict(X)
        loss = self.network.cost_value(out, Y)
        if self.l2:   # else skip summing every weight squared only to multiply the sum by 0
            loss += 0.5 * self.l2 * self.network.l2_penalty()
        acc = _count_correct(out, Y) / len(X) if self.classification else None
        return loss, acc

    # ------------------------------------------------------------------ internals
    def _set_rate(self, rate: float) -> None:
        """The optimiser's rate for the next steps.  Set past the optimiser's own check,
        which refuses 0 as a setting: a schedule may reach 0 (cosine with eta_min 0)."""
        self.optimizer._eta = float(rate)

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


def _baseline_loss(net, Y: np.ndarray) -> float:
    """The cost of always predicting the mean training target (the class frequencies):
    what a network that learned nothing achieves."""
    if len(Y) == 0:
        return math.nan
    guess = np.broadcast_to(Y.mean(axis=0), Y.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(net.cost_value(guess, Y))


def eval_chunk(network) -> int:
    """Samples per forward pass when evaluating: about _EVAL_BYTES of activations."""
    return max(8, min(_EVAL_CHUNK, _EVAL_BYTES // max(network.sample_bytes, 1)))


def _in_dtype(dataset, dtype):
    """The data set with its inputs in ``dtype``: cast once here, not at every step."""
    cast = {name: getattr(dataset, name).astype(dtype, copy=False) for name in ("X_train", "X_val")}
    if dataset.task != "classification":     # regression targets are floats too
        cast.update({name: getattr(dataset, name).astype(dtype, copy=False)
                     for name in ("y_train", "y_val")})
    if all(cast[name] is getattr(dataset, name) for name in cast):
        return dataset
    return dataclasses.replace(dataset, **cast)


def _count_correct(output: np.ndarray, Y: np.ndarray) -> int:
    """Correct predictions: argmax for several outputs, threshold 0.5 for one."""
    if output.shape[1] == 1:
        return int(np.count_nonzero((output[:, 0] > 0.5) == (Y[:, 0] > 0.5)))
    return int(np.count_nonzero(output.argmax(axis=1) == Y.argmax(axis=1)))

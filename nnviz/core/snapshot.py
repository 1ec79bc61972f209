"""Immutable records of training progress that cross from the engine to views."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LayerProbe:
    """Health of one weighted layer (dense or conv2d) at one training step.

    Norms are Frobenius norms over the whole mini-batch (the cost is a batch
    mean, so they are the norms of the gradients the optimiser actually sees).
    """

    index: int                    # position in Network.layers
    name: str                     # e.g. "dense 2 (relu)"
    activation: str               # activation name of the layer
    weight_grad_norm: float       # ||dC/dW||
    delta_norm: float             # ||dC/dz||, the back-propagated gradient
    weight_norm: float            # ||W||
    update_ratio: float           # ||W_new - W_old|| / ||W_old||
    act_mean: float               # mean of the layer's output activations
    act_std: float
    saturated_fraction: float     # sigmoid a<0.05 or a>0.95; tanh |a|>0.9; else 0
    dead_fraction: float          # ReLU family: units with z<=0 for every sample; else 0
    act_sample: np.ndarray = field(repr=False)  # bounded sample of activations, for histograms
    # for the diagnosis (defaults: unknown)
    initial_weight_norm: float = math.nan  # ||W|| before the first step
    weight_gain: float = math.nan  # sqrt(fan_in * mean W^2): He 1.41, N(0,1) sqrt(fan_in)
    inactive_fraction: float = 0.0  # ReLU family: outputs with z<=0 (all samples and units)


@dataclass(frozen=True)
class Snapshot:
    """Everything a view needs about one moment of training (arrays are copies)."""

    step: int                     # optimiser steps taken so far (1 for the first snapshot)
    epoch: int                    # 0-based epoch the step belongs to
    epoch_progress: float         # fractional epochs done, e.g. 3.25
    samples_seen: int
    elapsed: float                # seconds of training so far
    train_loss: float             # loss of the last mini-batch (L2 term included)
    val_loss: float | None        # on the validation split, when it was evaluated
    train_accuracy: float | None  # None for regression
    val_accuracy: float | None
    layers: tuple[LayerProbe, ...]
    learning_rate: float          # the rate of the step that made the snapshot (scheduled)
    done: bool = False            # the last snapshot of a run
    stop_reason: str = ""         # why the run ended ("finished", "stopped", "diverged: ...")
    # the loss so far, for the diagnosis (defaults: unknown)
    baseline_loss: float = math.nan  # loss of always predicting the mean training target
    peak_loss: float = math.nan      # highest mini-batch loss so far
    peak_step: int = 0               # the step of peak_loss

    @property
    def eta(self) -> float:
        """The learning rate of the step that made this snapshot (after any schedule)."""
        return self.learning_rate

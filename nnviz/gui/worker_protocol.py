"""The messages between the window and its training worker: small typed records.

No Qt here: the records cross a pipe to the training process (they pickle) and
are matched by type on both sides, so no state or reason is ever parsed back
out of a string.

Commands (window -> worker): :class:`Train`, :class:`Pause`, :class:`Step`,
:class:`Stop`, :class:`Shutdown`, :class:`SetHyper`, :class:`ShowViews`,
:class:`SetImage`, :class:`Continue`, :class:`SetPace`, :class:`GetWeights`.  Messages (worker -> window):
:class:`Ready`, :class:`Frame`, :class:`ViewData`, :class:`StateChanged`,
:class:`Notice`, :class:`Weights`, and :class:`Lost`, which the window side
makes itself when the worker is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnviz.core.runs import RunState


# ---------------------------------------------------------------------- commands
@dataclass(frozen=True)
class Train:
    """Train on (from the start, or on from a pause)."""


@dataclass(frozen=True)
class Pause:
    """Stop after the current step; the worker answers StateChanged(PAUSED)."""


@dataclass(frozen=True)
class Step:
    """Train one mini-batch, send its frame, then pause."""


@dataclass(frozen=True)
class Stop:
    """End the run for good (STOPPED); the final network stays inspectable."""


@dataclass(frozen=True)
class Shutdown:
    """End the worker."""


@dataclass(frozen=True)
class SetHyper:
    """New learning rate, L2 or clipping for the next steps (keys eta, l2, clip_norm)."""

    values: dict


@dataclass(frozen=True)
class ShowViews:
    """Compute view data only for these views ("output", "conv", "network")."""

    names: frozenset


@dataclass(frozen=True)
class SetImage:
    """The (C, H, W) image the convolution view shows (None: the data set's first)."""

    image: np.ndarray | None


@dataclass(frozen=True)
class Continue:
    """After a run finished or was stopped: ``epochs`` more from the current weights."""

    epochs: int


@dataclass(frozen=True)
class SetPace:
    """Train at most ``steps_per_second`` (None: as fast as possible)."""

    steps_per_second: float | None


@dataclass(frozen=True)
class GetWeights:
    """Send the network's parameters as they are now (answered by :class:`Weights`)."""


@dataclass(frozen=True)
class GetTrace:
    """Send one sample's forward and backward pass on the current weights
    (``nnviz.core.trace.backprop_data``; answered by :class:`Trace`)."""

    split: str
    index: int


# ---------------------------------------------------------------------- messages
@dataclass(frozen=True)
class Ready:
    """The worker has started and built its trainer (or failed to: see StateChanged)."""


@dataclass(frozen=True)
class Frame:
    """What the views need now: the newest snapshot (None: points only) and every
    history point recorded since the previous frame (rows of ``snapshot_point``)."""

    snapshot: object | None
    points: tuple = field(default=())
    layers: tuple = field(default=())    # names of the weighted layers the points describe


@dataclass(frozen=True)
class ViewData:
    """Data for a heavy view: OutputData, ConvData or NetworkData."""

    name: str
    data: object


@dataclass(frozen=True)
class StateChanged:
    """The run moved to ``state``; ``message`` says why when it matters (a
    divergence, an error), ``details`` holds an error's traceback."""

    state: RunState
    message: str = ""
    details: str = ""


@dataclass(frozen=True)
class Notice:
    """A problem that does not end the run (a rejected setting, a bad image)."""

    text: str


@dataclass(frozen=True)
class Weights:
    """Every parameter and batch-norm statistic, keyed "layers.I.NAME" (plain arrays)."""

    arrays: dict


@dataclass(frozen=True)
class Trace:
    """The answer to GetTrace: ``data`` (plain arrays), or None and ``error``;
    ``step`` is the training step the weights are from."""

    data: dict | None
    error: str = ""
    step: int = 0


@dataclass(frozen=True)
class Lost:
    """The worker went away without saying so (it crashed, was killed, never started)."""

    reason: str

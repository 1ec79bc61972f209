"""What the playground computes: input -> feature map -> activated -> pooled, and why.

Qt-free: the widget only shows these arrays and texts.  The convolution is
``nnviz.core.convolve``, the activations are the layers' own (``nnviz.core.activations``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.core.activations import make_activation
from nnviz.core.convolution import convolve, output_size
from nnviz.core.layers import conv_padding

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
POOLINGS = ("none", "max", "avg")
POOL = 2                                     # window and stride of the pooling
CHANNEL_NAMES = {1: ("grey",), 3: ("R", "G", "B")}


@dataclass(frozen=True)
class Settings:
    kernel: np.ndarray
    stride: int = 1
    padding: object = "valid"                # "valid", "same" or a number of pixels
    activation: str = "identity"
    pooling: str = "none"


@dataclass(frozen=True)
class Stages:
    """The four images, (C, H, W) each, and the padding used per axis."""
    image: np.ndarray
    feature: np.ndarray
    activated: np.ndarray
    pooled: np.ndarray | None                # None without pooling
    pads: tuple[tuple[int, int], tuple[int, int]]
    settings: Settings


def pool(x: np.ndarray, kind: str) -> np.ndarray:
    """2x2 max or average pooling with stride 2 (a trailing odd row/column is dropped)."""
    c, h, w = x.shape
    oh, ow = h // POOL, w // POOL
    windows = x[:, :oh * POOL, :ow * POOL].reshape(c, oh, POOL, ow, POOL)
    return windows.max(axis=(2, 4)) if kind == "max" else windows.mean(axis=(2, 4))


def compute(image: np.ndarray, settings: Settings) -> Stages:
    """All stages for ``image`` (C, H, W); SpecError when the kernel does not fit."""
    kh, kw = settings.kernel.shape
    feature = convolve(image, settings.kernel, settings.stride, settings.padding)
    activated = make_activation(settings.activation).forward(feature)
    pooled = None
    if settings.pooling != "none" and min(activated.shape[1:]) >= POOL:
        pooled = pool(activated, settings.pooling)
    _, h, w = image.shape
    pads = (conv_padding(settings.padding, h, kh, settings.stride),
            conv_padding(settings.padding, w, kw, settings.stride))
    return Stages(image, feature, activated, pooled, pads, settings)


def size_text(array: np.ndarray | None) -> str:
    if array is None:
        return "no pooling"
    c, h, w = array.shape
    return f"{w}×{h}" + ("" if c == 1 else f"×{c}")


def _axis_formula(letter: str, size: int, kernel: int, stride: int, pads: tuple[int, int]) -> str:
    before, after = pads
    out = output_size(size, kernel, stride, before, after)
    symbolic = f"({letter} − K + 2P)/S + 1" if before == after else f"({letter} − K + P₁ + P₂)/S + 1"
    padding = f"2·{before}" if before == after else f"{before} + {after}"
    exact = (size - kernel + before + after) % stride == 0
    value = f"({size} − {kernel} + {padding})/{stride} + 1"
    return f"{symbolic} = {value} = {out}" if exact else f"⌊{symbolic}⌋ = ⌊{value}⌋ = {out}"


def formula_text(stages: Stages) -> str:
    """The notes' output-size formula with this image's numbers, per axis, and pooling's."""
    s = stages.settings
    kh, kw = s.kernel.shape
    _, h, w = stages.image.shape
    lines = ["Width:  " + _axis_formula("W", w, kw, s.stride, stages.pads[1]),
             "Height: " + _axis_formula("H", h, kh, s.stride, stages.pads[0])]
    if stages.pooled is not None:
        _, fh, fw = stages.activated.shape
        lines.append(f"Pooling {POOL}×{POOL}, stride {POOL}: ⌊(W − 2)/2⌋ + 1 = "
                     f"⌊({fw} − 2)/2⌋ + 1 = {stages.pooled.shape[2]},")
        lines.append(f"{'':27}⌊(H − 2)/2⌋ + 1 = ⌊({fh} − 2)/2⌋ + 1 = {stages.pooled.shape[1]}")
    return "\n".join(lines)


def window_at(stages: Stages, row: int, col: int) -> np.ndarray:
    """The (C, KH, KW) input values (zero padding included) behind feature pixel (row, col)."""
    s = stages.settings
    kh, kw = s.kernel.shape
    (top, bottom), (left, right) = stages.pads
    padded = np.pad(stages.image, ((0, 0), (top, bottom), (left, right)))
    y, x = row * s.stride, col * s.stride
    return padded[:, y:y + kh, x:x + kw]


def explain_pixel(stages: Stages, row: int, col: int) -> tuple[str, list[float]]:
    """Hover text for feature pixel (row, col): the window, the weighted sum, its value.

    Returns the text and the sum per channel (what the feature map holds there).
    """
    kernel = stages.settings.kernel
    window = window_at(stages, row, col)
    sums = [float(np.sum(kernel * w)) for w in window]
    names = CHANNEL_NAMES.get(len(window), [str(i) for i in range(len(window))])
    first = window[0]
    lines = [f"Feature map pixel (row {row}, column {col}); input window ({names[0]}):"]
    lines += ["  " + "  ".join(f"{v:6.3f}" for v in line) for line in first]
    if kernel.size <= 9:
        terms = " + ".join(f"({k:g})·{v:.3f}" for k, v in zip(kernel.ravel(), first.ravel()))
        lines.append(f"Σ kernel × window = {terms}")
        lines.append(f"  = {sums[0]:.4f}")
    else:
        lines.append(f"Σ kernel × window = {sums[0]:.4f}")
    if len(sums) > 1:
        lines.append("Per channel: " + ", ".join(f"{n} {v:.4f}" for n, v in zip(names, sums)))
    return "\n".join(lines), sums

"""One 2-D kernel over an image, and the named kernels of image processing.

``convolve`` is what a conv2d layer does with one filter per channel (PyTorch's
``conv2d`` with ``groups=C``): cross-correlation, zero padding, "same" padding as
the Conv2D layer pads (``layers.conv_padding``).  It reads the padded image through
a strided window view and contracts the windows with the kernel by einsum, a band of
output rows per call, so no pixel is visited by Python code.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import SpecError
from .layers import conv_padding

__all__ = ["convolve", "output_size", "KERNELS", "KERNEL_NOTES", "kernel_name"]

MAX_KERNEL_SIDE = 31    # a convolution kernel larger than this is a mistake, not a lesson
BLOCK_BYTES = 1 << 20   # windows gathered per einsum: about the size of a core's cache


def _kernel(rows, scale: float = 1.0) -> np.ndarray:
    """A read-only float64 kernel (the table is shared: nobody may change it)."""
    k = np.asarray(rows, dtype=np.float64) * scale
    k.flags.writeable = False
    return k


_BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])

#: Named 2-D kernels, applied by cross-correlation (rows grow downwards).
KERNELS: dict[str, np.ndarray] = {
    "identity": _kernel([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": _kernel(np.ones((3, 3)), 1 / 9),
    "gaussian_blur": _kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "gaussian_blur_5x5": _kernel(np.outer(_BINOMIAL_5, _BINOMIAL_5), 1 / 256),
    "sharpen": _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sobel_x": _kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _kernel([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "outline": _kernel([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
}

#: One line per named kernel: what it does to an image.
KERNEL_NOTES: dict[str, str] = {
    "identity": "copies the image: only the centre weight is 1",
    "box_blur": "the mean of the 3x3 window: blurs, weights sum to 1",
    "gaussian_blur": "a weighted mean, nearer pixels count more: a softer blur, sums to 1",
    "gaussian_blur_5x5": "the same over a 5x5 window (binomial weights): a stronger blur",
    "sharpen": "the pixel minus its neighbours' excess: stronger contrast, sums to 1",
    "sobel_x": "brightness rising to the right is positive, falling is negative: vertical edges; sums to 0",
    "sobel_y": "brightness rising downwards is positive: horizontal edges; sums to 0",
    "laplacian": "the second derivative: zero on flat and evenly sloped areas, large at edges; sums to 0",
    "emboss": "the difference along the diagonal plus the pixel: a relief lit from the top left",
    "outline": "the pixel against all eight neighbours: every edge, whatever its direction; sums to 0",
}


def kernel_name(kernel) -> str | None:
    """The name of the KERNELS entry equal to ``kernel`` (e.g. "sobel_x"), or None."""
    try:
        k = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError):     # not a grid of numbers: no name
        return None
    return next((name for name, named in KERNELS.items()
                 if named.shape == k.shape and np.array_equal(named, k)), None)


def output_size(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    """Output length along one axis: (W - K + P_before + P_after) // S + 1."""
    return (size + before + after - kernel) // stride + 1


def convolve(image, kernel, stride: int = 1, padding="valid") -> np.ndarray:
    """Cross-correlate ``kernel`` with every channel of ``image``.

    image: (H, W) or (C, H, W) numbers; kernel: (KH, KW) numbers (the same kernel for
    every channel); stride: whole number >= 1; padding: "valid" (none), "same" (the
    output is ceil(size / stride) long, as the Conv2D layer pads) or a number of zero
    pixels on every side.  Returns (OH, OW) or (C, OH, OW), float32 when image and
    kernel are float32, float64 otherwise.  Bad arguments raise SpecError.
    """
    x = _as_image(image)
    k = _as_kernel(kernel)
    stride = _as_stride(stride)
    padding = _as_padding(padding)
    dtype = np.float32 if x.dtype == np.float32 and k.dtype == np.float32 else np.float64
    x, k = x.astype(dtype, copy=False), k.astype(dtype, copy=False)

    flat = x.ndim == 2
    if flat:
        x = x[None]
    (kh, kw), (h, w) = k.shape, x.shape[1:]
    (top, bottom), (left, right) = (conv_padding(padding, h, kh, stride),
                                    conv_padding(padding, w, kw, stride))
    if kh > h + top + bottom or kw > w + left + right:
        raise SpecError("kernel", f"a {kh}x{kw} kernel is larger than the (padded) image "
                        f"{h + top + bottom}x{w + left + right}",
                        'use a smaller kernel, padding "same", or a larger image')
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right)))
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    c, oh, ow = windows.shape[:3]
    out = np.empty((c, oh, ow), dtype=dtype)
    # einsum gathers the windows of its operand into one buffer: a few output rows
    # at a time keep that buffer in the cache (4x faster on the photo than all at once).
    rows = max(1, BLOCK_BYTES // (c * ow * kh * kw * out.itemsize))
    for top in range(0, oh, rows):
        out[:, top:top + rows] = np.einsum("chwij,ij->chw", windows[:, top:top + rows], k,
                                           optimize=True)
    return out[0] if flat else out


# --------------------------------------------------------------------------- validation
def _numbers(value, field: str, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise SpecError(field, f"{what} must be an array of real numbers",
                        "pass a numpy array of floats")
    return array


def _as_image(image) -> np.ndarray:
    x = _numbers(image, "image", "the image")
    if x.ndim not in (2, 3) or 0 in x.shape:
        raise SpecError("image", f"must have shape (H, W) or (C, H, W), got {x.shape}",
                        "pass one grayscale image (H, W) or channels first (C, H, W)")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise SpecError("image", "contains NaN or infinite values",
                        "replace them, e.g. with np.nan_to_num")
    return x


def _as_kernel(kernel) -> np.ndarray:
    k = _numbers(kernel, "kernel", "the kernel")
    if k.ndim != 2 or 0 in k.shape:
        raise SpecError("kernel", f"must be a 2-D (KH, KW) array, got shape {k.shape}",
                        "pass one 2-D kernel such as KERNELS['sobel_x']; it is applied to every channel")
    if max(k.shape) > MAX_KERNEL_SIDE:
        raise SpecError("kernel", f"{k.shape[0]}x{k.shape[1]} is too large",
                        f"use a kernel of at most {MAX_KERNEL_SIDE}x{MAX_KERNEL_SIDE}")
    if k.dtype.kind == "f" and not np.isfinite(k).all():
        raise SpecError("kernel", "contains NaN or infinite values", "use finite weights")
    return k


def _as_stride(stride) -> int:
    if isinstance(stride, bool) or not isinstance(stride, Integral) or stride < 1:
        raise SpecError("stride", f"must be a whole number >= 1, got {stride!r}",
                        "use 1 (every position) or 2 (every second one)")
    return int(stride)


def _as_padding(padding):
    if isinstance(padding, str) and padding in ("valid", "same"):
        return padding
    if isinstance(padding, Integral) and not isinstance(padding, bool) and padding >= 0:
        return int(padding)
    raise SpecError("padding", f"unknown padding {padding!r}",
                    'use "valid", "same" or a whole number of pixels >= 0')

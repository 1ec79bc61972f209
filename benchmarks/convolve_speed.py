"""Speed of nnviz.core.convolve on the colour sample photo, as ratios in the same run.

    python benchmarks/convolve_speed.py [--repeats 30]

The image is scikit-learn's china.jpg as (3, 427, 640), the kernel applied to each
channel (what the kernel playground does on every edit).  References, timed in the
same process on the same arrays:
* PyTorch's conv2d with groups=3 on one thread (torch.set_num_threads(1)), when
  it is installed (the target: nnviz within 3x of its time),
* scipy.ndimage.correlate with zero padding (mode="constant"), always.
Reported: the best of several runs in ms, and nnviz's time / each reference's time.
The results are checked to agree before anything is timed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from nnviz.core import KERNELS, convolve
from nnviz.core.datasets import sample_image
from nnviz.core.layers import conv_padding

CASES = [("sobel_x", 1, "same"), ("sobel_x", 2, "same"), ("sobel_x", 1, "valid"),
         ("gaussian_blur_5x5", 1, "same")]
TARGET = 3.0     # nnviz's time / PyTorch's time


def best_ms(run, repeats: int) -> float:
    run()        # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def torch_runner(image, kernel, stride, padding):
    """PyTorch's grouped conv2d with the same (explicit) zero padding, or None."""
    try:
        import torch
        from torch.nn.functional import conv2d, pad
    except ImportError:
        return None
    torch.set_num_threads(1)
    c, h, w = image.shape
    (top, bottom), (left, right) = (conv_padding(padding, n, kernel.shape[0], stride) for n in (h, w))
    x = torch.from_numpy(image)[None]
    weights = torch.from_numpy(np.repeat(kernel[None, None], c, axis=0))

    def run():
        return conv2d(pad(x, (left, right, top, bottom)), weights, stride=stride, groups=c)[0].numpy()
    return run


def scipy_runner(image, kernel, stride, padding):
    """scipy.ndimage.correlate over every channel at once, cropped and subsampled to match."""
    kh, kw = kernel.shape
    _, h, w = image.shape
    (top, _), (left, _) = (conv_padding(padding, n, kh, stride) for n in (h, w))
    # ndimage centres the kernel on each pixel: output pixel (y, x) reads rows
    # y - kh//2 ... ; ours reads y*stride - top ... .  Shift by the difference.
    oy0, ox0 = kh // 2 - top, kw // 2 - left
    oh = (h + 2 * top - kh) // stride + 1 if padding != "same" else -(-h // stride)
    ow = (w + 2 * left - kw) // stride + 1 if padding != "same" else -(-w // stride)

    def run():
        full = ndimage.correlate(image, kernel[None], mode="constant", cval=0.0)
        return full[:, oy0:oy0 + stride * (oh - 1) + 1:stride, ox0:ox0 + stride * (ow - 1) + 1:stride]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    photo = sample_image("china", colour=True)
    print(f"image {photo.shape}, best of {args.repeats} runs; ratio = nnviz time / reference time "
          f"(target vs PyTorch: <= {TARGET:g})")
    print(f"{'kernel':<18} {'s':>2} {'pad':<5} {'dtype':<8} {'nnviz ms':>9} {'torch ms':>9} "
          f"{'ratio':>6} {'scipy ms':>9} {'ratio':>6}")
    worst = 0.0
    for dtype in (np.float32, np.float64):
        image = photo.astype(dtype)
        for name, stride, padding in CASES:
            kernel = np.array(KERNELS[name], dtype=dtype)
            ours = convolve(image, kernel, stride, padding)
            torch_run = torch_runner(image, kernel, stride, padding)
            scipy_run = scipy_runner(image, kernel, stride, padding)
            tol = 1e-4 if dtype == np.float32 else 1e-10
            for run in (torch_run, scipy_run):
                if run is not None:
                    np.testing.assert_allclose(run(), ours, atol=tol)
            t_ours = best_ms(lambda: convolve(image, kernel, stride, padding), args.repeats)
            t_scipy = best_ms(scipy_run, args.repeats)
            if torch_run is None:
                torch_cols = f"{'-':>9} {'-':>6}"
            else:
                t_torch = best_ms(torch_run, args.repeats)
                worst = max(worst, t_ours / t_torch)
                torch_cols = f"{t_torch:9.2f} {t_ours / t_torch:6.2f}"
            print(f"{name:<18} {stride:>2} {padding:<5} {np.dtype(dtype).name:<8} {t_ours:9.2f} "
                  f"{torch_cols} {t_scipy:9.2f} {t_ours / t_scipy:6.2f}")
    if worst:
        print(f"worst ratio against PyTorch: {worst:.2f} ({'within' if worst <= TARGET else 'OVER'} "
              f"the target of {TARGET:g})")
    else:
        print("PyTorch is not installed: only the scipy reference was run")


if __name__ == "__main__":
    main()

"""im2col and col2im for conv2d: an image batch as the columns of one matrix product.

A convolution with kernel k over C channels is, per sample, ``z = [W | b] @ cols``,
where ``cols`` has one row per (channel, tap i, tap j) and a row of ones for the bias,
and one column per output pixel.  ``Im2col`` fills ``cols`` with one strided copy
per kernel tap straight from the input (taps over the zero padding are never written)
and scatters the gradient of ``cols`` back the same way.

Measured against this and dropped: a "flat" lowering for stride 1, where each tap is one
contiguous slice of the zero-padded image seen as a flat row (long copies, but k - 1
extra columns per output row): the products dominate from 16x16 images on, and their
extra 6-12 % cost more than the long copies saved (32x32, 16 -> 32 filters: equal;
64x64, 1 -> 16: 20 % slower).  One product over the whole batch instead of one per
sample was slower too (per-sample columns stay in the 1 MB L2 cache).
"""

from __future__ import annotations

import numpy as np

class Im2col:
    """The columns of one conv2d geometry: buffers, im2col (``fill``) and col2im.

    ``cols`` is (N, C*k*k + 1, OH*OW); tap (i, j) of channel c is row c*k*k + i*k + j,
    so ``W.reshape(F, -1)`` multiplies it, and the last row is ones (for the bias).
    """

    def __init__(self, channels, hw, kernel, stride, pads, out_hw):
        self.c, self.hw, self.k, self.out_hw = channels, tuple(hw), kernel, tuple(out_hw)
        self.ckk = channels * kernel * kernel
        self.width = out_hw[0] * out_hw[1]          # columns per sample
        taps = _taps(kernel, stride, pads, hw, out_hw)
        # A tap reading every input pixel once (the centre one for stride 1, "same")
        # initialises dx in col2im; otherwise dx starts from zeros.
        h, w = hw
        full = [t for t in taps if t[4] == slice(0, h, 1) and t[5] == slice(0, w, 1)]
        self.dx_first = bool(full)
        self.taps = full[:1] + [t for t in taps if not full or t is not full[0]]

    def buffers(self, n, dtype, training) -> dict:
        """Reusable arrays for batches of n: ``cols`` (its row of ones set once) and the
        views the tap copies write; for training also ``dcols`` (N, C*k*k, OH*OW)."""
        oh, ow = self.out_hw
        shape = (n, self.c, self.k, self.k, oh, ow)
        cols = np.zeros((n, self.ckk + 1, self.width), dtype)
        cols[:, self.ckk] = 1.0
        taps = cols[:, :self.ckk].reshape(shape)   # splitting axes: always a view
        bufs = {"cols": cols,
                "cols_taps": [taps[:, :, i, j, oy, ox] for i, j, oy, ox, _, _ in self.taps]}
        if training:
            dcols = np.empty((n, self.ckk, self.width), dtype)
            taps = dcols.reshape(shape)
            bufs.update(dcols=dcols,
                        dcols_taps=[taps[:, :, i, j, oy, ox] for i, j, oy, ox, _, _ in self.taps])
        return bufs

    def fill(self, bufs, x):
        """im2col: the tap rows of ``bufs["cols"]`` from the batch x (N, C, H, W)."""
        for dst, (_, _, _, _, iy, ix) in zip(bufs["cols_taps"], self.taps):
            np.copyto(dst, x[:, :, iy, ix])

    def input_grad(self, bufs, dtype):
        """col2im: dx (N, C, H, W) from ``bufs["dcols"]``, a fresh array."""
        sources = bufs["dcols_taps"]
        shape = (sources[0].shape[0], self.c) + self.hw
        dx = np.empty(shape, dtype) if self.dx_first else np.zeros(shape, dtype)
        start = 0
        if self.dx_first:
            np.copyto(dx, sources[0])
            start = 1
        for src, (_, _, _, _, iy, ix) in zip(sources[start:], self.taps[start:]):
            view = dx[:, :, iy, ix]
            view += src
        return dx


def _taps(kernel, stride, pads, in_hw, out_hw):
    """The kernel taps (i, j) that touch the input, with where they read and write.

    Tap (i, j) multiplies input pixel (oy*s + i - pt, ox*s + j - pl) into output pixel
    (oy, ox); outputs whose input pixel lies in the zero padding are skipped.  Returns
    (i, j, out_rows, out_cols, in_rows, in_cols) with slices.
    """
    def ranges(before, size, out):
        result = []
        for i in range(kernel):
            lo = max(0, -(-(before - i) // stride))
            hi = min(out, (size - 1 - i + before) // stride + 1)
            if hi <= lo:
                result.append(None)
            else:
                start = lo * stride + i - before
                result.append((slice(lo, hi), slice(start, start + stride * (hi - lo - 1) + 1, stride)))
        return result
    rows = ranges(pads[0][0], in_hw[0], out_hw[0])
    cols = ranges(pads[1][0], in_hw[1], out_hw[1])
    return [(i, j, rows[i][0], cols[j][0], rows[i][1], cols[j][1])
            for i in range(kernel) for j in range(kernel) if rows[i] is not None and cols[j] is not None]

"""im2col and col2im for conv2d: an image batch as the columns of one matrix product.

A convolution with kernel k over C channels is, per sample, ``z = [W | b] @ cols``,
where ``cols`` has one row per (channel, tap i, tap j) and a row of ones for the bias,
and one column per output pixel.  Two lowerings fill ``cols`` and scatter its
gradient back, with the same interface (the layer picks one in ``make_lowering``):

* ``FlatLowering`` (stride 1, any padding): the zero-padded image of width Wp is seen
  as one flat row per channel, so tap (i, j) is the contiguous slice starting at
  ``i*Wp + j``: k*k long copies fill ``cols`` and k*k long additions give dx.  The
  columns span OH rows of the *padded* width; the k - 1 extra columns of each row are
  computed and dropped (their delta is zero going back).  Fast at image scale.
* ``TapLowering`` (any stride): one strided copy per tap straight from the input into
  exactly OH*OW columns; taps over the zero padding are never written.  No padding copy
  and no extra columns: the better choice for small images and strided kernels.
"""

from __future__ import annotations

import numpy as np

# Images at least this wide use the flat lowering (at stride 1): below it the extra
# k - 1 columns per row and the padding copy cost more than the long copies save.
FLAT_MIN_WIDTH = 12


def make_lowering(channels, hw, kernel, stride, pads, out_hw):
    """The lowering for this convolution geometry (see the module docstring)."""
    if stride == 1 and hw[1] >= FLAT_MIN_WIDTH:
        return FlatLowering(channels, hw, kernel, pads, out_hw)
    return TapLowering(channels, hw, kernel, stride, pads, out_hw)


class _Lowering:
    """Shared part: ``cols`` (N, C*k*k + 1, width) with its row of ones, ``dcols``."""

    width = 0   # columns per sample

    def __init__(self, channels, hw, kernel, out_hw):
        self.c, self.hw, self.k, self.out_hw = channels, tuple(hw), kernel, tuple(out_hw)
        self.ckk = channels * kernel * kernel

    def buffers(self, n, filters, dtype, training) -> dict:
        """Reusable arrays for batches of n: ``cols`` (its bias row of ones set once)
        and, for training, ``dcols`` (N, C*k*k, width)."""
        cols = np.zeros((n, self.ckk + 1, self.width), dtype)
        cols[:, self.ckk] = 1.0
        bufs = {"cols": cols}
        if training:
            bufs["dcols"] = np.empty((n, self.ckk, self.width), dtype)
        return bufs


class TapLowering(_Lowering):
    """One strided copy per kernel tap, exactly OH*OW columns (any stride)."""

    def __init__(self, channels, hw, kernel, stride, pads, out_hw):
        super().__init__(channels, hw, kernel, out_hw)
        self.width = out_hw[0] * out_hw[1]
        taps = _taps(kernel, stride, pads, hw, out_hw)
        # A tap reading every input pixel once (the centre one for stride 1, "same")
        # initialises dx in col2im; otherwise dx starts from zeros.
        h, w = hw
        full = [t for t in taps if t[4] == slice(0, h, 1) and t[5] == slice(0, w, 1)]
        self.dx_first = bool(full)
        self.taps = full[:1] + [t for t in taps if not full or t is not full[0]]

    def buffers(self, n, filters, dtype, training):
        bufs = super().buffers(n, filters, dtype, training)
        oh, ow = self.out_hw
        shape = (n, self.c, self.k, self.k, oh, ow)
        taps = bufs["cols"][:, :self.ckk].reshape(shape)   # splitting axes: always a view
        bufs["cols_taps"] = [taps[:, :, i, j, oy, ox] for i, j, oy, ox, _, _ in self.taps]
        if training:
            dcols = bufs["dcols"].reshape(shape)
            bufs["dcols_taps"] = [dcols[:, :, i, j, oy, ox] for i, j, oy, ox, _, _ in self.taps]
        return bufs

    def fill(self, bufs, x):
        for dst, (_, _, _, _, iy, ix) in zip(bufs["cols_taps"], self.taps):
            np.copyto(dst, x[:, :, iy, ix])

    def output(self, bufs, z):
        """z (N, F, width) as the NCHW output."""
        return z.reshape(z.shape[:2] + self.out_hw)

    def delta(self, bufs, delta):
        """dC/dz as (N, F, width), zero in columns that are not outputs."""
        return delta.reshape(delta.shape[0], delta.shape[1], self.width)

    def input_grad(self, bufs, dtype):
        """dx from ``bufs["dcols"]`` (col2im)."""
        sources = bufs["dcols_taps"]
        n = sources[0].shape[0]
        shape = (n, self.c) + self.hw
        dx = np.empty(shape, dtype) if self.dx_first else np.zeros(shape, dtype)
        start = 0
        if self.dx_first:
            np.copyto(dx, sources[0])
            start = 1
        for src, (_, _, _, _, iy, ix) in zip(sources[start:], self.taps[start:]):
            view = dx[:, :, iy, ix]
            view += src
        return dx


class FlatLowering(_Lowering):
    """Stride 1: taps are contiguous slices of the flat zero-padded image."""

    def __init__(self, channels, hw, kernel, pads, out_hw):
        super().__init__(channels, hw, kernel, out_hw)
        (pt, pb), (pl, pr) = pads
        self.pads = pads
        self.padded = (hw[0] + pt + pb, hw[1] + pl + pr)
        hp, wp = self.padded
        self.width = out_hw[0] * wp
        self.offsets = [i * wp + j for i in range(kernel) for j in range(kernel)]
        # the last tap's slice runs k - 1 elements past the padded image
        self.flat_size = hp * wp + kernel - 1

    def _interior(self, flat):
        """The view of the unpadded image inside a flat padded buffer (N, C, flat_size)."""
        (pt, _), (pl, _) = self.pads
        hp, wp = self.padded
        n = flat.shape[0]
        return flat[:, :, :hp * wp].reshape(n, self.c, hp, wp)[:, :, pt:pt + self.hw[0],
                                                               pl:pl + self.hw[1]]

    def buffers(self, n, filters, dtype, training):
        bufs = super().buffers(n, filters, dtype, training)
        xpad = np.zeros((n, self.c, self.flat_size), dtype)   # the border stays zero
        taps = bufs["cols"][:, :self.ckk].reshape(n, self.c, self.k * self.k, self.width)
        bufs.update(xpad=xpad, x_in=self._interior(xpad),
                    cols_taps=[taps[:, :, t] for t in range(self.k * self.k)])
        if training:
            dxpad = np.empty((n, self.c, self.flat_size), dtype)
            dtaps = bufs["dcols"].reshape(n, self.c, self.k * self.k, self.width)
            # delta with the extra columns, which stay zero: no gradient flows from them
            bufs.update(dpad=np.zeros((n, filters, self.width), dtype),
                        dxpad=dxpad, dx_in=self._interior(dxpad),
                        dcols_taps=[dtaps[:, :, t] for t in range(self.k * self.k)])
        return bufs

    def fill(self, bufs, x):
        np.copyto(bufs["x_in"], x)
        xpad, length = bufs["xpad"], self.width
        for dst, off in zip(bufs["cols_taps"], self.offsets):
            np.copyto(dst, xpad[:, :, off:off + length])

    def output(self, bufs, z):
        """The NCHW output: z (N, F, OH * Wp) without the k - 1 extra columns per row."""
        n, f = z.shape[:2]
        oh, ow = self.out_hw
        return np.ascontiguousarray(z.reshape(n, f, oh, self.padded[1])[..., :ow])

    def delta(self, bufs, delta):
        n, f = delta.shape[:2]
        dpad = bufs["dpad"]
        oh, ow = self.out_hw
        np.copyto(dpad.reshape(n, f, oh, self.padded[1])[..., :ow], delta)
        return dpad

    def input_grad(self, bufs, dtype):
        dxpad, length = bufs["dxpad"], self.width
        sources = bufs["dcols_taps"]
        first = self.offsets[0]          # 0: the first tap's slice starts the buffer
        np.copyto(dxpad[:, :, first:first + length], sources[0])
        dxpad[:, :, first + length:] = 0
        for src, off in zip(sources[1:], self.offsets[1:]):
            view = dxpad[:, :, off:off + length]
            view += src
        return np.array(bufs["dx_in"])   # a fresh array: the buffer is reused


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

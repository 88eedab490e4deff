"""The convolution primitive on NCHW images: ``conv2d`` (max pooling is in ``pool.py``).

The forward pass is the "im2col" trick: every kernel-sized window of the (padded)
input becomes one column of a matrix (one matrix per image, copied from a
``sliding_window_view``), and the convolution is one batched GEMM of the kernels
with those matrices, whose result is already in NCHW order. The weight gradient is
one more GEMM against the same matrices (built again), and the input gradient one
GEMM between a column-shifted copy of the output gradient and the kernels, followed
by KH row-shifted adds. No Python loop runs over pixels. Each step works on a block
of images at a time, in reused work arrays (``scratch.py``), so that what a GEMM
reads is still in cache and no call allocates megabytes afresh.

Shapes follow PyTorch: input ``(N, C, H, W)``, kernels ``(F, C, KH, KW)``,
output ``(N, F, OH, OW)`` with ``OH = (H + 2 * pad_h - KH) // stride_h + 1``
(likewise ``OW``). As in PyTorch, a "convolution" is a cross-correlation: the
kernel is not flipped.

Example:
    >>> import numpy as np
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, _ = REGISTRY["conv2d"].forward(x, np.ones((1, 1, 2, 2)), stride=2)
    >>> out[0, 0]
    array([[10., 18.],
           [42., 50.]])
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import call, register, tangent_sum
from .scratch import SCRATCH

__all__ = ["as_pair"]


def as_pair(op, name, value, minimum):
    """``value`` as a pair of ints ``(for height, for width)``; an int applies to both.

    Raises ``ValueError`` naming ``op`` unless both entries are ints >= ``minimum``.

    Example:
        >>> as_pair("conv2d", "stride", 2, 1), as_pair("conv2d", "padding", (0, 1), 0)
        ((2, 2), (0, 1))
    """
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    ok = (
        isinstance(pair, (tuple, list)) and len(pair) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum for v in pair)
    )
    if not ok:
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{op}: {name} must be a {kind} int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


#: Images per block of the window matrix: about 512 KB of it at a time, so that it is still in
#: the core's cache when the GEMM reads it (a whole batch's matrix is K * K times the input).
_BLOCK_BYTES = 512 << 10


def _window_blocks(x, kernel, stride, padding):
    """``(start, stop, cols)`` per block of images: their windows as one matrix per image.

    ``cols`` has shape (B, C * KH * KW, OH * OW); rows are (channel, kernel row, kernel
    column), so ``weight.reshape(F, -1) @ cols`` is the convolution, each image's output
    already in (F, OH * OW), NCHW, order. It is a scratch array, valid until the next block.
    """
    (ph, pw), (sh, sw) = padding, stride
    n, c, h, w = x.shape
    kh, kw = kernel
    if ph or pw:
        xp = SCRATCH.get(("padded", ph, pw), (n, c, h + 2 * ph, w + 2 * pw), x.dtype)
        xp[:, :, ph:ph + h, pw:pw + w] = x  # the border keeps its zeros: it is never written
        x = xp
    # (N, C, KH, KW, OH, OW), a view; copying it keeps the output column as the innermost axis.
    windows = sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::sh, ::sw].transpose(0, 1, 4, 5, 2, 3)
    per_image = max(1, int(np.prod(windows.shape[1:])) * x.itemsize)
    size = max(1, min(n, _BLOCK_BYTES // per_image))
    cols = SCRATCH.get(("cols", size), (size, *windows.shape[1:]), x.dtype)
    for start in range(0, n, size):
        stop = min(n, start + size)
        block = cols[:stop - start]
        np.copyto(block, windows[start:stop])
        yield start, stop, block.reshape(stop - start, c * kh * kw, -1)


def _correlate(x, w, stride, padding):
    """The convolution of ``x`` with kernels ``w`` (no bias): one batched GEMM per block -> (N, F, OH, OW)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    oh, ow = (h + 2 * padding[0] - kh) // stride[0] + 1, (wd + 2 * padding[1] - kw) // stride[1] + 1
    out = np.empty((n, f, oh * ow), np.result_type(x, w))
    w2 = w.reshape(f, -1)
    for start, stop, cols in _window_blocks(x, (kh, kw), stride, padding):
        np.matmul(w2, cols, out=out[start:stop])
    return out.reshape(n, f, oh, ow)


def _weight_grad(g, x, w_shape, stride, padding):
    """Sum over images of windows (CKK, P) @ g^T (P, F), block by block -> (F, C, KH, KW)."""
    n, f, oh, ow = g.shape
    g3 = g.reshape(n, f, oh * ow)
    total = None
    for start, stop, cols in _window_blocks(x, w_shape[2:], stride, padding):
        part = np.matmul(cols, g3[start:stop].transpose(0, 2, 1)).sum(axis=0)
        total = part if total is None else total + part
    if total is None:  # no images
        return np.zeros(w_shape, np.result_type(x, g))
    return total.T.reshape(w_shape)


def _input_grad(g, w, x_shape, stride, padding):
    """The gradient of the input (N, C, H, W): each output pixel's gradient sent back through its window.

    Done in two halves so that no step is a short strided loop over the K * K kernel
    offsets of a col2im: the KW column shifts are copies of ``g`` into a zeroed buffer,
    one GEMM contracts kernels and columns, and the KH row shifts are adds of whole rows.
    """
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = g.shape[2:]
    wp = wd + 2 * pw
    w_rows = w.transpose(1, 2, 0, 3).reshape(c * kh, f * kw)  # (channel, kernel row) x (kernel, kernel column)
    gxp = np.zeros((n, c, h + 2 * ph, wp), np.result_type(w_rows, g))
    size = max(1, min(n, _BLOCK_BYTES // max(1, f * kw * oh * wp * g.itemsize)))  # images per block
    # spread[b, f, j, r, q] = g[b, f, r, o] where q = j + sw * o: g seen by kernel column j.
    spread = SCRATCH.get(("spread", sw, ow, size), (size, f, kw, oh, wp), g.dtype)
    rows = SCRATCH.get(("rows", size), (size, c * kh, oh * wp), gxp.dtype)
    for start in range(0, n, size):
        b = min(n, start + size) - start
        for j in range(kw):
            spread[:b, :, j, :, j:j + sw * (ow - 1) + 1:sw] = g[start:start + b]
        np.matmul(w_rows, spread[:b].reshape(b, f * kw, oh * wp), out=rows[:b])
        block, done = rows[:b].reshape(b, c, kh, oh, wp), gxp[start:start + b]
        for i in range(kh):
            done[:, :, i:i + sh * (oh - 1) + 1:sh] += block[:, :, i]
    return gxp[:, :, ph:ph + h, pw:pw + wd]


def _check_conv(x, w, b, stride, padding):
    shapes = f"input {x.shape} and weight {w.shape}"
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv2d: {shapes}: expected input (N, C, H, W) and weight (F, C, KH, KW)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"conv2d: {shapes}: the input has {x.shape[1]} channels but the weight expects {w.shape[1]}")
    if b is not None and np.shape(b) != w.shape[:1]:
        raise ValueError(f"conv2d: bias of shape {np.shape(b)} does not match weight {w.shape} (expected ({w.shape[0]},))")
    stride = as_pair("conv2d", "stride", stride, 1)
    padding = as_pair("conv2d", "padding", padding, 0)
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if w.shape[2] > padded[0] or w.shape[3] > padded[1]:
        raise ValueError(
            f"conv2d: {shapes}: kernel {w.shape[2:]} is larger than the padded input {padded}"
        )
    return stride, padding


def _conv_forward(x, w, b=None, stride=1, padding=0):
    stride, padding = _check_conv(x, w, b, stride, padding)
    out = _correlate(x, w, stride, padding)
    if b is not None:
        out += b[:, None, None]
    # The window matrix is not kept for the weight gradient, which builds it again block by
    # block: K * K copies of every input, held until the backward pass, would cost fresh
    # memory (page faults) on every step and would have left the cache long before.
    return out, (x, w, stride, padding)


def _conv_vjp(g, ctx, needs):
    x, w, stride, padding = ctx
    gx = gw = gb = None
    if needs[0]:
        gx = _input_grad(g, w, x.shape, stride, padding)
    if needs[1]:
        gw = _weight_grad(g, x, w.shape, stride, padding)
    if len(needs) > 2 and needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gx, gw, gb


def _conv_jvp(ts, ctx):
    # The product rule: conv is bilinear in (x, w), and the bias enters linearly.
    x, w, stride, padding = ctx
    return tangent_sum(ts, lambda t: _correlate(t, w, stride, padding), lambda t: _correlate(x, t, stride, padding),
                       lambda t: t[:, None, None])


def _offsets(kernel, stride, out_hw):
    """For each kernel offset (i, j): the strided slice of the padded input it sees."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    return [
        (i, j, (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw)))
        for i in range(kh) for j in range(kw)
    ]


def _conv_vjp_graph(g, ctx, needs, xs, out):
    # The col2im of the fast VJP as one differentiable slice, product and scatter per kernel offset.
    xv, wv, stride, (ph, pw) = ctx[:4]
    x_shape = xv.shape
    x, w = xs[0], xs[1]
    n, c, h, wd = x_shape
    f = wv.shape[0]
    padded = (n, c, h + 2 * ph, wd + 2 * pw)
    inner = (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + wd))
    offsets = _offsets(wv.shape[2:], stride, g.shape[2:])
    gx = gw = gb = None
    if needs[0]:
        g_last = g.transpose((0, 2, 3, 1))  # (N, OH, OW, F)
        parts = [
            call("getitem_scatter", (g_last @ w[:, :, i, j]).transpose((0, 3, 1, 2)), index=idx, shape=padded)
            for i, j, idx in offsets
        ]
        gx = call("getitem", _total(parts), index=inner)
    if needs[1]:
        xpad = call("getitem_scatter", x, index=inner, shape=padded) if ph or pw else x
        g2 = g.transpose((1, 0, 2, 3)).reshape(f, -1)
        cols = [g2 @ call("getitem", xpad, index=idx).transpose((0, 2, 3, 1)).reshape(-1, c) for _, _, idx in offsets]
        gw = call("stack", *cols, axis=-1).reshape(wv.shape)
    if len(needs) > 2 and needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gx, gw, gb


def _total(parts):
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


register(
    "conv2d",
    _conv_forward,
    _conv_vjp,
    _conv_jvp,
    vjp_graph=_conv_vjp_graph,
    doc="2-D cross-correlation of x (N, C, H, W) with kernels w (F, C, KH, KW) plus a bias (F,), "
    "with stride and zero padding; one batched GEMM over the unrolled windows.",
)

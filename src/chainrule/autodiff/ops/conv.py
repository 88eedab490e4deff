"""Convolution and max-pooling primitives on NCHW images: ``conv2d`` and ``max_pool2d``.

Both ops look at an image through ``sliding_window_view``, which lists every
kernel-sized window of the (padded) input without copying it. A convolution is
then one ``tensordot`` of those windows with the kernels (the "im2col" trick:
the windows play the role of the rows of an unrolled image matrix), so no
Python loop runs over pixels.

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
    >>> REGISTRY["max_pool2d"].forward(x, kernel_size=2)[0][0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import call, register, tangent_sum

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


def _windows(x, kernel, stride, padding):
    """The (N, C, OH, OW, KH, KW) view of every kernel window of ``x`` padded with zeros."""
    (ph, pw), (sh, sw) = padding, stride
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::sh, ::sw]


def _correlate(windows, w):
    """Sum over channels and kernel offsets of windows * kernels: (N, C, OH, OW, KH, KW) -> (N, F, OH, OW)."""
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, F)
    # Back to NCHW, contiguous, so a following reshape (Flatten) is a view.
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


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
    windows = _windows(x, w.shape[2:], stride, padding)
    out = _correlate(windows, w)
    if b is not None:
        out += b[:, None, None]
    return out, (x.shape, windows, w, stride, padding)


def _conv_vjp(g, ctx, needs):
    x_shape, windows, w, (sh, sw), (ph, pw) = ctx
    gx = gw = gb = None
    if needs[0]:
        # col2im: every output pixel sent its window of the input forward, so the
        # gradient of that window (g times the kernels) is added back in place.
        # Looping over the KH * KW kernel offsets (not the pixels) keeps each step one
        # strided slice of the whole batch.
        n, c, h, wd = x_shape
        f, _, kh, kw = w.shape
        oh, ow = g.shape[2:]
        cols = np.tensordot(w, g, axes=([0], [1]))  # (C, KH, KW, N, OH, OW)
        gxp = np.zeros((c, n, h + 2 * ph, wd + 2 * pw), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                gxp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, i, j]
        gx = gxp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)
    if needs[1]:
        gw = np.tensordot(g, windows, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, KH, KW)
    if len(needs) > 2 and needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gx, gw, gb


def _conv_jvp(ts, ctx):
    # The product rule: conv is bilinear in (x, w), and the bias enters linearly.
    _, windows, w, stride, padding = ctx
    return tangent_sum(ts, lambda t: _correlate(_windows(t, w.shape[2:], stride, padding), w),
                       lambda t: _correlate(windows, t), lambda t: t[:, None, None])


def _offsets(kernel, stride, out_hw):
    """For each kernel offset (i, j): the strided slice of the padded input it sees."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    return [
        (i, j, (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw)))
        for i in range(kh) for j in range(kw)
    ]


def _conv_vjp_graph(g, ctx, needs, xs, out):
    # The col2im of the fast VJP as one differentiable slice, product and scatter per kernel offset.
    x_shape, _, wv, stride, (ph, pw) = ctx
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
    "with stride and zero padding; one tensordot over sliding windows.",
)


def _pool_forward(x, kernel_size, stride=None):
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: input of shape {x.shape}: expected (N, C, H, W)")
    kernel = as_pair("max_pool2d", "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else as_pair("max_pool2d", "stride", stride, 1)
    n, c, h, w = x.shape
    if kernel[0] > h or kernel[1] > w:
        raise ValueError(f"max_pool2d: input of shape {x.shape}: kernel {kernel} is larger than the image {(h, w)}")
    windows = _windows(x, kernel, stride, (0, 0))
    oh, ow = windows.shape[2:4]
    # argmax returns the first maximum of each row-major window: ties go to the
    # top-left-most entry, as in PyTorch, and a NaN wins (the output is NaN).
    k = windows.reshape(n, c, oh, ow, -1).argmax(axis=-1)
    rows = (np.arange(oh) * stride[0])[:, None] + k // kernel[1]
    cols = np.arange(ow) * stride[1] + k % kernel[1]
    # One flat index into x per output pixel: the backward pass scatters through
    # it, the forward-mode pass gathers through it.
    flat = (np.arange(n * c).reshape(n, c, 1, 1) * h + rows) * w + cols
    return x.reshape(-1)[flat], (flat, x.shape)


def _pool_vjp(g, ctx, needs):
    flat, shape = ctx
    # bincount adds up the gradients of windows that overlap on one arg-max.
    gx = np.bincount(flat.reshape(-1), weights=g.reshape(-1), minlength=int(np.prod(shape)))
    return (gx.reshape(shape).astype(g.dtype, copy=False),)


def _pool_vjp_graph(g, ctx, needs, xs, out):
    flat, shape = ctx
    size = int(np.prod(shape))
    return (call("getitem_scatter", g.reshape(-1), index=flat.reshape(-1), shape=(size,)).reshape(shape),)


register(
    "max_pool2d",
    _pool_forward,
    _pool_vjp,
    lambda ts, ctx: ts[0].reshape(-1)[ctx[0]],
    vjp_graph=_pool_vjp_graph,
    doc="max over kernel windows of x (N, C, H, W) (stride defaults to the kernel size); "
    "the gradient goes to each window's arg-max, the first one on ties.",
)

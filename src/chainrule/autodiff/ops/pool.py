"""The ``max_pool2d`` primitive on NCHW images: the largest value of each kernel window.

A window of kernel (KH, KW) has KH * KW offsets (a, b); the entries of all windows at
offset (a, b) form one strided slice of the image, ``x[:, :, a::stride_h, b::stride_w]``
cut to the output size. So the forward pass is KH * KW elementwise ``maximum`` calls
on whole slices (no window is ever copied), and the backward pass walks the same
slices in row-major order, marking for each window the first offset that holds its
maximum: the gradient goes there. That is PyTorch's tie rule (the top-left-most of
equal maxima wins), and a NaN wins its window, as NumPy's ``argmax`` would pick it.

Example:
    >>> import numpy as np
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> op = REGISTRY["max_pool2d"]
    >>> x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    >>> out, ctx = op.forward(x, kernel_size=2)
    >>> out
    array([[[[3.]]]])
    >>> op.vjp(np.ones((1, 1, 1, 1)), ctx, (True,))[0]  # the tie: the first 3 (row-major) gets it
    array([[[[0., 1.],
             [0., 0.]]]])
"""

from __future__ import annotations

import numpy as np

from . import call, register
from .conv import as_pair


def _slice(kernel_offset, stride, out_hw):
    """The index of the entries at one kernel offset (a, b) of every window."""
    (a, b), (sh, sw), (oh, ow) = kernel_offset, stride, out_hw
    return (slice(None), slice(None), slice(a, a + sh * (oh - 1) + 1, sh), slice(b, b + sw * (ow - 1) + 1, sw))


def _offsets(kernel):
    return [(a, b) for a in range(kernel[0]) for b in range(kernel[1])]


def _pool_forward(x, kernel_size, stride=None):
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: input of shape {x.shape}: expected (N, C, H, W)")
    kernel = as_pair("max_pool2d", "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else as_pair("max_pool2d", "stride", stride, 1)
    h, w = x.shape[2:]
    if kernel[0] > h or kernel[1] > w:
        raise ValueError(f"max_pool2d: input of shape {x.shape}: kernel {kernel} is larger than the image {(h, w)}")
    out_hw = ((h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1)
    offsets = _offsets(kernel)
    out = np.array(x[_slice(offsets[0], stride, out_hw)])  # a copy: the maxima are taken into it
    for ab in offsets[1:]:
        # maximum propagates NaN, as the old argmax-based rule did.
        np.maximum(out, x[_slice(ab, stride, out_hw)], out=out)
    # x itself is the context: the arg-max masks are only worth making if a backward pass comes.
    return out, (x, out, kernel, stride)


def _first_hits(x, out, kernel, stride):
    """``(a, b, first)`` per kernel offset, row-major: ``first`` marks the windows whose first maximum is at (a, b)."""
    out_hw = out.shape[2:]
    nan = out.dtype.kind in "fc" and out.size and np.isnan(np.min(out))
    taken = None
    for a, b in _offsets(kernel):
        part = x[_slice((a, b), stride, out_hw)]
        hit = part == out
        if nan:  # a window whose maximum is NaN: its first NaN is the arg-max
            hit |= part != part
        first = hit if taken is None else np.greater(hit, taken)  # hit and not already taken
        taken = hit if taken is None else taken | hit
        yield a, b, first


def _pool_vjp(g, ctx, needs):
    x, out, kernel, stride = ctx
    g = np.asarray(g)
    # g * mask is exact for finite g; an inf or NaN times a 0 would leak into other entries.
    finite = g.dtype.kind != "f" or np.isfinite(g.sum())
    overlap = stride[0] < kernel[0] or stride[1] < kernel[1]
    # Windows that tile the image exactly write every entry of gx below: no zeros needed first.
    tiled = finite and stride == kernel and x.shape[2:] == (kernel[0] * out.shape[2], kernel[1] * out.shape[3])
    gx = (np.empty if tiled else np.zeros)(x.shape, g.dtype)
    for a, b, first in _first_hits(x, out, kernel, stride):
        view = gx[_slice((a, b), stride, out.shape[2:])]
        if finite and not overlap:
            np.multiply(g, first, out=view)
        else:  # overlapping windows add up on a shared arg-max
            view += g * first if finite else np.where(first, g, 0)
    return (gx,)


def _flat_index(ctx):
    """Each window's arg-max as a flat index into x, shape (N, C, OH, OW)."""
    x, out, kernel, stride = ctx
    n, c, h, w = x.shape
    oh, ow = out.shape[2:]
    flat = (np.arange(n * c).reshape(n, c, 1, 1) * h + np.arange(oh)[:, None] * stride[0]) * w + np.arange(ow) * stride[1]
    for a, b, first in _first_hits(x, out, kernel, stride):
        flat = flat + first * (a * w + b)
    return flat


def _pool_vjp_graph(g, ctx, needs, xs, out):
    shape = ctx[0].shape
    flat = _flat_index(ctx).reshape(-1)
    return (call("getitem_scatter", g.reshape(-1), index=flat, shape=(int(np.prod(shape)),)).reshape(shape),)


register(
    "max_pool2d",
    _pool_forward,
    _pool_vjp,
    lambda ts, ctx: ts[0].reshape(-1)[_flat_index(ctx)],
    vjp_graph=_pool_vjp_graph,
    doc="max over kernel windows of x (N, C, H, W) (stride defaults to the kernel size); "
    "the gradient goes to each window's arg-max, the first one on ties.",
)

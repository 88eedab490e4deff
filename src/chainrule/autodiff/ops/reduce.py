"""Reductions: sum, mean, max, min over an axis (or all axes), with keepdims."""

from __future__ import annotations

import numpy as np

from . import register


def _norm_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for an array of {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    return tuple(out)


def _keep(g, axes, keepdims):
    """Give a reduced gradient back its reduced axes as size 1."""
    if keepdims or not axes:
        return g
    return np.expand_dims(g, axes)


def _keep_graph(g, shape, axes, keepdims):
    """:func:`_keep` with a reshape, so it works on Tensors and Duals too."""
    if keepdims or not axes:
        return g
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


# NumPy takes a max over a short last axis slowly: over 10 columns of 256 rows it costs ~4x a
# transposed copy plus a max over the first axis (measured with NumPy 2.4; sums are not slow).
# Loss heads (softmax over classes) meet exactly that shape, so their row maxima go through this.
_SHORT_AXIS, _MANY_ROWS = 16, 64


def reduce_last(ufunc, x):
    """``ufunc.reduce(x, axis=-1, keepdims=True)``, faster for a max or min over a short axis of many rows.

    The values are the same as the direct reduction's (a max is exact in any order).

    Example:
        >>> x = np.arange(256.0).reshape(128, 2)
        >>> bool((reduce_last(np.maximum, x) == x.max(axis=-1, keepdims=True)).all())
        True
    """
    c = x.shape[-1] if x.ndim >= 2 else 0
    if ufunc in (np.maximum, np.minimum) and 0 < c <= _SHORT_AXIS and x.size >= _MANY_ROWS * c:
        rows = np.ascontiguousarray(x.reshape(-1, c).T)
        return ufunc.reduce(rows, axis=0).reshape(x.shape[:-1] + (1,))
    return ufunc.reduce(x, axis=-1, keepdims=True)


def reduce_axes(ufunc, x, axes):
    """``ufunc.reduce`` over ``axes`` (an int or a tuple) with keepdims, via :func:`reduce_last` for the last axis."""
    if isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    if len(axes) == 1 and axes[0] % max(x.ndim, 1) == x.ndim - 1:
        return reduce_last(ufunc, x)
    return ufunc.reduce(x, axis=axes, keepdims=True)


def _count(shape, axes):
    if axes is None:
        return int(np.prod(shape))
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _sum_forward(x, axis=None, keepdims=False):
    # axis=None (a loss) is the common case: skip normalising it; the VJP just broadcasts back.
    axes = None if axis is None else _norm_axis(axis, x.ndim)
    return x.sum(axis=axes, keepdims=keepdims), (x.shape, axes, keepdims)


def _sum_vjp(g, ctx, needs):
    shape, axes, keepdims = ctx
    return (np.broadcast_to(_keep(g, axes, keepdims), shape),)


register(
    "sum",
    _sum_forward,
    _sum_vjp,
    lambda ts, ctx: np.sum(ts[0], axis=ctx[1], keepdims=ctx[2]),
    doc="sum over axis; the gradient is the upstream value copied to every summand.",
    vjp_graph=lambda g, ctx, needs, xs, out: (_keep_graph(g, *ctx).broadcast_to(ctx[0]),),
)


def _mean_forward(x, axis=None, keepdims=False):
    axes = None if axis is None else _norm_axis(axis, x.ndim)
    return x.mean(axis=axes, keepdims=keepdims), (x.shape, axes, keepdims)


def _mean_vjp(g, ctx, needs):
    shape, axes, keepdims = ctx
    n = _count(shape, axes)
    return (np.broadcast_to(_keep(g, axes, keepdims) / n, shape),)


register(
    "mean",
    _mean_forward,
    _mean_vjp,
    lambda ts, ctx: np.mean(ts[0], axis=ctx[1], keepdims=ctx[2]),
    doc="mean over axis; each entry gets the upstream value divided by the count.",
    vjp_graph=lambda g, ctx, needs, xs, out: (
        (_keep_graph(g, *ctx) / _count(ctx[0], ctx[1])).broadcast_to(ctx[0]),
    ),
)


def _extreme(name, ufunc):
    def forward(x, axis=None, keepdims=False):
        axes = _norm_axis(axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{name}: cannot reduce an empty array of shape {x.shape}")
        full = reduce_axes(ufunc, x, axes)
        hit = x == full
        # Ties share the gradient evenly: the mean of the subgradients.
        weight = hit / np.sum(hit, axis=axes, keepdims=True)
        out = full if keepdims else np.squeeze(full, axis=axes)
        return out, (weight.astype(x.dtype, copy=False), axes, keepdims)

    def vjp(g, ctx, needs):
        weight, axes, keepdims = ctx
        return (_keep(g, axes, keepdims) * weight,)

    def jvp(ts, ctx):
        weight, axes, keepdims = ctx
        return np.sum(ts[0] * weight, axis=axes, keepdims=keepdims)

    def vjp_graph(g, ctx, needs, xs, out):
        weight, axes, keepdims = ctx
        return (_keep_graph(g, weight.shape, axes, keepdims) * weight,)

    register(
        name,
        forward,
        vjp,
        jvp,
        doc=f"{name} over axis: a gradient router sending the upstream value to the "
        f"arg-{name}; tied entries split it evenly.",
        vjp_graph=vjp_graph,
    )


_extreme("max", np.maximum)
_extreme("min", np.minimum)

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


def _extreme(name, f):
    def forward(x, axis=None, keepdims=False):
        axes = _norm_axis(axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{name}: cannot reduce an empty array of shape {x.shape}")
        full = f(x, axis=axes, keepdims=True)
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


_extreme("max", np.max)
_extreme("min", np.min)

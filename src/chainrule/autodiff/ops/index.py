"""Index primitives: take_along_axis (PyTorch's gather) and scatter (assign or add).

Both VJPs are each other: gathering scatters the gradient back (adding where an
entry was picked twice), scattering gathers it.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> REGISTRY["take_along_axis"].forward(np.array([[1.0, 2.0]]), indices=np.array([[1, 1, 0]]), axis=1)[0]
    array([[2., 2., 1.]])
"""

from __future__ import annotations

import numpy as np

from . import call, register, tangents_or_zeros


def _check_index(name, indices, ndim, axis):
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {indices.dtype}")
    if indices.ndim != ndim:
        raise ValueError(f"{name}: indices have {indices.ndim} dimensions, expected {ndim} like the input")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{name}: axis {axis} is out of range for an array of {ndim} dimensions")
    return indices, axis % max(ndim, 1)


def coordinates(indices, axis):
    """Full fancy-index coordinates: ``indices`` along ``axis``, the position itself elsewhere."""
    grids = np.indices(indices.shape, sparse=True)
    return tuple(indices if d == axis else grids[d] for d in range(indices.ndim))


def _take_forward(x, indices, axis):
    indices, ax = _check_index("take_along_axis", indices, x.ndim, axis)
    n = x.shape[ax]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        raise ValueError(f"take_along_axis: an index is out of range for axis {ax} of size {n}")
    out = np.take_along_axis(x, indices, axis=ax)
    shape = list(np.broadcast_shapes(x.shape[:ax] + (1,) + x.shape[ax + 1:], indices.shape[:ax] + (1,) + indices.shape[ax + 1:]))
    shape[ax] = n
    full = np.broadcast_to(indices % max(n, 1), shape[:ax] + [indices.shape[ax]] + shape[ax + 1:])
    return out, (tuple(shape), coordinates(full, ax), ax)


def _take_vjp(g, ctx, needs):
    shape, coords, ax = ctx
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, coords, np.broadcast_to(g, coords[ax].shape))
    return (out,)


def _take_vjp_graph(g, ctx, needs, xs, out):
    shape, coords, ax = ctx
    return (call("getitem_scatter", g.broadcast_to(coords[ax].shape), index=coords, shape=shape),)


register(
    "take_along_axis",
    _take_forward,
    _take_vjp,
    lambda ts, ctx: np.broadcast_to(ts[0], ctx[0])[ctx[1]],
    doc="pick entries along axis by integer indices (NumPy's take_along_axis, PyTorch's gather); "
    "the gradient is scattered back and accumulates over repeated indices.",
    vjp_graph=_take_vjp_graph,
)


def _scatter_forward(x, src, indices, axis, reduce="none"):
    indices, ax = _check_index("scatter", indices, x.ndim, axis)
    for d, (n, m, k) in enumerate(zip(x.shape, src.shape, indices.shape)):
        if k > m or (d != ax and k > n):
            raise ValueError(f"scatter: index shape {indices.shape} must fit in src {src.shape} and, "
                             f"except along axis {ax}, in the input {x.shape}")
    n = x.shape[ax]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        raise ValueError(f"scatter: an index is out of range for axis {ax} of size {n}")
    coords = coordinates(indices % max(n, 1), ax)
    part = tuple(slice(0, k) for k in indices.shape)
    out = x.copy()
    if reduce == "add":
        np.add.at(out, coords, src[part])
    else:
        out[coords] = src[part]
    return out.astype(np.result_type(x, src), copy=False), (coords, part, src.shape, reduce, x.shape)


def _scatter_vjp(g, ctx, needs):
    coords, part, src_shape, reduce, _ = ctx
    gx = gs = None
    if needs[0]:
        gx = g
        if reduce != "add":
            gx = g.copy()
            gx[coords] = 0
    if needs[1]:
        gs = np.zeros(src_shape, dtype=g.dtype)
        gs[part] = g[coords]
    return gx, gs


def _scatter_vjp_graph(g, ctx, needs, xs, out):
    coords, part, src_shape, reduce, _ = ctx
    gx = gs = None
    if needs[0]:
        gx = g
        if reduce != "add":
            kept = np.ones(g.shape, dtype=bool)
            kept[coords] = False
            gx = call("where", g, 0.0, cond=kept)
    if needs[1]:
        gs = call("getitem_scatter", call("getitem", g, index=coords), index=part, shape=src_shape)
    return gx, gs


def _scatter_jvp(ts, ctx):
    coords, part, src_shape, reduce, x_shape = ctx
    # Placed, not summed: a constant's tangent is an exact zero here (the written entries of a constant src).
    tx, ts_ = tangents_or_zeros(ts, (x_shape, src_shape))
    out = np.array(tx, dtype=np.result_type(tx, ts_), copy=True)
    if reduce == "add":
        np.add.at(out, coords, ts_[part])
    else:
        out[coords] = ts_[part]
    return out


register(
    "scatter",
    _scatter_forward,
    _scatter_vjp,
    _scatter_jvp,
    doc="copy of x with src written (reduce='none') or added (reduce='add') at the indexed positions "
    "along axis (PyTorch's scatter / scatter_add); with repeated indices and reduce='none' the "
    "written value, like its gradient, is one of the competing src entries.",
    vjp_graph=_scatter_vjp_graph,
)

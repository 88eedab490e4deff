"""Shape primitives: reshape, transpose, broadcast_to, indexing, concatenate, stack."""

from __future__ import annotations

import numpy as np

from . import call, register, tangents_or_zeros

def _reshape_forward(x, shape):
    out = np.reshape(x, shape)
    return out, (x.shape, out.shape)


register(
    "reshape",
    _reshape_forward,
    lambda g, ctx, needs: (np.reshape(g, ctx[0]),),
    lambda ts, ctx: np.reshape(ts[0], ctx[1]),
    doc="change the shape, keeping the values in order; the gradient is reshaped back.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g.reshape(ctx[0]),),
)


def _transpose_forward(x, axes=None):
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(int(a) % max(x.ndim, 1) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return np.transpose(x, axes), axes


register(
    "transpose",
    _transpose_forward,
    lambda g, axes, needs: (np.transpose(g, np.argsort(axes)),),
    lambda ts, axes: np.transpose(ts[0], axes),
    doc="permute axes; the gradient is permuted back by the inverse permutation.",
    vjp_graph=lambda g, axes, needs, xs, out: (g.transpose(tuple(int(a) for a in np.argsort(axes))),),
)

register(
    "broadcast_to",
    lambda x, shape: (np.broadcast_to(x, shape), tuple(shape)),
    # The engine sums broadcast gradients back to the input shape.
    lambda g, shape, needs: (g,),
    lambda ts, shape: np.broadcast_to(ts[0], shape),
    doc="expand size-1 axes; backward is the engine's central unbroadcast.",
    vjp_graph=lambda g, shape, needs, xs, out: (g,),
)


def _is_basic(index):
    """True when ``index`` selects without repetition (ints, slices, None, ...)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items
    )


def _getitem_forward(x, index):
    return x[index], (x.shape, x.dtype, index, _is_basic(index))


def _getitem_vjp(g, ctx, needs):
    shape, dtype, index, basic = ctx
    out = np.zeros(shape, dtype=g.dtype)
    if basic:
        out[index] = g
    else:
        # Integer arrays may repeat an element: add.at accumulates every hit.
        np.add.at(out, index, g)
    return (out,)


register(
    "getitem",
    _getitem_forward,
    _getitem_vjp,
    lambda ts, ctx: ts[0][ctx[2]],
    doc="x[index] for basic, integer-array and boolean indices; the gradient "
    "scatters back and accumulates where an element is picked more than once.",
    vjp_graph=lambda g, ctx, needs, xs, out: (call("getitem_scatter", g, index=ctx[2], shape=ctx[0]),),
)


def _scatter(g, index, shape):
    return _getitem_vjp(g, (tuple(shape), g.dtype, index, _is_basic(index)), (True,))[0]


def _scatter_forward(g, index, shape):
    return _scatter(g, index, shape), (index, tuple(shape))


register(
    "getitem_scatter",
    _scatter_forward,
    lambda g, ctx, needs: (g[ctx[0]],),
    lambda ts, ctx: _scatter(ts[0], *ctx),
    doc="the transpose of getitem: zeros of ``shape`` with g added at ``index``; "
    "what getitem's gradient is, as an op of its own so that it can be differentiated again.",
    vjp_graph=lambda g, ctx, needs, xs, out: (call("getitem", g, index=ctx[0]),),
)


def _concat_forward(*xs, axis=0):
    out = np.concatenate(xs, axis=axis)
    ax = axis % out.ndim
    sizes = [x.shape[ax] for x in xs]
    return out, (ax, np.cumsum(sizes)[:-1], [x.shape for x in xs])


register(
    "concatenate",
    _concat_forward,
    lambda g, ctx, needs: tuple(np.split(g, ctx[1], axis=ctx[0])),
    lambda ts, ctx: np.concatenate(tangents_or_zeros(ts, ctx[2]), axis=ctx[0]),
    doc="join tensors along an existing axis; the gradient is split at the same offsets.",
    vjp_graph=lambda g, ctx, needs, xs, out: tuple(
        call("getitem", g, index=(slice(None),) * ctx[0] + (slice(lo, hi),)) if need else None
        for need, lo, hi in zip(needs, [0, *ctx[1]], [*ctx[1], None])
    ),
)


def _stack_forward(*xs, axis=0):
    out = np.stack(xs, axis=axis)
    return out, axis % out.ndim


def _stack_jvp(ts, ax):
    shape = next(np.shape(t) for t in ts if t is not None)  # stacked inputs share one shape
    return np.stack(tangents_or_zeros(ts, [shape] * len(ts)), axis=ax)


register(
    "stack",
    _stack_forward,
    lambda g, ax, needs: tuple(np.moveaxis(g, ax, 0)),
    _stack_jvp,
    doc="join tensors along a new axis; each input gets its slice of the gradient.",
    vjp_graph=lambda g, ax, needs, xs, out: tuple(
        call("getitem", g, index=(slice(None),) * ax + (k,)) if need else None for k, need in enumerate(needs)
    ),
)


def _cast_forward(x, dtype):
    return x.astype(dtype), (x.dtype, np.dtype(dtype))


register(
    "cast",
    _cast_forward,
    lambda g, ctx, needs: (g.astype(ctx[0]),),
    lambda ts, ctx: ts[0].astype(ctx[1]),
    doc="change dtype (e.g. float32 <-> float64); the gradient is cast back.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g.astype(ctx[0]),),
)

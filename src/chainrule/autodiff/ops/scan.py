"""Products and scans: prod, cumsum, cumprod, logcumsumexp.

These are primitives because their compositions fail where users look: the
gradient of ``prod`` as ``out / x`` divides by zero, ``exp(cumsum(log x))``
needs x > 0, and ``log(cumsum(exp x))`` overflows. Every rule here is exact at
zeros (``prod`` and ``cumprod`` use products of the other entries).

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> REGISTRY["cumprod"].forward(np.array([2.0, 0.0, 3.0]), axis=0)[0]
    array([2., 0., 0.])
"""

from __future__ import annotations

import numpy as np

from . import call, register
from .reduce import _keep, _keep_graph, _norm_axis


def _axis1(axis, ndim, name):
    if ndim == 0:
        return 0
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


def _others_product(x):
    """prod of all entries but one, along the last axis, exact when some entries are 0."""
    if x.shape[-1] == 0:
        return x.copy()  # no entries, no others (the shifted concatenation below would add one)
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


def _to_last(v, axes):
    """v (a Tensor or Dual) with ``axes`` moved last and flattened into one: (moved, its shape, inverse)."""
    perm = [d for d in range(v.ndim) if d not in axes] + list(axes)
    moved = v._op("transpose", axes=tuple(perm))
    n = int(np.prod([v.shape[a] for a in axes]))
    return moved.reshape(moved.shape[: v.ndim - len(axes)] + (n,)), moved.shape, tuple(np.argsort(perm))


def _except_diagonal(flat):
    """(..., n) -> (..., n, n): row i is ``flat`` with entry i replaced by 1 (a differentiable where)."""
    n = flat.shape[-1]
    return call("where", flat.reshape(flat.shape[:-1] + (1, n)), 1.0, cond=~np.eye(n, dtype=bool))


def _prod_vjp_graph(g, ctx, needs, xs, out):
    # The product of the other entries as a product over rows with the diagonal set to 1: exact at
    # zeros like the fast rule, O(n^2) in memory, and only built under create_graph.
    x, (_, axes, keepdims) = xs[0], ctx
    if not axes:
        return (g,)
    flat, moved_shape, inverse = _to_last(x, axes)
    others = _except_diagonal(flat)._op("prod", axis=-1, keepdims=False)
    others = others.reshape(moved_shape)._op("transpose", axes=inverse)
    return (_keep_graph(g, x.shape, axes, keepdims) * others,)


def _prod_forward(x, axis=None, keepdims=False):
    axes = _norm_axis(axis, x.ndim)
    moved = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim)) if axes else x[..., None]
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    flat = moved.reshape(moved.shape[: moved.ndim - max(len(axes), 1)] + (n,))
    others = _others_product(flat).reshape(moved.shape)
    others = np.moveaxis(others, range(x.ndim - len(axes), x.ndim), axes) if axes else others[..., 0]
    return np.prod(x, axis=axes, keepdims=keepdims), (others, axes, keepdims)


register(
    "prod",
    _prod_forward,
    lambda g, ctx, needs: (_keep(g, ctx[1], ctx[2]) * ctx[0],),
    lambda ts, ctx: np.sum(ts[0] * ctx[0], axis=ctx[1], keepdims=ctx[2]),
    doc="product over axis; d/dx_i is the product of the other entries (exact at zeros).",
    vjp_graph=_prod_vjp_graph,
)


def _rev_cumsum(a, axis):
    if np.ndim(a) == 0:
        return a  # a 0-d scan is the identity (np.flip has no axis 0 there)
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


def _cumsum_forward(x, axis):
    ax = _axis1(axis, x.ndim, "cumsum")
    return np.cumsum(x, axis=ax).reshape(x.shape), ax


def _flip_graph(v, ax):
    return call("getitem", v, index=(slice(None),) * ax + (slice(None, None, -1),))


def _cumsum_vjp_graph(g, ax, needs, xs, out):
    if g.ndim == 0:
        return (g,)
    return (_flip_graph(_flip_graph(g, ax)._op("cumsum", axis=ax), ax),)


register(
    "cumsum",
    _cumsum_forward,
    lambda g, ax, needs: (_rev_cumsum(g, ax).reshape(np.shape(g)),),
    lambda ts, ax: np.cumsum(ts[0], axis=ax).reshape(np.shape(ts[0])),
    doc="running sum along axis; the gradient is the reversed running sum of the upstream.",
    vjp_graph=_cumsum_vjp_graph,
)


def _cumprod_forward(x, axis):
    ax = _axis1(axis, x.ndim, "cumprod")
    out = np.cumprod(x, axis=ax).reshape(x.shape)
    return out, (x, out, ax)


def _cumprod_vjp(g, ctx, needs):
    x, out, ax = ctx
    if x.ndim == 0 or x.size == 0:
        return (np.broadcast_to(g, x.shape) * 1.0,)
    if np.all(x != 0):  # the fast exact form: d out_j / d x_i = out_j / x_i for j >= i
        return (_rev_cumsum(g * out, ax) / x,)
    # With zeros: grad_i = (prod_{k<i} x_k) * R_i, R_i = g_i + x_{i+1} R_{i+1}, run backwards.
    xm, gm, om = (np.moveaxis(np.broadcast_to(a, x.shape), ax, 0) for a in (x, g, out))
    left = np.concatenate([np.ones_like(xm[:1]), om[:-1]])
    r = np.zeros_like(gm)
    r[-1] = gm[-1]
    for i in range(len(xm) - 2, -1, -1):
        r[i] = gm[i] + xm[i + 1] * r[i + 1]
    return (np.moveaxis(left * r, 0, ax),)


def _cumprod_jvp(ts, ctx):
    x, out, ax = ctx
    if x.ndim == 0 or x.size == 0:
        return ts[0] * np.ones_like(out)
    tm = np.moveaxis(np.broadcast_to(ts[0], x.shape), ax, 0)
    xm, om = np.moveaxis(x, ax, 0), np.moveaxis(out, ax, 0)
    d = np.empty(tm.shape, dtype=np.result_type(tm, xm))
    d[0] = tm[0]
    for j in range(1, len(xm)):  # out_j = out_{j-1} x_j, so d out_j = d out_{j-1} x_j + out_{j-1} t_j
        d[j] = d[j - 1] * xm[j] + om[j - 1] * tm[j]
    return np.moveaxis(d, 0, ax)


def _upper(n):
    """[i, j] is True where j >= i: output j depends on input i."""
    return np.triu(np.ones((n, n), dtype=bool))


def _cumprod_vjp_graph(g, ctx, needs, xs, out):
    # grad_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k: running products of rows with the
    # diagonal set to 1, exact at zeros; O(n^2) memory, only under create_graph.
    x, ax = xs[0], ctx[2]
    if x.ndim == 0:
        return (g,)
    flat, moved_shape, inverse = _to_last(x, (ax,))
    gm, _, _ = _to_last(g, (ax,))
    n = flat.shape[-1]
    terms = _except_diagonal(flat)._op("cumprod", axis=-1) * gm.reshape(gm.shape[:-1] + (1, n))
    grad = call("where", terms, 0.0, cond=_upper(n)).sum(axis=-1)
    return (grad.reshape(moved_shape)._op("transpose", axes=inverse),)


register(
    "cumprod",
    _cumprod_forward,
    _cumprod_vjp,
    _cumprod_jvp,
    doc="running product along axis; exact gradients at zeros (a backward recurrence).",
    vjp_graph=_cumprod_vjp_graph,
)


def _lcse_weights(x, out, ax):
    """exp(x_j - out_j) and exp(out_{j-1} - out_j) along axis 0 (moved), both in [0, 1]; 0 at -inf."""
    xm, om = np.moveaxis(x, ax, 0), np.moveaxis(out, ax, 0)
    with np.errstate(invalid="ignore"):
        own = np.where(xm == -np.inf, 0.0, np.exp(xm - om))
        decay = np.where(om[:-1] == -np.inf, 0.0, np.exp(om[:-1] - om[1:]))
    return own.astype(x.dtype, copy=False), decay.astype(x.dtype, copy=False)


def _logcumsumexp_forward(x, axis):
    ax = _axis1(axis, x.ndim, "logcumsumexp")
    out = np.logaddexp.accumulate(x.reshape(x.shape or (1,)), axis=ax).reshape(x.shape)
    return out, (x.reshape(x.shape or (1,)), out.reshape(x.shape or (1,)), ax, x.shape)


def _logcumsumexp_vjp(g, ctx, needs):
    # grad_i = exp(x_i - out_i) U_i with U_i = g_i + exp(out_i - out_{i+1}) U_{i+1}: every exponent <= 0.
    x, out, ax, shape = ctx
    own, decay = _lcse_weights(x, out, ax)
    u = np.moveaxis(np.broadcast_to(g, shape).reshape(x.shape), ax, 0).copy()
    for i in range(len(u) - 2, -1, -1):
        u[i] += decay[i] * u[i + 1]
    return (np.moveaxis(own * u, 0, ax).reshape(shape),)


def _logcumsumexp_jvp(ts, ctx):
    # d out_j = exp(out_{j-1} - out_j) d out_{j-1} + exp(x_j - out_j) t_j.
    x, out, ax, shape = ctx
    own, decay = _lcse_weights(x, out, ax)
    d = own * np.moveaxis(np.broadcast_to(ts[0], shape).reshape(x.shape), ax, 0)
    for j in range(1, len(d)):
        d[j] += decay[j - 1] * d[j - 1]
    return np.moveaxis(d, 0, ax).reshape(shape)


def _logcumsumexp_vjp_graph(g, ctx, needs, xs, out):
    # grad_i = sum_{j >= i} g_j exp(x_i - out_j), every exponent <= 0; x_i = -inf contributes 0.
    xv, _, ax, shape = ctx
    x, o = xs[0].reshape(xv.shape), out.reshape(xv.shape)
    xm, moved_shape, inverse = _to_last(x, (ax,))
    om, _, _ = _to_last(o, (ax,))
    gm, _, _ = _to_last(g.reshape(xv.shape), (ax,))
    n, rows = xm.shape[-1], xm.shape[:-1]
    keep = _upper(n) & (np.moveaxis(xv, ax, -1) != -np.inf)[..., :, None]
    exponent = xm.reshape(rows + (n, 1)) - om.reshape(rows + (1, n))
    weights = call("where", exponent, -np.inf, cond=keep).exp()
    grad = (weights * gm.reshape(rows + (1, n))).sum(axis=-1)
    return (grad.reshape(moved_shape)._op("transpose", axes=inverse).reshape(shape),)


register(
    "logcumsumexp",
    _logcumsumexp_forward,
    _logcumsumexp_vjp,
    _logcumsumexp_jvp,
    doc="running log(sum(exp(x))) along axis, without overflow; the gradient is a running softmax.",
    vjp_graph=_logcumsumexp_vjp_graph,
)

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

from . import register
from .reduce import _keep, _norm_axis


def _axis1(axis, ndim, name):
    if ndim == 0:
        return 0
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


def _others_product(x):
    """prod of all entries but one, along the last axis, exact when some entries are 0."""
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


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
)


def _rev_cumsum(a, axis):
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


def _cumsum_forward(x, axis):
    ax = _axis1(axis, x.ndim, "cumsum")
    return np.cumsum(x, axis=ax).reshape(x.shape), ax


register(
    "cumsum",
    _cumsum_forward,
    lambda g, ax, needs: (_rev_cumsum(g, ax).reshape(np.shape(g)),),
    lambda ts, ax: np.cumsum(ts[0], axis=ax).reshape(np.shape(ts[0])),
    doc="running sum along axis; the gradient is the reversed running sum of the upstream.",
)


def _cumprod_forward(x, axis):
    ax = _axis1(axis, x.ndim, "cumprod")
    out = np.cumprod(x, axis=ax).reshape(x.shape)
    return out, (x, out, ax)


def _cumprod_vjp(g, ctx, needs):
    x, out, ax = ctx
    if x.ndim == 0:
        return (g,)
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
    if x.ndim == 0:
        return ts[0] * np.ones_like(out)
    tm = np.moveaxis(np.broadcast_to(ts[0], x.shape), ax, 0)
    xm, om = np.moveaxis(x, ax, 0), np.moveaxis(out, ax, 0)
    d = np.empty(tm.shape, dtype=np.result_type(tm, xm))
    d[0] = tm[0]
    for j in range(1, len(xm)):  # out_j = out_{j-1} x_j, so d out_j = d out_{j-1} x_j + out_{j-1} t_j
        d[j] = d[j - 1] * xm[j] + om[j - 1] * tm[j]
    return np.moveaxis(d, 0, ax)


register(
    "cumprod",
    _cumprod_forward,
    _cumprod_vjp,
    _cumprod_jvp,
    doc="running product along axis; exact gradients at zeros (a backward recurrence).",
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


register(
    "logcumsumexp",
    _logcumsumexp_forward,
    _logcumsumexp_vjp,
    _logcumsumexp_jvp,
    doc="running log(sum(exp(x))) along axis, without overflow; the gradient is a running softmax.",
)

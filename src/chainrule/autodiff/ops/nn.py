"""Linear algebra and the numerically delicate network primitives.

``linear`` and ``softmax_cross_entropy`` are fused: one graph node each instead
of three or four, and the fused cross-entropy never forms log(softmax).
"""

from __future__ import annotations

import numpy as np

from . import call, mm, register, sum_to, tangent_sum
from .reduce import _keep_graph, _norm_axis, reduce_axes, reduce_last


def _check_matmul(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape}: both operands need at least 1 dimension")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")


def _matmul_forward(a, b):
    _check_matmul(a, b)
    return np.matmul(a, b), (a, b)


def _matmul_vjp(g, ctx, needs):
    a, b = ctx
    ga = gb = None
    if needs[0]:
        if b.ndim == 1:
            ga = np.multiply.outer(g, b) if a.ndim > 1 else g * b
        elif a.ndim == 1:
            ga = np.matmul(g[..., None, :], np.swapaxes(b, -1, -2))[..., 0, :]
        else:
            ga = np.matmul(g, np.swapaxes(b, -1, -2))
    if needs[1]:
        if a.ndim == 1:
            gb = np.multiply.outer(a, g) if b.ndim > 1 else g * a
            if b.ndim > 2:
                gb = np.moveaxis(gb, 0, -2)
        elif b.ndim == 1:
            gb = np.matmul(np.swapaxes(a, -1, -2), g[..., None])[..., 0]
        else:
            gb = np.matmul(np.swapaxes(a, -1, -2), g)
    return ga, gb


def _swap_last(v):
    n = len(v.shape)
    return v.transpose((*range(n - 2), n - 1, n - 2))


def _matmul_vjp_graph(g, ctx, needs, xs, out):
    # 1-D operands become a row (a) or a column (b), so that one batched rule covers all cases.
    (a, b), (av, bv) = xs, ctx
    a2 = a if av.ndim > 1 else a.reshape(1, -1)
    b2 = b if bv.ndim > 1 else b.reshape(-1, 1)
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = g.reshape((*batch, a2.shape[-2], b2.shape[-1]))
    ga = sum_to(g2 @ _swap_last(b2), a2.shape).reshape(av.shape) if needs[0] else None
    gb = sum_to(_swap_last(a2) @ g2, b2.shape).reshape(bv.shape) if needs[1] else None
    return ga, gb


register(
    "matmul",
    _matmul_forward,
    _matmul_vjp,
    lambda ts, ctx: tangent_sum(ts, lambda t: np.matmul(t, ctx[1]), lambda t: np.matmul(ctx[0], t)),
    doc="a @ b for 1-D, 2-D and batched operands (NumPy's matmul rules).",
    vjp_graph=_matmul_vjp_graph,
)


def _linear_forward(x, w, b=None):
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {w.shape} "
            f"(expected (..., {w.shape[-1] if w.ndim else '?'}))"
        )
    out = mm(x, w.T)
    if b is not None:
        out += b
    return out, (x, w)


def _linear_vjp(g, ctx, needs):
    x, w = ctx
    gx = mm(g, w) if needs[0] else None
    gw = gb = None
    if g.ndim != 2:  # fold leading batch axes so the weight gradient is one product
        g = g.reshape(-1, g.shape[-1])
        x = x.reshape(-1, x.shape[-1])
    if needs[1]:
        gw = mm(g.T, x)
    if len(needs) > 2 and needs[2]:
        gb = np.add.reduce(g, axis=0)
    return gx, gw, gb


def _linear_jvp(ts, ctx):
    x, w = ctx
    return tangent_sum(ts, lambda t: t @ w.T, lambda t: x @ t.T, lambda t: t)


def _linear_vjp_graph(g, ctx, needs, xs, out):
    x, w = xs[0], xs[1]
    g2 = g.reshape(-1, g.shape[-1])
    return (
        g @ w if needs[0] else None,
        g2.T @ x.reshape(-1, x.shape[-1]) if needs[1] else None,
        g2.sum(axis=0) if len(needs) > 2 and needs[2] else None,
    )


register(
    "linear",
    _linear_forward,
    _linear_vjp,
    _linear_jvp,
    vjp_graph=_linear_vjp_graph,
    doc="x @ w.T + b with w of shape (out_features, in_features): a fused dense layer.",
)


def _shifted_exp(x, axes):
    """exp(x - m) and the shift m, the max per slice (0 where the max is +-inf or nan)."""
    m = reduce_axes(np.maximum, x, axes)
    if not np.isfinite(m).all():
        # An all -inf slice would give -inf - -inf = nan, a +inf one inf - inf = nan.
        m = np.where(np.isfinite(m), m, 0)
    return np.exp(x - m), m


def _lse_forward(x, axis=None, keepdims=False):
    axes = _norm_axis(axis, x.ndim)
    e, m = _shifted_exp(x, axes)
    s = reduce_axes(np.add, e, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        full = np.log(s) + m
        # Softmax weights from the shifted exponentials: exact even where 1e30 + log 2 rounds
        # to 1e30; an all -inf slice (s == 0) gets weight 0 instead of nan.
        p = e / np.where(s == 0, 1, s)
    out = full if keepdims else np.squeeze(full, axis=axes)
    return out, (p, axes, keepdims, m)


def _lse_vjp(g, ctx, needs):
    p, axes, keepdims, _ = ctx
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    return (g * p,)


def _lse_vjp_graph(g, ctx, needs, xs, out):
    p, axes, keepdims, m = ctx
    e = (xs[0] - m).exp()  # m is a constant shift: softmax does not depend on it
    s = e.sum(axis=axes, keepdims=True)
    empty = np.asarray(s.data) == 0
    if empty.any():
        s = call("where", 1.0, s, cond=empty)
    return (_keep_graph(g, p.shape, axes, keepdims) * (e / s),)


register(
    "logsumexp",
    _lse_forward,
    _lse_vjp,
    lambda ts, ctx: np.sum(ts[0] * ctx[0], axis=ctx[1], keepdims=ctx[2]),
    vjp_graph=_lse_vjp_graph,
    doc="log(sum(exp(x))) with the max subtracted first; finite for |x| ~ 1e4, "
    "and an all -inf slice gives -inf with a zero (not NaN) gradient.",
)


def _softmax_forward(x, axis=-1):
    e = np.exp(x - reduce_axes(np.maximum, x, axis))
    out = e / reduce_axes(np.add, e, axis)
    return out, (out, axis)


register(
    "softmax",
    _softmax_forward,
    lambda g, ctx, needs: (ctx[0] * (g - reduce_axes(np.add, g * ctx[0], ctx[1])),),
    lambda ts, ctx: ctx[0] * (ts[0] - np.sum(ts[0] * ctx[0], axis=ctx[1], keepdims=True)),
    doc="exp(x) / sum(exp(x)) along axis, shifted by the max for stability.",
    vjp_graph=lambda g, ctx, needs, xs, out: (out * (g - (g * out).sum(axis=ctx[1], keepdims=True)),),
)


def _log_softmax_forward(x, axis=-1):
    # (x - m) - log(sum(exp(x - m))), not x - logsumexp(x): 1e30 + log 2 rounds to 1e30.
    e, m = _shifted_exp(x, axis)
    with np.errstate(divide="ignore"):
        out = (x - m) - np.log(reduce_axes(np.add, e, axis))
    return out, (np.exp(out), axis)


register(
    "log_softmax",
    _log_softmax_forward,
    lambda g, ctx, needs: (g - ctx[0] * reduce_axes(np.add, g, ctx[1]),),
    lambda ts, ctx: ts[0] - np.sum(ctx[0] * ts[0], axis=ctx[1], keepdims=True),
    doc="x - logsumexp(x) along axis; never forms log(softmax(x)).",
    vjp_graph=lambda g, ctx, needs, xs, out: (g - out.exp() * g.sum(axis=ctx[1], keepdims=True),),
)


def _label_error(logits, labels):
    """The one-sentence error for labels that do not index the classes."""
    if logits.ndim != 2:
        return ValueError(f"softmax_cross_entropy: logits must have shape (n, classes), got {logits.shape}")
    if labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu":
        return ValueError(
            f"softmax_cross_entropy: labels must be integers of shape {logits.shape[:1]}, "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    bad = labels[(labels < 0) | (labels >= logits.shape[1])]
    if bad.size:
        return ValueError(
            f"softmax_cross_entropy: label {bad[0]} is out of range for {logits.shape[1]} classes "
            f"(expected 0..{logits.shape[1] - 1})"
        )
    return None


def _sce_forward(logits, labels, reduction="mean"):
    # Only the cheap checks run on the hot path; a label >= classes fails the
    # indexing below and is explained then.
    if logits.ndim != 2 or labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu" or (
        labels.size and np.minimum.reduce(labels) < 0  # the ufunc method: .min() adds ~1.5 us of wrappers
    ):
        raise _label_error(logits, labels)
    n = logits.shape[0]
    z = logits - reduce_last(np.maximum, logits)
    e = np.exp(z)
    s = np.add.reduce(e, axis=1, keepdims=True)  # (sums over a short axis are not slow: no reduce_last)
    rows = np.arange(n)
    try:
        picked = np.log(s[:, 0]) - z[rows, labels]
    except IndexError:
        raise _label_error(logits, labels) from None
    e /= s  # now the softmax probabilities, kept for the gradient
    if reduction == "mean":
        out = np.add.reduce(picked) / n
    elif reduction == "sum":
        out = np.add.reduce(picked)
    else:
        out = picked
    return np.asarray(out, dtype=logits.dtype), (e, rows, labels, reduction)


def _sce_vjp(g, ctx, needs):
    p, rows, labels, reduction = ctx
    d = p.copy()
    d[rows, labels] -= 1
    if reduction == "mean":  # a Python float scales in d's dtype and costs less than a 0-d array
        d *= float(g) / p.shape[0] if g.ndim == 0 else g / p.shape[0]
    elif reduction == "sum":
        d *= g
    else:
        d *= g[:, None]
    return (d,)


def _sce_jvp(ts, ctx):
    p, rows, labels, reduction = ctx
    t = ts[0]
    per = np.sum(p * t, axis=-1) - t[rows, labels]
    if reduction == "mean":
        return per.mean()
    return per.sum() if reduction == "sum" else per


def _sce_vjp_graph(g, ctx, needs, xs, out):
    p, rows, labels, reduction = ctx
    one_hot = np.zeros_like(p)
    one_hot[rows, labels] = 1
    d = call("softmax", xs[0], axis=1) - one_hot
    if reduction == "mean":
        return (d * (g / p.shape[0]),)
    return (d * (g if reduction == "sum" else g.reshape(-1, 1)),)


register(
    "softmax_cross_entropy",
    _sce_forward,
    _sce_vjp,
    _sce_jvp,
    vjp_graph=_sce_vjp_graph,
    doc="cross-entropy of integer labels under softmax(logits), fused: gradient "
    "(softmax - one_hot) / n, stable for logits of magnitude 1e4.",
)

"""Linear-algebra primitives: einsum, inv, solve, det, slogdet (batched over leading axes).

``einsum``'s VJP for each operand is another einsum (the output's gradient
contracted with the other operands); ``det``'s uses the adjugate from an SVD,
so it stays exact for singular matrices where ``det * inv(A).T`` would fail.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> REGISTRY["einsum"].forward(np.ones((2, 3)), np.ones(3), subscripts="ij,j->i")[0]
    array([3., 3.])
"""

from __future__ import annotations

import string

import numpy as np

from . import call, register, tangent_sum
from .scan import _others_product

_LETTERS = string.ascii_letters


def parse_einsum(subscripts, shapes):
    """Explicit subscripts without ellipses: ``(["ij", "j"], "i")``, ellipses spelled out as letters."""
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(ins)} operands, got {len(shapes)}")
    used = set(spec) - set(".,->")
    free = [c for c in _LETTERS if c not in used]
    ell = max((len(s) - (len(term) - 3) for term, s in zip(ins, shapes) if "..." in term), default=0)
    letters = "".join(free[:ell])
    named = []
    for term, shape in zip(ins, shapes):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            term = term.replace("...", letters[ell - n:] if n else "")
        if len(term) != len(shape):
            raise ValueError(f"einsum: operand of shape {shape} does not match subscripts {term!r}")
        named.append(term)
    if arrow:
        out = out.replace("...", letters)
    else:
        counts = "".join(named)
        out = letters + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in letters))
    return named, out


def _einsum_forward(*operands, subscripts):
    ins, out = parse_einsum(subscripts, [o.shape for o in operands])
    spec = ",".join(ins) + "->" + out
    return np.einsum(spec, *operands), (operands, ins, out, spec)


def _grad_for(k, g, operands, ins, out):
    """The gradient of operand k: g contracted with the others, placed on repeated letters' diagonals.

    Written with :func:`call`, so the same code is the fast VJP on arrays and the graph VJP on Tensors.
    """
    term, shape = ins[k], operands[k].shape
    unique = "".join(dict.fromkeys(term))
    present = set(out).union(*(ins[j] for j in range(len(ins)) if j != k))
    target = "".join(c for c in unique if c in present)
    others = [operands[j] for j in range(len(operands)) if j != k]
    spec = ",".join([out] + [ins[j] for j in range(len(ins)) if j != k]) + "->" + target
    part = call("einsum", g, *others, subscripts=spec)
    # Letters summed only inside this operand: every entry gets the same gradient.
    full_shape = tuple(part.shape[target.index(c)] if c in target else shape[term.index(c)] for c in unique)
    kept = tuple(part.shape[target.index(c)] if c in target else 1 for c in unique)
    part = call("broadcast_to", part.reshape(kept), shape=full_shape)
    if unique == term:
        return part
    grid = np.indices(part.shape, sparse=True)
    index = tuple(grid[unique.index(c)] for c in term)
    grad_shape = tuple(max(n, part.shape[unique.index(c)]) for c, n in zip(term, shape))
    return call("getitem_scatter", part, index=index, shape=grad_shape)


def _einsum_vjp(g, ctx, needs):
    operands, ins, out, _ = ctx
    return tuple(_grad_for(k, g, operands, ins, out) if needs[k] else None for k in range(len(operands)))


def _einsum_vjp_graph(g, ctx, needs, xs, out):
    _, ins, letters, _ = ctx
    return tuple(_grad_for(k, g, xs, ins, letters) if needs[k] else None for k in range(len(xs)))


def _einsum_jvp(ts, ctx):
    operands, _, _, spec = ctx
    # Multilinear: one term per operand that has a tangent, the others' values in place.
    return tangent_sum(ts, *[lambda t, k=k: np.einsum(spec, *operands[:k], t, *operands[k + 1:])
                             for k in range(len(operands))])


register(
    "einsum",
    _einsum_forward,
    _einsum_vjp,
    _einsum_jvp,
    doc="Einstein summation over NumPy subscripts (ellipses, implicit output and repeated letters included).",
    vjp_graph=_einsum_vjp_graph,
)


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _mT_graph(v):
    """The matrix transpose of a Tensor or Dual (an array passes through np.swapaxes)."""
    if isinstance(v, np.ndarray):
        return _mT(v)
    return v._op("transpose", axes=tuple(range(v.ndim - 2)) + (v.ndim - 1, v.ndim - 2))


def _check_square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {a.shape}")


def _inv_forward(a):
    _check_square("inv", a)
    out = np.linalg.inv(a)
    return out, out


register(
    "inv",
    _inv_forward,
    lambda g, ai, needs: (-_mT(ai) @ g @ _mT(ai),),
    lambda ts, ai: -ai @ ts[0] @ ai,
    doc="matrix inverse; d inv(A) = -inv(A) dA inv(A).",
    vjp_graph=lambda g, ai, needs, xs, out: (-_mT_graph(out) @ g @ _mT_graph(out),),
)


def _solve_forward(a, b):
    _check_square("solve", a)
    vector = b.ndim == 1
    bm = b[:, None] if vector else b
    x = np.linalg.solve(a, bm)
    return (x[:, 0] if vector else x), (a, x, vector)


def _solve_vjp(g, ctx, needs):
    a, x, vector = ctx
    gm = g[..., None] if vector else g
    gb = np.linalg.solve(_mT(a), np.broadcast_to(gm, np.broadcast_shapes(gm.shape, x.shape)))
    ga = -gb @ _mT(x) if needs[0] else None
    return ga, ((gb[..., 0] if vector else gb) if needs[1] else None)


def _solve_jvp(ts, ctx):
    a, x, vector = ctx
    rhs = tangent_sum(ts, lambda ta: -(ta @ x), lambda tb: tb[..., None] if vector else tb)
    if rhs is None:
        return None
    d = np.linalg.solve(a, np.broadcast_to(rhs, np.broadcast_shapes(rhs.shape, x.shape)))
    return d[..., 0] if vector else d


def _solve_vjp_graph(g, ctx, needs, xs, out):
    a, vector = xs[0], ctx[2]
    gm = g.reshape(g.shape + (1,)) if vector else g
    xm = out.reshape(out.shape + (1,)) if vector else out
    gb = call("solve", _mT_graph(a), call("broadcast_to", gm, shape=np.broadcast_shapes(gm.shape, xm.shape)))
    ga = -gb @ _mT_graph(xm) if needs[0] else None
    return ga, ((gb.reshape(gb.shape[:-1]) if vector else gb) if needs[1] else None)


register(
    "solve",
    _solve_forward,
    _solve_vjp,
    _solve_jvp,
    doc="x with A x = b (b a vector or a stack of columns); dx = A^-1 (db - dA x).",
    vjp_graph=_solve_vjp_graph,
)


def _adjugate(a):
    """adj(A) (so that adj(A) A = det(A) I) from an SVD: exact for singular A too."""
    u, s, vt = np.linalg.svd(a)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return sign[..., None, None] * (_mT(vt) * _others_product(s)[..., None, :]) @ _mT(u)


def _det_forward(a):
    _check_square("det", a)
    return np.linalg.det(a), _adjugate(a)


def _det_vjp_graph(g, adj, needs, xs, out):
    # d det / dA_ij is the cofactor (-1)^(i+j) det(minor_ij): determinants of the minors, picked out
    # with one gather, are exact for singular A too (like the SVD adjugate of the fast VJP).
    a = xs[0]
    n = a.shape[-1]
    g = g.reshape(g.shape + (1, 1))
    if n <= 1:
        return (g * np.ones(a.shape),)
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)])
    minors = call("getitem", a, index=(Ellipsis, keep[:, None, :, None], keep[None, :, None, :]))
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return (g * signs * call("det", minors),)


register(
    "det",
    _det_forward,
    lambda g, adj, needs: (np.asarray(g)[..., None, None] * _mT(adj),),
    lambda ts, adj: np.sum(_mT(adj) * ts[0], axis=(-2, -1)),
    doc="determinant; d det(A) = trace(adj(A) dA), with the adjugate from an SVD (exact when singular).",
    vjp_graph=_det_vjp_graph,
)


def _slogdet_forward(a):
    _check_square("slogdet", a)
    sign, logabs = np.linalg.slogdet(a)
    with np.errstate(all="ignore"):
        inv = np.linalg.pinv(a) if np.any(sign == 0) else np.linalg.inv(a)
    return logabs, inv


def _slogdet_vjp_graph(g, inv, needs, xs, out):
    a = xs[0]
    if np.any(np.isinf(getattr(out, "data", out))):
        # The first derivative there is a convention (the pseudo-inverse); a second one is unbounded.
        raise ValueError("slogdet: create_graph needs non-singular matrices (log|det| is -inf here, "
                         "and its derivatives are unbounded)")
    g = g.reshape(g.shape + (1, 1))
    return (g * _mT_graph(call("inv", a)),)


register(
    "slogdet",
    _slogdet_forward,
    lambda g, inv, needs: (np.asarray(g)[..., None, None] * _mT(inv),),
    lambda ts, inv: np.sum(_mT(inv) * ts[0], axis=(-2, -1)),
    doc="log |det(A)| (the sign is a constant beside it); d log|det A| = trace(inv(A) dA).",
    vjp_graph=_slogdet_vjp_graph,
)

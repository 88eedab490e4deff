"""Edge samples of the element-wise math, product, scan, gather and scatter ops (see op_edges.py).

Imported at the end of tests/op_edges.py, whose helpers these samples use.
"""

from __future__ import annotations

import numpy as np
from op_edges import INF, NAN, SPECIAL, EdgeSample, binary, broadcast, f64, non_contiguous, rand, unary, _MINMAX_NAN, _tmethod

import chainrule as cr

# The element-wise math of ops/math.py: inverse trigonometric and hyperbolic functions, log/exp
# variants, atan2, the modulo ops and the rounding steps (zero gradient everywhere).
_MATH_UNARY = ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10", "exp2",
               "log1p", "expm1", "erf", "floor", "ceil", "round", "trunc")
MORE_EDGES = [
    *[s for n in _MATH_UNARY for s in unary(n, getattr(cr, n), _tmethod(n))],
    EdgeSample("acosh", "domain-edge", [f64(1.0, 1.5, 1e30, INF)], cr.acosh, lambda t, a: t.acosh(a)),
    EdgeSample("atanh", "domain-edge", [f64(-1.0, 1.0, 0.5, -0.0)], cr.atanh, lambda t, a: t.atanh(a)),
    EdgeSample("log1p", "minus-one", [f64(-1.0, -1e-30, 1e-30, -0.5)], cr.log1p, lambda t, a: t.log1p(a)),
    EdgeSample("round", "halves", [f64(0.5, 1.5, 2.5, -0.5, -2.5, 1e30)], cr.round, lambda t, a: t.round(a)),
    *binary("atan2", cr.atan2, lambda t, a, b: t.atan2(a, b), convention="at the origin both partials are 0 "
            "(PyTorch's VJP rule too), so the JVP is 0 there as well (PyTorch's forward mode gives nan)",
            jvp=lambda args, tj, grads: np.where((args[0] == 0) & (args[1] == 0), 0.0, tj)),
    *binary("fmod", cr.fmod, lambda t, a, b: t.fmod(a, b)),
    *binary("remainder", cr.remainder, lambda t, a, b: t.remainder(a, b), zero_sign=False,
            convention="a zero remainder has the sign NumPy's remainder gives it; PyTorch's kernel gives the other zero in places"),
    # PyTorch has no derivative for floor_divide (it raises); its value is compared, the gradient is 0.
    *binary("floor_divide", lambda a, b: a // b, lambda t, a, b: t.floor_divide(a.detach(), b.detach())),
]

# Products, scans, gather and scatter (ops/scan.py, ops/index.py): zeros in products, -inf in
# logcumsumexp, repeated indices, size-0 and size-1 axes, 0-d and strided inputs.
_ZEROS = f64(2.0, 0.0, 3.0, -0.0, 4.0, -1.5, 0.0, 1e30, 1e-30, -2.0).reshape(2, 5)
_GATHER = np.array([[2, 0, 0, 1], [1, 1, 2, 0]])


def _scan_samples(op, values, size0_axis=0):
    return [
        EdgeSample(op, "specials", [values], lambda a: getattr(a, op)(axis=1), lambda t, a: getattr(t, op)(a, dim=1)),
        EdgeSample(op, "neg-axis", [rand(3, 4)], lambda a: getattr(a, op)(axis=-2), lambda t, a: getattr(t, op)(a, dim=-2)),
        EdgeSample(op, "size0", [np.zeros((0, 3))], lambda a: getattr(a, op)(axis=size0_axis),
                   lambda t, a: getattr(t, op)(a, dim=size0_axis)),
        EdgeSample(op, "size1", [rand(1, 3)], lambda a: getattr(a, op)(axis=0), lambda t, a: getattr(t, op)(a, dim=0)),
        EdgeSample(op, "0d", [np.array(-0.7)], lambda a: getattr(a, op)(axis=0), lambda t, a: getattr(t, op)(a, dim=0)),
        EdgeSample(op, "strided", [non_contiguous((3, 4))], lambda a: getattr(a, op)(axis=1),
                   lambda t, a: getattr(t, op)(a, dim=1)),
    ]


MORE_EDGES += [
    *_scan_samples("cumsum", f64(0.0, -0.0, 1.0, INF, 1e30, -1e30, -INF, NAN, 1e-30, 2.0).reshape(2, 5)),
    *_scan_samples("cumprod", _ZEROS),
    # PyTorch's logcumsumexp fails on a size-0 scan axis, so the size-0 sample scans the other axis;
    # its VJP and JVP lose precision after large entries (see huge-then-small), so the specials stay small.
    *_scan_samples("logcumsumexp", f64(0.0, -INF, -0.0, 1.0, 3.0, 1.0, -INF, 1e-30, -1e30, 2.0).reshape(2, 5),
                   size0_axis=1),
    EdgeSample("logcumsumexp", "huge-then-small", [f64(1e30, 0.0)], lambda a: a.logcumsumexp(axis=0),
               lambda t, a: t.logcumsumexp(a, dim=0),
               convention="d out_1 / d x_0 is exp(x_0 - out_1) = 1 when out_1 = x_0 = 1e30, so the gradient of "
               "x_0 is c_0 + c_1 (PyTorch's VJP gives 1 at an entry of 1e30 whatever the cotangent)",
               grad=lambda args, tg, c: [np.array([c[0] + c[1], 0.0])]),
    EdgeSample("logcumsumexp", "all-minus-inf", [f64(-INF, -INF, -INF)], lambda a: a.logcumsumexp(axis=0),
               lambda t, a: t.logcumsumexp(a, dim=0),
               convention="a prefix of all -inf gives -inf with a zero gradient (PyTorch: nan)",
               grad=lambda args, tg, c: [np.zeros(3)], jvp=lambda args, tj, grads: np.zeros(3)),
    EdgeSample("prod", "zeros-rows", [_ZEROS], lambda a: a.prod(axis=1), lambda t, a: t.prod(a, dim=1)),
    EdgeSample("prod", "two-zeros-all", [f64(0.0, 2.0, -0.0, 3.0)], lambda a: a.prod(), lambda t, a: t.prod(a)),
    EdgeSample("prod", "neg-axis-keep", [rand(3, 4)], lambda a: a.prod(axis=-1, keepdims=True),
               lambda t, a: t.prod(a, dim=-1, keepdim=True)),
    EdgeSample("prod", "axes-tuple", [rand(2, 3, 4)], lambda a: a.prod(axis=(0, -1)),
               lambda t, a: t.prod(t.prod(a, dim=-1), dim=0)),
    EdgeSample("prod", "size0-axis", [np.zeros((0, 3))], lambda a: a.prod(axis=0), lambda t, a: t.prod(a, dim=0)),
    EdgeSample("prod", "size1-axis", [rand(3, 1)], lambda a: a.prod(axis=1), lambda t, a: t.prod(a, dim=1)),
    EdgeSample("prod", "0d", [np.array(-0.0)], lambda a: a.prod(), lambda t, a: t.prod(a)),
    EdgeSample("prod", "strided", [non_contiguous((3, 4))], lambda a: a.prod(axis=0), lambda t, a: t.prod(a, dim=0)),
    EdgeSample("take_along_axis", "repeat-specials", [np.asarray(SPECIAL).reshape(3, 4)],
               lambda a: a.take_along_axis(_GATHER, 0), lambda t, a: t.gather(a, 0, t.as_tensor(_GATHER))),
    EdgeSample("take_along_axis", "neg-axis-strided", [non_contiguous((2, 5))],
               lambda a: a.take_along_axis(_GATHER[:, :3] - 4, -1),
               lambda t, a: t.take_along_dim(a, t.as_tensor(_GATHER[:, :3] % 5 + 1), dim=-1)),
    EdgeSample("take_along_axis", "size0-index", [rand(2, 3)], lambda a: a.take_along_axis(np.zeros((2, 0), int), 1),
               lambda t, a: t.gather(a, 1, t.zeros((2, 0), dtype=t.int64))),
    EdgeSample("scatter", "distinct-specials", [np.asarray(SPECIAL).reshape(3, 4), rand(2, 4)],
               lambda a, b: a.scatter(0, np.array([[2, 0, 1, 1], [1, 2, 0, 0]]), b),
               lambda t, a, b: a.scatter(0, t.as_tensor(np.array([[2, 0, 1, 1], [1, 2, 0, 0]])), b)),
    EdgeSample("scatter", "add-repeat-strided", [non_contiguous((3, 5)), rand(2, 4)],
               lambda a, b: a.scatter_add(0, _GATHER, b), lambda t, a, b: a.scatter_add(0, t.as_tensor(_GATHER), b)),
    EdgeSample("scatter", "add-neg-axis", [rand(2, 3), rand(2, 1, seed=5)],
               lambda a, b: a.scatter_add(-1, np.array([[0], [2]]), b),
               lambda t, a, b: a.scatter_add(-1, t.as_tensor(np.array([[0], [2]])), b)),
]

# Linear algebra (ops/linalg.py): einsum's traces, diagonals, ellipses and empty contractions; inv and
# solve on 1x1, batched, size-0 batch and strided matrices, singular ones raising as in PyTorch.
_WELL = rand(2, 3, 3) + 3 * np.eye(3)


def _einsum(spec):
    return lambda *a: cr.einsum(spec, *a)


def _teinsum(spec):
    return lambda t, *a: t.einsum(spec, *a)


MORE_EDGES += [
    *[EdgeSample("einsum", label, args, _einsum(spec), _teinsum(spec)) for label, spec, args in [
        ("matvec-specials", "ij,j->i", [f64(INF, 0.0, 1.0, NAN, -0.0, 1e30).reshape(2, 3), f64(0.0, 1.0, -1e-30)]),
        ("trace", "ii", [rand(3, 3)]),
        ("diagonal", "ii->i", [non_contiguous((3, 3))]),
        ("ellipsis-batch", "...ij,...jk->...ik", [rand(2, 2, 3), rand(3, 4, seed=4)]),
        ("inner-size0", "ij,jk->ik", [np.zeros((2, 0)), np.zeros((0, 3))]),
        ("sum-only-letter", "ij->", [broadcast((3, 4))]),
    ]],
    EdgeSample("inv", "1x1-negzero", [f64(-2.0).reshape(1, 1)], cr.linalg.inv, lambda t, a: t.linalg.inv(a)),
    EdgeSample("inv", "batched", [_WELL], cr.linalg.inv, lambda t, a: t.linalg.inv(a)),
    EdgeSample("inv", "batch0", [np.zeros((0, 2, 2))], cr.linalg.inv, lambda t, a: t.linalg.inv(a)),
    EdgeSample("inv", "strided", [non_contiguous((3, 3)) + 3 * np.eye(3)], cr.linalg.inv, lambda t, a: t.linalg.inv(a)),
    EdgeSample("inv", "singular", [np.zeros((2, 2))], cr.linalg.inv, lambda t, a: t.linalg.inv(a),
               raises=ValueError),
    EdgeSample("solve", "vector", [_WELL[0], f64(1.0, -0.0, 1e-30)], cr.linalg.solve, lambda t, a, b: t.linalg.solve(a, b)),
    EdgeSample("solve", "batched-columns", [_WELL, rand(2, 3, 2, seed=6)], cr.linalg.solve,
               lambda t, a, b: t.linalg.solve(a, b)),
    EdgeSample("solve", "columns-size0", [_WELL[1], np.zeros((3, 0))], cr.linalg.solve,
               lambda t, a, b: t.linalg.solve(a, b)),
]
MORE_EDGES += [
    EdgeSample("slogdet", "negative-det-batched", [_WELL * f64(-1.0, 1.0)[:, None, None]],
               lambda a: cr.linalg.slogdet(a)[1], lambda t, a: t.linalg.slogdet(a)[1]),
    EdgeSample("slogdet", "2x2-strided", [non_contiguous((2, 2))], lambda a: cr.linalg.slogdet(a)[1],
               lambda t, a: t.linalg.slogdet(a)[1]),
    EdgeSample("slogdet", "batch0", [np.zeros((0, 3, 3))], lambda a: cr.linalg.slogdet(a)[1],
               lambda t, a: t.linalg.slogdet(a)[1]),
]
_DET_ZERO = {"zero_sign": False, "convention": "a zero determinant is +0.0 from NumPy's LU; PyTorch's may be -0.0"}
MORE_EDGES += [
    EdgeSample("det", "singular-rank1", [np.outer(f64(1.0, 2.0, -0.0), f64(3.0, -1.0, 0.5))], cr.linalg.det,
               lambda t, a: t.linalg.det(a), **_DET_ZERO),
    EdgeSample("det", "batched-strided", [non_contiguous((2, 3, 3))], cr.linalg.det, lambda t, a: t.linalg.det(a)),
    EdgeSample("det", "1x1-negzero", [f64(-0.0).reshape(1, 1)], cr.linalg.det, lambda t, a: t.linalg.det(a),
               zero_sign=False, jvp=lambda args, tj, grads: np.array(1.0),
               convention="det [[-0.0]] is +0.0 from NumPy's LU, and its JVP is the tangent itself, as "
               "d det [[a]] = da (PyTorch's forward mode gives 0 at this singular matrix)"),
    EdgeSample("det", "zeros", [np.zeros((2, 2))], cr.linalg.det, lambda t, a: t.linalg.det(a)),
]

# A constant operand (a number or array beside the differentiated input) has no tangent: the JVP
# leaves its term out instead of multiplying its zero tangent by an infinite factor (0 * inf = nan),
# as PyTorch's forward mode does. These samples differentiate one input; the constants sit in the call.
_INFS = f64(INF, -INF, NAN, 0.0, -0.0, 1e308, -2.5)
_CONST = f64(2.0, 0.0, INF, INF, -INF, 1e-308, NAN)  # inf constants meet 0 and -0: 0 * inf
_CONST_T = cr.tensor(_CONST, dtype=np.float64)
_MAT = f64(1.0, 2.0, -3.0, 0.5).reshape(2, 2)
_X_INF = f64(INF, 1.0, 2.0, -INF).reshape(2, 2)


def _tangent(shape):
    """The tangent tests/test_ops_edges.py differentiates along (its ``_varied``)."""
    return (1.0 + 0.5 * (np.arange(int(np.prod(shape))) % 3)).reshape(shape)


def _product_rule(product):
    """The documented JVP of a product with a constant factor: ``product(tangent)``, finite for inf inputs."""
    return {"convention": "the constant factor has no tangent, so the JVP is the tangent times the constant, "
                          "finite for infinite inputs; PyTorch's forward mode fills the missing tangent with zeros "
                          "in matrix products and gets 0 * inf = nan",
            "jvp": lambda args, tj, grads: product(_tangent(args[0].shape))}


MORE_EDGES += [
    EdgeSample("mul", "inf-times-const", [_INFS], lambda a: a * 2.0, lambda t, a: a * 2.0),
    EdgeSample("mul", "const-times-inf", [_INFS], lambda a: 2.0 * a, lambda t, a: 2.0 * a),
    EdgeSample("mul", "zero-times-inf-const", [_INFS], lambda a: a * _CONST_T, lambda t, a: a * t.tensor(_CONST)),
    EdgeSample("mul", "inf-const-times-zero", [_INFS], lambda a: _CONST_T * a, lambda t, a: t.tensor(_CONST) * a),
    EdgeSample("add", "plus-inf-const", [_INFS], lambda a: a + _CONST_T, lambda t, a: a + t.tensor(_CONST)),
    EdgeSample("add", "const-plus-inf", [_INFS], lambda a: INF + a, lambda t, a: INF + a),
    EdgeSample("sub", "const-minus-inf", [_INFS], lambda a: _CONST_T - a, lambda t, a: t.tensor(_CONST) - a),
    EdgeSample("div", "inf-by-const", [_INFS], lambda a: a / 2.0, lambda t, a: a / 2.0),
    EdgeSample("div", "inf-by-const-array", [_INFS], lambda a: a / _CONST_T, lambda t, a: a / t.tensor(_CONST)),
    EdgeSample("div", "const-by-inf", [_INFS], lambda a: 2.0 / a, lambda t, a: 2.0 / a),
    EdgeSample("pow", "const-base-inf-exponent", [_INFS], lambda a: 2.0 ** a, lambda t, a: 2.0 ** a),
    EdgeSample("pow", "inf-base-const-exponent", [_INFS], lambda a: a ** _CONST_T, lambda t, a: a ** t.tensor(_CONST)),
    EdgeSample("maximum", "with-inf-const", [_INFS], lambda a: cr.maximum(a, _CONST_T),
               lambda t, a: t.maximum(a, t.tensor(_CONST)), **_MINMAX_NAN),
    EdgeSample("matmul", "inf-times-const-matrix", [_X_INF], lambda a: a @ cr.tensor(_MAT, dtype=np.float64),
               lambda t, a: a @ t.tensor(_MAT), **_product_rule(lambda t: t @ _MAT)),
    EdgeSample("matmul", "const-matrix-times-inf", [_X_INF], lambda a: cr.tensor(_MAT, dtype=np.float64) @ a,
               lambda t, a: t.tensor(_MAT) @ a, **_product_rule(lambda t: _MAT @ t)),
    EdgeSample("linear", "inf-input-const-weight", [_X_INF],
               lambda a: cr.nn.functional.linear(a, cr.tensor(_MAT, dtype=np.float64), cr.tensor(f64(1.0, -1.0), dtype=np.float64)),
               lambda t, a: t.nn.functional.linear(a, t.tensor(_MAT), t.tensor(f64(1.0, -1.0))),
               **_product_rule(lambda t: t @ _MAT.T)),
    EdgeSample("fmod", "huge-by-tiny-const", [f64(1e300, -1e300, 3.5)], lambda a: cr.fmod(a, 1e-300),
               lambda t, a: t.fmod(a, 1e-300)),
    EdgeSample("where", "const-branch-inf", [_INFS], lambda a: cr.where(_CONST > 1, a, _CONST_T),
               lambda t, a: t.where(t.tensor(_CONST > 1), a, t.tensor(_CONST))),
    EdgeSample("concatenate", "with-const-piece", [_INFS], lambda a: cr.concatenate([a, _CONST_T]),
               lambda t, a: t.cat([a, t.tensor(_CONST)])),
    EdgeSample("stack", "with-const-piece", [_INFS], lambda a: cr.stack([_CONST_T, a]),
               lambda t, a: t.stack([t.tensor(_CONST), a])),
    EdgeSample("einsum", "inf-with-const", [_X_INF], lambda a: cr.einsum("ij,jk->ik", a, cr.tensor(_MAT, dtype=np.float64)),
               lambda t, a: t.einsum("ij,jk->ik", a, t.tensor(_MAT)), **_product_rule(lambda t: t @ _MAT)),
]

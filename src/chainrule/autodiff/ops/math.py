"""More element-wise primitives: trigonometric and hyperbolic functions and their inverses,
log1p/expm1/erf, atan2, fmod/remainder, and the rounding steps.

These are primitives (not compositions) because the compositions lose accuracy
where users look: ``sinh`` from two exps cancels near 0, ``log(1 + x)`` rounds
tiny ``x`` away, ``atan(y / x)`` picks the wrong quadrant. Rounding ops are
piecewise constant: their gradient is 0 everywhere, as in PyTorch.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> float(REGISTRY["log1p"].forward(np.array(1e-20))[0])
    1e-20
"""

from __future__ import annotations

import math

import numpy as np

from . import call, register, tangent_sum
from .elementwise import _no_graph_grad, _sp, _unary, _zero_grad, _zero_tangent, over

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERF = {}


def erf_array(x):
    """The error function element-wise: SciPy's when it is installed, else ``math.erf`` per entry."""
    if "f" not in _ERF:
        try:
            from scipy.special import erf  # optional: vectorised and as exact as math.erf
        except ImportError:  # pragma: no cover - scipy is an optional extra
            erf = np.vectorize(math.erf, otypes=[np.float64])
        _ERF["f"] = erf
    x = np.asarray(x)
    return np.asarray(_ERF["f"](x)).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


_LN2, _LN10 = math.log(2.0), math.log(10.0)
_unary("tan", np.tan, lambda x, out: 1.0 + out * out, lambda x, out: 1.0 + out * out, sym=lambda a: _sp().tan(a),
       doc="tangent; derivative 1 + tan^2 from the output.")
_unary("asin", np.arcsin, lambda x, out: 1.0 / np.sqrt(1.0 - x * x), lambda x, out: 1.0 / (1.0 - x * x).sqrt(),
       sym=lambda a: _sp().asin(a),
       doc="arcsine on [-1, 1]; derivative 1 / sqrt(1 - x^2).")
_unary("acos", np.arccos, lambda x, out: -1.0 / np.sqrt(1.0 - x * x), lambda x, out: -1.0 / (1.0 - x * x).sqrt(),
       sym=lambda a: _sp().acos(a),
       doc="arccosine on [-1, 1]; derivative -1 / sqrt(1 - x^2).")
_unary("atan", np.arctan, lambda x, out: 1.0 / (1.0 + x * x), lambda x, out: 1.0 / (1.0 + x * x),
       sym=lambda a: _sp().atan(a),
       doc="arctangent; derivative 1 / (1 + x^2).")
_unary("sinh", np.sinh, lambda x, out: np.cosh(x), lambda x, out: x.cosh(), sym=lambda a: _sp().sinh(a),
       doc="hyperbolic sine; derivative cosh(x).")
_unary("cosh", np.cosh, lambda x, out: np.sinh(x), lambda x, out: x.sinh(), sym=lambda a: _sp().cosh(a),
       doc="hyperbolic cosine; derivative sinh(x).")
_unary("asinh", np.arcsinh, lambda x, out: 1.0 / np.sqrt(x * x + 1.0), lambda x, out: 1.0 / (x * x + 1.0).sqrt(),
       sym=lambda a: _sp().asinh(a),
       doc="inverse hyperbolic sine; derivative 1 / sqrt(x^2 + 1).")
_unary("acosh", np.arccosh, lambda x, out: 1.0 / np.sqrt(x * x - 1.0), lambda x, out: 1.0 / (x * x - 1.0).sqrt(),
       sym=lambda a: _sp().acosh(a),
       doc="inverse hyperbolic cosine on [1, inf); derivative 1 / sqrt(x^2 - 1).")
_unary("atanh", np.arctanh, lambda x, out: 1.0 / (1.0 - x * x), lambda x, out: 1.0 / (1.0 - x * x),
       sym=lambda a: _sp().atanh(a),
       doc="inverse hyperbolic tangent on (-1, 1); derivative 1 / (1 - x^2).")
_unary("log2", np.log2, lambda x, out: 1.0 / (x * _LN2), lambda x, out: 1.0 / (x * _LN2), sym=lambda a: _sp().log(a, 2),
       doc="base-2 logarithm; derivative 1 / (x ln 2).")
_unary("log10", np.log10, lambda x, out: 1.0 / (x * _LN10), lambda x, out: 1.0 / (x * _LN10),
       sym=lambda a: _sp().log(a, 10),
       doc="base-10 logarithm; derivative 1 / (x ln 10).")
_unary("exp2", np.exp2, lambda x, out: out * _LN2, lambda x, out: out * _LN2, sym=lambda a: 2**a,
       doc="2 ** x; derivative 2 ** x ln 2 from the output.")
_unary("log1p", np.log1p, lambda x, out: 1.0 / (1.0 + x), lambda x, out: 1.0 / (1.0 + x),
       sym=lambda a: _sp().log(1 + a), doc="log(1 + x), exact for tiny x; derivative 1 / (1 + x).")
_unary("expm1", np.expm1, lambda x, out: out + 1.0, lambda x, out: out + 1.0, sym=lambda a: _sp().exp(a) - 1,
       doc="exp(x) - 1, exact for tiny x; derivative exp(x).")
_unary(
    "erf",
    erf_array,
    lambda x, out: _TWO_OVER_SQRT_PI * np.exp(-x * x),
    lambda x, out: _TWO_OVER_SQRT_PI * (-(x * x)).exp(),
    sym=lambda a: _sp().erf(a),
    doc="the Gauss error function; derivative 2 / sqrt(pi) exp(-x^2).",
)


def _atan2_forward(y, x):
    r2 = y * y + x * x
    return np.arctan2(y, x), (y, x, np.where(r2 == 0, 1, r2))


def _atan2_vjp(g, ctx, needs):
    # At the origin both partials are 0 (PyTorch's convention): y and x are 0 there.
    y, x, r2 = ctx
    return (g * x / r2 if needs[0] else None, -g * y / r2 if needs[1] else None)


def _atan2_vjp_graph(g, ctx, needs, xs, out):
    # r^2 rebuilt from the inputs so it is differentiated too; 1 at the origin, as in the fast VJP.
    (y, x), (yv, xv, _) = xs, ctx
    r2 = call("where", y * y + x * x, 1.0, cond=(yv * yv + xv * xv) != 0)
    return (g * x / r2 if needs[0] else None, -g * y / r2 if needs[1] else None)


register(
    "atan2",
    _atan2_forward,
    _atan2_vjp,
    lambda ts, ctx: over(tangent_sum(ts, lambda t: t * ctx[1], lambda t: -t * ctx[0]), ctx[2]),
    sym=lambda y, x: _sp().atan2(y, x),
    doc="the angle of the point (x, y) in (-pi, pi]; d/dy = x / r^2, d/dx = -y / r^2 (0 at the origin).",
    vjp_graph=_atan2_vjp_graph,
)


def _modulo(name, f, quotient, sym, doc):
    """Register a ``a - q(a / b) b`` op; q is a step function, so d/db = -q(a / b)."""

    def forward(a, b):
        out = f(a, b)
        return out, quotient(a, b)

    register(
        name,
        forward,
        lambda g, q, needs: (g if needs[0] else None, -g * q if needs[1] else None),
        lambda ts, q: tangent_sum(ts, lambda t: t, lambda t: -t * q),
        sym=sym,
        doc=doc,
        vjp_graph=lambda g, q, needs, xs, out: (g if needs[0] else None, -g * q if needs[1] else None),
    )


_modulo("fmod", np.fmod, lambda a, b: np.trunc(a / b), lambda a, b: _sp().Mod(a, b),
        "C's fmod: the remainder has the sign of a; d/da = 1, d/db = -trunc(a / b).")
_modulo("remainder", np.remainder, lambda a, b: np.floor_divide(a, b), lambda a, b: _sp().Mod(a, b),
        "Python's a % b: the remainder has the sign of b; d/da = 1, d/db = -floor(a / b).")


def _step_op(name, f, sym):
    register(
        name,
        lambda x: (f(x), np.shape(x)),
        _zero_grad,
        _zero_tangent,
        sym=sym,
        differentiable=False,
        vjp_graph=_no_graph_grad,
        doc=f"{name}(x); piecewise constant, so its gradient is 0 everywhere (as in PyTorch).",
    )


_step_op("floor", np.floor, lambda a: _sp().floor(a))
_step_op("ceil", np.ceil, lambda a: _sp().ceiling(a))
_step_op("round", np.round, None)  # half to even, like NumPy and PyTorch
_step_op("trunc", np.trunc, None)


def _floor_divide_forward(a, b):
    out = np.floor_divide(a, b)
    return out, (np.shape(a), np.shape(b), np.shape(out))


register(
    "floor_divide",
    _floor_divide_forward,
    lambda g, ctx, needs: tuple(np.zeros(s, dtype=g.dtype) for s in ctx[:2]),
    lambda ts, ctx: None,  # no input moves the output: the tangent is zero
    differentiable=False,
    vjp_graph=lambda g, ctx, needs, xs, out: (None, None),
    doc="a // b (floor of the quotient, Python's rule); piecewise constant, so its gradient is 0.",
)

"""Element-wise primitives: arithmetic, transcendental functions and gates.

Each op is one ``register`` call. VJPs may return broadcast-shaped gradients;
the engine reduces them to the input shapes. JVP tangents have input shapes
and broadcast naturally.
"""

from __future__ import annotations

import math

import numpy as np

from . import call, register, tangent_sum
from .scratch import ZEROS_CAP, zeros


def _sp():
    import sympy

    return sympy


def _same(t):
    return t


def over(numerator, denominator):
    """``numerator / denominator`` for a tangent that may be None (no input had one).

    Rules of a quotient divide once, after summing, as PyTorch does: the same nans and infs.
    """
    return None if numerator is None else numerator / denominator


def _unary(name, f, dfdx_from, graph=None, sym=None, doc=""):
    """Register a unary op whose derivative is a function of (x, out).

    ``graph(x, out)`` is the same derivative written with differentiable ops
    (Tensor or Dual methods), used under ``create_graph``; without it the op has
    no ``vjp_graph`` (and tests/test_higher_order.py says so).
    """

    def forward(x):
        out = f(x)
        return out, (x, out)

    def vjp(g, ctx, needs):
        return (g * dfdx_from(*ctx),)

    def jvp(ts, ctx):
        return ts[0] * dfdx_from(*ctx)

    def vjp_graph(g, ctx, needs, xs, out):
        return (g * graph(xs[0], out),)

    return register(name, forward, vjp, jvp, sym=sym, doc=doc, vjp_graph=vjp_graph if graph else None)


# ---------------------------------------------------------------- arithmetic
register(
    "add",
    lambda a, b: (a + b, None),
    lambda g, ctx, needs: (g, g),
    lambda ts, ctx: tangent_sum(ts, _same, _same),
    sym=lambda a, b: a + b,
    doc="a + b; an add gate distributes the upstream gradient unchanged.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g, g),
)
register(
    "sub",
    lambda a, b: (a - b, None),
    lambda g, ctx, needs: (g, -g if needs[1] else None),
    lambda ts, ctx: tangent_sum(ts, _same, np.negative),
    sym=lambda a, b: a - b,
    doc="a - b; the second input receives the upstream gradient negated.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g, -g if needs[1] else None),
)
register(
    "mul",
    lambda a, b: (a * b, (a, b)),
    lambda g, ctx, needs: (
        g * ctx[1] if needs[0] else None,
        g * ctx[0] if needs[1] else None,
    ),
    lambda ts, ctx: tangent_sum(ts, lambda t: t * ctx[1], lambda t: ctx[0] * t),
    sym=lambda a, b: a * b,
    doc="a * b; a multiply gate swaps its inputs' values into the gradients.",
    vjp_graph=lambda g, ctx, needs, xs, out: (
        g * xs[1] if needs[0] else None,
        g * xs[0] if needs[1] else None,
    ),
)


def _div_forward(a, b):
    out = a / b
    return out, (b, out)


register(
    "div",
    _div_forward,
    lambda g, ctx, needs: (
        g / ctx[0] if needs[0] else None,
        -g * ctx[1] / ctx[0] if needs[1] else None,
    ),
    lambda ts, ctx: over(tangent_sum(ts, _same, lambda t: -ctx[1] * t), ctx[0]),
    sym=lambda a, b: a / b,
    doc="a / b; d/da = 1/b and d/db = -a/b^2, computed from the stored quotient.",
    vjp_graph=lambda g, ctx, needs, xs, out: (
        g / xs[1] if needs[0] else None,
        -g * out / xs[1] if needs[1] else None,
    ),
)
register(
    "neg",
    lambda a: (-a, None),
    lambda g, ctx, needs: (-g,),
    lambda ts, ctx: -ts[0],
    sym=lambda a: -a,
    doc="-a; the gradient is the upstream value negated.",
    vjp_graph=lambda g, ctx, needs, xs, out: (-g,),
)


def _pow_forward(a, b):
    out = np.power(a, b)
    return out, (a, b, out)


def _safe_log(a):
    # d(a**b)/db = a**b log(a) is undefined for a <= 0; we define it as 0 there
    # (the branch integer exponents live on), instead of spreading NaN.
    a = np.asarray(a)
    return np.log(np.where(a > 0, a, 1))


def _dpow_da(a, b):
    """b * a**(b - 1), and exactly 0 where b == 0 (a**0 is the constant 1, also at a = 0)."""
    b = np.asarray(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = b * np.power(a, b - 1)
    return np.where(b == 0, 0, d) if (b == 0).any() else d


def _pow_vjp(g, ctx, needs):
    a, b, out = ctx
    ga = g * _dpow_da(a, b) if needs[0] else None
    gb = g * out * _safe_log(a) if needs[1] else None
    return ga, gb


def _pow_vjp_graph(g, ctx, needs, xs, out):
    (a, b), (av, bv, _) = xs, ctx
    ga = gb = None
    if needs[0]:
        # Where b == 0 the base is swapped for 1, so b * 1**(b - 1) is 0 with finite derivatives.
        ga = g * b * call("where", a, 1.0, cond=np.asarray(bv) != 0) ** (b - 1)
    if needs[1]:
        gb = g * out * call("log", call("where", a, 1.0, cond=np.asarray(av) > 0))  # a may be a constant array
    return ga, gb


register(
    "pow",
    _pow_forward,
    _pow_vjp,
    lambda ts, ctx: tangent_sum(ts, lambda t: t * _dpow_da(ctx[0], ctx[1]), lambda t: t * ctx[2] * _safe_log(ctx[0])),
    sym=lambda a, b: a**b,
    doc="a ** b with a tensor exponent; d/da is 0 where b == 0 (as in PyTorch), and d/db "
    "is defined as 0 where a <= 0 (PyTorch: nan for a < 0).",
    vjp_graph=_pow_vjp_graph,
)


def _powscalar_forward(a, p):
    return np.power(a, p), (a, p)


def _dpowscalar(a, p):
    # Not p * a**(p - 1) at p == 0: that is 0 * inf = nan at a = 0.
    return np.zeros_like(a) if p == 0 else p * np.power(a, p - 1)


def _powscalar_vjp_graph(g, ctx, needs, xs, out):
    p = ctx[1]
    return (g * 0.0 if p == 0 else g * p * xs[0] ** (p - 1),)


register(
    "pow_scalar",
    _powscalar_forward,
    lambda g, ctx, needs: (g * _dpowscalar(ctx[0], ctx[1]),),
    lambda ts, ctx: ts[0] * _dpowscalar(ctx[0], ctx[1]),
    sym=lambda a, p: a**p,
    doc="a ** p for a constant Python exponent p (an attribute, not an input); "
    "the gradient of a ** 0 is 0 everywhere, also at a = 0.",
    vjp_graph=_powscalar_vjp_graph,
)

# ------------------------------------------------------- transcendental
_unary("exp", np.exp, lambda x, out: out, lambda x, out: out, sym=lambda a: _sp().exp(a), doc="exp(x); its derivative is its own output.")
_unary("log", np.log, lambda x, out: 1.0 / x, lambda x, out: 1.0 / x, sym=lambda a: _sp().log(a), doc="natural log; derivative 1/x.")
_unary("sqrt", np.sqrt, lambda x, out: 0.5 / out, lambda x, out: 0.5 / out, sym=lambda a: _sp().sqrt(a),
       doc="square root; derivative 1/(2 sqrt(x)) from the output.")
_unary("sin", np.sin, lambda x, out: np.cos(x), lambda x, out: x.cos(), sym=lambda a: _sp().sin(a), doc="sin(x); derivative cos(x).")
_unary("cos", np.cos, lambda x, out: -np.sin(x), lambda x, out: -x.sin(), sym=lambda a: _sp().cos(a), doc="cos(x); derivative -sin(x).")
_unary(
    "tanh", np.tanh, lambda x, out: 1.0 - out * out, lambda x, out: 1.0 - out * out,
    sym=lambda a: _sp().tanh(a), doc="hyperbolic tangent; derivative 1 - tanh^2 from the output.",
)


def _sigmoid(x):
    # exp(-|x|) never overflows, so both halves are finite for |x| ~ 1e4.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(e.dtype, copy=False)


_unary(
    "sigmoid",
    _sigmoid,
    lambda x, out: out * (1.0 - out),
    lambda x, out: out * (1.0 - out),
    sym=lambda a: 1 / (1 + _sp().exp(-a)),
    doc="1 / (1 + exp(-x)), computed without overflow; derivative s (1 - s).",
)


#: (shape, dtype) -> a zeros view of that shape over the shared run (a few dozen shapes at most).
_ZERO_VIEWS = {}


def zero_operand(shape, dtype):
    """Read-only zeros of ``shape`` for ``np.maximum``, or None where the scalar 0 is as good or required.

    ``dtype`` is a ``np.dtype``. Non-float dtypes, tiny arrays and runs past ``ZEROS_CAP`` get None.
    """
    key = (shape, dtype)
    zero = _ZERO_VIEWS.get(key)
    if zero is None and dtype.kind == "f":
        size = math.prod(shape)
        if 16 <= size <= ZEROS_CAP:
            if len(_ZERO_VIEWS) >= 64:  # many shapes (varying batch sizes): start again rather than grow
                _ZERO_VIEWS.clear()
            zero = _ZERO_VIEWS[key] = zeros(dtype, size).reshape(shape)
    return zero


def relu_values(x, out=None):
    """``np.maximum(x, 0, out=out)``: the same bits, ~3x faster on float arrays.

    NumPy runs ``maximum`` against a scalar element by element but against an array in SIMD, so
    a float array is compared with a shared run of zeros (:func:`.scratch.zeros`), in chunks of
    at most ``ZEROS_CAP`` elements. Maximum, not ``x * mask``, which turns negatives into -0.0;
    NaN propagates.

    Args:
        x: an array. out: where to write (``x`` itself for in place), or None for a new array.

    Example:
        >>> relu_values(np.array([-1.0, 0.5, np.nan, -0.0] * 4))[:4]
        array([0. , 0.5, nan, 0. ])
    """
    if out is not None and out.dtype != x.dtype:  # NumPy's own casting rules, unchanged
        return np.maximum(x, 0, out=out)
    zero = zero_operand(x.shape, x.dtype)
    if zero is not None:
        return np.maximum(x, zero, out=out)
    big = x.dtype.kind == "f" and x.size > ZEROS_CAP and x.flags.c_contiguous
    if not big or (out is not None and not out.flags.c_contiguous):
        return np.maximum(x, 0, out=out)
    out = np.empty(x.shape, x.dtype) if out is None else out
    src, dst = x.reshape(-1), out.reshape(-1)
    for start in range(0, len(dst), ZEROS_CAP):
        stop = min(start + ZEROS_CAP, len(dst))
        np.maximum(src[start:stop], zeros(x.dtype, stop - start), out=dst[start:stop])
    return out


def _relu_forward(x):
    out = relu_values(x)
    return out, out


register(
    "relu",
    _relu_forward,
    lambda g, out, needs: (g * (out > 0),),
    lambda ts, out: ts[0] * (out > 0),
    sym=lambda a: _sp().Max(0, a),
    doc="max(x, 0); the derivative at 0 is taken as 0.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g * (ctx > 0),),
)
register(
    "abs",
    lambda x: (np.abs(x), np.sign(x)),
    lambda g, s, needs: (g * s,),
    lambda ts, s: ts[0] * s,
    sym=lambda a: _sp().Abs(a),
    doc="|x|; the derivative at 0 is taken as 0.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g * ctx,),
)


# ----------------------------------------------------------------- gates
def _minmax(name, f, loses, sym):
    def forward(a, b):
        out = f(a, b)
        # PyTorch's rule: ties split the gradient evenly (so d max(x, x)/dx = 1), the
        # input that loses gets none, and where a nan makes the order undefined both
        # inputs get all of it.
        tie = (a == b) * 0.5
        return out, (1.0 - loses(a, b) - tie, 1.0 - loses(b, a) - tie)

    register(
        name,
        forward,
        lambda g, ctx, needs: (g * ctx[0] if needs[0] else None, g * ctx[1] if needs[1] else None),
        lambda ts, ctx: tangent_sum(ts, lambda t: t * ctx[0], lambda t: t * ctx[1]),
        sym=sym,
        doc=f"element-wise {name}; where a == b each input gets half the gradient, and "
        "where either is nan both get all of it (as in PyTorch).",
        vjp_graph=lambda g, ctx, needs, xs, out: (
            g * ctx[0] if needs[0] else None,
            g * ctx[1] if needs[1] else None,
        ),
    )


_minmax("maximum", np.maximum, np.less, lambda a, b: _sp().Max(a, b))
_minmax("minimum", np.minimum, np.greater, lambda a, b: _sp().Min(a, b))


def _where_forward(a, b, cond):
    return np.where(cond, a, b), cond


register(
    "where",
    _where_forward,
    lambda g, cond, needs: (
        np.where(cond, g, 0) if needs[0] else None,
        np.where(cond, 0, g) if needs[1] else None,
    ),
    lambda ts, cond: tangent_sum(ts, lambda t: np.where(cond, t, 0.0), lambda t: np.where(cond, 0.0, t)),
    doc="where(cond, a, b); cond is a constant boolean attribute.",
    vjp_graph=lambda g, cond, needs, xs, out: (
        call("where", g, 0.0, cond=cond) if needs[0] else None,
        call("where", 0.0, g, cond=cond) if needs[1] else None,
    ),
)


def _clip_forward(x, lo=None, hi=None):
    out = np.clip(x, lo, hi)
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return out, inside


register(
    "clip",
    _clip_forward,
    lambda g, inside, needs: (g * inside,),
    lambda ts, inside: ts[0] * inside,
    doc="clip(x, lo, hi); gradient 1 inside [lo, hi] (bounds included), 0 outside.",
    vjp_graph=lambda g, inside, needs, xs, out: (g * inside,),
)


# ------------------------------------------------ non-differentiable steps
def _zero_grad(g, ctx, needs):
    return (np.zeros(ctx, dtype=g.dtype),)


def _zero_tangent(ts, ctx):
    return np.zeros_like(ts[0])


def _no_graph_grad(g, ctx, needs, xs, out):
    return (None,)  # no path: the graph gradient is an exact zero


register(
    "sign",
    lambda x: (np.sign(x), np.shape(x)),
    _zero_grad,
    _zero_tangent,
    sym=lambda a: _sp().sign(a),
    differentiable=False,
    vjp_graph=_no_graph_grad,
    doc="sign(x) in {-1, 0, +1}; piecewise constant, so its gradient is 0 everywhere.",
)
register(
    "step",
    lambda x: ((x > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64), np.shape(x)),
    _zero_grad,
    _zero_tangent,
    sym=lambda a: _sp().Heaviside(a, 0),
    differentiable=False,
    vjp_graph=_no_graph_grad,
    doc="Heaviside step: 1 where x > 0 else 0; its gradient is 0 everywhere.",
)

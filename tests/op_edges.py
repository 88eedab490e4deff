"""Edge samples for every registry op: the awkward inputs, checked against PyTorch float64.

An :class:`EdgeSample` is one op applied to explicit float64 inputs at a point where
libraries tend to disagree: signed zeros, ties, +-inf and nan, 1e+-30, size-0 and
size-1 axes, 0-d values, negative axes, non-contiguous and broadcast (stride-0)
arrays. ``tests/test_ops_edges.py`` compares chainrule's forward value, VJP and JVP
with PyTorch's for each sample; where chainrule deliberately differs, the sample
says so in ``convention`` and gives the documented values (``value``/``grad``/``jvp``,
for a cotangent and a tangent of ones), which are checked instead.

Every registry op needs at least one sample (a test enforces it): adding an op means
adding its edge samples here too. ``torch`` receives the torch module and tensors;
``call`` receives chainrule values (Tensors or Duals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import chainrule as cr
from chainrule.autodiff.ops import call as op_call

# Ops still to be given their vjp_graph and their edge samples: empty, and the tests keep it honest
# (they fail for an op on it that has both, and for an op off it that lacks either).
PENDING_OPS = set()

INF, NAN = np.inf, np.nan
SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, 1e30, -1e30, 1e-30, -1e-30, INF, -INF, NAN]


@dataclass
class EdgeSample:
    op: str
    label: str
    args: list  # float64 arrays: the differentiable inputs (may be views)
    call: object
    torch: object = None  # torch(torch_module, *tensors); None when torch has no counterpart
    ref: object = None  # NumPy reference for the forward value when torch is None
    convention: str = ""  # why chainrule differs from PyTorch here (then value/grad/jvp are checked)
    value: object = None
    grad: object = None  # list: documented gradients for a cotangent of ones
    jvp: object = None  # documented JVP for tangents of ones
    raises: type = None  # chainrule must raise this (PyTorch raises too)
    composite: bool = False  # a Tensor method made of registry ops, not a registry op
    zero_sign: bool = True  # compare the sign of zero results too

    @property
    def id(self):
        return f"{self.op}-{self.label}"


def f64(*vals):
    return np.array(vals, dtype=np.float64)


def grid(values):
    """Every pair from ``values``: two 1-D arrays covering ties, zeros and specials."""
    a, b = np.meshgrid(np.asarray(values, dtype=np.float64), np.asarray(values, dtype=np.float64))
    return a.ravel(), b.ravel()


def non_contiguous(shape, seed=0):
    """A float64 view with negative, non-unit strides (every other entry, reversed)."""
    big = np.random.default_rng(seed).standard_normal(tuple(2 * n for n in shape))
    view = big[(slice(None, None, -2),) * len(shape)]
    assert view.shape == tuple(shape) and not view.flags.c_contiguous
    return view


def broadcast(shape, seed=1):
    """A read-only stride-0 view: one row repeated."""
    row = np.random.default_rng(seed).standard_normal(shape[-1])
    return np.broadcast_to(row, shape)


def rand(*shape, seed=2):
    return np.random.default_rng(seed).standard_normal(shape)


def unary(op, fn, tfn, values=SPECIAL, conv=None, labels=(), **kw):
    """The standard samples of an element-wise unary op: specials, 0-d, size 0, strided, stride 0.

    ``conv`` (a convention and its documented values) applies to the samples named in ``labels``.
    """
    samples = [
        EdgeSample(op, "specials", [np.asarray(values, dtype=np.float64)], fn, tfn, **kw),
        EdgeSample(op, "0d-negzero", [np.array(-0.0)], fn, tfn),
        EdgeSample(op, "0d", [np.array(0.7)], fn, tfn),
        EdgeSample(op, "size0", [np.zeros((0, 3))], fn, tfn),
        EdgeSample(op, "strided", [non_contiguous((3, 4))], fn, tfn),
        EdgeSample(op, "stride0", [broadcast((3, 4))], fn, tfn),
    ]
    for s in samples:
        if s.label in labels:
            s.__dict__.update(conv or {})
    return samples


def binary(op, fn, tfn, values=(0.0, -0.0, 1.0, -1.0, 2.0, INF, -INF, NAN, 1e30, 1e-30), **kw):
    a, b = grid(values)
    return [
        EdgeSample(op, "grid", [a, b], fn, tfn, **kw),
        EdgeSample(op, "bcast", [rand(3, 1), rand(4, seed=3)], fn, tfn),
        EdgeSample(op, "0d-and-array", [np.array(2.0), rand(2, 3)], fn, tfn),
        EdgeSample(op, "size0", [np.zeros((0, 3)), rand(3)], fn, tfn),
        EdgeSample(op, "strided-stride0", [non_contiguous((3, 4)), broadcast((3, 4))], fn, tfn),
    ]


def axis_samples(op, method, tmethod, ties=True, empty_ok=True, zero_tie=None):
    """Reductions: every axis form, size-0 and size-1 axes, ties, inf and nan."""
    x = rand(3, 4)
    out = [
        EdgeSample(op, "all", [x], lambda a: method(a, None, False), lambda t, a: tmethod(t, a, None, False)),
        EdgeSample(op, "neg-axis-keep", [x], lambda a: method(a, -1, True), lambda t, a: tmethod(t, a, -1, True)),
        EdgeSample(op, "axes-tuple", [rand(2, 3, 4)], lambda a: method(a, (0, -1), False),
                   lambda t, a: tmethod(t, a, (0, -1), False)),
        EdgeSample(op, "size1-axis", [rand(3, 1)], lambda a: method(a, 1, False), lambda t, a: tmethod(t, a, 1, False)),
        EdgeSample(op, "0d", [np.array(1.5)], lambda a: method(a, None, False), lambda t, a: tmethod(t, a, None, False)),
        EdgeSample(op, "specials", [f64(1.0, INF, -INF, 2.0, NAN, 0.0)[None].repeat(2, 0) * f64(1, -1)[:, None]],
                   lambda a: method(a, 1, False), lambda t, a: tmethod(t, a, 1, False)),
        EdgeSample(op, "strided", [non_contiguous((3, 4))], lambda a: method(a, 0, False),
                   lambda t, a: tmethod(t, a, 0, False)),
        # Many short rows (a max then runs on a transposed copy): the specials and ties again.
        EdgeSample(op, "specials-many-rows", [np.tile(f64(1.0, INF, -INF, 2.0, NAN, 0.0, 3.0, 3.0, -1.0), (64, 1))
                                              * np.linspace(-1, 1, 64)[:, None]],
                   lambda a: method(a, -1, True), lambda t, a: tmethod(t, a, -1, True)),
    ]
    if ties:
        out.append(EdgeSample(op, "ties", [f64(2.0, 2.0, -1.0, 2.0, 0.0, -0.0).reshape(2, 3)],
                              lambda a: method(a, None, False), lambda t, a: tmethod(t, a, None, False)))
        out.append(EdgeSample(op, "zero-ties", [f64(0.0, -0.0, -1.0, -0.0, 0.0, 1.0).reshape(2, 3)],
                              lambda a: method(a, 1, False), lambda t, a: tmethod(t, a, 1, False), **(zero_tie or {})))
    if empty_ok:
        out.append(EdgeSample(op, "size0-axis", [np.zeros((0, 3))], lambda a: method(a, 0, False),
                              lambda t, a: tmethod(t, a, 0, False)))
    else:
        out.append(EdgeSample(op, "size0-axis", [np.zeros((0, 3))], lambda a: method(a, 0, False),
                              lambda t, a: tmethod(t, a, 0, False), raises=ValueError))
    return out


def _treduce(name):
    def f(t, a, axis, keepdims):
        fn = getattr(t, name)
        return fn(a) if axis is None else fn(a, dim=axis, keepdim=keepdims)

    return f


def _reduce(name):
    return lambda a, axis, keepdims: getattr(a, name)(axis=axis, keepdims=keepdims)


def scatter_sample(label, g, index, shape):
    """getitem_scatter against PyTorch's index_put with accumulate (integer or open-mesh indices)."""
    if not any(isinstance(i, np.ndarray) for i in index):
        index_arrays = np.ix_(*[np.arange(shape[k])[sl] for k, sl in enumerate(index)])
    else:
        index_arrays = index

    def torch_fn(t, g):
        idx = tuple(t.as_tensor(i) for i in index_arrays)
        return t.zeros(shape, dtype=g.dtype).index_put(idx, g, accumulate=True)

    return EdgeSample("getitem_scatter", label, [g], lambda a: op_call("getitem_scatter", a, index=index, shape=shape),
                      torch_fn)


def _method(name, **kw):
    return lambda a: getattr(a, name)(**kw)


def _tmethod(name, **kw):
    return lambda t, a: getattr(t, name)(a, **kw)


def _power(p):
    return lambda a: a ** p


def _tpower(p):
    return lambda t, a: a ** p


def _sce(reduction):
    return lambda a: cr.softmax_cross_entropy(a, _LABELS, reduction)


def _tsce(reduction):
    return lambda t, a: t.nn.functional.cross_entropy(a, t.as_tensor(_LABELS), reduction=reduction)


def _ce_soft(t, logits, target):
    return -(t.log_softmax(logits, dim=1 if logits.ndim > 1 else 0) * target).sum(dim=1 if logits.ndim > 1 else 0).mean()


def _zeros_like_args(args, *_):
    return [np.zeros_like(a) for a in args]


def _pow_nonpositive_base(args, tg, c):
    a, b = args
    with np.errstate(all="ignore"):
        return [tg[0], np.where(a > 0, tg[1], c * np.power(a, b) * 0.0)]


def _ieee_power_grad(p):
    def grad(args, tg, c):
        a = args[0]
        with np.errstate(all="ignore"):
            return [np.where((a == 0) | np.isinf(a), c * p * np.power(a, p - 1), tg[0])]

    return grad


def _relu_conv():
    return {
        "convention": "relu(-0.0) is +0.0 (np.maximum(x, 0)) and relu'(nan) is 0 (the mask is out > 0); "
        "PyTorch keeps -0.0 and passes the gradient through nan",
        "zero_sign": False,
        "grad": lambda args, tg, c: [np.where(np.isnan(args[0]), 0.0, tg[0])],
        "jvp": lambda args, tj, grads: grads[0],
    }


def _keep_chainrule_nan(args, t_out, *_):
    return np.where(np.isnan(args[0]), np.nan, t_out)


def _sum_of_grads(args, tj, grads):
    return grads[0] + grads[1] if len(grads) > 1 else grads[0]


_MINMAX_NAN = {
    "convention": "where a nan makes the order undefined both inputs get the whole gradient (PyTorch's VJP), "
    "and the JVP is its transpose, ta + tb (PyTorch's forward mode takes the nan input's tangent alone)",
    "jvp": _sum_of_grads,
}
_ZERO_TIE = {
    "convention": "the max (min) of tied +0.0 and -0.0 may be either zero: IEEE 754 leaves it open and NumPy "
    "and PyTorch differ; the gradient is split evenly in both",
    "zero_sign": False,
}
_LABELS = np.array([2, 0, 1])
_SOFT_ND = np.abs(rand(2, 3, 4, seed=7))
_COND = np.array([[True, False, True, False]] * 3)
_POS = np.abs(rand(2, 3)) + 0.5

EDGES = [
    *binary("add", lambda a, b: a + b, lambda t, a, b: a + b),
    *binary("sub", lambda a, b: a - b, lambda t, a, b: a - b),
    *binary("mul", lambda a, b: a * b, lambda t, a, b: a * b),
    *binary("div", lambda a, b: a / b, lambda t, a, b: a / b),
    *binary("maximum", cr.maximum, lambda t, a, b: t.maximum(a, b), **_MINMAX_NAN),
    *binary("minimum", cr.minimum, lambda t, a, b: t.minimum(a, b), **_MINMAX_NAN),
    *unary("neg", lambda a: -a, lambda t, a: -a),
    *[s for n in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid")
      for s in unary(n, getattr(cr, n), _tmethod(n))],
    *unary("relu", cr.relu, lambda t, a: t.relu(a), conv=_relu_conv(), labels=("specials", "0d-negzero")),
    *unary("abs", cr.abs, lambda t, a: t.abs(a),
           conv={"convention": "d|x|/dx at nan is nan (NaN propagates, as NumPy's sign); PyTorch gives 0",
                 "grad": lambda args, tg, c: [_keep_chainrule_nan(args, tg[0])],
                 "jvp": lambda args, tj, grads: _keep_chainrule_nan(args, tj)}, labels=("specials",)),
    EdgeSample("pow", "positive-base", [*grid([0.5, 1.0, 2.0, 1e-30, 1e30, INF])], lambda a, b: a ** b,
               lambda t, a, b: a ** b),
    EdgeSample("pow", "exponents-0-and-neg", [*grid([0.0, -0.0, 1.0, 2.0, -1.0, -2.0, 0.5])],
               lambda a, b: a ** b, lambda t, a, b: a ** b,
               convention="d(a**b)/db is defined as 0 where a <= 0 (the branch integer exponents live on); "
               "PyTorch gives nan for a < 0 and +-inf for a = 0, b < 0",
               grad=_pow_nonpositive_base, jvp=_sum_of_grads),
    EdgeSample("pow", "bcast", [_POS, rand(3, seed=4)], lambda a, b: a ** b, lambda t, a, b: a ** b),
    *[EdgeSample("pow_scalar", f"p={p}", [f64(0.0, -0.0, 1.0, -1.0, 2.0, 1e30, -1e30, INF, -INF, NAN)],
                 _power(p), _tpower(p)) for p in (0, 1, 2, 3, -1)],
    *[EdgeSample("pow_scalar", f"p={p}", [f64(0.0, -0.0, 1.0, -1.0, 2.0, 1e30, -1e30, INF, -INF, NAN)],
                 _power(p), _tpower(p), grad=_ieee_power_grad(p),
                 jvp=lambda args, tj, grads: grads[0],
                 convention="at +-0 and +-inf the local derivative is p * x**(p - 1) by IEEE pow, e.g. +inf at -0.0 "
                 "for p = 0.5 (PyTorch's fractional-power kernel gives -inf there and nan at -inf)")
      for p in (0.5, -2.5)],
    EdgeSample("pow_scalar", "0d", [np.array(-0.0)], lambda a: a ** 0, lambda t, a: a ** 0),
    EdgeSample("pow_scalar", "strided", [non_contiguous((3, 4))], lambda a: a ** 3, lambda t, a: a ** 3),
    EdgeSample("sign", "specials", [np.asarray(SPECIAL)], cr.sign, lambda t, a: t.sign(a),
               convention="sign(nan) is nan, as in NumPy (PyTorch: 0)", value=_keep_chainrule_nan),
    EdgeSample("sign", "0d", [np.array(-0.0)], cr.sign, lambda t, a: t.sign(a)),
    EdgeSample("step", "specials", [np.asarray(SPECIAL)], cr.step, ref=lambda a: (a > 0) * 1.0,
               convention="Heaviside step with H(0) = 0 and step(nan) = 0; piecewise constant, so zero "
               "gradient (PyTorch's heaviside has no derivative)", grad=_zeros_like_args,
               jvp=lambda args, tj, grads: np.zeros_like(args[0])),
    EdgeSample("where", "nan-in-unpicked", [np.full((3, 4), NAN) * _COND + 1.0, np.where(_COND, 2.0, INF)],
               lambda a, b: cr.where(_COND, a, b), lambda t, a, b: t.where(t.as_tensor(_COND), a, b)),
    EdgeSample("where", "bcast-0d", [rand(3, 4), np.array(-0.0)], lambda a, b: cr.where(_COND, a, b),
               lambda t, a, b: t.where(t.as_tensor(_COND), a, b)),
    EdgeSample("clip", "bounds", [f64(-1.0, -0.5, 0.0, -0.0, 0.7, 1.0, INF, -INF, NAN)],
               lambda a: cr.clip(a, -0.5, 0.7), lambda t, a: t.clamp(a, -0.5, 0.7)),
    EdgeSample("clip", "lo-above-hi", [f64(-1.0, 0.0, 3.0)], lambda a: cr.clip(a, 2.0, 1.0),
               lambda t, a: t.clamp(a, 2.0, 1.0)),
    EdgeSample("clip", "hi-only-strided", [non_contiguous((3, 4))], lambda a: cr.clip(a, hi=0.0),
               lambda t, a: t.clamp(a, max=0.0)),
    *axis_samples("sum", _reduce("sum"), _treduce("sum")),
    *axis_samples("mean", _reduce("mean"), _treduce("mean")),
    *axis_samples("max", _reduce("max"), _treduce("amax"), empty_ok=False, zero_tie=_ZERO_TIE),
    *axis_samples("min", _reduce("min"), _treduce("amin"), empty_ok=False, zero_tie=_ZERO_TIE),
    EdgeSample("reshape", "size0", [np.zeros((0, 3))], lambda a: a.reshape(3, 0, 1), lambda t, a: a.reshape(3, 0, 1)),
    EdgeSample("reshape", "0d-to-1", [np.array(2.0)], lambda a: a.reshape(1, 1), lambda t, a: a.reshape(1, 1)),
    EdgeSample("reshape", "strided", [non_contiguous((3, 4))], lambda a: a.reshape(-1), lambda t, a: a.reshape(-1)),
    EdgeSample("transpose", "neg-axes", [rand(2, 3, 4)], lambda a: a.permute(-1, 0, -2), lambda t, a: a.permute(-1, 0, -2)),
    EdgeSample("transpose", "0d", [np.array(1.5)], lambda a: a.T, lambda t, a: a.permute(())),
    EdgeSample("transpose", "size0-stride0", [broadcast((0, 3))], lambda a: a.T, lambda t, a: a.T),
    EdgeSample("broadcast_to", "0d", [np.array(-0.0)], lambda a: a.broadcast_to(2, 3), lambda t, a: a.expand(2, 3)),
    EdgeSample("broadcast_to", "size0", [rand(1, 3)], lambda a: a.broadcast_to(0, 3), lambda t, a: a.expand(0, 3)),
    EdgeSample("broadcast_to", "new-axes", [rand(3, 1)], lambda a: a.broadcast_to(2, 3, 4),
               lambda t, a: a.expand(2, 3, 4)),
    EdgeSample("getitem", "negative", [rand(4, 3)], lambda a: a[-1, -2:], lambda t, a: a[-1, -2:]),
    EdgeSample("getitem", "repeat-neg", [rand(4, 3)], lambda a: a[np.array([-1, 0, -1, 3])],
               lambda t, a: a[t.as_tensor(np.array([-1, 0, -1, 3]))]),
    EdgeSample("getitem", "empty", [rand(4, 3)], lambda a: a[np.array([], dtype=np.int64)],
               lambda t, a: a[t.as_tensor(np.array([], dtype=np.int64))]),
    EdgeSample("getitem", "bool-none", [rand(4, 3)], lambda a: a[np.zeros(4, bool)],
               lambda t, a: a[t.as_tensor(np.zeros(4, bool))]),
    # NumPy's rule: integer arrays separated by a slice put their axis first (PyTorch does the same).
    EdgeSample("getitem", "adv-split-by-slice", [rand(2, 3, 4)], lambda a: a[np.array([0, 1]), :, np.array([3, 3])],
               lambda t, a: a[t.as_tensor(np.array([0, 1])), :, t.as_tensor(np.array([3, 3]))]),
    EdgeSample("getitem", "ellipsis-newaxis-strided", [non_contiguous((3, 4))], lambda a: a[..., None, ::-1],
               lambda t, a: a.flip(-1)[..., None, :]),
    EdgeSample("concatenate", "neg-axis-size0", [rand(2, 0), rand(2, 3), rand(2, 1)],
               lambda a, b, c: cr.concatenate([a, b, c], axis=-1), lambda t, a, b, c: t.cat([a, b, c], dim=-1)),
    EdgeSample("concatenate", "strided", [non_contiguous((3, 4)), broadcast((2, 4))],
               lambda a, b: cr.concatenate([a, b]), lambda t, a, b: t.cat([a, b])),
    EdgeSample("stack", "0d", [np.array(1.0), np.array(-0.0)], lambda a, b: cr.stack([a, b]),
               lambda t, a, b: t.stack([a, b])),
    EdgeSample("stack", "neg-axis", [rand(2, 3), rand(2, 3, seed=5)], lambda a, b: cr.stack([a, b], axis=-1),
               lambda t, a, b: t.stack([a, b], dim=-1)),
    EdgeSample("cast", "f32-specials", [np.asarray(SPECIAL)], lambda a: a.astype(np.float32),
               lambda t, a: a.to(t.float32)),
    scatter_sample("repeat", rand(5), (np.array([0, 2, 2, -1, 0]),), (4,)),
    scatter_sample("basic-slices", rand(2, 2), (slice(1, 3), slice(None, None, 2)), (4, 3)),
    EdgeSample("matmul", "inner-size0", [np.zeros((2, 0)), np.zeros((0, 3))], lambda a, b: a @ b,
               lambda t, a, b: a @ b),
    EdgeSample("matmul", "1d-1d", [rand(3), rand(3, seed=4)], lambda a, b: a @ b, lambda t, a, b: a @ b),
    EdgeSample("matmul", "specials", [f64(INF, 0.0, 1.0, NAN).reshape(2, 2), f64(0.0, 1.0, 1e30, -0.0).reshape(2, 2)],
               lambda a, b: a @ b, lambda t, a, b: a @ b),
    EdgeSample("matmul", "strided-stride0", [non_contiguous((2, 3, 4)), broadcast((4, 2))], lambda a, b: a @ b,
               lambda t, a, b: a @ b),
    EdgeSample("linear", "batch0", [np.zeros((0, 3)), rand(2, 3), rand(2)], cr.linear,
               lambda t, x, w, b: t.nn.functional.linear(x, w, b)),
    EdgeSample("linear", "1d-strided", [rand(3), non_contiguous((2, 3))], cr.linear,
               lambda t, x, w: t.nn.functional.linear(x, w)),
    EdgeSample("logsumexp", "specials", [f64(INF, 0.0, NAN, 1.0, -0.0, -INF, 1e-30, 2.0, -1e30, 1.0).reshape(5, 2)],
               lambda a: cr.logsumexp(a, axis=1), lambda t, a: t.logsumexp(a, dim=1)),
    EdgeSample("logsumexp", "all-minus-inf", [f64(-INF, -INF, 0.0, 1.0).reshape(2, 2)],
               lambda a: cr.logsumexp(a, axis=1), lambda t, a: t.logsumexp(a, dim=1),
               convention="a slice of all -inf gives -inf with a zero gradient (PyTorch: nan)",
               grad=lambda args, tg, c: [np.where(np.isnan(tg[0]), 0.0, tg[0])],
               jvp=lambda args, tj, grads: np.where(np.isnan(tj), 0.0, tj)),
    EdgeSample("logsumexp", "huge-ties", [f64(1e30, 1e30, 1.0, 1.0)], lambda a: cr.logsumexp(a[:2]),
               lambda t, a: t.logsumexp(a[:2], dim=0),
               convention="the gradient is the softmax of the shifted exponentials, [0.5, 0.5] for [1e30, 1e30] "
               "(PyTorch's VJP uses exp(x - logsumexp(x)), and 1e30 + log 2 rounds to 1e30, giving [1, 1]; "
               "its JVP agrees with chainrule)",
               grad=lambda args, tg, c: [np.array([0.5, 0.5, 0.0, 0.0]) * c]),
    EdgeSample("logsumexp", "neg-axis-size1-keep", [rand(3, 1)], lambda a: cr.logsumexp(a, axis=-1, keepdims=True),
               lambda t, a: t.logsumexp(a, dim=-1, keepdim=True)),
    EdgeSample("logsumexp", "specials-many-rows", [np.tile(f64(INF, 0.0, NAN, 1.0, -0.0, -INF, 1e-30, 2.0, -1e30, 1.0), 16).reshape(80, 2)],
               lambda a: cr.logsumexp(a, axis=1), lambda t, a: t.logsumexp(a, dim=1)),
    EdgeSample("logsumexp", "all-0d", [np.array(-0.0)], lambda a: cr.logsumexp(a), lambda t, a: t.logsumexp(a, dim=())),
    EdgeSample("softmax", "large-and-ties", [f64(1e30, 1e30, -1e30, 0.0, -0.0, 0.0, 1.0, 2.0, 3.0).reshape(3, 3)],
               lambda a: cr.softmax(a, axis=-1), lambda t, a: t.softmax(a, dim=-1)),
    EdgeSample("softmax", "minus-inf", [f64(-INF, 0.0, 1.0, -INF).reshape(2, 2)], lambda a: cr.softmax(a, axis=0),
               lambda t, a: t.softmax(a, dim=0)),
    EdgeSample("softmax", "size1-strided", [non_contiguous((3, 1))], lambda a: cr.softmax(a, axis=1),
               lambda t, a: t.softmax(a, dim=1)),
    EdgeSample("log_softmax", "large-and-ties", [f64(1e30, 1e30, -1e30, 0.0, -0.0, 0.0).reshape(2, 3)],
               lambda a: cr.log_softmax(a, axis=1), lambda t, a: t.log_softmax(a, dim=1)),
    EdgeSample("log_softmax", "minus-inf", [f64(-INF, 0.0, 1.0, 2.0).reshape(2, 2)], lambda a: cr.log_softmax(a, axis=-1),
               lambda t, a: t.log_softmax(a, dim=-1)),
    *[EdgeSample("softmax_cross_entropy", f"large-{r}", [f64(1e30, -1e30, 0.0, 0.0, 0.0, -0.0, 5.0, 5.0, 1e-30).reshape(3, 3)],
                 _sce(r), _tsce(r))
      for r in ("mean", "sum", "none")],
    EdgeSample("softmax_cross_entropy", "batch1-strided", [non_contiguous((1, 3))],
               lambda a: cr.softmax_cross_entropy(a, _LABELS[:1]),
               lambda t, a: t.nn.functional.cross_entropy(a, t.as_tensor(_LABELS[:1]))),
    EdgeSample("conv2d", "1x1-strided", [non_contiguous((1, 2, 3, 3)), rand(2, 2, 1, 1), rand(2)], cr.conv2d,
               lambda t, x, w, b: t.nn.functional.conv2d(x, w, b)),
    EdgeSample("conv2d", "zeros-specials", [f64(0.0, -0.0, 1e30, 1e-30, 1.0, 2.0, -1.0, 0.5, 3.0).reshape(1, 1, 3, 3),
                                            f64(1.0, -0.0, 0.0, 2.0).reshape(1, 1, 2, 2)],
               lambda x, w: cr.conv2d(x, w, padding=1), lambda t, x, w: t.nn.functional.conv2d(x, w, padding=1)),
    EdgeSample("conv2d", "kernel-equals-image-batch0", [np.zeros((0, 1, 2, 2)), rand(3, 1, 2, 2)], cr.conv2d,
               lambda t, x, w: t.nn.functional.conv2d(x, w)),
    EdgeSample("max_pool2d", "ties-first-wins", [f64(1, 1, 0, 2, 1, 1, 2, 2, 0, 0, -0.0, 0, 3, 3, 3, 3).reshape(1, 1, 4, 4)],
               lambda a: cr.max_pool2d(a, 2), lambda t, a: t.nn.functional.max_pool2d(a, 2)),
    EdgeSample("max_pool2d", "overlap-inf", [f64(-INF, -INF, 1, -INF, 5, -INF, 1e30, 1e30, 2).reshape(1, 1, 3, 3)],
               lambda a: cr.max_pool2d(a, 2, stride=1), lambda t, a: t.nn.functional.max_pool2d(a, 2, stride=1)),
    EdgeSample("max_pool2d", "strided", [non_contiguous((2, 1, 4, 4))], lambda a: cr.max_pool2d(a, (2, 1)),
               lambda t, a: t.nn.functional.max_pool2d(a, (2, 1))),
]

# Compositions of registry ops that users call as methods: the examples live here.
EDGES += [
    *[EdgeSample(n, f"ddof{d}-n{k}", [rand(k)], _method(n, ddof=d),
                 _tmethod(n, correction=d), composite=True)
      for n in ("var", "std") for d, k in [(0, 1), (1, 1), (2, 1), (1, 3), (0, 4)]],
    *[EdgeSample(n, "empty", [np.zeros(0)], _method(n),
                 _tmethod(n, correction=0), composite=True,
                 convention="over no values the result is nan and so is its JVP (PyTorch's forward mode gives 0)",
                 jvp=lambda args, tj, grads: np.nan) for n in ("var", "std")],
    EdgeSample("std", "equal-values", [f64(3.0, 3.0, 3.0)], lambda a: a.std(), lambda t, a: a.std(correction=0),
               composite=True),
    EdgeSample("std", "axis-equal-rows", [f64(2.0, 2.0, 1.0, 3.0).reshape(2, 2)], lambda a: a.std(axis=1, ddof=1),
               lambda t, a: a.std(dim=1), composite=True),
    EdgeSample("norm", "zeros", [np.zeros(3)], lambda a: a.norm(), lambda t, a: a.norm(), composite=True),
    EdgeSample("norm", "specials", [f64(3.0, -4.0, 1e-30, -0.0)], lambda a: a.norm(), lambda t, a: a.norm(),
               composite=True),
    # The targets are constants here: the N-d path does not differentiate them (yet).
    EdgeSample("cross_entropy", "soft-targets-nd", [rand(2, 3, 4)],
               lambda z: cr.nn.functional.cross_entropy(z, _SOFT_ND), lambda t, z: _ce_soft(t, z, t.as_tensor(_SOFT_ND)),
               composite=True),
    EdgeSample("cross_entropy", "soft-targets-2d", [rand(4, 3), np.abs(rand(4, 3, seed=7))],
               lambda z, p: cr.nn.functional.cross_entropy(z, p), _ce_soft, composite=True),
]

# The split primitive behind split/chunk/unbind, and dropout (p=0: the identity in both libraries).
_SPLIT_SPECIAL = np.array(SPECIAL, dtype=np.float64).reshape(3, 4)
EDGES += [
    EdgeSample("split", "unbind-specials", [_SPLIT_SPECIAL.copy()],
               lambda a: cr.stack(a.unbind(1)[::-1], axis=1),  # pieces moved: each gradient lands in its own place
               lambda t, a: t.stack(a.unbind(1)[::-1], dim=1)),
    EdgeSample("split_part", "sizes-strided", [non_contiguous((5, 2))],
               lambda a: cr.concatenate(a.split([1, 0, 4])[::-1]),
               lambda t, a: t.cat(a.split([1, 0, 4])[::-1])),
    EdgeSample("dropout", "p0-specials", [np.array(SPECIAL, dtype=np.float64)],
               lambda a: cr.nn.functional.dropout(a, 0.0, seed=0), lambda t, a: t.nn.functional.dropout(a, 0.0)),
]


# The samples of ops/math.py, ops/scan.py and ops/index.py live next door (this file's size);
# that module uses the helpers above, so it is imported last.
from op_edges_more import MORE_EDGES  # noqa: E402

EDGES += MORE_EDGES

# The whole-sequence recurrent ops, against torch.nn's RNN / LSTM / GRU.
from op_edges_recurrent import RECURRENT_EDGES  # noqa: E402

EDGES += RECURRENT_EDGES

# dense_chain, against PyTorch's F.linear and activations composed.
from op_dense import dense_edges  # noqa: E402

EDGES += dense_edges(EdgeSample, rand, non_contiguous)

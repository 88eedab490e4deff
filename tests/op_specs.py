"""One spec list for every registry op: how to build inputs, call it, and a NumPy reference.

A spec is ``OpSpec(op, shapes, call, ref, domain=..., attrs=...)``: ``call``
applies the op to chainrule values (Tensors or Duals), ``ref`` to ndarrays.
Several specs per op cover broadcasting and size-1 axes. The awkward inputs (signed
zeros, ties, inf/nan, empty axes, strided arrays) are edge samples in tests/op_edges.py,
and every op also needs a ``vjp_graph`` (tests/test_higher_order.py gradgradchecks each spec).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
from chainrule.autodiff.ops import call as op_call


@dataclass
class OpSpec:
    op: str
    shapes: list
    call: object
    ref: object
    domain: str = "any"  # any | positive | distinct (no ties / kinks near 0)
    label: str = ""
    smooth: bool = True  # False: gradient is zero by definition (sign, step)
    extra: dict = field(default_factory=dict)

    @property
    def id(self):
        return f"{self.op}-{self.label or 'x'.join(map(str, self.shapes))}"

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        out = []
        for s in self.shapes:
            x = rng.standard_normal(s)
            if self.domain == "positive":
                x = np.abs(x) + 0.5
            elif self.domain == "distinct":
                # Keep entries away from 0 and from each other so kinks/ties are not hit.
                x = np.sign(x) * (np.abs(x) + 0.3) + rng.uniform(-0.05, 0.05, s)
            elif callable(self.domain):  # a map from standard-normal samples into the op's domain
                x = self.domain(x)
            out.append(x)
        return out


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _pairs(*vs):
    return [(v, v) if isinstance(v, int) else v for v in vs]


def _conv2d_ref(x, w, b=None, stride=1, padding=0):
    """Convolution one output pixel at a time: the slow, obviously right version."""
    (sh, sw), (ph, pw) = _pairs(stride, padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    f, _, kh, kw = w.shape
    out = np.zeros((x.shape[0], f, (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.einsum("nckl,fckl->nf", patch, w)
    return out if b is None else out + b[:, None, None]


def _max_pool2d_ref(x, kernel_size, stride=None):
    (kh, kw), (sh, sw) = _pairs(kernel_size, kernel_size if stride is None else stride)
    out = np.zeros((*x.shape[:2], (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
    return out


def _binary(op, fn, np_fn, shapes_list, domain="any"):
    return [OpSpec(op, list(s), fn, np_fn, domain=domain) for s in shapes_list]


_BCAST = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (2, 3)], [(1,), (5,)]]
_UNARY_SHAPES = [[(3, 4)], [()], [(2, 1, 3)]]
_LABELS = np.array([0, 2, 1, 2])
_LABELS64 = np.arange(64) * 7 % 10

SPECS = [
    *_binary("add", lambda a, b: a + b, np.add, _BCAST),
    *_binary("sub", lambda a, b: a - b, np.subtract, _BCAST),
    *_binary("mul", lambda a, b: a * b, np.multiply, _BCAST),
    *_binary("div", lambda a, b: a / b, np.divide, _BCAST, domain="positive"),
    *_binary("pow", lambda a, b: a ** b, np.power, _BCAST[:3], domain="positive"),
    *_binary("maximum", cr.maximum, np.maximum, _BCAST, domain="distinct"),
    *_binary("minimum", cr.minimum, np.minimum, _BCAST, domain="distinct"),
    OpSpec("neg", [(3, 4)], lambda a: -a, np.negative),
    OpSpec("pow_scalar", [(3, 4)], lambda a: a ** 3, lambda a: a ** 3),
    OpSpec("pow_scalar", [(2, 3)], lambda a: a ** -1.5, lambda a: a ** -1.5, domain="positive", label="neg-frac"),
    *[OpSpec(n, s, getattr(cr, n), f, domain=d) for n, f, d in [
        ("exp", np.exp, "any"), ("log", np.log, "positive"), ("sqrt", np.sqrt, "positive"),
        ("sin", np.sin, "any"), ("cos", np.cos, "any"), ("tanh", np.tanh, "any"),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), "any"), ("relu", lambda x: np.maximum(x, 0), "distinct"),
        ("abs", np.abs, "distinct"),
    ] for s in _UNARY_SHAPES],
    OpSpec("sign", [(3, 4)], cr.sign, np.sign, domain="distinct", smooth=False),
    OpSpec("step", [(3, 4)], cr.step, lambda x: (x > 0) * 1.0, domain="distinct", smooth=False),
    OpSpec("where", [(3, 4), (3, 4)], lambda a, b: cr.where(np.arange(12).reshape(3, 4) % 3 == 0, a, b),
           lambda a, b: np.where(np.arange(12).reshape(3, 4) % 3 == 0, a, b)),
    OpSpec("where", [(3, 4), (4,)], lambda a, b: cr.where(np.arange(12).reshape(3, 4) % 2 == 0, a, b),
           lambda a, b: np.where(np.arange(12).reshape(3, 4) % 2 == 0, a, b), label="bcast"),
    OpSpec("clip", [(3, 4)], lambda a: cr.clip(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), domain="distinct"),
    OpSpec("clip", [(5,)], lambda a: cr.clip(a, lo=0.1), lambda a: np.clip(a, 0.1, None), domain="distinct", label="lo"),
    *[OpSpec("sum", [(3, 4, 2)], (lambda ax, kd: lambda a: a.sum(axis=ax, keepdims=kd))(ax, kd),
             (lambda ax, kd: lambda a: a.sum(axis=ax, keepdims=kd))(ax, kd), label=f"{ax}-{kd}")
      for ax in (None, 0, (0, 2), -1) for kd in (False, True)],
    *[OpSpec("mean", [(3, 4, 2)], (lambda ax, kd: lambda a: a.mean(axis=ax, keepdims=kd))(ax, kd),
             (lambda ax, kd: lambda a: a.mean(axis=ax, keepdims=kd))(ax, kd), label=f"{ax}-{kd}")
      for ax in (None, 1, (0, 1)) for kd in (False, True)],
    *[OpSpec(n, [(3, 4)], (lambda n, ax, kd: lambda a: getattr(a, n)(axis=ax, keepdims=kd))(n, ax, kd),
             (lambda n, ax, kd: lambda a: getattr(np, n)(a, axis=ax, keepdims=kd))(n, ax, kd),
             domain="distinct", label=f"{ax}-{kd}")
      for n in ("max", "min") for ax in (None, 0, 1) for kd in (False, True)],
    *[OpSpec(n, [(4, 16, 3)], (lambda n: lambda a: getattr(a, n)(axis=-1))(n), (lambda n: lambda a: getattr(np, n)(a, axis=-1))(n),
             domain="distinct", label="rows") for n in ("max", "min")],  # many short rows: the transposed path
    OpSpec("matmul", [(3, 4), (4, 2)], lambda a, b: a @ b, np.matmul, label="2d"),
    OpSpec("matmul", [(4,), (4,)], lambda a, b: a @ b, np.matmul, label="1d-1d"),
    OpSpec("matmul", [(4,), (4, 3)], lambda a, b: a @ b, np.matmul, label="1d-2d"),
    OpSpec("matmul", [(3, 4), (4,)], lambda a, b: a @ b, np.matmul, label="2d-1d"),
    OpSpec("matmul", [(2, 3, 4), (4, 5)], lambda a, b: a @ b, np.matmul, label="batched"),
    OpSpec("matmul", [(2, 1, 3, 4), (5, 4, 2)], lambda a, b: a @ b, np.matmul, label="bcast-batch"),
    OpSpec("matmul", [(4,), (2, 4, 3)], lambda a, b: a @ b, np.matmul, label="1d-batched"),
    OpSpec("matmul", [(2, 3, 4), (4,)], lambda a, b: a @ b, np.matmul, label="batched-1d"),
    OpSpec("linear", [(5, 3), (4, 3), (4,)], cr.linear, lambda x, w, b: x @ w.T + b, label="bias"),
    OpSpec("linear", [(5, 3), (4, 3)], cr.linear, lambda x, w: x @ w.T, label="nobias"),
    OpSpec("linear", [(2, 5, 3), (4, 3), (4,)], cr.linear, lambda x, w, b: x @ w.T + b, label="3d"),
    OpSpec("reshape", [(3, 4)], lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6)),
    OpSpec("reshape", [(3, 4)], lambda a: a.reshape(-1), lambda a: a.reshape(-1), label="flat"),
    OpSpec("transpose", [(3, 4)], lambda a: a.T, lambda a: a.T),
    OpSpec("transpose", [(2, 3, 4)], lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), label="perm"),
    OpSpec("broadcast_to", [(3, 1)], lambda a: a.broadcast_to(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4))),
    OpSpec("getitem", [(5, 4)], lambda a: a[1:4, ::2], lambda a: a[1:4, ::2], label="basic"),
    OpSpec("getitem", [(5, 4)], lambda a: a[np.array([0, 2, 2, 4])], lambda a: a[np.array([0, 2, 2, 4])], label="int-repeat"),
    OpSpec("getitem", [(5, 4)], lambda a: a[np.arange(5) % 2 == 0], lambda a: a[np.arange(5) % 2 == 0], label="bool"),
    OpSpec("getitem", [(4, 3)], lambda a: a[np.array([0, 1, 3, 1]), np.array([2, 0, 1, 0])],
           lambda a: a[np.array([0, 1, 3, 1]), np.array([2, 0, 1, 0])], label="pairs"),
    OpSpec("getitem", [(3, 4)], lambda a: a[1], lambda a: a[1], label="int"),
    OpSpec("concatenate", [(2, 3), (4, 3)], lambda a, b: cr.concatenate([a, b]), lambda a, b: np.concatenate([a, b])),
    OpSpec("concatenate", [(2, 3), (2, 1)], lambda a, b: cr.concatenate([a, b], axis=1),
           lambda a, b: np.concatenate([a, b], axis=1), label="ax1"),
    OpSpec("stack", [(2, 3), (2, 3)], lambda a, b: cr.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1)),
    OpSpec("logsumexp", [(3, 4)], lambda a: cr.logsumexp(a, axis=1), lambda a: _lse(a, axis=1)),
    OpSpec("logsumexp", [(3, 4)], lambda a: cr.logsumexp(a), lambda a: _lse(a), label="all"),
    OpSpec("logsumexp", [(3, 4)], lambda a: cr.logsumexp(a, axis=0, keepdims=True),
           lambda a: _lse(a, axis=0, keepdims=True), label="keep"),
    OpSpec("softmax", [(3, 4)], cr.softmax, _softmax),
    OpSpec("softmax", [(3, 4)], lambda a: cr.softmax(a, axis=0), lambda a: _softmax(a, axis=0), label="ax0"),
    OpSpec("log_softmax", [(3, 4)], cr.log_softmax, lambda a: np.log(_softmax(a))),
    OpSpec("softmax_cross_entropy", [(4, 3)], lambda a: cr.softmax_cross_entropy(a, _LABELS),
           lambda a: -np.mean(np.log(_softmax(a))[np.arange(4), _LABELS])),
    OpSpec("softmax_cross_entropy", [(4, 3)], lambda a: cr.softmax_cross_entropy(a, _LABELS, "sum"),
           lambda a: -np.sum(np.log(_softmax(a))[np.arange(4), _LABELS]), label="sum"),
    OpSpec("softmax_cross_entropy", [(4, 3)], lambda a: cr.softmax_cross_entropy(a, _LABELS, "none"),
           lambda a: -np.log(_softmax(a))[np.arange(4), _LABELS], label="none"),
    # Many rows, few classes: the shape of a loss head, where rows reduce from a transposed copy.
    OpSpec("softmax", [(64, 10)], cr.softmax, _softmax, label="rows"),
    OpSpec("log_softmax", [(64, 10)], cr.log_softmax, lambda a: np.log(_softmax(a)), label="rows"),
    OpSpec("logsumexp", [(2, 32, 5)], lambda a: cr.logsumexp(a, axis=-1), lambda a: _lse(a, axis=-1), label="rows"),
    OpSpec("softmax_cross_entropy", [(64, 10)], lambda a: cr.softmax_cross_entropy(a, _LABELS64),
           lambda a: -np.mean(np.log(_softmax(a))[np.arange(64), _LABELS64]), label="rows"),
    # A float32 round trip would defeat finite differences; float32 casts are tested on their own.
    OpSpec("cast", [(3, 2)], lambda a: a.astype(np.float64) * 2, lambda a: a * 2),
    *[OpSpec("conv2d", shapes, (lambda kw: lambda *a: cr.conv2d(*a, **kw))(kw),
             (lambda kw: lambda *a: _conv2d_ref(*a, **kw))(kw), label=label)
      for label, shapes, kw in [
          ("bias", [(2, 3, 5, 6), (4, 3, 3, 3), (4,)], {}),
          ("nobias", [(1, 1, 4, 4), (1, 1, 2, 2)], {}),
          ("s2-p1", [(2, 3, 5, 6), (4, 3, 3, 2), (4,)], {"stride": 2, "padding": 1}),
          ("pairs", [(2, 2, 5, 5), (3, 2, 3, 3), (3,)], {"stride": (1, 2), "padding": (2, 1)}),
          ("1x3-s2", [(1, 2, 4, 7), (2, 2, 1, 3)], {"stride": 2}),
          ("3x2-s2x1-p2x0", [(2, 2, 6, 5), (3, 2, 3, 2), (3,)], {"stride": (2, 1), "padding": (2, 0)}),
          ("2x3-s3-p1", [(1, 3, 7, 8), (2, 3, 2, 3)], {"stride": 3, "padding": 1}),
      ]],
    *[OpSpec("max_pool2d", [shape], (lambda kw: lambda a: cr.max_pool2d(a, **kw))(kw),
             (lambda kw: lambda a: _max_pool2d_ref(a, **kw))(kw), domain="distinct", label=label)
      for label, shape, kw in [
          ("k2", (2, 3, 4, 6), {"kernel_size": 2}),
          ("overlap", (1, 2, 5, 5), {"kernel_size": 3, "stride": 1}),
          ("pairs-odd", (2, 1, 5, 7), {"kernel_size": (2, 3), "stride": (1, 2)}),
          ("k2-cropped", (1, 2, 5, 7), {"kernel_size": 2}),
          ("k2x3-s2x3", (2, 1, 4, 7), {"kernel_size": (2, 3)}),
          ("s3-gaps", (1, 2, 7, 8), {"kernel_size": 2, "stride": 3}),
      ]],
]


# ------------------------------------------------ math primitives (issue 11, section 2)
def _unit(x):
    return np.tanh(x) * 0.9  # strictly inside (-1, 1)


def _above1(x):
    return np.abs(x) + 1.2


def _away_from_int_quotients(x):
    return np.sign(x) * (np.abs(x) + 0.3) + 0.01 * np.arange(x.size).reshape(x.shape) / max(x.size, 1)


_MATH_UNARY = [
    ("tan", np.tan, lambda x: np.tanh(x) * 1.2), ("asin", np.arcsin, _unit), ("acos", np.arccos, _unit),
    ("atan", np.arctan, "any"), ("sinh", np.sinh, "any"), ("cosh", np.cosh, "any"),
    ("asinh", np.arcsinh, "any"), ("acosh", np.arccosh, _above1), ("atanh", np.arctanh, _unit),
    ("log2", np.log2, "positive"), ("log10", np.log10, "positive"), ("exp2", np.exp2, "any"),
    ("log1p", np.log1p, "positive"), ("expm1", np.expm1, "any"),
    ("erf", np.vectorize(__import__("math").erf), "any"),
]
SPECS += [
    *[OpSpec(n, s, getattr(cr, n), f, domain=d) for n, f, d in _MATH_UNARY for s in _UNARY_SHAPES],
    OpSpec("log1p", [(0, 3)], cr.log1p, np.log1p, domain="positive", label="size0"),
    OpSpec("erf", [(4, 1)], lambda a: cr.erf(a.T), lambda a: np.vectorize(__import__("math").erf)(a.T), label="noncontig"),
    *[OpSpec(n, [(3,)], getattr(cr, n), f, domain="distinct", smooth=False)
      for n, f in [("floor", np.floor), ("ceil", np.ceil), ("round", np.round), ("trunc", np.trunc)]],
    OpSpec("round", [(2, 3)], lambda a: cr.round(a * 3), lambda a: np.round(a * 3), domain="distinct", smooth=False, label="x3"),
    *_binary("atan2", cr.atan2, np.arctan2, _BCAST[:4]),
    *_binary("fmod", cr.fmod, np.fmod, _BCAST[:4], domain=_away_from_int_quotients),
    *_binary("remainder", lambda a, b: a % b, np.remainder, _BCAST[:4], domain=_away_from_int_quotients),
    OpSpec("floor_divide", [(3, 4)], lambda a: a // 0.7, lambda a: np.floor_divide(a, 0.7), domain="distinct", smooth=False),
]

# ------------------------------------------------ products, scans, gather/scatter
_IDX = np.array([[2, 0, 0, 1], [1, 1, 2, 0]])
SPECS += [
    *[OpSpec("prod", [shape], (lambda ax, kd: lambda a: a.prod(axis=ax, keepdims=kd))(ax, kd),
             (lambda ax, kd: lambda a: np.prod(a, axis=ax, keepdims=kd))(ax, kd), label=f"{shape}-{ax}-{kd}")
      for shape, ax, kd in [((3, 4), None, False), ((3, 4), 1, True), ((2, 3, 4), (0, 2), False), ((3, 4), -1, False),
                            ((), None, False), ((0, 3), 1, False), ((3, 1), 1, False)]],
    OpSpec("prod", [(3, 4)], lambda a: cr.where(np.array([1, 0, 1, 1]) > 0, a, 0.0).prod(axis=1),
           lambda a: np.prod(a * np.array([1.0, 0.0, 1.0, 1.0]), axis=1), label="one-zero"),
    OpSpec("prod", [(3, 4)], lambda a: cr.where(np.array([0, 0, 1, 1]) > 0, a, 0.0).prod(axis=1),
           lambda a: np.prod(a * np.array([0.0, 0.0, 1.0, 1.0]), axis=1), label="two-zeros"),
    *[OpSpec(n, [shape], (lambda n, ax: lambda a: getattr(a, n)(axis=ax))(n, ax),
             (lambda f, ax: lambda a: f(a, ax))(f, ax), label=f"{shape}-{ax}")
      for n, f in [("cumsum", lambda a, ax: np.cumsum(a, axis=ax)), ("cumprod", lambda a, ax: np.cumprod(a, axis=ax)),
                   ("logcumsumexp", lambda a, ax: np.logaddexp.accumulate(a.reshape(-1) if ax is None else a, axis=ax or 0))]
      for shape, ax in [((3, 4), 1), ((3, 4), -2), ((2, 3, 2), None), ((1, 4), 0), ((0, 2), 1)]],
    OpSpec("cumprod", [(2, 4)], lambda a: cr.where(np.array([1, 0, 1, 0]) > 0, a, 0.0).cumprod(axis=1),
           lambda a: np.cumprod(a * np.array([1.0, 0.0, 1.0, 0.0]), axis=1), label="zeros"),
    OpSpec("take_along_axis", [(3, 4)], lambda a: a.take_along_axis(_IDX, 0), lambda a: np.take_along_axis(a, _IDX, 0)),
    OpSpec("take_along_axis", [(3, 4)], lambda a: a[:2].take_along_axis(_IDX[:, :3] % 4, -1),
           lambda a: np.take_along_axis(a[:2], _IDX[:, :3] % 4, -1), label="repeat"),
    OpSpec("take_along_axis", [(1, 5)], lambda a: a.take_along_axis(np.array([[4, 0], [1, 1]]), 1),
           lambda a: np.take_along_axis(a, np.array([[4, 0], [1, 1]]), 1), label="bcast"),
    OpSpec("take_along_axis", [(4, 3)], lambda a: a.T.sort(axis=0), lambda a: np.sort(a.T, axis=0), domain="distinct", label="sort"),
    OpSpec("scatter", [(3, 5), (2, 4)], lambda a, b: a.scatter(0, _IDX, b), lambda a, b: _scatter_ref(a, b, _IDX, False),
           label="assign"),
    OpSpec("scatter", [(3, 5), (2, 4)], lambda a, b: a.scatter_add(0, _IDX, b), lambda a, b: _scatter_ref(a, b, _IDX, True),
           label="add"),
    OpSpec("scatter", [(3, 4), (3, 2)], lambda a, b: a.index_add(1, np.array([3, 3]), b),
           lambda a, b: a + np.stack([np.zeros(3)] * 3 + [b.sum(1)], 1), label="index_add"),
]


def _scatter_ref(x, src, index, add):
    out = x.copy()
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            out[index[i, j], j] = out[index[i, j], j] + src[i, j] if add else src[i, j]
    return out

# ------------------------------------------------ shapes (compositions) and linear algebra
def _spd(a):
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(a.shape[-1])


SPECS += [
    *[OpSpec(op, shapes, call, ref, label=label) for op, label, shapes, call, ref in [
        ("getitem", "flip", [(3, 4)], lambda a: a.flip(1), lambda a: a[:, ::-1]),
        ("getitem", "flip-all", [(2, 3)], lambda a: a.flip(), lambda a: a[::-1, ::-1]),
        ("concatenate", "roll", [(3, 4)], lambda a: a.roll(1, -1), lambda a: np.roll(a, 1, -1)),
        ("concatenate", "roll-flat", [(3, 4)], lambda a: a.roll(5), lambda a: np.roll(a, 5)),
        ("concatenate", "pad", [(2, 3)], lambda a: a.pad((1, 2, 0, 1), value=0.5),
         lambda a: np.pad(a, ((0, 1), (1, 2)), constant_values=0.5)),
        ("getitem", "pad-reflect", [(2, 4)], lambda a: a.pad((2, 1), "reflect"), lambda a: np.pad(a, ((0, 0), (2, 1)), "reflect")),
        ("getitem", "pad-replicate", [(2, 3)], lambda a: a.pad((2, 1, 1, 0), "replicate"), lambda a: np.pad(a, ((1, 0), (2, 1)), "edge")),
        ("getitem", "pad-circular", [(2, 3)], lambda a: a.pad((2, 1), "circular"), lambda a: np.pad(a, ((0, 0), (2, 1)), "wrap")),
        ("broadcast_to", "repeat", [(2, 3)], lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
        ("getitem", "repeat_interleave", [(2, 3)], lambda a: a.repeat_interleave(np.array([1, 0, 2]), dim=1),
         lambda a: np.repeat(a, [1, 0, 2], axis=1)),
        ("where", "tril", [(3, 4)], lambda a: a.tril(), np.tril),
        ("where", "triu", [(2, 3, 3)], lambda a: a.triu(1), lambda a: np.triu(a, 1)),
        ("getitem", "diagonal", [(3, 4)], lambda a: a.diagonal(1), lambda a: np.diagonal(a, 1)),
        ("getitem", "diagonal-3d", [(2, 3, 4)], lambda a: a.diagonal(-1, 1, 2), lambda a: np.diagonal(a, -1, 1, 2)),
        ("where", "diag", [(3,)], lambda a: a.diag(-1), lambda a: np.diag(a, -1)),
        ("getitem", "trace", [(3, 3)], lambda a: a.trace(), np.trace),
        ("split_part", "split", [(5, 2)], lambda a: a.split([2, 3])[1] * 2, lambda a: a[2:] * 2),
        ("split_part", "unbind", [(3, 2)], lambda a: a.unbind(1)[1], lambda a: a[:, 1]),
        ("transpose", "swap", [(2, 3, 4)], lambda a: a.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2)),
        ("transpose", "moveaxis", [(2, 3, 4)], lambda a: a.moveaxis(0, -1), lambda a: np.moveaxis(a, 0, -1)),
        ("reshape", "flatten", [(2, 3, 4)], lambda a: a.flatten(1, 2), lambda a: a.reshape(2, 12)),
        ("reshape", "unflatten", [(2, 6)], lambda a: a.unflatten(1, (3, -1)), lambda a: a.reshape(2, 3, 2)),
        ("mul", "kron", [(2, 3), (2, 2)], lambda a, b: a.kron(b), np.kron),
        ("mul", "kron-1d-2d", [(3,), (2, 2)], cr.kron, np.kron),
    ]],
    *[OpSpec("einsum", shapes, (lambda s: lambda *a: cr.einsum(s, *a))(s), (lambda s: lambda *a: np.einsum(s, *a))(s), label=s)
      for s, shapes in [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
                        ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("i,i,i->", [(3,), (3,), (3,)]),
                        ("bij,bj->bi", [(2, 3, 4), (2, 4)]), ("ij->ji", [(2, 3)]), ("iij->j", [(2, 2, 3)])]],
    OpSpec("einsum", [(3, 4), (4, 2)], lambda a, b: a.tensordot(b, 1), lambda a, b: np.tensordot(a, b, 1), label="tensordot"),
    OpSpec("einsum", [(2, 3, 4), (3, 4, 2)], lambda a, b: cr.tensordot(a, b, ([1, 2], [0, 1])),
           lambda a, b: np.tensordot(a, b, ([1, 2], [0, 1])), label="tensordot-pairs"),
    OpSpec("einsum", [(3,), (4,)], cr.outer, np.outer, label="outer"),
    OpSpec("einsum", [(2, 3), (4, 3)], cr.inner, np.inner, label="inner"),
    OpSpec("einsum", [(2, 3, 4), (4, 2)], cr.dot, np.dot, label="dot-nd"),
    OpSpec("inv", [(3, 3)], cr.linalg.inv, np.linalg.inv, domain=lambda x: x + 3 * np.eye(3)),
    OpSpec("inv", [(2, 3, 3)], cr.linalg.inv, np.linalg.inv, domain=_spd, label="batched"),
    OpSpec("solve", [(3, 3), (3,)], cr.linalg.solve, np.linalg.solve, domain=lambda x: x + 3 * np.eye(*x.shape) if x.ndim == 2 else x),
    OpSpec("solve", [(2, 3, 3), (2, 3, 2)], cr.linalg.solve, np.linalg.solve, domain=lambda x: _spd(x) if x.shape[-1] == 3 else x,
           label="batched"),
    OpSpec("det", [(3, 3)], cr.linalg.det, np.linalg.det),
    OpSpec("det", [(2, 2, 2)], cr.linalg.det, np.linalg.det, label="batched"),
    OpSpec("det", [(3, 3)], lambda a: cr.linalg.det(cr.where(np.array([True, True, False]), a, a[:, :1])),
           lambda a: 0 * a[0, 0], label="singular"),
    OpSpec("slogdet", [(3, 3)], lambda a: cr.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1]),
]
# dropout: a fresh Generator seeded 3 per call draws the same mask each time, so finite differences apply.
SPECS.append(OpSpec("dropout", [(4, 5)], lambda a: cr.nn.functional.dropout(a, 0.4, seed=3),
                    lambda a: a * (np.random.default_rng(3).random((4, 5)) >= 0.4) / 0.6))
# split / split_part: the pieces recombined with different weights, so every piece's gradient is checked.
SPECS.append(OpSpec("split", [(3, 4)], lambda a: cr.stack([p * (k + 1.0) for k, p in enumerate(cr.unbind(a, 1))], axis=1),
                    lambda a: a * np.arange(1.0, 5.0), label="unbind"))
SPECS.append(OpSpec("split_part", [(5, 2)], lambda a: cr.concatenate([p * (k + 2.0) for k, p in enumerate(cr.split(a, [1, 2, 2]))]),
                    lambda a: a * np.array([2.0, 3, 3, 4, 4])[:, None], label="split"))


def _put(shape, index, g):
    out = np.zeros(shape)
    np.add.at(out, index, g)
    return out


def _scatter(index, shape):
    return (lambda g: op_call("getitem_scatter", g, index=index, shape=shape)), (lambda g: _put(shape, index, g))


# getitem's gradient as an op of its own (so that create_graph can differentiate it again).
SPECS += [
    OpSpec("getitem_scatter", [(4,)], *_scatter((np.array([0, 2, 2, 4]), np.array([1, 0, 0, 2])), (5, 3)),
           label="int-repeat"),
    OpSpec("getitem_scatter", [(2, 2)], *_scatter((slice(1, 3), slice(None, None, 2)), (4, 3)), label="basic"),
]

# The whole-sequence recurrent ops, with their NumPy references, live next door (this file's size).
from op_specs_recurrent import RECURRENT_SPECS  # noqa: E402

SPECS += RECURRENT_SPECS

# dense_chain, the fused run of dense layers, against the layers composed one at a time.
from op_dense import dense_specs  # noqa: E402

SPECS += dense_specs(OpSpec)

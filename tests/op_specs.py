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
      ]],
    *[OpSpec("max_pool2d", [shape], (lambda kw: lambda a: cr.max_pool2d(a, **kw))(kw),
             (lambda kw: lambda a: _max_pool2d_ref(a, **kw))(kw), domain="distinct", label=label)
      for label, shape, kw in [
          ("k2", (2, 3, 4, 6), {"kernel_size": 2}),
          ("overlap", (1, 2, 5, 5), {"kernel_size": 3, "stride": 1}),
          ("pairs-odd", (2, 1, 5, 7), {"kernel_size": (2, 3), "stride": (1, 2)}),
      ]],
]


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

"""PyTorch (float64) as the oracle for the op set: values, VJPs and JVPs, edge samples included.

One row per op: a chainrule callable, the torch callable it should agree with, and
sample inputs (edge values such as +-0.0, +-inf, nan, 1e+-30, size-0 and 0-d
arrays among them). Floating inputs are differentiated; integer inputs (labels,
indices) are constants. Where chainrule deliberately differs from PyTorch the
row says so in a comment and samples the documented value elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import chainrule as cr
from op_dense import DENSE_CASES, dense_call, dense_torch

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for these tests")
pytestmark = pytest.mark.torch
T = torch


@dataclass
class Row:
    name: str
    ours: object
    theirs: object
    samples: list
    grad: bool = True  # compare VJPs and JVPs (False for index/boolean results)
    jvp: bool = True  # False where PyTorch's forward mode disagrees with its own reverse mode
    rtol: float = 1e-10

    def cases(self):
        return [(self, i) for i in range(len(self.samples))]


def _r(*shape, seed=0, scale=1.0, low=None):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    return x if low is None else np.abs(x) + low


EDGE = np.array([0.0, -0.0, 0.5, -0.5, 1e-30, -1e-30, 3.0, -3.0, np.inf, -np.inf, np.nan])
BIG = np.array([1e30, -1e30, 1e-300, 20.0, -20.0])
UNIT = np.array([0.0, -0.0, 0.3, -0.7, 0.999, -1.0, 1.0, 1.5, np.nan])
POS = np.array([0.0, -0.0, 1e-30, 0.5, 1.0, 7.0, 1e30, np.inf, -1.0, np.nan])


UNARY_SAMPLES = (EDGE, BIG, _r(3, 4), np.array(0.7))


def _u(name, torch_name=None, samples=UNARY_SAMPLES):
    return Row(name, getattr(cr, name), getattr(T, torch_name or name), [(s,) for s in samples])


ROWS = [
    Row("tan", cr.tan, T.tan, [(EDGE,), (_r(3, 4),), (np.array(-0.2),)]),
    _u("asin", samples=(UNIT, _r(2, 3, scale=0.3))),
    _u("acos", samples=(UNIT, _r(2, 3, scale=0.3))),
    _u("atan"), _u("sinh"), _u("cosh"), _u("asinh"),
    _u("acosh", samples=(np.array([1.0, 1.5, 3.0, 1e30, np.inf, 0.5, np.nan]), _r(2, 3, low=1.1))),
    _u("atanh", samples=(UNIT, _r(2, 3, scale=0.3))),
    _u("log2", samples=(POS, _r(2, 3, low=0.1))), _u("log10", samples=(POS, _r(2, 3, low=0.1))),
    _u("log1p", samples=(np.array([0.0, -0.0, 1e-30, -1e-30, 0.5, -0.5, -1.0, 1e30, np.inf, np.nan]),)),
    _u("exp2"), _u("expm1"), _u("erf"),
    _u("rsqrt", samples=(POS, _r(2, 3, low=0.1))), _u("reciprocal", samples=(POS, _r(2, 3, low=0.1))),
    _u("square"),
    *[_u(n, samples=(EDGE, _r(3, 4, scale=3.0))) for n in ("floor", "ceil", "trunc")],
    _u("round", samples=(np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49, -0.0, np.inf, np.nan]), _r(3, 4, scale=3.0))),
    Row("atan2", cr.atan2, T.atan2, [(EDGE, EDGE[::-1].copy()), (_r(3, 4), _r(4, seed=1)), (_r(2, 1, 3), np.array(0.4))]),
    # At the origin PyTorch's VJP is 0 but its JVP nan; chainrule's JVP is 0 too (see test below).
    Row("atan2", cr.atan2, T.atan2, [(np.zeros(3), np.array([0.0, -0.0, 1.0]))], jvp=False),
    Row("fmod", cr.fmod, T.fmod, [(np.array([5.0, -5.0, 5.5, -0.0, 7.0]), np.array([3.0, 3.0, -2.0, 2.0, 2.5])),
                                  (_r(3, 4, scale=4.0), _r(4, seed=1, low=0.3))]),
    Row("remainder", lambda a, b: a % b, T.remainder,
        [(np.array([5.0, -5.0, 5.5, -0.0, 7.0]), np.array([3.0, 3.0, -2.0, 2.0, 2.5])),
         (_r(3, 4, scale=4.0), _r(4, seed=1, low=0.3))]),
    Row("floor_divide", lambda a, b: a // b, T.floor_divide,  # torch has no derivative for it; ours is 0
        [(np.array([5.0, -5.0, 5.5, -0.0, 7.0]), np.array([3.0, 3.0, -2.0, 2.0, 2.5]))], grad=False),
    # Equal infinite inputs: chainrule gives the finite tie gradient 1/2 each, PyTorch nan; not sampled.
    Row("logaddexp", cr.logaddexp, T.logaddexp,
        [(np.array([0.0, -0.0, 1e30, -1e30, 3.0, -np.inf, 2.0]), np.array([0.0, 1.0, 1e30, -1e30, -40.0, 1.0, np.inf])),
         (_r(3, 4), _r(4, seed=1))]),
    Row("lerp", cr.lerp, T.lerp, [(_r(3, 4), _r(3, 4, seed=1), _r(3, 4, seed=2)), (_r(3, 4), _r(4, seed=1), np.array(0.3))]),
    Row("isnan", cr.isnan, T.isnan, [(EDGE,)], grad=False),
    Row("isinf", cr.isinf, T.isinf, [(EDGE,)], grad=False),
    Row("isfinite", cr.isfinite, T.isfinite, [(EDGE,)], grad=False),
    *[Row(n, getattr(cr, n), getattr(T, n), [(EDGE, EDGE[::-1].copy()), (_r(3, 4), np.array(0.0))], grad=False)
      for n in ("logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge")],
    Row("logical_not", cr.logical_not, T.logical_not, [(EDGE,)], grad=False),
    Row("argmax", lambda a: cr.argmax(a, dim=1), lambda a: T.argmax(a, dim=1),
        [(np.array([[1.0, 3.0, 3.0], [-1.0, -1.0, -2.0]]),), (_r(3, 4),)], grad=False),
    Row("argmin", lambda a: a.argmin(axis=-1, keepdims=True), lambda a: T.argmin(a, dim=-1, keepdim=True),
        [(np.array([[1.0, 3.0, 1.0], [-1.0, -1.0, -2.0]]),), (_r(3, 4),)], grad=False),
    Row("any", lambda a: cr.any(a, dim=0), lambda a: T.any(a, dim=0), [(np.array([[0.0, -0.0], [0.0, 2.0]]),)], grad=False),
    Row("all", lambda a: cr.all(a, axis=1), lambda a: T.all(a, dim=1), [(np.array([[1.0, -0.0], [np.nan, 2.0]]),)], grad=False),
]

# The registry as it was before the extended op set; their torch tests live in the older modules.
EARLIER_OPS = {
    "abs", "add", "broadcast_to", "cast", "clip", "concatenate", "conv2d", "cos", "div", "exp", "getitem",
    "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "max_pool2d", "maximum", "mean", "min",
    "minimum", "mul", "neg", "pow", "pow_scalar", "relu", "reshape", "sigmoid", "sign", "sin", "softmax",
    "softmax_cross_entropy", "sqrt", "stack", "step", "sub", "sum", "tanh", "transpose", "where",
}
EARLIER_OPS |= {"getitem_scatter"}  # compared with PyTorch's index_put in tests/op_edges.py
EARLIER_OPS |= {"rnn_seq", "lstm_seq", "gru_seq"}  # compared with torch.nn.RNN / LSTM / GRU in tests/test_ops_recurrent.py

F = torch.nn.functional
ACT_EDGE = np.array([0.0, -0.0, 1e-30, -1e-30, 0.5, -0.5, 3.0, -3.0, 6.0, 2.0, -40.0, 40.0, 1e30, -1e30, np.inf, -np.inf, np.nan])


ACT_SAMPLES = (ACT_EDGE, _r(3, 4, scale=3.0))


def _act(name, theirs, options=None, samples=ACT_SAMPLES, rtol=1e-10, jvp=True):
    ours = lambda x: cr.nn.ACTIVATIONS[name](x, **(options or {}))
    return Row(f"act:{name}", ours, theirs, [(s,) for s in samples], rtol=rtol, jvp=jvp)


_FINITE = (ACT_EDGE[np.isfinite(ACT_EDGE) & (np.abs(ACT_EDGE) < 1e29)], _r(3, 4, scale=3.0))
ROWS += [
    _act("silu", F.silu), _act("swish", F.silu),
    # At +-inf too, forward mode included: a constant factor has no tangent, so no inf * 0 arises.
    _act("selu", F.selu), _act("celu", F.celu), _act("celu", lambda x: F.celu(x, alpha=0.5), {"alpha": 0.5}),
    _act("relu6", F.relu6),
    _act("hardsigmoid", F.hardsigmoid, rtol=1e-7),  # PyTorch's backward uses 1/6 rounded to float32
    _act("hardswish", F.hardswish), _act("logsigmoid", F.logsigmoid),
    # mish and gelu at +-inf: inf * 0 inside the chain rule, in both libraries, with different nan placement.
    _act("mish", F.mish, samples=_FINITE), _act("softsign", F.softsign),
    _act("softmin", lambda x: F.softmin(x, dim=-1), samples=(_r(3, 4), _r(2, 3, 4), np.array([[0.0, -0.0, 1e30]]))),
    _act("softmin", lambda x: F.softmin(x, dim=0), {"axis": 0}, samples=(_r(3, 4),)),
    _act("gelu", F.gelu, samples=_FINITE),
    _act("gelu", lambda x: F.gelu(x, approximate="tanh"), {"approximate": "tanh"}, samples=_FINITE),
]

def _norm_row(o):
    return Row("norm", lambda a: a.norm(ord=o, dim=1), lambda a: T.linalg.vector_norm(a, o, dim=1),
               [(_r(3, 4),), (np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]),)], grad=o != 0)  # ord 0 counts: no gradient


ZEROS = np.array([[2.0, 0.0, 3.0, -0.0], [1.5, -2.0, 0.0, 4.0], [0.5, 2.0, -1.0, 3.0]])
TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.0, -0.0, 5.0, 1.0]])
I2 = np.array([[2, 0, 0, 1], [1, 1, 2, 0]])
_perm = lambda *s: np.random.default_rng(1).permutation(int(np.prod(s))).reshape(s).astype(float) - 3.5
ROWS += [
    Row("prod", lambda a: a.prod(dim=1), lambda a: T.prod(a, 1), [(ZEROS,), (_r(3, 4),), (np.zeros((0, 3)),)]),
    Row("prod", lambda a: a.prod(), T.prod, [(ZEROS[1:],), (_r(2, 3),), (np.array(-2.0),)]),
    Row("prod", lambda a: a.prod(axis=-2, keepdims=True), lambda a: T.prod(a, -2, keepdim=True), [(ZEROS,), (_r(2, 1, 3),)]),
    Row("cumsum", lambda a: a.cumsum(dim=1), lambda a: T.cumsum(a, 1), [(ZEROS,), (_r(2, 3, 4),), (np.zeros((2, 0)),)]),
    Row("cumsum", lambda a: a.cumsum(axis=-1), lambda a: T.cumsum(a, -1), [(EDGE,)]),
    Row("cumprod", lambda a: a.cumprod(dim=1), lambda a: T.cumprod(a, 1), [(ZEROS,), (_r(3, 4),), (TIES,)]),
    Row("cumprod", lambda a: a.cumprod(axis=0), lambda a: T.cumprod(a, 0), [(ZEROS,), (np.array([0.0, 0.0, 2.0]),)]),
    Row("logcumsumexp", lambda a: a.logcumsumexp(dim=1), lambda a: T.logcumsumexp(a, 1), [(ZEROS,), (_r(2, 3, 4),)]),
    # PyTorch's own derivatives lose accuracy when entries differ by tens or more (its JVP for the
    # first entry is not even t_0 here); those cases are checked against the exact Jacobian below.
    Row("logcumsumexp", lambda a: a.logcumsumexp(dim=1), lambda a: T.logcumsumexp(a, 1), [(_r(3, 4, scale=30.0),)], jvp=False),
    Row("logcumsumexp", lambda a: a.logcumsumexp(dim=1), lambda a: T.logcumsumexp(a, 1),
        [(np.array([[1e30, -1e30, 3.0, 800.0, -800.0]]),), (np.array([[-np.inf, 0.0, np.inf]]),)], grad=False),
    Row("cummax", lambda a: a.cummax(dim=1), lambda a: T.cummax(a, 1), [(TIES,), (_r(3, 4),)]),
    Row("cummin", lambda a: a.cummin(dim=0), lambda a: T.cummin(a, 0), [(TIES,), (_r(3, 4),)]),
    Row("sort", lambda a: a.sort(dim=1), lambda a: T.sort(a, dim=1, stable=True)[0], [(_r(3, 4),), (TIES,), (_r(2, 3, 4),)]),
    Row("sort", lambda a: a.sort(descending=True, axis=0), lambda a: T.sort(a, dim=0, descending=True, stable=True)[0],
        [(_perm(3, 4),), (np.array([1.0, np.nan, -np.inf, 2.0, np.inf]),)]),
    Row("sort", lambda a: a.sort(), lambda a: T.sort(a, stable=True)[0], [(np.array([1.0, np.nan, -np.inf, 2.0, np.inf, -0.0]),)]),
    Row("argsort", lambda a: a.argsort(dim=1), lambda a: T.argsort(a, dim=1, stable=True), [(TIES,)], grad=False),
    Row("argsort", lambda a: a.argsort(descending=True), lambda a: T.argsort(a, descending=True, stable=True), [(TIES,)], grad=False),
    Row("topk", lambda a: a.topk(2, dim=1), lambda a: T.topk(a, 2, 1), [(_perm(3, 4),), (_r(2, 5),)]),
    Row("topk", lambda a: a.topk(3, largest=False, axis=0), lambda a: T.topk(a, 3, 0, largest=False), [(_perm(4, 2),)]),
    Row("median", lambda a: a.median(), lambda a: T.quantile(a, 0.5), [(_r(3, 4),), (_r(5),), (np.array([3.0, 1.0, 2.0, 2.0]),)]),
    Row("median", lambda a: a.median(dim=1, keepdims=True), lambda a: T.quantile(a, 0.5, dim=1, keepdim=True), [(_r(3, 4),), (_r(2, 5),)]),
    Row("median", lambda a: a.median(axis=0), lambda a: T.median(a, 0)[0], [(_r(5, 3),)]),  # odd count: torch agrees
    Row("norm", lambda a: a.norm(), T.linalg.vector_norm, [(_r(3, 4),), (np.zeros(3),), (np.array([0.0, 3.0, -4.0]),)]),
    *[_norm_row(o) for o in (1, 3, 0.5, np.inf, -np.inf, 0)],
    Row("norm", lambda a: a.norm("fro", axis=(0, 1)), lambda a: T.linalg.norm(a, "fro"), [(_r(3, 4),)]),
    Row("norm", lambda a: a.norm(axis=-1, keepdims=True), lambda a: T.linalg.vector_norm(a, dim=-1, keepdim=True), [(_r(2, 3, 4),)]),
    Row("take_along_axis", lambda a, i: a.take_along_axis(i, 0), lambda a, i: T.take_along_dim(a, i, 0), [(_r(3, 4), I2)]),
    Row("gather", lambda a, i: a.gather(1, i), lambda a, i: T.gather(a, 1, i),
        [(_r(3, 5), I2 + 2), (_r(3, 4), I2[:, :2]), (_r(2, 3), np.zeros((2, 0), dtype=np.int64))]),
    Row("gather", lambda a, i: a.gather(-1, i), lambda a, i: T.gather(a, -1, i), [(_r(2, 3, 4), np.array([[[3, 0]], [[1, 1]]]))]),
    Row("scatter", lambda a, i, b: a.scatter(0, i, b), lambda a, i, b: T.scatter(a, 0, i, b),
        [(_r(3, 5), np.array([[2, 0, 1, 1], [1, 2, 0, 0]]), _r(2, 4, seed=1)), (_r(3, 4), np.array([[0, 2]]), _r(1, 2, seed=1))]),
    Row("scatter_add", lambda a, i, b: a.scatter_add(0, i, b), lambda a, i, b: T.scatter_add(a, 0, i, b),
        [(_r(3, 5), I2, _r(2, 4, seed=1)), (_r(3, 4), I2[:, :1], _r(2, 1, seed=1))]),
    Row("scatter_add", lambda a, i, b: a.scatter_add(-1, i, b), lambda a, i, b: T.scatter_add(a, -1, i, b),
        [(_r(2, 3), np.array([[0, 0, 2, 2], [1, 1, 1, 0]]), _r(2, 4, seed=1))]),
    Row("index_add", lambda a, i, b: a.index_add(0, i, b), lambda a, i, b: T.index_add(a, 0, i, b),
        [(_r(4, 3), np.array([0, 3, 0]), _r(3, 3, seed=1)), (_r(5,), np.array([4, 4, 1]), _r(3, seed=1))]),
    Row("index_add", lambda a, i, b: a.index_add(1, i, b, alpha=2.5), lambda a, i, b: T.index_add(a, 1, i, b, alpha=2.5),
        [(_r(2, 4), np.array([1, 1]), _r(2, 2, seed=1))]),
]

def _pad_row(m):
    return Row(f"pad:{m}", lambda a: a.pad((2, 1, 1, 2), m), lambda a: F.pad(a, (2, 1, 1, 2), m), [(_r(2, 3, 4),)])


_SPD = _r(3, 3) @ _r(3, 3).T + 3 * np.eye(3)
_SING = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
_BATCH = np.stack([_SPD, _r(3, 3, seed=4) + 3 * np.eye(3)])
ROWS += [
    Row("flip", lambda a: a.flip(1), lambda a: T.flip(a, [1]), [(_r(3, 4),), (np.zeros((0, 2)),)]),
    Row("flip", lambda a: a.flip((0, -1)), lambda a: T.flip(a, [0, -1]), [(_r(2, 3, 4),)]),
    Row("roll", lambda a: a.roll(2, 1), lambda a: T.roll(a, 2, 1), [(_r(3, 4),)]),
    Row("roll", lambda a: a.roll((1, -2), (0, 1)), lambda a: T.roll(a, (1, -2), (0, 1)), [(_r(3, 4),)]),
    Row("roll", lambda a: a.roll(3), lambda a: T.roll(a, 3), [(_r(3, 4),)]),
    *[_pad_row(m) for m in ("constant", "reflect", "replicate", "circular")],
    Row("pad:value", lambda a: a.pad((1, 1), value=-2.5), lambda a: F.pad(a, (1, 1), value=-2.5), [(_r(3),), (_r(2, 0),)]),
    Row("repeat", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [(_r(2, 3),)]),
    Row("repeat_interleave", lambda a: a.repeat_interleave(2, dim=0), lambda a: a.repeat_interleave(2, dim=0), [(_r(2, 3),)]),
    Row("repeat_interleave", lambda a: a.repeat_interleave(np.array([1, 0, 3]), dim=1),
        lambda a: a.repeat_interleave(T.tensor([1, 0, 3]), dim=1), [(_r(2, 3),)]),
    Row("repeat_interleave", lambda a: a.repeat_interleave(2), lambda a: a.repeat_interleave(2), [(_r(2, 3),)]),
    Row("tril", lambda a: a.tril(), T.tril, [(_r(3, 4),), (np.full((3, 3), np.inf),), (_r(2, 3, 3),)]),
    Row("tril", lambda a: a.tril(-1), lambda a: T.tril(a, -1), [(_r(4, 3),)]),
    Row("triu", lambda a: a.triu(1), lambda a: T.triu(a, 1), [(_r(3, 4),), (np.full((2, 2), np.nan),)]),
    Row("diagonal", lambda a: a.diagonal(), T.diagonal, [(_r(3, 4),)]),
    Row("diagonal", lambda a: a.diagonal(1, -2, -1), lambda a: T.diagonal(a, 1, -2, -1), [(_r(2, 3, 4),)]),
    Row("diagonal", lambda a: a.diagonal(-2, 0, 2), lambda a: T.diagonal(a, -2, 0, 2), [(_r(4, 2, 3),)]),
    Row("diag", lambda a: a.diag(), T.diag, [(_r(3),), (_r(3, 4),)]),
    Row("diag", lambda a: a.diag(2), lambda a: T.diag(a, 2), [(_r(3),), (_r(4, 4),)]),
    Row("trace", lambda a: a.trace(), T.trace, [(_r(3, 3),), (_r(2, 4),)]),
    Row("split", lambda a: a.split(2, dim=1), lambda a: T.split(a, 2, dim=1), [(_r(3, 5),)]),
    Row("split", lambda a: a.split([1, 3], dim=0), lambda a: T.split(a, [1, 3], dim=0), [(_r(4, 2),)]),
    Row("chunk", lambda a: a.chunk(3, dim=-1), lambda a: T.chunk(a, 3, dim=-1), [(_r(2, 7),), (_r(2, 3),)]),
    Row("unbind", lambda a: a.unbind(1), lambda a: T.unbind(a, 1), [(_r(2, 3, 2),)]),
    # split_part is the piece op behind split/chunk/unbind: its pieces' sum against torch's
    Row("split_part", lambda a: a.split([2, 1, 2], dim=1)[0] * 2 + a.split([2, 1, 2], dim=1)[2],
        lambda a: T.split(a, [2, 1, 2], dim=1)[0] * 2 + T.split(a, [2, 1, 2], dim=1)[2], [(_r(3, 5),)]),
    # dropout with p=0 in training mode, and any p in eval mode, is the identity in both libraries
    Row("dropout", lambda a: cr.nn.functional.dropout(a, 0.0, seed=0), lambda a: T.nn.functional.dropout(a, 0.0),
        [(_r(3, 4),)]),
    Row("transpose", lambda a: a.transpose(0, 1), lambda a: a.transpose(0, 1), [(_r(3, 4),)]),
    Row("transpose", lambda a: a.transpose(-1, 0), lambda a: a.transpose(-1, 0), [(_r(2, 3, 4),)]),
    Row("t", lambda a: a.t(), lambda a: a.t(), [(_r(3, 4),), (_r(3),)]),
    Row("moveaxis", lambda a: a.moveaxis([0, 1], [-1, 0]), lambda a: T.movedim(a, (0, 1), (-1, 0)), [(_r(2, 3, 4),)]),
    Row("swapaxes", lambda a: a.swapaxes(0, 2), lambda a: T.swapaxes(a, 0, 2), [(_r(2, 3, 4),)]),
    Row("flatten", lambda a: a.flatten(1), lambda a: T.flatten(a, 1), [(_r(2, 3, 4),)]),
    Row("flatten", lambda a: a.flatten(0, 1), lambda a: T.flatten(a, 0, 1), [(_r(2, 3, 4),)]),
    Row("flatten", lambda a: a.flatten(), T.flatten, [(np.array(2.0),), (_r(2, 3),)]),
    Row("unflatten", lambda a: a.unflatten(-1, (2, -1)), lambda a: a.unflatten(-1, (2, -1)), [(_r(3, 4),)]),
    Row("squeeze", lambda a: a.squeeze(dim=1), lambda a: a.squeeze(1), [(_r(3, 1, 2),)]),
    Row("unsqueeze", lambda a: a.unsqueeze(dim=-1), lambda a: a.unsqueeze(-1), [(_r(3, 2),)]),
    Row("view", lambda a: a.view(2, -1), lambda a: a.view(2, -1), [(_r(3, 4),)]),
    Row("meshgrid", lambda a, b: cr.meshgrid(a, b), lambda a, b: T.meshgrid(a, b, indexing="ij"), [(_r(3), _r(2))]),
    Row("meshgrid", lambda a, b: cr.meshgrid(a, b, indexing="xy"), lambda a, b: T.meshgrid(a, b, indexing="xy"), [(_r(3), _r(2))]),
    Row("cat", lambda a, b: cr.cat([a, b], dim=1), lambda a, b: T.cat([a, b], dim=1), [(_r(2, 3), _r(2, 1))]),
    Row("einsum", lambda a, b: cr.einsum("bij,bjk->bik", a, b), lambda a, b: T.einsum("bij,bjk->bik", a, b),
        [(_r(2, 3, 4), _r(2, 4, 2))]),
    Row("einsum", lambda a: cr.einsum("ii->", a), lambda a: T.einsum("ii->", a), [(_r(3, 3),)]),
    Row("einsum", lambda a, b: cr.einsum("...i,i", a, b), lambda a, b: T.einsum("...i,i", a, b), [(_r(2, 3, 4), _r(4))]),
    Row("einsum", lambda a, b: cr.einsum("ij,kj->ikj", a, b), lambda a, b: T.einsum("ij,kj->ikj", a, b), [(_r(2, 3), _r(4, 3))]),
    Row("tensordot", lambda a, b: cr.tensordot(a, b, 2), lambda a, b: T.tensordot(a, b, 2), [(_r(2, 3, 4), _r(3, 4, 5))]),
    Row("tensordot", lambda a, b: cr.tensordot(a, b, ([0], [1])), lambda a, b: T.tensordot(a, b, ([0], [1])), [(_r(3, 2), _r(4, 3))]),
    Row("outer", cr.outer, T.outer, [(_r(3), _r(4))]),
    Row("inner", cr.inner, T.inner, [(_r(2, 3), _r(4, 3)), (_r(3), _r(3))]),
    Row("dot", cr.dot, T.dot, [(_r(3), _r(3))]),
    Row("dot", cr.dot, T.matmul, [(_r(2, 3), _r(3, 4))]),
    Row("kron", cr.kron, T.kron, [(_r(2, 3), _r(2, 2)), (_r(3), _r(2, 2))]),
    Row("inv", cr.linalg.inv, T.linalg.inv, [(_SPD,), (_BATCH,)]),
    Row("solve", cr.linalg.solve, T.linalg.solve, [(_SPD, _r(3)), (_BATCH, _r(2, 3, 2))]),
    # At an exactly singular matrix (det == 0.0) PyTorch's reverse mode gives 0 on some CPUs (its
    # formula goes through det * inverse); the gradient there is the cofactor matrix, tested exactly below.
    Row("det", cr.linalg.det, T.linalg.det, [(_SPD,), (_BATCH,), (np.zeros((2, 2)),)]),
    Row("det", cr.linalg.det, T.linalg.det, [(_SING,)], grad=False),
    Row("slogdet", cr.linalg.slogdet, T.linalg.slogdet, [(_SPD,), (_BATCH,), (-_SPD,)], grad=False),
    Row("slogdet", lambda a: cr.linalg.slogdet(a)[1], lambda a: T.linalg.slogdet(a)[1], [(_SPD,), (_BATCH,), (-_SPD,)]),
    Row("matrix_power", lambda a: cr.linalg.matrix_power(a, 3), lambda a: T.linalg.matrix_power(a, 3), [(_r(3, 3),)]),
    Row("matrix_power", lambda a: cr.linalg.matrix_power(a, -2), lambda a: T.linalg.matrix_power(a, -2), [(_SPD,)]),
]

def _ce_row(y, shape, kw):
    theirs_kw = {k: T.tensor(v) if k == "weight" else v for k, v in kw.items()}
    return Row("cross_entropy", lambda z: cr.nn.functional.cross_entropy(z, y, **kw),
               lambda z: F.cross_entropy(z, T.tensor(y), **theirs_kw), [(_r(*shape, scale=2.0),)])


_Y = np.array([0, 2, 1, 2])
_YI = np.array([0, -100, 1, 2])
_Y3 = np.array([[0, 2, 1], [1, 1, -100]])
_W = np.array([0.5, 2.0, 1.0])
_BM, _BV = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
ROWS += [
    Row("conv1d", lambda x, w, b: cr.conv1d(x, w, b, stride=2, padding=1), lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
        [(_r(2, 3, 9), _r(4, 3, 3, seed=1), _r(4, seed=2))]),
    Row("conv1d", lambda x, w: cr.conv1d(x, w, dilation=2, groups=2, padding="same"),
        lambda x, w: F.conv1d(x, w, dilation=2, groups=2, padding="same"), [(_r(1, 4, 7), _r(6, 2, 3, seed=1))]),
    Row("conv2d", lambda x, w, b: cr.conv2d(x, w, b, groups=3, dilation=(2, 1), padding=1),
        lambda x, w, b: F.conv2d(x, w, b, groups=3, dilation=(2, 1), padding=1),
        [(_r(2, 6, 6, 5), _r(9, 2, 3, 2, seed=1), _r(9, seed=2))]),
    Row("conv2d", lambda x, w: cr.conv2d(x, w, padding=(1, 0, 2, 1), stride=2),
        lambda x, w: F.conv2d(F.pad(x, (1, 0, 2, 1)), w, stride=2), [(_r(1, 2, 5, 6), _r(3, 2, 3, 3, seed=1))]),
    Row("conv2d", lambda x, w: cr.conv2d(x, w, padding="same", dilation=2), lambda x, w: F.conv2d(x, w, padding="same", dilation=2),
        [(_r(1, 2, 6, 6), _r(2, 2, 2, 3, seed=1))]),
    *[Row("max_pool2d", (lambda kw: lambda x: cr.max_pool2d(x, **kw))(kw), (lambda kw: lambda x: F.max_pool2d(x, **kw))(kw),
          [(_perm(2, 2, 7, 6),), (np.zeros((1, 1, 7, 6)) + np.array([0.0, 1.0, 1.0, 0.0, 2.0, 2.0]),)])
      for kw in [{"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 2, "ceil_mode": True},
                 {"kernel_size": (2, 3), "stride": 1, "dilation": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}]],
    Row("max_pool2d", lambda x: cr.max_pool2d(x, 2, padding=1, return_indices=True),
        lambda x: F.max_pool2d(x, 2, padding=1, return_indices=True), [(_perm(1, 2, 5, 4),)]),
    Row("max_pool2d", lambda x: cr.max_pool2d(x, 3, 2, return_indices=True), lambda x: F.max_pool2d(x, 3, 2, return_indices=True),
        [(_perm(1, 2, 7, 6),)]),
    *[Row("avg_pool2d", (lambda kw: lambda x: cr.avg_pool2d(x, **kw))(kw), (lambda kw: lambda x: F.avg_pool2d(x, **kw))(kw),
          [(_r(2, 2, 7, 6),)])
      for kw in [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                 {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
                 {"kernel_size": 3, "stride": 2, "ceil_mode": True}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                 {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                 {"kernel_size": (2, 3), "divisor_override": 4}]],
    *[Row("adaptive_avg_pool2d", (lambda o: lambda x: cr.adaptive_avg_pool2d(x, o))(o), (lambda o: lambda x: F.adaptive_avg_pool2d(x, o))(o),
          [(_r(2, 3, 7, 5),), (_r(3, 4, 4),)]) for o in [(3, 2), 1, (4, None), 5]],
    Row("layer_norm", lambda x, w, b: cr.layer_norm(x, (4,), w, b), lambda x, w, b: F.layer_norm(x, (4,), w, b),
        [(_r(3, 4), _r(4, seed=1), _r(4, seed=2)), (np.ones((2, 4)), _r(4, seed=1), _r(4, seed=2))]),
    Row("layer_norm", lambda x: cr.layer_norm(x, (3, 4), eps=1e-3), lambda x: F.layer_norm(x, (3, 4), eps=1e-3), [(_r(2, 3, 4),)]),
    Row("batch_norm", lambda x, w, b: cr.batch_norm(x, _BM.copy(), _BV.copy(), w, b, training=True),
        lambda x, w, b: F.batch_norm(x, T.tensor(_BM), T.tensor(_BV), w, b, training=True),
        [(_r(4, 3), _r(3, seed=1), _r(3, seed=2)), (_r(2, 3, 4, 5), _r(3, seed=1), _r(3, seed=2))]),
    Row("batch_norm", lambda x, w, b: cr.batch_norm(x, _BM, _BV, w, b), lambda x, w, b: F.batch_norm(x, T.tensor(_BM), T.tensor(_BV), w, b),
        [(_r(4, 3), _r(3, seed=1), _r(3, seed=2)), (_r(2, 3, 5), _r(3, seed=1), _r(3, seed=2))]),
    Row("embedding", lambda w: cr.embedding(np.array([[0, 2, 2], [4, 0, 1]]), w), lambda w: F.embedding(T.tensor([[0, 2, 2], [4, 0, 1]]), w),
        [(_r(5, 3),)]),
    # padding_idx: PyTorch masks the padding row's gradient but not its forward-mode tangent;
    # chainrule's tangent is masked too, so its JVP stays the adjoint of its VJP.
    Row("embedding", lambda w: cr.embedding(np.array([0, 2, 2, 1]), w, padding_idx=2),
        lambda w: F.embedding(T.tensor([0, 2, 2, 1]), w, padding_idx=2), [(_r(4, 3),)], jvp=False),
    Row("nll_loss", lambda z: cr.nn.functional.nll_loss(z, _YI, weight=_W), lambda z: F.nll_loss(z, T.tensor(_YI), weight=T.tensor(_W)),
        [(_r(4, 3),)]),
    *[_ce_row(y, shape, kw) for y, shape in [(_Y, (4, 3)), (_YI, (4, 3)), (_Y3, (2, 3, 3))]
      for kw in [{}, {"weight": _W}, {"label_smoothing": 0.2}, {"weight": _W, "label_smoothing": 0.1, "reduction": "sum"},
                 {"reduction": "none", "label_smoothing": 0.3}]],
    Row("cross_entropy", lambda z, t: cr.nn.functional.cross_entropy(z, t, label_smoothing=0.1, weight=_W),
        lambda z, t: F.cross_entropy(z, t.detach(), label_smoothing=0.1, weight=T.tensor(_W)),
        [(_r(2, 3, 4), np.random.default_rng(0).dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1).copy())]),
    Row("bce_pos_weight", lambda z: cr.nn.functional.binary_cross_entropy_with_logits(z, np.array([[1.0, 0.0, 0.3]] * 2),
                                                                                      pos_weight=np.array([2.0, 0.5, 3.0])),
        lambda z: F.binary_cross_entropy_with_logits(z, T.tensor([[1.0, 0.0, 0.3]] * 2, dtype=T.float64), pos_weight=T.tensor([2.0, 0.5, 3.0])),
        [(_r(2, 3, scale=3.0),), (np.array([[40.0, -40.0, 0.0], [-1e4, 1e4, 2.0]]),)]),
]

EARLIER_ACTIVATIONS = {"step", "sign", "identity", "linear", "sigmoid", "tanh", "hardtanh", "relu", "leaky_relu",
                       "softplus", "elu", "softmax", "log_softmax"}  # torch-tested in test_nn_activations

# dense_chain (what nn.Sequential / nn.MLP run for Linear layers and activations) against the layers composed in torch.
ROWS += [
    Row("dense_chain", dense_call(acts, biases), (lambda f: lambda *a: f(torch, *a))(dense_torch(acts, biases)),
        [tuple(_r(*shape, seed=k) for k, shape in enumerate(shapes))])
    for _, shapes, acts, biases in DENSE_CASES
]

CASES = [c for row in ROWS for c in row.cases()]
IDS = [f"{row.name}-{i}" for row, i in CASES]


def _ours(arrays, requires_grad=False):
    return [cr.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f", dtype=a.dtype) for a in arrays]


def _theirs(arrays, requires_grad=False):
    return [torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def _close(ours, theirs, rtol):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape
    if theirs.dtype == bool or theirs.dtype.kind in "iu":
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12, equal_nan=True)


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("row,i", CASES, ids=IDS)
def test_values_match_torch(row, i):
    arrays = [np.asarray(a) for a in row.samples[i]]
    with np.errstate(all="ignore"):
        ours = _outputs(row.ours(*_ours(arrays)))
    theirs = _outputs(row.theirs(*_theirs(arrays)))
    for o, t in zip(ours, theirs, strict=True):
        _close(o.data, t, row.rtol)


GRAD_CASES = [c for c in CASES if c[0].grad]
GRAD_IDS = [f"{row.name}-{i}" for row, i in GRAD_CASES]


def _cotangents(outs, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(o.data)) for o in outs if o.data.dtype.kind == "f"]


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_vjp_matches_torch(row, i):
    arrays = [np.asarray(a) for a in row.samples[i]]
    xs, ts = _ours(arrays, True), _theirs(arrays, True)
    with np.errstate(all="ignore"):
        outs = [o for o in _outputs(row.ours(*xs)) if o.data.dtype.kind == "f"]
        cs = _cotangents(outs)
        total = sum(((o * c).sum() for o, c in zip(outs, cs)), start=cr.tensor(0.0, dtype=np.float64))
        total.backward()
    touts = [o for o in _outputs(row.theirs(*ts)) if o.dtype.is_floating_point]
    tin = [t for t in ts if t.requires_grad]
    tgrads = torch.autograd.grad(touts, tin, [torch.tensor(c) for c in cs], allow_unused=True)
    for x, g in zip([x for x in xs if x.requires_grad], tgrads):
        expected = np.zeros(x.shape) if g is None else g
        _close(np.zeros(x.shape) if x.grad is None else x.grad, expected, row.rtol)


JVP_CASES = [c for c in GRAD_CASES if c[0].jvp]


@pytest.mark.parametrize("row,i", JVP_CASES, ids=[f"{row.name}-{i}" for row, i in JVP_CASES])
def test_jvp_matches_torch(row, i):
    arrays = [np.asarray(a) for a in row.samples[i]]
    floats = [k for k, a in enumerate(arrays) if a.dtype.kind == "f"]
    rng = np.random.default_rng(5)
    tangents = [rng.standard_normal(arrays[k].shape) for k in floats]

    def with_constants(make, values):
        def f(*xs):
            args = [make(a) for a in arrays]
            for k, x in zip(floats, xs):
                args[k] = x
            out = row.ours(*args) if make is np.asarray else row.theirs(*args)
            return out[0] if isinstance(out, (tuple, list)) else out

        return f

    with np.errstate(all="ignore"):
        value, tangent = cr.jvp(with_constants(np.asarray, None), tuple(arrays[k] for k in floats), tuple(tangents))
    f = with_constants(torch.tensor, None)
    tvalue, ttangent = torch.func.jvp(f, tuple(torch.tensor(arrays[k]) for k in floats),
                                      tuple(torch.tensor(t) for t in tangents))
    _close(value, tvalue, row.rtol)
    _close(tangent, ttangent, row.rtol)


def test_every_new_op_has_an_oracle_row():
    """Every registry op added with the extended op set is compared with PyTorch here."""
    rows = {r.name for r in ROWS}
    missing_act = sorted(set(cr.nn.ACTIVATIONS) - {r.name[4:] for r in ROWS if r.name.startswith("act:")} - EARLIER_ACTIVATIONS)
    assert not missing_act, f"activations without a PyTorch oracle row: {missing_act}"
    missing = sorted(set(cr.ops_registry) - rows - EARLIER_OPS)
    assert not missing, f"registry ops without a PyTorch oracle row: {missing}"


def test_documented_departures_from_torch():
    """Where PyTorch gives nan, chainrule gives the limit: both documented in the ops' docs."""
    a = cr.tensor(np.full(2, -np.inf), requires_grad=True, dtype=np.float64)
    b = cr.tensor(np.full(2, -np.inf), requires_grad=True, dtype=np.float64)
    out = cr.logaddexp(a, b)
    out.sum().backward()
    assert np.all(out.data == -np.inf)
    np.testing.assert_array_equal(a.grad, [0.5, 0.5])  # torch: nan
    _, t = cr.jvp(cr.atan2, (np.zeros(2), np.zeros(2)), (np.ones(2), np.ones(2)))
    np.testing.assert_array_equal(t, 0)  # torch's forward mode: nan, its reverse mode: 0


def _cofactors(a):
    """The cofactor matrix from 2 x 2 minors (exact here: small integers and halves)."""
    n = len(a)
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) for j in range(n)]
                     for i in range(n)])


def test_det_derivatives_at_a_singular_matrix_are_the_cofactors():
    """d det(A) / dA = cof(A) holds at singular A too: rank 2 here, so cof(A) has one nonzero row pair."""
    cof = _cofactors(_SING)
    assert np.linalg.matrix_rank(_SING) == 2 and np.abs(cof).max() > 1  # a gradient that is not 0
    a = cr.tensor(_SING, requires_grad=True, dtype=np.float64)
    out = cr.linalg.det(a)
    (out * 3.0).backward()
    assert float(out.data) == 0.0
    np.testing.assert_allclose(a.grad, 3.0 * cof, rtol=1e-12, atol=1e-12)
    t = np.random.default_rng(2).standard_normal((3, 3))
    _, jt = cr.jvp(cr.linalg.det, (_SING,), (t,))
    np.testing.assert_allclose(jt, np.sum(cof * t), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x", [np.array([1e30, -1e30, 3.0, 800.0, -800.0]), np.array([-np.inf, 0.0, 2.0]),
                               np.random.default_rng(0).normal(0, 30, 6)])
def test_logcumsumexp_derivatives_match_the_exact_jacobian(x):
    """d out_j / d x_i = exp(x_i - out_j) for i <= j (every exponent <= 0, so exact in float64)."""
    out = np.logaddexp.accumulate(x)
    with np.errstate(invalid="ignore"):
        jac = np.tril(np.where(x[None, :] == -np.inf, 0.0, np.exp(x[None, :] - out[:, None])))
    np.testing.assert_allclose(cr.jacobian(lambda a: a.logcumsumexp(0), x), jac, rtol=1e-12, atol=1e-300)
    t = np.random.default_rng(1).standard_normal(x.shape)
    _, jt = cr.jvp(lambda a: a.logcumsumexp(0), (x,), (t,))
    np.testing.assert_allclose(jt, jac @ t, rtol=1e-12, atol=1e-300)

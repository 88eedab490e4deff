"""The primitive-op registry: one entry per op with its forward, VJP and JVP rule.

Every differentiable computation in chainrule is built from the entries of
``REGISTRY``. An entry is an :class:`Op` holding three plain functions:

* ``forward(*arrays, **attrs) -> (out, ctx)``: computes the result with NumPy and
  returns whatever the two derivative rules need as ``ctx`` (often the output
  itself, e.g. ``exp`` and ``sigmoid`` reuse it).
* ``vjp(g, ctx, needs) -> tuple``: the vector-Jacobian product, one gradient per
  input (``None`` where ``needs[i]`` is false). Gradients may keep broadcast
  shapes; the engine sums them back to each input's shape once, centrally.
* ``jvp(tangents, ctx) -> tangent``: the Jacobian-vector product, used by
  forward-mode dual numbers. A tangent has its input's shape, or is None for a
  constant input (an array or number beside a Dual): a rule combining several
  inputs adds only the terms of inputs that have one, through
  :func:`tangent_sum`, because a constant's zero tangent times an infinite
  factor would be nan where the derivative is finite (``Dual(inf) * 2``). A
  rule may return None (no input has a tangent) or a broadcastable tangent;
  the dual numbers give it the output's shape.

Optionally ``sym`` maps SymPy scalars to a SymPy expression for the symbolic
bridge, and ``vjp_graph(g, ctx, needs, inputs, out) -> tuple`` is the same
vector-Jacobian product written with differentiable ops (on Tensors or
recording Duals, through :func:`call` and the values' methods) instead of raw
arrays. ``backward(create_graph=True)`` uses it, so that a gradient is itself a
graph and can be differentiated again (Hessians); the ordinary backward pass
never touches it. ``inputs`` are the op's arguments as recorded (constants
stay arrays), ``out`` the value the op produced. Adding an op means one
``register`` call here and one line in the op-spec list of the tests.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> out, ctx = REGISTRY["exp"].forward(np.zeros(2))
    >>> out
    array([1., 1.])
"""

from __future__ import annotations

import numpy as np

from ..._core import Registry

__all__ = ["Op", "REGISTRY", "register", "get", "catalogue", "call", "sum_to", "sqrt_zero_grad_at_zero",
           "tangent_sum", "tangents_or_zeros"]


class Op:
    """One primitive: its name, forward, VJP and JVP rules, and what the op reference shows of it.

    ``doc`` is the one-line description and ``differentiable`` False marks a
    piecewise-constant op (zero gradient everywhere); :func:`catalogue` lists both.
    """

    __slots__ = ("name", "forward", "vjp", "jvp", "sym", "differentiable", "doc", "vjp_graph")

    def __init__(self, name, forward, vjp, jvp, sym=None, differentiable=True, doc="", vjp_graph=None):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.jvp = jvp
        self.sym = sym
        self.differentiable = differentiable
        self.doc = doc
        self.vjp_graph = vjp_graph

    def __repr__(self):
        return f"Op({self.name!r})"


#: Every primitive by name; an unknown name raises ``UnknownNameError`` listing the known ones.
REGISTRY = Registry("op")


def register(name, forward, vjp, jvp, sym=None, differentiable=True, doc="", vjp_graph=None):
    """Add one primitive to the registry and return its :class:`Op`."""
    return REGISTRY.register(Op(name, forward, vjp, jvp, sym, differentiable, doc, vjp_graph), name=name)


def get(name):
    """The :class:`Op` called ``name`` (same as ``REGISTRY[name]``: unknown names list the known ones).

    Example:
        >>> get("exq")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        chainrule._core.UnknownNameError: unknown op 'exq'; expected one of: ...
    """
    return REGISTRY[name]


def catalogue():
    """``[(name, description, differentiable)]`` for every op, sorted by name: the op reference table.

    Example:
        >>> [row for row in catalogue() if row[0] == "step"]
        [('step', 'Heaviside step: 1 where x > 0 else 0; its gradient is 0 everywhere.', False)]
    """
    return [(name, op.doc, op.differentiable) for name, op in sorted(REGISTRY.items())]


def call(name, *args, **attrs):
    """Apply op ``name`` to mixed values: the first Tensor / Dual argument decides the mode.

    Graph VJPs use it for the ops that have no operator or method (``where``,
    ``softmax`` with attributes, ...); on plain arrays it is just the forward.

    Example:
        >>> call("where", np.array([1.0, 2.0]), 0.0, cond=np.array([True, False]))
        array([1., 0.])
    """
    op = REGISTRY[name]
    for a in args:
        if hasattr(type(a), "_apply"):
            return a._apply(op, args, attrs)
    return op.forward(*args, **attrs)[0]


def mm(a, b):
    """``a @ b``; through ``np.dot`` when both are 2-D, the same BLAS product with less cost per call
    than ``np.matmul`` (at one row, 1.5 instead of 3.4 µs: it takes BLAS's matrix-vector path), and
    a C-contiguous batch ``(..., k)`` times a matrix as one 2-D product of all its rows.

    Example:
        >>> mm(np.ones((1, 3)), np.ones((3, 2)))
        array([[3., 3.]])
    """
    if b.ndim == 2:
        if a.ndim == 2:
            return np.dot(a, b)
        if a.ndim > 2 and a.flags.c_contiguous:
            # (..., k) rows folded into one product: matmul runs one BLAS call per leading index
            # (a (32, 100, 32) sequence by a (32, 512) weight: 1.45 ms instead of 1.70)
            return np.dot(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[1])
    return a @ b


def tangent_sum(ts, *terms):
    """``sum(term(t))`` over the inputs that have a tangent; None when none has one.

    ``terms[i]`` maps input i's tangent to its part of the output tangent (None for an
    input that does not enter linearly, e.g. a condition). Constant inputs (tangent None)
    are left out instead of contributing ``0 * factor``, which is nan for an infinite factor.

    Example:
        >>> a, b = np.array([np.inf]), np.array([2.0])
        >>> tangent_sum((np.ones(1), None), lambda t: t * b, lambda t: a * t)  # d(a*b) with b constant
        array([2.])
    """
    total = None
    for t, term in zip(ts, terms):
        if t is not None and term is not None:
            part = term(t)
            total = part if total is None else total + part
    return total


def tangents_or_zeros(ts, shapes):
    """The tangents with zeros of ``shapes[i]`` for constant inputs: for ops that place tangents, not add them.

    Example:
        >>> [t.tolist() for t in tangents_or_zeros((None, np.ones(2)), [(1,), (2,)])]
        [[0.0], [1.0, 1.0]]
    """
    dtype = np.result_type(*[t for t in ts if t is not None]) if any(t is not None for t in ts) else np.float64
    return [np.zeros(s, dtype=dtype) if t is None else t for t, s in zip(ts, shapes)]


def sum_to(g, target):
    """Sum ``g`` over the axes broadcasting added or stretched to reach shape ``target``.

    Works on Tensors, Duals and arrays alike (only ``.sum`` and ``.reshape``).

    Example:
        >>> sum_to(np.ones((4, 3)), (1, 3))
        array([[4., 4., 4.]])
    """
    target = tuple(target)
    if g.shape == target:
        return g
    extra = len(g.shape) - len(target)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, (n, m) in enumerate(zip(target, g.shape)) if n == 1 and m != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def sqrt_zero_grad_at_zero(v):
    """sqrt(v) whose gradient is 0, not inf * 0 = nan, where v == 0.

    The "double where": the square root only ever sees 1 where v is 0, so no
    infinite local derivative is multiplied by the zero that the outer where sends back.
    Tensor.std and Tensor.norm use it (PyTorch's gradient there is 0 as well).
    """
    value = getattr(v, "data", None)
    if not isinstance(value, np.ndarray):
        return v.sqrt()  # symbolic values: the plain formula
    zero = value == 0
    if not zero.any():
        return v.sqrt()
    safe = v._op("where", 1.0, cond=~zero)
    return safe.sqrt()._op("where", 0.0, cond=~zero)


# Importing the modules fills the registry; order does not matter.
from . import elementwise, reduce, shape, nn, conv, pool  # noqa: E402,F401
from . import math, scan, index, linalg  # noqa: E402,F401  (more primitives: element-wise, scans, gather/scatter, linear algebra)
from . import random  # noqa: E402,F401  (random ops: dropout)
from . import split  # noqa: E402,F401  (unbind / split in O(size))
from . import recurrent  # noqa: E402,F401  (whole-sequence RNN, LSTM and GRU: one node per sequence)
from . import dense  # noqa: E402,F401  (a run of dense layers and activations: one node)

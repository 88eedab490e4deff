"""Forward-mode automatic differentiation with dual numbers.

A :class:`Dual` carries a value and a tangent (the directional derivative of
that value along a chosen input direction). Every op pushes the tangent forward
through its JVP rule from the op registry, in the same order as the forward
computation: real forward mode, one pass per input direction (the CMU 10-601 backpropagation lecture,
slide 7: "uses dual numbers").

A constant operand (a number, array or Tensor beside a Dual) has no tangent at
all, rather than a zero one: the JVP rules leave its term out
(:func:`chainrule.autodiff.ops.tangent_sum`), so ``Dual(inf) * 2`` has
tangent 2, not 0 * inf = nan, as in PyTorch's forward mode.

Example:
    >>> from chainrule.autodiff.forward import Dual
    >>> x = Dual(2.0, 1.0)
    >>> x * x + 3 * x
    10.0 + 7.0ε
"""

from __future__ import annotations

import numpy as np

from .engine import GRAD_MODE, Node
from .tensor import OpsMixin, Tensor, get_default_dtype

__all__ = ["Dual", "jvp"]


def _value_array(v):
    arr = np.asarray(v.data if isinstance(v, Tensor) else v)
    if arr.dtype.kind in "biu":
        arr = arr.astype(get_default_dtype())
    return arr


def _output_tangent(tangent, out):
    """A rule's tangent in the output's shape: zeros for None, broadcast when a constant set the shape."""
    shape = np.shape(out)
    if tangent is None:
        return np.zeros(shape, dtype=np.result_type(out, np.float32))
    if np.shape(tangent) != shape:
        return np.array(np.broadcast_to(tangent, shape))
    return tangent


class Dual(OpsMixin):
    """A value paired with a tangent: ``value + tangent·ε`` with ``ε² = 0``.

    Args:
        value: number or array.
        tangent: same shape as ``value`` (zeros when omitted).
        requires_grad: also record a graph, as a Tensor does, so that a reverse
            pass can run over Duals (``cr.grad(f, create_graph=True)`` does this
            for Dual arguments: forward-over-reverse, whose tangents of the
            gradient are Hessian-vector products).
    """

    __slots__ = ("value", "tangent", "requires_grad", "_node")

    def __init__(self, value, tangent=None, requires_grad=False):
        v = _value_array(value)
        t = np.zeros_like(v) if tangent is None else np.asarray(tangent, dtype=v.dtype)
        if t.shape != v.shape:
            raise ValueError(f"Dual: tangent shape {t.shape} does not match value shape {v.shape}")
        self.value = v
        self.tangent = t
        self.requires_grad = bool(requires_grad)
        self._node = None

    @staticmethod
    def _apply(op, args, attrs):
        values, tangents = [], []
        record = False
        for a in args:
            if isinstance(a, Dual):
                values.append(a.value)
                tangents.append(a.tangent)
                record = record or a.requires_grad
            elif isinstance(a, OpsMixin) and not isinstance(a, Tensor):
                return a._apply(op, args, attrs)
            else:  # a constant: no tangent at all (see ops.tangent_sum), not a zero one
                values.append(a.data if isinstance(a, Tensor) else a)
                tangents.append(None)
        out, ctx = op.forward(*values, **attrs)
        d = Dual(out, _output_tangent(op.jvp(tuple(tangents), ctx), out))
        if record and GRAD_MODE.enabled:
            d.requires_grad = True
            d._node = Node(op, args, ctx, tuple(isinstance(a, Dual) and a.requires_grad for a in args))
        return d

    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def data(self):
        return self.value

    def __repr__(self):
        if self.value.ndim == 0:
            v, t = self.value.item(), self.tangent.item()
            sign = "-" if t < 0 else "+"
            return f"{v} {sign} {abs(t)}ε"
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"


def jvp(f, primals, tangents):
    """Evaluate ``f`` and its Jacobian-vector product in one forward pass.

    Args:
        f: function of ``len(primals)`` arguments built from chainrule ops.
        primals: input values (numbers or arrays).
        tangents: one direction per input, same shapes.

    Returns:
        ``(value, tangent)`` as arrays: f(primals) and J·tangents.

    Example:
        >>> import chainrule as cr
        >>> jvp(lambda x: cr.sin(x), (0.0,), (1.0,))
        (array(0.), array(1.))
        >>> jvp(lambda x: x * 2.0, (np.inf,), (1.0,))  # the constant 2 has no tangent to meet inf
        (array(inf), array(2.))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument of f)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    duals = [Dual(p, t) for p, t in zip(primals, tangents)]
    out = f(*duals)
    if isinstance(out, Dual):
        return out.value, out.tangent
    v = _value_array(out)
    return v, np.zeros_like(v)

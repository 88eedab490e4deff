"""OpsMixin: the operators and methods shared by Tensor, Dual and symbolic values.

Every operator and method names one registry op (:mod:`chainrule.autodiff.ops`)
or composes such calls, so a function body written once runs in reverse mode
(:class:`~chainrule.autodiff.tensor.Tensor`), forward mode
(:class:`~chainrule.autodiff.forward.Dual`) and symbolically.

Example:
    >>> import chainrule as cr
    >>> isinstance(cr.tensor(1.0), OpsMixin)
    True
    >>> (cr.tensor([1.0, 3.0]) ** 2).mean().item()
    5.0
"""

from __future__ import annotations

import numpy as np

from . import interop
from .methods import MathMethods, pick_axis
from .methods_shape import ShapeMethods
from .ops import REGISTRY, sqrt_zero_grad_at_zero

__all__ = ["OpsMixin"]

_OPS = REGISTRY


class OpsMixin(MathMethods, ShapeMethods):
    """Operators and methods shared by Tensor, Dual and symbolic values.

    Subclasses provide ``_apply(op, args, attrs)``; everything here is one line
    that names a registry op, or a composition of such lines.
    """

    __slots__ = ()
    # NumPy calls on chainrule values (np.exp(t), np.sum(t), ndarray * t) become registry ops.
    __array_ufunc__ = interop.array_ufunc
    __array_function__ = interop.array_function

    def _op(self, name, *others, **attrs):
        return self._apply(_OPS[name], (self, *others), attrs)

    # arithmetic ----------------------------------------------------------
    def __add__(self, o):
        return self._apply(_OPS["add"], (self, o), {})

    def __radd__(self, o):
        return self._apply(_OPS["add"], (o, self), {})

    def __sub__(self, o):
        return self._apply(_OPS["sub"], (self, o), {})

    def __rsub__(self, o):
        return self._apply(_OPS["sub"], (o, self), {})

    def __mul__(self, o):
        return self._apply(_OPS["mul"], (self, o), {})

    def __rmul__(self, o):
        return self._apply(_OPS["mul"], (o, self), {})

    def __truediv__(self, o):
        return self._apply(_OPS["div"], (self, o), {})

    def __rtruediv__(self, o):
        return self._apply(_OPS["div"], (o, self), {})

    def __neg__(self):
        return self._apply(_OPS["neg"], (self,), {})

    def __pos__(self):
        return self

    def __pow__(self, p):
        if isinstance(p, (int, float, np.integer, np.floating)):
            return self._apply(_OPS["pow_scalar"], (self,), {"p": p})
        return self._apply(_OPS["pow"], (self, p), {})

    def __rpow__(self, base):
        return self._apply(_OPS["pow"], (base, self), {})

    def __matmul__(self, o):
        return self._apply(_OPS["matmul"], (self, o), {})

    def __rmatmul__(self, o):
        return self._apply(_OPS["matmul"], (o, self), {})

    def __abs__(self):
        return self._op("abs")

    def __getitem__(self, index):
        return self._op("getitem", index=_plain_index(index))

    # element-wise functions ----------------------------------------------
    def exp(self):
        return self._op("exp")

    def log(self):
        return self._op("log")

    def sqrt(self):
        return self._op("sqrt")

    def sin(self):
        return self._op("sin")

    def cos(self):
        return self._op("cos")

    def tanh(self):
        return self._op("tanh")

    def sigmoid(self):
        return self._op("sigmoid")

    def relu(self):
        return self._op("relu")

    def abs(self):
        return self._op("abs")

    def sign(self):
        return self._op("sign")

    def step(self):
        return self._op("step")

    def clip(self, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        return self._op("clip", lo=lo, hi=hi)

    def maximum(self, other):
        return self._op("maximum", other)

    def minimum(self, other):
        return self._op("minimum", other)

    def square(self):
        return self * self

    # reductions ------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, dim=None):
        return self._op("sum", axis=axis if dim is None else pick_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, dim=None):
        return self._op("mean", axis=axis if dim is None else pick_axis(axis, dim), keepdims=keepdims)

    def max(self, axis=None, keepdims=False, dim=None):
        return self._op("max", axis=pick_axis(axis, dim), keepdims=keepdims)

    def min(self, axis=None, keepdims=False, dim=None):
        return self._op("min", axis=pick_axis(axis, dim), keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0, dim=None):
        """Variance over ``axis`` divided by ``n - ddof``; nan when ``ddof >= n`` (as NumPy and PyTorch)."""
        axis = pick_axis(axis, dim)
        d = self - self.mean(axis=axis, keepdims=True)
        n = max(_count(self.shape, axis) - ddof, 0)  # 0 / 0 = nan, never a negative divisor
        with np.errstate(divide="ignore", invalid="ignore"):
            return (d * d).sum(axis=axis, keepdims=keepdims) / n

    def std(self, axis=None, keepdims=False, ddof=0, dim=None):
        """Square root of :meth:`var`; its gradient is 0 where the values are all equal (as in PyTorch)."""
        axis = pick_axis(axis, dim)
        return sqrt_zero_grad_at_zero(self.var(axis=axis, keepdims=keepdims, ddof=ddof))

    def logsumexp(self, axis=None, keepdims=False, dim=None):
        return self._op("logsumexp", axis=pick_axis(axis, dim), keepdims=keepdims)

    def softmax(self, axis=-1, dim=None):
        return self._op("softmax", axis=pick_axis(axis, dim, -1))

    def log_softmax(self, axis=-1, dim=None):
        return self._op("log_softmax", axis=pick_axis(axis, dim, -1))

    # shapes ----------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._op("reshape", shape=tuple(shape))

    @property
    def T(self):
        return self._op("transpose", axes=None)

    def broadcast_to(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._op("broadcast_to", shape=tuple(shape))

    expand = broadcast_to

    def astype(self, dtype):
        return self._op("cast", dtype=np.dtype(dtype))


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


def _plain_index(index):
    """Replace Tensors inside an index by their arrays (indices are constants)."""
    if isinstance(index, OpsMixin):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, OpsMixin) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index

"""Tensor methods beyond the basic set: more math, tests and logic, reductions and scans.

:class:`MathMethods` is a base of :class:`~chainrule.autodiff.tensor.OpsMixin`,
so every method here works on Tensors (reverse mode) and Duals (forward mode).
A method either names one registry op or composes such ops, so its gradient
comes from the ops' rules. Methods returning booleans or indices (``isnan``,
comparisons, ``argmax``, ``any``) give constants: their gradient is 0, and
``where(x > 0, ...)`` takes such a constant as its condition.

Example:
    >>> import chainrule as cr
    >>> x = cr.tensor([0.5, -2.0], requires_grad=True)
    >>> x.logaddexp(cr.tensor([0.5, 1.0])).sum().backward()
    >>> x.grad.round(4)
    array([0.5   , 0.0474], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .ops import REGISTRY

__all__ = ["MathMethods", "pick_axis", "value_of", "constant_like"]


def pick_axis(axis, dim, default=None):
    """The axis from NumPy's ``axis=`` or PyTorch's ``dim=`` (one of them, not both)."""
    if dim is not None:
        if axis is not None and axis is not default:
            raise TypeError(f"give axis= or its alias dim=, not both (got axis={axis!r}, dim={dim!r})")
        return dim
    return axis


def value_of(x):
    """The plain array behind a Tensor or Dual (or ``x`` itself as an array)."""
    data = getattr(x, "data", None)
    return np.asarray(x) if data is None else data


def constant_like(x, array):
    """A constant result (no gradient) of the same kind as ``x``: a Tensor for a Tensor, else an array."""
    from .tensor import Tensor  # tensor.py imports this module: break the cycle here

    return Tensor(array) if isinstance(x, Tensor) else np.asarray(array)


def _unary_ops(*names):
    def make(name):
        def method(self):
            return self._op(name)

        method.__name__ = name
        method.__doc__ = f"Element-wise {name} (registry op {name!r})."
        return method

    return [make(n) for n in names]


def _tests(*pairs):
    def make(name, f):
        def method(self):
            return constant_like(self, f(value_of(self)))

        method.__name__ = name
        method.__doc__ = f"Element-wise {name} as a constant boolean tensor (no gradient)."
        return method

    return [make(n, f) for n, f in pairs]


def _logic(*pairs):
    def make(name, f):
        def method(self, other):
            return constant_like(self, f(value_of(self), value_of(other)))

        method.__name__ = name
        method.__doc__ = f"Element-wise {name} with broadcasting, a constant boolean tensor (no gradient)."
        return method

    return [make(n, f) for n, f in pairs]


class MathMethods:
    """Math, tests, logic, reductions and scans shared by Tensor and Dual."""

    __slots__ = ()

    (tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, log2, log10, exp2, log1p, expm1,
     erf, floor, ceil, round, trunc) = _unary_ops(
        "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10",
        "exp2", "log1p", "expm1", "erf", "floor", "ceil", "round", "trunc")
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    isnan, isinf, isfinite, logical_not = _tests(
        ("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite),
        ("logical_not", np.logical_not))
    logical_and, logical_or, logical_xor, eq, ne, lt, le, gt, ge = _logic(
        ("logical_and", np.logical_and), ("logical_or", np.logical_or),
        ("logical_xor", np.logical_xor), ("eq", np.equal), ("ne", np.not_equal),
        ("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal))
    __lt__, __le__, __gt__, __ge__, __eq__, __ne__ = lt, le, gt, ge, eq, ne
    __hash__ = object.__hash__
    __invert__ = logical_not

    def atan2(self, other):
        """The angle of (x=other, y=self) in (-pi, pi], as ``torch.atan2(self, other)``."""
        return self._op("atan2", other)

    arctan2 = atan2

    def fmod(self, other):
        """C's remainder (sign of self); d/dself = 1, d/dother = -trunc(self / other)."""
        return self._op("fmod", other)

    def remainder(self, other):
        """Python's ``self % other`` (sign of other); d/dself = 1, d/dother = -floor(self / other)."""
        return self._op("remainder", other)

    def __mod__(self, o):
        return self._op("remainder", o)

    def __rmod__(self, o):
        return self._apply(REGISTRY["remainder"], (o, self), {})

    def __floordiv__(self, o):
        return self._op("floor_divide", o)

    def __rfloordiv__(self, o):
        return self._apply(REGISTRY["floor_divide"], (o, self), {})

    def rsqrt(self):
        """1 / sqrt(x)."""
        return 1.0 / self.sqrt()  # not x ** -0.5: rsqrt(-0.0) is -inf, as 1 / sqrt(-0.0)

    def reciprocal(self):
        """1 / x."""
        return 1.0 / self

    def pow(self, p):
        """self ** p (a number or a tensor exponent)."""
        return self ** p

    def logaddexp(self, other):
        """log(exp(self) + exp(other)) without overflow: max + log1p(exp(-|self - other|))."""
        a, b = value_of(self), value_of(other)
        # Equal infinities would give inf - inf = nan in the difference: its term is log1p(1) there.
        same = np.broadcast_to(np.asarray(a == b), np.broadcast_shapes(np.shape(a), np.shape(b)))
        if same.any():
            from .functions import where  # functions imports tensor, which imports this module

            d = where(same, 0.0, self) - where(same, 0.0, other)
        else:
            d = self - other
        return self.maximum(other) + (-(d.abs())).exp().log1p()

    def lerp(self, end, weight):
        """self + weight (end - self), PyTorch's linear interpolation."""
        return self + (end - self) * weight

    # --------------------------------------------------------- index results
    def argmax(self, axis=None, keepdims=False, dim=None):
        """Index of the largest entry (the first one on ties), a constant int64 tensor."""
        return _arg(self, np.argmax, pick_axis(axis, dim), keepdims)

    def argmin(self, axis=None, keepdims=False, dim=None):
        """Index of the smallest entry (the first one on ties), a constant int64 tensor."""
        return _arg(self, np.argmin, pick_axis(axis, dim), keepdims)

    def any(self, axis=None, keepdims=False, dim=None):
        """Whether any entry is non-zero, a constant boolean tensor."""
        return constant_like(self, np.any(value_of(self), axis=pick_axis(axis, dim), keepdims=keepdims))

    def all(self, axis=None, keepdims=False, dim=None):
        """Whether every entry is non-zero, a constant boolean tensor."""
        return constant_like(self, np.all(value_of(self), axis=pick_axis(axis, dim), keepdims=keepdims))

    # ----------------------------------------------------------- conversions
    def float(self):
        """Cast to float32 (PyTorch's ``.float()``); the gradient is cast back."""
        return self.astype(np.float32)

    def double(self):
        """Cast to float64 (PyTorch's ``.double()``)."""
        return self.astype(np.float64)



def _arg(x, f, axis, keepdims):
    data = value_of(x)
    if data.size == 0:
        raise ValueError(f"{f.__name__}: cannot take it over an empty tensor of shape {data.shape}")
    return constant_like(x, f(data, axis=axis, keepdims=keepdims))

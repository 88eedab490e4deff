"""Module-level forms (``cr.tan(x)``, ``cr.cumsum(x, 1)``, ``cr.einsum(...)``) of the extra methods.

Each function lifts a plain array or number to a Tensor (a Tensor or Dual is used as
it is) and calls the method of the same name, so the function and the method can
never disagree.

Example:
    >>> import chainrule as cr
    >>> cr.atan2(cr.tensor(1.0), cr.tensor(-1.0)).item() == np.arctan2(1.0, -1.0)
    True
"""

from __future__ import annotations

import numpy as np

from .tensor import OpsMixin, Tensor

_MATH = [
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10",
    "exp2", "log1p", "expm1", "erf", "floor", "ceil", "round", "trunc", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh", "isnan", "isinf", "isfinite", "logical_not",
    "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge", "atan2",
    "arctan2", "fmod", "remainder", "rsqrt", "reciprocal", "logaddexp", "lerp", "argmax",
    "argmin", "any", "all", "square",
]
_SCANS = [
    "prod", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "argsort", "sort", "topk", "median",
    "norm", "take_along_axis", "gather", "scatter", "scatter_add", "index_add",
]
__all__ = [*_MATH, *_SCANS, "lift"]


def lift(x):
    """``x`` as a chainrule value: Tensors and Duals unchanged, arrays and numbers as constant Tensors."""
    return x if isinstance(x, OpsMixin) else Tensor(np.asarray(x))


def _from_method(name):
    def f(x, *args, **kwargs):
        return getattr(lift(x), name)(*args, **kwargs)

    f.__name__ = name
    f.__doc__ = f"Module form of ``Tensor.{name}``: {getattr(OpsMixin, name).__doc__}"
    return f


(tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, log2, log10, exp2, log1p, expm1, erf,
 floor, ceil, round, trunc, arcsin, arccos, arctan, arcsinh, arccosh, arctanh, isnan, isinf,
 isfinite, logical_not, logical_and, logical_or, logical_xor, eq, ne, lt, le, gt, ge, atan2,
 arctan2, fmod, remainder, rsqrt, reciprocal, logaddexp, lerp, argmax, argmin, any, all,
 square) = map(_from_method, _MATH)
(prod, cumsum, cumprod, logcumsumexp, cummax, cummin, argsort, sort, topk, median, norm,
 take_along_axis, gather, scatter, scatter_add, index_add) = map(_from_method, _SCANS)

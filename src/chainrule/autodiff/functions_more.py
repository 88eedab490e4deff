"""Module-level forms (``cr.tan(x)``, ``cr.cumsum(x, 1)``, ``cr.einsum(...)``) of the extra methods.

Each function lifts a plain array or number to a Tensor (a Tensor or Dual is used as
it is) and calls the method of the same name, so the function and the method can
never disagree.

Example:
    >>> import chainrule as cr
    >>> print(f"{cr.atan2(cr.tensor(1.0), cr.tensor(-1.0)).item():.4f}")
    2.3562
"""

from __future__ import annotations

import numpy as np

from .methods import pick_axis, value_of
from .tensor import OpsMixin, Tensor, dispatch

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
_SHAPES = [
    "view", "ravel", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "swapaxes", "swapdims",
    "moveaxis", "movedim", "flip", "roll", "repeat", "tile", "repeat_interleave", "pad", "tril", "triu",
    "diagonal", "diag", "trace", "split", "chunk", "unbind", "dot", "inner", "outer", "tensordot", "kron",
]
__all__ = [*_MATH, *_SCANS, *_SHAPES, "lift", "einsum", "cat", "meshgrid"]


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
(view, ravel, flatten, unflatten, squeeze, unsqueeze, permute, swapaxes, swapdims, moveaxis, movedim,
 flip, roll, repeat, tile, repeat_interleave, pad, tril, triu, diagonal, diag, trace, split, chunk,
 unbind, dot, inner, outer, tensordot, kron) = map(_from_method, _SHAPES)


def einsum(subscripts, *operands):
    """Einstein summation with NumPy's subscripts (``"ij,jk->ik"``, ellipses, implicit output).

    Example:
        >>> import chainrule as cr
        >>> cr.einsum("ij,j->i", cr.ones(2, 3), cr.ones(3))
        tensor([3., 3.])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return dispatch("einsum", *operands, subscripts=subscripts)


def cat(tensors, dim=0, axis=None):
    """PyTorch's name for concatenate (``dim`` or ``axis``)."""
    return dispatch("concatenate", *tensors, axis=pick_axis(axis, dim, 0) if axis is not None else dim)


def meshgrid(*xs, indexing="ij"):
    """Coordinate grids from 1-D tensors; ``indexing="ij"`` (PyTorch's default) or "xy" (NumPy's).

    Example:
        >>> import chainrule as cr
        >>> [g.shape for g in cr.meshgrid(cr.arange(2.0), cr.arange(3.0))]
        [(2, 3), (2, 3)]
    """
    if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
        xs = tuple(xs[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    xs = [lift(x).reshape(-1) for x in xs]
    n = len(xs)
    order = list(range(n))
    if indexing == "xy" and n >= 2:
        order[0], order[1] = 1, 0
    shape = [len(value_of(x)) for x in xs]
    full = [shape[order[i]] for i in range(n)]
    grids = []
    for k, x in enumerate(xs):
        pos = order.index(k)
        grids.append(x.reshape(*[-1 if i == pos else 1 for i in range(n)]).broadcast_to(*full))
    return tuple(grids)

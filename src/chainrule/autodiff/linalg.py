"""``cr.linalg``: inverse, solve, determinants and norms, differentiable in both modes.

Each function is one registry op (``inv``, ``solve``, ``det``, ``slogdet``) or a
composition of them; all work on stacks of matrices (..., n, n).

Example:
    >>> import chainrule as cr
    >>> a = cr.tensor([[2.0, 0.0], [0.0, 4.0]], requires_grad=True)
    >>> cr.linalg.det(a).backward()
    >>> a.grad
    array([[4., 0.],
           [0., 2.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .functions_more import lift
from .functions_more import trace  # noqa: F401 - np.linalg.trace and torch.trace users look here
from .methods import constant_like, value_of
from .tensor import dispatch

__all__ = ["inv", "solve", "det", "slogdet", "norm", "vector_norm", "matrix_power", "trace"]


def inv(a):
    """The inverse of each square matrix; d inv(A) = -inv(A) dA inv(A)."""
    return dispatch("inv", a)


def solve(a, b):
    """x with ``a @ x = b``; ``b`` is a vector (n,) or columns (..., n, k)."""
    return dispatch("solve", a, b)


def det(a):
    """The determinant; its gradient (the adjugate) is exact for singular matrices too."""
    return dispatch("det", a)


def slogdet(a):
    """``(sign, log|det a|)``: the sign is a constant, the log-determinant differentiable."""
    return constant_like(lift(a), np.linalg.slogdet(value_of(a))[0]), dispatch("slogdet", a)


def norm(x, ord=None, dim=None, keepdims=False):
    """Vector norm over ``dim`` (see ``Tensor.norm``); "fro" over a pair of axes."""
    return lift(x).norm(ord=ord, axis=dim, keepdims=keepdims)


vector_norm = norm


def matrix_power(a, n):
    """a @ a @ ... (n factors); n = 0 gives the identity, negative n powers of the inverse."""
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: n must be an integer, got {n!r}")
    a = lift(a) if n >= 0 else inv(a)
    shape = value_of(a).shape
    out = constant_like(a, np.broadcast_to(np.eye(shape[-1], dtype=value_of(a).dtype), shape).copy())
    for _ in range(abs(int(n))):
        out = out @ a
    return out

"""Exact linear-separability test by linear programming.

Two classes are linearly separable iff some hyperplane has every example
strictly on its own side: there are ``b`` and ``w`` with
``s_i (b + w . x_i) > 0`` for all i, where ``s_i`` is +1 or -1. Because the
inequality is strict and homogeneous, the weights can be rescaled until the
smallest margin is 1, so the question is exactly whether the linear
constraints ``s_i (b + w . x_i) >= 1`` are feasible — a linear program with
no objective. This is a yes/no answer, not a heuristic such as "the
perceptron did not converge in N epochs".

SciPy is an optional dependency; it is imported only when a test is run.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_real_array, check_same_length

__all__ = ["linearly_separable", "separating_hyperplane"]


def _linprog():
    try:
        from scipy.optimize import linprog
    except ImportError as exc:
        raise ImportError(
            "the linear-separability test needs SciPy's linprog; "
            "install it with `pip install scipy`"
        ) from exc
    return linprog


def _signs(y: np.ndarray) -> np.ndarray:
    """Map the (at most two) labels in ``y`` to -1 / +1, larger label -> +1."""
    classes = np.unique(y)
    if classes.size > 2:
        raise ValueError(
            f"y must contain at most two distinct labels, got {classes.size}: "
            f"{classes.tolist()}"
        )
    return np.where(y == classes[-1], 1.0, -1.0)


def separating_hyperplane(X, y) -> np.ndarray | None:
    """Return weights ``[b, w_1, ..., w_m]`` that strictly separate the classes, or None.

    Args:
        X: examples, shape (n_examples, m).
        y: labels, shape (n_examples,), with at most two distinct values;
            the larger one is the positive class.

    Returns:
        An array of shape (m + 1,) with the bias first (the same layout as
        :class:`~chainrule.classic.Perceptron` weights) such that
        ``s_i (b + w . x_i) >= 1`` for every example up to solver tolerance,
        or None when no such hyperplane exists.

    Raises:
        ImportError: if SciPy is not installed.

    Example:
        >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
        >>> separating_hyperplane(X, [0, 0, 0, 1]) is not None
        True
        >>> separating_hyperplane(X, [0, 1, 1, 0]) is None
        True
    """
    X = as_real_array("X", X, 2)
    y = as_real_array("y", y, 1)
    check_same_length("X", X, "y", y)
    return _margin_lp(X, _signs(y))


def _margin_lp(X: np.ndarray, signs: np.ndarray) -> np.ndarray | None:
    """Solve ``s_i (b + w . x_i) >= 1`` for ``[b, w]``; None if infeasible."""
    linprog = _linprog()
    # Standardising columns is an invertible affine map, so it preserves
    # separability while keeping the solver well scaled for tiny/huge data.
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = np.hstack([np.ones((X.shape[0], 1)), (X - mean) / scale])
    result = linprog(
        c=np.zeros(Z.shape[1]),
        A_ub=-signs[:, None] * Z,
        b_ub=-np.ones(Z.shape[0]),
        bounds=[(None, None)] * Z.shape[1],
        method="highs",
    )
    if result.status == 2:
        return None
    if result.status != 0:
        raise RuntimeError(f"the separability linear program failed: {result.message}")
    w = result.x[1:] / scale
    return np.concatenate([[result.x[0] - w @ mean], w])


def linearly_separable(X, y) -> bool:
    """Return True iff a hyperplane strictly separates the two classes in ``(X, y)``.

    Args:
        X: examples, shape (n_examples, m).
        y: labels, shape (n_examples,), with at most two distinct values.

    Raises:
        ImportError: if SciPy is not installed (``pip install scipy``).

    Example:
        >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
        >>> linearly_separable(X, [0, 1, 1, 1]), linearly_separable(X, [0, 1, 1, 0])
        (True, False)
    """
    return separating_hyperplane(X, y) is not None

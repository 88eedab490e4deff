"""Argument checks shared by the data modules.

Every message here may reach a command-line user verbatim, so each one is a
single sentence that names the argument, the bad value and what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np



def as_rng(seed, name: str = "seed") -> np.random.Generator:
    """Return a Generator from an int seed, ``None`` (fresh entropy) or a Generator.

    A Generator is returned as is, so callers that pass one share its stream.

    Example:
        >>> int(as_rng(0).integers(10)) == int(as_rng(0).integers(10))
        True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"{name} must be a non-negative integer, None or a numpy Generator, got {seed!r}"
    )


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer.

    Example:
        >>> check_positive_int(3, "n")
        3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_float_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a NumPy floating dtype, or raise.

    Example:
        >>> check_float_dtype("float32")
        dtype('float32')
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a floating-point type such as float32, got {dtype!r}") from None
    if resolved.kind != "f":
        raise ValueError(
            f"dtype must be a floating-point type such as float32, got {resolved.name}"
        )
    return resolved


def check_noise(noise) -> float:
    """Return ``noise`` as a float, or raise if it is negative or not a number.

    Example:
        >>> check_noise(0.2)
        0.2
    """
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    return float(noise)


def check_X_y(X, y, allow_none_y: bool = False):
    """Return ``(X, y)`` as arrays after checking that they pair up row for row.

    ``X`` must have at least one dimension; ``y`` (unless ``None`` is allowed)
    must have as many rows as ``X``.

    Example:
        >>> X, y = check_X_y([[1.0], [2.0]], [0, 1])
        >>> X.shape, y.shape
        ((2, 1), (2,))
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"X must be an array with one row per sample, got a scalar {X!r}")
    if y is None:
        if allow_none_y:
            return X, None
        raise ValueError("y must be an array with one entry per row of X, got None")
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(X):
        got = "a scalar" if y.ndim == 0 else f"{len(y)} rows"
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {got}")
    return X, y


def is_number(text: str) -> bool:
    """Return True if ``float(text)`` succeeds.

    Example:
        >>> is_number("1e-3"), is_number("abc")
        (True, False)
    """
    try:
        float(text)
    except ValueError:
        return False
    return True

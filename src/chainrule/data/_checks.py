"""Argument checks shared by the data modules.

Every message here may reach a command-line user verbatim, so each one is a
single sentence that names the argument, the bad value and what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np



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


def check_fits_dtype(values, dtype, locate):
    """Raise one sentence when a finite value of ``values`` would overflow ``dtype`` (1e39 in float32).

    ``locate(i)`` names where value ``i`` comes from (``"data.csv, line 3, column 'x'"``).

    Example:
        >>> check_fits_dtype(np.array([1.0, 1e39]), np.float32, lambda i: f"row {i}")
        Traceback (most recent call last):
        ...
        ValueError: row 1 holds 1e+39, beyond the float32 range (largest 3.402823e+38); rescale the column or load it as float64
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or values.dtype.kind not in "biuf":
        return values
    top = np.finfo(dtype).max
    big = np.flatnonzero(np.abs(values.astype(np.float64, copy=False)) > top)
    if big.size:
        i = int(big[0])
        raise ValueError(f"{locate(i)} holds {values.reshape(-1)[i].item():g}, beyond the {dtype} range (largest "
                         f"{top:.7g}); rescale the column or load it as float64")
    return values

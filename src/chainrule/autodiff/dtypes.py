"""The default floating dtype and the conversion of user data into arrays.

float32 is the default: it halves memory traffic and is what the speed targets
assume; float64 is used for gradient checks and worked examples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["set_default_dtype", "get_default_dtype", "to_array"]

_DEFAULT = {"dtype": np.dtype(np.float32)}
def set_default_dtype(dtype):
    """Set the floating dtype used for Python numbers and lists (float32 or float64)."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"default dtype must be float32 or float64, got {dt}")
    _DEFAULT["dtype"] = dt


def get_default_dtype():
    """The floating dtype used for Python numbers and lists (float32 unless changed)."""
    return _DEFAULT["dtype"]


def to_array(data, dtype=None):
    """Convert user data to a (copied) ndarray, applying the default-dtype rules.

    Python floats and lists of them become the default dtype; NumPy arrays keep
    theirs; ints and bools stay as they are; anything non-numeric is refused.

    Example:
        >>> to_array([1.0, 2.0]).dtype, to_array(np.arange(2)).dtype
        (dtype('float32'), dtype('int64'))
    """
    if dtype is not None:
        arr = np.array(data, dtype=dtype)
    elif isinstance(data, np.ndarray):
        arr = data.copy()
    else:
        arr = np.array(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(_DEFAULT["dtype"])
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor data must be numeric (bool, int or float), got dtype {arr.dtype}")
    return arr

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


def _refused(data, dtype, exc):
    """The one-sentence error for data NumPy cannot turn into a numeric array."""
    if "inhomogeneous" in str(exc):
        return ValueError(f"tensor data must be rectangular (nested sequences of equal lengths), got ragged "
                          f"nesting: {str(exc).split('The detected shape was ')[-1].rstrip('.')}")
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            return TypeError(f"dtype {dtype!r} is not a NumPy dtype (such as 'float32' or np.float64)")
    target = f"a {dtype} array" if dtype is not None else "numbers"
    return type(exc)(f"tensor data must be {target}, got {type(data).__name__} {str(data)[:40]!r} ({exc})")


def to_array(data, dtype=None):
    """Convert user data to a (copied) ndarray, applying the default-dtype rules.

    Python floats and lists of them become the default dtype; NumPy arrays keep
    theirs; ints and bools stay as they are; anything non-numeric is refused.

    Example:
        >>> to_array([1.0, 2.0]).dtype, to_array(np.arange(2)).dtype
        (dtype('float32'), dtype('int64'))
    """
    if isinstance(data, np.ndarray) and dtype is None:
        arr = data.copy()
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except (ValueError, TypeError) as exc:  # ragged nesting, text, objects: say what was expected
            raise _refused(data, dtype, exc) from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(_DEFAULT["dtype"])
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor data must be numeric (bool, int or float), got dtype {arr.dtype}")
    return arr

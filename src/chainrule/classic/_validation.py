"""Array checks shared by the classic models (scalar checks and seeds: :mod:`chainrule._core`).

Every check raises a one-sentence ``ValueError`` (or ``TypeError``) that
names the offending value and what was expected, so a student can fix the
call without reading the source.
"""

from __future__ import annotations

import numpy as np

from .._core import real_array, short_repr


def real_values(name: str, value) -> np.ndarray:
    """``value`` as a float64 array of any shape: real numbers (or bools) only, never text or complex.

    ``np.asarray(v, dtype=float)`` alone would turn ``"1.5"`` into 1.5 and drop an imaginary part.
    """
    try:
        raw = np.asarray(value)
    except ValueError:  # ragged nesting
        raise ValueError(f"{name} must be a rectangular array of real numbers, got {short_repr(value)}") from None
    return real_array(name, value, raw).astype(np.float64)


def as_real_array(name: str, value, ndim: int | tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a finite float64 array with an allowed ``ndim``."""
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    array = real_values(name, value)
    if array.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(
            f"{name} must be {wanted}, got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = array[~np.isfinite(array)].flat[0]
        raise ValueError(f"{name} must contain only finite numbers, got {bad}")
    return array


def check_features(name: str, array: np.ndarray, n_features: int) -> None:
    """Insist that the last axis of ``array`` has ``n_features`` entries."""
    if array.shape[-1] != n_features:
        raise ValueError(
            f"{name} must have {n_features} features in its last axis, "
            f"got shape {array.shape}"
        )


def check_same_length(x_name: str, x: np.ndarray, y_name: str, y: np.ndarray):
    """Insist that ``x`` and ``y`` describe the same number of examples."""
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{y_name} must have one entry per row of {x_name} "
            f"({x.shape[0]}), got {y.shape[0]}"
        )


def check_labels(name: str, y: np.ndarray, allowed: tuple[float, ...],
                 context: str = "") -> None:
    """Insist that every entry of ``y`` is one of ``allowed``."""
    bad = y[~np.isin(y, allowed)]
    if bad.size:
        expected = " and ".join(_fmt(a) for a in allowed)
        raise ValueError(
            f"{name} must contain only {expected}{context}, got {_fmt(bad[0])}"
        )


def _fmt(value) -> str:
    # Labels arrive as float64; show 1.0 as 1 so messages match what was typed.
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)

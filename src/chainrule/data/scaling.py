"""Feature scalers that are fitted on training data and saved alongside a model.

Statistics are computed in float64 for accuracy, but transformed data keeps
the input's floating dtype (float32 stays float32). Both scalers accept a
1-D array as a single column, which suits regression targets.
"""

from __future__ import annotations

import numpy as np


class _Scaler:
    """Shared fitting checks, shape handling and (de)serialisation."""

    _fields: tuple = ()

    def _as_2d(self, X, fitting: bool = False):
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{type(self).__name__} needs numeric data, got dtype {X.dtype}")
        if X.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__} expects shape (n,) or (n, d), got shape {X.shape}")
        X2 = X.reshape(-1, 1) if X.ndim == 1 else X
        if fitting:
            if len(X2) == 0:
                raise ValueError(f"{type(self).__name__} cannot be fitted on an empty array")
            if not np.all(np.isfinite(X2)):
                raise ValueError(f"{type(self).__name__} cannot be fitted on data with NaN or infinite values")
        else:
            self._check_fitted(X2.shape[1])
        return X2, X.ndim == 1, (X.dtype if X.dtype.kind == "f" else np.dtype(np.float32))

    def _check_fitted(self, n_columns: int | None = None):
        if getattr(self, "n_features_", None) is None:
            raise ValueError(f"{type(self).__name__} is not fitted yet; call fit(X_train) first")
        if n_columns is not None and n_columns != self.n_features_:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self.n_features_} columns, got {n_columns}"
            )

    def _apply(self, X, forward: bool):
        X2, flat, dtype = self._as_2d(X)
        out = (self._forward if forward else self._backward)(X2.astype(np.float64)).astype(dtype)
        return out.reshape(-1) if flat else out

    def transform(self, X) -> np.ndarray:
        """Scale ``X`` (shape ``(n, d)`` or ``(n,)``) with the fitted statistics."""
        return self._apply(X, forward=True)

    def inverse_transform(self, X) -> np.ndarray:
        """Undo :meth:`transform`, returning data on the original scale."""
        return self._apply(X, forward=False)

    def fit_transform(self, X) -> np.ndarray:
        """Fit on ``X`` and return it transformed."""
        return self.fit(X).transform(X)

    def to_dict(self) -> dict:
        """Return a JSON-safe dict of the settings and fitted statistics."""
        self._check_fitted()
        state = {"type": type(self).__name__}
        state.update({name: np.asarray(getattr(self, name)).tolist() for name in self._fields})
        return state

    @classmethod
    def from_dict(cls, state: dict):
        """Rebuild a fitted scaler from :meth:`to_dict` output."""
        if not isinstance(state, dict) or state.get("type") != cls.__name__:
            got = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"expected a saved {cls.__name__}, got {got!r}")
        missing = [name for name in cls._fields if name not in state]
        if missing:
            raise ValueError(f"saved {cls.__name__} lacks {', '.join(missing)}")
        scaler = cls._from_fields(state)
        scaler.n_features_ = len(np.asarray(getattr(scaler, cls._fields[-1])))
        return scaler


class StandardScaler(_Scaler):
    """Shift each column to mean 0 and scale it to standard deviation 1.

    Constant columns are only centred (their scale is taken as 1), so they
    become 0 rather than NaN.

    Example:
        >>> s = StandardScaler().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
        >>> s.transform(np.array([[2.0, 5.0], [5.0, 6.0]])).tolist()
        [[0.0, 0.0], [3.0, 1.0]]
        >>> StandardScaler.from_dict(s.to_dict()).mean_.tolist()
        [2.0, 5.0]
    """

    _fields = ("mean_", "scale_")

    def __init__(self):
        self.mean_ = self.scale_ = self.n_features_ = None

    def fit(self, X) -> "StandardScaler":
        """Learn per-column mean and standard deviation from ``X`` (training data only)."""
        X2, _, _ = self._as_2d(X, fitting=True)
        X2 = X2.astype(np.float64)
        # Dividing by each column's largest magnitude first keeps the squares of values near 1e200
        # finite, so huge columns get their true spread instead of an infinite one (which maps to 0).
        peak = np.max(np.abs(X2), axis=0)
        peak = np.where(peak > 0, peak, 1.0)
        unit = X2 / peak
        self.mean_ = unit.mean(axis=0) * peak
        std = unit.std(axis=0) * peak
        self.scale_ = np.where(std > 0, std, 1.0)
        self.n_features_ = X2.shape[1]
        return self

    def _forward(self, X):
        return X / self.scale_ - self.mean_ / self.scale_  # no X - mean, which overflows for +-1e308

    def _backward(self, Z):
        return Z * self.scale_ + self.mean_

    @classmethod
    def _from_fields(cls, state):
        scaler = cls()
        scaler.mean_ = np.asarray(state["mean_"], dtype=np.float64)
        scaler.scale_ = np.asarray(state["scale_"], dtype=np.float64)
        return scaler


class MinMaxScaler(_Scaler):
    """Map each column's training range linearly onto ``feature_range`` (default [-1, 1]).

    Constant columns map to the middle of the range instead of dividing by zero.

    Example:
        >>> s = MinMaxScaler().fit(np.array([[0.0, 7.0], [10.0, 7.0]]))
        >>> s.transform(np.array([[5.0, 7.0], [10.0, 8.0]])).tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """

    _fields = ("feature_range", "data_min_", "data_max_")

    def __init__(self, feature_range=(-1.0, 1.0)):
        try:
            low, high = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            low = high = float("nan")
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"feature_range must be two finite numbers (low, high) with low < high, got {feature_range!r}")
        self.feature_range = (low, high)
        self.data_min_ = self.data_max_ = self.n_features_ = None

    def fit(self, X) -> "MinMaxScaler":
        """Learn per-column minimum and maximum from ``X`` (training data only)."""
        X2, _, _ = self._as_2d(X, fitting=True)
        self.data_min_ = X2.min(axis=0).astype(np.float64)
        self.data_max_ = X2.max(axis=0).astype(np.float64)
        self.n_features_ = X2.shape[1]
        return self

    def _coefficients(self):
        low, high = self.feature_range
        half = self.data_max_ / 2 - self.data_min_ / 2  # halves: max - min overflows for +-1e308
        # Scaling about the midpoints lets a constant column land mid-range
        # and still invert exactly.
        scale = (high - low) / 2 / np.where(half > 0, half, (high - low) / 2)
        return self.data_min_ / 2 + self.data_max_ / 2, (low + high) / 2, scale

    def _forward(self, X):
        centre_in, centre_out, scale = self._coefficients()
        return X * scale - centre_in * scale + centre_out

    def _backward(self, Z):
        centre_in, centre_out, scale = self._coefficients()
        return (Z - centre_out) / scale + centre_in

    @classmethod
    def _from_fields(cls, state):
        scaler = cls(state["feature_range"])
        scaler.data_min_ = np.asarray(state["data_min_"], dtype=np.float64)
        scaler.data_max_ = np.asarray(state["data_max_"], dtype=np.float64)
        return scaler


SCALERS = {cls.__name__: cls for cls in (StandardScaler, MinMaxScaler)}


def scaler_from_dict(state: dict):
    """Rebuild whichever scaler :meth:`to_dict` saved, from its ``"type"`` entry.

    Example:
        >>> s = MinMaxScaler((0, 1)).fit(np.array([[2.0], [4.0]]))
        >>> scaler_from_dict(s.to_dict()).transform(np.array([[3.0]])).tolist()
        [[0.5]]
    """
    kind = state.get("type") if isinstance(state, dict) else None
    if kind not in SCALERS:
        raise ValueError(f"unknown scaler type {kind!r}; expected one of: {', '.join(SCALERS)}")
    return SCALERS[kind].from_dict(state)

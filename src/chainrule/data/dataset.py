"""The ``Dataset`` container returned by every loader in ``chainrule.data``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._core import first_non_whole

TASKS = ("classification", "regression")


@dataclass(frozen=True, repr=False)
class Dataset:
    """Features and targets of one data set, with names for columns and classes.

    Attributes:
        X: float array of shape ``(n, d)``, one row per sample.
        y: targets, shape ``(n,)`` or ``(n, k)``: int64 class labels for
            classification, floats for regression.
        task: ``"classification"`` or ``"regression"``.
        name: short name of the data set (the registry key for built-ins).
        feature_names: ``d`` column names.
        class_names: for classification, the name of each class label in
            label order (``class_names[0]`` names label 0); ``None`` otherwise.
        description: one line saying what the data set is.

    Example:
        >>> import numpy as np
        >>> ds = Dataset(np.zeros((4, 2), np.float32), np.array([0, 1, 1, 0]),
        ...              "classification", name="toy")
        >>> ds.n_samples, ds.n_features, ds.n_classes
        (4, 2, 2)
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    name: str = "data"
    feature_names: tuple = field(default=())
    class_names: tuple | None = None
    description: str = ""

    def __post_init__(self):
        X, y = np.asarray(self.X), np.asarray(self.y)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D with shape (n, d), got shape {X.shape}")
        if y.ndim not in (1, 2) or len(y) != len(X):
            raise ValueError(
                f"y must have shape (n,) or (n, k) with n = {len(X)} rows, got shape {y.shape}"
            )
        if self.task not in TASKS:
            raise ValueError(f"task must be 'classification' or 'regression', got {self.task!r}")
        if self.task == "classification":
            _check_labels(y, self.class_names)
        names = tuple(self.feature_names) or tuple(f"x{i + 1}" for i in range(X.shape[1]))
        if len(names) != X.shape[1]:
            raise ValueError(f"got {len(names)} feature names for {X.shape[1]} columns of X")
        # frozen=True keeps users from swapping arrays out from under a loader,
        # so normalised fields are written through object.__setattr__.
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "feature_names", names)
        if self.class_names is not None:
            object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return self.X.shape[1]

    @property
    def n_classes(self) -> int | None:
        """Number of classes for classification, ``None`` for regression."""
        if self.task != "classification":
            return None
        if self.class_names is not None:
            return len(self.class_names)
        return int(np.unique(self.y).size)

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        classes = f", classes={self.n_classes}" if self.task == "classification" else ""
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, X={self.X.shape} {self.X.dtype}, "
            f"y={self.y.shape} {self.y.dtype}{classes})"
        )

    def subset(self, indices) -> "Dataset":
        """Return a new Dataset holding only the given rows (indices or boolean mask).

        Example:
            >>> import numpy as np
            >>> ds = Dataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]), "classification")
            >>> ds.subset([2, 0]).X.tolist()
            [[4.0, 5.0], [0.0, 1.0]]
        """
        indices = np.asarray(indices)
        return Dataset(
            self.X[indices], self.y[indices], self.task, self.name,
            self.feature_names, self.class_names, self.description,
        )


def _check_labels(y, class_names):
    """A classification y holds whole-number labels (or one-hot rows) that its class names, if given, cover."""
    i = first_non_whole(y) if y.ndim == 1 else None
    if i is not None:
        raise ValueError(f"a classification Dataset's y holds {float(y[i])!r} at row {i}; expected class labels "
                         "(whole numbers such as 0, 1, 2), or task='regression'")
    if class_names is None or y.size == 0:
        return
    count = y.shape[1] if y.ndim == 2 else int(np.max(y)) + 1 if np.min(y) >= 0 else None
    if count is not None and count > len(class_names):
        what = f"{y.shape[1]} columns" if y.ndim == 2 else f"label {count - 1}"
        names = f"{len(class_names)} class" + ("es" if len(class_names) != 1 else "")
        raise ValueError(f"class_names names {names}, but y holds {what}")

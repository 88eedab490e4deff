"""Random and stratified train/validation/test splits."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .._core import as_generator
from ._checks import check_X_y
from .dataset import Dataset


class Split(NamedTuple):
    """The three parts of a split; each is an ``(X, y)`` pair (or a Dataset)."""

    train: tuple
    val: tuple
    test: tuple


def _count(size, n: int, name: str) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise ValueError(f"{name} must be a fraction in [0, 1) or a row count, got {size!r}")
    if isinstance(size, numbers.Integral):
        if not 0 <= size <= n:
            raise ValueError(f"{name} must be between 0 and the {n} available rows, got {size}")
        return int(size)
    if not 0.0 <= size < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1) or a row count, got {size!r}")
    # Rounding up keeps a small non-zero fraction from yielding an empty part.
    return int(np.ceil(size * n - 1e-9))


def _resolve_sizes(fractions, val, test):
    if fractions is None:
        return (0.0 if val is None else val), (0.2 if test is None else test)
    if val is not None or test is not None:
        raise ValueError("pass either fractions or val/test sizes, not both")
    try:
        parts = [float(f) for f in fractions]
    except (TypeError, ValueError):
        parts = []
    if len(parts) not in (2, 3) or min(parts) < 0 or abs(sum(parts) - 1.0) > 1e-6 or parts[0] <= 0:
        raise ValueError(
            "fractions must be 2 or 3 non-negative numbers (train, [val,] test) with a positive "
            f"train part, summing to 1, got {fractions!r}"
        )
    return (parts[1] if len(parts) == 3 else 0.0), parts[-1]


def _allocate(total: int, sizes: np.ndarray) -> np.ndarray:
    # Largest-remainder rounding: proportional per group, exact in total.
    share = total * sizes / max(sizes.sum(), 1)
    counts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def _groups(y, stratify: bool, n: int) -> list:
    if not stratify:
        return [np.arange(n)]
    y = np.asarray(y)
    if y.ndim != 1 or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)) or y.dtype.kind not in "biufUS":
        raise ValueError(f"stratify needs 1-D class labels, got y of shape {y.shape} and dtype {y.dtype}")
    _, inverse = np.unique(y, return_inverse=True)
    return [np.flatnonzero(inverse == k) for k in range(inverse.max() + 1)]


def split_indices(n, y=None, *, val=None, test=None, fractions=None, stratify=False, seed=0) -> Split:
    """Return row indices for train, validation and test parts (see :func:`split`).

    Example:
        >>> parts = split_indices(10, test=0.3, seed=0)
        >>> [len(p) for p in parts]
        [7, 0, 3]
    """
    val, test = _resolve_sizes(fractions, val, test)
    n_test, n_val = _count(test, n, "test"), _count(val, n, "val")
    if n_test + n_val >= n:
        raise ValueError(
            f"split leaves no rows for training: {n_val} validation + {n_test} test rows out of {n}"
        )
    rng = as_generator(seed)
    groups = _groups(y, stratify, n)
    sizes = np.array([len(g) for g in groups])
    held = _allocate(n_test + n_val, sizes)
    to_test = _allocate(n_test, held)
    parts = ([], [], [])
    for members, h, t in zip(groups, held, to_test):
        members = rng.permutation(members)
        parts[2].append(members[:t])
        parts[1].append(members[t:h])
        parts[0].append(members[h:])
    # Shuffle each part so that stratified classes do not arrive in blocks.
    return Split(*(rng.permutation(np.concatenate(p)) for p in parts))


def split(X, y, *, val=None, test=None, fractions=None, stratify=False, seed=0) -> Split:
    """Split arrays at random into train, validation and test parts.

    Args:
        X: features, shape ``(n, ...)``.
        y: targets, shape ``(n, ...)``.
        val, test: each a fraction in [0, 1) of the rows or an int row count;
            defaults ``val=0`` and ``test=0.2``. Fractions are rounded up.
        fractions: instead of val/test, ``(train, val, test)`` or
            ``(train, test)`` summing to 1.
        stratify: keep each class's share the same in every part (needs
            class labels in ``y``).
        seed: int, ``None`` or numpy Generator.

    Returns:
        ``Split(train=(X, y), val=(X, y), test=(X, y))``; an unused part has 0 rows.

    Example:
        >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 5 + [1] * 5)
        >>> parts = split(X, y, fractions=(0.6, 0.2, 0.2), stratify=True, seed=1)
        >>> [len(part[1]) for part in parts], parts.test[1].tolist().count(1)
        ([6, 2, 2], 1)
    """
    X, y = check_X_y(X, y)
    indices = split_indices(len(X), y, val=val, test=test, fractions=fractions, stratify=stratify, seed=seed)
    return Split(*((X[idx], y[idx]) for idx in indices))


def train_test_split(X, y, test_size=0.25, *, stratify=False, seed=0):
    """Split arrays into train and test parts; returns ``(X_train, X_test, y_train, y_test)``.

    ``test_size`` is a fraction in [0, 1) or an int row count.

    Example:
        >>> X_tr, X_te, y_tr, y_te = train_test_split(np.zeros((8, 3)), np.arange(8), 0.25)
        >>> X_tr.shape, X_te.shape
        ((6, 3), (2, 3))
    """
    parts = split(X, y, test=test_size, stratify=stratify, seed=seed)
    return parts.train[0], parts.test[0], parts.train[1], parts.test[1]


def split_dataset(dataset: Dataset, *, val=None, test=None, fractions=None, stratify=False, seed=0) -> Split:
    """Split a Dataset into three Datasets (see :func:`split` for the arguments).

    Example:
        >>> from chainrule.data import load_dataset
        >>> parts = split_dataset(load_dataset("circle", n=100), test=0.2, val=0.1)
        >>> [len(p) for p in parts]
        [70, 10, 20]
    """
    indices = split_indices(
        len(dataset), dataset.y, val=val, test=test, fractions=fractions, stratify=stratify, seed=seed
    )
    return Split(*(dataset.subset(idx) for idx in indices))

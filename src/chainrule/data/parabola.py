"""The parabola-versus-random-points set of the shuffling experiment.

Class 1 holds points on the parabola y = x^2 for x in [0, 100]; class 0 holds
points drawn uniformly from the box [0, 100] x [0, 10000] that encloses it.
The lesson it teaches: a small network trained with stochastic gradient
descent reaches about 95 % accuracy when the rows are shuffled, but only
about 75 % when all random points come first and about 50 % when all parabola
points come first, because the last rows seen dominate the final weights.
"""

from __future__ import annotations

import numpy as np

from .._core import as_generator, check_int
from ._checks import check_float_dtype
from .dataset import Dataset

X_MAX = 100.0
ORDERS = ("shuffled", "random-first", "parabola-first")
DESCRIPTION = "5,000 points on the parabola y = x^2 (class 1) and 5,000 random points (class 0)"


def make_parabola(n_per_class=5000, order="shuffled", seed=0, dtype=np.float32) -> Dataset:
    """Return the parabola set in one of the three row orders of the experiment.

    Args:
        n_per_class: points in each class (5,000 in the lecture).
        order: ``"shuffled"``, ``"random-first"`` (all class-0 rows, then all
            class-1 rows) or ``"parabola-first"``.
        seed: int, ``None`` or numpy Generator; the same seed gives the same
            points in every order, so the orders differ only in row order.
        dtype: floating dtype of ``X``.

    Returns:
        A classification Dataset with ``X`` of shape ``(2 * n_per_class, 2)``
        (columns ``x`` and ``y``) and int64 labels, 1 = parabola.

    Example:
        >>> ds = make_parabola(n_per_class=3, order="parabola-first")
        >>> ds.y.tolist()
        [1, 1, 1, 0, 0, 0]
        >>> bool(np.allclose(ds.X[:3, 1], ds.X[:3, 0] ** 2, rtol=1e-5))
        True
    """
    n = check_int("n_per_class", n_per_class)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    x_on = rng.uniform(0.0, X_MAX, n)
    on_curve = np.stack([x_on, x_on**2], axis=1)
    random = np.stack([rng.uniform(0.0, X_MAX, n), rng.uniform(0.0, X_MAX**2, n)], axis=1)
    X = np.concatenate([random, on_curve])
    y = np.repeat(np.array([0, 1], dtype=np.int64), n)
    # The permutation is drawn after the points whatever the order, so that
    # all three orders share the same points for a given seed.
    perm = rng.permutation(2 * n)
    if order == "shuffled":
        X, y = X[perm], y[perm]
    elif order == "parabola-first":
        X, y = np.concatenate([X[n:], X[:n]]), np.concatenate([y[n:], y[:n]])
    return Dataset(
        X.astype(dtype), y, "classification", name="parabola",
        feature_names=("x", "y"), class_names=("random", "parabola"),
        description=f"{DESCRIPTION} ({order})",
    )


def parabola_orderings(n_per_class=5000, seed=0, dtype=np.float32) -> dict:
    """Return the same parabola points in the three orders of the shuffling experiment.

    Returns:
        A dict mapping ``"shuffled"``, ``"random-first"`` and ``"parabola-first"``
        to a Dataset each; the three hold identical rows.

    Example:
        >>> sets = parabola_orderings(n_per_class=10, seed=3)
        >>> list(sets)
        ['shuffled', 'random-first', 'parabola-first']
        >>> int(sets["random-first"].y[:10].sum()), int(sets["parabola-first"].y[:10].sum())
        (0, 10)
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        # A Generator or None cannot be replayed three times, so fix one
        # integer seed from it and share that between the orders.
        seed = int(as_generator(seed).integers(2**63))
    return {order: make_parabola(n_per_class, order, seed, dtype) for order in ORDERS}

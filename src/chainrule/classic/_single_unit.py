"""Plumbing shared by the single-unit learners (perceptron and linear unit).

Both keep their m + 1 weights in one vector ``[w_0, w_1, ..., w_m]`` where
``w_0`` is the bias, i.e. the weight of a constant input x_0 = 1, exactly as
in ``o = phi(sum_{i=0..m} w_i x_i)``. Folding the bias into the weights lets
one update rule train both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core import as_generator
from ._validation import as_real_array, check_features, check_same_length

# Small, non-zero starting weights break symmetry without saturating anything.
INIT_SCALE = 0.05


def with_bias_column(X: np.ndarray) -> np.ndarray:
    """Prepend the constant input x_0 = 1 to every row of ``X``."""
    return np.hstack([np.ones((X.shape[0], 1)), X])


def training_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate a training set: X (n, m) finite, y (n,) finite."""
    X = as_real_array("X", X, 2)
    y = as_real_array("y", y, 1)
    check_same_length("X", X, "y", y)
    return X, y


@dataclass(frozen=True)
class TrainingResult:
    """Fields every single-unit ``fit`` reports.

    Attributes:
        converged: whether the stopping criterion of the rule was met.
        epochs: epochs run; when ``converged``, the epoch at which it was met.
        weights: final weights, shape (m + 1,), bias first.
        weight_history: shape (epochs + 1, m + 1); row 0 holds the initial
            weights, row k the weights after epoch k.
        errors: shape (epochs,); one error figure per epoch (see subclass).
        message: a sentence saying what happened and why.
    """

    converged: bool
    epochs: int
    weights: np.ndarray
    weight_history: np.ndarray
    errors: np.ndarray
    message: str


class SingleUnitModel:
    """Base for models with one unit and bias-first weights ``weights_``."""

    weights_: np.ndarray | None = None

    def __init__(self, seed):
        as_generator(seed)  # fail at construction, not halfway through fit
        self.seed = seed

    def _start_weights(self, initial_weights, n_features: int) -> np.ndarray:
        """Copy ``initial_weights`` (m + 1,) or draw small uniform ones."""
        if initial_weights is None:
            rng = as_generator(self.seed)
            return rng.uniform(-INIT_SCALE, INIT_SCALE, n_features + 1)
        w = as_real_array("initial_weights", initial_weights, 1)
        if w.shape[0] != n_features + 1:
            raise ValueError(
                f"initial_weights must have m + 1 = {n_features + 1} entries "
                f"(bias first), got {w.shape[0]}"
            )
        return w.copy()

    def _fitted_weights(self) -> np.ndarray:
        if self.weights_ is None:
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) first"
            )
        return self.weights_

    def net_input(self, X) -> np.ndarray | float:
        """Return ``w_0 + w . x`` for one example (m,) or a batch (n, m)."""
        w = self._fitted_weights()
        X = as_real_array("X", X, (1, 2))
        check_features("X", X, w.shape[0] - 1)
        return w[0] + X @ w[1:]

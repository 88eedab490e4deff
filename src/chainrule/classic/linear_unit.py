"""The linear unit (ADALINE) trained by the delta rule.

The unit outputs its net input, ``o = w_0 + w . x``, and learns by gradient
descent on the squared error over the training set D

    E(w) = 1/2 sum_{d in D} (t_d - o_d)^2,
    dE/dw_i = -sum_d (t_d - o_d) x_id,

so the delta rule is ``delta w_i = alpha sum_d (t_d - o_d) x_id``.

* ``mode="batch"`` (standard gradient descent) sums that gradient over the
  whole set and then updates once per epoch. With a small enough alpha it
  converges to the least-squares weights.
* ``mode="incremental"`` (stochastic gradient descent) updates after every
  example with ``alpha (t_d - o_d) x_id``. If some weights fit every example
  exactly it converges to them; otherwise, with a fixed alpha it settles
  near, not at, the least-squares weights (closer as alpha shrinks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._single_unit import (
    SingleUnitModel, TrainingResult, training_data, with_bias_column,
)
from .._core import check, check_choice, check_int

__all__ = ["LinearUnit", "LinearUnitResult"]


@dataclass(frozen=True)
class LinearUnitResult(TrainingResult):
    """What :meth:`LinearUnit.fit` did (fields as in :class:`TrainingResult`).

    ``converged`` means no weight moved by more than ``tol`` in an epoch;
    ``errors[k - 1]`` is E(w) over the whole set after epoch k.
    """


class LinearUnit(SingleUnitModel):
    """A linear unit ``o = w_0 + w . x`` trained by the delta rule.

    Args:
        alpha: learning rate, > 0. The gradient is a *sum* over examples,
            so large training sets need a smaller alpha.
        max_epochs: most passes over the training set, a positive int.
        mode: ``"batch"`` or ``"incremental"`` (see the module docstring).
        tol: stop once no weight changes by more than this in an epoch.
        seed: int, ``numpy.random.Generator`` or None for the initial
            weights, drawn from [-0.05, 0.05] unless ``fit`` gets
            ``initial_weights``.

    After ``fit``, ``weights_`` holds the weights, shape (m + 1,), bias first.

    Example:
        >>> X = [[0.0], [1.0], [2.0], [3.0]]
        >>> unit = LinearUnit(alpha=0.05, max_epochs=2000, seed=0)
        >>> unit.fit(X, [1.0, 3.0, 5.0, 7.0]).converged
        True
        >>> unit.weights_.round(6).tolist()
        [1.0, 2.0]
    """

    def __init__(self, alpha: float = 0.01, max_epochs: int = 1000,
                 mode: str = "batch", tol: float = 1e-10, seed=None):
        self.alpha = float(check("alpha", alpha, ">0"))
        self.max_epochs = check_int("max_epochs", max_epochs)
        self.mode = check_choice("mode", mode, ("batch", "incremental"))
        self.tol = float(check("tol", tol, ">0"))
        super().__init__(seed)

    def fit(self, X, y, initial_weights=None) -> LinearUnitResult:
        """Train on inputs ``X`` (n, m) and real targets ``y`` (n,).

        Args:
            X: training inputs, shape (n_examples, m).
            y: real-valued targets, shape (n_examples,).
            initial_weights: optional starting weights, shape (m + 1,).

        Returns:
            A :class:`LinearUnitResult`.
        """
        X, y = training_data(X, y)
        Xa = with_bias_column(X)
        w = self._start_weights(initial_weights, X.shape[1])
        history, errors = [w.copy()], []
        status = "max_epochs"
        # Divergence is reported in the result, so silence overflow warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(self.max_epochs):
                w = self._train_epoch(Xa, y, w)
                history.append(w.copy())
                errors.append(0.5 * np.sum((y - Xa @ w) ** 2))
                stop = self._stop_reason(history, errors[-1])
                if stop:
                    status = stop
                    break
        self.weights_ = w
        return LinearUnitResult(
            converged=status == "converged", epochs=len(errors),
            weights=w.copy(), weight_history=np.array(history),
            errors=np.array(errors),
            message=self._message(status, len(errors), errors[-1], Xa),
        )

    def _train_epoch(self, Xa: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Apply the delta rule for one epoch and return the new weights."""
        if self.mode == "batch":
            return w + self.alpha * Xa.T @ (y - Xa @ w)
        w = w.copy()
        for x_d, t in zip(Xa, y):
            w += self.alpha * (t - x_d @ w) * x_d
        return w

    def _stop_reason(self, history: list, error: float) -> str | None:
        if not (np.isfinite(error) and np.all(np.isfinite(history[-1]))):
            return "diverged"
        if np.max(np.abs(history[-1] - history[-2])) <= self.tol:
            return "converged"
        return None

    def _message(self, status: str, epochs: int, error: float, Xa) -> str:
        if status == "converged":
            return (f"converged at epoch {epochs}: no weight moved by more than "
                    f"tol={self.tol:g}; E = {error:.6g}")
        if status == "diverged":
            bound = _stable_alpha(Xa, self.mode)
            if not (np.isfinite(bound) and bound > np.finfo(np.float64).tiny):  # no usable alpha in float64
                return (f"diverged at epoch {epochs} (E became {error}): the inputs are too large to "
                        f"train on in float64 (largest |x| = {np.abs(Xa).max():.3g}); scale them first")
            return (f"diverged at epoch {epochs} (E became {error}): "
                    f"alpha={self.alpha:g} is too large for these data; "
                    f"try alpha below {bound:.3g}")
        return (f"did not converge within {self.max_epochs} epochs (E = "
                f"{error:.6g}); raise max_epochs or alpha, or loosen tol")

    def predict(self, X) -> np.ndarray | float:
        """Return the unit's output ``w_0 + w . x`` for one example or a batch.

        Example:
            >>> unit = LinearUnit(alpha=0.1, seed=0)
            >>> _ = unit.fit([[0.0], [1.0]], [0.0, 2.0])
            >>> round(float(unit.predict([0.5])), 6)
            1.0
        """
        return self.net_input(X)


def _stable_alpha(Xa: np.ndarray, mode: str) -> float:
    """Largest alpha for which the delta rule cannot blow up on ``Xa``.

    Batch descent on a quadratic is stable iff alpha < 2 / lambda_max(Xa^T Xa);
    one incremental step on example d shrinks its residual iff
    alpha < 2 / |x_d|^2, so the tightest example sets the bound.
    """
    # Scaled by the largest |x| first, so the eigenvalues stay finite for inputs near 1e160.
    scale = float(np.abs(Xa).max()) or 1.0
    Xs = Xa / scale
    with np.errstate(over="ignore", divide="ignore"):
        if mode == "batch":
            return 2.0 / np.linalg.eigvalsh(Xs.T @ Xs)[-1] / scale / scale
        return 2.0 / np.max(np.sum(Xs ** 2, axis=1)) / scale / scale

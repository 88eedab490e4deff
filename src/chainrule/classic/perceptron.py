"""Rosenblatt's perceptron trained by the perceptron training rule.

The unit outputs the positive label when ``w_0 + w . x > 0`` and the negative
label otherwise. After each misclassified example every weight moves by

    delta w_i = alpha (t - o) x_i        (x_0 = 1 for the bias)

so correctly classified examples leave the weights alone. If the classes
are linearly separable this reaches weights that classify every example in
a finite number of updates; if they are not (XOR), it never settles. When
training stops at the epoch limit, :meth:`Perceptron.fit` runs an exact
linear-programming separability test to tell the two situations apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._single_unit import (
    SingleUnitModel, TrainingResult, training_data, with_bias_column,
)
from .._core import check, check_choice, check_int
from ._validation import check_labels
from .separability import linearly_separable

__all__ = ["Perceptron", "PerceptronResult"]

ENCODINGS = {"binary": (0.0, 1.0), "bipolar": (-1.0, 1.0)}


@dataclass(frozen=True)
class PerceptronResult(TrainingResult):
    """What :meth:`Perceptron.fit` did (see :class:`TrainingResult` for the rest).

    ``converged`` means an epoch went by with no misclassification, and
    ``epochs`` is then that first mistake-free epoch (1-based); otherwise it
    is ``max_epochs``. ``errors[k - 1]`` counts the examples misclassified
    (and hence updated on) during epoch k.

    Attributes:
        separable: True/False from the exact test, True without a test when
            training converged, None if SciPy was needed but is missing.
    """

    separable: bool | None = None


class Perceptron(SingleUnitModel):
    """A single threshold unit with m + 1 weights, trained by the perceptron rule.

    Args:
        alpha: learning rate, > 0.
        max_epochs: most passes over the training set, a positive int.
        encoding: ``"binary"`` for outputs/labels 0 and 1, ``"bipolar"`` for
            -1 and +1.
        seed: int, ``numpy.random.Generator`` or None; draws the initial
            weights uniformly from [-0.05, 0.05] unless ``fit`` is given
            ``initial_weights``.

    After ``fit``, ``weights_`` holds the weights, shape (m + 1,), bias first.

    Examples are visited in the order given, every epoch.

    Example:
        >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
        >>> result = Perceptron(alpha=0.1, seed=0).fit(X, [0, 0, 0, 1])
        >>> result.converged
        True
        >>> Perceptron(alpha=0.1, seed=0).fit(X, [0, 1, 1, 0]).converged
        False
    """

    def __init__(self, alpha: float = 0.1, max_epochs: int = 100,
                 encoding: str = "binary", seed=None):
        self.alpha = float(check("alpha", alpha, ">0"))
        self.max_epochs = check_int("max_epochs", max_epochs)
        self.encoding = check_choice("encoding", encoding, tuple(ENCODINGS))
        super().__init__(seed)

    def fit(self, X, y, initial_weights=None) -> PerceptronResult:
        """Train on ``X`` (n, m) with labels ``y`` (n,) in the chosen encoding.

        Args:
            X: training inputs, shape (n_examples, m).
            y: targets, shape (n_examples,), each 0/1 (binary) or -1/+1
                (bipolar).
            initial_weights: optional starting weights, shape (m + 1,).

        Returns:
            A :class:`PerceptronResult`.
        """
        X, y = training_data(X, y)
        check_labels("y", y, ENCODINGS[self.encoding],
                     f" for encoding={self.encoding!r}")
        Xa = with_bias_column(X)
        w = self._start_weights(initial_weights, X.shape[1])
        history, errors = [w.copy()], []
        for _ in range(self.max_epochs):
            errors.append(self._train_epoch(Xa, y, w))
            history.append(w.copy())
            if errors[-1] == 0:
                break
        self.weights_ = w
        converged = errors[-1] == 0
        separable = True if converged else _separable_or_none(X, y)
        return PerceptronResult(
            converged=converged, epochs=len(errors), weights=w.copy(),
            weight_history=np.array(history), errors=np.array(errors),
            separable=separable,
            message=self._message(converged, len(errors), separable),
        )

    def _train_epoch(self, Xa: np.ndarray, y: np.ndarray, w: np.ndarray) -> int:
        """One pass of the perceptron rule, updating ``w`` in place; returns mistakes."""
        mistakes = 0
        for x_d, t in zip(Xa, y):
            o = self._output(x_d @ w)
            if o != t:
                w += self.alpha * (t - o) * x_d
                mistakes += 1
        return mistakes

    def _output(self, net):
        negative, positive = ENCODINGS[self.encoding]
        return np.where(net > 0, positive, negative)

    def _message(self, converged: bool, epochs: int, separable) -> str:
        if converged:
            return (f"converged at epoch {epochs}: that epoch made no mistakes, "
                    f"so every training example is classified correctly")
        head = f"did not converge within {self.max_epochs} epochs"
        if separable is None:
            return (f"{head}; install scipy (`pip install scipy`) to test "
                    f"whether the data are linearly separable")
        if separable:
            return (f"{head}, although the data are linearly separable, so the "
                    f"rule will get there eventually: raise max_epochs")
        return (f"{head} because the data are not linearly separable: no "
                f"hyperplane puts the two classes on opposite sides (exact "
                f"linear-programming test), so no weights can classify every "
                f"example and more epochs will not help")

    def predict(self, X) -> np.ndarray:
        """Return the label (in the chosen encoding) for each row of ``X``.

        Example:
            >>> p = Perceptron(seed=0)
            >>> _ = p.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 1])
            >>> p.predict([[0, 0], [1, 1]]).tolist()
            [0, 1]
        """
        return self._output(self.net_input(X)).astype(np.int64)


def _separable_or_none(X: np.ndarray, y: np.ndarray) -> bool | None:
    try:
        return linearly_separable(X, y)
    except ImportError:
        return None

"""Truth tables of the two-input Boolean operators AND, OR, NAND, NOR and XOR.

These four-row sets are the classic first exercises: AND and OR can be learned
by a single neuron, XOR needs a hidden layer.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_float_dtype
from .dataset import Dataset

_OPERATORS = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xor": lambda a, b: a ^ b,
}

ENCODINGS = ("01", "pm1")


def truth_table(operator: str, encoding: str = "01", dtype=np.float32) -> Dataset:
    """Return the four-row truth table of a two-input Boolean operator.

    Args:
        operator: one of ``"and"``, ``"or"``, ``"nand"``, ``"nor"``, ``"xor"``.
        encoding: ``"01"`` for inputs and targets in {0, 1}, or ``"pm1"`` for
            inputs and targets in {-1, +1} (false is -1), the form the
            perceptron rule and tanh units prefer.
        dtype: floating dtype of ``X``.

    Returns:
        A classification Dataset with ``X`` of shape ``(4, 2)`` in the order
        (0,0), (0,1), (1,0), (1,1) and int64 ``y`` of shape ``(4,)``.
        ``class_names`` is ``("false", "true")``; under ``"pm1"`` the labels
        are -1 and +1 rather than 0 and 1.

    Example:
        >>> truth_table("xor").y.tolist()
        [0, 1, 1, 0]
        >>> truth_table("and", encoding="pm1").y.tolist()
        [-1, -1, -1, 1]
    """
    if operator not in _OPERATORS:
        raise ValueError(
            f"unknown Boolean operator {operator!r}; expected one of: {', '.join(_OPERATORS)}"
        )
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be '01' or 'pm1', got {encoding!r}")
    dtype = check_float_dtype(dtype)
    a = np.array([0, 0, 1, 1], dtype=np.int64)
    b = np.array([0, 1, 0, 1], dtype=np.int64)
    X = np.stack([a, b], axis=1)
    y = _OPERATORS[operator](a, b).astype(np.int64)
    if encoding == "pm1":
        X, y = 2 * X - 1, 2 * y - 1
    return Dataset(
        X.astype(dtype), y, "classification", name=operator,
        feature_names=("x1", "x2"), class_names=("false", "true"),
        description=f"truth table of {operator.upper()} on two inputs (4 rows)",
    )

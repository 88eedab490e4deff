"""Ready-made Boolean gates and XOR networks built from threshold units.

Single units compute AND, OR, NOT, NAND and NOR. XOR is not linearly
separable, so no single unit computes it; two networks show how a hidden
layer fixes that:

* :func:`xor_hand_wired` — one hidden AND-like unit (weights 1, 1,
  threshold 1.2) and an output unit that sees the two inputs *and* the hidden
  unit (weights 1, 1, -2, threshold 0.6): "x1 OR x2, unless both".
* :func:`xor_from_gates` — the identity
  ``x1 XOR x2 = (x1 AND NOT x2) OR (NOT x1 AND x2)`` wired literally as
  a NOT layer, an AND layer and an OR unit.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._core import check_int
from .threshold import ThresholdLayer, ThresholdNetwork, ThresholdUnit

__all__ = [
    "and_gate", "or_gate", "not_gate", "nand_gate", "nor_gate",
    "xor_hand_wired", "xor_from_gates",
]

# Thresholds sit halfway between integer sums, so "> threshold" and
# ">= threshold" give the same truth table and no sum is a borderline case.


def and_gate(n_inputs: int = 2) -> ThresholdUnit:
    """Unit that fires iff all ``n_inputs`` inputs are 1 (weights 1, threshold n - 0.5).

    Example:
        >>> and_gate()([1, 1]), and_gate()([1, 0])
        (1, 0)
    """
    n = check_int("n_inputs", n_inputs)
    return ThresholdUnit(np.ones(n), n - 0.5)


def or_gate(n_inputs: int = 2) -> ThresholdUnit:
    """Unit that fires iff at least one input is 1 (weights 1, threshold 0.5).

    Example:
        >>> or_gate()([0, 0]), or_gate()([0, 1])
        (0, 1)
    """
    n = check_int("n_inputs", n_inputs)
    return ThresholdUnit(np.ones(n), 0.5)


def not_gate() -> ThresholdUnit:
    """One-input unit that fires iff its input is 0 (weight -1, threshold -0.5).

    Example:
        >>> not_gate()([0]), not_gate()([1])
        (1, 0)
    """
    return ThresholdUnit([-1.0], -0.5)


def nand_gate(n_inputs: int = 2) -> ThresholdUnit:
    """Unit that fires unless all inputs are 1 (weights -1, threshold -(n - 0.5)).

    Example:
        >>> nand_gate()([1, 1]), nand_gate()([0, 1])
        (0, 1)
    """
    n = check_int("n_inputs", n_inputs)
    return ThresholdUnit(-np.ones(n), -(n - 0.5))


def nor_gate(n_inputs: int = 2) -> ThresholdUnit:
    """Unit that fires iff every input is 0 (weights -1, threshold -0.5).

    Example:
        >>> nor_gate()([0, 0]), nor_gate()([1, 0])
        (1, 0)
    """
    n = check_int("n_inputs", n_inputs)
    return ThresholdUnit(-np.ones(n), -0.5)


def xor_hand_wired() -> ThresholdNetwork:
    """XOR from one hidden unit plus an output unit with skip connections.

    Hidden unit h: weights (1, 1) on (x1, x2), threshold 1.2 — fires only
    for (1, 1). Output unit: weights (1, 1, -2) on (x1, x2, h), threshold
    0.6 — "at least one input is on", vetoed by h when both are.

    Returns:
        A two-layer :class:`ThresholdNetwork` with ``skip_inputs=True``,
        2 inputs and 1 output.

    Example:
        >>> xor_hand_wired()([[0, 0], [0, 1], [1, 0], [1, 1]])[:, 0].tolist()
        [0, 1, 1, 0]
    """
    hidden = ThresholdLayer([ThresholdUnit([1.0, 1.0], 1.2)])
    output = ThresholdLayer([ThresholdUnit([1.0, 1.0, -2.0], 0.6)])
    return ThresholdNetwork([hidden, output], skip_inputs=True)


def _wired(gate: ThresholdUnit, sources: Sequence[int], width: int) -> ThresholdUnit:
    """Copy ``gate`` so that it reads inputs ``sources`` out of ``width`` lines."""
    weights = np.zeros(width)
    weights[list(sources)] = gate.weights
    return ThresholdUnit(weights, gate.threshold)


def xor_from_gates() -> ThresholdNetwork:
    """XOR as ``(x1 AND NOT x2) OR (NOT x1 AND x2)``, one gate type per layer.

    Layer 1 (4 units): x1, NOT x2, NOT x1, x2 — the plain copies are
    one-input units with weight 1 and threshold 0.5.
    Layer 2 (2 units): AND of the first pair, AND of the second pair.
    Layer 3 (1 unit): OR of the two ANDs.

    Returns:
        A three-layer :class:`ThresholdNetwork` with 2 inputs and 1 output.

    Example:
        >>> xor_from_gates()([[0, 0], [0, 1], [1, 0], [1, 1]])[:, 0].tolist()
        [0, 1, 1, 0]
    """
    copy = ThresholdUnit([1.0], 0.5)
    literals = ThresholdLayer([
        _wired(copy, [0], 2), _wired(not_gate(), [1], 2),
        _wired(not_gate(), [0], 2), _wired(copy, [1], 2),
    ])
    conjunctions = ThresholdLayer([
        _wired(and_gate(), [0, 1], 4), _wired(and_gate(), [2, 3], 4),
    ])
    disjunction = ThresholdLayer([or_gate()])
    return ThresholdNetwork([literals, conjunctions, disjunction])

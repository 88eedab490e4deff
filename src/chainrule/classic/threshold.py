"""McCulloch–Pitts threshold units, layers of them and networks of layers.

A threshold unit reads binary inputs x_i in {0, 1}, forms the weighted sum
sum_i w_i x_i and *fires* (outputs 1) iff that sum is **strictly greater
than** its threshold; otherwise it outputs 0. This follows McCulloch and
Pitts' description of a neuron that fires when the excitation exceeds its
threshold. Some texts use "greater than or equal" (a Heaviside step at the
threshold); the two agree whenever no weighted sum lands exactly on the
threshold, which is why ready-made gates use thresholds such as 1.5 or 0.6
that integer sums never hit.
"""

from __future__ import annotations

import itertools
import numbers
from typing import Sequence

import numpy as np

from .._core import check_bool, short_repr
from ._validation import as_real_array, check_features, check_labels

MAX_TABLE_INPUTS = 20  # 2**20 rows, 8 MB per column: far beyond any table worth reading

__all__ = ["ThresholdUnit", "ThresholdLayer", "ThresholdNetwork", "truth_table"]


def _binary_inputs(x, n_inputs: int) -> np.ndarray:
    """Return ``x`` as a float array of shape (n_inputs,) or (batch, n_inputs)."""
    array = as_real_array("x", x, (1, 2))
    check_features("x", array, n_inputs)
    check_labels("x", array, (0.0, 1.0), " (threshold units take binary inputs)")
    return array


def _real_scalar(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {short_repr(value)}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _non_empty_list_of(name: str, items, kind: type) -> list:
    """Return ``items`` as a list, insisting on at least one and all of ``kind``."""
    if isinstance(items, (str, bytes, kind)) or not hasattr(items, "__iter__"):
        raise TypeError(f"{name} must be a list of {kind.__name__}s, got {short_repr(items)}")
    items = list(items)
    if not items:
        raise ValueError(f"{name} must contain at least one {kind.__name__}, got none")
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise TypeError(f"{name}[{i}] must be a {kind.__name__}, got {item!r}")
    return items


class ThresholdUnit:
    """A McCulloch–Pitts neuron: outputs 1 iff ``w . x > threshold``, else 0.

    Args:
        weights: one weight per input, shape (n_inputs,). Negative weights
            are inhibitory.
        threshold: the level the weighted sum must strictly exceed.

    Calling the unit on ``x`` of shape (n_inputs,) returns an int (0 or 1);
    on ``x`` of shape (batch, n_inputs) it returns an int array (batch,).
    Inputs must be 0 or 1.

    Example:
        >>> and_unit = ThresholdUnit([1, 1], threshold=1.5)
        >>> [and_unit([a, b]) for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
        [0, 0, 0, 1]
    """

    def __init__(self, weights, threshold):
        self.weights = as_real_array("weights", weights, 1)
        self.threshold = _real_scalar("threshold", threshold)

    @property
    def n_inputs(self) -> int:
        """Number of inputs the unit reads."""
        return self.weights.shape[0]

    def net_input(self, x) -> np.ndarray | float:
        """Weighted sum ``w . x`` for one input (n_inputs,) or a batch."""
        return _binary_inputs(x, self.n_inputs) @ self.weights

    def __call__(self, x):
        fired = self.net_input(x) > self.threshold
        if np.ndim(fired) == 0:
            return int(fired)
        return fired.astype(np.int64)

    def __repr__(self) -> str:
        return (f"ThresholdUnit(weights={self.weights.tolist()}, "
                f"threshold={self.threshold})")


class ThresholdLayer:
    """Several threshold units reading the same inputs side by side.

    Args:
        units: non-empty sequence of :class:`ThresholdUnit`, all with the
            same number of inputs.

    Calling the layer on ``x`` of shape (n_inputs,) or (batch, n_inputs)
    returns an int array of shape (n_units,) or (batch, n_units).

    Example:
        >>> layer = ThresholdLayer([ThresholdUnit([1, 1], 1.5),
        ...                         ThresholdUnit([1, 1], 0.5)])
        >>> layer([1, 0]).tolist()
        [0, 1]
    """

    def __init__(self, units: Sequence[ThresholdUnit]):
        units = _non_empty_list_of("units", units, ThresholdUnit)
        for i, unit in enumerate(units):
            if unit.n_inputs != units[0].n_inputs:
                raise ValueError(
                    f"units[{i}] must have {units[0].n_inputs} inputs like units[0], "
                    f"got {unit.n_inputs}"
                )
        self.units = units
        self.weights = np.stack([u.weights for u in units])
        self.thresholds = np.array([u.threshold for u in units])

    @classmethod
    def from_arrays(cls, weights, thresholds) -> "ThresholdLayer":
        """Build a layer from a (n_units, n_inputs) matrix and (n_units,) thresholds.

        Example:
            >>> ThresholdLayer.from_arrays([[1, 1], [-1, -1]], [1.5, -0.5])([0, 0]).tolist()
            [0, 1]
        """
        weights = as_real_array("weights", weights, 2)
        thresholds = as_real_array("thresholds", thresholds, 1)
        if thresholds.shape[0] != weights.shape[0]:
            raise ValueError(
                f"thresholds must have one entry per row of weights "
                f"({weights.shape[0]}), got {thresholds.shape[0]}"
            )
        return cls([ThresholdUnit(w, th) for w, th in zip(weights, thresholds)])

    @property
    def n_inputs(self) -> int:
        """Number of inputs every unit reads."""
        return self.weights.shape[1]

    @property
    def n_units(self) -> int:
        """Number of units, i.e. the width of the layer's output."""
        return self.weights.shape[0]

    def __call__(self, x) -> np.ndarray:
        net = _binary_inputs(x, self.n_inputs) @ self.weights.T
        return (net > self.thresholds).astype(np.int64)

    def __repr__(self) -> str:
        return f"ThresholdLayer({self.units!r})"


class ThresholdNetwork:
    """A feed-forward cascade of threshold layers.

    Args:
        layers: non-empty sequence of :class:`ThresholdLayer`; each layer
            reads the output of the one before it.
        skip_inputs: if True, every layer after the first also receives the
            network's own inputs, placed *before* the previous layer's
            outputs (a "skip-layer" network). The first layer always reads
            only the network inputs.

    Calling the network on ``x`` of shape (n_inputs,) or (batch, n_inputs)
    returns the last layer's output, shape (n_outputs,) or (batch, n_outputs).

    Example:
        >>> from chainrule.classic import xor_hand_wired
        >>> net = xor_hand_wired()
        >>> [int(net([a, b])[0]) for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
        [0, 1, 1, 0]
    """

    def __init__(self, layers: Sequence[ThresholdLayer], skip_inputs: bool = False):
        self.layers = _non_empty_list_of("layers", layers, ThresholdLayer)
        self.skip_inputs = check_bool("skip_inputs", skip_inputs)
        self._check_wiring()

    def _check_wiring(self) -> None:
        n_in = self.n_inputs
        for i in range(1, len(self.layers)):
            expected = self.layers[i - 1].n_units + (n_in if self.skip_inputs else 0)
            if self.layers[i].n_inputs != expected:
                raise ValueError(
                    f"layers[{i}] must have {expected} inputs to match the layer "
                    f"before it, got {self.layers[i].n_inputs}"
                )

    @property
    def n_inputs(self) -> int:
        """Number of network inputs (the first layer's fan-in)."""
        return self.layers[0].n_inputs

    @property
    def n_outputs(self) -> int:
        """Number of network outputs (the last layer's width)."""
        return self.layers[-1].n_units

    def forward(self, x) -> list[np.ndarray]:
        """Return every layer's output, first to last, for ``x``.

        Example:
            >>> from chainrule.classic import xor_hand_wired
            >>> [a.tolist() for a in xor_hand_wired().forward([1, 1])]
            [[1], [0]]
        """
        x = _binary_inputs(x, self.n_inputs)
        outputs = []
        current = x
        for i, layer in enumerate(self.layers):
            if i > 0 and self.skip_inputs:
                current = np.concatenate([x, current], axis=-1)
            current = layer(current)
            outputs.append(current)
        return outputs

    def __call__(self, x) -> np.ndarray:
        return self.forward(x)[-1]

    def __repr__(self) -> str:
        return f"ThresholdNetwork({self.layers!r}, skip_inputs={self.skip_inputs})"


def truth_table(model) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a unit, layer or network on every binary input combination.

    Args:
        model: anything with an ``n_inputs`` attribute that can be called on
            a (batch, n_inputs) array of 0/1 values.

    Returns:
        ``(inputs, outputs)``: inputs has shape (2**n_inputs, n_inputs) in
        counting order (00, 01, 10, 11, ...); outputs is the model's output
        for that batch.

    Example:
        >>> inputs, outputs = truth_table(ThresholdUnit([1, 1], 0.5))
        >>> outputs.tolist()
        [0, 1, 1, 1]
    """
    n = getattr(model, "n_inputs", None)
    if not callable(model) or not isinstance(n, numbers.Integral):
        raise TypeError("model must be a ThresholdUnit, ThresholdLayer, ThresholdNetwork or another callable "
                        f"with an integer n_inputs, got {short_repr(model)}")
    if n > MAX_TABLE_INPUTS:
        raise ValueError(f"a truth table has 2**n_inputs rows; n_inputs={n} is more than the {MAX_TABLE_INPUTS} "
                         "it lists")
    inputs = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64)
    return inputs, model(inputs)

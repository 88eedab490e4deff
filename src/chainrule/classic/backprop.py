"""Backpropagation for a sigmoid multilayer perceptron, written out by hand.

This is the textbook algorithm with no automatic differentiation, kept as a
reference the autodiff engine can be checked against. For layers
l = 1..L with weights W_l, shape (out_l, in_l), and biases b_l, shape
(out_l,):

forward:   net_l = W_l o_{l-1} + b_l,   o_l = sigmoid(net_l),   o_0 = x
error:     E = 1/2 sum_k (t_k - o_k)^2
output:    delta_k = o_k (1 - o_k) (t_k - o_k)
hidden:    delta_h = o_h (1 - o_h) sum_k w_kh delta_k
update:    w_ji <- w_ji + lr * delta_j * x_ji     (x_ji: input i of unit j)

Each delta is ``-dE/dnet`` for its unit, so the gradient of E with respect
to a weight is ``-delta_j x_ji`` and the update above is gradient descent.
For a batch of examples (rows of ``x`` and ``t``) E is summed over the
examples, and so are the gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from .._core import check, check_bool
from ._validation import as_real_array, check_features, real_values

__all__ = ["BackpropTrace", "BackpropStep", "backprop_reference",
           "backprop_update", "sigmoid"]


def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), computed without overflow.

    Example:
        >>> float(sigmoid(0.0))
        0.5
    """
    z = real_values("z", z)
    # exp(-|z|) never overflows, and the two branches keep full relative
    # precision in both tails (1 + tanh(z/2) would cancel for z << 0).
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class BackpropTrace:
    """Every intermediate quantity of one forward and backward pass.

    With ``x`` of shape (in,) all per-unit arrays are 1-D; with a batch of
    shape (n, in) they gain a leading axis of length n.

    Attributes:
        activations: ``[x, o_1, ..., o_L]`` — the input then each layer's output.
        net_inputs: ``[net_1, ..., net_L]`` — each layer's weighted sums.
        deltas: ``[delta_1, ..., delta_L]`` — error terms, ``-dE/dnet``.
        weight_grads: ``[dE/dW_1, ..., dE/dW_L]``, shapes (out_l, in_l).
        bias_grads: ``[dE/db_1, ..., dE/db_L]``, shapes (out_l,).
        error: ``E = 1/2 sum (t - o)^2`` (summed over the batch).
    """

    activations: list[np.ndarray]
    net_inputs: list[np.ndarray]
    deltas: list[np.ndarray]
    weight_grads: list[np.ndarray]
    bias_grads: list[np.ndarray]
    error: float

    @property
    def output(self) -> np.ndarray:
        """The network output o_L."""
        return self.activations[-1]


class BackpropStep(NamedTuple):
    """Result of :func:`backprop_update`: new parameters and the trace used."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    trace: BackpropTrace


def _check_network(weights, biases) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Validate layer shapes: W_l (out_l, in_l), b_l (out_l,), in_l = out_{l-1}."""
    weights = [as_real_array(f"weights[{l}]", w, 2) for l, w in enumerate(weights)]
    biases = [as_real_array(f"biases[{l}]", b, 1) for l, b in enumerate(biases)]
    if not weights:
        raise ValueError("weights must hold at least one layer, got none")
    if len(biases) != len(weights):
        raise ValueError(
            f"biases must hold one vector per layer ({len(weights)}), got {len(biases)}"
        )
    for l, (w, b) in enumerate(zip(weights, biases)):
        if b.shape[0] != w.shape[0]:
            raise ValueError(
                f"biases[{l}] must have shape ({w.shape[0]},) to match weights[{l}], "
                f"got {b.shape}"
            )
        if l > 0 and w.shape[1] != weights[l - 1].shape[0]:
            raise ValueError(
                f"weights[{l}] must have {weights[l - 1].shape[0]} columns to take "
                f"the output of weights[{l - 1}], got shape {w.shape}"
            )
    return weights, biases


def _check_example(x, t, weights) -> tuple[np.ndarray, np.ndarray]:
    """Validate one example (1-D) or a batch (2-D) against the network."""
    x = as_real_array("x", x, (1, 2))
    t = as_real_array("t", t, (1, 2))
    check_features("x", x, weights[0].shape[1])
    check_features("t", t, weights[-1].shape[0])
    if x.shape[:-1] != t.shape[:-1]:
        raise ValueError(
            f"t must have one row per row of x (shape {x.shape[:-1]}), "
            f"got shape {t.shape[:-1]}"
        )
    return x, t


def backprop_reference(weights: Sequence, biases: Sequence, x, t) -> BackpropTrace:
    """Run the forward pass and classic backprop; return every intermediate value.

    Args:
        weights: one matrix per layer, shape (out_features, in_features).
        biases: one vector per layer, shape (out_features,).
        x: input, shape (in_features,) or a batch (n, in_features).
        t: targets, shape (out_features,) or (n, out_features).

    Returns:
        A :class:`BackpropTrace`.

    Example:
        >>> trace = backprop_reference([[[0.5, -0.5]]], [[0.0]], [1.0, 1.0], [1.0])
        >>> trace.output.tolist(), trace.deltas[0].tolist()
        ([0.5], [0.125])
    """
    weights, biases = _check_network(weights, biases)
    x, t = _check_example(x, t, weights)
    activations, net_inputs = [x], []
    for w, b in zip(weights, biases):
        net_inputs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(net_inputs[-1]))

    o = activations[-1]
    deltas = [o * (1.0 - o) * (t - o)]
    for l in range(len(weights) - 1, 0, -1):
        h = activations[l]
        # Unit h of layer l feeds unit k of layer l + 1 through W_{l+1}[k, h].
        deltas.insert(0, h * (1.0 - h) * (deltas[0] @ weights[l]))

    weight_grads = [-_outer_sum(d, a) for d, a in zip(deltas, activations[:-1])]
    bias_grads = [-_batch_sum(d) for d in deltas]
    return BackpropTrace(
        activations=activations, net_inputs=net_inputs, deltas=deltas,
        weight_grads=weight_grads, bias_grads=bias_grads,
        error=float(0.5 * np.sum((t - o) ** 2)),
    )


def _outer_sum(delta: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """``sum_d delta_d inputs_d^T``: shape (out, in) for one example or a batch."""
    if delta.ndim == 1:
        return np.outer(delta, inputs)
    return delta.T @ inputs


def _batch_sum(delta: np.ndarray) -> np.ndarray:
    """Sum a (n, out) batch of deltas over examples; pass one example through."""
    return delta.sum(axis=0) if delta.ndim == 2 else delta


def backprop_update(weights: Sequence, biases: Sequence, x, t, lr: float,
                    update_biases: bool = True) -> BackpropStep:
    """Take one backprop step ``w_ji <- w_ji + lr * delta_j * x_ji`` on every layer.

    All deltas come from the weights *before* the step, as the algorithm
    prescribes. The inputs are not modified; new arrays are returned.

    Args:
        weights: one matrix per layer, shape (out_features, in_features).
        biases: one vector per layer, shape (out_features,).
        x: input, shape (in_features,) or a batch (n, in_features).
        t: targets, shape (out_features,) or (n, out_features).
        lr: learning rate, > 0.
        update_biases: if False, biases are returned unchanged (some worked
            examples keep them fixed).

    Returns:
        A :class:`BackpropStep` ``(weights, biases, trace)``.

    Example:
        >>> step = backprop_update([[[0.0]]], [[0.0]], [1.0], [1.0], lr=1.0)
        >>> step.weights[0].tolist(), step.biases[0].tolist()
        ([[0.125]], [0.125])
    """
    lr = float(check("lr", lr, ">0"))
    check_bool("update_biases", update_biases)
    # Checked once here: a generator would be empty by the time the update below read it again.
    weights, biases = _check_network(weights, biases)
    trace = backprop_reference(weights, biases, x, t)
    inputs = trace.activations[:-1]
    new_weights = [w + lr * _outer_sum(d, a)
                   for w, d, a in zip(weights, trace.deltas, inputs)]
    # A bias is the weight of a constant input 1, so its step is lr * delta.
    new_biases = [b.copy() for b in biases]
    if update_biases:
        new_biases = [b + lr * _batch_sum(d) for b, d in zip(new_biases, trace.deltas)]
    return BackpropStep(new_weights, new_biases, trace)

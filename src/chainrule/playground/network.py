"""The playground's network: a chainrule ``nn.Sequential`` built from the settings, and its output heads.

The network is one block per hidden layer (``Linear`` + activation, optionally
``Dropout``, optionally wrapped in ``Residual`` when its input and output widths
agree) and an output block, so ``cr.save`` / ``cr.load`` handle it like any
model. A *head* is the output's meaning: its activation, its loss, how labels
become targets and how an output becomes a heat-map value in [-1, 1].

Example:
    >>> net = build_network(2, [4, 2], head_for("classification", 2, "auto"), activation="tanh", seed=0)
    >>> [type(b).__name__ for b in net.model], net.sizes
    (['Sequential', 'Sequential', 'Sequential'], [2, 4, 2, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import nn
from ..autodiff.tensor import Tensor

__all__ = ["Head", "HEADS", "head_for", "build_network", "Network", "INITS", "ACTIVATION_NAMES", "DTYPE"]

# float32, chainrule's default: the 10,000-point heat-map pass through every layer is the
# largest cost of a frame for big networks, and float32 halves it (bench_playground.py).
DTYPE = "float32"

# The reference's activation names -> chainrule's.
ACTIVATION_NAMES = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "identity"}

# Initialiser name -> (weight init, bias init); the reference draws U(-0.5, 0.5) and sets biases to 0.1.
INITS = {
    "playground": ({"name": "uniform", "scale": 0.5}, {"name": "constant", "value": 0.1}),
    "xavier": ("xavier_uniform", "zeros"),
    "he": ("he_uniform", "zeros"),
}


def _half_squared(out, target):
    """The reference's error 0.5 (o - t)^2, summed over outputs and averaged over the batch."""
    diff = out - Tensor(target)
    return (diff * diff).sum() * (0.5 / len(target))


def _pm1(labels, k):
    return (2.0 * labels - 1.0).reshape(-1, 1).astype(DTYPE)


def _one_hot(labels, k):
    return np.eye(k, dtype=DTYPE)[labels]


def _column(values, k):
    return np.asarray(values, dtype=DTYPE).reshape(-1, 1)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class Head:
    """How the output layer is read: activation layer, loss, targets, heat-map values and predictions."""

    name: str
    multi: bool                      # one output per class
    activation: str | None           # output activation inside the model (None: logits / linear)
    loss: Callable                   # loss(output Tensor, target array) -> scalar Tensor
    target: Callable                 # target(labels, k) -> array the loss takes
    value: Callable                  # value(output array) -> (n,) values in [-1, 1] (binary / regression)
    probs: Callable | None = None    # probs(output array) -> (n, k) class probabilities (multi-class)
    description: str = ""

    def outputs(self, k):
        return k if self.multi else 1

    def predict(self, out):
        """Class predictions (classification) or values (regression) from raw outputs."""
        if self.multi:
            return self.probs(out).argmax(axis=1)
        return (self.value(out) >= 0).astype(np.int64) if self.name != "linear_mse" else out[:, 0]


HEADS = {h.name: h for h in (
    Head("tanh_mse", False, "tanh", _half_squared, _pm1, lambda o: o[:, 0],
         description="tanh output, labels -1/+1, loss 0.5(o-t)^2 (the reference)"),
    Head("sigmoid_bce", False, None, lambda o, t: nn.functional.binary_cross_entropy_with_logits(o, t),
         lambda y, k: y.reshape(-1, 1).astype(DTYPE), lambda o: 2 * _sigmoid(o[:, 0]) - 1,
         description="sigmoid output, binary cross-entropy"),
    Head("softmax_ce", True, None, lambda o, t: nn.functional.cross_entropy(o, t), lambda y, k: y,
         lambda o: o[:, 0], probs=_softmax, description="softmax output, cross-entropy"),
    Head("softmax_mse", True, "softmax", _half_squared, _one_hot, lambda o: o[:, 0], probs=lambda o: o,
         description="softmax output, 0.5 |p - one_hot|^2"),
    Head("linear_mse", False, None, _half_squared, _column, lambda o: np.clip(o[:, 0], -1, 1),
         description="linear output, loss 0.5(o-t)^2 (the reference's regression)"),
)}


def head_for(problem, n_classes, loss):
    """The head for a problem, its class count and the loss setting (``auto``, ``mse``, ``cross_entropy``).

    Example:
        >>> head_for("classification", 2, "auto").name, head_for("classification", 3, "auto").name
        ('tanh_mse', 'softmax_ce')
    """
    if problem == "regression":
        return HEADS["linear_mse"]
    if n_classes <= 2:
        return HEADS["sigmoid_bce" if loss == "cross_entropy" else "tanh_mse"]
    return HEADS["softmax_mse" if loss == "mse" else "softmax_ce"]


class Network:
    """The model plus what drawing and training need: its Linear layers in order, sizes and head.

    Attributes:
        model: ``nn.Sequential`` of blocks; input (n, inputs) -> output (n, outputs).
        linears: the Linear layer of each block, input side first.
        sizes: ``[inputs, hidden..., outputs]``.
    """

    def __init__(self, model, linears, sizes, head):
        self.model, self.linears, self.sizes, self.head = model, linears, sizes, head

    def layer_outputs(self, x):
        """Every block's output for input array ``x`` (no graph): a list of (n, width) arrays."""
        outs, h = [], Tensor(x)
        for block in self.model:
            h = block(h)
            outs.append(h.data)
        return outs


def _activation(name):
    return nn.get_activation(ACTIVATION_NAMES[name])


def build_network(n_inputs, shape, head, activation="tanh", layer_activations=None, n_classes=2,
                  init="playground", init_zero=False, dropout=0.0, skip=False, seed=0):
    """Build the playground's network from its settings.

    Args:
        n_inputs: number of active input features (>= 1).
        shape: neurons per hidden layer, e.g. ``[4, 2]``.
        head: a :class:`Head`.
        activation: hidden activation (reference name) used where ``layer_activations`` says nothing.
        layer_activations: per-layer names or None.
        n_classes: classes of a multi-class head.
        init: a key of :data:`INITS`; ``init_zero`` sets every weight to 0 (the reference's option).
        dropout: drop probability after each hidden activation.
        skip: wrap hidden layers whose input and output widths agree in ``nn.Residual``.
        seed: int or Generator for the initialisers and dropout masks.
    """
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    w_init, b_init = INITS[init]
    if init_zero:
        w_init = "zeros"
    sizes = [n_inputs, *shape, head.outputs(n_classes)]
    acts = list(layer_activations or [])
    blocks, linears = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        linear = nn.Linear(a, b, init=w_init, bias_init=b_init, seed=rng, dtype=DTYPE)
        layers = [linear]
        if last:
            if head.activation is not None:
                layers.append(nn.get_activation(head.activation))
        else:
            layers.append(_activation(acts[i] if i < len(acts) else activation))
            if dropout:
                layers.append(nn.Dropout(dropout, seed=int(rng.integers(2**31))))
        block = nn.Sequential(*layers)
        blocks.append(nn.Residual(block) if skip and not last and a == b else block)
        linears.append(linear)
    return Network(nn.Sequential(*blocks), linears, sizes, head)

"""Gradient norms per layer, recorded while training: the numbers behind "vanishing gradients".

The slides' last word on MLPs (seed 000): "usually <= 3 layers - vanishing
gradients". Backpropagation multiplies the error by every layer's weights and
activation slopes on its way to the input; a sigmoid's slope is at most 1/4,
so in a deep sigmoid net the gradient reaching the first layers is orders of
magnitude smaller than the one at the output. :class:`GradientNorms` records
that norm for every layer, every epoch.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> X = np.random.default_rng(0).normal(size=(64, 4)); y = (X[:, 0] > 0).astype(int)
    >>> net = nn.MLP([4, 8, 8, 2], activation="sigmoid", seed=0)
    >>> norms = GradientNorms()
    >>> _ = cr.fit(net, "cross_entropy", "sgd", (X, y), epochs=3, callbacks=[norms], seed=0, verbose=0)
    >>> list(norms.norms), len(norms.norms["output"])
    (['hidden.0', 'hidden.1', 'output'], 3)
    >>> norms.initial["hidden.0"] < norms.initial["output"]        # smaller towards the input
    True
"""

from __future__ import annotations

import math

import numpy as np

from .._core import ArgumentError, check_bool, short_repr
from .base import Callback

__all__ = ["GradientNorms", "gradient_norms"]


def gradient_norms(model, weights_only=False):
    """``{layer name: Euclidean norm of its parameters' gradients}``, in parameter order, from the ``.grad`` now held.

    A layer is the module that owns the parameters (``hidden.0`` for ``hidden.0.weight``);
    parameters without a gradient count as zero.

    Args:
        model: a Module after ``backward()``.
        weights_only: leave out the parameters named ``bias`` (the weights carry the signal).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import nn
        >>> net = nn.Linear(3, 1, init="ones")
        >>> net(cr.ones(2, 3)).sum().backward()
        >>> gradient_norms(net)                      # weight grad (2, 2, 2), bias grad 2
        {'': 4.0}
    """
    if not callable(getattr(model, "named_parameters", None)):
        raise ArgumentError(f"model must be a Module (with named_parameters), got {short_repr(model)}")
    weights_only = check_bool("weights_only", weights_only)
    squares = {}
    for name, p in model.named_parameters():
        layer, _, leaf = name.rpartition(".")
        if weights_only and leaf.startswith("bias"):
            continue
        g = 0.0 if p.grad is None else float(np.sum(np.square(p.grad, dtype=np.float64)))
        squares[layer] = squares.get(layer, 0.0) + g
    return {layer: math.sqrt(s) for layer, s in squares.items()}


class GradientNorms(Callback):
    """Record every layer's gradient norm during ``fit``, averaged over each epoch's batches.

    Args:
        weights_only: as for :func:`gradient_norms`.

    Attributes (reset when training begins):
        norms: ``{layer: [mean norm in epoch 0, epoch 1, ...]}``, layers from input to output.
        initial: ``{layer: norm}`` of the very first batch, i.e. the gradient at the initial weights.
        epochs: the epochs recorded.
    """

    wants_batches = True

    def __init__(self, weights_only=False):
        self.weights_only = check_bool("weights_only", weights_only)
        self.norms, self.initial, self.epochs = {}, {}, []
        self._sums, self._count = {}, 0

    def on_train_begin(self, ctx):
        self.norms, self.initial, self.epochs = {}, {}, []

    def on_epoch_begin(self, ctx, epoch):
        self._sums, self._count = {}, 0

    def on_batch_end(self, ctx, batch, loss):
        # The optimiser leaves this batch's gradients in .grad after its step.
        now = gradient_norms(ctx.model, self.weights_only)
        if not self.initial:
            self.initial = dict(now)
        for layer, value in now.items():
            self._sums[layer] = self._sums.get(layer, 0.0) + value
        self._count += 1

    def on_epoch_end(self, ctx, epoch, logs):
        if not self._count:
            return
        for layer, total in self._sums.items():
            self.norms.setdefault(layer, []).append(total / self._count)
        self.epochs.append(int(epoch))

    def state_dict(self):
        return {"norms": self.norms, "initial": self.initial, "epochs": self.epochs}, {}

    def load_state_dict(self, state, arrays):
        self.norms = {k: list(v) for k, v in state.get("norms", {}).items()}
        self.initial = dict(state.get("initial", {}))
        self.epochs = list(state.get("epochs", []))

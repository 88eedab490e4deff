"""Which layers of an ``nn.Sequential`` or ``nn.MLP`` run as one ``dense_chain`` op.

A run of ``Linear`` layers, each optionally followed by a relu / tanh / sigmoid /
identity activation layer, computes the same numbers as one
:mod:`~chainrule.autodiff.ops.dense` op but records one graph node instead of one
per layer. The containers plan their layers once (the plan is kept until the
layer list changes) and take the fused path only when it is exact and invisible:

* fusion is on (not inside :func:`chainrule.unfused`);
* no step is being compiled or traced for export (those record each layer's op);
* the input is a Tensor or an ndarray (dual numbers and symbolic values take the
  layers one by one, through the rules each layer's ops define).

Example:
    >>> from chainrule import nn
    >>> layers = [nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=0), nn.Dropout(0.5)]
    >>> [type(s).__name__ if not isinstance(s, Chain) else s.acts for s in plan(layers)]
    [('relu', 'identity'), 'Dropout']
"""

from __future__ import annotations

import numpy as np

from ..autodiff.engine import GRAD_MODE
from ..autodiff.ops.dense import NONLINEARITIES
from ..autodiff.tensor import Tensor, dispatch
from .activation_layers import Activation
from .activations import ACTIVATIONS

__all__ = ["Chain", "plan", "run", "fusable", "cached_plan"]

_INPUTS = (Tensor, np.ndarray)


def _by_function():
    # Keyed by the registered function itself, so a user's activation under another name never matches.
    table = {ACTIVATIONS[name]: name for name in NONLINEARITIES if name in ACTIVATIONS}
    table[ACTIVATIONS["identity"]] = "identity"
    return table


_FUSED_ACTIVATIONS = _by_function()


def activation_name(module):
    """The ``dense_chain`` activation name of an activation layer, or None if it cannot join a chain."""
    if not isinstance(module, Activation) or type(module).forward is not Activation.forward or module.options:
        return None
    return _FUSED_ACTIVATIONS.get(module.fn)


class Chain:
    """Consecutive Linear layers and their activation names: one ``dense_chain`` call."""

    __slots__ = ("linears", "acts")

    def __init__(self, linears, acts):
        self.linears, self.acts = tuple(linears), tuple(acts)

    def __call__(self, x):
        args = []
        for layer in self.linears:
            args += (layer.weight, layer.bias)  # read per call: a layer's weight may be replaced
        return dispatch("dense_chain", x, *args, acts=self.acts)


def _linear_type():
    from .layers import Linear  # layers defines Sequential, which imports this module

    return Linear


def plan(layers):
    """The layers as segments: a :class:`Chain` for each run worth fusing, else the layer itself.

    A run is worth fusing when it replaces at least two ops (two Linear layers, or one and
    its activation); a subclass of Linear keeps its own forward.
    """
    linear, out, i = _linear_type(), [], 0
    while i < len(layers):
        linears, acts, j = [], [], i
        while j < len(layers) and type(layers[j]) is linear:
            act = activation_name(layers[j + 1]) if j + 1 < len(layers) else None
            linears.append(layers[j])
            acts.append(act or "identity")
            j += 2 if act else 1
        if j - i >= 2:
            out.append(Chain(linears, acts))
            i = j
        else:
            out.append(layers[i])
            i += 1
    return out


class _Plan:
    __slots__ = ("layers", "key", "segments")  # layers: held so that their ids in key stay theirs

    def __init__(self, layers):
        self.layers, self.key, self.segments = layers, tuple(map(id, layers)), plan(layers)


def cached_plan(owner, layers):
    """``plan(layers)``, kept on ``owner`` until its layer list changes."""
    kept = owner.__dict__.get("_fusion_plan")
    if kept is None or kept.key != tuple(map(id, layers)):
        kept = owner.__dict__["_fusion_plan"] = _Plan(list(layers))
    return kept.segments


def fusable(x):
    """True when a chain may run fused on input ``x`` (see the module docstring)."""
    return GRAD_MODE.fuse and GRAD_MODE.recorder is None and type(x) in _INPUTS


def run(segments, x):
    """Apply the segments of :func:`plan` in order."""
    for segment in segments:
        x = segment(x)
    return x

"""MLP: a multi-layer perceptron from a list of layer sizes, optionally with skip-layer links.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> net = nn.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    >>> net(cr.zeros(4, 2)).shape, net.num_parameters()
    ((4, 1), 9)
"""

from __future__ import annotations

import numbers

from .._core import as_generator, seed_config
from .activations import Activation, get_activation
from . import fusion
from .init import init_config
from .layers import Linear, _dtype_name
from .module import LAYERS, Module, ModuleList, from_config

__all__ = ["MLP"]


def _check_sizes(sizes):
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else sizes
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in sizes)):
        raise ValueError(f"sizes must be a list of at least 2 positive ints (inputs, ..., outputs), got {sizes!r}")
    return [int(n) for n in sizes]


def _activation(spec):
    """An activation layer from a name, a config dict, a Module or None."""
    if isinstance(spec, dict):
        return from_config(spec)
    return None if spec is None else get_activation(spec)


def _activation_config(module):
    """A plain name for an option-free activation, else the layer's config dict."""
    if module is None:
        return None
    if isinstance(module, Activation) and not module.options:
        return module.name
    return module.config()


@LAYERS.register
class MLP(Module):
    """Fully connected feed-forward network: Linear layers with an activation between them.

    Args:
        sizes: ``[n_inputs, hidden_1, ..., n_outputs]``; ``[d, k]`` is a single layer.
        activation: hidden activation: a name of ``nn.ACTIVATIONS``, a Module or a config dict.
        output_activation: applied to the output layer (None: linear output / logits).
        skip: the slides' skip-layer network: the inputs are also fed directly
            to the output units, through a weight matrix of their own (no bias).
            Needs at least one hidden layer.
        bias: give every Linear layer a bias.
        init: weight initialiser for every layer (name, dict or callable).
        seed: int or ``np.random.Generator``; layers draw from it in order.
        dtype: parameter dtype.

    Shapes:
        input (n, sizes[0]) -> output (n, sizes[-1]).

    Example:
        >>> import chainrule as cr
        >>> MLP([3, 1], output_activation="sigmoid", seed=0)(cr.zeros(1, 3))  # one op: see chainrule.unfused
        tensor([[0.5]], grad_fn=<dense_chain>)
    """

    def __init__(self, sizes, activation="relu", output_activation=None, skip=False, bias=True,
                 init="xavier_uniform", seed=None, dtype=None):
        super().__init__()
        self.sizes = _check_sizes(sizes)
        if skip and len(self.sizes) < 3:
            raise ValueError(f"skip=True needs at least one hidden layer, got sizes={self.sizes}")
        self._spec = {"skip": bool(skip), "bias": bool(bias), "init": init,
                      "seed": seed_config(seed), "dtype": _dtype_name(dtype)}
        rng = as_generator(seed)
        layer = {"bias": bias, "init": init, "seed": rng, "dtype": dtype}
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.hidden = ModuleList(Linear(n_in, n_out, **layer) for n_in, n_out in pairs[:-1])
        hidden_activation = _activation(activation)  # built even when unused, so bad names fail early
        self.activation = hidden_activation if len(self.hidden) else None
        self.output = Linear(*pairs[-1], **layer)
        self.skip = Linear(self.sizes[0], self.sizes[-1], **{**layer, "bias": False}) if skip else None
        self.output_activation = _activation(output_activation)

    def forward(self, x):
        if fusion.fusable(x):  # the Linear layers and activations as one dense_chain op
            return self._fused(x)
        h = x
        act = self.activation
        for layer in self.hidden:
            h = act(layer(h))
        out = self.output(h)
        if self.skip is not None:
            out = out + self.skip(x)
        return out if self.output_activation is None else self.output_activation(out)

    def _fused(self, x):
        layers = []
        for layer in self.hidden:
            layers += (layer, self.activation)
        layers.append(self.output)
        if self.skip is None and self.output_activation is not None:
            layers.append(self.output_activation)
        out = fusion.run(fusion.cached_plan(self, layers), x)
        if self.skip is None:
            return out
        out = out + self.skip(x)
        return out if self.output_activation is None else self.output_activation(out)

    def extra_repr(self):
        return f"sizes={self.sizes}" + (", skip=True" if self.skip is not None else "")

    def _config_args(self):
        return {"sizes": list(self.sizes), "activation": _activation_config(self.activation),
                "output_activation": _activation_config(self.output_activation),
                **self._spec, "init": init_config(self._spec["init"])}

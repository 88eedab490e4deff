"""Layers: Linear (dense), Sequential, Dropout and Flatten.

Activation layers live in :mod:`chainrule.nn.activations`; ``Identity`` is the
identity activation. Every built-in layer has ``config()`` and is in
``nn.LAYERS``, so ``nn.from_config`` rebuilds it.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> net = nn.Sequential(nn.Linear(4, 8, seed=0), nn.ReLU(), nn.Linear(8, 2, seed=1))
    >>> net(cr.zeros(5, 4)).shape
    (5, 2)
"""

from __future__ import annotations

import numpy as np

from ..autodiff import functions as _ops
from ..autodiff.tensor import OpsMixin, dispatch, get_default_dtype
from .._core import as_generator, check, seed_config
from .init import get_initializer, init_config
from .module import LAYERS, Module, ModuleList, Parameter, from_config
from . import fusion

__all__ = ["Linear", "Dense", "Sequential", "Dropout", "Flatten", "dropout"]

_linear = _ops.linear


def _dtype_name(dtype):
    return np.dtype(get_default_dtype() if dtype is None else dtype).name


@LAYERS.register
class Linear(Module):
    """Fully connected (dense) layer: ``y = x @ weight.T + bias``, one fused op.

    Args:
        in_features: size of each input row (positive int).
        out_features: size of each output row (positive int).
        bias: add a learnable bias of shape (out_features,).
        init: weight initialiser: a name of ``nn.init.INITIALIZERS``, a dict
            ``{"name": ..., **options}`` or a callable ``fn(shape, seed, dtype)``.
        bias_init: bias initialiser, same forms (default zeros).
        seed: int or ``np.random.Generator`` for the initialisers.
        dtype: parameter dtype (default: the default float dtype).

    Shapes:
        input (..., in_features) -> output (..., out_features);
        weight (out_features, in_features), bias (out_features,).

    Example:
        >>> import chainrule as cr
        >>> layer = Linear(3, 2, init="ones")
        >>> layer(cr.ones(1, 3))
        tensor([[3., 3.]], grad_fn=<linear>)
    """

    def __init__(self, in_features, out_features, bias=True, init="xavier_uniform",
                 bias_init="zeros", seed=None, dtype=None):
        super().__init__()
        self.in_features = check("in_features", in_features, "int>0")
        self.out_features = check("out_features", out_features, "int>0")
        self._init, self._bias_init, self._seed = init, bias_init, seed
        self._dtype = _dtype_name(dtype)
        rng = as_generator(seed)
        w = get_initializer(init)((out_features, in_features), seed=rng, dtype=self._dtype)
        self.weight = Parameter(w, dtype=self._dtype)
        b = get_initializer(bias_init)((out_features,), seed=rng, dtype=self._dtype) if bias else None
        self.bias = None if b is None else Parameter(b, dtype=self._dtype)

    def forward(self, x):
        return _linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def _config_args(self):
        return {
            "in_features": self.in_features, "out_features": self.out_features,
            "bias": self.bias is not None, "init": init_config(self._init),
            "bias_init": init_config(self._bias_init), "seed": seed_config(self._seed), "dtype": self._dtype,
        }


Dense = LAYERS.register(Linear, name="Dense")  # the Keras name; configs still say "Linear"


@LAYERS.register
class Sequential(ModuleList):
    """Layers applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Example:
        >>> from chainrule import nn
        >>> net = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh())
        >>> len(net), type(net[1]).__name__
        (2, 'Tanh')
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        super().__init__(layers)

    def forward(self, x):
        if fusion.fusable(x):  # consecutive Linear layers and activations as one dense_chain op
            return fusion.run(fusion.cached_plan(self, self._items), x)
        for layer in self._items:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return Sequential(*self._items[i]) if isinstance(i, slice) else self._items[i]

    def _config_args(self):
        return {"layers": [m.config() for m in self._items]}

    @classmethod
    def _from_args(cls, args):
        return cls(*[from_config(c) for c in args["layers"]])


def dropout(x, p=0.5, training=True, seed=None):
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1 / (1 - p).

    The expected output equals the input, so nothing changes at test time
    (``training=False`` returns ``x`` itself).

    Args:
        x: Tensor (or Dual / array).
        p: drop probability in [0, 1).
        training: apply the mask only when True.
        seed: int or ``np.random.Generator`` for the mask.

    Example:
        >>> import chainrule as cr
        >>> out = dropout(cr.ones(1000), p=0.5, seed=0)
        >>> sorted(set(out.data.tolist()))
        [0.0, 2.0]
    """
    if not training or p == 0:
        return x
    return _dropout(x, check("p", p, "[0,1)"), as_generator(seed))


def _dropout(x, p, rng):
    # One registry op, so a compiled step draws a fresh mask from ``rng`` at every replay.
    return dispatch("dropout", x if isinstance(x, OpsMixin) else np.asarray(x), p=p, rng=rng)


@LAYERS.register
class Dropout(Module):
    """Inverted dropout (Srivastava et al., 2014); the identity in eval mode.

    Args:
        p: probability of zeroing each entry, in [0, 1).
        seed: int or ``np.random.Generator``; masks are drawn from one generator,
            so a run is reproducible from its seed.

    Example:
        >>> import chainrule as cr
        >>> d = Dropout(0.5, seed=0).eval()
        >>> d(cr.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        self.p = check("p", p, "[0,1)")
        self._seed = seed
        self._rng = as_generator(seed)

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return _dropout(x, self.p, self._rng)

    def extra_repr(self):
        return f"p={self.p}"

    def _config_args(self):
        return {"p": self.p, "seed": seed_config(self._seed)}


@LAYERS.register
class Flatten(Module):
    """Collapse all axes from ``start_dim`` on into one: (n, 28, 28) -> (n, 784).

    Example:
        >>> import chainrule as cr
        >>> Flatten()(cr.zeros(2, 3, 4)).shape
        (2, 12)
    """

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = check("start_dim", start_dim, "int>=0")

    def forward(self, x):
        return x.reshape(*x.shape[: self.start_dim], -1)

    def extra_repr(self):
        return f"start_dim={self.start_dim}"

    def _config_args(self):
        return {"start_dim": self.start_dim}

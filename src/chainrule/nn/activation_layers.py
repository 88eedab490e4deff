"""The activation layers: :class:`Activation` by registry name and one class per function (``ReLU``, ...).

The functions and their registry live in :mod:`chainrule.nn.activations`,
which also exports these classes.

Example:
    >>> import chainrule as cr
    >>> LeakyReLU(negative_slope=0.5)(cr.tensor([-2.0]))
    tensor([-1.])
"""

from __future__ import annotations

from .._core import check
from ._util import check_options
from .activations import ACTIVATIONS
from .module import LAYERS, Module

# --------------------------------------------------------------- modules
_OPTION_CHECKS = {"negative_slope": ">=0", "alpha": ">0", "beta": ">0"}


class Activation(Module):
    """An activation function as a layer, by registry name.

    Args:
        name: a key of ``ACTIVATIONS`` ("relu", "tanh", ...).
        **options: the function's keyword options (e.g. ``negative_slope``).

    Example:
        >>> import chainrule as cr
        >>> Activation("hardtanh", max_val=2.0)(cr.tensor([3.0]))
        tensor([2.])
    """

    function = None

    def __init__(self, name=None, **options):
        super().__init__()
        name = name or type(self).function
        fn = ACTIVATIONS[name]
        check_options("activation", name, fn, options, skip=1)
        for key, value in options.items():
            if key in _OPTION_CHECKS:
                check(key, value, _OPTION_CHECKS[key])
        self.name, self.fn, self.options = name, fn, options

    def forward(self, x):
        return self.fn(x, **self.options)

    def extra_repr(self):
        text = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return text if type(self).function else f"{self.name!r}" + (", " + text if text else "")

    def _config_args(self):
        return dict(self.options) if type(self).function else {"name": self.name, **self.options}


LAYERS.register(Activation)

class _NamedActivation(Activation):
    """An :class:`Activation` whose function is fixed by the subclass: ``LeakyReLU(negative_slope=0.1)``."""

    def __init__(self, **options):
        super().__init__(None, **options)


@LAYERS.register
class Step(_NamedActivation):
    """Layer applying ``step``: Heaviside step: 1 where x > 0, else 0. Its gradient is 0 everywhere (not trainable by backprop)."""

    function = "step"


@LAYERS.register
class Sign(_NamedActivation):
    """Layer applying ``sign``: The slides' sign unit: +1 where x > 0, else -1 (0 maps to -1). Gradient 0 everywhere."""

    function = "sign"


@LAYERS.register
class Identity(_NamedActivation):
    """Layer applying ``identity``: f(x) = x: the linear unit (regression outputs)."""

    function = "identity"


@LAYERS.register
class Sigmoid(_NamedActivation):
    """Layer applying ``sigmoid``: 1 / (1 + exp(-x)), overflow-free; derivative s (1 - s)."""

    function = "sigmoid"


@LAYERS.register
class Tanh(_NamedActivation):
    """Layer applying ``tanh``: Hyperbolic tangent; derivative 1 - tanh^2 = 1 / cosh^2."""

    function = "tanh"


@LAYERS.register
class Hardtanh(_NamedActivation):
    """Layer applying ``hardtanh``: x clipped to [min_val, max_val]; derivative 1 inside, 0 outside."""

    function = "hardtanh"


@LAYERS.register
class ReLU(_NamedActivation):
    """Layer applying ``relu``: max(0, x); derivative 1 where x > 0, else 0 (0 at the kink, as in the slides)."""

    function = "relu"


@LAYERS.register
class LeakyReLU(_NamedActivation):
    """Layer applying ``leaky_relu``: x where x > 0, else negative_slope * x."""

    function = "leaky_relu"


@LAYERS.register
class Softplus(_NamedActivation):
    """Layer applying ``softplus``: log(1 + exp(beta x)) / beta, computed as ``max(z, 0) + log1p(exp(-|z|))`` so it never overflows."""

    function = "softplus"


@LAYERS.register
class ELU(_NamedActivation):
    """Layer applying ``elu``: x where x > 0, else alpha (exp(x) - 1) (Clevert et al., 2016)."""

    function = "elu"


@LAYERS.register
class GELU(_NamedActivation):
    """Layer applying ``gelu``: x Phi(x), the exact erf form by default; ``approximate="tanh"`` for the tanh form."""

    function = "gelu"


@LAYERS.register
class Softmax(_NamedActivation):
    """Layer applying ``softmax``: exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""

    function = "softmax"


@LAYERS.register
class LogSoftmax(_NamedActivation):
    """Layer applying ``log_softmax``: x - logsumexp(x) along ``axis``; pair it with nll-style losses instead of log(softmax)."""

    function = "log_softmax"


@LAYERS.register
class SiLU(_NamedActivation):
    """Layer applying ``silu``: x sigmoid(x), the sigmoid-weighted linear unit (also called swish)."""

    function = "silu"


@LAYERS.register
class SELU(_NamedActivation):
    """Layer applying ``selu``: scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""

    function = "selu"


@LAYERS.register
class CELU(_NamedActivation):
    """Layer applying ``celu``: x where x > 0, else alpha (exp(x / alpha) - 1): continuously differentiable for any alpha."""

    function = "celu"


@LAYERS.register
class ReLU6(_NamedActivation):
    """Layer applying ``relu6``: min(max(x, 0), 6); derivative 1 strictly between 0 and 6, else 0 (as PyTorch)."""

    function = "relu6"


@LAYERS.register
class Hardsigmoid(_NamedActivation):
    """Layer applying ``hardsigmoid``: x / 6 + 1/2 clipped to [0, 1]; derivative 1/6 strictly inside (-3, 3), else 0."""

    function = "hardsigmoid"


@LAYERS.register
class Hardswish(_NamedActivation):
    """Layer applying ``hardswish``: x hardsigmoid(x) (Howard et al., 2019); derivative x / 3 + 1/2 inside (-3, 3), 0 below, 1 above."""

    function = "hardswish"


@LAYERS.register
class LogSigmoid(_NamedActivation):
    """Layer applying ``logsigmoid``: log(sigmoid(x)) = -softplus(-x), finite for any x."""

    function = "logsigmoid"


@LAYERS.register
class Mish(_NamedActivation):
    """Layer applying ``mish``: x tanh(softplus(x)) (Misra, 2019)."""

    function = "mish"


@LAYERS.register
class Softsign(_NamedActivation):
    """Layer applying ``softsign``: ``x / (1 + |x|)``; derivative ``1 / (1 + |x|)^2``."""

    function = "softsign"


@LAYERS.register
class Softmin(_NamedActivation):
    """Layer applying ``softmin``: softmax(-x) along ``axis``: weights that favour the smallest entries."""

    function = "softmin"


# One layer class per activation name, for get_activation.
_CLASSES = {cls.function: cls for cls in _NamedActivation.__subclasses__()}
__all__ = ["Activation", "get_activation", "Step", "Sign", "Identity", "Sigmoid", "Tanh", "Hardtanh", "ReLU", "LeakyReLU", "Softplus", "ELU", "GELU",
            "Softmax", "LogSoftmax", "SiLU", "SELU", "CELU", "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid", "Mish",
            "Softsign", "Softmin"]


def get_activation(spec, **options):
    """An activation layer from a registry name, a Module (returned as is) or None (identity).

    Example:
        >>> get_activation("relu")
        ReLU()
    """
    if spec is None:
        return _CLASSES["identity"]()
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, str):
        cls = _CLASSES.get(spec)
        return cls(**options) if cls is not None else Activation(spec, **options)
    raise TypeError(f"an activation must be a registry name, a Module or None, got {spec!r}")

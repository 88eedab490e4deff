"""Activation functions, their registry, and (from activation_layers) the modules that wrap them.

Each function is composed from registry ops, so it works on Tensors (reverse
mode), Duals (forward mode) and plain arrays alike, and its derivative comes
from the ops' rules. ``ACTIVATIONS`` maps names to the functions; the module
classes (``ReLU``, ``Sigmoid``, ...) are thin wrappers built from that table.

Example:
    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.leaky_relu(cr.tensor([-2.0, 3.0]), negative_slope=0.1)
    tensor([-0.2,  3. ])
"""

from __future__ import annotations

import math

import numpy as np

from ..autodiff import functions as _ops
from .._core import Registry, check_choice
from ._util import array_of

__all__ = [
    "ACTIVATIONS", "step", "sign", "identity", "sigmoid", "tanh", "hardtanh", "relu", "leaky_relu",
    "softplus", "elu", "gelu", "softmax", "log_softmax",
    "silu", "selu", "celu", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "mish", "softsign", "softmin",
]

ACTIVATIONS = Registry("activation")

_GELU_C = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
# Klambauer et al. (2017), to the digits PyTorch uses.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@ACTIVATIONS.register
def step(x):
    """Heaviside step: 1 where x > 0, else 0. Its gradient is 0 everywhere (not trainable by backprop)."""
    return _ops.step(x)


@ACTIVATIONS.register
def sign(x):
    """The slides' sign unit: +1 where x > 0, else -1 (0 maps to -1). Gradient 0 everywhere."""
    return _ops.step(x) * 2 - 1


@ACTIVATIONS.register
def identity(x):
    """f(x) = x: the linear unit (regression outputs)."""
    return x


ACTIVATIONS.register(identity, name="linear")


@ACTIVATIONS.register
def sigmoid(x):
    """1 / (1 + exp(-x)), overflow-free; derivative s (1 - s)."""
    return _ops.sigmoid(x)


@ACTIVATIONS.register
def tanh(x):
    """Hyperbolic tangent; derivative 1 - tanh^2 = 1 / cosh^2."""
    return _ops.tanh(x)


@ACTIVATIONS.register
def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]; derivative 1 inside, 0 outside."""
    return _ops.clip(x, min_val, max_val)


@ACTIVATIONS.register
def relu(x):
    """max(0, x); derivative 1 where x > 0, else 0 (0 at the kink, as in the slides)."""
    return _ops.relu(x)


@ACTIVATIONS.register
def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return _ops.where(array_of(x) > 0, x, x * negative_slope)


def log1p(u):
    """log(1 + u) for u >= 0, accurate when u is tiny (where 1 + u would round to 1)."""
    # Below 1e-4 the cubic series is exact to float64 rounding; above it log(1 + u) is.
    small = array_of(u) < 1e-4
    return _ops.where(small, u * (1 - u * (0.5 - u * (1.0 / 3.0))), _ops.log(u + 1))


@ACTIVATIONS.register
def softplus(x, beta=1.0):
    """log(1 + exp(beta x)) / beta, computed as ``max(z, 0) + log1p(exp(-|z|))`` so it never overflows.

    The two halves are split by a constant mask (z > 0) rather than by max and
    abs, whose kinks at 0 would cancel in the first derivative (sigmoid(0) = 1/2)
    but lose the second: this way the Hessian at z = 0 is the exact 1/4 too
    (Newton's method on logistic regression starts there).
    """
    z = x if beta == 1.0 else x * beta
    mask = array_of(z) > 0
    # max(z, 0) and -|z|, each with a smooth piece on either side of 0 (and inf - inf never formed).
    out = _ops.where(mask, z, 0.0) + log1p(_ops.exp(_ops.where(mask, -z, z)))
    return out if beta == 1.0 else out / beta


@ACTIVATIONS.register
def elu(x, alpha=1.0):
    """x where x > 0, else alpha (exp(x) - 1) (Clevert et al., 2016)."""
    # exp sees min(x, 0) only, so large positive inputs cannot overflow the unused branch.
    return _ops.where(array_of(x) > 0, x, (_ops.exp(_ops.clip(x, None, 0.0)) - 1) * alpha)


_GELU_FORMS = ("none", "tanh")


@ACTIVATIONS.register
def gelu(x, approximate="none"):
    """Gaussian error linear unit x Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) (Hendrycks & Gimpel, 2016).

    ``approximate="tanh"`` gives their tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
    within 1e-3 of the exact one; the default "none" is the exact form, as in PyTorch.
    """
    check_choice("approximate", approximate, _GELU_FORMS)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _GELU_C
        return x * 0.5 * (_ops.tanh(inner) + 1)
    return x * 0.5 * (_ops.erf(x * _SQRT_HALF) + 1)


@ACTIVATIONS.register
def silu(x):
    """x sigmoid(x), the sigmoid-weighted linear unit (also called swish)."""
    return x * _ops.sigmoid(x)


ACTIVATIONS.register(silu, name="swish")


def _exp_branch(x, alpha, inv_alpha=1.0):
    """x where x > 0 (nan included, as PyTorch), else alpha (exp(x / alpha) - 1), overflow-free."""
    v = array_of(x)
    # The exp branch sees 0 where it is not taken, so neither overflow nor nan reaches its gradient.
    negative = _ops.expm1(_ops.where(v <= 0, x, 0.0) * inv_alpha) * alpha
    return _ops.where(~(v <= 0), x, negative)


@ACTIVATIONS.register
def selu(x):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return _exp_branch(x, _SELU_ALPHA) * _SELU_SCALE


@ACTIVATIONS.register
def celu(x, alpha=1.0):
    """x where x > 0, else alpha (exp(x / alpha) - 1): continuously differentiable for any alpha."""
    return _exp_branch(x, alpha, 1.0 / alpha)


@ACTIVATIONS.register
def relu6(x):
    """min(max(x, 0), 6); derivative 1 strictly between 0 and 6, else 0 (as PyTorch)."""
    v = array_of(x)
    return _ops.where(~((v <= 0) | (v >= 6)), x, np.clip(v, 0, 6))


@ACTIVATIONS.register
def hardsigmoid(x):
    """x / 6 + 1/2 clipped to [0, 1]; derivative 1/6 strictly inside (-3, 3), else 0."""
    v = array_of(x)
    return _ops.where((v > -3) & (v < 3), x / 6.0 + 0.5, np.clip(v / 6.0 + 0.5, 0, 1))


@ACTIVATIONS.register
def hardswish(x):
    """x hardsigmoid(x) (Howard et al., 2019); derivative x / 3 + 1/2 inside (-3, 3), 0 below, 1 above."""
    v = array_of(x)
    low = v <= -3
    middle = (v > -3) & (v < 3)
    # x * 0 (a constant) below -3 keeps PyTorch's -0.0 (and nan at -inf); nan inputs take the x branch, as there.
    inner = _ops.where(middle, x, 0.0)  # an infinite x outside must not meet the middle branch's gradient
    return _ops.where(middle, inner * (inner + 3.0) / 6.0, _ops.where(low, v * 0.0, x))


@ACTIVATIONS.register
def logsigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""
    return -softplus(-x)


@ACTIVATIONS.register
def mish(x):
    """x tanh(softplus(x)) (Misra, 2019)."""
    return x * _ops.tanh(softplus(x))


@ACTIVATIONS.register
def softsign(x):
    """x / (1 + |x|); derivative 1 / (1 + |x|)^2."""
    return x / (_ops.abs(x) + 1.0)


@ACTIVATIONS.register
def softmin(x, axis=-1):
    """softmax(-x) along ``axis``: weights that favour the smallest entries."""
    return _ops.softmax(-x, axis=axis)


@ACTIVATIONS.register
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""
    return _ops.softmax(x, axis=axis)


@ACTIVATIONS.register
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``; pair it with nll-style losses instead of log(softmax)."""
    return _ops.log_softmax(x, axis=axis)


# The layer classes (ReLU, Sigmoid, ...) live in activation_layers; they are part of this module's interface.
from .activation_layers import (  # noqa: E402  (they import this module's registry)
    Activation, get_activation, Step, Sign, Identity, Sigmoid, Tanh, Hardtanh, ReLU, LeakyReLU, Softplus,
    ELU, GELU, Softmax, LogSoftmax, SiLU, SELU, CELU, ReLU6, Hardsigmoid, Hardswish, LogSigmoid, Mish,
    Softsign, Softmin,
)

__all__ += [
    "Activation", "get_activation", "Step", "Sign", "Identity", "Sigmoid", "Tanh", "Hardtanh", "ReLU",
    "LeakyReLU", "Softplus", "ELU", "GELU", "Softmax", "LogSoftmax", "SiLU", "SELU", "CELU", "ReLU6",
    "Hardsigmoid", "Hardswish", "LogSigmoid", "Mish", "Softsign", "Softmin",
]

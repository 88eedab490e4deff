"""Stateless functions: activations, losses, penalties, linear and dropout in one namespace.

The conventional import is ``from chainrule.nn import functional as F``.

Example:
    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.hardtanh(cr.tensor([-3.0, 0.5]))
    tensor([-1. ,  0.5])
"""

from __future__ import annotations

from ..autodiff.functions import linear
from .activations import (
    ACTIVATIONS, elu, gelu, hardtanh, identity, leaky_relu, log1p, log_softmax, relu, sigmoid,
    sign, softmax, softplus, step, tanh,
)
from .layers import dropout
from .losses import (
    LOSSES, REGULARIZERS, binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
    exponential_loss, hinge_loss, l1_penalty, l2_penalty, mse_loss, multiclass_hinge_loss,
)

__all__ = [
    "ACTIVATIONS", "LOSSES", "REGULARIZERS", "linear", "dropout", "log1p",
    "step", "sign", "identity", "sigmoid", "tanh", "hardtanh", "relu", "leaky_relu", "softplus",
    "elu", "gelu", "softmax", "log_softmax",
    "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "hinge_loss", "multiclass_hinge_loss", "exponential_loss", "l1_penalty", "l2_penalty",
]

# The extended op set: PyTorch's activations, losses with options and the network functions.
from ..autodiff.functions_nn import (  # noqa: E402
    adaptive_avg_pool2d, avg_pool2d, batch_norm, conv1d, conv2d, embedding, layer_norm, max_pool2d,
)
from .activations import (  # noqa: E402
    celu, hardsigmoid, hardswish, logsigmoid, mish, relu6, selu, silu, softmin, softsign,
)
from .losses import nll_loss  # noqa: E402

swish = silu
__all__ += [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "embedding", "layer_norm", "max_pool2d",
    "celu", "hardsigmoid", "hardswish", "logsigmoid", "mish", "relu6", "selu", "silu", "swish", "softmin", "softsign",
    "nll_loss",
]

"""ONNX exporters of the activations: one entry per name of ``nn.ACTIVATIONS``.

Each function takes ``(graph, x, **options)`` (the options of the activation
layer, e.g. ``negative_slope``) and returns the name of its output. Opset 17
lacks Gelu and Mish, so their formulas are spelled out with elementary ops.

Example:
    >>> sorted(ACTIVATION_EXPORTS)[:4]
    ['celu', 'elu', 'gelu', 'hardsigmoid']
"""

from __future__ import annotations

import numpy as np

from .._core import Registry

__all__ = ["ACTIVATION_EXPORTS"]

_GELU_C = float(np.sqrt(2.0 / np.pi))


def _unary(op_type):
    return lambda g, x: g.op(op_type, [x])


def _softplus(g, x, beta=1.0):
    if beta == 1.0:
        return g.op("Softplus", [x])
    scaled = g.op("Softplus", [g.op("Mul", [x, g.const(beta)])])
    return g.op("Div", [scaled, g.const(beta)])


def _gelu(g, x, approximate="none"):
    # Opset 17 has no Gelu (it arrives in opset 20), so the graph spells the formula out.
    half_x = g.op("Mul", [x, g.const(0.5)])
    if approximate == "tanh":
        cube = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [cube, g.const(0.044715)])]), g.const(_GELU_C)])
        return g.op("Mul", [half_x, g.op("Add", [g.op("Tanh", [inner]), g.const(1.0)])])
    erf = g.op("Erf", [g.op("Mul", [x, g.const(float(np.sqrt(0.5)))])])
    return g.op("Mul", [half_x, g.op("Add", [erf, g.const(1.0)])])


def _step(g, x):
    return g.op("Cast", [g.op("Greater", [x, g.const(0.0)])], to=g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype))


def _sign(g, x):
    return g.op("Where", [g.op("Greater", [x, g.const(0.0)]), g.const(1.0), g.const(-1.0)])


#: Activation name (as in ``nn.ACTIVATIONS``) -> ``fn(graph, x, **options)`` returning the output name.
ACTIVATION_EXPORTS = Registry("ONNX-exportable activation")
ACTIVATION_EXPORTS.update({
    "identity": lambda g, x: x,
    "linear": lambda g, x: x,
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "relu": _unary("Relu"),
    "leaky_relu": lambda g, x, negative_slope=0.01: g.op("LeakyRelu", [x], alpha=float(negative_slope)),
    "elu": lambda g, x, alpha=1.0: g.op("Elu", [x], alpha=float(alpha)),
    "hardtanh": lambda g, x, min_val=-1.0, max_val=1.0: g.op("Clip", [x, g.const(min_val), g.const(max_val)]),
    "softplus": _softplus,
    "gelu": _gelu,
    "softmax": lambda g, x, axis=-1: g.op("Softmax", [x], axis=int(axis)),
    "log_softmax": lambda g, x, axis=-1: g.op("LogSoftmax", [x], axis=int(axis)),
    "step": _step,
    "sign": _sign,
    "silu": lambda g, x: g.op("Mul", [x, g.op("Sigmoid", [x])]),
    "swish": lambda g, x: g.op("Mul", [x, g.op("Sigmoid", [x])]),
    "selu": lambda g, x: g.op("Selu", [x]),
    "celu": lambda g, x, alpha=1.0: g.op("Celu", [x], alpha=float(alpha)),
    "relu6": lambda g, x: g.op("Clip", [x, g.const(0.0), g.const(6.0)]),
    "hardsigmoid": lambda g, x: g.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5),
    "hardswish": _unary("HardSwish"),
    "logsigmoid": lambda g, x: g.op("Neg", [g.op("Softplus", [g.op("Neg", [x])])]),
    # Mish is opset 18; opset 17 spells it out.
    "mish": lambda g, x: g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])]),
    "softsign": _unary("Softsign"),
    "softmin": lambda g, x, axis=-1: g.op("Softmax", [g.op("Neg", [x])], axis=int(axis)),
})

"""ONNX exporters of the image and sequence layers: Conv2d, MaxPool2d, AvgPool2d, RNN, LSTM, GRU, RNNCell, GRUCell.

Each function takes ``(graph, layer, x)`` and returns the name of its output,
like the dense exporters in :mod:`chainrule.io.onnx`, which registers them in
``LAYER_EXPORTS``. Images are NCHW as in chainrule and ONNX. Recurrent weights
are stored in PyTorch's gate order; ONNX wants another, so the row blocks are
reordered here (facts from the ONNX operator specification, opset 14+):

======  ===================  ==========
layer   chainrule / PyTorch  ONNX
======  ===================  ==========
LSTM    i, f, g, o           i, o, f, c
GRU     r, z, n              z, r, h
======  ===================  ==========

Several layers become one ONNX op each; a bidirectional layer uses
``direction="bidirectional"``, its two outputs put side by side per step. GRU
uses ``linear_before_reset=1``, PyTorch's ``n = tanh(x_n + r * (h @ W_hn.T + b_hn))``.
A cell called without a state (as in a Sequential) is one step of the same op from zeros.

Example:
    >>> from chainrule import nn
    >>> from chainrule.io.onnx import to_onnx
    >>> proto = to_onnx(nn.Sequential(nn.LSTM(3, 8, return_sequences=False, seed=0), nn.Linear(8, 2, seed=1)))
    >>> [n.op_type for n in proto.graph.node]
    ['Transpose', 'LSTM', 'Transpose', 'Reshape', 'Gather', 'Gemm', 'Identity']
"""

from __future__ import annotations

import numpy as np

__all__ = ["IMAGE_SEQUENCE_EXPORTS", "INPUT_SHAPES"]

# Row blocks of weight_ih / weight_hh, in the order ONNX expects them.
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}


def _conv_pads(layer):
    """ONNX ``pads`` (top, left, bottom, right) for a Conv2d's padding option."""
    padding = layer.padding
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        # PyTorch puts the odd extra row / column of "same" padding at the bottom / right.
        total = [d * (k - 1) for d, k in zip(layer.dilation, layer.kernel_size)]
        return [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]
    if len(padding) == 4:
        left, right, top, bottom = padding
        return [top, left, bottom, right]
    return [padding[0], padding[1], padding[0], padding[1]]


def _conv2d(g, layer, x):
    inputs = [x, g.const(layer.weight.data, "weight")]
    if layer.bias is not None:
        inputs.append(g.const(layer.bias.data, "bias"))
    return g.op("Conv", inputs, hint="conv", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                pads=_conv_pads(layer), dilations=list(layer.dilation), group=layer.groups)


def _pool_pads(layer):
    return [layer.padding[0], layer.padding[1], layer.padding[0], layer.padding[1]]


def _max_pool2d(g, layer, x):
    return g.op("MaxPool", [x], hint="max_pool", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                pads=_pool_pads(layer), dilations=list(layer.dilation), ceil_mode=int(layer.ceil_mode))


def _avg_pool2d(g, layer, x):
    return g.op("AveragePool", [x], hint="avg_pool", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                pads=_pool_pads(layer), ceil_mode=int(layer.ceil_mode),
                count_include_pad=int(layer.count_include_pad))


def _gate_blocks(array, order):
    """Reorder the row blocks of a (gates * H, ...) array and add ONNX's leading direction axis."""
    blocks = np.split(np.asarray(array), len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)[None]


def _layer_weights(layer, k, d):
    suffix = f"_l{k}" + ("_reverse" if d else "")
    return [getattr(layer, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _onnx_weights(g, per_direction, order):
    """ONNX's W, R (and B) from (weight_ih, weight_hh, bias_ih, bias_hh) per direction, stacked on the leading axis."""

    def stacked(i):
        return np.concatenate([_gate_blocks(w[i].data, order) for w in per_direction], axis=0)

    inputs = [g.const(stacked(0), "weight_ih"), g.const(stacked(1), "weight_hh")]
    if per_direction[0][2] is not None:
        inputs.append(g.const(np.concatenate([stacked(2), stacked(3)], axis=1), "bias"))
    return inputs


def _recurrent_inputs(g, layer, order, k, directions):
    """W, R (and B) of layer ``k``, directions stacked on ONNX's leading axis."""
    return _onnx_weights(g, [_layer_weights(layer, k, d) for d in range(directions)], order)


def _depth(layer):
    """(num_layers, directions) of a sequence layer."""
    stack = layer._stack
    return (1, 1) if stack is None else (stack.num_layers, stack.directions)


def _recurrent(op_type, **attrs):
    """An exporter for RNN / LSTM / GRU: to (time, batch, features), one ONNX op per layer, then the output."""

    def export(g, layer, x):
        if layer.return_state:
            raise ValueError(f"ONNX export of {op_type} needs return_state=False (the graph has one output)")
        num_layers, directions = _depth(layer)
        extra = {"direction": "bidirectional" if directions == 2 else "forward"}
        if op_type == "RNN":
            extra["activations"] = [layer.nonlinearity.capitalize()] * directions
        if layer.batch_first:
            x = g.op("Transpose", [x], perm=[1, 0, 2])
        for k in range(num_layers):
            y, _ = g.ops(op_type, [x, *_recurrent_inputs(g, layer, _GATE_ORDER[op_type], k, directions)], 2,
                         hidden_size=layer.hidden_size, **attrs, **extra)
            # (T, D, N, H) -> (T, N, D * H): both directions side by side at every step, as chainrule's stack.
            x = g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
        if not layer.return_sequences:
            return g.op("Gather", [x, g.ints(-1)], axis=0)   # the last step: (N, D * H)
        return g.op("Transpose", [x], perm=[1, 0, 2]) if layer.batch_first else x

    return export


def _cell(op_type, **attrs):
    """An exporter for RNNCell / GRUCell called without a state: one step of the ONNX op from a zero state."""

    def export(g, layer, x):
        extra = {"activations": [layer.nonlinearity.capitalize()]} if op_type == "RNN" else {}
        steps = g.op("Unsqueeze", [x, g.ints([0])])                        # (1, N, D): a sequence of one step
        y, _ = g.ops(op_type, [steps, *_onnx_weights(g, [layer._weights()], _GATE_ORDER[op_type])], 2,
                     hidden_size=layer.hidden_size, **attrs, **extra)
        return g.op("Squeeze", [y, g.ints([0, 1])], hint="cell")            # (1, 1, N, H) -> (N, H)

    return export


def _sequence_shape(layer):
    return ["batch", "time", layer.input_size] if layer.batch_first else ["time", "batch", layer.input_size]


#: Layer name -> ``fn(layer)``: the graph input's symbolic shape when that layer reads the input first.
INPUT_SHAPES = {
    "Linear": lambda layer: ["batch", layer.in_features],
    "Conv2d": lambda layer: ["batch", layer.in_channels, "height", "width"],
    "RNN": _sequence_shape,
    "LSTM": _sequence_shape,
    "GRU": _sequence_shape,
    "RNNCell": lambda layer: ["batch", layer.input_size],
    "GRUCell": lambda layer: ["batch", layer.input_size],
}


#: Layer name -> exporter, merged into ``chainrule.io.onnx.LAYER_EXPORTS``.
IMAGE_SEQUENCE_EXPORTS = {
    "Conv2d": _conv2d,
    "MaxPool2d": _max_pool2d,
    "AvgPool2d": _avg_pool2d,
    "RNN": _recurrent("RNN"),
    "LSTM": _recurrent("LSTM"),
    "GRU": _recurrent("GRU", linear_before_reset=1),
    "RNNCell": _cell("RNN"),
    "GRUCell": _cell("GRU", linear_before_reset=1),
}

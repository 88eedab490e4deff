"""ONNX exporters of the layers of :mod:`chainrule.nn.layers_more`: Conv1d, BatchNorm, LayerNorm, Embedding, adaptive pooling.

Each function takes ``(graph, layer, x)`` and returns the name of its output,
like the exporters of :mod:`chainrule.io.onnx_layers`. Normalisation layers
export as in eval mode (as Dropout does): BatchNorm with running statistics
becomes one ``BatchNormalization`` node over those statistics; without running
statistics (``track_running_stats=False``) the layer normalises with the
batch's own statistics in eval mode too, so the graph computes them.
LayerNorm is opset 17's ``LayerNormalization``. An ``Embedding`` is a
``Gather`` of its table, so a graph that starts with one takes int64 indices
(shape (batch, time) unless ``to_onnx(input_shape=...)`` says otherwise); an index outside
0..num_embeddings-1, negative ones included, fails the run as chainrule refuses it.
``AdaptiveAvgPool2d`` builds its averaging matrices inside the graph from the
input's height and width (PyTorch's window rule), so any image size works.

Example:
    >>> from chainrule import nn
    >>> from chainrule.io.onnx import to_onnx
    >>> proto = to_onnx(nn.Sequential(nn.Conv1d(2, 4, 3, padding="same", seed=0), nn.BatchNorm1d(4).eval()))
    >>> [n.op_type for n in proto.graph.node], proto.graph.input[0].type.tensor_type.shape.dim[2].dim_param
    (['Conv', 'BatchNormalization', 'Identity'], 'length')
"""

from __future__ import annotations

import numpy as np

__all__ = ["MORE_EXPORTS", "MORE_INPUT_SHAPES", "LOOSE_INPUT_SHAPES", "INPUT_TYPES"]


def _conv1d_pads(layer):
    """ONNX ``pads`` (left, right) for a Conv1d's padding option."""
    padding = layer.padding
    if padding == "valid":
        return [0, 0]
    if padding == "same":
        total = layer.dilation * (layer.kernel_size - 1)  # the odd extra column goes to the right, as chainrule
        return [total // 2, total - total // 2]
    if isinstance(padding, list):
        return [int(padding[0]), int(padding[1])]
    return [int(padding), int(padding)]


def _conv1d(g, layer, x):
    inputs = [x, g.const(layer.weight.data, "weight")]
    if layer.bias is not None:
        inputs.append(g.const(layer.bias.data, "bias"))
    return g.op("Conv", inputs, hint="conv1d", kernel_shape=[layer.kernel_size], strides=[layer.stride],
                pads=_conv1d_pads(layer), dilations=[layer.dilation], group=layer.groups)


def _scale_and_shift(layer, shape):
    """The layer's weight and bias, or ones and zeros when it has none (ONNX wants both)."""
    weight = np.ones(shape) if layer.weight is None else layer.weight.data
    bias = np.zeros(shape) if layer.bias is None else layer.bias.data
    return weight, bias


def _batch_norm(g, layer, x):
    weight, bias = _scale_and_shift(layer, layer.num_features)
    if layer.running_mean is None:
        return _batch_statistics_norm(g, layer, x, weight, bias)
    inputs = [x, g.const(weight, "bn_scale"), g.const(bias, "bn_bias"), g.const(layer.running_mean, "running_mean"),
              g.const(layer.running_var, "running_var")]
    return g.op("BatchNormalization", inputs, hint="batch_norm", epsilon=float(layer.eps))


def _batch_statistics_norm(g, layer, x, weight, bias):
    """Normalise with the batch's mean and biased variance per channel (a BatchNorm without running statistics).

    The input is viewed as (N, C, -1) so one graph serves (N, C), (N, C, L) and (N, C, H, W).
    """
    flat = g.op("Reshape", [x, g.ints([0, 0, -1])])
    centred = g.op("Sub", [flat, g.op("ReduceMean", [flat], axes=[0, 2], keepdims=1)])
    var = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=[0, 2], keepdims=1)
    normed = g.op("Div", [centred, g.op("Sqrt", [g.op("Add", [var, g.const(layer.eps)])])])
    view = (1, layer.num_features, 1)
    out = g.op("Add", [g.op("Mul", [normed, g.const(np.reshape(weight, view))]), g.const(np.reshape(bias, view))])
    return g.op("Reshape", [out, g.op("Shape", [x])], hint="batch_norm")


def _layer_norm(g, layer, x):
    weight, bias = _scale_and_shift(layer, layer.normalized_shape)
    inputs = [x, g.const(weight, "ln_scale"), g.const(bias, "ln_bias")]
    return g.op("LayerNormalization", inputs, hint="layer_norm", axis=-len(layer.normalized_shape),
                epsilon=float(layer.eps))


def _embedding(g, layer, x):
    # Gather counts negative indices from the end; chainrule refuses them, so they are sent out of range,
    # where onnxruntime fails the run (as it does for indices >= num_embeddings) instead of wrapping.
    n = g.ints(layer.num_embeddings)
    checked = g.op("Where", [g.op("Less", [x, g.ints(0)]), n, x])
    return g.op("Gather", [g.const(layer.weight.data, "embedding"), checked], hint="embedding", axis=0)


def _averaging_matrix(g, x, axis, out):
    """(out, n) matrix whose row i averages input positions [floor(i n / out), ceil((i + 1) n / out))."""
    n = g.op("Gather", [g.op("Shape", [x]), g.ints(axis)], axis=0)      # the input's size on ``axis`` (0-d)
    rows = g.ints(np.arange(out).reshape(out, 1))
    start = g.op("Div", [g.op("Mul", [rows, n]), g.ints(out)])           # integer Div: floor for sizes >= 0
    end = g.op("Div", [g.op("Add", [g.op("Mul", [g.op("Add", [rows, g.ints(1)]), n]), g.ints(out - 1)]), g.ints(out)])
    cols = g.op("Range", [g.ints(0), n, g.ints(1)])
    inside = g.op("And", [g.op("GreaterOrEqual", [cols, start]), g.op("Less", [cols, end])])
    elem = g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    return g.op("Div", [g.op("Cast", [inside], to=elem), g.op("Cast", [g.op("Sub", [end, start])], to=elem)])


def _adaptive_avg_pool2d(g, layer, x):
    oh, ow = layer.output_size
    if oh == ow == 1:
        return g.op("GlobalAveragePool", [x], hint="adaptive_avg_pool")
    if oh is not None:  # (oh, H) @ (..., H, W) -> (..., oh, W)
        x = g.op("MatMul", [_averaging_matrix(g, x, -2, oh), x])
    if ow is not None:  # (..., oh, W) @ (W, ow) -> (..., oh, ow)
        x = g.op("MatMul", [x, g.op("Transpose", [_averaging_matrix(g, x, -1, ow)], perm=[1, 0])])
    return g.op("Identity", [x], hint="adaptive_avg_pool")


#: Layer name -> exporter, merged into ``chainrule.io.onnx.LAYER_EXPORTS``.
MORE_EXPORTS = {
    "Conv1d": _conv1d,
    "BatchNorm1d": _batch_norm,
    "BatchNorm2d": _batch_norm,
    "LayerNorm": _layer_norm,
    "Embedding": _embedding,
    "AdaptiveAvgPool2d": _adaptive_avg_pool2d,
}

#: Layer name -> ``fn(layer)``: the input shape these layers fix when they read the graph input first.
MORE_INPUT_SHAPES = {
    "Conv1d": lambda layer: ["batch", layer.in_channels, "length"],
    "BatchNorm2d": lambda layer: ["batch", layer.num_features, "height", "width"],
    "Embedding": lambda layer: ["batch", "time"],   # token indices; to_onnx(input_shape=...) for other ranks
}

#: Layers that accept several input ranks: they decide the input only when no layer in the model
#: fixes it (a BatchNorm1d in front of a Linear takes that Linear's (batch, features)); the shape
#: given here is the commonest, and ``to_onnx(input_shape=...)`` gives another.
LOOSE_INPUT_SHAPES = {
    "BatchNorm1d": lambda layer: ["batch", layer.num_features],
    "LayerNorm": lambda layer: ["batch", *layer.normalized_shape],
}

#: Layer name -> dtype of the graph input when that layer reads it (default: the model's float dtype).
INPUT_TYPES = {"Embedding": np.int64}

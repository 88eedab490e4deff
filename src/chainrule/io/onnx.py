"""Export chainrule networks to ONNX, so they run in onnxruntime and other ONNX engines.

Every built-in layer has an exporter in :data:`LAYER_EXPORTS` (one entry per name of
``nn.LAYERS``): ``Linear``, ``MLP`` (also with skip-layer links), ``Sequential``,
``Residual``, ``Dropout`` (the identity, as in eval mode), ``Flatten`` and every
activation here; ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, ``RNN`` / ``LSTM`` / ``GRU``
(stacked, bidirectional) and ``RNNCell`` / ``GRUCell`` called without a state in
:mod:`chainrule.io.onnx_layers`; ``Conv1d``, ``BatchNorm1d`` / ``BatchNorm2d`` (eval mode),
``LayerNorm``, ``Embedding`` (the graph then takes int64 indices) and ``AdaptiveAvgPool2d``
in :mod:`chainrule.io.onnx_layers_more`; the ``Elman`` and ``Jordan`` context nets, as one
``Scan``, in :mod:`chainrule.io.onnx_context`. The few in :data:`REFUSED` (``LSTMCell``,
whose step returns a pair, and bare containers) are refused with the reason. A module
without an exporter (a user's own class) is traced when ``example=`` gives an input
(:mod:`chainrule.io.onnx_traced`).

A fitted ``chainrule.sklearn`` estimator exports as its network plus the classifier's
probability head or the regressor's target de-standardisation. The graph is built with
``onnx.helper``: weights become initializers and every op exists in opset :data:`OPSET`
(17), which onnxruntime has supported since 1.13. Optionally a feature scaler (or a whole
table pipeline, :mod:`chainrule.io.onnx_table`) learned at training time is built in front
of the network and a softmax / sigmoid head behind it, so the ONNX file takes the same raw
features and gives the same probabilities as ``chainrule predict``.

Needs the ``onnx`` extra (``pip install chainrule[onnx]``).

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> net = nn.MLP([4, 8, 3], activation="tanh", seed=0)
    >>> proto = to_onnx(net, head="softmax")
    >>> [i.name for i in proto.graph.input], [o.name for o in proto.graph.output]
    (['input'], ['output'])
    >>> proto.opset_import[0].version
    17
"""

from __future__ import annotations

import copy
import itertools
import os

import numpy as np

from .._core import Registry, as_path
from ..nn.activations import Activation
from ..nn.module import LAYERS
from ..autodiff.tensor import Tensor, get_default_dtype
from .onnx_activations import ACTIVATION_EXPORTS
from .onnx_context import CONTEXT_EXPORTS, CONTEXT_INPUT_SHAPES
from .onnx_layers import IMAGE_SEQUENCE_EXPORTS, INPUT_SHAPES
from .onnx_layers_more import INPUT_TYPES, LOOSE_INPUT_SHAPES, MORE_EXPORTS, MORE_INPUT_SHAPES
from .onnx_table import as_pipeline, feature_scaler, table_front, target_unscaler
from .onnx_run import graph_inputs, load_onnx as _onnx, run_onnx
from .onnx_traced import graph_output, lower_tape, record_modules, verify

__all__ = ["OPSET", "ACTIVATION_EXPORTS", "LAYER_EXPORTS", "REFUSED", "HEADS", "to_onnx", "export_onnx", "run_onnx",
           "graph_inputs"]

#: The ONNX opset every exported graph declares.
OPSET = 17


class _Graph:
    """Collects nodes and initializers, handing out unique tensor names."""

    def __init__(self, dtype, input_shape, input_dtype=None):
        self.onnx = _onnx()
        self.dtype, self.input_shape = np.dtype(dtype), input_shape
        self.input_dtype = self.dtype if input_dtype is None else np.dtype(input_dtype)
        self.n_inputs = input_shape[-1]
        self.nodes, self.initializers, self._counter = [], [], itertools.count(1)
        self.domains, self._reserved = set(), set()   # extra operator sets used; names taken by graph inputs
        self.tapes = {}   # id(module) -> the recorded forward of a module traced for want of an exporter
        self.out_dtype = self.dtype   # a traced forward may end in another dtype (a cast)

    def reserve(self, names):
        """Keep ``names`` (graph inputs named after table columns) out of the generated names."""
        self._reserved.update(names)

    def fresh(self, hint):
        name = f"{hint}_{next(self._counter)}"
        return self.fresh(hint) if name in self._reserved else name

    def child(self):
        """A builder for a subgraph (a Scan body): its own nodes; names and initializers shared with this graph."""
        body = copy.copy(self)
        body.nodes = []
        return body

    def layer(self, module, x):
        """Add the nodes computing ``module(x)`` and return the output's name."""
        return _module(self, module, x)

    def strings(self, values):
        """A string initializer."""
        name = self.fresh("text")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(values, dtype=object), name))
        return name

    def const(self, value, hint="const"):
        """An initializer holding ``value`` in the graph's float dtype."""
        array = np.asarray(value, dtype=self.dtype)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values):
        """An int64 initializer (axes, shapes)."""
        name = self.fresh("ints")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def ops(self, op_type, inputs, n_outputs, hint=None, **attrs):
        """Add one node with ``n_outputs`` outputs and return their names."""
        outs = [self.fresh(hint or op_type.lower()) for _ in range(n_outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs

    def op(self, op_type, inputs, hint=None, **attrs):
        """Add one node and return the name of its (single) output."""
        return self.ops(op_type, inputs, 1, hint, **attrs)[0]


# --------------------------------------------------------------- layers
def _linear(g, layer, x):
    inputs = [x, g.const(layer.weight.data, "weight")]
    if layer.bias is not None:
        inputs.append(g.const(layer.bias.data, "bias"))
    return g.op("Gemm", inputs, hint="linear", transB=1)


def _mlp(g, net, x):
    h = x
    for layer in net.hidden:
        h = _module(g, net.activation, _linear(g, layer, h))
    out = _linear(g, net.output, h)
    if net.skip is not None:
        out = g.op("Add", [out, _linear(g, net.skip, x)], hint="skip_sum")
    return out if net.output_activation is None else _module(g, net.output_activation, out)


def _sequential(g, seq, x):
    for layer in seq:
        x = _module(g, layer, x)
    return x


def _residual(g, layer, x):
    return g.op("Add", [x, g.layer(layer.block, x)], hint="residual")


def _flatten(g, layer, x):
    if layer.start_dim == 1:
        return g.op("Flatten", [x], axis=1)
    kept = g.op("Shape", [x], start=0, end=layer.start_dim)   # the axes before start_dim keep their sizes
    return g.op("Reshape", [x, g.op("Concat", [kept, g.ints([-1])], axis=0)], hint="flatten")


#: Layer name (as in ``nn.LAYERS``) -> ``fn(graph, layer, x)`` returning the output name.
LAYER_EXPORTS = Registry("ONNX-exportable layer")
LAYER_EXPORTS.update({
    "Linear": _linear,
    "MLP": _mlp,
    "Sequential": _sequential,
    "Dropout": lambda g, layer, x: x,
    "Flatten": _flatten,
    "Residual": _residual,
})
LAYER_EXPORTS.update(IMAGE_SEQUENCE_EXPORTS)
LAYER_EXPORTS.update(MORE_EXPORTS)
LAYER_EXPORTS.update(CONTEXT_EXPORTS)

_CONTAINER = "it is a container without a forward pass; put its layers in a Sequential"

#: Built-in layers export refuses, with the reason it gives.
REFUSED = Registry("layer ONNX export refuses")
REFUSED.update({
    "LSTMCell": "it returns the pair (h, c) and an exported graph has one output; export an LSTM layer "
                "(return_sequences=False gives the last h)",
    "ModuleList": _CONTAINER, "ModuleDict": _CONTAINER,
})


def _unsupported(module) -> ValueError:
    name = type(module).__name__
    if LAYERS.name_of(type(module)) in REFUSED:
        return ValueError(f"cannot export layer {name} to ONNX: {REFUSED[LAYERS.name_of(type(module))]}")
    supported = ", ".join(sorted(LAYER_EXPORTS))
    return ValueError(f"cannot export layer {name} to ONNX; supported layers: {supported} and the activations "
                      "(pass example=<an input> to trace a module's own forward())")


def _module(g, module, x):
    if isinstance(module, Activation):
        if module.name not in ACTIVATION_EXPORTS:
            raise ValueError(f"cannot export activation {module.name!r} to ONNX; supported: {', '.join(sorted(ACTIVATION_EXPORTS))}")
        return ACTIVATION_EXPORTS[module.name](g, x, **module.options)
    name = LAYERS.name_of(type(module))
    if name in LAYER_EXPORTS:
        return LAYER_EXPORTS[name](g, module, x)
    if id(module) in g.tapes and name not in REFUSED:
        return lower_tape(g, g.tapes[id(module)], module, x)
    raise _unsupported(module)


def _has_exporter(module):
    """Whether export handles ``module`` without tracing it (or refuses it by name)."""
    name = LAYERS.name_of(type(module))
    return isinstance(module, Activation) or name in LAYER_EXPORTS or name in REFUSED


# --------------------------------------------------------------- heads and scaling
#: Output head name -> activation applied after the network ("none": raw outputs).
HEADS = Registry("ONNX output head")
HEADS.update({"none": "identity", "softmax": "softmax", "sigmoid": "sigmoid"})


_SHAPES = {**INPUT_SHAPES, **MORE_INPUT_SHAPES, **CONTEXT_INPUT_SHAPES}


def _input_layer(model):
    """The first layer that fixes the input's shape (else one that takes several ranks), and that shape."""
    for table in (_SHAPES, LOOSE_INPUT_SHAPES):
        for _, m in model.named_modules():
            name = LAYERS.name_of(type(m))
            if name in table:
                return m, table[name](m)
    if LAYERS.name_of(type(model)) in REFUSED:
        raise _unsupported(model)
    raise ValueError(f"cannot export {type(model).__name__} to ONNX: it has no Linear layer (nor a Conv1d, Conv2d, "
                     "RNN/LSTM/GRU, Embedding, BatchNorm or LayerNorm) to take the input size from")


def _float_dtype(first, model):
    """The graph's float dtype: that of the first layer's parameters, else of any float tensor in the model."""
    arrays = [p.data for p in (*first.parameters(), *model.parameters())] + [np.asarray(b) for b in model.buffers()]
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    return floats[0] if floats else np.dtype(get_default_dtype())


def _is_table(g):
    """Whether the input is (batch, features) of floats (a scaler can go in front, the output is (batch, outputs))."""
    return len(g.input_shape) == 2 and g.input_dtype.kind == "f"


def _graph(g, name, inputs, output_name):
    """The GraphProto; ``inputs`` are ``(name, numpy dtype, shape, doc_string)``."""
    helper = g.onnx.helper
    out_shape = ["batch", None] if _is_table(g) and not g.tapes else None  # else shape inference fills it in
    values = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(t), shape, doc)
              for n, t, shape, doc in inputs]
    output = helper.make_tensor_value_info(output_name, helper.np_dtype_to_tensor_dtype(g.out_dtype), out_shape)
    return helper.make_graph(g.nodes, name, values, [output], initializer=g.initializers)


def _front(g, pipeline, scaler, input_name, output_name):
    """The graph inputs and the name of the network's input: raw table columns, features or scaled features."""
    if pipeline is not None:
        if not _is_table(g):
            raise ValueError("a table pipeline can be built in front of (batch, features) inputs only")
        inputs, x = table_front(g, pipeline, input_name, g.n_inputs, output_name)
    else:
        inputs, x = [(input_name, g.input_dtype, g.input_shape, "")], input_name
    if scaler is None:
        return inputs, x
    if not _is_table(g):
        raise ValueError("a feature scaler can be folded in front of (batch, features) inputs only")
    return inputs, feature_scaler(g, scaler, x, g.n_inputs)


def to_onnx(model, *, head="none", scaler=None, target_scaler=None, opset=OPSET, input_name="input",
            output_name="output", metadata=None, input_shape=None, pipeline=None, example=None):
    """Build an ``onnx.ModelProto`` computing ``model`` (with optional scaler and head).

    Args:
        model: a chainrule Module made of the supported layers, or a fitted
            ``chainrule.sklearn`` estimator (its ``model_`` with the classifier's
            probability head or the regressor's target de-standardisation).
        head: ``"none"`` (raw outputs), ``"softmax"`` or ``"sigmoid"`` applied after the model.
        scaler: a fitted scaler from ``chainrule.data`` (or its ``to_dict()``) applied first.
        pipeline: a fitted :class:`~chainrule.data.TablePipeline` (or its ``to_dict()``) built in
            front of the scaler, so the graph takes the raw columns of a table (imputing NaN and
            one-hot encoding text columns); see :mod:`chainrule.io.onnx_table`. A pipeline that
            standardised the target is its ``target_scaler`` unless one is given.
        target_scaler: a fitted scaler whose ``inverse_transform`` is applied last, so a
            regression network trained on scaled targets gives outputs in the target's units.
        opset: the ONNX opset to declare (at least 13, where Softmax takes ``axis=-1``).
        input_name, output_name: names of the graph's input and output.
        metadata: ``{key: value}`` strings stored as the model's metadata_props.
        input_shape: the graph input's shape, each entry a size or a name (a free size), to
            replace the one the first layer implies, e.g. ``["batch", 3, "length"]`` for a
            BatchNorm1d over sequences or ``["batch"]`` for an Embedding of single indices.
        example: an input (batch first) to trace the modules that have no exporter, such as a
            user's own ``nn.Module``; the graph then takes inputs shaped like it (any batch size)
            and is checked on a second input before it is returned (:mod:`chainrule.io.onnx_traced`).

    Returns:
        A checked ``onnx.ModelProto`` whose input has shape ``(batch, n_features)``, ``(batch, C, H, W)``
        (a Conv2d first) or ``(batch, time, features)`` (a recurrent layer first; time first when
        ``batch_first=False``).

    Raises:
        ValueError: naming the layer or activation that cannot be exported.
    """
    onnx = _onnx()
    if not isinstance(opset, int) or opset < 13:
        raise ValueError(f"opset must be an integer >= 13, got {opset!r}")
    if hasattr(model, "onnx_parts"):  # a chainrule.sklearn estimator: its network and its output mapping
        model, parts = model.onnx_parts()
        head, target_scaler = parts.get("head", head), parts.get("target_scaler", target_scaler)
    g = _start(model, input_shape, example, scaler is not None or pipeline is not None)
    if pipeline is not None:
        pipeline = as_pipeline(pipeline)
        target_scaler = pipeline.target_scaler_ if target_scaler is None else target_scaler
    inputs, x = _front(g, pipeline, scaler, input_name, output_name)
    out = _module(g, model, x)
    out = ACTIVATION_EXPORTS[HEADS[head]](g, out)
    if target_scaler is not None:
        out = target_unscaler(g, target_scaler, out, None if g.tapes else _n_outputs(model))
    g.nodes.append(onnx.helper.make_node("Identity", [out], [output_name]))
    opsets = [onnx.helper.make_opsetid("", opset)] + [onnx.helper.make_opsetid(*d) for d in sorted(g.domains)]
    proto = onnx.helper.make_model(_graph(g, f"chainrule_{type(model).__name__}", inputs, output_name),
                                   opset_imports=opsets, producer_name="chainrule")
    # onnxruntime refuses IR versions newer than it knows; opset 17 needs IR 8 only.
    proto.ir_version = min(proto.ir_version, 8)
    if not _is_table(g) or g.tapes:  # the output's rank follows from the layers (or a trace): inference says it
        proto.graph.output[0].CopyFrom(onnx.shape_inference.infer_shapes(proto).graph.output[0])
    onnx.helper.set_model_props(proto, {str(k): str(v) for k, v in (metadata or {}).items()})
    onnx.checker.check_model(proto)
    if g.tapes:
        traced = sorted({type(m).__name__ for _, m in model.named_modules() if id(m) in g.tapes})
        verify(proto, model, example, run_onnx, ", ".join(traced), graph_output(head, target_scaler))
    return proto


def _start(model, input_shape, example, scaled):
    """The graph builder: input shape and dtype from the first layer, ``input_shape`` or the example; tapes recorded."""
    if example is None:
        first, shape = _input_layer(model)
        shape = shape if input_shape is None else _check_input_shape(input_shape)
        return _Graph(_float_dtype(first, model), shape, INPUT_TYPES.get(LAYERS.name_of(type(first))))
    example = np.asarray(example.data if isinstance(example, Tensor) else example)
    if example.ndim < 1 or example.shape[0] < 1:
        raise ValueError(f"example must be an input with a batch axis first, got shape {example.shape}")
    if scaled:
        raise ValueError("example= traces the network's own input, so it cannot be combined with scaler= or pipeline=")
    shape = ["batch", *example.shape[1:]] if input_shape is None else _check_input_shape(input_shape)
    g = _Graph(_float_dtype(model, model), shape, np.int64 if example.dtype.kind in "iu" else None)
    g.tapes, g.out_dtype = record_modules(model, example, _has_exporter)
    return g


def _check_input_shape(shape):
    entries = list(shape) if isinstance(shape, (list, tuple)) else None
    if not entries or not all(isinstance(d, str) and d or isinstance(d, int) and not isinstance(d, bool) and d > 0
                              for d in entries):
        raise ValueError(f"input_shape must be a non-empty list of positive sizes or names, got {shape!r}")
    return entries


def _n_outputs(model):
    last = [m for _, m in model.named_modules() if LAYERS.name_of(type(m)) == "Linear"]
    if not last:
        raise ValueError("target_scaler needs a model ending in a Linear layer (its out_features are the targets)")
    return last[-1].out_features


def export_onnx(model, path, *, overwrite=False, **options):
    """Write ``model`` to an ``.onnx`` file; see :func:`to_onnx` for ``options``.

    Refuses to replace an existing file unless ``overwrite=True``.

    Example:
        >>> import os, tempfile
        >>> from chainrule import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "net.onnx")
        >>> export_onnx(nn.MLP([2, 4, 1], seed=0), path) == path
        True
    """
    path = as_path("path", path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (--overwrite) to replace it")
    proto = to_onnx(model, **options)
    with open(path, "wb") as handle:
        handle.write(proto.SerializeToString())
    return path

"""Export modules that have no layer exporter (a user's own ``nn.Module``) by tracing their forward pass.

``to_onnx(model, example=x)`` runs the model once on ``x`` in eval mode. Every
module export has no exporter for (a user-defined class, registered with
``@nn.register`` or not) is recorded while it runs, op by op, on the tape that
:func:`chainrule.compile` uses (:mod:`chainrule.autodiff.tape`); each
recorded registry op becomes ONNX nodes through :data:`OP_EXPORTS`, and the
module's parameters become initializers. Layers with exporters are exported
as usual around it.

A trace follows one run: Python branches, sizes written into the code and
values read from tensors are frozen at what they were for ``x``. So the
exported graph is checked before it is returned: it runs in onnxruntime on a
second, random input with another batch size, and must agree with the model
to 1e-4; otherwise export refuses, naming the module. The graph's input keeps
the example's shape except for the batch (axis 0).

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> from chainrule.io.onnx import to_onnx
    >>> class Scaled(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.inner = nn.Linear(3, 2, seed=0)
    ...     def forward(self, x):
    ...         return self.inner(x).tanh() * 2.0
    >>> proto = to_onnx(Scaled(), example=np.ones((4, 3), np.float32))
    >>> [n.op_type for n in proto.graph.node]
    ['Transpose', 'MatMul', 'Add', 'Tanh', 'Mul', 'Identity']
"""

from __future__ import annotations

import numpy as np

from ..autodiff.engine import no_grad
from ..autodiff.tape import Const, record
from ..autodiff.tensor import Tensor
from ..nn.module import evaluating
from .onnx_table import as_scaler
from .onnx_traced_recurrent import RECURRENT_OP_EXPORTS

__all__ = ["OP_EXPORTS", "record_modules", "lower_tape", "verify", "graph_output"]


def _unary(op_type):
    return lambda g, x: g.op(op_type, [x])


def _binary(op_type):
    return lambda g, a, b: g.op(op_type, [a, b])


def _axes(axis):
    return None if axis is None else [int(axis)] if np.ndim(axis) == 0 else [int(a) for a in axis]


def _reduce(op_type):
    def export(g, x, axis=None, keepdims=False):
        axes = _axes(axis)
        extra = {} if axes is None else {"axes": axes}
        return g.op(op_type, [x], keepdims=int(keepdims), **extra)
    return export


def _sum(g, x, axis=None, keepdims=False):
    axes = _axes(axis)
    return g.op("ReduceSum", [x] + ([] if axes is None else [g.ints(axes)]), keepdims=int(keepdims))


def _linear(g, x, w, b=None):
    out = g.op("MatMul", [x, g.op("Transpose", [w], perm=[1, 0])])
    return out if b is None else g.op("Add", [out, b])


def _transpose(g, x, axes=None):
    return g.op("Transpose", [x]) if axes is None else g.op("Transpose", [x], perm=[int(a) for a in axes])


def _stack(g, *xs, axis=0):
    return g.op("Concat", [g.op("Unsqueeze", [x, g.ints([axis])]) for x in xs], axis=int(axis))


def _clip(g, x, lo=None, hi=None):
    return g.op("Clip", [x, "" if lo is None else g.const(lo), "" if hi is None else g.const(hi)])


def _cast(g, x, dtype):
    return g.op("Cast", [x], to=g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def _pair(value):
    return [int(value)] * 2 if np.ndim(value) == 0 else [int(v) for v in value]


def _conv2d(g, x, w, b=None, stride=1, padding=0):
    pads = _pair(padding)
    return g.op("Conv", [x, w] + ([] if b is None else [b]), strides=_pair(stride), pads=pads + pads)


def _max_pool2d(g, x, kernel_size, stride=None):
    kernel = _pair(kernel_size)
    return g.op("MaxPool", [x], kernel_shape=kernel, strides=kernel if stride is None else _pair(stride))


def _without_ellipsis(index, ndim):
    """``index`` as a tuple with ``...`` spelt out as the full slices it stands for."""
    items = index if isinstance(index, tuple) else (index,)
    if not any(i is Ellipsis for i in items):
        return items
    k = next(j for j, i in enumerate(items) if i is Ellipsis)
    named = sum(1 for i in items if i is not None and i is not Ellipsis)
    return items[:k] + (slice(None),) * (ndim - named) + items[k + 1:]


def _getitem(g, x, index):
    """Basic indexing (ints, slices, None; ``...`` already spelt out) as Slice, Squeeze, Unsqueeze; an index array as Gather."""
    if isinstance(index, str):  # rows picked by integer indices computed in the graph (an input, an earlier result)
        return g.op("Gather", [x, index], axis=0)
    items = index if isinstance(index, tuple) else (index,)
    if len(items) == 1 and isinstance(items[0], np.ndarray) and items[0].dtype.kind in "iu":
        return g.op("Gather", [x, g.ints(items[0])], axis=0)
    if not all(i is None or isinstance(i, (int, np.integer, slice)) for i in items):
        raise ValueError(f"cannot export the index {index!r}: traced export takes ints, slices, None, ... or one "
                         "integer array")
    starts, ends, steps, axes, squeeze, unsqueeze, axis, out_axis = [], [], [], [], [], [], 0, 0
    big = np.iinfo(np.int64).max
    for item in items:
        if item is None:  # a new axis at this place of the output
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            start = (0 if step > 0 else -1) if item.start is None else int(item.start)
            end = (big if step > 0 else -big) if item.stop is None else int(item.stop)
            out_axis += 1
        else:
            start, end, step = int(item), (int(item) + 1) or big, 1
            squeeze.append(axis)
        starts, ends, steps, axes = starts + [start], ends + [end], steps + [step], axes + [axis]
        axis += 1
    out = g.op("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)]) if axes else x
    if squeeze:
        out = g.op("Squeeze", [out, g.ints(squeeze)])
    return g.op("Unsqueeze", [out, g.ints(unsqueeze)]) if unsqueeze else out


def _take_along_axis(g, x, indices, axis):
    """GatherElements, with the indices first broadcast against ``x`` off ``axis`` (NumPy does; ONNX does not)."""
    axis = int(axis)
    parts = [g.op("Shape", [x], start=0, end=axis) if axis else None,
             g.op("Shape", [indices], start=axis, end=axis + 1),
             g.op("Shape", [x], start=axis + 1) if axis != -1 else None]
    shape = g.op("Concat", [p for p in parts if p is not None], axis=0)
    return g.op("GatherElements", [x, g.op("Expand", [indices, shape])], axis=axis)


#: Registry op name -> ``fn(graph, *inputs, **attrs)`` with the op's recorded attributes.
OP_EXPORTS = {
    "add": _binary("Add"), "sub": _binary("Sub"), "mul": _binary("Mul"), "div": _binary("Div"),
    "pow": _binary("Pow"), "maximum": _binary("Max"), "minimum": _binary("Min"), "matmul": _binary("MatMul"),
    "pow_scalar": lambda g, x, p: g.op("Pow", [x, g.const(p)]),
    "neg": _unary("Neg"), "abs": _unary("Abs"), "exp": _unary("Exp"), "log": _unary("Log"), "sqrt": _unary("Sqrt"),
    "tanh": _unary("Tanh"), "sigmoid": _unary("Sigmoid"), "relu": _unary("Relu"), "erf": _unary("Erf"),
    "sin": _unary("Sin"), "cos": _unary("Cos"), "tan": _unary("Tan"), "asin": _unary("Asin"), "acos": _unary("Acos"),
    "atan": _unary("Atan"), "sinh": _unary("Sinh"), "cosh": _unary("Cosh"), "asinh": _unary("Asinh"),
    "acosh": _unary("Acosh"), "atanh": _unary("Atanh"), "floor": _unary("Floor"), "ceil": _unary("Ceil"),
    "round": _unary("Round"), "sign": _unary("Sign"),
    "log1p": lambda g, x: g.op("Log", [g.op("Add", [x, g.const(1.0)])]),
    "expm1": lambda g, x: g.op("Sub", [g.op("Exp", [x]), g.const(1.0)]),
    "log2": lambda g, x: g.op("Div", [g.op("Log", [x]), g.const(np.log(2.0))]),
    "log10": lambda g, x: g.op("Div", [g.op("Log", [x]), g.const(np.log(10.0))]),
    "exp2": lambda g, x: g.op("Pow", [g.const(2.0), x]),
    "step": lambda g, x: _cast(g, g.op("Greater", [x, g.const(0.0)]), g.dtype),
    "clip": _clip, "cast": _cast, "dropout": lambda g, x, **attrs: x,
    "linear": _linear, "conv2d": _conv2d, "max_pool2d": _max_pool2d,
    "sum": _sum, "mean": _reduce("ReduceMean"), "max": _reduce("ReduceMax"), "min": _reduce("ReduceMin"),
    "prod": _reduce("ReduceProd"), "logsumexp": _reduce("ReduceLogSumExp"),
    "softmax": lambda g, x, axis=-1: g.op("Softmax", [x], axis=int(axis)),
    "log_softmax": lambda g, x, axis=-1: g.op("LogSoftmax", [x], axis=int(axis)),
    "reshape": lambda g, x, shape: g.op("Reshape", [x, g.ints(list(shape))]),
    "transpose": _transpose,
    "broadcast_to": lambda g, x, shape: g.op("Expand", [x, g.ints(list(shape))]),
    "concatenate": lambda g, *xs, axis=0: g.op("Concat", list(xs), axis=int(axis)),
    "stack": _stack,
    "getitem": _getitem,
    "split": lambda g, x: x, "split_part": lambda g, x, key, index: _getitem(g, x, index),
    "where": lambda g, a, b, cond: g.op("Where", [cond, a, b]),
    "einsum": lambda g, *xs, subscripts: g.op("Einsum", list(xs), equation=subscripts.replace(" ", "")),
    "take_along_axis": _take_along_axis,
    **RECURRENT_OP_EXPORTS,  # rnn_seq, lstm_seq, gru_seq as ONNX RNN / LSTM / GRU
}


class _Recording:
    """Replace the forward of each module in ``targets`` by one that records a tape of its first call."""

    def __init__(self, targets):
        self.targets, self.tapes = targets, {}

    def _wrap(self, module):
        original = module.forward

        def forward(*args, **kwargs):
            if id(module) in self.tapes:
                return original(*args, **kwargs)
            if kwargs or len(args) != 1:
                raise ValueError(f"cannot trace {type(module).__name__} for ONNX: its forward takes one input, "
                                 f"not {len(args)} arguments and {len(kwargs)} keywords")
            try:
                tape, out = record(original, args, {})
            except ValueError as exc:  # the recorder's refusal, said for export rather than for compile
                reason = str(exc).removeprefix("compile: ").replace("the step", "its forward").split(";")[0]
                raise ValueError(f"cannot trace {type(module).__name__} for ONNX: {reason}") from None
            self.tapes[id(module)] = tape
            return out

        module.forward = forward

    def __enter__(self):
        for m in self.targets:
            self._wrap(m)
        return self

    def __exit__(self, *exc):
        for m in self.targets:
            del m.forward  # back to the class's forward
        return False


def _untraceable(model, exported):
    """The outermost modules of ``model`` whose class ``exported(module)`` says has no exporter."""
    if not exported(model):
        return [model]
    return [m for child in model.children() for m in _untraceable(child, exported)]


def _as_input(x):
    """The input as a Tensor, as a user calls a model (integer indices stay integers)."""
    return Tensor(x, dtype=x.dtype)


def record_modules(model, example, exported):
    """Run ``model`` on ``example``: ``({id(module): tape}`` for its modules without an exporter, the output's dtype)."""
    targets = list({id(m): m for m in _untraceable(model, exported)}.values())  # a shared module once
    with _Recording(targets) as rec, no_grad(), evaluating(model):
        out = model(_as_input(example))
    return rec.tapes, np.asarray(out.data if isinstance(out, Tensor) else out).dtype


def _value(g, value, like=None):
    """An initializer for a constant: floats in the graph's dtype, Python numbers in ``like`` (the op's result)."""
    if value is None or isinstance(value, str):
        return value
    array = np.asarray(value)
    if isinstance(value, (bool, int, float)) and like is not None:
        array = array.astype(like)
    if array.dtype.kind == "f":
        return g.const(array)
    name = g.fresh("value")
    g.initializers.append(g.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
    return name


def lower_tape(g, tape, module, x):
    """Add the nodes of a recorded forward pass with input ``x``; returns the output's name."""
    if not isinstance(tape.output, int):
        raise ValueError(f"cannot export {type(module).__name__} to ONNX: its forward returns "
                         f"{type(tape.output).__name__}, and a graph has one output tensor")
    env = {tape.inputs[0]: x}
    env.update({k: _value(g, leaf.data) for k, leaf in tape.leaves.items()})
    for e in tape.entries:
        if e.op.name not in OP_EXPORTS:
            raise ValueError(f"cannot export {type(module).__name__} to ONNX: its forward uses the op "
                             f"'{e.op.name}', which has no ONNX exporter")
        args = [_value(g, a.value, e.dtype) if isinstance(a, Const) else env[a] for a in e.args]
        attrs = {**e.attrs, **{k: env[s] for k, s in e.slot_attrs.items()}}
        if e.op.name == "where" and not isinstance(attrs["cond"], str):
            attrs["cond"] = _value(g, attrs["cond"])
        if e.op.name == "getitem" and not isinstance(attrs["index"], (np.ndarray, str)):
            attrs["index"] = _without_ellipsis(attrs["index"], len(tape.shapes[e.args[0]]))
        env[e.out] = OP_EXPORTS[e.op.name](g, *args, **attrs)
    return env[tape.output]


def _second_input(example, rng):
    """Another input like ``example`` with one row more and other values inside the range of its own.

    Floats are mixtures ``a u + (1 - a) v`` of two of the example's values, so they stay in any interval the
    example's values lie in (the domain of a log or an arcsin); integers are drawn from the example's values.
    """
    shape = (example.shape[0] + 1, *example.shape[1:])
    values = example.reshape(-1)
    if example.dtype.kind in "iub":
        return rng.choice(values, size=shape)
    a = rng.uniform(size=shape)
    mixed = a * rng.choice(values, size=shape) + (1 - a) * rng.choice(values, size=shape)
    return mixed.astype(example.dtype)


def verify(proto, model, example, run, names, finish):
    """Refuse a traced graph that disagrees with ``model`` on a second random input (another batch size).

    ``finish`` maps the model's output to what the graph outputs (its probability head, target scaling).
    """
    x = _second_input(np.asarray(example), np.random.default_rng(0))
    try:
        with no_grad(), evaluating(model):
            want = finish(model(_as_input(x)).data)
        got = run(proto, x)
        agrees = got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-4)
    except Exception:  # the module itself, or onnxruntime, refuses the other batch size: a size is frozen
        agrees = False
    if not agrees:
        raise ValueError(f"cannot export {names} to ONNX by tracing: the traced graph disagrees with the module on an "
                         "input with another batch size or other values (a size, branch or value taken from the "
                         "example is frozen in it); write the forward without them or from exportable layers")


def graph_output(head, target_scaler):
    """``fn(network output) -> graph output``: the head and the target scaling, in NumPy."""
    def finish(out):
        out = np.asarray(out, dtype=np.float64)
        if head == "softmax":
            z = np.exp(out - out.max(axis=-1, keepdims=True))
            out = z / z.sum(axis=-1, keepdims=True)
        elif head == "sigmoid":
            out = 1.0 / (1.0 + np.exp(-out))
        return out if target_scaler is None else as_scaler(target_scaler).inverse_transform(out)
    return finish

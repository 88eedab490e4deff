"""Running exported graphs: onnxruntime sessions and the inputs a graph takes.

Needs the ``onnx`` extra (``pip install chainrule[onnx]``), which brings onnxruntime.

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> from chainrule.io.onnx import to_onnx
    >>> run_onnx(to_onnx(nn.Linear(2, 3, seed=0)), np.zeros((4, 2), np.float32)).shape
    (4, 3)
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["load_onnx", "run_onnx", "graph_inputs"]


def load_onnx():
    """The onnx package, or ImportError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package; install it with `pip install chainrule[onnx]`") from None
    return onnx


def graph_inputs(path_or_proto):
    """``[(name, dtype, shape)]`` of a graph's inputs: a NumPy dtype name and sizes or size names.

    Example:
        >>> from chainrule import nn
        >>> from chainrule.io.onnx import to_onnx
        >>> graph_inputs(to_onnx(nn.Embedding(5, 2, seed=0)))
        [('input', 'int64', ['batch', 'time'])]
    """
    onnx = load_onnx()
    proto = onnx.load(os.fspath(path_or_proto)) if isinstance(path_or_proto, (str, os.PathLike)) else path_or_proto
    return [(i.name, np.dtype(onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)).name,
             [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in proto.graph.input]


def run_onnx(path_or_proto, x):
    """Run an exported model in onnxruntime on ``x`` and return its output array.

    ``x`` is the array of the graph's one input, or ``{input name: array}`` for a graph with
    several (a table with categorical columns: their text cells as (batch, 1) arrays of str).

    Example:
        >>> import numpy as np
        >>> from chainrule import nn
        >>> from chainrule.io.onnx import to_onnx
        >>> net = nn.MLP([2, 3, 1], seed=0)
        >>> run_onnx(to_onnx(net), np.zeros((5, 2), np.float32)).shape
        (5, 1)
    """
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("running ONNX models needs onnxruntime; install it with `pip install chainrule[onnx]`") from None
    source = path_or_proto if isinstance(path_or_proto, (str, os.PathLike)) else path_or_proto.SerializeToString()
    session = onnxruntime.InferenceSession(os.fspath(source) if isinstance(source, os.PathLike) else source,
                                           providers=["CPUExecutionProvider"])
    graph_inputs = session.get_inputs()
    given = x if isinstance(x, dict) else {graph_inputs[0].name: x}
    names = [i.name for i in graph_inputs]
    if sorted(given) != sorted(names):
        raise ValueError(f"the graph takes the inputs {', '.join(map(repr, names))}, got {', '.join(map(repr, given))}")
    feed = {i.name: np.asarray(given[i.name], dtype=_SESSION_DTYPES.get(i.type, np.float32)) for i in graph_inputs}
    return session.run(None, feed)[0]


#: onnxruntime's name of an input type -> the NumPy dtype run_onnx casts the input to.
_SESSION_DTYPES = {"tensor(double)": np.float64, "tensor(int64)": np.int64, "tensor(string)": object}

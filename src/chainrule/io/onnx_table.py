"""What an exported graph does around the network: the table pipeline and feature scaler in front, the target scaler behind.

A model trained with ``chainrule train`` on a CSV file keeps its
:class:`~chainrule.data.TablePipeline`. :func:`table_front` builds that pipeline
into the graph, so the ONNX file takes the raw columns of the file and gives
what ``chainrule predict`` gives:

* one float input ``input`` (batch, numeric columns) with the numeric feature
  columns in the training file's order, NaN marking a missing cell; the
  imputed value learned at training replaces NaN (``Where(IsNaN(x), fill, x)``);
* one string input per categorical column, named after the column, shape
  (batch, 1), one-hot encoded by ``ai.onnx.ml`` OneHotEncoder over the
  training categories: an unseen category fails the run (``handle_unknown="error"``,
  as ``predict`` refuses it) or becomes all zeros (``"ignore"``); a missing
  cell (the spellings of :data:`~chainrule.data.table.MISSING` in any case)
  takes the imputed category.

A missing cell that ``predict`` refuses (no imputation) or leaves blank
(``impute="drop"``) makes that row's outputs NaN. Every input's ``doc_string``
says which columns it takes, in which order, and how they are imputed.
:func:`table_feed` reads a CSV file into those inputs. The graph does not
repeat ``predict``'s refusals of infinite values or of numbers beyond float32.

Example:
    >>> import os, tempfile
    >>> from chainrule import nn
    >>> from chainrule.data.table import TablePipeline
    >>> from chainrule.io.onnx import to_onnx
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a,b,y\\n2,,0\\n1,5,1\\n3,7,0\\n")
    >>> pipe = TablePipeline(impute="mean").fit(path)
    >>> proto = to_onnx(nn.Linear(2, 1, seed=0), pipeline=pipe)
    >>> proto.graph.input[0].doc_string
    "raw values of the numeric feature columns 'a', 'b' in this order (NaN: a missing cell, imputed as at training: 'a' by 2, 'b' by 6)"
"""

from __future__ import annotations

import itertools

import numpy as np

from .._core import is_number
from ..data.scaling import scaler_from_dict
from ..data.table import MISSING, TablePipeline
from ..data.table_read import Table, read_table

__all__ = ["table_front", "table_feed", "as_pipeline", "as_scaler", "feature_scaler", "target_unscaler", "ML_DOMAIN", "MISSING_FORMS"]

#: The ONNX-ML operator set the one-hot encoding takes its OneHotEncoder from.
ML_DOMAIN = ("ai.onnx.ml", 1)


def _affine(g, x, a, b, hint):
    """x * a + b with per-column a, b (a folded scaler or its inverse)."""
    scaled = g.op("Mul", [x, g.const(np.reshape(a, -1), "scale")])
    return g.op("Add", [scaled, g.const(np.reshape(b, -1), "shift")], hint=hint)


def as_scaler(scaler):
    """A fitted scaler from itself or its ``to_dict()``."""
    return scaler_from_dict(scaler) if isinstance(scaler, dict) else scaler


def feature_scaler(g, scaler, x, n_inputs):
    """Fold a fitted StandardScaler / MinMaxScaler (or its to_dict form) into x * a + b."""
    scaler = as_scaler(scaler)
    b = scaler.transform(np.zeros((1, n_inputs)))
    return _affine(g, x, scaler.transform(np.ones((1, n_inputs))) - b, b, "scaled")


def target_unscaler(g, scaler, x, n_outputs=None):
    """Fold a target scaler's inverse_transform behind the network (outputs back in target units).

    ``n_outputs``, when known, must be the scaler's width.
    """
    scaler = as_scaler(scaler)
    if n_outputs is not None and n_outputs != scaler.n_features_:
        raise ValueError(f"target_scaler was fitted on {scaler.n_features_} columns but the network gives "
                         f"{n_outputs} outputs")
    n_outputs = scaler.n_features_
    b = scaler.inverse_transform(np.zeros((1, n_outputs)))
    return _affine(g, x, scaler.inverse_transform(np.ones((1, n_outputs))) - b, b, "unscaled")


def _case_forms(word):
    """Every upper / lower case spelling of ``word`` (missing cells are matched case-insensitively)."""
    return {"".join(chars) for chars in itertools.product(*[{c.lower(), c.upper()} for c in word])}


#: Every spelling of a missing cell, for the graph's exact string matching.
MISSING_FORMS = sorted(set().union(*[_case_forms(w) for w in MISSING]))


def as_pipeline(pipeline):
    """A fitted TablePipeline from itself or its ``to_dict()``; TypeError / ValueError otherwise."""
    pipe = TablePipeline.from_dict(pipeline) if isinstance(pipeline, dict) else pipeline
    if not isinstance(pipe, TablePipeline):
        raise TypeError(f"pipeline must be a fitted TablePipeline or its to_dict(), got {type(pipeline).__name__}")
    pipe._check_fitted()
    return pipe


def _numeric_block(g, pipe, columns, input_name):
    """The numeric columns with NaN replaced by their fill values (NaN stays NaN where none was learned)."""
    fills = [pipe.fill_.get(c, np.nan) for c in columns]
    if all(np.isnan(fills)):
        return input_name
    return g.op("Where", [g.op("IsNaN", [input_name]), g.const(fills, "fill"), input_name], hint="imputed")


def _ml_op(g, x, categories, zeros):
    """A (batch, len(categories)) float one-hot of the (batch, 1) strings ``x``."""
    g.domains.add(ML_DOMAIN)
    hot = g.op("OneHotEncoder", [x], domain=ML_DOMAIN[0], cats_strings=list(categories), zeros=int(zeros))
    return g.op("Reshape", [hot, g.ints([0, -1])])


def _categorical_block(g, pipe, name):
    """One-hot columns of categorical column ``name``: the missing spellings imputed or made NaN first."""
    missing = g.op("Cast", [g.op("ReduceMax", [_ml_op(g, name, MISSING_FORMS, True)], axes=[1], keepdims=1)],
                   to=g.onnx.TensorProto.BOOL)
    fill = pipe.fill_.get(name)
    x = name if fill is None else g.op("Where", [missing, g.strings([fill]), name], hint="imputed")
    hot = _ml_op(g, x, pipe.categories_[name], pipe.handle_unknown == "ignore" or fill is None)
    if g.dtype != np.float32:
        hot = g.op("Cast", [hot], to=g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype))
    return hot if fill is not None else g.op("Where", [missing, g.const(np.nan), hot], hint="unimputed")


def _numeric_doc(pipe, columns):
    shown = ", ".join(repr(c) for c in columns)
    fills = [f"{c!r} by {pipe.fill_[c]:.6g}" for c in columns if c in pipe.fill_]
    treat = f"imputed as at training: {', '.join(fills)}" if fills else "which gives NaN outputs, as at training " \
        "without imputation"
    return f"raw values of the numeric feature columns {shown} in this order (NaN: a missing cell, {treat})"


def _categorical_doc(pipe, name):
    shown = ", ".join(pipe.categories_[name][:10]) + (", ..." if len(pipe.categories_[name]) > 10 else "")
    unknown = "all zeros" if pipe.handle_unknown == "ignore" else "an error"
    fill = f"imputed as {pipe.fill_[name]!r}" if name in pipe.fill_ else "NaN outputs"
    return (f"the text cells of categorical column {name!r} (categories {shown}; an unseen one gives {unknown}, "
            f"a missing cell {fill})")


def table_front(g, pipeline, input_name, n_features, output_name="output"):
    """Build the pipeline's encoding into graph ``g``.

    Args:
        g: the graph under construction (``chainrule.io.onnx``'s builder).
        pipeline: a fitted :class:`~chainrule.data.TablePipeline` or its ``to_dict()``.
        input_name: the name of the numeric input.
        output_name: the name of the graph's output (no input may take it).
        n_features: the network's input width, which must equal the pipeline's encoded width.

    Returns:
        ``(inputs, x)``: the graph inputs as ``(name, numpy dtype, shape, doc_string)`` and
        the name of the encoded (batch, n_features) tensor, in the pipeline's feature order.
    """
    pipe = as_pipeline(pipeline)
    if len(pipe.feature_names_) != n_features:
        raise ValueError(f"the table pipeline encodes {len(pipe.feature_names_)} features but the network takes "
                         f"{n_features}")
    numeric = [c for c in pipe.columns_ if c not in pipe.categories_]
    categorical = [c for c in pipe.columns_ if c in pipe.categories_]
    clash = [c for c in categorical if c in (input_name, output_name)]
    if clash:
        which = "numeric input" if clash[0] == input_name else "output"
        raise ValueError(f"categorical column {clash[0]!r} has the name of the graph's {which}; pass another "
                         f"{'input_name' if which == 'numeric input' else 'output_name'}")
    g.reserve([input_name, *categorical])
    inputs, blocks, order = [], [], []
    if numeric:
        inputs.append((input_name, g.dtype, ["batch", len(numeric)], _numeric_doc(pipe, numeric)))
        blocks.append(_numeric_block(g, pipe, numeric, input_name))
        order += numeric
    for name in categorical:
        inputs.append((name, np.dtype(object), ["batch", 1], _categorical_doc(pipe, name)))
        blocks.append(_categorical_block(g, pipe, name))
        order += [f"{name}={c}" for c in pipe.categories_[name]]
    if not categorical:
        return inputs, blocks[0]
    joined = g.op("Concat", blocks, axis=1)
    return inputs, g.op("Gather", [joined, g.ints([order.index(n) for n in pipe.feature_names_])], axis=1,
                        hint="encoded")


def _number(table, name, i, cell):
    if cell.lower() in MISSING:
        return np.nan
    if not is_number(cell):
        raise ValueError(f"{table.path}, line {table.lines[i]}, column {name!r}: {cell!r} is not a number")
    return float(cell)


def table_feed(pipeline, table, input_name="input", dtype=np.float32):
    """The inputs of a graph built with ``pipeline`` for the rows of a table, as ``{input name: array}``.

    Args:
        pipeline: the fitted :class:`~chainrule.data.TablePipeline` (or its ``to_dict()``).
        table: a :class:`~chainrule.data.table_read.Table` or a file read like the training file.
        input_name: the name of the graph's numeric input.
        dtype: the float dtype of the graph (float32 unless the network is float64).

    Returns:
        The numeric feature columns as one (rows, columns) array, NaN for a missing cell, and
        each categorical column's text cells as a (rows, 1) array of str, ready for ``run_onnx``.

    Raises:
        ValueError: naming a missing or extra column, or the line and column of a cell that
            is not a number.
    """
    pipe = as_pipeline(pipeline)
    table = table if isinstance(table, Table) else read_table(table, pipe.delimiter, pipe.header)
    pipe._check_columns(table, with_target=False)
    numeric = [c for c in pipe.columns_ if c not in pipe.categories_]
    feed = {}
    if numeric:
        columns = [[_number(table, name, i, cell) for i, cell in enumerate(table.column(name))] for name in numeric]
        feed[input_name] = np.array(columns, dtype=dtype).T.reshape(len(table), len(numeric))
    for name in pipe.columns_:
        if name in pipe.categories_:
            feed[name] = np.array(table.column(name), dtype=object).reshape(-1, 1)
    return feed

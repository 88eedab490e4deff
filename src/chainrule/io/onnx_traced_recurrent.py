"""Traced ONNX export of the whole-sequence recurrent ops: rnn_seq, lstm_seq and gru_seq as ONNX RNN / LSTM / GRU.

A user's module that calls an ``nn.LSTM`` (or GRU, RNN) is exported by tracing
(:mod:`chainrule.io.onnx_traced`), and its tape holds the sequence op, whose
input is the projection ``xw = x @ weight_ih.T + bias_ih`` computed before it (with ``bias_hh``
added there too for RNN and LSTM layers, whose sequence op then has no bias).
ONNX's recurrent ops project their input themselves, so the translation hands
them ``W`` = the identity with its row blocks in ONNX's gate order (LSTM
i, o, f, c; GRU z, r, h), ``R`` = ``w_hh`` with its blocks reordered the same
way, and ``B`` = (zeros, ``b_hh`` reordered). A state that is a constant zero
array (the layers' default) becomes ONNX's default zero state, so the graph
keeps a free batch size.

Example:
    >>> sorted(RECURRENT_OP_EXPORTS)
    ['gru_seq', 'lstm_seq', 'rnn_seq']
"""

from __future__ import annotations

import numpy as np

__all__ = ["RECURRENT_OP_EXPORTS"]


def _rows(order, hidden):
    return np.concatenate([np.arange(j * hidden, (j + 1) * hidden) for j in order])


def _initializer(g, name):
    """The array of initializer ``name``, or None when ``name`` is computed in the graph."""
    init = next((i for i in g.initializers if i.name == name), None)
    return None if init is None else g.onnx.numpy_helper.to_array(init)


def _state(g, value):
    """ONNX's initial state: omitted (zeros) for a constant zero array, else with the direction axis added."""
    array = _initializer(g, value)
    return "" if array is not None and not np.any(array) else g.op("Unsqueeze", [value, g.ints([0])])


def _hidden_size(g, w, op_type):
    array = _initializer(g, w)
    if array is None:
        raise ValueError(f"cannot export a traced {op_type} whose recurrent weight is computed in the forward; "
                         "export needs it as a parameter")
    return array.shape[1]


def _recurrent(op_type, order, with_cell=False, **fixed):
    """An exporter ``fn(graph, xw, h0, [c0,] w_hh, [b_hh], **attrs)`` for one recurrent op."""

    def export(g, xw, h0, *rest, nonlinearity=None):
        c0, (w, *b) = (rest[0], rest[1:]) if with_cell else (None, rest)
        hidden, gates = _hidden_size(g, w, op_type), len(order)
        rows = _rows(order, hidden)
        inputs = [xw, g.const(np.eye(gates * hidden)[rows][None], "identity"),
                  g.op("Unsqueeze", [g.op("Gather", [w, g.ints(rows)], axis=0), g.ints([0])])]
        if b:
            reordered = g.op("Gather", [b[0], g.ints(rows)], axis=0)
            inputs.append(g.op("Unsqueeze", [g.op("Concat", [g.const(np.zeros(gates * hidden)), reordered], axis=0),
                                             g.ints([0])]))
        else:
            inputs.append("")
        inputs += ["", _state(g, h0)] + ([_state(g, c0)] if with_cell else [])
        extra = {"activations": [nonlinearity.capitalize()]} if nonlinearity else {}
        outs = g.ops(op_type, inputs, 3 if with_cell else 1, hidden_size=int(hidden), **fixed, **extra)
        hs = g.op("Squeeze", [outs[0], g.ints([1])])          # (T, 1, N, H) -> (T, N, H)
        return g.op("Concat", [hs, outs[2]], axis=0) if with_cell else hs   # lstm_seq: then c_T

    return export


#: Registry op name -> ``fn(graph, *inputs, **attrs)``, merged into ``onnx_traced.OP_EXPORTS``.
RECURRENT_OP_EXPORTS = {
    "rnn_seq": _recurrent("RNN", (0,)),
    "lstm_seq": _recurrent("LSTM", (0, 3, 1, 2), with_cell=True),
    "gru_seq": _recurrent("GRU", (1, 0, 2), linear_before_reset=1),
}

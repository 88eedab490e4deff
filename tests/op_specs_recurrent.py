"""Specs of the whole-sequence recurrent ops (rnn_seq, lstm_seq, gru_seq) with plain NumPy references.

The references are the textbook step equations written out one step at a time
(PyTorch's gate orders), the slow and obvious version of each op. Imported at
the end of tests/op_specs.py, whose ``OpSpec`` they use.
"""

from __future__ import annotations

import numpy as np
from op_specs import OpSpec

from chainrule.autodiff.ops import call as op_call


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rnn_ref(xw, h0, w, b=None, nonlinearity="tanh"):
    act = np.tanh if nonlinearity == "tanh" else (lambda v: np.maximum(v, 0.0))
    h, hs = h0, []
    for x in xw:
        h = act(x + h @ w.T + (0 if b is None else b))
        hs.append(h)
    return np.stack(hs)


def lstm_ref(xw, h0, c0, w, b=None):
    h, c, hs = h0, c0, []
    for x in xw:
        i, f, g, o = np.split(x + h @ w.T + (0 if b is None else b), 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs + [c])


def gru_ref(xw, h0, w, b=None):
    h, hs = h0, []
    for x in xw:
        xr, xz, xn = np.split(x, 3, axis=-1)
        hr, hz, hn = np.split(h @ w.T + (0 if b is None else b), 3, axis=-1)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs)


def _seq(name, **attrs):
    return lambda *a: op_call(name, *a, **attrs)


def _relu_ref(*a):
    return rnn_ref(*a, nonlinearity="relu")


# (T, N, H) = (3, 2, 2) keeps the gradgradchecks fast; a one-step spec checks the edges of the loops.
RECURRENT_SPECS = [
    OpSpec("rnn_seq", [(3, 2, 2), (2, 2), (2, 2), (2,)], _seq("rnn_seq"), rnn_ref, label="tanh"),
    OpSpec("rnn_seq", [(3, 2, 2), (2, 2), (2, 2)], _seq("rnn_seq", nonlinearity="relu"), _relu_ref,
           domain="distinct", label="relu-nobias"),
    OpSpec("lstm_seq", [(3, 2, 8), (2, 2), (2, 2), (8, 2), (8,)], _seq("lstm_seq"), lstm_ref, label="bias"),
    OpSpec("lstm_seq", [(1, 3, 4), (3, 1), (3, 1), (4, 1)], _seq("lstm_seq"), lstm_ref, label="one-step-nobias"),
    OpSpec("gru_seq", [(3, 2, 6), (2, 2), (6, 2), (6,)], _seq("gru_seq"), gru_ref, label="bias"),
    OpSpec("gru_seq", [(2, 1, 3), (1, 1), (3, 1)], _seq("gru_seq"), gru_ref, label="nobias"),
]

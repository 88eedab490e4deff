"""Edge samples of the whole-sequence recurrent ops, with PyTorch's own RNN / LSTM / GRU as the oracle.

The torch side is :func:`recurrent_torch.torch_seq`. Imported at the end of tests/op_edges.py.
"""

from __future__ import annotations

import numpy as np
from op_edges import EdgeSample, non_contiguous, rand
from recurrent_torch import torch_seq

from chainrule.autodiff.ops import call as op_call

def _sample(op, label, args, **attrs):
    return EdgeSample(op, label, args, lambda *a: op_call(op, *a, **attrs),
                      lambda t, *a: torch_seq(t, op, *a, **attrs))


def _saturating(shape, seed=0):
    """Pre-activations far beyond the nonlinearities' range mixed with ordinary ones."""
    values = np.array([1e30, -1e30, 40.0, -40.0, 1e-30, 0.7, -1.3, 2.5], dtype=np.float64)
    return np.random.default_rng(seed).choice(values, size=shape)


RECURRENT_EDGES = [
    _sample("rnn_seq", "tanh-saturated", [_saturating((3, 2, 2)), rand(2, 2), rand(2, 2, seed=3), rand(2, seed=4)]),
    _sample("rnn_seq", "relu-strided", [non_contiguous((3, 2, 2)), rand(2, 2), rand(2, 2, seed=3)], nonlinearity="relu"),
    _sample("lstm_seq", "saturated", [_saturating((3, 2, 8)), rand(2, 2), rand(2, 2, seed=5), rand(8, 2, seed=3),
                                      rand(8, seed=4)]),
    _sample("lstm_seq", "strided-nobias", [non_contiguous((4, 2, 4)), rand(2, 1), non_contiguous((2, 1), seed=1),
                                           rand(4, 1, seed=3)]),
    _sample("gru_seq", "saturated", [_saturating((3, 2, 6)), rand(2, 2), rand(6, 2, seed=3), rand(6, seed=4)]),
    _sample("gru_seq", "strided-nobias", [non_contiguous((4, 3, 3)), rand(3, 1), rand(3, 1, seed=3)]),
]

"""The update rules of the recurrent layers: one step of Elman, LSTM and GRU, as mixins.

Each rule is a mixin shared by a cell and its sequence layer (``LSTMCell`` and
``LSTM`` both inherit :class:`_LSTMRule`), so behaviour follows the class and
never a name. A rule sets the number of gate blocks and defines ``_step``;
the LSTM rule also reads and emits a state pair.

Example:
    >>> from chainrule import nn
    >>> isinstance(nn.LSTM(2, 3), _LSTMRule), isinstance(nn.LSTMCell(2, 3), _LSTMRule)
    (True, True)
    >>> nn.GRU._gates, nn.RNNCell._gates
    (3, 1)
"""

from __future__ import annotations

from ..autodiff import functions as _ops

_linear = _ops.linear


# ------------------------------------------------------------------ one time step
# Each step takes ``xw = x @ weight_ih.T + bias_ih`` already computed: the sequence
# layers project all T inputs with one fused linear call instead of T small ones.

def _rnn_step(xw, h, w_hh, b_hh, nonlinearity):
    pre = xw + _linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def _lstm_step(xw, h, c, w_hh, b_hh):
    n = h.shape[-1]
    gates = xw + _linear(h, w_hh, b_hh)
    i = gates[..., :n].sigmoid()           # input gate: how much new content to write
    f = gates[..., n:2 * n].sigmoid()      # forget gate: how much old cell state to keep
    g = gates[..., 2 * n:3 * n].tanh()     # candidate cell content
    o = gates[..., 3 * n:].sigmoid()       # output gate: how much of the cell to expose
    c = f * c + i * g
    return o * c.tanh(), c


def _gru_step(xw, h, w_hh, b_hh):
    n = h.shape[-1]
    hw = _linear(h, w_hh, b_hh)
    r = (xw[..., :n] + hw[..., :n]).sigmoid()              # reset gate
    z = (xw[..., n:2 * n] + hw[..., n:2 * n]).sigmoid()    # update gate
    cand = (xw[..., 2 * n:] + r * hw[..., 2 * n:]).tanh()  # r scales h's term after its bias, as in torch
    return cand + z * (h - cand)                           # = (1 - z) * cand + z * h


# ------------------------------------------------------------------ update rules

class _ElmanRule:
    """``h' = act(xw + h @ W_hh.T + b_hh)``: one hidden state and a chosen nonlinearity."""

    _gates = 1

    def _step(self, xw, h):
        _, w_hh, _, b_hh = self._weights()
        return _rnn_step(xw, h, w_hh, b_hh, self.nonlinearity)

    def _rule_args(self):
        return {"nonlinearity": self.nonlinearity}


class _LSTMRule:
    """The LSTM update on a state pair (h, c); sequence layers emit h."""

    _gates = 4

    def _unpack_state(self, state, batch, like):
        if state is None:
            zero = self._zero_state(batch, like)
            return zero, zero
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"{type(self).__name__}: the state must be a pair (h, c), got {type(state).__name__}")
        return self._check_state("h", state[0], batch), self._check_state("c", state[1], batch)

    def _step(self, xw, state):
        _, w_hh, _, b_hh = self._weights()
        return _lstm_step(xw, state[0], state[1], w_hh, b_hh)

    def _output(self, state):
        return state[0]


class _GRURule:
    """The GRU update on one hidden state."""

    _gates = 3

    def _step(self, xw, h):
        _, w_hh, _, b_hh = self._weights()
        return _gru_step(xw, h, w_hh, b_hh)

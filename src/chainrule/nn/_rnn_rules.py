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

from ..autodiff.ops.recurrent import bias_args, gru_step, lstm_step, rnn_step
from ..autodiff.tensor import dispatch

# A cell's step takes ``xw = x @ weight_ih.T + bias_ih`` already computed (the step math itself is in
# chainrule.autodiff.ops.recurrent). A sequence layer's ``_run`` hands the projections of all T steps
# (from ``_project``; the rule's ``_bias_place`` says where its two biases are added), time-major, to one
# whole-sequence op (rnn_seq, lstm_seq, gru_seq): one graph node per sequence.


# ------------------------------------------------------------------ update rules

class _ElmanRule:
    """``h' = act(xw + h @ W_hh.T + b_hh)``: one hidden state and a chosen nonlinearity."""

    _gates = 1
    # b_hh is added unchanged at every step, so b_ih + b_hh goes into the projection: the tanh kernel
    # reads xw + b_hh as one array anyway (see ``_project`` for the three places).
    _bias_place = "projection"

    def _step(self, xw, h):
        _, w_hh, _, b_hh = self._weights()
        return rnn_step(xw, h, w_hh, b_hh, self.nonlinearity)

    def _run(self, xw, h0, b_hh=None, sequences=True):
        """``(every h_t (T, N, H), h_T)`` from the time-major projections xw (T, N, H) (``b_hh``: see ``_project``)."""
        hs = dispatch("rnn_seq", xw, h0, self._weights()[1], *bias_args(b_hh), nonlinearity=self.nonlinearity)
        return hs, hs[-1]

    def _rule_args(self):
        return {"nonlinearity": self.nonlinearity}


class _LSTMRule:
    """The LSTM update on a state pair (h, c); sequence layers emit h."""

    _gates = 4
    # b_ih + b_hh goes to lstm_seq, whose fused gate pass adds a bias at every step in cache: adding it
    # to the (T, N, 4H) projections instead is a pass over memory that no longer fits in L2.
    _bias_place = "sequence"

    def _unpack_state(self, state, batch, like):
        if state is None:
            zero = self._zero_state(batch, like)
            return zero, zero
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"{type(self).__name__}: the state must be a pair (h, c), got {type(state).__name__}")
        return self._check_state("h", state[0], batch), self._check_state("c", state[1], batch)

    def _step(self, xw, state):
        _, w_hh, _, b_hh = self._weights()
        return lstm_step(xw, state[0], state[1], w_hh, b_hh)

    def _run(self, xw, state, b_hh=None, sequences=True):
        """``(every h_t (T, N, H) or None, (h_T, c_T))`` from the time-major projections xw (T, N, 4H)."""
        out = dispatch("lstm_seq", xw, state[0], state[1], self._weights()[1], *bias_args(b_hh))   # h_1 .. h_T, c_T
        # Pieces of one split, so backward writes their gradients into one array (no zero array per
        # piece); indexed from the end, so a traced graph does not freeze T.
        whole = dispatch("split", out)
        c = dispatch("split_part", whole, key=1, index=-1)
        if sequences:
            hs = dispatch("split_part", whole, key=0, index=slice(None, -1))
            return hs, (hs[-1], c)
        return None, (dispatch("split_part", whole, key=0, index=-2), c)

    def _output(self, state):
        return state[0]


class _GRURule:
    """The GRU update on one hidden state."""

    _gates = 3
    _bias_place = "split"  # b_hh's n block is scaled by the reset gate, so it is added per step, apart

    def _step(self, xw, h):
        _, w_hh, _, b_hh = self._weights()
        return gru_step(xw, h, w_hh, b_hh)

    def _run(self, xw, h0, b_hh=None, sequences=True):
        """``(every h_t (T, N, H), h_T)`` from the time-major projections xw (T, N, 3H)."""
        hs = dispatch("gru_seq", xw, h0, self._weights()[1], *bias_args(b_hh))
        return hs, hs[-1]

"""PyTorch's RNN / LSTM / GRU computing exactly chainrule's rnn_seq / lstm_seq / gru_seq (the test oracle).

:func:`torch_seq` runs ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` on the op's arguments:
an identity ``weight_ih`` and a zero ``bias_ih`` make torch's input projection
the given ``xw``; ``torch.func.functional_call`` keeps every argument
differentiable, in both modes.
"""

from __future__ import annotations

_KINDS = {"rnn_seq": "RNN", "lstm_seq": "LSTM", "gru_seq": "GRU"}


def torch_seq(torch, op, xw, h0, *rest, nonlinearity="tanh"):
    """``op``'s result computed by torch.nn's layer of that kind (arguments as for the op)."""
    c0, (w, *b) = (rest[0], rest[1:]) if op == "lstm_seq" else (None, rest)
    rows, hidden = w.shape
    extra = {"nonlinearity": nonlinearity} if op == "rnn_seq" else {}
    layer = getattr(torch.nn, _KINDS[op])(rows, hidden, bias=bool(b), dtype=w.dtype, **extra)
    params = {"weight_ih_l0": torch.eye(rows, dtype=w.dtype), "weight_hh_l0": w}
    if b:
        params.update(bias_ih_l0=torch.zeros(rows, dtype=w.dtype), bias_hh_l0=b[0])
    state = (h0[None], c0[None]) if c0 is not None else h0[None]
    out, final = torch.func.functional_call(layer, params, (xw, state))
    return torch.cat([out, final[1]]) if c0 is not None else out

"""Lowerings of the whole-sequence recurrent ops (rnn_seq, lstm_seq, gru_seq) to ``jax.lax.scan``.

The jax backend of :func:`chainrule.compile` merges :data:`RECURRENT_LOWERINGS`
into its table. Each lowering is the op's step equation (PyTorch's gate
orders, as in :mod:`chainrule.autodiff.ops.recurrent`) scanned over the time
axis; jax differentiates the scan itself. jax is imported by the caller's
backend, never here at import time.

Example:
    >>> sorted(RECURRENT_LOWERINGS)
    ['gru_seq', 'lstm_seq', 'rnn_seq']
"""

from __future__ import annotations

__all__ = ["RECURRENT_LOWERINGS"]


def _scan(step, carry, xs):
    import jax

    return jax.lax.scan(step, carry, xs)


def _sigmoid(jnp, x):
    return 1 / (1 + jnp.exp(-x))


def _rnn_seq(jnp, xw, h0, w, b=None, nonlinearity="tanh"):
    bias = 0 if b is None else b

    def act(v):  # relu through where: its derivative at 0 is 0, as the eager op's (jnp.maximum's is 1/2)
        return jnp.tanh(v) if nonlinearity == "tanh" else jnp.where(v > 0, v, 0)

    def step(h, x):
        h = act(x + h @ w.T + bias)
        return h, h

    return _scan(step, h0, xw)[1]


def _lstm_seq(jnp, xw, h0, c0, w, b=None):
    bias = 0 if b is None else b

    def step(carry, x):
        h, c = carry
        i, f, g, o = jnp.split(x + h @ w.T + bias, 4, axis=-1)
        c = _sigmoid(jnp, f) * c + _sigmoid(jnp, i) * jnp.tanh(g)
        h = _sigmoid(jnp, o) * jnp.tanh(c)
        return (h, c), h

    (_, c), hs = _scan(step, (h0, c0), xw)
    return jnp.concatenate([hs, c[None]])


def _gru_seq(jnp, xw, h0, w, b=None):
    bias = 0 if b is None else b

    def step(h, x):
        xr, xz, xn = jnp.split(x, 3, axis=-1)
        hr, hz, hn = jnp.split(h @ w.T + bias, 3, axis=-1)
        r, z = _sigmoid(jnp, xr + hr), _sigmoid(jnp, xz + hz)
        n = jnp.tanh(xn + r * hn)
        h = n + z * (h - n)
        return h, h

    return _scan(step, h0, xw)[1]


#: op name -> ``lower(jnp, *inputs, **attrs)``, merged into ``compile_jax.LOWERINGS``.
RECURRENT_LOWERINGS = {"rnn_seq": _rnn_seq, "lstm_seq": _lstm_seq, "gru_seq": _gru_seq}

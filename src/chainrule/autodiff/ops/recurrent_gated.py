"""The gated recurrent primitives ``lstm_seq`` and ``gru_seq`` (see :mod:`.recurrent` for the idea).

``lstm_seq(xw, h0, c0, w_hh[, b_hh])`` returns one array of T + 1 steps: the
hidden states h_1 .. h_T, then the last cell state c_T (everything a sequence
layer hands on). ``gru_seq(xw, h0, w_hh[, b_hh])`` returns h_1 .. h_T. Gate
order and the GRU's reset gate follow PyTorch, so the weights of a
``torch.nn.LSTM`` / ``torch.nn.GRU`` give the same numbers.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> xw, h0 = np.zeros((2, 1, 4)), np.zeros((1, 1))
    >>> out, _ = REGISTRY["lstm_seq"].forward(xw, h0, np.ones((1, 1)), np.zeros((4, 1)))
    >>> out.shape, float(out[-1, 0, 0])          # (T + 1, N, H); c_T = 0.5 ** 2 * 1
    ((3, 1, 1), 0.25)
"""

from __future__ import annotations

import numpy as np

from . import register, tangent_sum
from .recurrent import (FLUSH_EVERY, call, check_sequence, dtype_of, flush_tiny, graph_vjp, gru_step, hidden_before,
                        lstm_step, sigmoid_, weight_grad)


# Inside the loops every gate of every step is a contiguous (N, H) block, (T, gates, N, H): NumPy
# is several times slower on the strided column blocks of a (N, gates * H) row. The LSTM's gates
# are kept in the order i, f, o, g there, so one call applies the sigmoid to three of them.
_LSTM_ORDER = (0, 1, 3, 2)     # PyTorch's block of each internal gate (i, f, g, o -> i, f, o, g)
_GRU_ORDER = (0, 1, 2)


def _gate_major(xw, b, order, dt):
    """``xw + b`` (T, N, G * H) as a contiguous (T, G, N, H), gates in ``order``."""
    steps, n, rows = xw.shape
    hidden = rows // len(order)
    out = np.empty((steps, len(order), n, hidden), dt)
    x4 = xw.reshape(steps, n, len(order), hidden)
    for k, j in enumerate(order):
        np.add(x4[:, :, j], 0 if b is None else b[j * hidden:(j + 1) * hidden], out=out[:, k])
    return out


def _row_major(d, order):
    """The inverse of :func:`_gate_major`: (T, G, N, H) -> (T, N, G * H) in PyTorch's gate order."""
    steps, gates, n, hidden = d.shape
    out = np.empty((steps, n, gates * hidden), d.dtype)
    o4 = out.reshape(steps, n, gates, hidden)
    for k, j in enumerate(order):
        o4[:, :, j] = d[:, k]
    return out


def _gate_weights(w, order):
    """w (G * H, H) as (G, H, H) blocks in ``order``: for d @ w per gate, and transposed for h @ w.T."""
    blocks = w.reshape(len(order), -1, w.shape[1])[list(order)]
    return blocks, np.ascontiguousarray(blocks.transpose(0, 2, 1))


def _tangent_drive(ts, h0, hs, steps, shape):
    """The tangent of each step's pre-activations from xw, w_hh and b_hh (None when none has one)."""
    tx, tw, tb = ts
    drive = tangent_sum((tx, tw, tb), lambda t: t, lambda t: hidden_before(h0, hs, steps) @ t.T, lambda t: t)
    return None if drive is None else np.broadcast_to(drive, shape)


def _sum_gates(d, w_blocks, buf, out):
    """sum_k d[k] @ w_blocks[k]: the gradient (or tangent) that reaches h through every gate."""
    np.matmul(d, w_blocks, out=buf)
    return np.add.reduce(buf, axis=0, out=out)


# ------------------------------------------------------------------ lstm_seq

def _lstm_steps(xw, h0, c0, w_hh, b_hh=None):
    h, c, hs = h0, c0, []
    for t in range(xw.shape[0]):
        h, c = lstm_step(xw[t], h, c, w_hh, b_hh)
        hs.append(h)
    return call("stack", *hs, c, axis=0)


def _lstm_forward(xw, h0, c0, w_hh, b_hh=None):
    steps, n, hidden = check_sequence("lstm_seq", xw, h0, w_hh, b_hh, 4, c0)
    dt = dtype_of(xw, h0, c0, w_hh, b_hh)
    w_blocks, w_t = _gate_weights(w_hh.astype(dt, copy=False), _LSTM_ORDER)
    h = h0.astype(dt, copy=False)
    acts = _gate_major(xw, b_hh, _LSTM_ORDER, dt)   # the pre-activations, then (in place) i, f, o, g
    cells = np.empty((steps + 1, n, hidden), dt)    # c_0 .. c_T
    tanh_c = np.empty((steps, n, hidden), dt)
    out = np.empty((steps + 1, n, hidden), dt)      # h_1 .. h_T, then c_T
    buf, tmp = np.empty((4, n, hidden), dt), np.empty((n, hidden), dt)
    cells[0] = c0
    with np.errstate(over="ignore"):
        for t in range(steps):
            a = acts[t]
            a += np.matmul(h, w_t, out=buf)
            i, f, o, g = a
            sigmoid_(a[:3])
            np.tanh(g, out=g)
            c = np.multiply(f, cells[t], out=cells[t + 1])
            c += np.multiply(i, g, out=tmp)
            h = np.multiply(o, np.tanh(c, out=tanh_c[t]), out=out[t])
    out[steps] = cells[steps]
    return out, {"h0": h0.astype(dt, copy=False), "w": w_blocks, "acts": acts, "cells": cells, "tanh_c": tanh_c,
                 "out": out, "attrs": {}}


def _lstm_vjp(g, ctx, needs):
    h0, w, acts, cells, tanh_c, hs = (ctx[k] for k in ("h0", "w", "acts", "cells", "tanh_c", "out"))
    steps = tanh_c.shape[0]
    d = np.empty_like(acts)                          # dL/d(pre-activations), gate-major
    dc = np.array(g[steps], dtype=h0.dtype)          # dL/dc_t, running backwards
    dh, back, tmp, buf = np.empty_like(h0), np.zeros_like(h0), np.empty_like(h0), np.empty_like(acts[0])
    for t in reversed(range(steps)):
        i, f, o, gg = acts[t]
        di, df, do, dg = d[t]
        np.add(g[t], back, out=dh)
        np.multiply(dh, tanh_c[t], out=do)
        np.multiply(tanh_c[t], tanh_c[t], out=tmp)   # h = o tanh(c): dc += dh o (1 - tanh(c)^2)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        np.multiply(dc, gg, out=di)
        np.multiply(dc, cells[t], out=df)
        np.multiply(dc, i, out=dg)
        dc *= f
        np.subtract(1, acts[t, :3], out=buf[:3])      # sigmoid' = s (1 - s), for i, f and o at once
        buf[:3] *= acts[t, :3]
        d[t, :3] *= buf[:3]
        np.multiply(gg, gg, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dg *= tmp
        _sum_gates(d[t], w, buf, back)
        if t % FLUSH_EVERY == 0:
            flush_tiny(dc, back)
    dx = _row_major(d, _LSTM_ORDER)
    gw = weight_grad(dx, h0, hs, steps) if needs[3] else None
    gb = dx.reshape(-1, dx.shape[-1]).sum(axis=0) if len(needs) > 4 and needs[4] else None
    return dx if needs[0] else None, back if needs[1] else None, dc if needs[2] else None, gw, gb


def _lstm_jvp(ts, ctx):
    tx, th, tc, tw, tb = (tuple(ts) + (None,) * 5)[:5]
    h0, w, acts, cells, tanh_c, hs = (ctx[k] for k in ("h0", "w", "acts", "cells", "tanh_c", "out"))
    steps, n, hidden = tanh_c.shape
    drive = _tangent_drive((tx, tw, tb), h0, hs, steps, (steps, n, 4 * hidden))
    if drive is None and th is None and tc is None:
        return None
    w_t = np.ascontiguousarray(w.transpose(0, 2, 1))
    dh = np.zeros_like(h0) if th is None else th
    dc = np.zeros_like(h0) if tc is None else tc
    out = np.empty(hs.shape, np.result_type(hs, dh, dc, *(() if drive is None else (drive,))))
    for t in range(steps):
        dp = np.matmul(dh, w_t)                                 # gate-major, like acts
        if drive is not None:
            dp = dp + drive[t].reshape(n, 4, hidden)[:, list(_LSTM_ORDER)].transpose(1, 0, 2)
        i, f, o, g = acts[t]
        di, df, do, dg = dp[0] * i * (1 - i), dp[1] * f * (1 - f), dp[2] * o * (1 - o), dp[3] * (1 - g * g)
        dc = df * cells[t] + f * dc + di * g + i * dg
        dh = out[t] = do * tanh_c[t] + o * (1 - tanh_c[t] ** 2) * dc
    out[steps] = dc
    return out


register(
    "lstm_seq",
    _lstm_forward,
    _lstm_vjp,
    _lstm_jvp,
    doc="LSTM over a sequence (gate order i, f, g, o) for xw (T, N, 4H), h0 and c0 (N, H): "
    "h_1 .. h_T and then c_T, (T + 1, N, H).",
    vjp_graph=graph_vjp(_lstm_steps),
)


# ------------------------------------------------------------------ gru_seq

def _gru_steps(xw, h0, w_hh, b_hh=None):
    h, hs = h0, []
    for t in range(xw.shape[0]):
        h = gru_step(xw[t], h, w_hh, b_hh)
        hs.append(h)
    return call("stack", *hs, axis=0)


def _gru_forward(xw, h0, w_hh, b_hh=None):
    steps, n, hidden = check_sequence("gru_seq", xw, h0, w_hh, b_hh, 3)
    dt = dtype_of(xw, h0, w_hh, b_hh)
    w_blocks, w_t = _gate_weights(w_hh.astype(dt, copy=False), _GRU_ORDER)
    h = h0.astype(dt, copy=False)
    x = _gate_major(xw, None, _GRU_ORDER, dt)
    bias = 0 if b_hh is None else b_hh.astype(dt, copy=False).reshape(3, 1, hidden)
    acts = np.empty((steps, 4, n, hidden), dt)      # r, z, n, and h's part of n before r scales it
    hs = np.empty((steps, n, hidden), dt)
    hw = np.empty((3, n, hidden), dt)
    with np.errstate(over="ignore"):
        for t in range(steps):
            np.matmul(h, w_t, out=hw)
            hw += bias
            r, z, cand, hw_n = acts[t]
            sigmoid_(np.add(x[t, :2], hw[:2], out=acts[t, :2]))
            hw_n[...] = hw[2]
            np.multiply(r, hw_n, out=cand)
            cand += x[t, 2]
            np.tanh(cand, out=cand)
            new = np.subtract(h, cand, out=hs[t])    # h' = cand + z (h - cand)
            new *= z
            h = np.add(new, cand, out=new)
    return hs, {"h0": h0.astype(dt, copy=False), "w": w_blocks, "acts": acts, "hs": hs, "attrs": {}}


def _gru_vjp(g, ctx, needs):
    h0, w, acts, hs = ctx["h0"], ctx["w"], ctx["acts"], ctx["hs"]
    steps = hs.shape[0]
    dx = np.empty_like(acts[:, :3])                  # dL/dxw, gate-major
    dhw = np.empty_like(dx)                          # dL/d(h @ w_hh.T + b_hh)
    dh, back, tmp, buf = np.empty_like(h0), np.zeros_like(h0), np.empty_like(h0), np.empty_like(dx[0])
    for t in reversed(range(steps)):
        r, z, cand, hw_n = acts[t]
        np.add(g[t], back, out=dh)
        dn = dx[t, 2]
        np.subtract(1, z, out=tmp)
        np.multiply(dh, tmp, out=dn)
        np.multiply(cand, cand, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dn *= tmp                                    # through tanh: dL/d(n's pre-activation)
        np.multiply(dn, r, out=dhw[t, 2])
        np.multiply(dn, hw_n, out=dx[t, 0])          # dL/dr
        np.subtract(hs[t - 1] if t else h0, cand, out=tmp)
        np.multiply(dh, tmp, out=dx[t, 1])           # dL/dz
        np.subtract(1, acts[t, :2], out=buf[:2])     # sigmoid' = s (1 - s), for r and z at once
        buf[:2] *= acts[t, :2]
        dx[t, :2] *= buf[:2]
        dhw[t, :2] = dx[t, :2]
        np.multiply(dh, z, out=back)
        back += _sum_gates(dhw[t], w, buf, tmp)
        if t % FLUSH_EVERY == 0:
            flush_tiny(back)
    dhw = _row_major(dhw, _GRU_ORDER)
    gw = weight_grad(dhw, h0, hs, steps) if needs[2] else None
    gb = dhw.reshape(-1, dhw.shape[-1]).sum(axis=0) if len(needs) > 3 and needs[3] else None
    return _row_major(dx, _GRU_ORDER) if needs[0] else None, back if needs[1] else None, gw, gb


def _gru_jvp(ts, ctx):
    tx, th, tw, tb = (tuple(ts) + (None,) * 4)[:4]
    h0, w, acts, hs = ctx["h0"], ctx["w"], ctx["acts"], ctx["hs"]
    steps, n, hidden = hs.shape
    shape = (steps, n, 3 * hidden)
    t_hw = tangent_sum((tw, tb), lambda t: hidden_before(h0, hs, steps) @ t.T, lambda t: t)
    t_hw = None if t_hw is None else np.broadcast_to(t_hw, shape)
    t_x = None if tx is None else np.broadcast_to(tx, shape)
    if t_hw is None and t_x is None and th is None:
        return None
    w_t = np.ascontiguousarray(w.transpose(0, 2, 1))
    dh = np.zeros_like(h0) if th is None else th
    out = np.empty(hs.shape, np.result_type(hs, dh, *(v for v in (t_x, t_hw) if v is not None)))
    for t in range(steps):
        r, z, cand, hw_n = acts[t]
        dhw = np.matmul(dh, w_t)                     # gate-major (3, N, H)
        if t_hw is not None:
            dhw = dhw + t_hw[t].reshape(n, 3, hidden).transpose(1, 0, 2)
        dx = 0 * dhw if t_x is None else t_x[t].reshape(n, 3, hidden).transpose(1, 0, 2)
        dr = (dx[0] + dhw[0]) * r * (1 - r)
        dz = (dx[1] + dhw[1]) * z * (1 - z)
        dn = (dx[2] + dr * hw_n + r * dhw[2]) * (1 - cand * cand)
        before = hs[t - 1] if t else h0
        dh = out[t] = dn + dz * (before - cand) + z * (dh - dn)
    return out


register(
    "gru_seq",
    _gru_forward,
    _gru_vjp,
    _gru_jvp,
    doc="GRU over a sequence (gate order r, z, n; r scales h's term after its bias, as in PyTorch) for "
    "xw (T, N, 3H), h0 (N, H): every h_t, (T, N, H).",
    vjp_graph=graph_vjp(_gru_steps),
)

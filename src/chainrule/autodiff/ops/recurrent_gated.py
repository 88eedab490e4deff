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
from .kernels import numba_kernels
from .recurrent import (FLUSH_EVERY, batch_first_rows, call, check_sequence, dtype_of, flush_tiny, graph_vjp, gru_step,
                        hidden_before, lstm_step, sigmoid_, tangent_drive, weight_grad)


# Inside the loops every gate of a step is a contiguous (N, H) block, (gates, N, H): NumPy is
# several times slower on the strided column blocks of a (N, gates * H) row. Each step reads its
# projections as a gate-major view of xw[t] and writes its gradient into dxw[t] the same way, so
# no pass over the whole sequence rearranges them.

def _gates(a, gates):
    """(N, gates * H) -> a (gates, N, H) view."""
    return a.reshape(a.shape[0], gates, -1).transpose(1, 0, 2)


def _weights(w, gates, dt):
    """w (gates * H, H) in ``dt`` and its blocks transposed, (gates, H, H): h @ w.T gate by gate."""
    w = w.astype(dt, copy=False)
    return w, np.ascontiguousarray(w.reshape(gates, -1, w.shape[1]).transpose(0, 2, 1))


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
    w, w_t = _weights(w_hh, 4, dt)
    h = h0.astype(dt, copy=False)
    acts = np.empty((steps, 4, n, hidden), dt)      # i, f, g, o after their nonlinearities
    cells = np.empty((steps + 1, n, hidden), dt)    # c_0 .. c_T
    tanh_c = np.empty((steps, n, hidden), dt)
    out = np.empty((steps + 1, n, hidden), dt)      # h_1 .. h_T, then c_T
    kernel = numba_kernels() if dt == np.float32 and steps else None
    ctx = {"h0": h, "w": w, "acts": acts, "cells": cells, "tanh_c": tanh_c, "out": out, "layout": xw,
           "kernel": kernel, "attrs": {}}
    if kernel is not None:
        bias = np.zeros(4 * hidden, dt) if b_hh is None else b_hh.astype(dt, copy=False)
        memory, batch_first = _c_memory(xw.astype(dt, copy=False))
        cells[0] = c0
        for t in range(steps):
            np.matmul(h if t == 0 else out[t - 1], w_t, out=acts[t])
            kernel.lstm_forward_step(t, memory, batch_first, bias, acts, cells, tanh_c, out)
        out[steps] = cells[steps]
        return out, ctx
    _lstm_loop(xw, h, c0, w_t, None if b_hh is None else b_hh.astype(dt, copy=False).reshape(4, 1, hidden),
               acts, cells, tanh_c, out)
    return out, ctx


def _c_memory(a):
    """``(memory, batch_first)``: a (T, N, G) array's C-contiguous memory, (N, T, G) when batch-first, else a
    time-major array (``a`` itself, or a copy when it is in neither layout)."""
    rows = batch_first_rows(a)
    return (rows, True) if rows is not None else (np.ascontiguousarray(a), False)


def _kernel_target(a):
    """``(result, memory, batch_first)`` for a gradient a kernel fills: ``a`` itself when its memory is
    batch-first or time-major, else the time-major array the kernel fills in its place."""
    memory, batch_first = _c_memory(a)
    return (a if batch_first else memory), memory, batch_first


def _lstm_loop(xw, h, c0, w_t, bias, acts, cells, tanh_c, out):
    """The forward recurrence in NumPy, filling acts, cells, tanh_c and out in place."""
    steps = tanh_c.shape[0]
    tmp = np.empty_like(h)
    cells[0] = c0
    with np.errstate(over="ignore"):
        for t in range(steps):
            a = np.matmul(h, w_t, out=acts[t])
            a += _gates(xw[t], 4)
            if bias is not None:
                a += bias
            i, f, g, o = a
            sigmoid_(a[:2])
            np.tanh(g, out=g)
            sigmoid_(o)
            c = np.multiply(f, cells[t], out=cells[t + 1])
            c += np.multiply(i, g, out=tmp)
            h = np.multiply(o, np.tanh(c, out=tanh_c[t]), out=out[t])
    out[steps] = cells[steps]


def _lstm_vjp(g, ctx, needs):
    h0, w, acts, cells, tanh_c, hs = (ctx[k] for k in ("h0", "w", "acts", "cells", "tanh_c", "out"))
    steps = tanh_c.shape[0]
    dx = np.empty_like(ctx["layout"], dtype=h0.dtype)   # dL/dxw, laid out in memory as xw is
    if ctx.get("kernel") is not None:
        dc, back = np.array(g[steps], dtype=h0.dtype), np.zeros_like(h0)
        dx, memory, batch_first = _kernel_target(dx)
        g, d, step = np.ascontiguousarray(g, h0.dtype), np.empty((h0.shape[0], w.shape[0]), h0.dtype), \
            ctx["kernel"].lstm_backward_step
        for t in reversed(range(steps)):
            # the NumPy loop flushes dc and back after step t's product when t % FLUSH_EVERY == 0
            step(t, g, back, acts, cells, tanh_c, dc, d, memory, batch_first, (t + 1) % FLUSH_EVERY == 0,
                 t % FLUSH_EVERY == 0)
            np.dot(d, w, out=back)
        flush_tiny(back)
        return _lstm_grads(dx, back, dc, h0, hs, steps, needs)
    d, slope = np.empty_like(acts[0]), np.empty_like(acts[0])   # this step's dL/d(pre-activations), gate-major
    dc = np.array(g[steps], dtype=h0.dtype)          # dL/dc_t, running backwards
    dh, back, tmp = np.empty_like(h0), np.zeros_like(h0), np.empty_like(h0)
    di, df, dg, do = d
    for t in reversed(range(steps)):
        i, f, gg, o = acts[t]
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
        np.multiply(acts[t], acts[t], out=slope)      # sigmoid' = s - s^2 (i, f, o), tanh' = 1 - g^2
        np.subtract(acts[t, :2], slope[:2], out=slope[:2])
        np.subtract(o, slope[3], out=slope[3])
        np.subtract(1, slope[2], out=slope[2])
        d *= slope
        np.copyto(_gates(dx[t], 4), d)
        np.dot(dx[t], w, out=back)
        if t % FLUSH_EVERY == 0:
            flush_tiny(dc, back)
    return _lstm_grads(dx, back, dc, h0, hs, steps, needs)


def _lstm_grads(dx, back, dc, h0, hs, steps, needs):
    """The op's five gradients from the loop's dL/dxw, dL/dh_0 and dL/dc_0."""
    gw = weight_grad(dx, h0, hs, steps) if needs[3] else None
    gb = dx.sum(axis=(0, 1)) if len(needs) > 4 and needs[4] else None
    return dx if needs[0] else None, back if needs[1] else None, dc if needs[2] else None, gw, gb


def _lstm_jvp(ts, ctx):
    tx, th, tc, tw, tb = (tuple(ts) + (None,) * 5)[:5]
    h0, w, acts, cells, tanh_c, hs = (ctx[k] for k in ("h0", "w", "acts", "cells", "tanh_c", "out"))
    steps, n, hidden = tanh_c.shape
    drive = tangent_drive((tx, tw, tb), h0, hs, steps, (steps, n, 4 * hidden))
    if drive is None and th is None and tc is None:
        return None
    dh = np.zeros_like(h0) if th is None else th
    dc = np.zeros_like(h0) if tc is None else tc
    out = np.empty(hs.shape, np.result_type(hs, dh, dc, *(() if drive is None else (drive,))))
    for t in range(steps):
        dp = dh @ w.T if drive is None else drive[t] + dh @ w.T
        i, f, g, o = acts[t]
        di, df, dg, do = _gates(dp, 4)
        di, df, dg, do = di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)
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
    w, w_t = _weights(w_hh, 3, dt)
    h = h0.astype(dt, copy=False)
    acts = np.empty((steps, 4, n, hidden), dt)      # r, z, n, and h's part of n before r scales it
    hs = np.empty((steps, n, hidden), dt)
    hw = np.empty((3, n, hidden), dt)
    kernel = numba_kernels() if dt == np.float32 and steps else None
    ctx = {"h0": h, "w": w, "acts": acts, "hs": hs, "layout": xw, "kernel": kernel, "attrs": {}}
    if kernel is not None:
        memory, batch_first = _c_memory(xw.astype(dt, copy=False))
        bias = np.zeros(3 * hidden, dt) if b_hh is None else b_hh.astype(dt, copy=False)
        h = np.ascontiguousarray(h)
        for t in range(steps):
            np.matmul(h, w_t, out=hw)
            kernel.gru_forward_step(t, memory, batch_first, bias, hw, h, acts, hs)
            h = hs[t]
        return hs, ctx
    bias = None if b_hh is None else b_hh.astype(dt, copy=False).reshape(3, 1, hidden)
    with np.errstate(over="ignore"):
        for t in range(steps):
            np.matmul(h, w_t, out=hw)
            if bias is not None:
                hw += bias
            x = _gates(xw[t], 3)
            r, z, cand, hw_n = acts[t]
            sigmoid_(np.add(x[:2], hw[:2], out=acts[t, :2]))
            hw_n[...] = hw[2]
            np.multiply(r, hw_n, out=cand)
            cand += x[2]
            np.tanh(cand, out=cand)
            new = np.subtract(h, cand, out=hs[t])    # h' = cand + z (h - cand)
            new *= z
            h = np.add(new, cand, out=new)
    return hs, ctx


def _gru_vjp(g, ctx, needs):
    h0, w, acts, hs = ctx["h0"], ctx["w"], ctx["acts"], ctx["hs"]
    steps = hs.shape[0]
    dx = np.empty_like(ctx["layout"], dtype=h0.dtype)   # dL/dxw, laid out in memory as xw is
    dhw = np.empty_like(dx)                              # dL/d(h @ w_hh.T + b_hh)
    if ctx.get("kernel") is not None:
        return _gru_kernel_vjp(ctx["kernel"], g, h0, w, acts, hs, dx, dhw, needs)
    d, slope = np.empty_like(acts[0, :3]), np.empty_like(acts[0, :2])   # this step's dL/dxw, gate-major
    dh, back, tmp = np.empty_like(h0), np.zeros_like(h0), np.empty_like(h0)
    for t in reversed(range(steps)):
        r, z, cand, hw_n = acts[t]
        np.add(g[t], back, out=dh)
        dn = d[2]
        np.subtract(1, z, out=tmp)
        np.multiply(dh, tmp, out=dn)
        np.multiply(cand, cand, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dn *= tmp                                    # through tanh: dL/d(n's pre-activation)
        np.multiply(dn, hw_n, out=d[0])              # dL/dr
        np.subtract(hs[t - 1] if t else h0, cand, out=tmp)
        np.multiply(dh, tmp, out=d[1])               # dL/dz
        np.multiply(acts[t, :2], acts[t, :2], out=slope)   # sigmoid' = s - s^2, for r and z at once
        np.subtract(acts[t, :2], slope, out=slope)
        d[:2] *= slope
        np.copyto(_gates(dx[t], 3), d)
        rows = _gates(dhw[t], 3)
        np.copyto(rows[:2], d[:2])
        np.multiply(dn, r, out=rows[2])
        np.multiply(dh, z, out=back)
        back += np.dot(dhw[t], w, out=tmp)
        if t % FLUSH_EVERY == 0:
            flush_tiny(back)
    return _gru_grads(dx, dhw, back, h0, hs, steps, needs)


def _gru_kernel_vjp(kernel, g, h0, w, acts, hs, dx, dhw, needs):
    """The GRU's backward loop with the Numba step (see :mod:`.recurrent_numba`)."""
    steps, shape = hs.shape[0], (h0.shape[0], w.shape[0])   # a step's (N, 3H)
    (dx, x_memory, batch_first), (dhw, hw_memory, _) = _kernel_target(dx), _kernel_target(dhw)
    g, w = np.ascontiguousarray(g, h0.dtype), np.ascontiguousarray(w)
    d, d_hw = np.empty(shape, h0.dtype), np.empty(shape, h0.dtype)
    back, tmp, h0c = np.zeros_like(h0), np.empty_like(h0), np.ascontiguousarray(h0)
    for t in reversed(range(steps)):
        kernel.gru_backward_step(t, g, back, acts, hs[t - 1] if t else h0c, d, d_hw, x_memory, hw_memory,
                                 batch_first)
        back += np.dot(d_hw, w, out=tmp)
        if t % FLUSH_EVERY == 0:
            flush_tiny(back)
    return _gru_grads(dx, dhw, back, h0, hs, steps, needs)


def _gru_grads(dx, dhw, back, h0, hs, steps, needs):
    """The op's four gradients from the loop's dL/dxw, dL/d(h @ w_hh.T + b_hh) and dL/dh_0."""
    gw = weight_grad(dhw, h0, hs, steps) if needs[2] else None
    gb = dhw.sum(axis=(0, 1)) if len(needs) > 3 and needs[3] else None
    return dx if needs[0] else None, back if needs[1] else None, gw, gb


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
    dh = np.zeros_like(h0) if th is None else th
    out = np.empty(hs.shape, np.result_type(hs, dh, *(v for v in (t_x, t_hw) if v is not None)))
    for t in range(steps):
        r, z, cand, hw_n = acts[t]
        dhw = dh @ w.T if t_hw is None else t_hw[t] + dh @ w.T
        dhw = _gates(dhw, 3)
        dx = 0 * dhw if t_x is None else _gates(t_x[t], 3)
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

"""Recurrent nets over a whole sequence as primitives: ``rnn_seq`` here, ``lstm_seq`` and ``gru_seq`` next door.

Unrolled into engine ops, T steps of an LSTM make some 15 graph nodes per
step, each paying the engine's bookkeeping in the forward and the backward
pass. These ops take the input projections of every step at once
(``xw = x @ weight_ih.T + bias_ih``, time-major (T, N, gates * H), one
``linear`` for the whole sequence) and run the recurrence in one NumPy loop;
their VJP is backpropagation through time in one more loop, with the
recurrent weight's gradient summed over all steps by one matrix product at the
end, and their JVP carries tangents forward through the same recurrence.

The step math also exists as differentiable ops (:func:`rnn_step`,
:func:`lstm_step`, :func:`gru_step`): the cells use it, and the ops' graph VJPs
(``create_graph``, second order) re-run it over the sequence and backpropagate
through it with graph VJPs.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> xw, h0, w = np.ones((3, 1, 2)), np.zeros((1, 2)), np.zeros((2, 2))
    >>> REGISTRY["rnn_seq"].forward(xw, h0, w, nonlinearity="relu")[0][:, 0]
    array([[1., 1.],
           [1., 1.],
           [1., 1.]])
"""

from __future__ import annotations

import numpy as np

from . import call, register, tangent_sum
from .elementwise import relu_values
from .kernels import numba_kernels
from .scratch import SCRATCH

__all__ = ["rnn_step", "lstm_step", "gru_step", "check_sequence", "graph_vjp", "hidden_before", "tangent_drive", "flush_tiny",
           "batch_first_rows",
           "ACTIVATIONS"]


def bias_args(b):
    """The optional bias as positional arguments: () when there is none."""
    return () if b is None else (b,)


# ------------------------------------------------------------------ one step, as differentiable ops

def rnn_step(xw, h, w_hh, b_hh=None, nonlinearity="tanh"):
    """Elman step ``act(xw + h @ w_hh.T + b_hh)`` on Tensors, Duals or arrays."""
    return call(nonlinearity, xw + call("linear", h, w_hh, *bias_args(b_hh)))


def lstm_step(xw, h, c, w_hh, b_hh=None):
    """LSTM step (PyTorch's gate order i, f, g, o): ``(h', c')``."""
    n = h.shape[-1]
    gates = xw + call("linear", h, w_hh, *bias_args(b_hh))
    i = call("sigmoid", gates[..., :n])            # input gate: how much new content to write
    f = call("sigmoid", gates[..., n:2 * n])       # forget gate: how much old cell state to keep
    g = call("tanh", gates[..., 2 * n:3 * n])      # candidate cell content
    o = call("sigmoid", gates[..., 3 * n:])        # output gate: how much of the cell to expose
    c = f * c + i * g
    return o * call("tanh", c), c


def gru_step(xw, h, w_hh, b_hh=None):
    """GRU step (PyTorch's gate order r, z, n): ``h'``."""
    n = h.shape[-1]
    hw = call("linear", h, w_hh, *bias_args(b_hh))
    r = call("sigmoid", xw[..., :n] + hw[..., :n])                # reset gate
    z = call("sigmoid", xw[..., n:2 * n] + hw[..., n:2 * n])      # update gate
    cand = call("tanh", xw[..., 2 * n:] + r * hw[..., 2 * n:])    # r scales h's term after its bias, as in torch
    return cand + z * (h - cand)                                  # = (1 - z) * cand + z * h


# ------------------------------------------------------------------ shared by the three ops

def check_sequence(name, xw, h0, w_hh, b_hh, gates, c0=None):
    """``(T, N, H)`` of a sequence op's arguments, or ValueError naming the shape that does not fit."""
    h_shape = np.shape(h0)
    if len(h_shape) != 2 or np.ndim(xw) != 3:
        raise ValueError(f"{name}: expected xw of shape (T, N, {gates}H) and h0 of shape (N, H), "
                         f"got {np.shape(xw)} and {h_shape}")
    (n, hidden), rows = h_shape, gates * h_shape[1]
    want = {"xw": (xw, (xw.shape[0], n, rows)), "w_hh": (w_hh, (rows, hidden)), "b_hh": (b_hh, (rows,)),
            "c0": (c0, (n, hidden))}
    for label, (value, shape) in want.items():
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"{name}: {label} must have shape {shape} for h0 of shape {h_shape}, "
                             f"got {np.shape(value)}")
    return xw.shape[0], n, hidden


def dtype_of(*arrays):
    return np.result_type(*[a for a in arrays if a is not None])


def sigmoid_(v):
    """v <- 1 / (1 + exp(-v)) in place (under errstate(over="ignore"): exp(1e3) = inf gives exactly 0)."""
    np.negative(v, out=v)
    np.exp(v, out=v)
    v += 1
    np.reciprocal(v, out=v)
    return v


#: Every this many steps the backward loops zero the carried gradients' entries below 2**40 times
#: the dtype's smallest normal number (1.3e-26 in float32, 2.4e-296 in float64). A gradient that
#: decays over hundreds of steps would otherwise end in subnormal floats, on which arithmetic
#: (matrix products included) runs some 100 times slower: an LSTM training step at T = 400 took
#: 2.5x as long per time step as at T = 100. This is the CPU's flush-to-zero mode applied early
#: enough that the products of the carried gradient with the gates stay normal too.
FLUSH_EVERY = 4


def flush_tiny(*arrays):
    """Zero, in place, the entries of ``arrays`` below 2**40 smallest normals in magnitude."""
    for a in arrays:
        np.putmask(a, np.abs(a) < np.finfo(a.dtype).tiny * 2.0 ** 40, 0)


def hidden_before(h0, hs, steps):
    """The hidden state entering each step, (T, N, H): h0, then the outputs of steps 0 .. T-2."""
    return np.concatenate([h0[None], hs[:steps - 1]]) if steps else hs[:0]


def tangent_drive(ts, h0, hs, steps, shape):
    """The tangent of each step's pre-activations from xw, w_hh and b_hh, ``shape``; None when none has one."""
    drive = tangent_sum(ts, lambda t: t, lambda t: hidden_before(h0, hs, steps) @ t.T, lambda t: t)
    return None if drive is None else np.broadcast_to(drive, shape)


def batch_first_rows(a):
    """A (T, N, G) array's memory as a C-contiguous (N, T, G) view when it is batch-first, else None."""
    by_row = a.transpose(1, 0, 2)
    return by_row if by_row.flags.c_contiguous and not a.flags.c_contiguous else None


def weight_grad(d, h0, hs, steps):
    """sum_t d[t].T @ h_(t-1) as one matrix product, for d (T, N, G) in either memory order."""
    if not steps:
        return np.zeros((d.shape[-1], h0.shape[-1]), d.dtype)
    by_row = batch_first_rows(d)
    if by_row is not None:   # batch-first memory: no copy of d
        prev = SCRATCH.get("rnn_hidden_before", (h0.shape[0], steps, h0.shape[1]), hs.dtype)  # a temporary
        prev[:, 0], prev[:, 1:] = h0, hs[:steps - 1].transpose(1, 0, 2)
        return by_row.reshape(-1, d.shape[-1]).T @ prev.reshape(-1, h0.shape[-1])
    gw = d[0].T @ h0
    if steps > 1:
        gw += d[1:].reshape(-1, d.shape[-1]).T @ hs[:steps - 1].reshape(-1, h0.shape[-1])
    return gw


def graph_vjp(steps_fn):
    """A ``vjp_graph`` that re-runs ``steps_fn`` (the op as differentiable ops) and backpropagates through it.

    Every input that needs a gradient first goes through its own identity reshape, so the walk
    stops there even when one value is passed as two arguments (h0 and c0).
    """

    def rule(g, ctx, needs, xs, out):
        from ..graph_backward import graph_backward  # it imports the op registry, which imports this module

        xs = [call("reshape", x, shape=tuple(x.shape)) if need else x for x, need in zip(xs, needs)]
        again = steps_fn(*xs, **ctx["attrs"])
        grads = graph_backward(again, g, wrt=[x for x, need in zip(xs, needs) if need])
        return tuple(grads[id(x)][1] if need and id(x) in grads else None for x, need in zip(xs, needs))

    return rule


# ------------------------------------------------------------------ rnn_seq

#: nonlinearity -> (in-place forward, derivative from the output).
ACTIVATIONS = {
    "tanh": (lambda a: np.tanh(a, out=a), lambda h: 1 - h * h),
    "relu": (lambda a: relu_values(a, out=a), lambda h: (h > 0).astype(h.dtype)),
}


def _rnn_steps(xw, h0, w_hh, b_hh=None, nonlinearity="tanh"):
    h, hs = h0, []
    for t in range(xw.shape[0]):
        h = rnn_step(xw[t], h, w_hh, b_hh, nonlinearity)
        hs.append(h)
    return call("stack", *hs, axis=0)


def _rnn_forward(xw, h0, w_hh, b_hh=None, nonlinearity="tanh"):
    steps, n, hidden = check_sequence("rnn_seq", xw, h0, w_hh, b_hh, 1)
    if nonlinearity not in ACTIVATIONS:
        raise ValueError(f"rnn_seq: nonlinearity must be one of {sorted(ACTIVATIONS)}, got {nonlinearity!r}")
    dt = dtype_of(xw, h0, w_hh, b_hh)
    w, h = w_hh.astype(dt, copy=False), h0.astype(dt, copy=False)
    w_t = np.ascontiguousarray(w.T)  # h @ w.T runs faster on a contiguous transpose
    pre = np.empty(xw.shape, dt)  # contiguous per step, also for a transposed (batch-first) xw
    np.add(xw, 0 if b_hh is None else b_hh, out=pre)
    hs = np.empty((steps, n, hidden), dt)
    act = ACTIVATIONS[nonlinearity][0]
    kernel = numba_kernels() if dt == np.float32 and nonlinearity == "tanh" and steps else None
    for t in range(steps):
        a = np.dot(h, w_t, out=hs[t])
        if kernel is None:
            a += pre[t]
            h = act(a)
        else:   # NumPy's float32 tanh is 4-5 ns per element; the kernel's, after the same add, about 1.4
            kernel.rnn_tanh_step(t, pre, hs)
            h = a
    return hs, {"h0": h0.astype(dt, copy=False), "w": w, "hs": hs, "kernel": kernel,
                "attrs": {"nonlinearity": nonlinearity}}


def _rnn_vjp(g, ctx, needs):
    h0, w, hs = ctx["h0"], ctx["w"], ctx["hs"]
    steps = hs.shape[0]
    slope = ACTIVATIONS[ctx["attrs"]["nonlinearity"]][1]
    d = np.empty_like(hs)
    back = np.zeros_like(h0)  # dL/dh entering the step after t
    for t in reversed(range(steps)):
        np.add(g[t], back, out=d[t])
        d[t] *= slope(hs[t])
        back = d[t] @ w
        if t % FLUSH_EVERY == 0:
            flush_tiny(back)
    gw = weight_grad(d, h0, hs, steps) if needs[2] else None
    gb = d.reshape(-1, d.shape[-1]).sum(axis=0) if len(needs) > 3 and needs[3] else None
    return d if needs[0] else None, back if needs[1] else None, gw, gb


def _rnn_jvp(ts, ctx):
    tx, th, tw, tb = (tuple(ts) + (None,) * 4)[:4]
    h0, w, hs = ctx["h0"], ctx["w"], ctx["hs"]
    steps = hs.shape[0]
    slope = ACTIVATIONS[ctx["attrs"]["nonlinearity"]][1]
    drive = tangent_drive((tx, tw, tb), h0, hs, steps, hs.shape)
    if drive is None and th is None:
        return None
    drive = np.broadcast_to(0, hs.shape) if drive is None else drive
    dh = np.zeros_like(h0) if th is None else th
    out = np.empty(hs.shape, np.result_type(hs, drive, dh))
    for t in range(steps):
        dh = out[t] = (drive[t] + dh @ w.T) * slope(hs[t])
    return out


register(
    "rnn_seq",
    _rnn_forward,
    _rnn_vjp,
    _rnn_jvp,
    doc="Elman RNN over a sequence: h_t = act(xw[t] + h_(t-1) @ w_hh.T + b_hh) for xw (T, N, H), h0 (N, H); "
    "returns every h_t, (T, N, H).",
    vjp_graph=graph_vjp(_rnn_steps),
)

from . import recurrent_gated  # noqa: E402,F401  (lstm_seq and gru_seq, built on the helpers above)

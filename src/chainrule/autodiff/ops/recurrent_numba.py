"""``lstm_seq``, ``gru_seq`` (and tanh ``rnn_seq``'s forward) in float32: each time step's element-wise part as one Numba call.

Imported only by :mod:`.kernels` when the "numba" kernels are in use (the extra
``chainrule[numba]``). The NumPy loops in :mod:`.recurrent_gated` make some 15
ufunc calls per LSTM time step (some 20 per GRU step), and NumPy's float32 ``exp`` and ``tanh`` cost 2.5-5
ns per element on an AVX2 machine: together more than the step's matrix
products. Here each step is its matrix product, left to NumPy (inside a Numba
loop, ``np.dot`` calls SciPy's BLAS, which took 1.4-1.5x as long for these
products here), and one fused pass over the gates, whose sigmoid and tanh are
written with an ``exp`` that the compiler vectorises (1.1-1.4 ns per element,
within 3 ulp of the float64 values; see :func:`sigmoid` and :func:`tanh`).

The functions fill the same arrays, in the same layouts, as the NumPy forward
and VJP, so the op's context, its JVP and its graph VJP do not depend on which
kernels ran.

Example:
    >>> x = np.array([-1e3, -2.0, 0.0, 3.0, np.nan], np.float32)
    >>> out = np.empty_like(x)
    >>> sigmoid_array(x, out)
    >>> [round(float(v), 6) for v in out[:4]], bool(np.isnan(out[4]))
    ([0.0, 0.119203, 0.5, 0.952574], True)
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp", "sigmoid", "tanh", "sigmoid_array", "tanh_array", "rnn_tanh_step", "lstm_forward_step", "lstm_backward_step", "gru_forward_step",
           "gru_backward_step"]

_ONE, _HALF, _ZERO, _TWO = np.float32(1), np.float32(0.5), np.float32(0), np.float32(2)
_LOG2E = np.float32(1.4426950408889634)
# ln 2 split in two so that k * _LN2_HI is exact for |k| < 2**9 (Cody and Waite's range reduction).
_LN2_HI, _LN2_LO = np.float32(0.693145751953125), np.float32(1.428606765330187e-06)
# exp(r) - 1 for |r| <= ln(2) / 2 as r (1 + r/2 + r^2/6 + ... + r^6/7!): the Taylor terms to r^7, whose
# remainder (|r|^8 / 8! < 5e-9) is below float32's rounding.
_TAYLOR = tuple(np.float32(1.0 / f) for f in (5040.0, 720.0, 120.0, 24.0, 6.0, 2.0))
# The clamps keep 2**k's exponent field in range. Below -87, exp is 0 to float32's precision against 1
# (its smallest normal number is exp(-87.3)). Above 88.3 every input goes to 88.8, whose k = 128 has
# the bits of inf and a remainder r > 0, so exp is inf (r < 0 would make inf - inf); the largest float32
# is exp(88.72).
_LOW, _OVER, _HIGH = np.float32(-87.0), np.float32(88.3), np.float32(88.8)
#: The backward loop zeroes carried gradients below this every FLUSH_EVERY steps, as the NumPy loop does.
_TINY = np.float32(np.finfo(np.float32).tiny * 2.0 ** 40)


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the int32 ``bits`` (a register move, which vectorises)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@njit(inline="always")
def _exp_parts(v):
    """``(s, q)`` with exp(v) = s (1 + q): s = 2**k a power of two, q = exp(r) - 1 for the remainder r."""
    v = _LOW if v < _LOW else v          # comparisons, not min/max: a NaN passes through to q
    v = _HIGH if v > _OVER else v
    k = np.floor(v * _LOG2E + _HALF)
    r = (v - k * _LN2_HI) - k * _LN2_LO
    c7, c6, c5, c4, c3, c2 = _TAYLOR
    q = ((((((c7 * r + c6) * r + c5) * r + c4) * r + c3) * r + c2) * r + _ONE) * r
    return _float_from_bits((np.int32(k) + np.int32(127)) << 23), q


@njit(inline="always")
def exp(x):
    """exp(x) for a float32 ``x``, within 2 ulp for -87 <= x < 88.3; below -87 it gives about 1.6e-38 (not a
    smaller or subnormal number) and from 88.3 up inf (float32 overflows at 88.72): for sums such as a
    softmax's, where such values are lost against the largest term."""
    s, q = _exp_parts(x)
    return s + s * q


@njit(inline="always")
def sigmoid(x):
    """1 / (1 + exp(-x)) for a float32 ``x``: exactly 0 below -88.3, 1 for large x, NaN for NaN."""
    s, q = _exp_parts(-x)
    return _ONE / (_ONE + (s + s * q))


@njit(inline="always")
def tanh(x):
    """tanh(x) for a float32 ``x`` as -m / (m + 2) with m = exp(-2|x|) - 1, which keeps small |x| exact to ulps."""
    a = x if x >= _ZERO else -x
    s, q = _exp_parts(-_TWO * a)
    m = s * q + (s - _ONE)               # exp(-2|x|) - 1 in (-1, 0]: for k = 0 it is q itself, no cancellation
    t = (_ZERO - m) / (m + _TWO)         # 0 - m: tanh(0) is +0, not -0
    return t if x >= _ZERO else -t


# error_model="numpy": a division by zero gives inf instead of a Python exception, whose check would
# keep the loops from being vectorised. fastmath "contract" alone lets a * b + c become one fused
# multiply-add (rounded once, so no less accurate): the polynomials in exp are chains of them, and an
# LSTM step's gate pass took 0.73x the time with it (16.6 against 22.7 µs, batch 32, hidden 128). The
# other fast-math flags stay off: they would let the compiler assume no NaN or inf, which these
# functions pass through.
_jit = njit(cache=True, error_model="numpy", nogil=True, fastmath={"contract"})


@_jit
def sigmoid_array(x, out):
    """out[k] = sigmoid(x[k]) for 1-d float32 arrays (used by the tests of the scalar functions)."""
    for k in range(x.size):
        out[k] = sigmoid(x[k])


@_jit
def tanh_array(x, out):
    """out[k] = tanh(x[k]) for 1-d float32 arrays."""
    for k in range(x.size):
        out[k] = tanh(x[k])


@njit(inline="always")
def _quarters(v, hidden):
    """The four gate blocks of a (4H,) row."""
    return v[:hidden], v[hidden:2 * hidden], v[2 * hidden:3 * hidden], v[3 * hidden:]


@_jit
def rnn_tanh_step(t, pre, hs):
    """Step t of a tanh RNN after its matrix product: hs[t] <- tanh(hs[t] + pre[t]), in place.

    hs (T, N, H) holds h_(t-1) @ w_hh.T in row t on entry; pre (T, N, H) is xw + b_hh, C-contiguous.
    """
    for row in range(hs.shape[1]):
        a, p = hs[t, row], pre[t, row]
        for j in range(a.size):
            a[j] = tanh(a[j] + p[j])


@_jit
def lstm_forward_step(t, xw, batch_first, bias, acts, cells, tanh_c, out):
    """Step t of the LSTM forward after its matrix product: gates, cell and hidden state, in place.

    acts[t] (4, N, H) holds h_(t-1) @ w_hh.T gate by gate on entry, and i, f, g, o after their
    nonlinearities on return; cells[t + 1], tanh_c[t] and out[t] are written. xw is C-contiguous,
    (N, T, 4H) when ``batch_first`` else (T, N, 4H); bias (4H,); cells (T + 1, N, H); tanh_c (T, N, H);
    out (T + 1, N, H).
    """
    n, hidden = tanh_c.shape[1], tanh_c.shape[2]
    bi, bf, bg, bo = _quarters(bias, hidden)
    for row in range(n):
        # 1-d C-contiguous rows indexed by j alone, so that the loop over j is vectorised (an index such as
        # hidden + j could be negative as far as the compiler knows, and its wrap-around check stops that)
        xi, xf, xg, xo = _quarters(xw[row, t] if batch_first else xw[t, row], hidden)
        ai, af, ag, ao = acts[t, 0, row], acts[t, 1, row], acts[t, 2, row], acts[t, 3, row]
        c_old, c_new, tc_row, h_row = cells[t, row], cells[t + 1, row], tanh_c[t, row], out[t, row]
        for j in range(hidden):
            i = sigmoid(ai[j] + xi[j] + bi[j])
            f = sigmoid(af[j] + xf[j] + bf[j])
            g = tanh(ag[j] + xg[j] + bg[j])
            o = sigmoid(ao[j] + xo[j] + bo[j])
            c = f * c_old[j] + i * g
            tc = tanh(c)
            ai[j], af[j], ag[j], ao[j] = i, f, g, o
            c_new[j], tc_row[j], h_row[j] = c, tc, o * tc


@_jit
def _flush(a):
    """Zero the entries of a 2-d C-contiguous array below ``_TINY`` in magnitude (see FLUSH_EVERY)."""
    for row in range(a.shape[0]):
        r = a[row]
        for j in range(r.size):
            r[j] = _ZERO if abs(r[j]) < _TINY else r[j]


@_jit
def lstm_backward_step(t, g, back, acts, cells, tanh_c, dc, d, dx, batch_first, flush_back, flush_dc):
    """Step t of backprop through the LSTM, before the product with w_hh: dL/d(pre-activations) into d and dx[t].

    ``back`` (N, H) is dL/dh_t from the later steps (zeros for the last), flushed first when
    ``flush_back``; ``dc`` (N, H) is dL/dc_(t+1) on entry and dL/dc_t on return, flushed last when
    ``flush_dc``. d (N, 4H) is C-contiguous; dx is C-contiguous, (N, T, 4H) when ``batch_first`` else
    (T, N, 4H); g is (T + 1, N, H).
    """
    n, hidden = tanh_c.shape[1], tanh_c.shape[2]
    if flush_back:
        _flush(back)
    for row in range(n):
        ai, af, ag, ao = acts[t, 0, row], acts[t, 1, row], acts[t, 2, row], acts[t, 3, row]
        tc_row, c_old, g_row, b_row, dc_row = tanh_c[t, row], cells[t, row], g[t, row], back[row], dc[row]
        di, df, dg, do = _quarters(d[row], hidden)
        for j in range(hidden):
            i, f, gg, o, tc = ai[j], af[j], ag[j], ao[j], tc_row[j]
            dh = g_row[j] + b_row[j]
            dcv = dc_row[j] + dh * o * (_ONE - tc * tc)
            dc_row[j] = dcv * f
            di[j] = dcv * gg * (i - i * i)
            df[j] = dcv * c_old[j] * (f - f * f)
            dg[j] = dcv * i * (_ONE - gg * gg)
            do[j] = dh * tc * (o - o * o)
        dest = dx[row, t] if batch_first else dx[t, row]
        dest[:] = d[row]
    if flush_dc:
        _flush(dc)


@_jit
def gru_forward_step(t, xw, batch_first, bias, hw, h_prev, acts, hs):
    """Step t of the GRU forward after its matrix product: gates and hidden state, in place.

    hw (3, N, H) holds h_(t-1) @ w_hh.T gate by gate, h_prev (N, H) is h_(t-1); acts[t] (4, N, H)
    gets r, z, n and h's part of n before r scales it (hw's last block plus its bias); hs[t] gets
    h_t = n + z (h_(t-1) - n). xw is C-contiguous, (N, T, 3H) when ``batch_first`` else (T, N, 3H).
    """
    n, hidden = hs.shape[1], hs.shape[2]
    br, bz, bn = bias[:hidden], bias[hidden:2 * hidden], bias[2 * hidden:]
    for row in range(n):
        x = xw[row, t] if batch_first else xw[t, row]
        xr, xz, xn = x[:hidden], x[hidden:2 * hidden], x[2 * hidden:]
        hr, hz, hn = hw[0, row], hw[1, row], hw[2, row]
        ar, az, an, ah = acts[t, 0, row], acts[t, 1, row], acts[t, 2, row], acts[t, 3, row]
        old, new = h_prev[row], hs[t, row]
        for j in range(hidden):
            r = sigmoid(xr[j] + hr[j] + br[j])
            z = sigmoid(xz[j] + hz[j] + bz[j])
            h_n = hn[j] + bn[j]
            cand = tanh(xn[j] + r * h_n)
            ar[j], az[j], an[j], ah[j] = r, z, cand, h_n
            new[j] = cand + z * (old[j] - cand)


@_jit
def gru_backward_step(t, g, back, acts, h_prev, d, dhw_row, dx, dhw, batch_first):
    """Step t of backprop through the GRU, before the product with w_hh.

    ``back`` (N, H) enters as dL/dh_t from the later steps and leaves as z * dL/dh_t, the part that
    skips the gates (the caller adds the product of ``dhw_row`` with w_hh). d (N, 3H) gets dL/dxw[t]
    and dhw_row (N, 3H) dL/d(h @ w_hh.T + b_hh)[t], both C-contiguous, and both are copied into dx and
    dhw: C-contiguous, (N, T, 3H) when ``batch_first`` else (T, N, 3H). h_prev (N, H) is h_(t-1).
    """
    n, hidden = back.shape
    for row in range(n):
        ar, az, an, ah = acts[t, 0, row], acts[t, 1, row], acts[t, 2, row], acts[t, 3, row]
        g_row, b_row, old = g[t, row], back[row], h_prev[row]
        d_r, d_z, d_n = d[row, :hidden], d[row, hidden:2 * hidden], d[row, 2 * hidden:]
        w_r, w_z, w_n = dhw_row[row, :hidden], dhw_row[row, hidden:2 * hidden], dhw_row[row, 2 * hidden:]
        for j in range(hidden):
            r, z, cand = ar[j], az[j], an[j]
            dh = g_row[j] + b_row[j]
            dn = dh * (_ONE - z) * (_ONE - cand * cand)
            dr = dn * ah[j] * (r - r * r)
            dz = dh * (old[j] - cand) * (z - z * z)
            d_r[j], d_z[j], d_n[j] = dr, dz, dn
            w_r[j], w_z[j], w_n[j] = dr, dz, dn * r
            b_row[j] = dh * z
        (dx[row, t] if batch_first else dx[t, row])[:] = d[row]
        (dhw[row, t] if batch_first else dhw[t, row])[:] = dhw_row[row]

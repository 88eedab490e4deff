"""The Numba kernels of lstm_seq and gru_seq: the same numbers as NumPy's loops, the choice of kernels, and its errors."""

import contextlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.autodiff.ops import REGISTRY, kernels
from chainrule.autodiff.ops.recurrent import FLUSH_EVERY

LSTM = REGISTRY["lstm_seq"]
GATES = {"lstm_seq": 4, "gru_seq": 3, "rnn_seq": 1}


@pytest.fixture
def numba_module():
    pytest.importorskip("numba", reason="the Numba kernels need the optional extra chainrule[numba]")
    from chainrule.autodiff.ops import recurrent_numba
    return recurrent_numba


@contextlib.contextmanager
def _using(choice):
    """``cr.set_kernels(choice)`` inside the block, the previous choice restored after it."""
    previous = cr.set_kernels(choice)
    try:
        yield
    finally:
        cr.set_kernels(previous)


def _ulps(got, want):
    """|got - want| in float32 ulps of want, over the results that are normal float32 numbers."""
    want32 = want.astype(np.float32)
    normal = np.abs(want32) >= np.finfo(np.float32).tiny
    return np.abs(got[normal] - want[normal]) / np.spacing(np.abs(want32[normal]))


_GRID = np.concatenate([np.random.default_rng(0).standard_normal(20_000) * 6, np.linspace(-95, 95, 38_001),
                        np.geomspace(1e-30, 95, 3_000), -np.geomspace(1e-30, 95, 3_000)]).astype(np.float32)


@pytest.mark.parametrize("name, reference", [("sigmoid", lambda v: 1 / (1 + np.exp(-v))), ("tanh", np.tanh)])
def test_numba_sigmoid_and_tanh_are_within_three_ulps(numba_module, name, reference):
    out = np.empty_like(_GRID)
    getattr(numba_module, name + "_array")(_GRID, out)
    with np.errstate(over="ignore"):
        want = reference(_GRID.astype(np.float64))
    assert _ulps(out, want).max() <= 3
    # results below float32's normal range (sigmoid below -87.3) are 0 or a subnormal below 2e-38
    assert np.abs(out[np.abs(want) < np.finfo(np.float32).tiny]).max(initial=0) < 2e-38


def test_numba_sigmoid_and_tanh_at_the_edges(numba_module):
    x = np.array([0, 1e3, -1e3, np.inf, -np.inf, np.nan, 88.5, -88.5, 1e-30], np.float32)
    s, t = np.empty_like(x), np.empty_like(x)
    numba_module.sigmoid_array(x, s)
    numba_module.tanh_array(x, t)
    np.testing.assert_array_equal(s[:5], [0.5, 1, 0, 1, 0])
    np.testing.assert_array_equal(t[:5], [0, 1, -1, 1, -1])
    assert np.signbit(t[0]) == np.False_ and np.isnan(s[5]) and np.isnan(t[5])
    assert s[6] == 1 and s[7] < 1e-38 and t[6] == 1 and t[7] == -1
    assert t[8] == np.float32(1e-30)          # tanh(x) = x for tiny x, with no cancellation


def _lstm_case(layout, bias, steps, rng, forget_bias=0.0, op="lstm_seq"):
    """Arguments of ``op`` (float32, xw in the given memory layout) and an upstream gradient."""
    n, hidden, gates = 3, 8, GATES[op]
    if layout == "batch-first":     # the memory a layer's input projection produces
        xw = rng.standard_normal((n, steps, gates * hidden)).astype(np.float32).transpose(1, 0, 2)
    elif layout == "time-major":
        xw = rng.standard_normal((steps, n, gates * hidden)).astype(np.float32)
    else:                           # neither: every other column of a wider array
        xw = rng.standard_normal((steps, n, 2 * gates * hidden)).astype(np.float32)[:, :, ::2]
    xw[..., hidden:2 * hidden] += forget_bias
    h0, c0 = (rng.standard_normal((n, hidden)).astype(np.float32) for _ in range(2))
    w = (0.4 * rng.standard_normal((gates * hidden, hidden))).astype(np.float32)
    state = (h0, c0) if op == "lstm_seq" else (h0,)
    args = (xw, *state, w) + ((rng.standard_normal(gates * hidden).astype(np.float32),) if bias else ())
    g = rng.standard_normal((steps + (op == "lstm_seq"), n, hidden)).astype(np.float32)
    return args, g


def _run(choice, args, g, op="lstm_seq"):
    with _using(choice):
        out, ctx = REGISTRY[op].forward(*args)
        grads = REGISTRY[op].vjp(g, ctx, (True,) * len(args))
        tangent = REGISTRY[op].jvp([np.ones_like(a) for a in args], ctx)
        return out, grads, tangent, ctx["kernel"]


@pytest.mark.parametrize("op", ["lstm_seq", "gru_seq", "rnn_seq"])
@pytest.mark.parametrize("layout", ["batch-first", "time-major", "strided"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("steps", [1, 9])
def test_numba_kernels_give_numpys_values_gradients_and_tangents(numba_module, op, layout, bias, steps):
    args, g = _lstm_case(layout, bias, steps, np.random.default_rng(steps), op=op)
    out_np, grads_np, tan_np, k_np = _run("numpy", args, g, op)
    out_nb, grads_nb, tan_nb, k_nb = _run("numba", args, g, op)
    assert k_np is None and k_nb is numba_module
    np.testing.assert_allclose(out_nb, out_np, rtol=1e-5, atol=1e-6)
    assert len(grads_nb) == len(grads_np) and all(v is None for v in grads_nb[len(args):])
    for got, want in zip(grads_nb[:len(args)], grads_np):
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tan_nb, tan_np, rtol=1e-5, atol=1e-5)


def test_lstm_seq_numba_kernels_flush_decaying_gradients_as_numpys_loops_do(numba_module):
    # A forget gate near 0 (pre-activation about -12) and small recurrent weights shrink dL/dc and
    # dL/dh by 1e-5 or more per step: without the flush they would reach the subnormal range.
    args, g = _lstm_case("batch-first", True, 4 * FLUSH_EVERY + 3, np.random.default_rng(5), forget_bias=-12.0)
    args = args[:3] + (args[3] * 1e-4,) + args[4:]
    g[:-2] = 0
    _, grads_np, _, _ = _run("numpy", args, g)
    _, grads_nb, _, _ = _run("numba", args, g)
    dx_np, dx_nb = grads_np[0], grads_nb[0]
    assert (dx_np[:4] == 0).all() and (dx_nb[:4] == 0).all()     # flushed, not subnormal
    np.testing.assert_allclose(dx_nb, dx_np, rtol=1e-5, atol=1e-5 * np.abs(dx_np).max())


@pytest.mark.parametrize("op", ["lstm_seq", "gru_seq", "rnn_seq"])
def test_float64_and_empty_sequences_run_numpys_loops_whatever_the_choice(numba_module, op):
    with _using("numba"):
        args, _ = _lstm_case("time-major", True, 3, np.random.default_rng(1), op=op)
        assert REGISTRY[op].forward(*(a.astype(np.float64) for a in args))[1]["kernel"] is None
        empty = (args[0][:0],) + args[1:]
        out, ctx = REGISTRY[op].forward(*empty)
        assert ctx["kernel"] is None and out.shape == ((1, 3, 8) if op == "lstm_seq" else (0, 3, 8))
        relu = REGISTRY["rnn_seq"].forward(*_lstm_case("time-major", True, 3, np.random.default_rng(1), op="rnn_seq")[0],
                                           nonlinearity="relu")
        assert relu[1]["kernel"] is None     # only tanh has a kernel


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_a_recurrent_layer_trains_the_same_with_either_kernels(numba_module, kind):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 12, 4)).astype(np.float32), rng.integers(0, 3, 16)
    weights = {}
    for choice in ("numpy", "numba"):
        with _using(choice):
            model = cr.nn.Sequential(getattr(cr.nn, kind)(4, 6, seed=0, return_sequences=False),
                                     cr.nn.Linear(6, 3, seed=1))
            cr.fit(model, "cross_entropy", ("adam", 0.05), (x, y), epochs=3, batch_size=4, shuffle=False,
                   verbose=0)
            weights[choice] = [p.data.copy() for p in model.parameters()]
    for a, b in zip(weights["numpy"], weights["numba"]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_set_kernels_returns_the_previous_choice_and_checks_the_name():
    with _using("numpy"):
        assert cr.get_kernels() == "numpy" and kernels.numba_kernels() is None
        assert cr.set_kernels("auto") == "numpy"
        with pytest.raises(ValueError, match="unknown kernels 'gpu'; expected one of: auto, numba, numpy"):
            cr.set_kernels("gpu")
        with pytest.raises(TypeError, match="set_kernels: expected a name .* got int"):
            cr.set_kernels(1)
        assert cr.get_kernels() == "auto"


def test_kernels_without_numba(monkeypatch):
    monkeypatch.setattr(kernels.importlib.util, "find_spec", lambda name: None)
    with _using("auto"):
        assert kernels.numba_kernels() is None         # auto: NumPy's loops
        cr.set_kernels("numba")
        with pytest.raises(ValueError, match=r"kernels 'numba' need numba, which is not installed: "
                                             r"pip install 'chainrule\[numba\]'"):
            LSTM.forward(*_lstm_case("time-major", False, 2, np.random.default_rng(0))[0])


def test_a_bad_environment_choice_is_named_at_the_first_use(monkeypatch):
    previous = cr.set_kernels("auto")
    monkeypatch.setitem(kernels._state, "choice", "fast")
    try:
        with pytest.raises(ValueError, match="CHAINRULE_KERNELS='fast' is not a kernel choice; "
                                             "expected one of: auto, numba, numpy"):
            kernels.numba_kernels()
    finally:
        monkeypatch.undo()
        cr.set_kernels(previous)


def test_auto_falls_back_to_numpys_loops_with_a_warning_when_numba_cannot_be_imported(monkeypatch):
    def broken():
        raise ImportError("numba needs NumPy <= 1.0")

    monkeypatch.setattr(kernels.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(kernels, "_numba", broken)
    with _using("auto"):
        with pytest.warns(UserWarning, match=r"numba is installed but cannot be imported \(numba needs NumPy <= 1.0\); "
                                             "running NumPy's loops"):
            out, ctx = LSTM.forward(*_lstm_case("time-major", False, 2, np.random.default_rng(0))[0])
        assert ctx["kernel"] is None and np.isfinite(out).all()


def test_numba_exp_is_within_two_ulps_where_it_is_exact(numba_module):
    numba = pytest.importorskip("numba")

    @numba.njit(error_model="numpy")
    def exp_array(x, out):
        for k in range(x.size):
            out[k] = numba_module.exp(x[k])

    x = np.concatenate([np.linspace(-87, 88.29, 100_001), [-1e3, 1e3, np.nan]]).astype(np.float32)
    out = np.empty_like(x)
    exp_array(x, out)
    assert _ulps(out[:-3], np.exp(x[:-3].astype(np.float64))).max() <= 2
    assert 0 < out[-3] < 2e-38 and out[-2] == np.inf and np.isnan(out[-1])


def test_numba_kernels_flush_the_carried_cell_gradient_where_numpys_loop_does(numba_module):
    # dL/dc_T = 1 shrinks by the forget gate (sigmoid(-10) ~ 4.5e-5) per step: after 7 steps about 4e-31,
    # below the flush threshold (~1.3e-26) but still a normal float32, so only the flush at step 0 zeroes it.
    args, g = _lstm_case("batch-first", False, 7, np.random.default_rng(9), forget_bias=-10.0)
    args = args[:3] + (args[3] * 1e-4,)
    g[:-1], g[-1] = 0, 1
    flushed = [_run(choice, args, g)[1][2] for choice in ("numpy", "numba")]
    assert (flushed[0] == 0).all() and (flushed[1] == 0).all()

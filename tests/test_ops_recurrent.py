"""The whole-sequence recurrent ops against torch.nn.RNN / LSTM / GRU, and the backends that replay them.

Values, the VJP for every input (projections, initial states, recurrent weight
and bias) and the JVP are compared with PyTorch float64 (tests/recurrent_torch.py
has the torch twin); the compiled numpy and jax backends must give the eager
numbers; bad shapes are named in one sentence.
"""

import numpy as np
import pytest
from recurrent_torch import torch_seq

import chainrule as cr
from chainrule import nn, optim
from chainrule.autodiff.ops import call

CASES = [("rnn_seq", 1, True, {"nonlinearity": "tanh"}), ("rnn_seq", 1, False, {"nonlinearity": "relu"}),
         ("lstm_seq", 4, True, {}), ("lstm_seq", 4, False, {}), ("gru_seq", 3, True, {}), ("gru_seq", 3, False, {})]
IDS = [f"{op}-{'bias' if bias else 'nobias'}-{attrs.get('nonlinearity', '')}" for op, _, bias, attrs in CASES]


def _args(op, gates, bias, steps=6, n=3, hidden=4, seed=0):
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((steps, n, gates * hidden)), 0.5 * rng.standard_normal((n, hidden))]
    if op == "lstm_seq":
        args.append(0.5 * rng.standard_normal((n, hidden)))
    args.append(rng.standard_normal((gates * hidden, hidden)) / np.sqrt(hidden))
    return args + ([0.3 * rng.standard_normal(gates * hidden)] if bias else [])


@pytest.mark.torch
@pytest.mark.parametrize("op, gates, bias, attrs", CASES, ids=IDS)
def test_values_vjps_and_jvps_match_torch(op, gates, bias, attrs):
    torch = pytest.importorskip("torch")
    args = _args(op, gates, bias)
    xs = [cr.tensor(a, requires_grad=True, dtype=np.float64) for a in args]
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    out, out_t = call(op, *xs, **attrs), torch_seq(torch, op, *ts, **attrs)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    cot = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(cot)
    grads_t = torch.autograd.grad(out_t, ts, torch.tensor(cot))
    for k, (x, g) in enumerate(zip(xs, grads_t)):
        np.testing.assert_allclose(x.grad, g.numpy(), rtol=1e-11, atol=1e-12, err_msg=f"argument {k}")
    tangents = [np.random.default_rng(2 + k).standard_normal(a.shape) for k, a in enumerate(args)]
    _, jt = cr.jvp(lambda *a: call(op, *a, **attrs), tuple(args), tuple(tangents))
    _, jt_t = torch.func.jvp(lambda *a: torch_seq(torch, op, *a, **attrs), tuple(torch.tensor(a) for a in args),
                             tuple(torch.tensor(t) for t in tangents))
    np.testing.assert_allclose(jt, jt_t.numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("op, gates, bias, attrs", CASES[::2], ids=IDS[::2])
def test_float32_stays_float32_and_matches_float64(op, gates, bias, attrs):
    args = _args(op, gates, bias)
    xs = [cr.tensor(a.astype(np.float32), requires_grad=True) for a in args]
    out = call(op, *xs, **attrs)
    out.sum().backward()
    assert out.dtype == np.float32 and all(x.grad.dtype == np.float32 for x in xs)
    np.testing.assert_allclose(out.data, call(op, *args, **attrs), rtol=1e-5, atol=1e-5)


def test_a_constant_state_gets_no_gradient_and_a_jvp_of_the_weights_alone():
    xw, h0, c0, w = _args("lstm_seq", 4, False)
    wt = cr.tensor(w, requires_grad=True, dtype=np.float64)
    call("lstm_seq", xw, h0, c0, wt).sum().backward()   # only the weight needs a gradient
    eps, t = 1e-6, np.random.default_rng(3).standard_normal(w.shape)
    numeric = (call("lstm_seq", xw, h0, c0, w + eps * t) - call("lstm_seq", xw, h0, c0, w - eps * t)) / (2 * eps)
    np.testing.assert_allclose(np.sum(wt.grad * t), numeric.sum(), rtol=1e-7)
    _, jt = cr.jvp(lambda v: call("lstm_seq", xw, h0, c0, v), (w,), (t,))
    np.testing.assert_allclose(jt, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("op, gates, bias, attrs", CASES[::2], ids=IDS[::2])
def test_hessian_vector_products_agree_in_both_modes_with_finite_differences(op, gates, bias, attrs):
    """The graph VJP (re-running the step math) runs on Tensors and on recording Duals alike."""
    *rest, w = _args(op, gates, False, steps=3, n=2, hidden=2)

    def f(v):
        return (call(op, *rest, v, **attrs) ** 2).sum()

    v, eps = np.random.default_rng(4).standard_normal(w.shape), 1e-6
    numeric = (cr.grad(f)(w + eps * v) - cr.grad(f)(w - eps * v)) / (2 * eps)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(cr.hvp(f, w, v, mode=mode), numeric, rtol=1e-6, atol=1e-8, err_msg=mode)


@pytest.mark.parametrize("op, gates", [("rnn_seq", 1), ("lstm_seq", 4), ("gru_seq", 3)])
def test_gradients_decaying_over_a_long_sequence_never_become_subnormal(op, gates):
    """Subnormal floats make arithmetic ~100x slower; the backward loops flush them (and only them, nearly)."""
    args = _args(op, gates, True, steps=300, n=2, hidden=3)
    args[0] *= 3.0                                         # saturated gates: the gradient decays quickly
    grads = {}
    for dtype in (np.float32, np.float64):
        xs = [cr.tensor(a.astype(dtype), requires_grad=True) for a in args]
        out = call(op, *xs)
        out.backward(np.eye(out.shape[0], 1, -out.shape[0] + 1)[:, :, None] * np.ones(out.shape, dtype))
        grads[dtype] = [x.grad for x in xs]
    tiny = np.finfo(np.float32).tiny
    for g32, g64 in zip(grads[np.float32], grads[np.float64]):
        assert not np.any((g32 != 0) & (np.abs(g32) < tiny))
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-6)
    assert np.abs(grads[np.float64][0][0]).max() < 1e-38   # the gradient did decay past float32's normal range


@pytest.mark.parametrize("args, message", [
    ((np.zeros((3, 2, 8)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((8, 3))),
     r"lstm_seq: w_hh must have shape \(8, 2\) for h0 of shape \(2, 2\), got \(8, 3\)"),
    ((np.zeros((3, 2, 7)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((8, 2))),
     r"lstm_seq: xw must have shape \(3, 2, 8\) for h0 of shape \(2, 2\), got \(3, 2, 7\)"),
    ((np.zeros((3, 2, 8)), np.zeros(2), np.zeros((2, 2)), np.zeros((8, 2))),
     r"lstm_seq: expected xw of shape \(T, N, 4H\) and h0 of shape \(N, H\), got \(3, 2, 8\) and \(2,\)"),
])
def test_bad_shapes_are_named(args, message):
    with pytest.raises(ValueError, match=message):
        call("lstm_seq", *args)


def test_sequence_layers_are_one_op_per_sequence():
    x = cr.randn(2, 9, 3, seed=0)
    for layer, op in [(nn.LSTM(3, 4, seed=0), "lstm_seq"), (nn.GRU(3, 4, seed=0), "gru_seq"), (nn.RNN(3, 4, seed=0), "rnn_seq")]:
        seen, stack = [], [layer(x)]
        while stack:
            t = stack.pop()
            if t._node is not None:
                seen.append(t.op)
                stack.extend(i for i in t._node.inputs if isinstance(i, cr.Tensor))
        assert seen.count(op) == 1 and len(seen) < 10, seen


# ------------------------------------------------------------------ compiled backends

class _Head(nn.Module):
    def __init__(self, layer, hidden, dtype):
        super().__init__()
        self.rnn, self.head = layer, nn.Linear(hidden, 3, seed=1, dtype=dtype)

    def forward(self, x):
        out = self.rnn(x)
        return self.head(out if out.ndim == 2 else out.mean(axis=1))


MODELS = {
    "gru": lambda dt: _Head(nn.GRU(3, 5, seed=0, dtype=dt, return_sequences=False), 5, dt),
    "rnn-relu-sequences": lambda dt: _Head(nn.RNN(3, 5, nonlinearity="relu", seed=0, dtype=dt), 5, dt),
    "lstm-2-layers-bidirectional": lambda dt: _Head(nn.LSTM(3, 4, num_layers=2, bidirectional=True, seed=0, dtype=dt),
                                                    8, dt),
}


def _step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _batches(dtype, n=4):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((6, 7, 3)).astype(dtype), rng.integers(0, 3, 6)) for _ in range(n)]


@pytest.mark.parametrize("name", MODELS)
def test_compiled_numpy_steps_equal_eager_ones_float64(name):
    models = [MODELS[name]("float64") for _ in range(2)]
    steps = [_step(m, optim.Adam(m.parameters(), lr=0.01)) for m in models]
    compiled = cr.compile(steps[1], model=models[1])
    for x, y in _batches("float64"):
        np.testing.assert_allclose(float(compiled(x, y)), float(steps[0](x, y)), rtol=1e-12)
    assert compiled.stats["replays"] >= 2
    for (label, a), b in zip(models[0].named_parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-12, err_msg=label)
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-12, atol=1e-12, err_msg=label)


@pytest.mark.parametrize("name", ["lstm", "rnn-relu-sequences"])  # jit compiles take seconds: two suffice
def test_jax_backend_lowers_the_recurrent_ops(name):
    pytest.importorskip("jax", reason="the jax backend needs the optional extra chainrule[jax]")
    build = MODELS.get(name, lambda dt: _Head(nn.LSTM(3, 5, seed=0, dtype=dt, return_sequences=False), 5, dt))
    models = [build("float32") for _ in range(2)]
    steps = [_step(m, optim.SGD(m.parameters(), lr=0.1, momentum=0.9)) for m in models]
    compiled = cr.compile(steps[1], backend="jax")
    for x, y in _batches("float32", 3):
        np.testing.assert_allclose(float(compiled(x, y)), float(steps[0](x, y)), rtol=1e-5)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)

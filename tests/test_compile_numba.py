"""cr.compile(backend="numba"): one generated njit call per step gives the eager numbers, and says what it cannot lower."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.autodiff import compile_numba
from test_compile import TOL, _data, _epoch, _train_step, check_compiled_epochs

pytest.importorskip("numba", reason="the numba backend needs the optional extra chainrule[numba]")

F = nn.functional


def _net(dtype):
    """Every op the backend lowers: linear with and without bias, relu, tanh, sigmoid, softmax cross-entropy."""
    return nn.Sequential(nn.Linear(6, 16, seed=0, dtype=dtype), nn.ReLU(), nn.Linear(16, 12, seed=1, dtype=dtype),
                         nn.Tanh(), nn.Linear(12, 8, bias=False, seed=2, dtype=dtype), nn.Sigmoid(),
                         nn.Linear(8, 4, seed=3, dtype=dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opt_name", ["sgd-momentum", "adam"])
def test_three_compiled_epochs_equal_the_eager_ones(opt_name, dtype):
    check_compiled_epochs(lambda dt: (_net(dt), (6,)), opt_name, dtype, backend="numba", epochs=3, scale_row=3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_plain_sgd_updates_inside_the_kernel_as_its_own_step_would(dtype, monkeypatch):
    """w <- w - g * lr runs in the generated function; a new lr is read at every call, and weight decay
    switched on later sends the step back to the optimiser."""
    models = [_net(dtype), _net(dtype)]
    opts = [optim.SGD(m.parameters(), lr=0.1) for m in models]
    eager, compiled = _train_step(models[0], opts[0]), cr.compile(_train_step(models[1], opts[1]), backend="numba")
    X, Y = _data((6,), dtype)
    for _ in range(2):  # recordings of both batch shapes
        _epoch(eager, X, Y), _epoch(compiled, X, Y)
    stepped = []
    monkeypatch.setattr(opts[1], "step", lambda: stepped.append(1) or optim.SGD.step(opts[1]))
    for lr, decay in ((0.1, 0.0), (0.03, 0.0), (0.03, 1e-3)):
        for o in opts:
            o.lr, o.weight_decay = lr, decay
        eager_losses, comp_losses = _epoch(eager, X, Y), _epoch(compiled, X, Y)
        assert len(stepped) == (4 if decay else 0)  # 4 batches an epoch
        np.testing.assert_allclose(comp_losses, eager_losses, rtol=TOL[dtype], atol=TOL[dtype])
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=TOL[dtype], atol=TOL[dtype])
    assert [st["step"] for st in opts[1].state] == [st["step"] for st in opts[0].state] == [20] * 7


def test_fit_with_the_numba_backend_gives_the_eager_weights_and_history():
    X, Y = _data((6,), "float32", n=90)
    runs = []
    for compile_ in (False, "numba"):
        model = _net("float32")
        h = cr.fit(model, "cross_entropy", ("adam", 0.01), (X, Y), epochs=3, batch_size=20, seed=1, verbose=0,
                   metrics=["accuracy"], compile=compile_)
        runs.append((model, h))
    (m1, h1), (m2, h2) = runs
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-5)
    assert h2["accuracy"] == h1["accuracy"]
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)


def test_a_regression_fit_with_mean_squared_error_gives_the_eager_weights():
    X, _ = _data((6,), "float64", n=70)
    Y = np.sin(X[:, :2])
    runs = []
    for compile_ in (False, "numba"):
        model = nn.Sequential(nn.Linear(6, 16, seed=0, dtype="float64"), nn.Tanh(), nn.Linear(16, 2, seed=1, dtype="float64"))
        h = cr.fit(model, "mse", ("adam", 0.01), (X, Y), epochs=3, batch_size=16, seed=2, verbose=0, compile=compile_)
        runs.append((model, h))
    (m1, h1), (m2, h2) = runs
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-12)
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-14)


def test_elementwise_ops_and_totals_differentiate_as_eager():
    """add, sub, mul (a slot used twice), sum and mean, with gradients reaching every captured tensor."""
    rng = np.random.default_rng(0)
    a, b = (cr.tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype="float64") for _ in range(2))

    def step(x):
        a.zero_grad(), b.zero_grad()
        d = a * x - b
        loss = (d * d).mean() + ((a + b) * d).sum()
        loss.backward()
        return loss

    fast = cr.compile(step, backend="numba")
    x = rng.standard_normal((3, 4))
    for _ in range(3):
        out = fast(x)
    got = [out, a.grad.copy(), b.grad.copy()]
    want = [step(x).data, a.grad, b.grad]
    assert fast.stats["replays"] == 1
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_gradients_follow_eager_rules_without_zero_grad():
    """Without zero_grad the replayed gradients add up, .grad never aliases a buffer the next call overwrites,
    and backward's own seed scales them."""
    runs = []
    for backend in (None, "numba"):
        model = nn.Sequential(nn.Linear(6, 4, seed=0, dtype="float64"))

        def step(x, y, model=model):  # a seed other than 1 reaches every gradient
            F.cross_entropy(model(x), y, reduction="sum").backward(np.array(0.5))

        step = cr.compile(step, backend=backend) if backend else step
        X, Y = _data((6,), "float64", n=8)
        for _ in range(5):
            step(X, Y)
        runs.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_no_grad_inference_is_compiled_too():
    model = _net("float64")
    model.eval()

    def predict(x):
        with cr.no_grad():
            return model(x)

    fast = cr.compile(predict, backend="numba")
    X, _ = _data((6,), "float64", n=10)
    for _ in range(3):
        out = fast(X)
    assert fast.stats["replays"] == 1
    np.testing.assert_allclose(out, model(X).data, rtol=1e-12)


def test_one_compilation_serves_every_batch_size():
    model = _net("float32")
    step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.1)), backend="numba")
    X, Y = _data((6,), "float32", n=50)
    for _ in range(3):
        step.epoch(X, Y, 16)  # batches of 16 and a last one of 2: two tapes of the same ops
    sources = {s.replay.source for s in step._slots.values() if s.replay is not None}
    assert len(step._slots) == 2 and len(sources) == 1 and next(iter(sources)) in compile_numba._COMPILED


def test_a_bad_label_gets_the_eager_sentence():
    model = _net("float32")
    step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.1)), backend="numba")
    X, Y = _data((6,), "float32", n=8)
    for _ in range(3):
        step(X, Y)
    with pytest.raises(ValueError, match="label 7 is out of range for 4 classes"):
        step(X, np.where(np.arange(8) == 5, 7, Y))


def test_what_it_cannot_lower_is_refused_in_one_sentence():
    model = nn.Sequential(nn.Linear(6, 4, seed=0), nn.Dropout(0.5, seed=0))
    step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.1)), backend="numba")
    X, Y = _data((6,), "float32", n=8)
    step(X, Y)
    with pytest.raises(ValueError, match=r"op 'dropout' has no Numba lowering, which this backend cannot lower "
                                         r"\(it lowers add, linear, mean, mul, relu, sigmoid, softmax_cross_entropy, sub, sum, tanh\); "
                                         r"use backend='numpy'"):
        step(X, Y)
    scale = cr.tensor(np.ones(3), requires_grad=True, dtype="float64")
    broadcast = cr.compile(lambda x: (scale * x).sum().backward(), backend="numba")
    broadcast(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"op 'mul' broadcasts shapes \(3,\) and \(2, 3\) \(equal shapes only\)"):
        broadcast(np.ones((2, 3)))
    w = cr.tensor(np.ones((2, 3)), requires_grad=True, dtype="float64")
    twice = cr.compile(lambda x: (cr.linear(x, w).sum().backward(), cr.relu(x).sum()), backend="numba")
    twice(np.ones((1, 3)))
    with pytest.raises(ValueError, match="the step must run all its ops, then at most one backward"):
        twice(np.ones((1, 3)))



@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_epoch_of_plain_sgd_runs_its_full_batches_in_one_call(dtype):
    models = [_net(dtype), _net(dtype)]
    opts = [optim.SGD(m.parameters(), lr=0.1) for m in models]
    eager, step = _train_step(models[0], opts[0]), cr.compile(_train_step(models[1], opts[1]), backend="numba")
    X, Y = _data((6,), dtype, n=90)
    order = np.random.default_rng(7).permutation(90)   # 5 batches of 16 and a last one of 10
    for epoch in range(3):
        replays = step.stats["replays"]
        eager_losses = [float(eager(X[order[i:i + 16]], Y[order[i:i + 16]])) for i in range(0, 90, 16)]
        losses = [float(v) for v in step.epoch(X, Y, 16, order)]
        np.testing.assert_allclose(losses, eager_losses, rtol=TOL[dtype], atol=TOL[dtype])
    assert step.stats["replays"] - replays == 1     # the last epoch: one call for the full batches, one replay
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=TOL[dtype], atol=TOL[dtype])
        np.testing.assert_allclose(b.grad, a.grad, rtol=TOL[dtype], atol=TOL[dtype])   # the last step's
    assert [st["step"] for st in opts[1].state] == [st["step"] for st in opts[0].state] == [18] * 7


def test_an_epoch_replays_batch_by_batch_when_sgd_is_not_plain():
    models = [_net("float64"), _net("float64")]
    opts = [optim.SGD(m.parameters(), lr=0.1) for m in models]
    eager, step = _train_step(models[0], opts[0]), cr.compile(_train_step(models[1], opts[1]), backend="numba")
    X, Y = _data((6,), "float64", n=64)
    step.epoch(X, Y, 16), _epoch(eager, X, Y)
    for o in opts:
        o.weight_decay = 1e-2
    losses, eager_losses = [float(v) for v in step.epoch(X, Y, 16)], _epoch(eager, X, Y)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-12)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-12)


def test_a_bad_label_in_an_epoch_call_gets_the_eager_sentence():
    model = _net("float32")
    step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.1)), backend="numba")
    X, Y = _data((6,), "float32", n=64)
    step.epoch(X, Y, 16)
    bad = np.where(np.arange(64) == 53, 9, Y)          # in the fourth batch, which the one call runs
    with pytest.raises(ValueError, match="label 9 is out of range for 4 classes"):
        step.epoch(X, bad, 16)

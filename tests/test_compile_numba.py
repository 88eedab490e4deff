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


#: optimisers whose step runs inside the kernel, with every option their lines branch on (RMSProp at its usual lr
#: of 1e-3: at 1e-2 with momentum its near sign-sized steps make an epoch's weights move apart from the kernel's
#: last-ulp differences in exp and tanh, whoever makes the update).
FUSED_RULES = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "sgd-damped-decayed": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.5, dampening=0.3, weight_decay=1e-2),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01, weight_decay=1e-2, initial_accumulator_value=0.1),
    "rmsprop": lambda ps: optim.RMSProp(ps, lr=1e-3),
    "rmsprop-momentum": lambda ps: optim.RMSProp(ps, lr=1e-3, momentum=0.9),
    "rmsprop-centred-momentum-decayed": lambda ps: optim.RMSProp(ps, lr=1e-3, alpha=0.9, momentum=0.5, centered=True,
                                                                 weight_decay=1e-2),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam-coupled-decay": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=1e-2),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


def _pair(dtype, rule):
    """An eager and a compiled training step on two copies of the net, with their optimisers."""
    models = [_net(dtype), _net(dtype)]
    opts = [FUSED_RULES[rule](m.parameters()) if isinstance(rule, str) else rule(m.parameters()) for m in models]
    eager, compiled = _train_step(models[0], opts[0]), cr.compile(_train_step(models[1], opts[1]), backend="numba")
    return models, opts, eager, compiled


def _count_steps(opt, monkeypatch):
    """A list that grows by one at every call of the optimiser's own step."""
    calls = []
    own = type(opt).step
    monkeypatch.setattr(opt, "step", lambda: calls.append(1) or own(opt))
    return calls


def _same(models, opts, dtype, exact):
    tol = TOL[dtype]
    check = np.testing.assert_array_equal if exact else (lambda b, a: np.testing.assert_allclose(b, a, rtol=tol, atol=tol))
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        check(b.data, a.data)
    for sa, sb in zip(opts[0].state, opts[1].state):
        assert sb.keys() == sa.keys() and sb["step"] == sa["step"]
        for name in opts[0]._state_names():
            check(sb[name], sa[name])


#: float64 end to end for one variant of each rule with all its options (each case compiles two kernels,
#: 10-14 s on a slow machine); every variant's update lines are checked bit for bit in both dtypes below.
FLOAT64_RULES = ("sgd-damped-decayed", "adagrad", "rmsprop-centred-momentum-decayed", "adamw")
END_TO_END = [(r, "float32") for r in sorted(FUSED_RULES)] + [(r, "float64") for r in FLOAT64_RULES]


@pytest.mark.parametrize("rule, dtype", END_TO_END)
def test_the_optimisers_step_runs_inside_the_kernel(rule, dtype, monkeypatch):
    """Each rule's update, written out in the generated function, trains exactly as the compiled step whose
    optimiser steps itself (step by step and over whole epochs, with a new lr), and as eager training; the
    optimiser's own step is never called."""
    models, opts, eager, compiled = _pair(dtype, rule)
    mine = _net(dtype)
    self_opt = FUSED_RULES[rule](mine.parameters())
    self_opt.__class__ = type("Own", (type(self_opt),), {})   # a subclass: the kernel leaves its step to it
    itself = cr.compile(_train_step(mine, self_opt), backend="numba")
    X, Y = _data((6,), dtype, n=90)
    for _ in range(2):  # recordings of both batch shapes (16 and 10 rows)
        _epoch(eager, X, Y), _epoch(compiled, X, Y), _epoch(itself, X, Y)
    calls = _count_steps(opts[1], monkeypatch)
    order = np.random.default_rng(7).permutation(90)
    for _ in range(2):
        eager_losses = _epoch(eager, X[order], Y[order])
        losses = [float(v) for v in compiled.epoch(X, Y, 16, order)]
        np.testing.assert_array_equal(losses, [float(v) for v in itself.epoch(X, Y, 16, order)])
        np.testing.assert_allclose(losses, eager_losses, rtol=TOL[dtype], atol=TOL[dtype])
    for lr in (1.0, 0.5):   # step by step, the lr read at every call
        for o in (*opts, self_opt):
            o.lr *= lr
        np.testing.assert_array_equal(_epoch(compiled, X, Y), _epoch(itself, X, Y))
        _epoch(eager, X, Y)
    assert calls == []
    assert opts[1].state[0]["step"] == 6 * 6
    _same([mine, models[1]], [self_opt, opts[1]], dtype, exact=True)
    _same(models, opts, dtype, exact=False)


def _update_alone(replay):
    """The generated update lines of a replay as a function of their own: ``f(*params, *grads, *states, upd, coef)``."""
    import numba

    update = replay.update
    ws, gs = [f"v{k}" for k in update.slots], [f"g{k}" for k in update.slots]
    text = "\n".join([f"def f({', '.join(ws + gs + update.arg_names)}, upd, coef):"]
                     + ["    " + line for line in update.lines] + ["    return 0"])
    scope = {"np": np}
    exec(text, scope)  # noqa: S102 - the library's own generated lines
    return numba.njit(error_model="numpy")(scope["f"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rule", sorted(FUSED_RULES))
def test_the_generated_update_gives_the_optimisers_bits(rule, dtype):
    """On the same gradients, the kernel's update lines and scalars give the optimiser's own step to the
    last bit (weights and state), over steps whose bias corrections and first-step rules differ."""
    models, opts, _, compiled = _pair(dtype, rule)
    X, Y = _data((6,), dtype)
    compiled(X[:16], Y[:16]), compiled(X[:16], Y[:16])
    f, update = _update_alone(compiled._ready(X[:16], Y[:16])), compiled._ready(X[:16], Y[:16]).update
    own, mine = opts[0], opts[1]
    rng = np.random.default_rng(5)
    for p, q in zip(models[0].parameters(), models[1].parameters()):   # where the recordings left the copy
        p.data[...] = q.data
    own.state = mine.state = None   # fresh states: the steps from the first on (momentum's buffer starts as g)
    for _ in range(4):
        grads = [(rng.standard_normal(p.shape) * 10.0 ** rng.integers(-3, 2)).astype(dtype) for p in update.params]
        for i, g in zip(update.indices, grads):
            own.params[i].grad = g.copy()
        own.step()
        states, scalars = update.arrays(1)
        f(*[p.data for p in update.params], *grads, *states, True, scalars[0])
        update.advance(1)
    _same(models, opts, dtype, exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hyper_parameters_the_lines_were_not_written_for_send_the_step_back_to_the_optimiser(dtype, monkeypatch):
    """Momentum switched on after recording plain SGD needs a buffer the kernel was not given: the optimiser
    steps itself (per batch, in an epoch too) and the numbers stay the eager ones; weight decay stays inside."""
    models, opts, eager, compiled = _pair(dtype, "sgd")
    X, Y = _data((6,), dtype)
    for _ in range(2):  # recordings of both batch shapes
        _epoch(eager, X, Y), _epoch(compiled, X, Y)
    calls = _count_steps(opts[1], monkeypatch)
    for o in opts:
        o.weight_decay = 1e-3
    _epoch(eager, X, Y), compiled.epoch(X, Y, 16)
    assert calls == []
    for o in opts:
        o.momentum = 0.9
        o._allocate()   # (a rule's state arrays are made on its first step; a new one needs them now)
        for st in o.state:
            st["step"] = 8
    _epoch(eager, X, Y), compiled.epoch(X, Y, 16)
    assert len(calls) == 4
    _same(models, opts, dtype, exact=False)


class _OwnSGD(optim.SGD):
    """A subclass may change the rule, so the kernel leaves its step to it."""


def test_a_rule_without_lines_is_stepped_by_the_optimiser_and_an_epoch_goes_batch_by_batch(monkeypatch):
    models, opts, eager, compiled = _pair("float64", lambda ps: _OwnSGD(ps, lr=0.1, momentum=0.9))
    X, Y = _data((6,), "float64", n=64)
    calls = _count_steps(opts[1], monkeypatch)
    for _ in range(2):
        losses, eager_losses = [float(v) for v in compiled.epoch(X, Y, 16)], _epoch(eager, X, Y)
        np.testing.assert_allclose(losses, eager_losses, rtol=1e-12)
    assert len(calls) == 8 and "upd" not in compiled._ready(X[:16], Y[:16]).source
    _same(models, opts, "float64", exact=False)


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


@pytest.mark.parametrize("metrics", [None, ["accuracy"]])
def test_fit_runs_each_epochs_full_batches_in_one_call(metrics):
    """fit's step returns (loss, penalty, output): the epoch call stacks the loss and, for metrics, the
    outputs, so after the recordings only the smaller last batch of an epoch is replayed on its own."""
    X, Y = _data((6,), "float32", n=90)
    runs = []
    for compile_ in (False, "numba"):
        model = _net("float32")
        opt = optim.Adam(model.parameters(), lr=0.01)
        h = cr.fit(model, "cross_entropy", opt, (X, Y), epochs=4, batch_size=20, seed=1, verbose=0,
                   metrics=metrics, compile=compile_)
        runs.append((model, h, opt))
    (m1, h1, _), (m2, h2, opt) = runs
    (step,) = opt._compiled_steps.values()
    # epoch 1: 20 rows recorded twice, then one call for batches 3 and 4, 10 rows recorded; 2: one call, 10 rows
    # recorded again; 3 and 4: one call and the last batch replayed (batch by batch: 2 + 4 + 5 + 5 replays)
    assert step.stats["replays"] == 2 and step.stats["recordings"] == 4
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-5)
    if metrics:
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

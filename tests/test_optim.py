"""Optimisers: one step by hand on a quadratic, convergence, validation, state dicts, no per-step arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from memory_support import peak_during

# f(w) = 1/2 sum a w^2 - b . w, so grad f = a w - b.
A = np.array([1.0, 3.0, 0.5])
B = np.array([0.5, -1.0, 2.0])
W0 = np.array([1.0, -2.0, 0.5])
G0 = A * W0 - B


def _grad(w):
    return A * w - B


def _quadratic(w):
    return 0.5 * (w * w * A).sum() - (w * B).sum()


def _run(name, kwargs, steps, w0=W0):
    w = cr.tensor(w0, requires_grad=True, dtype=np.float64)
    opt = optim.OPTIMIZERS[name]([w], **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        _quadratic(w).backward()
        opt.step()
        path.append(w.data.copy())
    return path


def _rms_step(lr, alpha, eps):
    return W0 - lr * G0 / (np.sqrt((1 - alpha) * G0**2) + eps)


# (registry name, kwargs, w after one step, worked out by hand)
ONE_STEP = [
    ("sgd", {"lr": 0.1}, W0 - 0.1 * G0),
    ("sgd", {"lr": 0.1, "weight_decay": 0.2}, W0 - 0.1 * (G0 + 0.2 * W0)),
    ("sgd", {"lr": 0.1, "momentum": 0.9}, W0 - 0.1 * G0),  # the buffer starts as g
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, W0 - 0.1 * (G0 + 0.9 * G0)),
    ("adagrad", {"lr": 0.1}, W0 - 0.1 * G0 / (np.abs(G0) + 1e-10)),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": 1.0}, W0 - 0.1 * G0 / (np.sqrt(1 + G0**2) + 1e-10)),
    ("rmsprop", {"lr": 0.01}, _rms_step(0.01, 0.99, 1e-8)),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3}, _rms_step(0.01, 0.9, 1e-3)),
    ("rmsprop", {"lr": 0.01, "centered": True},
     W0 - 0.01 * G0 / (np.sqrt(0.01 * G0**2 - (0.01 * G0) ** 2) + 1e-8)),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5}, _rms_step(0.01, 0.99, 1e-8)),
    # Bias correction makes Adam's first step lr * g / (|g| + eps).
    ("adam", {"lr": 0.01}, W0 - 0.01 * G0 / (np.abs(G0) + 1e-8)),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}, W0 - 0.01 * (G0 + 0.1 * W0) / (np.abs(G0 + 0.1 * W0) + 1e-8)),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1}, W0 * (1 - 0.001) - 0.01 * G0 / (np.abs(G0) + 1e-8)),
]


@pytest.mark.parametrize("name,kwargs,expected", ONE_STEP, ids=[f"{n}-{k}" for n, k, _ in ONE_STEP])
def test_one_step_matches_the_hand_formula(name, kwargs, expected):
    np.testing.assert_allclose(_run(name, kwargs, 1)[0], expected, rtol=0, atol=1e-12)


def _two_steps_momentum(lr, mu, nesterov):
    b = G0
    w1 = W0 - lr * (G0 + mu * b if nesterov else b)
    g1 = _grad(w1)
    b = mu * b + g1
    return w1 - lr * (g1 + mu * b if nesterov else b)


def _two_steps_adam(lr, b1, b2, eps):
    m1, v1 = (1 - b1) * G0, (1 - b2) * G0**2
    w1 = W0 - lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    g1 = _grad(w1)
    m2, v2 = b1 * m1 + (1 - b1) * g1, b2 * v1 + (1 - b2) * g1**2
    return w1 - lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)


def _two_steps_rms_momentum(lr, alpha, mu, eps):
    s1 = (1 - alpha) * G0**2
    buf = G0 / (np.sqrt(s1) + eps)
    w1 = W0 - lr * buf
    g1 = _grad(w1)
    s2 = alpha * s1 + (1 - alpha) * g1**2
    buf = mu * buf + g1 / (np.sqrt(s2) + eps)
    return w1 - lr * buf


TWO_STEPS = [
    ("sgd", {"lr": 0.1, "momentum": 0.9}, _two_steps_momentum(0.1, 0.9, False)),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, _two_steps_momentum(0.1, 0.9, True)),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9)}, _two_steps_adam(0.01, 0.8, 0.9, 1e-8)),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5}, _two_steps_rms_momentum(0.01, 0.99, 0.5, 1e-8)),
]


@pytest.mark.parametrize("name,kwargs,expected", TWO_STEPS, ids=[f"{n}-{k}" for n, k, _ in TWO_STEPS])
def test_second_step_uses_the_state(name, kwargs, expected):
    np.testing.assert_allclose(_run(name, kwargs, 2)[1], expected, rtol=0, atol=1e-12)


def test_the_slides_momentum_form_is_the_same_trajectory():
    """v <- gamma v + eta g; w <- w - v (the Toronto CSC 411 Neural Networks I lecture) equals SGD(momentum) at a fixed lr."""
    w, v = W0.copy(), np.zeros(3)
    for got in _run("sgd", {"lr": 0.1, "momentum": 0.9}, 5):
        v = 0.9 * v + 0.1 * _grad(w)
        w = w - v
        np.testing.assert_allclose(got, w, atol=1e-12)


CONVERGE = [
    ("sgd", {"lr": 0.3}), ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.5}), ("rmsprop", {"lr": 0.05}), ("rmsprop", {"lr": 0.05, "centered": True, "momentum": 0.5}),
    ("adam", {"lr": 0.1}), ("adamw", {"lr": 0.1, "weight_decay": 0.0}),
]


@pytest.mark.parametrize("name,kwargs", CONVERGE, ids=[f"{n}-{k}" for n, k in CONVERGE])
def test_converges_on_a_convex_problem(name, kwargs):
    """An ill-conditioned quadratic in 6-D; a cosine schedule removes the adaptive rules' jitter."""
    a = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 5.0])
    target = np.array([1.0, -2.0, 3.0, 0.5, -1.0, 2.0])
    w = cr.tensor(np.zeros(6), requires_grad=True)
    opt = optim.OPTIMIZERS[name]([w], **kwargs)
    sched = optim.CosineAnnealing(opt, t_max=400)
    for _ in range(400):
        opt.zero_grad()
        (0.5 * a * (w - target) ** 2).sum().backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(w.data, target, atol=1e-3)


def test_adamw_decay_pulls_towards_zero_but_adam_l2_differs():
    w_adam = _run("adam", {"lr": 0.01, "weight_decay": 0.5}, 30)[-1]
    w_adamw = _run("adamw", {"lr": 0.01, "weight_decay": 0.5}, 30)[-1]
    assert not np.allclose(w_adam, w_adamw)


# ------------------------------------------------------------ mechanics
def test_accepts_a_module_and_skips_parameters_without_gradient():
    model = nn.Linear(2, 1, seed=0)
    opt = optim.SGD(model, lr=0.1)
    assert len(opt.params) == 2
    model.weight.grad = np.ones((1, 2), dtype=np.float32)
    before = model.bias.data.copy()
    opt.step()
    np.testing.assert_array_equal(model.bias.data, before)
    assert opt.state[1]["step"] == 0 and opt.state[0]["step"] == 1
    opt.zero_grad()
    assert model.weight.grad is None


def test_updates_are_in_place_and_keep_dtype():
    model = nn.Linear(3, 2, seed=0)
    data = [p.data for p in model.parameters()]
    opt = optim.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(cr.ones(4, 3)).sum().backward()
        opt.step()
    assert all(p.data is d and p.dtype == np.float32 for p, d in zip(model.parameters(), data))
    assert all(st["exp_avg"].dtype == np.float32 for st in opt.state)


@pytest.mark.parametrize("name,kwargs", CONVERGE, ids=[f"{n}-{k}" for n, k in CONVERGE])
def test_steps_allocate_no_new_arrays(name, kwargs):
    w = cr.tensor(np.ones((400, 400)), requires_grad=True)
    w.grad = np.full((400, 400), 0.5)
    opt = optim.OPTIMIZERS[name]([w], **kwargs)
    opt.step()  # the first step allocates the state
    peak = peak_during(opt.step, 5)
    assert peak < w.data.nbytes // 20, peak  # far below one parameter-sized temporary


BAD = [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, r"lr must be > 0, got -0.1"),
    (lambda p: optim.SGD(p, lr="0.1"), ValueError, r"lr must be > 0, got '0.1'"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), ValueError, r"momentum must be in \[0, 1\), got -1"),
    # from 1 on the buffer never forgets a gradient: the steps grow without bound
    (lambda p: optim.SGD(p, lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1.0"),
    (lambda p: optim.RMSProp(p, momentum=1.5), ValueError, r"momentum must be in \[0, 1\), got 1.5"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, r"nesterov=True needs momentum > 0 and dampening = 0"),
    (lambda p: optim.Adagrad(p, eps=0), ValueError, r"eps must be > 0, got 0"),
    (lambda p: optim.RMSProp(p, alpha=1.5), ValueError, r"alpha must be in \[0, 1\), got 1.5"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda p: optim.Adam(p, betas=0.9), ValueError, r"betas must be a pair \(beta1, beta2\), got 0.9"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), ValueError, r"weight_decay must be >= 0, got -0.01"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, r"the optimizer got an empty parameter list"),
    (lambda p: optim.SGD([np.zeros(2)], lr=0.1), TypeError,
     r"parameter 0 must be a floating-point Tensor, got ndarray"),
    (lambda p: optim.SGD(p + p, lr=0.1), ValueError, r"parameter 1 appears more than once"),
]


@pytest.mark.parametrize("make,error,message", BAD, ids=[m[:28] for _, _, m in BAD])
def test_constructors_reject_bad_values(make, error, message):
    with pytest.raises(error, match=message):
        make([cr.zeros(2, requires_grad=True)])


def test_registry():
    assert sorted(optim.OPTIMIZERS) == ["adagrad", "adam", "adamw", "rmsprop", "sgd"]
    with pytest.raises(ValueError, match="unknown optimizer 'adma'; expected one of: adagrad, adam"):
        optim.OPTIMIZERS["adma"]


# ------------------------------------------------------------ checkpoints
def _make(name, kwargs, seed=0):
    model = nn.MLP([3, 4, 2], activation="tanh", seed=seed, dtype=np.float64)
    return model, optim.OPTIMIZERS[name](model.parameters(), **kwargs)


def _train(model, opt, steps):
    x = cr.tensor(np.random.default_rng(1).normal(size=(8, 3)))
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), np.arange(8) % 2).backward()
        opt.step()


@pytest.mark.parametrize("name,kwargs", CONVERGE, ids=[f"{n}-{k}" for n, k in CONVERGE])
def test_state_dict_resumes_training_exactly(name, kwargs):
    model, opt = _make(name, kwargs)
    _train(model, opt, 3)
    state = opt.state_dict()
    json.dumps(state["meta"])  # metadata is JSON; arrays are plain ndarrays
    assert all(isinstance(a, np.ndarray) for a in state["arrays"].values())

    twin, twin_opt = _make(name, {"lr": 0.999})  # hyper-parameters come from the checkpoint
    twin.load_state_dict(model.state_dict())
    twin_opt.load_state_dict({"meta": json.loads(json.dumps(state["meta"])), "arrays": state["arrays"]})
    assert twin_opt.lr == opt.lr
    _train(model, opt, 3)
    _train(twin, twin_opt, 3)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_rejects_mismatches():
    model, opt = _make("adam", {"lr": 0.1})
    _train(model, opt, 1)
    state = opt.state_dict()
    with pytest.raises(ValueError, match="state was saved by optimizer 'adam', not 'sgd'"):
        optim.SGD(model.parameters(), lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="state is for 4 parameters, but this optimizer has 1"):
        optim.Adam([model.output.bias], lr=0.1).load_state_dict(state)


def test_weight_decay_switched_on_after_the_first_step_still_applies():
    w = cr.tensor([2.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=0.1)
    for decay in (0.0, 0.5):
        opt.weight_decay = decay
        opt.zero_grad()
        (w * 0).sum().backward()  # zero data gradient: only the decay moves w
        before = float(w.data[0])
        opt.step()
        assert float(w.data[0]) == pytest.approx(before - 0.1 * decay * before)


def test_only_weight_decay_allocates_a_second_scratch_buffer():
    w = cr.tensor(np.ones(4), requires_grad=True)
    plain, decayed = optim.SGD([w], lr=0.1), optim.SGD([w], lr=0.1, weight_decay=0.1)
    for opt in (plain, decayed):
        w.grad = np.ones(4, dtype=w.dtype)
        opt.step()
    assert "_tmp2" not in plain.state[0] and "_tmp2" in decayed.state[0]


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.01),
    lambda ps: optim.RMSProp(ps, lr=0.01, momentum=0.5),
    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.01),
    lambda ps: optim.AdamW(ps, lr=0.01),
], ids=["sgd", "nesterov-wd", "adagrad", "rmsprop", "adam", "adamw"])
def test_large_parameters_updated_in_slices_match_one_piece_updates(make, monkeypatch):
    from chainrule.optim import optimizer as base

    rng = np.random.default_rng(0)
    start = [rng.standard_normal((300, 7)), rng.standard_normal(50)]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(4)]

    def run(chunk):
        monkeypatch.setattr(base, "CHUNK", chunk)
        ps = [cr.tensor(a, requires_grad=True, dtype=np.float64) for a in start]
        opt = make(ps)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = g.copy()
            opt.step()
        return [p.data for p in ps], opt

    sliced, opt = run(64)  # 2,100 elements in 33 slices, the bias in one
    whole, _ = run(1 << 16)
    for a, b in zip(sliced, whole):
        np.testing.assert_array_equal(a, b)
    assert opt.state[0]["_tmp"].size == 64


def test_plain_sgd_is_w_minus_lr_g_and_skips_parameters_without_a_gradient():
    w, b = cr.tensor([1.0, -2.0], requires_grad=True, dtype=np.float64), cr.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w, b], lr=0.5)
    for k in range(3):
        w.grad, b.grad = np.array([0.25, -1.0]), None
        opt.step()
        np.testing.assert_array_equal(w.data, [1.0 - 0.125 * (k + 1), -2.0 + 0.5 * (k + 1)])
    assert b.data.tolist() == [3.0] and [st["step"] for st in opt.state] == [3, 0]
    opt.lr = 1.0  # a schedule's new rate is used by the next step
    w.grad = np.array([1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(w.data, [-0.375, -1.5])

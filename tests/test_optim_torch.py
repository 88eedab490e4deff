"""PyTorch as an oracle: optimiser trajectories and LR schedules agree with torch.optim."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 3))
Y = RNG.normal(size=16)
W_START = RNG.normal(size=(4, 3))
V_START = RNG.normal(size=4)


def _loss(lib, w, v):
    """A small non-convex problem: a tanh network's squared error plus a quartic term."""
    x, y = lib.tensor(X), lib.tensor(Y)
    h = lib.tanh(x @ w.T) if lib is torch else cr.tanh(x @ w.T)
    err = h @ v - y
    return (err * err).mean() + 0.1 * (w * w * w * w).sum()


# (chainrule class, torch class, keyword arguments shared by both)
CASES = [
    ("SGD", "SGD", {"lr": 0.05}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("Adagrad", "Adagrad", {"lr": 0.1}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01, "initial_accumulator_value": 0.2}),
    ("RMSProp", "RMSprop", {"lr": 0.01}),
    ("RMSProp", "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "momentum": 0.5, "centered": True,
                            "weight_decay": 0.01}),
    ("Adam", "Adam", {"lr": 0.05}),
    ("Adam", "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}),
    ("AdamW", "AdamW", {"lr": 0.05}),
    ("AdamW", "AdamW", {"lr": 0.05, "betas": (0.85, 0.995), "weight_decay": 0.2}),
]


def _ours(cls, kwargs, steps):
    w = cr.tensor(W_START, requires_grad=True)
    v = cr.tensor(V_START, requires_grad=True)
    opt = getattr(optim, cls)([w, v], **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(cr, w, v).backward()
        opt.step()
        path.append(np.concatenate([w.data.ravel(), v.data]))
    return np.array(path)


def _theirs(cls, kwargs, steps):
    w = torch.tensor(W_START, requires_grad=True)
    v = torch.tensor(V_START, requires_grad=True)
    opt = getattr(torch.optim, cls)([w, v], **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(torch, w, v).backward()
        opt.step()
        path.append(np.concatenate([w.detach().numpy().ravel(), v.detach().numpy()]))
    return np.array(path)


@pytest.mark.parametrize("ours,theirs,kwargs", CASES, ids=[f"{c}-{k}" for c, _, k in CASES])
def test_twenty_steps_match_torch(ours, theirs, kwargs):
    np.testing.assert_allclose(_ours(ours, kwargs, 20), _theirs(theirs, kwargs, 20), rtol=0, atol=1e-6)


def test_momentum_switched_on_mid_run_matches_torch():
    """torch.optim.SGD starts the momentum buffer at the first step that has momentum; so must we."""
    paths = []
    for lib in (cr, torch):
        w, v = lib.tensor(W_START, requires_grad=True), lib.tensor(V_START, requires_grad=True)
        opt = (optim.SGD if lib is cr else torch.optim.SGD)([w, v], lr=0.05)
        path = []
        for t in range(8):
            if t == 3:
                if lib is cr:
                    opt.momentum = 0.9
                else:
                    opt.param_groups[0]["momentum"] = 0.9
            opt.zero_grad()
            _loss(lib, w, v).backward()
            opt.step()
            path.append(np.concatenate([np.array(w.data).ravel(), np.array(v.data)]) if lib is cr else
                        np.concatenate([w.detach().numpy().ravel(), v.detach().numpy()]))
        paths.append(np.array(path))
    np.testing.assert_allclose(paths[0], paths[1], rtol=0, atol=1e-6)


def _lrs(make_ours, make_theirs, metrics=None, steps=30):
    ours = make_ours(optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.5))
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    theirs = make_theirs(theirs_opt)
    got, want = [], []
    for t in range(steps):
        theirs_opt.step()
        if metrics is None:
            got.append(ours.step())
            theirs.step()
        else:
            got.append(ours.step(metrics[t]))
            theirs.step(metrics[t])
        want.append(theirs_opt.param_groups[0]["lr"])
    return got, want


SCHEDULE_CASES = [
    (lambda o: optim.StepDecay(o, step_size=7, gamma=0.3), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.3)),
    (lambda o: optim.ExponentialDecay(o, gamma=0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    (lambda o: optim.CosineAnnealing(o, t_max=30, min_lr=0.01),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 30, eta_min=0.01)),
]


@pytest.mark.parametrize("make_ours,make_theirs", SCHEDULE_CASES, ids=["step", "exponential", "cosine"])
def test_closed_form_schedules_match_torch(make_ours, make_theirs):
    got, want = _lrs(make_ours, make_theirs)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("max", "abs")])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode):
    metrics = list(np.random.default_rng(3).normal(size=40).cumsum() * 0.1)
    got, want = _lrs(
        lambda o: optim.ReduceOnPlateau(o, mode=mode, factor=0.5, patience=2, threshold=0.01,
                                        threshold_mode=threshold_mode, cooldown=1, min_lr=0.01),
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode=mode, factor=0.5, patience=2, threshold=0.01,
                                                             threshold_mode=threshold_mode, cooldown=1, min_lr=0.01),
        metrics, steps=40)
    np.testing.assert_allclose(got, want, rtol=1e-12)

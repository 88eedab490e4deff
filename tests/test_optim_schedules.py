"""LR schedules: closed forms, reduce-on-plateau logic, composition with optimisers, state dicts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim


def _opt(name="sgd", lr=0.5):
    return optim.OPTIMIZERS[name]([cr.zeros(2, requires_grad=True)], lr=lr)


# (registry name, kwargs, lr at epoch t for base lr 0.5)
CLOSED_FORMS = [
    ("step", {"step_size": 3, "gamma": 0.5}, lambda t: 0.5 * 0.5 ** (t // 3)),
    ("exponential", {"gamma": 0.9}, lambda t: 0.5 * 0.9**t),
    ("inverse_time", {"decay_rate": 0.5}, lambda t: 0.5 / (1 + 0.5 * t)),
    ("inverse_time", {"decay_rate": 1.0, "decay_steps": 4, "staircase": True}, lambda t: 0.5 / (1 + t // 4)),
    ("cosine", {"t_max": 10, "min_lr": 0.1}, lambda t: 0.1 + 0.4 * (1 + math.cos(math.pi * min(t, 10) / 10)) / 2),
]


@pytest.mark.parametrize("name,kwargs,formula", CLOSED_FORMS, ids=[f"{n}-{k}" for n, k, _ in CLOSED_FORMS])
@pytest.mark.parametrize("opt_name", sorted(optim.OPTIMIZERS))
def test_closed_forms_drive_any_optimizer(name, kwargs, formula, opt_name):
    opt = _opt(opt_name)
    sched = optim.SCHEDULES[name](opt, **kwargs)
    for t in range(1, 15):
        assert sched.step() == pytest.approx(formula(t), rel=1e-12)
        assert opt.lr == sched.lr


def test_the_optimizer_uses_the_scheduled_lr():
    w = cr.tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=1.0)
    sched = optim.StepDecay(opt, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        before = w.data[0]
        opt.zero_grad()
        w.sum().backward()  # gradient 1: each step moves w by exactly lr
        opt.step()
        sched.step()
        moves.append(before - w.data[0])
    assert moves == [1.0, 0.5, 0.25]


def test_reduce_on_plateau_cuts_after_patience_and_respects_min_lr():
    opt = _opt(lr=1.0)
    sched = optim.ReduceOnPlateau(opt, factor=0.5, patience=2, min_lr=0.3)
    lrs = [sched.step(v) for v in [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]]
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]


def test_reduce_on_plateau_max_mode_and_cooldown():
    opt = _opt(lr=1.0)
    sched = optim.ReduceOnPlateau(opt, mode="max", factor=0.1, patience=0, cooldown=2)
    lrs = [sched.step(v) for v in [0.5, 0.6, 0.6, 0.6, 0.6, 0.6]]
    assert lrs == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.1, 0.01])


def test_reduce_on_plateau_needs_the_metric():
    with pytest.raises(ValueError, match="ReduceOnPlateau.step needs the monitored metric"):
        optim.ReduceOnPlateau(_opt()).step()


@pytest.mark.parametrize("name,kwargs", [
    ("step", {"step_size": 2}), ("exponential", {"gamma": 0.9}), ("inverse_time", {"decay_rate": 0.1}),
    ("cosine", {"t_max": 5}), ("plateau", {"patience": 1}),
])
def test_state_dict_round_trip(name, kwargs):
    opt = _opt()
    sched = optim.SCHEDULES[name](opt, **kwargs)
    for v in [3.0, 2.0, 2.5, 2.6]:
        sched.step(v) if name == "plateau" else sched.step()
    state = json.loads(json.dumps(sched.state_dict()))
    twin_opt = _opt(lr=0.01)
    twin = optim.SCHEDULES[name](twin_opt, **kwargs)
    twin.load_state_dict(state)
    assert twin_opt.lr == opt.lr and twin.t == sched.t
    for v in [2.7, 2.8, 1.0]:
        a = sched.step(v) if name == "plateau" else sched.step()
        b = twin.step(v) if name == "plateau" else twin.step()
        assert a == b


def test_state_dict_type_is_checked():
    state = optim.StepDecay(_opt(), step_size=1).state_dict()
    with pytest.raises(ValueError, match="state was saved by schedule 'step', not 'exponential'"):
        optim.ExponentialDecay(_opt(), gamma=0.5).load_state_dict(state)


@pytest.mark.parametrize("make,message", [
    (lambda o: optim.StepDecay(o, step_size=0), "step_size must be a positive integer, got 0"),
    (lambda o: optim.ExponentialDecay(o, gamma=-1), r"gamma must be in \(0, 1\], got -1"),
    # a decay: above 1 the rate grows every epoch until training diverges
    (lambda o: optim.ExponentialDecay(o, gamma=2), r"gamma must be in \(0, 1\], got 2"),
    (lambda o: optim.StepDecay(o, step_size=3, gamma=1.5), r"gamma must be in \(0, 1\], got 1.5"),
    (lambda o: optim.InverseTimeDecay(o, decay_rate=-0.5), "decay_rate must be >= 0, got -0.5"),
    (lambda o: optim.CosineAnnealing(o, t_max=2.5), "t_max must be a positive integer, got 2.5"),
    (lambda o: optim.ReduceOnPlateau(o, factor=1.0), r"factor must be in \(0, 1\), got 1.0"),
    (lambda o: optim.ReduceOnPlateau(o, mode="mean"), "mode must be one of 'min', 'max', got 'mean'"),
])
def test_constructors_reject_bad_values(make, message):
    with pytest.raises(ValueError, match=message):
        make(_opt())


def test_schedule_needs_an_lr():
    with pytest.raises(TypeError, match="a schedule needs an optimizer with an lr attribute, got object"):
        optim.StepDecay(object(), step_size=1)


def test_registry_names():
    assert sorted(optim.SCHEDULES) == ["cosine", "exponential", "inverse_time", "plateau", "step"]


@pytest.mark.parametrize("name, options, message", [
    ("cosine", {"T_max": 5}, "schedule 'cosine' takes t_max (required), min_lr; got 'T_max'"),
    ("step", {"gamma": 0.5}, "schedule 'step' takes step_size (required), gamma; 'step_size' is missing"),
    ("nope", {}, "unknown schedule 'nope'; expected one of: cosine, exponential"),
])
def test_a_named_schedule_checks_its_option_names_when_built(name, options, message):
    from chainrule.callbacks import LRScheduler

    with pytest.raises(ValueError) as e:  # at construction: not after fit's set-up
        LRScheduler(name, **options)
    assert message in str(e.value)

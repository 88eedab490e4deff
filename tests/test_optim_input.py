"""Bad input to the optimisers and schedules: one sentence naming the argument, never a silent wrong step."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim


def _w(n=3):
    return cr.tensor(np.ones(n, np.float32), requires_grad=True)


def _opt(lr=0.1):
    return optim.SGD([_w()], lr=lr)


class _HasLR:
    def __init__(self, lr):
        self.lr = lr


@pytest.mark.parametrize("make, kind, message", [
    # iterating one Tensor gives its rows, new Tensors that are not the parameter
    (lambda: optim.SGD(_w()), TypeError, r"params must be an iterable of Tensors or a Module, got a single Tensor"),
    (lambda: optim.Adam(None), TypeError, "params must be an iterable of Tensors or a Module, got None"),
    (lambda: optim.SGD(5), TypeError, "params must be an iterable of Tensors or a Module, got 5"),
    (lambda: optim.SGD("ab"), TypeError, "params must be an iterable of Tensors or a Module, got 'ab'"),
    (lambda: optim.SGD({"params": [_w()]}), TypeError, "params must be an iterable of Tensors or a Module, got {"),
    (lambda: optim.SGD(x for x in []), ValueError, "the optimizer got an empty parameter list"),
    (lambda: optim.SGD(nn.Sequential()), ValueError, "the optimizer got an empty parameter list"),
    (lambda: optim.SGD([cr.tensor(np.arange(3))]), TypeError,
     "parameter 0 must be a floating-point Tensor, got a Tensor of dtype int64"),
    (lambda: optim.SGD([[_w()]]), TypeError, "parameter 0 must be a floating-point Tensor, got list"),
    (lambda: optim.SGD([_w()], lr=True), TypeError, "lr must be > 0, got True"),
    (lambda: optim.Adam([_w()], lr=float("nan")), ValueError, "lr must be > 0, got nan"),
    (lambda: optim.SGD([_w()], lr=0.1, momentum=0.9, nesterov="False"), TypeError,
     "nesterov must be True or False, got 'False'"),
    (lambda: optim.SGD([_w()], lr=0.1, momentum=0.9, nesterov=1), TypeError, "nesterov must be True or False, got 1"),
    (lambda: optim.RMSProp([_w()], centered="yes"), TypeError, "centered must be True or False, got 'yes'"),
    (lambda: optim.Adam([_w()], betas={0.9, 0.99}), TypeError, r"betas must be a pair \(beta1, beta2\), got {"),
    (lambda: optim.Adam([_w()], betas=(b for b in (0.9, 0.99))), TypeError, r"betas must be a pair \(beta1, beta2\)"),
    (lambda: optim.AdamW([_w()], betas=(0.9, 0.99, 0.5)), ValueError,
     r"betas must be a pair \(beta1, beta2\), got \(0.9, 0.99, 0.5\)"),
    (lambda: optim.Adam([_w()], betas=("0.9", 0.99)), TypeError, r"betas\[0\] must be in \[0, 1\), got '0.9'"),
])
def test_constructors_name_the_bad_argument(make, kind, message):
    with pytest.raises(kind, match=message):
        make()


def _step(lr=None, grad=None, rule=optim.SGD, **kw):
    w = _w()
    opt = rule([w], lr=0.1, **kw)
    w.grad = np.ones(3, np.float32) if grad is None else grad
    if lr is not None:
        opt.lr = lr
    opt.step()
    return w


@pytest.mark.parametrize("rule, kw", [(optim.SGD, {}), (optim.SGD, {"momentum": 0.9}), (optim.Adam, {})])
@pytest.mark.parametrize("lr, kind, shown", [
    (-0.1, ValueError, "-0.1"), (float("nan"), ValueError, "nan"), (float("inf"), ValueError, "inf"),
    ("0.1", TypeError, "'0.1'"), (False, TypeError, "False"),
])
def test_a_step_refuses_an_lr_set_since_the_optimizer_was_built(rule, kw, lr, kind, shown):
    with pytest.raises(kind, match=f"lr must be >= 0 when {rule.__name__} steps, got {shown}"):
        _step(lr, rule=rule, **kw)


@pytest.mark.parametrize("rule", [optim.SGD, optim.Adam])
def test_a_step_at_lr_0_leaves_the_weights_as_they_are(rule):
    # lr 0 is a warm-up's first step or a cosine schedule's last: allowed, as in PyTorch
    w = _step(0.0, rule=rule)
    assert np.array_equal(w.data, np.ones(3, np.float32))


def test_a_cosine_schedule_past_t_max_with_min_lr_0_steps_at_lr_0():
    opt = _opt()
    sched = optim.CosineAnnealing(opt, t_max=2)
    w = opt.params[0]
    for _ in range(2):  # t_max epochs train; the second sets lr 0
        w.grad = np.ones(3, np.float32)
        opt.step()
        sched.step()
    assert opt.lr == 0.0
    before = w.data.copy()
    w.grad = np.ones(3, np.float32)
    opt.step()
    assert np.array_equal(w.data, before)


@pytest.mark.parametrize("rule", [optim.SGD, optim.Adam])
def test_a_gradient_that_does_not_broadcast_to_its_parameter_is_named(rule):
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(3,\), but its gradient has shape \(3, 1\)"):
        _step(grad=np.ones((3, 1), np.float32), rule=rule)


def test_a_broadcast_gradient_still_applies_also_to_a_parameter_updated_in_slices():
    assert np.allclose(_step(grad=np.ones(1, np.float32)).data, 0.9)
    big = cr.tensor(np.ones((70000, 2), np.float32), requires_grad=True)
    opt = optim.Adam([big], lr=0.1)
    big.grad = np.ones(2, np.float32)
    opt.step()
    assert np.allclose(big.data, 0.9)


def test_good_parameters_are_read_once_and_kept():
    ws = [_w(), _w()]
    opt = optim.SGD((w for w in ws), lr=1)  # a generator is read into a list once
    assert opt.params == ws
    assert optim.Adam([_w()], betas=np.array([0.8, 0.9])).betas == (0.8, 0.9)
    assert optim.SGD([_w()], lr=np.float32(0.1), momentum=0.9, nesterov=np.bool_(True)).nesterov is True
    assert len(optim.RMSProp(nn.Linear(2, 1, seed=0)).params) == 2


@pytest.mark.parametrize("state, kind, message", [
    (None, TypeError, "state must be what Optimizer.state_dict[(][)] returns, a dict with 'meta' and 'arrays', got None"),
    ({}, TypeError, "state must be what Optimizer.state_dict"),
    ({"meta": {"type": "sgd"}, "arrays": {}}, ValueError, r"state\['meta'\] has no 'hyper'"),
])
def test_load_state_dict_names_what_is_missing(state, kind, message):
    with pytest.raises(kind, match=message):
        _opt().load_state_dict(state)


def test_load_state_dict_names_a_missing_array():
    w = _w()
    opt = optim.Adam([w])
    w.grad = np.ones(3, np.float32)
    opt.step()
    state = opt.state_dict()
    del state["arrays"]["0.exp_avg"]
    with pytest.raises(ValueError, match="state has no array '0.exp_avg', which optimizer 'adam' keeps"):
        optim.Adam([_w()]).load_state_dict(state)


SCHEDULES = [
    lambda o: optim.StepDecay(o, step_size=2),
    lambda o: optim.ExponentialDecay(o, gamma=0.5),
    lambda o: optim.InverseTimeDecay(o, decay_rate=0.5),
    lambda o: optim.CosineAnnealing(o, t_max=5),
    lambda o: optim.ReduceOnPlateau(o),
]


@pytest.mark.parametrize("make", SCHEDULES)
@pytest.mark.parametrize("lr, kind, shown", [
    (-1, ValueError, "-1"), (float("nan"), ValueError, "nan"), ("0.1", TypeError, "'0.1'"), (None, TypeError, "None"),
])
def test_a_schedule_refuses_an_optimizer_without_a_usable_lr(make, lr, kind, shown):
    # every rate it sets is a multiple of this one
    with pytest.raises(kind, match=f"optimizer.lr must be >= 0, got {shown}"):
        make(_HasLR(lr))


@pytest.mark.parametrize("make, kind, message", [
    (lambda o: optim.InverseTimeDecay(o, 0.5, staircase="False"), TypeError,
     "staircase must be True or False, got 'False'"),
    # above the starting rate a decay would raise it
    (lambda o: optim.CosineAnnealing(o, t_max=3, min_lr=0.5), ValueError,
     "min_lr must be at most the optimizer's lr 0.1, got 0.5"),
    (lambda o: optim.ReduceOnPlateau(o, min_lr=0.5), ValueError, "min_lr must be at most the optimizer's lr 0.1"),
    (lambda o: optim.ReduceOnPlateau(o, min_lr="0"), TypeError, "min_lr must be >= 0, got '0'"),
    (lambda o: optim.ReduceOnPlateau(o).step("0.5"), TypeError,
     "metric must be a real number such as the validation loss, got '0.5'"),
    (lambda o: optim.ReduceOnPlateau(o).step([0.5, 0.4]), TypeError, r"metric must be a real number .*got \[0.5, 0.4\]"),
    (lambda o: optim.ReduceOnPlateau(o).step(True), TypeError, "metric must be a real number"),
    (lambda o: optim.ReduceOnPlateau(o).step(None), ValueError, "ReduceOnPlateau.step needs the monitored metric"),
    (lambda o: optim.StepDecay(o, 1).load_state_dict(None), TypeError,
     "state must be the dict a schedule's state_dict[(][)] returns, got None"),
    (lambda o: optim.StepDecay(o, 1).load_state_dict({"type": "step"}), ValueError,
     "state has no 't', which a 'step' schedule saves"),
])
def test_schedule_arguments_are_named(make, kind, message):
    with pytest.raises(kind, match=message):
        make(_opt())


def test_good_schedule_inputs_still_work():
    opt = _opt()
    sched = optim.ReduceOnPlateau(opt, patience=0, factor=0.5, min_lr=0.1 / 8)
    for metric in (np.float32(1.0), np.array(1.0), float("nan"), 2):  # nan counts as no improvement
        sched.step(metric)
    assert opt.lr == pytest.approx(0.1 / 8)
    assert optim.CosineAnnealing(_opt(), t_max=3, min_lr=0.1).lr_at(3) == pytest.approx(0.1)
    assert optim.InverseTimeDecay(_HasLR(1.0), 1.0, staircase=np.bool_(True)).lr_at(1) == 0.5
    state = optim.StepDecay(_opt(), 2).state_dict()
    fresh = optim.StepDecay(_opt(), 5)
    fresh.load_state_dict(state)
    assert fresh.step_size == 2 and math.isclose(fresh.lr, 0.1)

"""Small parameters updated together (optim.optimizer._Group): the same bits as one at a time."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.optim import optimizer as base
from memory_support import peak_during

RULES = [
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.1, "momentum": 0.5, "dampening": 0.2, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.1}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("adagrad", {"lr": 0.1, "weight_decay": 0.05}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.9}),
    ("rmsprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.0}),
]
IDS = [f"{n}-{k}" for n, k in RULES]


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(5, 3), (5,), (4, 5), (4,), (2, 4), (2,)]
    values = [rng.standard_normal(s) for s in shapes]
    values[1][:2] = [-0.0, 0.0]  # -0.0 with a zero gradient (entry 0) must stay -0.0, as one at a time leaves it
    return [cr.tensor(v, requires_grad=True, dtype=dtype) for v in values]


def _train(name, kwargs, dtype, grouped, steps=6, skip=None):
    """``steps`` steps on fixed random gradients (zero gradients for some entries); ``skip``: a
    (step, parameter) whose gradient is missing in that step."""
    ps = _params(dtype)
    opt = optim.OPTIMIZERS[name](ps, **kwargs)
    if not grouped:
        opt._plan_groups = lambda: []
    rng = np.random.default_rng(1)
    for k in range(steps):
        for i, p in enumerate(ps):
            g = rng.standard_normal(p.shape).astype(dtype)
            g[..., 0] = 0.0
            p.grad = None if (k, i) == skip else g
        opt.step()
    return ps, opt


def _assert_same_bits(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)
        assert (np.signbit(x.data) == np.signbit(y.data)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", RULES, ids=IDS)
def test_grouped_update_gives_the_bits_of_one_parameter_at_a_time(name, kwargs, dtype):
    grouped, opt = _train(name, kwargs, dtype, True)
    alone, ref = _train(name, kwargs, dtype, False)
    assert len(opt._groups) == 1 and opt._groups[0].indices == list(range(6)) and not ref._groups
    _assert_same_bits(grouped, alone)
    for st, st_ref in zip(opt.state, ref.state):
        assert st["step"] == st_ref["step"] == 6
        for key in opt._state_names():
            np.testing.assert_array_equal(st[key], st_ref[key])


@pytest.mark.parametrize("name,kwargs", RULES[::3], ids=IDS[::3])
def test_a_missing_gradient_falls_back_to_one_at_a_time_for_good(name, kwargs):
    # Step 2 leaves parameter 3 without a gradient: from then on the step counts differ, so the
    # group cannot share one bias correction and each parameter keeps its own.
    grouped, opt = _train(name, kwargs, np.float64, True, skip=(2, 3))
    alone, _ = _train(name, kwargs, np.float64, False, skip=(2, 3))
    _assert_same_bits(grouped, alone)
    assert [st["step"] for st in opt.state] == [6, 6, 6, 5, 6, 6]


def test_gradients_of_another_dtype_or_shape_fall_back_and_match():
    ps = _params(np.float32)
    ref = _params(np.float32)
    opt, opt_ref = optim.Adam(ps, lr=0.01), optim.Adam(ref, lr=0.01)
    opt_ref._plan_groups = lambda: []
    g64 = [np.full(p.shape, 0.25) for p in ps]  # float64 gradients for float32 parameters
    for p, q, g in zip(ps, ref, g64):
        p.grad, q.grad = g, g
    opt.step()
    opt_ref.step()
    _assert_same_bits(ps, ref)
    for p, q in zip(ps, ref):
        p.grad, q.grad = np.ones(p.shape, np.float32), np.ones(p.shape, np.float32)
    ps[0].grad = ref[0].grad = np.ones(3, np.float32)  # broadcasts against (5, 3), as one at a time allows
    opt.step()
    opt_ref.step()
    _assert_same_bits(ps, ref)


def test_state_arrays_are_views_of_the_group_and_state_dicts_round_trip():
    ps, opt = _train("adam", {"lr": 0.01}, np.float32, True, steps=3)
    grp = opt._groups[0]
    for st, (lo, hi) in zip(opt.state, grp.spans):
        assert np.shares_memory(st["exp_avg"], grp.state["exp_avg"])
    saved = opt.state_dict()
    fresh = _params(np.float32)
    for p, q in zip(fresh, ps):
        p.data[...] = q.data
    opt2 = optim.Adam(fresh, lr=0.01)
    opt2.load_state_dict(saved)
    rng = np.random.default_rng(5)
    for _ in range(2):
        for p, q in zip(ps, fresh):
            p.grad = rng.standard_normal(p.shape).astype(np.float32)
            q.grad = p.grad.copy()
        opt.step()
        opt2.step()
    _assert_same_bits(ps, fresh)
    assert opt2._groups and np.shares_memory(opt2.state[2]["exp_avg_sq"], opt2._groups[0].state["exp_avg_sq"])


def test_a_replaced_parameter_array_is_updated_where_it_now_is():
    ps = _params(np.float64)
    opt = optim.Adam(ps, lr=0.1)
    for p in ps:
        p.grad = np.ones(p.shape)
    opt.step()
    ps[2].data = ps[2].data.copy()  # e.g. a user loading weights by assignment
    new = ps[2].data
    before = new.copy()
    for p in ps:
        p.grad = np.ones(p.shape)
    opt.step()
    assert ps[2].data is new and (new < before).all()


def test_which_parameters_are_grouped(monkeypatch):
    monkeypatch.setattr(base, "FLAT_TOTAL", 40)
    rng = np.random.default_rng(0)
    big = cr.tensor(rng.standard_normal(base.CHUNK + 1), requires_grad=True, dtype=np.float32)
    strided = cr.tensor(np.zeros((6, 4))[:, ::2], requires_grad=True)  # stays a view: no group
    strided.data = np.zeros((6, 4), np.float32)[:, ::2]
    small = [cr.tensor(rng.standard_normal(n), requires_grad=True, dtype=np.float32) for n in (10, 20, 15, 30)]
    wide = [cr.tensor(rng.standard_normal(8), requires_grad=True, dtype=np.float64) for _ in range(3)]
    lonely = cr.tensor(rng.standard_normal(3), requires_grad=True, dtype=np.float16)
    opt = optim.Adam([big, small[0], strided, *small[1:], *wide, lonely], lr=0.1)
    groups = opt._plan_groups()
    # float32 runs of at most 40 elements: [10, 20] then [15] alone (30 would pass 40) and [30] alone.
    assert [(g.indices, g.dtype) for g in groups] == [([1, 3], np.float32), ([6, 7, 8], np.float64)]
    assert groups[0].spans == [(0, 10), (10, 30)]


class _PerTensorNormalised(optim.Optimizer):
    """A rule that is not element-wise: each parameter moves by lr along its unit gradient."""

    def _update(self, p, g, st):
        p -= self.lr * g / np.linalg.norm(g)


def test_rules_not_marked_elementwise_keep_one_parameter_at_a_time():
    ps = _params(np.float64)
    opt = _PerTensorNormalised(ps, lr=0.5)
    for p in ps:
        p.grad = np.ones(p.shape)
    before = [p.data.copy() for p in ps]
    opt.step()
    assert opt._groups == []
    for p, b in zip(ps, before):
        assert np.linalg.norm(b - p.data) == pytest.approx(0.5)

    class _Subclassed(optim.Adam):  # overriding a marked _update unmarks it
        def _update(self, p, g, st):
            super()._update(p, g, st)

    assert _Subclassed(_params(np.float32), lr=0.1)._plan_groups() == []


def test_an_mlp_trains_to_the_same_weights_with_adam_grouped_or_not():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40)
    out = []
    for grouped in (True, False):
        model = nn.MLP([6, 16, 8, 3], seed=0)
        opt = optim.Adam(model.parameters(), lr=0.01)
        if not grouped:
            opt._plan_groups = lambda: []
        cr.fit(model, "cross_entropy", opt, (x, y), epochs=3, batch_size=8, seed=0, verbose=0)
        out.append([p.data for p in model.parameters()])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_a_users_rule_marked_elementwise_is_grouped_and_gives_the_same_bits():
    class SignSGD(optim.Optimizer):
        @optim.elementwise
        def _update(self, p, g, st):
            p -= self.lr * np.sign(g)

    runs = []
    for grouped in (True, False):
        ps = _params(np.float32)
        opt = SignSGD(ps, lr=0.125)
        if not grouped:
            opt._plan_groups = lambda: []
        for k in range(3):
            for p in ps:
                p.grad = np.cos(p.data * (k + 1))
            opt.step()
        runs.append((ps, opt))
    (a, opt), (b, _) = runs
    assert len(opt._groups) == 1
    _assert_same_bits(a, b)


@pytest.mark.parametrize("name,kwargs", RULES, ids=IDS)
def test_grouped_steps_allocate_nothing_after_the_first(name, kwargs):
    ps = [cr.tensor(np.ones(4000), requires_grad=True, dtype=np.float32) for _ in range(5)]
    opt = optim.OPTIMIZERS[name](ps, **kwargs)
    for p in ps:
        p.grad = np.full(4000, 0.5, np.float32)
    opt.step()  # the first step makes the state and the group's work arrays
    peak = peak_during(opt.step, 5)
    assert peak < 4000, peak  # far below one 16 KB parameter
    grp = opt._groups[0]
    assert [a.size for a in opt._flat[np.dtype(np.float32)]] == [20000] * 3
    # Coupled L2 needs g + wd * w apart; AdamW decays the weights in place and needs no second temporary.
    assert ("_tmp2" in grp.part) == (name != "adamw" and bool(kwargs.get("weight_decay")))


def test_plain_sgd_makes_no_group_work_arrays():
    ps = _params(np.float32)
    opt = optim.SGD(ps, lr=0.1)
    for p in ps:
        p.grad = np.ones(p.shape, np.float32)
    opt.step()
    opt.step()
    assert opt._groups and opt._flat == {}


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_optimizer_keeps_its_state_linked_to_its_groups(how):
    import copy
    import pickle

    ps, opt = _train("adam", {"lr": 0.01}, np.float32, True, steps=3)
    twin = copy.deepcopy(opt) if how == "deepcopy" else pickle.loads(pickle.dumps(opt))
    assert all(np.shares_memory(st["exp_avg"], twin._groups[0].state["exp_avg"]) for st in twin.state)
    assert not np.shares_memory(twin.state[0]["exp_avg"], opt.state[0]["exp_avg"])
    rng = np.random.default_rng(3)
    for _ in range(3):
        for p, q in zip(opt.params, twin.params):
            p.grad = rng.standard_normal(p.shape).astype(np.float32)
            q.grad = p.grad.copy()
        opt.step()
        twin.step()
    _assert_same_bits(opt.params, twin.params)
    a, b = opt.state_dict(), twin.state_dict()
    assert a["meta"] == b["meta"] and all(np.array_equal(a["arrays"][k], b["arrays"][k]) for k in a["arrays"])

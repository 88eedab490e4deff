"""fit(compile="auto"), the default: replayed steps where they are safe, eager steps where they are not."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.callbacks import Callback


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def _net():
    return nn.Sequential(nn.Linear(5, 12, seed=0), nn.ReLU(), nn.Linear(12, 3, seed=1))


def _fit(model, compile_, **kw):
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    kw = {"epochs": 3, "batch_size": 16, "seed": 2, "verbose": 0, **kw}
    h = cr.fit(model, "cross_entropy", opt, _data(), compile=compile_, **kw)
    return h, opt


def _compiled(opt):
    (step,) = opt._compiled_steps.values()
    return step


def _same_weights(a, b, tol):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=tol, atol=tol)


def test_fit_compiles_by_default_and_gives_the_eager_weights():
    eager, auto = _net(), _net()
    h1, _ = _fit(eager, False)
    opt = cr.optim.SGD(auto.parameters(), lr=0.1, momentum=0.9)
    h2 = cr.fit(auto, "cross_entropy", opt, _data(), epochs=3, batch_size=16, seed=2, verbose=0)  # no compile=
    assert _compiled(opt).stats["replays"] > 0
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-5)
    _same_weights(eager, auto, 1e-5)


def test_the_default_step_is_replayed_after_two_recordings_per_batch_shape():
    model = _net()
    h, opt = _fit(model, "auto")
    step = _compiled(opt)
    # 90 rows in batches of 16: 5 full batches and one of 10 per epoch, 18 steps. Each shape is recorded
    # twice before it replays (the 10-row one in epochs 1 and 2): no callback could change the step.
    assert step.eager_reason is None
    assert step.stats["recordings"] == 4 and step.stats["replays"] == 14
    # A second fit call on the unchanged model replays at once (its layers' settings are compared).
    cr.fit(model, "cross_entropy", opt, _data(), epochs=1, batch_size=16, verbose=0)
    assert step.stats["recordings"] == 4 and step.stats["replays"] == 20


class _Branchy(nn.Module):
    """A net that decides on a tensor's value: it cannot be replayed, though it says it can."""

    replayable = True

    def __init__(self):
        super().__init__()
        self.net = _net()

    def forward(self, x):
        out = self.net(x)
        return out * 2.0 if float(out.sum()) > 1e9 else out


def test_a_step_that_branches_on_values_trains_eagerly_with_the_same_result():
    runs = [_fit(_Branchy(), mode) for mode in (False, "auto")]
    (h1, _), (h2, opt) = runs
    assert h2["loss"] == h1["loss"]
    assert "reads a tensor's value" in _compiled(opt).eager_reason
    with pytest.raises(ValueError, match=r"reads a tensor's value \(float\(\), int\(\), item\(\)\)"):
        _fit(_Branchy(), True)  # asked for explicitly: it says why it cannot


class _Scaled(nn.Module):
    replayable = True  # chainrule ops only; the Python number it reads is a constant of the tape

    def __init__(self):
        super().__init__()
        self.net, self.scale = _net(), 1.0

    def forward(self, x):
        return self.net(x) * self.scale  # a Python number: a constant of the recorded tape


class _Halve(Callback):
    def on_epoch_end(self, ctx, epoch, logs):
        ctx.model.scale *= 0.5


def test_a_constant_changed_between_epochs_is_seen_by_the_next_epoch():
    runs = [(_Scaled(), mode) for mode in (False, "auto")]
    hs = [_fit(m, mode, callbacks=[_Halve()])[0] for m, mode in runs]
    np.testing.assert_allclose(hs[1]["loss"], hs[0]["loss"], rtol=1e-5)
    _same_weights(runs[0][0], runs[1][0], 1e-5)


def test_a_setting_changed_between_fit_calls_is_seen():
    runs = []
    for mode in (False, "auto"):
        model = _Scaled()
        opt = cr.optim.SGD(model.parameters(), lr=0.1)  # one optimiser: fit keeps its compiled step there
        fits = [cr.fit(model, "cross_entropy", opt, _data(), epochs=2, batch_size=16, seed=2, verbose=0, compile=mode)]
        model.scale = 0.3
        fits.append(cr.fit(model, "cross_entropy", opt, _data(), epochs=2, batch_size=16, seed=2, verbose=0,
                           compile=mode))
        runs.append((model, [h["loss"] for h in fits]))
    (m1, l1), (m2, l2) = runs
    np.testing.assert_allclose(l2, l1, rtol=1e-5)
    _same_weights(m1, m2, 1e-5)


class _Shrink(Callback):
    wants_batches = True

    def on_batch_end(self, ctx, batch, loss):
        ctx.model.scale *= 0.99


class _Watch(Callback):
    wants_batches, replay_safe = True, True

    def on_batch_end(self, ctx, batch, loss):
        pass


def test_a_callback_that_may_change_the_model_between_batches_keeps_the_step_eager():
    runs = [(_Scaled(), mode) for mode in (False, "auto")]
    hs = []
    for m, mode in runs:
        h, opt = _fit(m, mode, callbacks=[_Shrink()])
        hs.append(h)
    assert not getattr(opt, "_compiled_steps", None)  # no compiled step was made
    assert hs[1]["loss"] == hs[0]["loss"]
    _, opt = _fit(_net(), "auto", callbacks=[_Watch()])
    assert _compiled(opt).stats["replays"] > 0  # a callback that only reads does not stop it


def test_batch_norm_under_the_default_fit_matches_eager_training():
    def bn():
        return nn.Sequential(nn.Linear(5, 12, seed=0), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 3, seed=1))
    (a, b) = bn(), bn()
    _fit(a, False)
    _, opt = _fit(b, "auto")
    assert _compiled(opt).stats["replays"] > 0
    np.testing.assert_array_equal(int(b[1].num_batches_tracked), int(a[1].num_batches_tracked))
    np.testing.assert_allclose(b[1].running_mean, a[1].running_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b[1].running_var, a[1].running_var, rtol=1e-5, atol=1e-6)
    _same_weights(a, b, 1e-5)


class _Talkative(nn.Module):
    """Python code in forward (it counts the rows it sees), and no claim to be replayable."""

    def __init__(self):
        super().__init__()
        self.net, self.rows = _net(), 0

    def forward(self, x):
        self.rows += len(x.data if hasattr(x, "data") else x)
        return self.net(x)


def _steps(opt):
    return sum(s.stats["replays"] for s in getattr(opt, "_compiled_steps", {}).values())


def test_own_modules_user_losses_and_label_losses_train_eagerly():
    model = _Talkative()
    _, opt = _fit(model, "auto")
    assert _steps(opt) == 0 and model.rows == 3 * 90 + 2  # every row of every epoch, plus fit's probe
    assert _Talkative.replayable is False and nn.Linear.replayable is True

    def own_loss(out, y):
        return nn.functional.cross_entropy(out, y)

    for loss in (own_loss, "multiclass_hinge"):
        net = _net()
        opt = cr.optim.SGD(net.parameters(), lr=0.1)
        cr.fit(net, loss, opt, _data(), epochs=2, batch_size=16, verbose=0)
        assert _steps(opt) == 0, loss
    # A built-in loss module counts as its function: compiled.
    net = _net()
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    cr.fit(net, nn.CrossEntropyLoss(), opt, _data(), epochs=2, batch_size=16, verbose=0)
    assert _steps(opt) > 0


def test_bce_replays_on_targets_unlike_those_it_was_recorded_on():
    """The first batches hold one class only (a sorted data set): the tape must not bake their targets in."""
    X, _ = _data(96)
    y = np.r_[np.zeros(48), np.ones(48)]
    runs = []
    for mode in (False, "auto"):
        model = nn.Sequential(nn.Linear(5, 4, seed=0), nn.Tanh(), nn.Linear(4, 1, seed=1), nn.Sigmoid())
        opt = cr.optim.SGD(model.parameters(), lr=0.5)
        h = cr.fit(model, "bce", opt, (X, y), epochs=3, batch_size=8, shuffle=False, verbose=0, compile=mode)
        runs.append((model, h, opt))
    (m1, h1, _), (m2, h2, opt) = runs
    assert _steps(opt) > 20
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-6)
    _same_weights(m1, m2, 1e-6)


def test_a_large_net_trains_eagerly_by_default():
    from chainrule.train.run import AUTO_COMPILE_LIMIT

    X = np.random.default_rng(0).standard_normal((40, 600)).astype(np.float32)
    y = np.arange(40) % 3
    big = nn.Sequential(nn.Linear(600, 450, seed=0), nn.ReLU(), nn.Linear(450, 3, seed=1))
    assert sum(p.size for p in big.parameters()) > AUTO_COMPILE_LIMIT
    opt = cr.optim.SGD(big.parameters(), lr=0.01)
    cr.fit(big, "cross_entropy", opt, (X, y), epochs=2, batch_size=8, verbose=0)
    assert _steps(opt) == 0
    opt = cr.optim.SGD(big.parameters(), lr=0.01)
    cr.fit(big, "cross_entropy", opt, (X, y), epochs=2, batch_size=8, verbose=0, compile=True)
    assert _steps(opt) > 0  # asked for, it compiles

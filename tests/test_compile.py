"""cr.compile: replayed steps equal eager ones; guards re-record or refuse; no per-step allocation."""

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim

F = nn.functional
TOL = {"float32": 1e-5, "float64": 1e-12}


def _mlp(dtype, dropout=True):
    layers = [nn.Linear(6, 16, seed=0, dtype=dtype), nn.ReLU(), nn.Linear(16, 12, seed=1, dtype=dtype), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(0.3, seed=5))
    return nn.Sequential(*layers, nn.Linear(12, 4, seed=2, dtype=dtype)), (6,)


def _cnn(dtype):
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, seed=0, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3 * 3 * 3, 4, seed=1, dtype=dtype)), (1, 6, 6)


class _LastStep(nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.rnn = nn.LSTM(3, 5, seed=0, dtype=dtype, return_sequences=False)
        self.head = nn.Linear(5, 4, seed=1, dtype=dtype)

    def forward(self, x):
        return self.head(self.rnn(x))


def _rnn(dtype):
    return _LastStep(dtype), (7, 3)


def _optimizer(name, model):
    if name == "sgd-momentum":
        return optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    return optim.Adam(model.parameters(), lr=0.01)


def _train_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _data(shape, dtype, n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)).astype(dtype), rng.integers(0, 4, n)


def _epoch(step, X, Y, bs=16):
    return [float(step(X[i:i + bs], Y[i:i + bs])) for i in range(0, len(X), bs)]


def check_compiled_epochs(build, opt_name, dtype, backend="numpy", epochs=2, scale_row=None):
    """Train two copies of ``build(dtype)``, eagerly and compiled; losses, weights and gradients agree to TOL."""
    (eager_model, shape), (comp_model, _) = build(dtype), build(dtype)
    eager_opt, comp_opt = _optimizer(opt_name, eager_model), _optimizer(opt_name, comp_model)
    X, Y = _data(shape, dtype)
    if scale_row is not None:  # logits of ~1e3 in one row: the loss must subtract that row's own max
        X[scale_row] *= 1e3
    compiled = cr.compile(_train_step(comp_model, comp_opt), backend=backend, model=comp_model)
    for _ in range(epochs):  # the last epoch runs on replays only (60 rows: 3 full batches + 12)
        eager_losses = _epoch(_train_step(eager_model, eager_opt), X, Y)
        comp_losses = _epoch(compiled, X, Y)
    assert compiled.stats["replays"] >= 4
    np.testing.assert_allclose(comp_losses, eager_losses, rtol=TOL[dtype], atol=TOL[dtype])
    for (name, a), b in zip(eager_model.named_parameters(), comp_model.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=TOL[dtype], atol=TOL[dtype], err_msg=name)
        np.testing.assert_allclose(b.grad, a.grad, rtol=TOL[dtype], atol=TOL[dtype], err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("build", [_mlp, _cnn, _rnn], ids=["mlp", "cnn", "rnn"])
@pytest.mark.parametrize("opt_name", ["sgd-momentum", "adam"])
def test_one_compiled_epoch_equals_the_eager_one(build, opt_name, dtype):
    check_compiled_epochs(build, opt_name, dtype)


@pytest.mark.parametrize("rows", [16, 128])  # 128 rows of 10 classes: the row max from a transposed copy
def test_the_replayed_loss_kernel_equals_the_eager_loss(rows):
    X, Y = np.random.default_rng(3).standard_normal((rows, 6)), np.arange(rows) * 3 % 10
    X[5, :] = 4000.0  # logits of ~1e3 in one row: exp overflows unless that row's own max is subtracted
    runs = []
    for compiled in (False, True):
        model = nn.Sequential(nn.Linear(6, 10, seed=0, dtype="float64"))
        step = _train_step(model, optim.SGD(model.parameters(), lr=0.1))
        step = cr.compile(step) if compiled else step
        losses = [float(step(X, Y)) for _ in range(4)]
        runs.append((losses, [p.grad.copy() for p in model.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


def test_fit_with_compile_gives_the_eager_weights_and_history():
    X, Y = _data((6,), "float32", n=90)
    runs = []
    for compile_ in (False, True):
        model, _ = _mlp("float32")
        h = cr.fit(model, "cross_entropy", ("sgd", 0.1), (X, Y), epochs=3, batch_size=20, seed=1, verbose=0,
                   metrics=["accuracy"], validation_split=0.2, compile=compile_)
        runs.append((model, h))
    (m1, h1), (m2, h2) = runs
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-6)
    assert h2["accuracy"] == h1["accuracy"] and h2["val_loss"] == pytest.approx(h1["val_loss"], rel=1e-6)
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)


def test_fit_rejects_an_unknown_backend():
    model, _ = _mlp("float32")
    with pytest.raises(ValueError, match="unknown compile backend 'tpu'; expected one of: jax, numba, numpy"):
        cr.fit(model, "cross_entropy", "sgd", _data((6,), "float32"), compile="tpu", verbose=0)


def _tiny():
    w = cr.tensor(np.ones((3, 2)), requires_grad=True, dtype="float64")
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (cr.linear(x, w) ** 2).sum()
        loss.backward()
        opt.step()
        return loss
    return w, step


def test_a_new_shape_or_dtype_records_its_own_tape():
    w, step = _tiny()
    f = cr.compile(step)
    for x in [np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2)), np.ones((5, 2)), np.ones((4, 2), np.float32)]:
        f(x)
    assert f.stats == {"recordings": 4, "replays": 1, "keys": 3}


def test_replaced_parameter_arrays_are_noticed():
    w, step = _tiny()
    f = cr.compile(step)
    for _ in range(3):
        f(np.ones((4, 2)))
    w.data = np.zeros((3, 2))
    out = f(np.ones((4, 2)))
    assert float(out) == 0.0 and f.stats["recordings"] == 3


def test_data_dependent_constants_and_branches_are_refused():
    w = cr.tensor(np.ones(2), requires_grad=True, dtype="float64")

    def scaled(x):
        return (w * (x.data * 2)).sum()  # NumPy arithmetic on the input: baked in at recording

    f = cr.compile(scaled)
    f(cr.tensor(np.ones(2)))
    with pytest.raises(ValueError, match="compile: two calls of the step with the same input shapes did different"):
        f(cr.tensor(np.full(2, 3.0)))

    def branchy(x):
        y = (w * x).sum()
        return y * 2 if y > 0 else y

    with pytest.raises(ValueError, match=r"branches on a tensor's value \(bool\(tensor\)\)"):
        cr.compile(branchy)(np.ones(2))


def test_a_tensor_requiring_grad_is_refused_as_input():
    with pytest.raises(ValueError, match="argument 0 requires grad"):
        cr.compile(lambda x: x.sum())(cr.tensor([1.0], requires_grad=True))


def test_dropout_draws_fresh_masks_and_eval_mode_has_its_own_tape():
    model = nn.Sequential(nn.Dropout(0.5, seed=0))
    f = cr.compile(lambda x: model(x) * 1.0, model=model)
    x = np.ones((4, 8), np.float32)
    masks = [f(x) for _ in range(4)]
    assert not np.array_equal(masks[2], masks[3])
    expected = nn.Sequential(nn.Dropout(0.5, seed=0))
    for m in masks:
        np.testing.assert_array_equal(m, expected(x).data)
    model.eval()
    np.testing.assert_array_equal(f(x), x)


def test_no_grad_inference_is_compiled_too():
    model, _ = _mlp("float64", dropout=False)
    predict = cr.compile(cr.no_grad()(lambda x: model(x)))
    X, _ = _data((6,), "float64", n=8)
    for _ in range(3):
        out = predict(X)
    assert predict.stats["replays"] == 1
    np.testing.assert_allclose(out, model(X).data, rtol=1e-12)


def _traced(fn, n):
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(n):
        fn()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base, current - base


@pytest.mark.parametrize("backend, max_peak, max_kept", [("numpy", 48_000, 8_000), ("numba", 16_000, 4_000)])
def test_a_replayed_mlp_step_allocates_no_arrays(one_blas_thread, backend, max_peak, max_kept):
    if backend == "numba":
        pytest.importorskip("numba", reason="the numba backend needs the optional extra chainrule[numba]")
    model = nn.Sequential(nn.Linear(64, 128, seed=0), nn.ReLU(), nn.Linear(128, 10, seed=1))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    eager = _train_step(model, opt)
    step = cr.compile(eager, backend=backend)
    X, Y = _data((64,), "float32", n=256)
    for _ in range(3):
        step(X, Y)
    eager_peak, _ = _traced(lambda: eager(X, Y), 3)
    peak, kept = _traced(lambda: step(X, Y), 10)
    # One hidden activation is 128 KB and an eager step allocates a few (its Linear and ReLU share one
    # array since they run as one dense_chain op, the gradients need more). What a replay still
    # allocates is NumPy's own iterator buffer for broadcasting operands (bounded by its 8192-element
    # buffer size, whatever the batch) and small Python objects; nothing is kept between steps. The
    # numba backend's arrays are all buffers made when the tape was lowered: it allocates the
    # returned loss (a 0-d copy) and small objects.
    assert eager_peak > 256_000
    assert peak < max_peak and kept < max_kept, (peak, kept)


def test_import_chainrule_needs_no_jax_or_numba():
    code = "import sys, chainrule; chainrule.compile; print('jax' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False False", out.stderr


def test_jax_backend_scans_an_epoch_to_the_eager_weights():
    pytest.importorskip("jax", reason="the jax backend needs the optional extra chainrule[jax]")
    models = [_mlp("float32", dropout=False)[0] for _ in range(2)]
    opts = [_optimizer("adam", m) for m in models]
    X, Y = _data((6,), "float32", n=64)
    order = np.random.default_rng(3).permutation(64)
    eager = _train_step(models[0], opts[0])
    eager_losses = [float(eager(X[order[i:i + 16]], Y[order[i:i + 16]])) for i in range(0, 64, 16)]
    compiled = cr.compile(_train_step(models[1], opts[1]), backend="jax")
    losses = [float(v) for v in compiled.epoch(X, Y, 16, order)]  # 2 recorded steps, then one scan of 2
    assert compiled.stats == {"recordings": 2, "replays": 0, "keys": 1}
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-5, atol=1e-6)  # .grad: the last step's, as eager
    assert opts[1].state[0]["step"] == 4


def test_jax_backend_runs_a_smaller_last_batch_in_the_same_call_as_the_scan():
    pytest.importorskip("jax", reason="the jax backend needs the optional extra chainrule[jax]")
    models = [_mlp("float32", dropout=False)[0] for _ in range(2)]
    opts = [_optimizer("sgd-momentum", m) for m in models]
    X, Y = _data((6,), "float32", n=70)  # 4 batches of 16 and a last one of 6
    order = np.random.default_rng(4).permutation(70)
    eager = _train_step(models[0], opts[0])
    compiled = cr.compile(_train_step(models[1], opts[1]), backend="jax")
    for _ in range(3):  # the first two epochs record each shape twice; the third fuses scan and tail
        eager_losses = [float(eager(X[order[i:i + 16]], Y[order[i:i + 16]])) for i in range(0, 70, 16)]
        losses = [float(v) for v in compiled.epoch(X, Y, 16, order)]
    full = next(s.replay for k, s in compiled._slots.items() if k[0][0][0] == (16, 6))
    assert [f for _, f in full._fused_steps.values()] != [None]  # the fused call was built and used
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-5, atol=1e-6)  # the last (6-row) step's
    for a, b in zip(opts[0].state, opts[1].state):
        assert a["step"] == b["step"] == 15
        np.testing.assert_allclose(b["momentum_buffer"], a["momentum_buffer"], rtol=1e-5, atol=1e-6)


def test_an_epoch_over_a_subset_order_runs_only_those_rows():
    model = nn.Sequential(nn.Linear(6, 4, seed=0))
    step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.1)))
    X, Y = _data((6,), "float32", n=60)
    outs = step.epoch(X, Y, 16, np.arange(40)[::-1])  # 40 of the 60 rows: batches of 16, 16 and 8
    assert len(outs) == 3 and all(np.isfinite(float(v)) for v in outs)
    assert step.stats["recordings"] + step.stats["replays"] == 3


def test_an_epoch_looks_up_the_full_batches_key_once_and_equals_calls_batch_by_batch(monkeypatch):
    X, Y = _data((6,), "float32", n=70)  # batches of 16 x 4 and a last one of 6
    order = np.random.default_rng(1).permutation(70)
    runs = []
    for by_epoch in (False, True):
        model = nn.Sequential(nn.Linear(6, 8, seed=0), nn.ReLU(), nn.Linear(8, 4, seed=1))
        step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.1)))
        losses = []
        for _ in range(3):  # two epochs record, the third replays every batch
            if by_epoch:
                losses += [float(v) for v in step.epoch(X, Y, 16, order)]
            else:
                losses += [float(step(X[order[i:i + 16]], Y[order[i:i + 16]])) for i in range(0, 70, 16)]
        runs.append((losses, [p.data.copy() for p in model.parameters()], dict(step.stats)))
    assert runs[1][0] == runs[0][0] and runs[1][2] == runs[0][2]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(b, a)
    lookups = []
    real = type(step)._slot
    monkeypatch.setattr(type(step), "_slot", lambda self, args: lookups.append(1) or real(self, args))
    step.epoch(X, Y, 16, order)
    assert len(lookups) == 2  # the full batches' key once, the last batch's once
    assert step.stats["replays"] == runs[1][2]["replays"] + 5


def test_an_epoch_after_a_weight_array_is_replaced_records_again_and_trains_from_it():
    X, Y = _data((6,), "float32", n=64)
    models = [nn.Sequential(nn.Linear(6, 4, seed=0)) for _ in range(2)]
    steps = [_train_step(m, optim.SGD(m.parameters(), lr=0.1)) for m in models]
    compiled = cr.compile(steps[1])
    for _ in range(2):
        _epoch(steps[0], X, Y), compiled.epoch(X, Y, 16)
    recorded = compiled.stats["recordings"]
    for m in models:  # a new array: the replay's captured one is stale
        m[0].weight.data = np.full_like(m[0].weight.data, 0.5)
    _epoch(steps[0], X, Y), compiled.epoch(X, Y, 16)
    assert compiled.stats["recordings"] > recorded
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-6, atol=1e-7)


def test_jax_backend_refuses_what_it_cannot_lower():
    pytest.importorskip("jax", reason="the jax backend needs the optional extra chainrule[jax]")
    model = nn.Sequential(nn.Linear(6, 4, seed=0), nn.Dropout(0.5, seed=0))
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = cr.compile(_train_step(model, opt), backend="jax")
    X, Y = _data((6,), "float32", n=8)
    step(X, Y)
    with pytest.raises(ValueError, match="cannot lower op 'dropout' yet; use backend='numpy'"):
        step(X, Y)
    w = cr.tensor([1.0], requires_grad=True)
    twice = cr.compile(lambda x: ((w * x).sum().backward(), (w * x).sum().backward()), backend="jax")
    twice(np.ones(1, np.float32))
    with pytest.raises(ValueError, match="supports a forward pass, optionally followed by one backward"):
        twice(np.ones(1, np.float32))


# ---------------------------------------------------------------- batch norm's statistics
def _bn_net(kind):
    if kind == "1d":
        return nn.Sequential(nn.Linear(6, 8, seed=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4, seed=1)), (6,)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, seed=0), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 6 * 6, 4, seed=1)), (1, 6, 6)


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_batch_norm_running_statistics_are_updated_by_every_replay(kind):
    runs = []
    for compiled in (False, True):
        model, shape = _bn_net(kind)
        step = _train_step(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
        step = cr.compile(step, model=model) if compiled else step
        X, Y = _data(shape, "float32", n=64)
        for _ in range(2):
            _epoch(step, X, Y)  # 4 batches of 16 per epoch: 6 of the 8 steps are replays
        runs.append((model, step))
    (eager, _), (comp, step) = runs
    assert step.stats["replays"] == 6
    bn_e, bn_c = eager[1], comp[1]
    assert int(bn_c.num_batches_tracked) == int(bn_e.num_batches_tracked) == 8
    # The same in-place NumPy updates on the same batch statistics: the same bits.
    np.testing.assert_array_equal(bn_c.running_mean, bn_e.running_mean)
    np.testing.assert_array_equal(bn_c.running_var, bn_e.running_var)
    for a, b in zip(eager.parameters(), comp.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", ["jax", "numba"])
def test_backends_that_cannot_replay_statistics_updates_say_so(backend):
    pytest.importorskip(backend, reason=f"the {backend} backend needs the optional extra chainrule[{backend}]")
    model, shape = _bn_net("1d")
    step = cr.compile(_train_step(model, optim.SGD(model.parameters(), lr=0.05)), backend=backend, model=model)
    X, Y = _data(shape, "float32", n=16)
    step(X, Y)
    with pytest.raises(ValueError, match=rf"compile\(backend='{backend}'\) cannot replay in-place updates of arrays "
                                         r"that are not parameters \(batch norm's running statistics\)"):
        step(X, Y)


def test_a_side_effect_whose_constants_change_between_recordings_is_refused():
    from chainrule.autodiff.tape import side_effect

    total, calls = np.zeros(1), []

    def add(target, value, scale):
        target += scale * value

    def step(x):
        calls.append(1)
        side_effect(add, total, cr.tensor(x).sum(), scale=float(len(calls)))  # a constant that changes per call
        return None

    f = cr.compile(step)
    f(np.ones(2))
    with pytest.raises(ValueError, match=r"event 1 \(an in-place update such as batch norm's statistics\) differs"):
        f(np.ones(2))


# ---------------------------------------------------------------- plain SGD on one flat gradient array
class _SelfSGD(optim.SGD):
    """SGD whose class is not SGD itself: the replay calls its step (the rule as eager mode runs it)."""


def _sgd_runs(opt_cls, X, Y, epochs=3, **kw):
    model, _ = _mlp("float32", dropout=False)
    opt = opt_cls(model.parameters(), lr=0.05, **kw)
    step = cr.compile(_train_step(model, opt), model=model)
    losses = [_epoch(step, X, Y) for _ in range(epochs)]
    return model, opt, step, losses


def test_plain_sgd_replays_as_one_multiply_with_the_bits_of_its_own_step():
    X, Y = _data((6,), "float32")
    m1, o1, s1, l1 = _sgd_runs(optim.SGD, X, Y)
    m2, o2, s2, l2 = _sgd_runs(_SelfSGD, X, Y)
    assert s1.stats["replays"] >= 4 and l1 == l2
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.grad, b.grad)
    assert [st["step"] for st in o1.state] == [st["step"] for st in o2.state] == [12] * 6
    # The last step (the 12-row batch) was a replay: its gradients sit in one array, which is what
    # lets the update run once on all of them.
    grads = [p.grad for p in m1.parameters()]
    assert all(g.base is not None and g.base is grads[0].base for g in grads)


def test_the_tapes_of_each_batch_shape_share_one_set_of_gradient_buffers():
    X, Y = _data((6,), "float32")  # 60 rows: batches of 16 and a last one of 12, both replayed by epoch 3
    model, opt, step, _ = _sgd_runs(optim.SGD, X, Y)
    assert step.stats["keys"] == 2 and all(slot.replay is not None for slot in step._slots.values())
    step(X[:16], Y[:16])
    full = [p.grad for p in model.parameters()]
    step(X[:12], Y[:12])
    last = [p.grad for p in model.parameters()]
    assert all(a is b for a, b in zip(full, last))  # the same views of the same flat array
    assert len(step._shared) == 1


@pytest.mark.parametrize("zero_rows", [None, 16], ids=["never-zeroed", "zeroed-on-full-batches"])
def test_gradients_accumulated_across_batch_shapes_equal_eager_ones(zero_rows):
    # Zeroed on full batches only: the last batch's tape adds to the gradient that the full batches'
    # tape left in the buffers both share, so it must copy it out before its backward overwrites them.
    X, Y = _data((6,), "float32")
    runs = []
    for compiled in (False, True):
        model, _ = _mlp("float32", dropout=False)
        opt = optim.SGD(model.parameters(), lr=0.01)

        def step(x, y, model=model, opt=opt):  # .grad sums the batches since the last zero_grad
            if len(x) == zero_rows:
                opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        f = cr.compile(step, model=model) if compiled else step
        for _ in range(4):
            _epoch(f, X, Y)
        runs.append(model)
    assert f.stats["replays"] >= 8
    for a, b in zip(*(m.parameters() for m in runs)):
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)


def test_the_flat_sgd_update_follows_lr_changes_and_falls_back_when_the_rule_changes():
    X, Y = _data((6,), "float32")
    runs = []
    for cls in (optim.SGD, _SelfSGD):
        model, opt, step, _ = _sgd_runs(cls, X, Y, epochs=1)
        opt.lr = 0.01
        _epoch(step, X, Y)
        opt.momentum = 0.9  # not plain any more: the replay must run the rule with its momentum buffer
        _epoch(step, X, Y)
        runs.append(model)
    for a, b in zip(*(m.parameters() for m in runs)):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_parameter_the_step_does_not_reach_is_updated_as_eager_mode_does():
    X, Y = _data((6,), "float32")
    runs = []
    for compiled in (False, True):
        model, _ = _mlp("float32", dropout=False)
        extra = cr.tensor(np.ones(3, np.float32), requires_grad=True)
        opt = optim.SGD([*model.parameters(), extra], lr=0.05)

        def step(x, y, model=model, extra=extra, opt=opt):
            model.zero_grad()  # only the model's gradients: extra's comes from outside the tape
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            extra.grad = np.full(3, 0.5, np.float32)
            opt.step()
            return loss

        f = cr.compile(step, model=model) if compiled else step
        _epoch(f, X, Y)
        runs.append((model, extra))
    (m1, e1), (m2, e2) = runs
    np.testing.assert_array_equal(e2.data, e1.data)
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("read", [float, int, lambda t: t.item(), lambda t: t.tolist()],
                         ids=["float", "int", "item", "tolist"])
def test_reading_a_value_while_recording_is_refused(read):
    w = cr.tensor(np.ones(1), requires_grad=True, dtype="float64")

    def step(x):
        y = (w * x).sum()
        return y * read(y) if not isinstance(read(y), list) else y  # the value would become a constant

    with pytest.raises(ValueError, match=r"compile: the step reads a tensor's value"):
        cr.compile(step)(np.ones(1))


def test_bce_targets_are_replayed_not_baked_in():
    """Two recordings on all-zero targets agree, so only ops on the target keep later batches right."""
    X = np.random.default_rng(0).standard_normal((32, 3))
    y = np.r_[np.zeros((16, 1)), np.ones((16, 1))]
    runs = []
    for compiled in (False, True):
        model = nn.Sequential(nn.Linear(3, 1, seed=0, dtype="float64"), nn.Sigmoid())
        opt = optim.SGD(model.parameters(), lr=0.5)

        def step(x, t, model=model, opt=opt):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy(model(x), t)
            loss.backward()
            opt.step()
            return loss

        f = cr.compile(step) if compiled else step
        runs.append([float(f(X[i:i + 4], y[i:i + 4])) for i in range(0, 32, 4)])
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-12)


def _relu_graphs():
    """Steps on a pre-activation ``h`` whose buffer the ReLU reading it may or may not overwrite."""
    def plain(h, w2):  # linear -> relu -> linear: the ReLU runs in place
        return cr.linear(cr.relu(h), w2)

    def read_twice(h, w2):  # the pre-activation is read again after the ReLU
        return cr.linear(cr.relu(h) + h, w2)

    def relu_read_twice(h, w2):  # the ReLU's output feeds two products: its gradient is a sum
        r = cr.relu(h)
        return cr.linear(r, w2) + cr.linear(r * 2.0, w2)

    def relu_of_relu(h, w2):  # only the first ReLU may work in place (a ReLU's VJP reads its output)
        return cr.linear(cr.relu(cr.relu(h)) - 0.1, w2)

    return {"plain": plain, "read_twice": read_twice, "relu_read_twice": relu_read_twice, "relu_of_relu": relu_of_relu}


def _relu_step(graph, w1, w2, opt, returns_pre_activation):
    def step(x, y):
        opt.zero_grad()
        h = cr.linear(x, w1)
        loss = F.cross_entropy(graph(h, w2), y)
        loss.backward()
        opt.step()
        return (loss, h) if returns_pre_activation else loss  # a step output must survive the ReLU
    return step


@pytest.mark.parametrize("name", list(_relu_graphs()))
@pytest.mark.parametrize("returns_pre_activation", [False, True])
def test_a_relu_in_place_on_its_linear_output_gives_the_eager_values_and_gradients(name, returns_pre_activation):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    w_start = rng.standard_normal((6, 5)), rng.standard_normal((3, 6))
    runs = []
    for compiled in (False, True):
        w1, w2 = (cr.tensor(w.copy(), requires_grad=True) for w in w_start)
        step = _relu_step(_relu_graphs()[name], w1, w2, optim.SGD([w1, w2], lr=0.1), returns_pre_activation)
        step = cr.compile(step) if compiled else step
        outs = [step(X, Y) for _ in range(4)]  # the last two are replays
        hs = [np.asarray(getattr(o[1], "data", o[1])) for o in outs] if returns_pre_activation else []
        runs.append(([w1.data.copy(), w2.data.copy(), w1.grad.copy(), w2.grad.copy()], hs))
    assert step.stats["replays"] == 2
    for a, b in zip(runs[0][0] + runs[0][1], runs[1][0] + runs[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert all((h < 0).any() for h in runs[1][1])  # the pre-activation, not the ReLU's output


@pytest.mark.parametrize("name, returns_pre_activation, in_place", [
    ("plain", False, [True]), ("plain", True, [False]), ("read_twice", False, [False]),
    ("relu_read_twice", False, [True]), ("relu_of_relu", False, [True, False])])
def test_a_relu_shares_its_input_buffer_exactly_when_nothing_else_reads_it(name, returns_pre_activation, in_place):
    from chainrule.autodiff.compile_numpy import build
    from chainrule.autodiff.tape import record

    w1, w2 = cr.tensor(np.ones((6, 5)), requires_grad=True), cr.tensor(np.ones((3, 6)), requires_grad=True)
    step = _relu_step(_relu_graphs()[name], w1, w2, optim.SGD([w1, w2], lr=0.1), returns_pre_activation)
    tape, _ = record(step, (np.ones((4, 5)), np.zeros(4, np.int64)), {})
    vals = build(tape).buffers
    relus = [e for e in tape.entries if e.op.name == "relu"]
    assert [vals[e.out] is vals[e.args[0]] for e in relus] == in_place


def test_the_replayed_mlp_keeps_one_buffer_per_layer_for_linear_and_relu():
    from chainrule.autodiff.compile_numpy import build
    from chainrule.autodiff.tape import record

    model = nn.Sequential(nn.Linear(5, 8, seed=0), nn.ReLU(), nn.Linear(8, 3, seed=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    tape, _ = record(_train_step(model, opt), (np.ones((4, 5), np.float32), np.zeros(4, np.int64)), {})
    ops = {e.op.name: e for e in tape.entries}
    lin, relu = tape.entries[0], ops["relu"]
    vals = build(tape).buffers
    assert vals[relu.out] is vals[lin.out]  # in place: the pre-activation is read by nothing else
    assert vals[tape.entries[2].out] is not vals[relu.out]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_replay_returns_the_steps_nested_outputs_as_copies(backend):
    if backend == "numba":
        pytest.importorskip("numba", reason="the numba backend needs the optional extra chainrule[numba]")
    model = nn.Sequential(nn.Linear(5, 3, seed=0))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        return {"loss": loss, "parts": [out, 3, None], "pair": (loss, "tag")}

    compiled = cr.compile(step, backend=backend)
    rng = np.random.default_rng(0)
    results = [compiled(rng.standard_normal((4, 5)).astype(np.float32), np.arange(4) % 3) for _ in range(4)]
    assert compiled.stats["replays"] == 2
    last, before = results[-1], results[-2]
    assert set(last) == {"loss", "parts", "pair"} and isinstance(last["parts"], list) and isinstance(last["pair"], tuple)
    assert last["parts"][1:] == [3, None] and last["pair"][1] == "tag"
    assert last["parts"][0].shape == (4, 3) and float(last["pair"][0]) == float(last["loss"])
    assert not np.array_equal(before["parts"][0], last["parts"][0])  # the earlier result was a copy, not the buffer

"""Recurrent layers: torch as the oracle, gradient checks, backprop through time, learning, configs, bad input."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

KINDS = ["RNN", "LSTM", "GRU"]


def _torch_pair(kind, dtype, bias=True, nonlinearity="tanh", seed=0):
    """(our layer, torch layer) with the same weights, loaded through the torch state dict."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    kw = {"nonlinearity": nonlinearity} if kind == "RNN" else {}
    theirs = getattr(torch.nn, kind)(3, 5, bias=bias, batch_first=True, **kw).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, kind)(3, 5, bias=bias, return_state=True, dtype=dtype, seed=1, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _unpack(kind, state):
    return state if kind == "LSTM" else (state,)


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_sequence_layer_matches_torch_outputs_and_gradients(kind, dtype, tol, kernels):
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_pair(kind, dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((4, 5))).astype(dtype)
    c0 = (0.5 * rng.standard_normal((4, 5))).astype(dtype)
    # A loss that touches every output and the final state, with uneven weights.
    w_out = rng.standard_normal((4, 6, 5)).astype(dtype)

    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out_t, st_t = theirs(xt, (h0t[None], c0t[None]) if kind == "LSTM" else h0t[None])
    loss_t = (out_t * torch.tensor(w_out)).sum() + sum(s.square().sum() for s in _unpack(kind, st_t))
    loss_t.backward()

    xc, h0c, c0c = (cr.tensor(a, requires_grad=True, dtype=dtype) for a in (x, h0, c0))
    out, st = ours(xc, (h0c, c0c) if kind == "LSTM" else h0c)
    loss = (out * w_out).sum() + sum(s.square().sum() for s in _unpack(kind, st))
    loss.backward()

    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=tol, atol=tol)
    for s, s_t in zip(_unpack(kind, st), _unpack(kind, st_t)):
        np.testing.assert_allclose(s.data, s_t[0].detach().numpy(), rtol=tol, atol=tol)
    grad_tol = 10 * tol
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(theirs, name).grad.numpy(), rtol=grad_tol, atol=grad_tol,
                                   err_msg=name)
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=grad_tol, atol=grad_tol)
    np.testing.assert_allclose(h0c.grad, h0t.grad.numpy(), rtol=grad_tol, atol=grad_tol)
    if kind == "LSTM":
        np.testing.assert_allclose(c0c.grad, c0t.grad.numpy(), rtol=grad_tol, atol=grad_tol)


@pytest.mark.torch
@pytest.mark.parametrize("kind, nonlinearity, bias", [("RNN", "relu", True), ("RNN", "tanh", False),
                                                      ("LSTM", "tanh", False), ("GRU", "tanh", False)])
def test_variants_match_torch(kind, nonlinearity, bias):
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_pair(kind, np.float64, bias=bias, nonlinearity=nonlinearity)
    assert [n for n, _ in ours.named_parameters()] == list(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    out, _ = ours(x)
    out_t, _ = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
def test_cells_match_torch_cells(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind + "Cell")(3, 4).double()
    ours = getattr(nn, kind + "Cell")(3, 4, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 3))
    got, want = ours(x), theirs(torch.tensor(x))
    for g, w in zip(_unpack(kind, got), _unpack(kind, want)):
        np.testing.assert_allclose(g.data, w.detach().numpy(), atol=1e-12)


def test_time_major_layout_is_the_transpose_of_batch_first():
    a = nn.GRU(2, 3, seed=0, dtype=np.float64)
    b = nn.GRU(2, 3, seed=0, dtype=np.float64, batch_first=False)
    x = np.random.default_rng(0).standard_normal((4, 5, 2))
    np.testing.assert_allclose(b(x.transpose(1, 0, 2)).data, a(x).data.transpose(1, 0, 2), atol=1e-14)
    last = nn.GRU(2, 3, seed=0, dtype=np.float64, return_sequences=False)(x)
    np.testing.assert_allclose(last.data, a(x).data[:, -1], atol=1e-14)


# ------------------------------------------------------------------ gradient checks

def _functional(layer, n_in):
    """f(x, *weights) that runs ``layer`` with the given values (Tensors or Duals) as its weights."""
    names = [n for n, _ in layer.named_parameters()]

    def f(*args):
        originals = {n: getattr(layer, n) for n in names}
        try:
            for n, a in zip(names, args[n_in:]):
                setattr(layer, n, a)
            out = layer(*args[:n_in])
        finally:
            for n, p in originals.items():
                setattr(layer, n, p)
        out = out[0] if isinstance(out, tuple) else out
        return (out * out).sum() + out.sum()
    return f, [p.data for p in layer.parameters()]


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_reverse_and_forward_mode(kind, f64):
    layer = getattr(nn, kind)(2, 3, seed=0, dtype=np.float64)
    f, weights = _functional(layer, 1)
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    report = cr.gradcheck(f, x, *weights)   # forward=True: Duals run through the same unrolled loop
    assert report.passed
    assert {r["mode"] for r in report.rows} == {"reverse", "forward"}


def test_gradcheck_through_the_initial_state(f64):
    layer = nn.LSTM(2, 3, seed=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert cr.gradcheck(lambda x, h, c: layer(x, (h, c)).square().sum(), x, h0, c0).passed


@pytest.mark.parametrize("kind", KINDS)
def test_first_step_gradient_is_nonzero_and_matches_finite_differences(kind):
    """Backprop through time: a loss on the LAST output still reaches the FIRST input."""
    layer = getattr(nn, kind)(2, 4, seed=3, dtype=np.float64, return_sequences=False)
    x = np.random.default_rng(4).standard_normal((1, 6, 2))
    xt = cr.tensor(x, requires_grad=True, dtype=np.float64)
    layer(xt).sum().backward()
    first = xt.grad[0, 0]
    assert np.all(np.abs(first) > 1e-6)

    eps = 1e-6
    for d in range(2):
        up, down = x.copy(), x.copy()
        up[0, 0, d] += eps
        down[0, 0, d] -= eps
        estimate = (layer(up).sum().item() - layer(down).sum().item()) / (2 * eps)
        assert first[d] == pytest.approx(estimate, rel=1e-6, abs=1e-9)


def test_weight_gradient_adds_up_over_time_steps():
    """The shared recurrent weight's gradient is the sum of its per-step contributions."""
    cell = nn.RNNCell(2, 3, seed=0, dtype=np.float64)
    layer = nn.RNN(2, 3, seed=0, dtype=np.float64)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 2))
    layer(x).sum().backward()
    h, total = None, 0
    for t in range(5):
        h = cell(x[:, t], h)
        total = total + h.sum()
    total.backward()
    np.testing.assert_allclose(layer.weight_hh_l0.grad, cell.weight_hh.grad, atol=1e-12)


# kind -> (where b_ih + b_hh is added, bias arguments of the projection, of the sequence op)
_BIAS_PLACES = {"RNN": ("projection", 1, 0), "LSTM": ("sequence", 0, 1), "GRU": ("split", 1, 1)}


@pytest.mark.parametrize("kind", sorted(_BIAS_PLACES))
@pytest.mark.parametrize("num_layers", [1, 2])
def test_recurrent_biases_are_added_once_where_the_rule_places_them(kind, num_layers, monkeypatch):
    """RNN adds b_ih + b_hh to the projections, LSTM hands it to lstm_seq's per-step pass, GRU keeps them apart.

    Either way no bias is added twice; the two bias gradients stay separate arrays.
    """
    from chainrule.nn import _rnn_rules, recurrent

    place, projection_biases, sequence_biases = _BIAS_PLACES[kind]
    seen, projected = [], []
    real_dispatch, real_linear = _rnn_rules.dispatch, recurrent._linear

    def spy(op, *args, **kwargs):
        if op.endswith("_seq"):
            seen.append((op, len(args)))
        return real_dispatch(op, *args, **kwargs)

    def linear_spy(*args):
        projected.append(len(args) - 2)
        return real_linear(*args)

    monkeypatch.setattr(_rnn_rules, "dispatch", spy)
    monkeypatch.setattr(recurrent, "_linear", linear_spy)
    layer = getattr(nn, kind)(3, 4, seed=0, dtype=np.float64, num_layers=num_layers)
    assert layer._bias_place == place
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    layer(x).sum().backward()
    state_args = 2 if kind == "LSTM" else 1
    assert seen == [(f"{kind.lower()}_seq", 2 + state_args + sequence_biases)] * num_layers
    assert projected == [projection_biases] * num_layers
    b_ih, b_hh = layer.bias_ih_l0, layer.bias_hh_l0
    if place != "split":  # both receive the same sum of the pre-activations' gradient
        np.testing.assert_array_equal(b_ih.grad, b_hh.grad)
    before = b_hh.grad.copy()
    b_ih.grad += 1.0   # an in-place change to one gradient never reaches the other
    np.testing.assert_array_equal(b_hh.grad, before)


# ------------------------------------------------------------------ learning

def _delay_task(n, steps, seed):
    """Binary inputs; the target at step t is the input at step t - 2 (0 for the first two steps)."""
    x = np.random.default_rng(seed).integers(0, 2, size=(n, steps, 1)).astype(np.float32)
    y = np.zeros(x.shape[:2], np.float32)
    y[:, 2:] = x[:, :-2, 0]
    return x, y


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_learns_to_echo_the_input_from_two_steps_ago(kind, one_blas_thread):
    x, y = _delay_task(512, 8, seed=0)
    x_test, y_test = _delay_task(256, 8, seed=1)
    # (n, 8, 1) -> hidden states (n, 8, 16) -> one logit per step (n, 8, 1) -> (n, 8)
    model = nn.Sequential(getattr(nn, kind)(1, 16, seed=0), nn.Linear(16, 1, seed=1), nn.Flatten())
    cr.fit(model, "bce_with_logits", ("adam", 0.03), (x, y), epochs=20, batch_size=64, seed=0, verbose=0)
    accuracy = ((model(x_test).data > 0) == (y_test > 0.5)).mean()
    assert accuracy >= 0.95, accuracy  # seconds: benchmarks/bench_time_to_accuracy.py


# ------------------------------------------------------------------ configs

@pytest.mark.parametrize("layer", [
    nn.RNN(3, 4, nonlinearity="relu", bias=False, batch_first=False, return_sequences=False,
           return_state=True, seed=5),
    nn.LSTM(3, 4, init="xavier_uniform", bias_init={"name": "constant", "value": 0.5}, seed=5, dtype="float64"),
    nn.GRU(3, 4, seed=5),
    nn.RNNCell(3, 4, nonlinearity="relu", seed=5),
    nn.LSTMCell(3, 4, seed=5),
    nn.GRUCell(3, 4, bias=False, seed=5),
], ids=lambda m: type(m).__name__)
def test_config_round_trip(layer):
    config = json.loads(json.dumps(layer.config()))
    rebuilt = nn.from_config(config)
    assert type(rebuilt) is type(layer) and rebuilt.config() == layer.config()
    for (name, a), (name_b, b) in zip(layer.state_dict().items(), rebuilt.state_dict().items()):
        assert name == name_b and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # same seed, same weights
    assert type(layer).__name__ in nn.LAYERS


def test_default_init_is_torch_uniform_and_layers_stack():
    layer = nn.LSTM(3, 16, seed=0)
    assert layer.weight_hh_l0.shape == (64, 16) and np.abs(layer.weight_hh_l0.data).max() <= 0.25
    net = nn.Sequential(nn.GRU(3, 8, seed=0), nn.LSTM(8, 4, return_sequences=False, seed=1))
    assert net(cr.zeros(2, 5, 3)).shape == (2, 4)
    assert "LSTM(8, 4, bias=True" in repr(net)


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("build, message", [
    (lambda: nn.RNN(0, 4), "input_size must be a positive integer, got 0"),
    (lambda: nn.LSTM(3, 2.5), "hidden_size must be a positive integer, got 2.5"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"),
    (lambda: nn.GRU(3, 4, batch_first="yes"), "batch_first must be True or False, got 'yes'"),
    (lambda: nn.LSTMCell(3, 4, bias=None), "bias must be True or False, got None"),
    (lambda: nn.RNN(3, 4, init="nope"), "unknown initializer 'nope'"),
])
def test_bad_constructor_arguments(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


@pytest.mark.parametrize("call, message", [
    (lambda: nn.RNN(3, 4)(np.zeros((2, 3))), r"RNN expects input of shape \(batch, time, features\) with "
                                            r"features = 3 and at least one step, got \(2, 3\)"),
    (lambda: nn.LSTM(3, 4)(np.zeros((2, 5, 2))), r"features = 3 .* got \(2, 5, 2\)"),
    (lambda: nn.GRU(3, 4, batch_first=False)(np.zeros((0, 2, 3))), r"\(time, batch, features\) .* got \(0, 2, 3\)"),
    (lambda: nn.RNN(3, 4)(np.zeros((2, 5, 3)), np.zeros((3, 4))),
     r"RNN: h must have shape \(batch, hidden_size\) = \(2, 4\), got \(3, 4\)"),
    (lambda: nn.LSTM(3, 4)(np.zeros((2, 5, 3)), np.zeros((2, 4))), "the state must be a pair"),
    (lambda: nn.LSTMCell(3, 4)(np.zeros((2, 3)), (np.zeros((2, 4)), np.zeros((2, 5)))),
     r"LSTMCell: c must have shape .* got \(2, 5\)"),
    (lambda: nn.RNNCell(3, 4)(np.zeros((2, 5, 3))), r"RNNCell expects input of shape \(batch, 3\), got \(2, 5, 3\)"),
])
def test_bad_inputs(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()

"""num_layers and bidirectional nn.RNN/LSTM/GRU: PyTorch names and order, torch as the oracle, configs, bad input."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

KINDS = ["RNN", "LSTM", "GRU"]


def _pair(kind, dtype, num_layers, bidirectional, batch_first=True, bias=True):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                                     batch_first=batch_first)
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, kind)(3, 4, num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                             batch_first=batch_first, return_state=True, dtype=dtype, seed=1)
    assert [n for n, _ in ours.named_parameters()] == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _states(kind, s):
    return list(s) if kind == "LSTM" else [s]


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_two_layer_bidirectional_matches_torch_outputs_states_and_gradients(kind, dtype, tol):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(kind, dtype, 2, True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 3)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((4, 3, 4))).astype(dtype)
    c0 = (0.5 * rng.standard_normal((4, 3, 4))).astype(dtype)
    w = rng.standard_normal((3, 5, 8)).astype(dtype)

    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out_t, st_t = theirs(xt, (h0t, c0t) if kind == "LSTM" else h0t)
    ((out_t * torch.tensor(w)).sum() + sum(s.square().sum() for s in _states(kind, st_t))).backward()

    xc, h0c, c0c = (cr.tensor(a, requires_grad=True, dtype=dtype) for a in (x, h0, c0))
    out, st = ours(xc, (h0c, c0c) if kind == "LSTM" else h0c)
    ((out * w).sum() + sum(s.square().sum() for s in _states(kind, st))).backward()

    assert out.shape == (3, 5, 8) and out.dtype == dtype
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=tol, atol=tol)
    for s, s_t in zip(_states(kind, st), _states(kind, st_t)):
        np.testing.assert_allclose(s.data, s_t.detach().numpy(), rtol=tol, atol=tol)
    g = 10 * tol
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(theirs, name).grad.numpy(), rtol=g, atol=g, err_msg=name)
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=g, atol=g)
    np.testing.assert_allclose(h0c.grad, h0t.grad.numpy(), rtol=g, atol=g)
    if kind == "LSTM":
        np.testing.assert_allclose(c0c.grad, c0t.grad.numpy(), rtol=g, atol=g)


@pytest.mark.torch
@pytest.mark.parametrize("kind, num_layers, bidirectional, batch_first, bias", [
    ("RNN", 3, False, False, True), ("LSTM", 1, True, False, False), ("GRU", 3, True, True, False),
])
def test_other_shapes_match_torch(kind, num_layers, bidirectional, batch_first, bias):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(kind, np.float64, num_layers, bidirectional, batch_first, bias)
    x = np.random.default_rng(1).standard_normal((6, 2, 3))
    out, st = ours(x)
    out_t, st_t = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-10)
    for s, s_t in zip(_states(kind, st), _states(kind, st_t)):
        np.testing.assert_allclose(s.data, s_t.detach().numpy(), atol=1e-10)


def test_last_step_output_and_training_through_the_stack():
    net = nn.GRU(2, 3, num_layers=2, bidirectional=True, return_sequences=False, seed=0, dtype=np.float64)
    seq = nn.GRU(2, 3, num_layers=2, bidirectional=True, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 6, 2))
    np.testing.assert_array_equal(net(x).data, seq(x).data[:, -1])
    net(x).sum().backward()
    grads = {n: np.abs(p.grad).sum() for n, p in net.named_parameters()}
    # The top reverse direction has read one step (the last) at t = T - 1, from a zero state.
    assert grads.pop("weight_hh_l1_reverse") == 0
    assert all(g > 0 for g in grads.values())


def test_seeded_layers_are_reproducible_and_upper_layers_differ_from_layer_0():
    a = nn.LSTM(4, 4, num_layers=2, seed=3)
    b = nn.LSTM(4, 4, num_layers=2, seed=3)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    assert not np.array_equal(a.weight_hh_l0.data, a.weight_hh_l1.data)
    single = nn.LSTM(4, 4, seed=3)
    np.testing.assert_array_equal(single.weight_ih_l0.data, a.weight_ih_l0.data)   # layer 0 as before


def test_config_and_save_load_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    net = nn.RNN(3, 4, nonlinearity="relu", num_layers=2, bidirectional=True, seed=0)
    args = net.config()["args"]
    assert args["num_layers"] == 2 and args["bidirectional"] is True
    assert nn.LSTM(3, 4, seed=0).config()["args"]["num_layers"] == 1
    cr.save(net, tmp_path / "rnn.safetensors")
    again = cr.load(tmp_path / "rnn.safetensors")
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(again(x).data, net(x).data)
    assert again.config() == net.config()


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.LSTM(3, 4, num_layers=0), ValueError, "num_layers"),
    (lambda: nn.GRU(3, 4, bidirectional="yes"), TypeError, "bidirectional"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_state_shapes_name_the_expected_shape():
    lstm = nn.LSTM(3, 4, num_layers=2, seed=0)
    x = np.zeros((5, 7, 3))
    with pytest.raises(ValueError, match=r"\(num_layers \* num_directions, batch, hidden_size\) = \(2, 5, 4\)"):
        lstm(x, (np.zeros((5, 4)), np.zeros((5, 4))))
    with pytest.raises(TypeError, match="pair"):
        lstm(x, np.zeros((2, 5, 4)))

"""Elman and Jordan nets: a plain-NumPy step-by-step oracle of the slide's equations (forward and BPTT),
finite differences through 10 steps, truncated BPTT, the stream API, torch's RNN, fit, configs, bad input."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autodiff.numeric import numerical_grad


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _weights(net):
    p = {name: v.data for name, v in net.named_parameters()}
    return (p["input_hidden.weight"], p["input_hidden.bias"], p["context_hidden.weight"],
            p["hidden_output.weight"], p["hidden_output.bias"])


def reference(kind, net, x, G, c0, bptt=None, teacher=None):
    """Forward and backward of L = sum_t <G_t, y_t> written out step by step (sigmoid hidden, sigmoid output).

    Elman: c_t = copy * h_(t-1); Jordan: c_t = decay * c_(t-1) + (y or d)_(t-1); h_t = s(Wx x_t + bx + Wc c_t);
    y_t = s(Wy h_t + by). With bptt=k the context entering steps k, 2k, ... carries no gradient.
    Returns (y, contexts, grads by parameter name).
    """
    Wx, bx, Wc, Wy, by = _weights(net)
    copy = net.copy_back.data if kind == "elman" else None
    N, T, _ = x.shape
    cs, hs, ys = [], [], []
    c = c0
    for t in range(T):
        cs.append(c)
        h = _sigmoid(x[:, t] @ Wx.T + bx + c @ Wc.T)
        y = _sigmoid(h @ Wy.T + by)
        hs.append(h)
        ys.append(y)
        fed = y if teacher is None else teacher[:, t]
        c = h * copy if kind == "elman" else net.decay * c + fed
    g = {k: np.zeros_like(v) for k, v in zip(("Wx", "bx", "Wc", "Wy", "by"), (Wx, bx, Wc, Wy, by))}
    g["copy"] = np.zeros(Wc.shape[1])
    dc_next = np.zeros_like(cs[0])          # dL/dc_(t+1), as seen from step t
    for t in reversed(range(T)):
        cut = bptt is not None and (t + 1) % bptt == 0   # c_(t+1) is detached
        if cut:
            dc_next = np.zeros_like(dc_next)
        h, y, c = hs[t], ys[t], cs[t]
        dy = G[:, t].copy()
        if kind == "jordan" and teacher is None:
            dy += dc_next                   # c_(t+1) = decay c_t + y_t
        do = dy * y * (1 - y)
        g["Wy"] += do.T @ h
        g["by"] += do.sum(0)
        dh = do @ Wy
        if kind == "elman":
            dh += dc_next * copy            # c_(t+1) = copy * h_t
            g["copy"] += (dc_next * h).sum(0)
        da = dh * h * (1 - h)
        g["Wx"] += da.T @ x[:, t]
        g["bx"] += da.sum(0)
        g["Wc"] += da.T @ c
        dc = da @ Wc
        if kind == "jordan":
            dc += net.decay * dc_next
        dc_next = dc
    names = {"Wx": "input_hidden.weight", "bx": "input_hidden.bias", "Wc": "context_hidden.weight",
             "Wy": "hidden_output.weight", "by": "hidden_output.bias", "copy": "copy_back"}
    return np.stack(ys, 1), np.stack(cs, 1), {names[k]: v for k, v in g.items()}


def _net(kind, **kw):
    if kind == "elman":
        return nn.Elman(3, 5, 2, output_activation="sigmoid", dtype=np.float64, seed=0, **kw)
    return nn.Jordan(3, 5, 2, decay=kw.pop("decay", 0.6), dtype=np.float64, seed=0, **kw)


def _data(T=6, N=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, T, 3)), rng.standard_normal((N, T, 2))


def _ours(net, x, G, c0, teacher=None):
    net.zero_grad()
    y, trace = net(x, context=c0, teacher=teacher, return_trace=True)
    (y * G).sum().backward()
    return y.data, trace, {n: (p.grad if p.grad is not None else np.zeros_like(p.data))
                           for n, p in net.named_parameters()}


@pytest.mark.parametrize("kind", ["elman", "jordan"])
@pytest.mark.parametrize("bptt", [None, 1, 2, 4])
def test_outputs_and_gradients_match_the_step_by_step_equations(kind, bptt):
    net = _net(kind, bptt=bptt, **({"learn_copy_back": True} if kind == "elman" else {}))
    if kind == "elman":
        net.copy_back.data[:] = [1.0, 0.5, 0.9, 1.2, 0.7]   # a learnt copy-back shows up in the gradient
    x, G = _data()
    c0 = np.random.default_rng(2).uniform(size=(4, 5 if kind == "elman" else 2))
    y_ref, c_ref, g_ref = reference(kind, net, x, G, c0, bptt)
    y, trace, grads = _ours(net, x, G, c0)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.context, c_ref, rtol=1e-12, atol=1e-12)
    for name, g in g_ref.items():
        if name in grads:
            np.testing.assert_allclose(grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)


def test_jordan_teacher_forcing_feeds_the_targets_back():
    net = _net("jordan")
    x, G = _data()
    d = np.random.default_rng(3).uniform(size=(4, 6, 2))
    c0 = np.zeros((4, 2))
    y_ref, c_ref, g_ref = reference("jordan", net, x, G, c0, teacher=d)
    y, trace, grads = _ours(net, x, G, c0, teacher=d)
    np.testing.assert_allclose(trace.context, c_ref, atol=1e-12)
    np.testing.assert_allclose(trace.context[:, 1], d[:, 0] + 0.6 * c0, atol=1e-12)
    for name, g in g_ref.items():
        if name in grads:
            np.testing.assert_allclose(grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", ["elman", "jordan"])
def test_bptt_through_10_steps_matches_finite_differences(kind):
    net = _net(kind, **({"learn_copy_back": True} if kind == "elman" else {}))
    x, G = _data(T=10, N=2)
    _, _, grads = _ours(net, x, G, None)
    for name, p in net.named_parameters():
        original = p.data.copy()

        def loss(w, p=p):
            p.data[...] = w
            with cr.no_grad():
                return float((net(x).data * G).sum())

        numeric = numerical_grad(loss, original.copy())
        p.data[...] = original
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    assert np.abs(grads["context_hidden.weight"]).sum() > 0


@pytest.mark.parametrize("kind", ["elman", "jordan"])
def test_truncated_bptt_is_the_full_gradient_when_bptt_covers_the_sequence(kind):
    x, G = _data(T=7)
    _, _, full = _ours(_net(kind), x, G, None)
    _, _, same = _ours(_net(kind, bptt=7), x, G, None)
    _, _, longer = _ours(_net(kind, bptt=50), x, G, None)
    _, _, short = _ours(_net(kind, bptt=2), x, G, None)
    for name in full:
        np.testing.assert_array_equal(same[name], full[name])
        np.testing.assert_array_equal(longer[name], full[name])
    assert not np.allclose(short["context_hidden.weight"], full["context_hidden.weight"])


def test_elman_context_is_a_copy_of_the_previous_hidden_layer_and_copy_back_is_fixed():
    net = nn.Elman(2, 4, 1, context_init=0.5, seed=0)
    y, trace = net(np.ones((3, 5, 2), np.float32), return_trace=True)
    assert (trace.context[:, 0] == 0.5).all()
    np.testing.assert_array_equal(trace.context[:, 1:], trace.hidden[:, :-1])
    np.testing.assert_array_equal(net.context, trace.hidden[:, -1])
    assert not net.copy_back.requires_grad and (net.copy_back.data == 1).all()
    y.sum().backward()
    assert net.copy_back.grad is None


@pytest.mark.parametrize("kind", ["elman", "jordan"])
def test_step_by_step_stream_equals_the_sequence_call(kind):
    net = _net(kind)
    x, _ = _data(T=5)
    y = net(x).data
    net.reset_state()
    assert net.context is None
    ys = [net.step(x[:, t]).data for t in range(5)]
    np.testing.assert_allclose(np.stack(ys, 1), y, atol=1e-14)
    first = net(x[:, :2]).data            # a forward leaves its final context for step()
    rest = [net.step(x[:, t]).data for t in range(2, 5)]
    np.testing.assert_allclose(np.concatenate([first, np.stack(rest, 1)], 1), y, atol=1e-14)


@pytest.mark.torch
def test_elman_with_tanh_is_torchs_rnn_with_the_context_weights_as_weight_hh():
    torch = pytest.importorskip("torch")
    net = nn.Elman(3, 5, 2, activation="tanh", dtype=np.float64, seed=0)
    rnn = torch.nn.RNN(3, 5, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(net.input_hidden.weight.data))
        rnn.bias_ih_l0.copy_(torch.tensor(net.input_hidden.bias.data))
        rnn.weight_hh_l0.copy_(torch.tensor(net.context_hidden.weight.data))
        rnn.bias_hh_l0.zero_()
    x, _ = _data()
    _, trace = net(x, return_trace=True)
    hidden, _ = rnn(torch.tensor(x))
    np.testing.assert_allclose(trace.hidden, hidden.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("net", [
    nn.Elman(2, 3, 1, activation="tanh", learn_copy_back=True, context_init=0.5, bptt=4, seed=3),
    nn.Jordan(2, 3, 2, decay=0.5, output_activation="identity", return_sequences=False, seed=4),
])
def test_config_save_load_round_trip(net, tmp_path):
    pytest.importorskip("safetensors")
    x = np.random.default_rng(0).standard_normal((2, 4, 2)).astype(np.float32)
    again = nn.from_config(net.config())
    assert again.config() == net.config()
    path = tmp_path / "net.safetensors"
    cr.save(net, path)
    loaded = cr.load(path)
    assert type(loaded) is type(net) and loaded.config() == net.config()
    np.testing.assert_array_equal(loaded(x).data, net(x).data)
    assert loaded.copy_back.requires_grad == net.copy_back.requires_grad if hasattr(net, "copy_back") else True


def test_fit_trains_an_elman_net_on_sequences():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(64, 8, 1)).astype(np.float32)
    Y = np.concatenate([np.zeros((64, 1, 1), np.float32), X[:, :-1]], axis=1)   # echo the previous bit
    net = nn.Elman(1, 8, 1, output_activation="sigmoid", bptt=4, seed=0)
    h = cr.fit(net, "mse", ("adam", 0.05), (X, Y), epochs=40, batch_size=16, metrics=["mae"], seed=0, verbose=0)
    assert h["loss"][-1] < 0.05 < h["loss"][0]
    assert h["mae"][-1] < h["mae"][0]
    assert cr.predict(net, X).shape == (64, 8, 1)
    scores = cr.evaluate(net, "mse", (X, Y), metrics=["mae"])
    assert scores["loss"] == pytest.approx(float(((cr.predict(net, X) - Y) ** 2).mean()), rel=1e-5)
    assert scores["mae"] == pytest.approx(float(np.abs(cr.predict(net, X) - Y).mean()), rel=1e-5)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Elman(0, 3, 1), "input_size"),
    (lambda: nn.Elman(2, 3, 1, bptt=0), "bptt"),
    (lambda: nn.Elman(2, 3, 1, learn_copy_back=1), "learn_copy_back"),
    (lambda: nn.Jordan(2, 3, 1, decay=1.0), "decay"),
    (lambda: nn.Jordan(2, 3, 1, decay=-0.1), "decay"),
    (lambda: nn.Elman(2, 3, 1, activation="nope"), "nope"),
])
def test_bad_arguments_name_the_value(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_bad_shapes_name_the_expected_shape():
    net = nn.Jordan(2, 3, 1, seed=0)
    with pytest.raises(ValueError, match=r"\(batch, time, features\) with features = 2"):
        net(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="context must have shape"):
        net(np.zeros((4, 5, 2)), context=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="teacher must have shape"):
        net(np.zeros((4, 5, 2)), teacher=np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match=r"\(batch, features\)"):
        net.step(np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match="teacher must have shape"):
        net.step(np.zeros((4, 2)), teacher=np.zeros((4, 3)))
    with pytest.raises(TypeError, match="takes no teacher"):
        nn.Elman(2, 3, 1, seed=0)(np.zeros((4, 5, 2)), teacher=np.zeros((4, 5, 1)))


def test_jordan_step_with_a_teacher_feeds_the_teacher_back():
    net = _net("jordan")
    x, _ = _data(T=3)
    d = np.random.default_rng(5).uniform(size=(4, 3, 2))
    y = net(x, teacher=d).data
    net.reset_state()
    ys = [net.step(x[:, t], teacher=d[:, t]).data for t in range(3)]
    np.testing.assert_allclose(np.stack(ys, 1), y, atol=1e-14)
    np.testing.assert_allclose(net.context, d[:, 2] + 0.6 * (d[:, 1] + 0.6 * d[:, 0]), atol=1e-14)

"""The step-by-step backprop trace: Mazur's numbers, any small MLP, clear refusals."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.explain import explain, mazur_network

MAZUR = {
    "out_h1": 0.593269992, "out_o1": 0.75136507, "out_o2": 0.772928465,
}
MAZUR_UPDATED = {
    "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121,
    "w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
}


def test_mazur_walkthrough_numbers():
    # Mazur's walk-through keeps the biases fixed during the update; so does this trace.
    r = explain(mazur_network(), [0.05, 0.10], [0.01, 0.99], lr=0.5, update_biases=False)
    for k, v in MAZUR.items():
        assert r.values[k] == pytest.approx(v, abs=5e-10)
    assert r.error == pytest.approx(0.298371109, abs=5e-10)
    for k, v in MAZUR_UPDATED.items():
        assert r.updated[k] == pytest.approx(v, abs=5e-9)
    assert r.updated["b1"] == 0.35 and r.updated["b4"] == 0.6
    assert r.grads["delta_o1"] == pytest.approx(0.138498562, abs=5e-10)
    text = r.text
    order = [text.index(s) for s in ("== Forward pass", "net_h1 =", "E_total", "== Backward pass", "layer 2 (output)", "layer 1 (hidden)", "== Updated")]
    assert order == sorted(order)
    assert "dE/dw5 = delta_o1 * out_h1 = 0.138498562 * 0.593269992 = 0.0821670406" in text


def test_model_is_not_changed():
    net = mazur_network()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    explain(net, [0.05, 0.10], [0.01, 0.99])
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
        assert net.output.weight.grad is None


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid"])
def test_any_small_mlp_matches_numerical_gradients(act):
    net = nn.MLP([3, 4, 3, 2], activation=act, output_activation="sigmoid", seed=3, dtype=np.float64)
    x, t = np.array([0.3, -0.7, 0.2]), np.array([0.2, 0.9])
    r = explain(net, x, t, lr=0.1)
    params = [net.hidden[0].weight, net.hidden[1].weight, net.output.weight]

    def E(*ws):
        h = cr.tensor(x[None], dtype=np.float64)
        for w, lin in zip(ws, [net.hidden[0], net.hidden[1], net.output]):
            h = cr.linear(h, w, lin.bias.data)
            h = getattr(cr, act)(h) if lin is not net.output else cr.sigmoid(h)
        return 0.5 * ((h - t[None]) ** 2).sum()

    num = cr.numerical_grad(E, *[p.data for p in params])
    k = 0
    for p, n_mat in zip(params, num):
        for w, v in zip(p.data.ravel(), n_mat.ravel()):
            k += 1
            assert r.grads[f"w{k}"] == pytest.approx(v, abs=1e-7)
            assert r.updated[f"w{k}"] == pytest.approx(w - 0.1 * v, abs=1e-8)
    assert k == 3 * 4 + 4 * 3 + 3 * 2


def test_sequential_and_custom_loss():
    net = nn.Sequential(nn.Linear(2, 2, seed=1, dtype=np.float64), nn.Tanh(), nn.Linear(2, 1, seed=2, dtype=np.float64))
    r = explain(net, [1.0, -1.0], [0.5], loss=lambda o, t: ((o - t) ** 2).sum(), lr=1.0)
    out = net(cr.tensor([[1.0, -1.0]], dtype=np.float64)).item()
    assert r.error == pytest.approx((out - 0.5) ** 2)
    assert "identity(net_o1)" in r.text and "tanh(net_h1)" in r.text
    w5 = net[2].weight.data[0, 0]
    assert r.updated["w5"] == pytest.approx(w5 - r.grads["w5"])


@pytest.mark.parametrize(
    "make, args, message",
    [
        (lambda: nn.MLP([30, 10, 2]), ([0.0] * 30, [0, 1]), "this network has 320; use one with at most 200"),
        (lambda: nn.MLP([2, 2, 1], skip=True), ([0, 0], [0]), "skip-layer links"),
        (lambda: nn.Sequential(nn.Tanh()), ([0], [0]), "Linear layers each followed by at most one activation"),
        (lambda: mazur_network(), ([0.1, 0.2, 0.3], [0, 1]), "x has 3 values and target 2; the network expects 2 inputs and 2 outputs"),
    ],
)
def test_refusals_are_clear(make, args, message):
    with pytest.raises(ValueError, match=message):
        explain(make(), *args)


GOOD = dict(x=[0.05, 0.10], target=[0.01, 0.99])


@pytest.mark.parametrize("changes, kind, message", [
    (dict(x=[np.nan, 0.1]), ValueError, "x must hold finite numbers, got nan at position 0"),
    (dict(target=[0.01, np.inf]), ValueError, "target must hold finite numbers, got inf at position 1"),
    (dict(lr=0), ValueError, "lr must be > 0, got 0"),
    (dict(lr=float("nan")), ValueError, "lr must be > 0, got nan"),
    (dict(lr="0.5"), TypeError, "lr must be > 0, got '0.5'"),
    (dict(lr=None), TypeError, "lr must be > 0, got None"),
    (dict(x=["a", "b"]), TypeError, r"x must be real numbers, shape \(2,\), got \['a', 'b'\]"),
    (dict(x=[1j, 2]), TypeError, "x must be real numbers"),
    (dict(x=None), TypeError, "x must be real numbers, shape \\(2,\\), got None"),
    (dict(x=[]), TypeError, "x must be real numbers"),
    (dict(x=[[0.05], [0.10]]), ValueError, r"x must be one example, shape \(2,\), got an array of shape \(2, 1\)"),
    (dict(target=[1.0], loss="cross_entropy"), ValueError, "target 1.0 is one float for 2 outputs: give a class index"),
    (dict(target=[3], loss="cross_entropy"), ValueError, r"target must be a class index from 0 to 1, got \[3\]"),
    (dict(target=[-1], loss=nn.LOSSES["cross_entropy"]), ValueError, "class index from 0 to 1"),
    (dict(loss=5), TypeError, "loss must be None, a name from nn.LOSSES or a function"),
    (dict(loss="msee"), ValueError, "unknown loss 'msee'; expected one of"),
    (dict(loss=lambda o, t: 3.0), TypeError, "loss must return a scalar Tensor, got 3.0"),
    (dict(max_weights=0), ValueError, "max_weights must be a positive integer, got 0"),
    (dict(max_weights=2.5), TypeError, "max_weights must be a positive integer, got 2.5"),
    (dict(update_biases="no"), TypeError, "update_biases must be True or False, got 'no'"),
])
def test_bad_arguments_get_one_sentence_naming_them(changes, kind, message):
    with pytest.raises(kind, match=message):
        explain(mazur_network(), **{**GOOD, **changes})


def test_a_model_that_is_no_module_is_a_type_error():
    with pytest.raises(TypeError, match="model must be an nn.MLP or an nn.Sequential .*, got str"):
        explain("abc", [1.0], [1.0])


def test_a_loss_by_name_is_the_registered_loss():
    by_name = explain(mazur_network(), [0.05, 0.10], [1], loss="cross_entropy")
    by_entry = explain(mazur_network(), [0.05, 0.10], [1], loss=nn.LOSSES["cross_entropy"])
    assert by_name.error == by_entry.error and by_name.grads == by_entry.grads
    mse = explain(mazur_network(), **GOOD, loss="mse")
    # mse is the mean of the two squared errors, which for two outputs is the default 1/2 of their sum.
    assert mse.error == pytest.approx(explain(mazur_network(), **GOOD).error) and "E = mse_loss(out" in mse.text

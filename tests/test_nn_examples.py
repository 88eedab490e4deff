"""Worked examples from the slides: Mazur's backprop step, XOR, and logistic regression as a network."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn import functional as F


def _decimals(text):
    return len(text.split(".")[1])


def _assert_printed(value, printed):
    """``value`` agrees with a number printed to some decimals (within half a unit of its last digit)."""
    assert abs(value - float(printed)) <= 0.5 * 10.0 ** -_decimals(printed), (value, printed)


def _mazur_network():
    f64 = np.float64
    net = nn.Sequential(nn.Linear(2, 2, dtype=f64), nn.Sigmoid(), nn.Linear(2, 2, dtype=f64), nn.Sigmoid())
    # Weights are (out, in): row k holds the weights into unit k (w1, w2 feed h1; w5, w6 feed o1).
    net.load_state_dict({
        "0.weight": [[0.15, 0.20], [0.25, 0.30]], "0.bias": [0.35, 0.35],
        "2.weight": [[0.40, 0.45], [0.50, 0.55]], "2.bias": [0.60, 0.60],
    })
    return net


def test_mazur_step_by_step_example():
    net = _mazur_network()
    x = cr.tensor([[0.05, 0.10]], dtype=np.float64)
    target = np.array([[0.01, 0.99]])
    hidden = net[1](net[0](x))
    out = net(x)
    loss = F.mse_loss(out, target, reduction="sum", half=True)  # E_total = sum 1/2 (target - out)^2
    _assert_printed(hidden.data[0, 0], "0.593269992")
    _assert_printed(out.data[0, 0], "0.75136507")
    _assert_printed(out.data[0, 1], "0.772928465")
    _assert_printed(loss.item(), "0.298371109")

    # The walk-through updates the weights only and keeps b1, b2 fixed: so the optimiser gets the weights only.
    opt = optim.SGD([net[0].weight, net[2].weight], lr=0.5)
    opt.zero_grad()
    loss.backward()
    opt.step()
    w5, w6, w7, w8 = net[2].weight.data.ravel()
    w1, w2, w3, w4 = net[0].weight.data.ravel()
    for value, printed in [(w5, "0.35891648"), (w6, "0.408666186"), (w7, "0.511301270"), (w8, "0.561370121"),
                           (w1, "0.149780716"), (w2, "0.19956143"), (w3, "0.24975114"), (w4, "0.29950229")]:
        _assert_printed(value, printed)
    assert net[0].bias.data.tolist() == [0.35, 0.35] and net[2].bias.data.tolist() == [0.6, 0.6]


def test_mazur_gradient_matches_the_slides_chain_rule():
    """dE/dw5 = (out_o1 - t1) * out_o1 (1 - out_o1) * out_h1 (Merceron lecture, slides 29-33)."""
    net = _mazur_network()
    x = cr.tensor([[0.05, 0.10]], dtype=np.float64)
    hidden = net[1](net[0](x)).data[0]
    out = net(x)
    F.mse_loss(out, [[0.01, 0.99]], reduction="sum", half=True).backward()
    o1 = out.data[0, 0]
    assert net[2].weight.grad[0, 0] == pytest.approx((o1 - 0.01) * o1 * (1 - o1) * hidden[0], rel=1e-14)


XOR_INPUTS = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])  # 0/1 encoded as -1/+1
XOR_TARGETS = np.array([[0.0], [1.0], [1.0], [0.0]])


def _train_xor(seed):
    """The recipe: +-1 inputs and small uniform weights in [-0.5, 0.5] (the slides' practical advice),
    E = 1/2 sum (t - o)^2, full-batch SGD with lr 1.0 and momentum 0.9, 500 steps."""
    net = nn.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid",
                 init={"name": "uniform", "scale": 0.5}, seed=seed, dtype=np.float64)
    opt = optim.SGD(net.parameters(), lr=1.0, momentum=0.9)
    for _ in range(500):
        opt.zero_grad()
        F.mse_loss(net(XOR_INPUTS), XOR_TARGETS, reduction="sum", half=True).backward()
        opt.step()
    return np.array_equal(net(XOR_INPUTS).data > 0.5, XOR_TARGETS > 0.5)


def test_two_two_one_sigmoid_mlp_learns_xor_from_most_seeds():
    learned = [_train_xor(seed) for seed in range(10)]
    assert sum(learned) >= 9, learned


def _logistic_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x @ np.array([1.5, -2.0]) + 0.3 + rng.normal(0, 1.5, 200) > 0).astype(float)  # overlapping classes
    return x, y


def test_single_sigmoid_layer_is_logistic_regression():
    """The Toronto CSC 411 Neural Networks I lecture: a single-layer network with a sigmoid output is logistic regression, exactly."""
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y = _logistic_data()
    net = nn.MLP([2, 1], output_activation="sigmoid", seed=0, dtype=np.float64)
    out = net(cr.tensor(x))
    F.binary_cross_entropy(out, y[:, None]).backward()
    # The gradient is the logistic-regression gradient X^T (o - t) / n ...
    np.testing.assert_allclose(net.output.weight.grad[0], x.T @ (out.data[:, 0] - y) / len(y), rtol=1e-12)

    # ... so it vanishes at scikit-learn's (unpenalised: C huge) solution, where the outputs agree.
    ref = sklearn.LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000).fit(x, y)
    net.load_state_dict({"output.weight": ref.coef_, "output.bias": ref.intercept_})
    net.zero_grad()
    out = net(cr.tensor(x))
    np.testing.assert_allclose(out.data[:, 0], ref.predict_proba(x)[:, 1], rtol=1e-12)
    F.binary_cross_entropy(out, y[:, None]).backward()
    assert np.abs(net.output.weight.grad).max() < 1e-6 and abs(net.output.bias.grad[0]) < 1e-6


def test_training_the_single_layer_network_finds_the_logistic_regression_solution():
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y = _logistic_data()
    ref = sklearn.LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000).fit(x, y)
    net = nn.MLP([2, 1], init="zeros", dtype=np.float64)
    opt = optim.SGD(net.parameters(), lr=2.0, momentum=0.9)
    for _ in range(300):
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(net(x), y[:, None]).backward()
        opt.step()
    np.testing.assert_allclose(net.output.weight.data, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(net.output.bias.data, ref.intercept_, rtol=1e-6)

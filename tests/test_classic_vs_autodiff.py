"""The hand-written delta-rule backprop of Garreta's Deep Learning 2016 lecture agrees with the autodiff engine.

``chainrule.classic.backprop_reference`` computes the textbook deltas
``delta_k = o_k (1 - o_k)(t_k - o_k)``, which are ``-dE/dnet``; its
``weight_grads``/``bias_grads`` are ``+dE/dW``. The engine differentiates
``E = 1/2 sum (t - o)^2`` through ``nn.MLP`` (sigmoid everywhere, float64),
so the two must agree to rounding, with the delta sign flipped.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.classic import backprop_reference, backprop_update

SHAPES = [[1, 1], [2, 1], [2, 2, 1], [2, 2, 2], [3, 4, 2], [4, 3, 3, 2], [5, 6, 4, 3, 1]]


def _sigmoid_mlp(sizes, seed):
    # Non-zero biases so that the bias gradients are tested on a generic point.
    net = nn.MLP(sizes, activation="sigmoid", output_activation="sigmoid",
                 init={"name": "normal", "std": 1.0}, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 100)
    for layer in _layers(net):
        layer.bias.data[...] = rng.normal(size=layer.bias.data.shape)
    return net


def _layers(net):
    return [*net.hidden, net.output]


def _autodiff(net, x, t):
    """Return (E, [dE/dW], [dE/db], [dE/dnet per layer]) from the engine."""
    h = cr.tensor(x)
    nets = []
    for i, layer in enumerate(_layers(net)):
        z = layer(h).retain_grad()
        nets.append(z)
        h = cr.sigmoid(z)
    E = nn.functional.mse_loss(h, t, reduction="sum", half=True)
    net.zero_grad()
    E.backward()
    return (E.item(), [layer.weight.grad for layer in _layers(net)],
            [layer.bias.grad for layer in _layers(net)], [z.grad for z in nets])


def _data(sizes, n, seed):
    rng = np.random.default_rng(seed)
    shape_x = (sizes[0],) if n is None else (n, sizes[0])
    shape_t = (sizes[-1],) if n is None else (n, sizes[-1])
    return rng.normal(size=shape_x), rng.uniform(0.0, 1.0, size=shape_t)


@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("n", [None, 1, 7], ids=["single", "batch1", "batch7"])
def test_reference_backprop_equals_autodiff(sizes, n):
    seed = 10 * len(sizes) + sum(sizes)
    net = _sigmoid_mlp(sizes, seed)
    x, t = _data(sizes, n, seed)
    weights = [layer.weight.data.copy() for layer in _layers(net)]
    biases = [layer.bias.data.copy() for layer in _layers(net)]

    ref = backprop_reference(weights, biases, x, t)
    # The engine wants a batch; a single example is a batch of one.
    E, gW, gb, dnet = _autodiff(net, np.atleast_2d(x), np.atleast_2d(t))

    assert ref.error == pytest.approx(E, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(np.atleast_2d(ref.output), net(cr.tensor(np.atleast_2d(x))).data, rtol=1e-12)
    for l in range(len(weights)):
        np.testing.assert_allclose(ref.weight_grads[l], gW[l], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ref.bias_grads[l], gb[l], rtol=1e-10, atol=1e-14)
        # The classic deltas are -dE/dnet: same magnitude, opposite sign.
        np.testing.assert_allclose(np.atleast_2d(ref.deltas[l]), -dnet[l], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("sizes", [[2, 2, 2], [3, 5, 1]], ids=lambda s: "-".join(map(str, s)))
def test_classic_update_equals_gradient_descent_step(sizes):
    """``w <- w + lr delta x`` is ``w <- w - lr dE/dw``: one step of each lands on the same weights."""
    net = _sigmoid_mlp(sizes, seed=3)
    x, t = _data(sizes, 5, seed=4)
    weights = [layer.weight.data.copy() for layer in _layers(net)]
    biases = [layer.bias.data.copy() for layer in _layers(net)]
    step = backprop_update(weights, biases, x, t, lr=0.7)

    opt = optim.SGD(net.parameters(), lr=0.7)
    _autodiff(net, x, t)
    opt.step()
    for l, layer in enumerate(_layers(net)):
        np.testing.assert_allclose(step.weights[l], layer.weight.data, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(step.biases[l], layer.bias.data, rtol=1e-12, atol=1e-15)


def test_mazur_first_step_matches_both_ways():
    """Mazur's published numbers (Merceron's backpropagation introduction): E = 0.298371109, w5 -> 0.35891648 at lr 0.5."""
    from chainrule.explain import mazur_network

    net = mazur_network()
    weights = [layer.weight.data.copy() for layer in _layers(net)]
    biases = [layer.bias.data.copy() for layer in _layers(net)]
    step = backprop_update(weights, biases, [0.05, 0.10], [0.01, 0.99], lr=0.5, update_biases=False)
    E, gW, _, _ = _autodiff(net, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]))
    assert step.trace.error == pytest.approx(0.298371109, abs=1e-9)
    assert E == pytest.approx(0.298371109, abs=1e-9)
    assert step.weights[1][0, 0] == pytest.approx(0.35891648, abs=1e-8)
    assert 0.40 - 0.5 * gW[1][0, 0] == pytest.approx(0.35891648, abs=1e-8)

"""Hand-written backpropagation for sigmoid MLPs."""

import re

import numpy as np
import pytest

from chainrule.classic import backprop_reference, backprop_update, sigmoid

# Matt Mazur's "A Step by Step Backpropagation Example": w1, w2 feed h1 from
# (i1, i2); w3, w4 feed h2; w5, w6 feed o1 from (h1, h2); w7, w8 feed o2.
MAZUR_W = [np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])]
MAZUR_B = [np.array([0.35, 0.35]), np.array([0.60, 0.60])]
MAZUR_X, MAZUR_T = np.array([0.05, 0.10]), np.array([0.01, 0.99])


def close_to_digits(value, published: str) -> bool:
    """True iff ``value`` rounds to ``published`` at its number of decimals."""
    decimals = len(published.split(".")[1])
    return abs(value - float(published)) <= 0.5 * 10.0 ** -decimals


def test_mazur_forward_pass_and_error():
    trace = backprop_reference(MAZUR_W, MAZUR_B, MAZUR_X, MAZUR_T)
    assert close_to_digits(trace.activations[1][0], "0.593269992")  # out_h1
    assert close_to_digits(trace.output[0], "0.75136507")            # out_o1
    assert close_to_digits(trace.output[1], "0.772928465")           # out_o2
    assert close_to_digits(trace.error, "0.298371109")               # E_total
    # dE/dnet_o1 = (out_o1 - t_o1) out_o1 (1 - out_o1), published 0.138498562.
    assert close_to_digits(-trace.deltas[1][0], "0.138498562")


@pytest.mark.parametrize("layer, row, col, published", [
    (1, 0, 0, "0.35891648"),   # w5
    (1, 0, 1, "0.408666186"),  # w6
    (1, 1, 0, "0.511301270"),  # w7
    (1, 1, 1, "0.561370121"),  # w8
    (0, 0, 0, "0.149780716"),  # w1
    (0, 0, 1, "0.19956143"),   # w2
    (0, 1, 0, "0.24975114"),   # w3
    (0, 1, 1, "0.29950229"),   # w4
])
def test_mazur_one_step_with_fixed_biases(layer, row, col, published):
    step = backprop_update(MAZUR_W, MAZUR_B, MAZUR_X, MAZUR_T, lr=0.5, update_biases=False)
    assert close_to_digits(step.weights[layer][row, col], published)
    for new, old in zip(step.biases, MAZUR_B):
        assert np.array_equal(new, old)


def test_update_moves_biases_by_lr_delta_and_leaves_inputs_alone():
    weights = [w.copy() for w in MAZUR_W]
    step = backprop_update(weights, MAZUR_B, MAZUR_X, MAZUR_T, lr=0.5)
    for new, old, delta in zip(step.biases, MAZUR_B, step.trace.deltas):
        np.testing.assert_allclose(new, old + 0.5 * delta)
    for w, original in zip(weights, MAZUR_W):
        assert np.array_equal(w, original)
    # Training on the example lowers its error.
    after = backprop_reference(step.weights, step.biases, MAZUR_X, MAZUR_T)
    assert after.error < step.trace.error


def squared_error(weights, biases, x, t):
    """E = 1/2 sum (t - o)^2 by a plain forward pass, independent of the module."""
    a = np.atleast_2d(x)
    for w, b in zip(weights, biases):
        a = 1.0 / (1.0 + np.exp(-(a @ w.T + b)))
    return 0.5 * np.sum((np.atleast_2d(t) - a) ** 2)


def central_differences(params, loss, h=1e-6):
    """dE/dp for every entry of every array in ``params`` (perturbed in place)."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            keep = p[i]
            p[i] = keep + h
            up = loss()
            p[i] = keep - h
            down = loss()
            p[i] = keep
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def random_net(sizes, batch, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 1, (n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [rng.normal(0, 1, n_out) for n_out in sizes[1:]]
    shape = (sizes[0],) if batch is None else (batch, sizes[0])
    x = rng.normal(0, 1, shape)
    t = rng.uniform(0, 1, shape[:-1] + (sizes[-1],))
    return weights, biases, x, t


@pytest.mark.parametrize("sizes", [[1, 1], [2, 3, 1], [3, 4, 4, 2], [4, 5, 3, 2, 3]])
@pytest.mark.parametrize("batch", [None, 5])
def test_gradients_match_finite_differences(sizes, batch):
    weights, biases, x, t = random_net(sizes, batch, seed=len(sizes))
    trace = backprop_reference(weights, biases, x, t)
    assert trace.error == pytest.approx(squared_error(weights, biases, x, t), rel=1e-12)

    def loss():
        return squared_error(weights, biases, x, t)

    numeric = central_differences(weights + biases, loss)
    analytic = trace.weight_grads + trace.bias_grads
    for got, want in zip(analytic, numeric):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_hidden_delta_follows_the_textbook_formula():
    weights, biases, x, t = random_net([3, 4, 2], None, seed=5)
    trace = backprop_reference(weights, biases, x, t)
    o, h = trace.output, trace.activations[1]
    delta_k = o * (1 - o) * (t - o)
    delta_h = [h[j] * (1 - h[j]) * sum(weights[1][k, j] * delta_k[k] for k in range(2))
               for j in range(4)]
    np.testing.assert_allclose(trace.deltas[1], delta_k)
    np.testing.assert_allclose(trace.deltas[0], delta_h)
    np.testing.assert_allclose(trace.net_inputs[0], weights[0] @ x + biases[0])


def test_batch_trace_sums_the_per_example_traces():
    weights, biases, x, t = random_net([3, 4, 2], 6, seed=9)
    batch = backprop_reference(weights, biases, x, t)
    singles = [backprop_reference(weights, biases, xi, ti) for xi, ti in zip(x, t)]
    assert batch.error == pytest.approx(sum(s.error for s in singles))
    for layer in range(2):
        np.testing.assert_allclose(
            batch.weight_grads[layer], sum(s.weight_grads[layer] for s in singles))
        np.testing.assert_allclose(
            batch.deltas[layer], np.stack([s.deltas[layer] for s in singles]))
    assert [a.shape for a in batch.activations] == [(6, 3), (6, 4), (6, 2)]


def test_sigmoid_is_the_logistic_function_without_overflow():
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert sigmoid(np.array([-1e4, 1e4])).tolist() == [0.0, 1.0]


W2 = [np.ones((3, 2)), np.ones((1, 3))]
B2 = [np.zeros(3), np.zeros(1)]
BAD = [
    (lambda: backprop_reference([], [], [1.0], [1.0]), ValueError,
     "weights must hold at least one layer, got none"),
    (lambda: backprop_reference(W2, B2[:1], [1.0, 1.0], [1.0]), ValueError,
     "biases must hold one vector per layer (2), got 1"),
    (lambda: backprop_reference(W2, [np.zeros(2), np.zeros(1)], [1.0, 1.0], [1.0]),
     ValueError, "biases[0] must have shape (3,) to match weights[0], got (2,)"),
    (lambda: backprop_reference([np.ones((3, 2)), np.ones((1, 2))], B2, [1.0, 1.0], [1.0]),
     ValueError, "weights[1] must have 3 columns to take the output of weights[0], got shape (1, 2)"),
    (lambda: backprop_reference([np.ones(2)], [np.zeros(1)], [1.0, 1.0], [1.0]),
     ValueError, "weights[0] must be 2-D, got shape (2,)"),
    (lambda: backprop_reference(W2, B2, [1.0, 1.0, 1.0], [1.0]), ValueError,
     "x must have 2 features in its last axis, got shape (3,)"),
    (lambda: backprop_reference(W2, B2, [1.0, 1.0], [1.0, 0.0]), ValueError,
     "t must have 1 features in its last axis, got shape (2,)"),
    (lambda: backprop_reference(W2, B2, np.ones((4, 2)), np.ones((3, 1))), ValueError,
     "t must have one row per row of x (shape (4,)), got shape (3,)"),
    (lambda: backprop_reference(W2, B2, [1.0, np.nan], [1.0]), ValueError,
     "x must contain only finite numbers, got nan"),
    (lambda: backprop_update(W2, B2, [1.0, 1.0], [1.0], lr=-0.5), ValueError,
     "lr must be > 0, got -0.5"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_message(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()

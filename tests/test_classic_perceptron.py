"""Perceptron training rule and the exact linear-separability test."""

import re
import sys

import numpy as np
import pytest

from chainrule.classic import Perceptron, linearly_separable, separating_hyperplane

X2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TARGETS = {  # binary targets over X2
    "AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0], "XOR": [0, 1, 1, 0], "XNOR": [1, 0, 0, 1],
}
ENCODED = {"binary": {0: 0, 1: 1}, "bipolar": {0: -1, 1: 1}}


def encode(gate, encoding):
    return np.array([ENCODED[encoding][v] for v in TARGETS[gate]])


@pytest.mark.parametrize("encoding", ["binary", "bipolar"])
@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_on_separable_gates(gate, encoding, seed):
    y = encode(gate, encoding)
    p = Perceptron(alpha=0.1, max_epochs=100, encoding=encoding, seed=seed)
    result = p.fit(X2, y)
    assert result.converged and result.separable is True
    assert 1 <= result.epochs < 100
    # The converging epoch is the first one without a mistake.
    assert result.errors.shape == (result.epochs,)
    assert result.errors[-1] == 0 and np.all(result.errors[:-1] > 0)
    assert result.weight_history.shape == (result.epochs + 1, 3)
    assert np.array_equal(result.weight_history[-1], result.weights)
    assert np.array_equal(p.weights_, result.weights)
    assert p.predict(X2).tolist() == y.tolist()
    assert f"converged at epoch {result.epochs}" in result.message


# AND from zero weights with alpha = 1, traced by hand (bias first, x_0 = 1):
# epoch 1: only (1,1) is wrong                  -> (1, 1, 1)
# epoch 2: (0,0), (0,1) fire, (1,1) silent      -> (0, 1, 1), (-1, 1, 0), (0, 2, 1)
# epoch 3: (0,1), (1,0) fire, (1,1) silent      -> (-1, 2, 0), (-2, 1, 0), (-1, 2, 1)
# epoch 4: (1,0) fires, (1,1) silent            -> (-2, 1, 1), (-1, 2, 2)
# epoch 5: (0,1) fires                          -> (-2, 2, 1)
# epoch 6: no mistakes.
AND_TRACE = [[0, 0, 0], [1, 1, 1], [0, 2, 1], [-1, 2, 1], [-1, 2, 2], [-2, 2, 1], [-2, 2, 1]]


@pytest.mark.parametrize("encoding, scale", [("binary", 1), ("bipolar", 2)])
def test_hand_traced_and(encoding, scale):
    # t - o is twice as large with -1/+1 labels, so every step doubles.
    result = Perceptron(alpha=1.0, encoding=encoding).fit(
        X2, encode("AND", encoding), initial_weights=[0, 0, 0])
    assert result.converged and result.epochs == 6
    assert result.errors.tolist() == [1, 3, 3, 2, 1, 0]
    assert result.weight_history.tolist() == (scale * np.array(AND_TRACE)).tolist()


@pytest.mark.parametrize("encoding", ["binary", "bipolar"])
@pytest.mark.parametrize("gate", ["XOR", "XNOR"])
def test_xor_does_not_converge_and_says_why(gate, encoding):
    pytest.importorskip("scipy", reason="telling separable from not needs the classic extra (scipy)")
    result = Perceptron(alpha=0.1, max_epochs=25, encoding=encoding, seed=0).fit(
        X2, encode(gate, encoding))
    assert not result.converged
    assert result.epochs == 25 and result.errors.shape == (25,)
    assert np.all(result.errors > 0)
    assert result.weight_history.shape == (26, 3)
    assert result.separable is False
    assert "did not converge within 25 epochs" in result.message
    assert "not linearly separable" in result.message


def test_separable_data_hitting_the_epoch_limit_is_told_to_train_longer():
    pytest.importorskip("scipy", reason="telling separable from not needs the classic extra (scipy)")
    result = Perceptron(alpha=0.1, max_epochs=1, seed=0).fit(X2, TARGETS["NAND"])
    assert not result.converged and result.separable is True
    assert "did not converge within 1 epochs, although the data are linearly separable" \
        in result.message
    assert "raise max_epochs" in result.message


def test_without_scipy_fit_still_reports(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    result = Perceptron(max_epochs=5, seed=0).fit(X2, TARGETS["XOR"])
    assert result.separable is None and "pip install scipy" in result.message
    with pytest.raises(ImportError, match=re.escape("pip install scipy")):
        linearly_separable(X2, TARGETS["XOR"])


def test_seed_makes_initialisation_reproducible():
    first = Perceptron(seed=7).fit(X2, TARGETS["OR"])
    again = Perceptron(seed=7).fit(X2, TARGETS["OR"])
    other = Perceptron(seed=8).fit(X2, TARGETS["OR"])
    generator = Perceptron(seed=np.random.default_rng(7)).fit(X2, TARGETS["OR"])
    assert np.array_equal(first.weight_history, again.weight_history)
    assert np.array_equal(first.weight_history, generator.weight_history)
    assert not np.array_equal(first.weight_history[0], other.weight_history[0])
    assert np.all(np.abs(first.weight_history[0]) <= 0.05)


def test_net_input_and_predict_use_bias_first_weights():
    p = Perceptron(encoding="bipolar")
    p.fit(X2, encode("AND", "bipolar"), initial_weights=[-1.5, 1, 1])
    assert p.net_input([[1, 1], [0, 1]]).tolist() == [0.5, -0.5]
    assert p.predict([[1, 1], [0, 1]]).tolist() == [1, -1]


# (X, y, separable)
SEPARABILITY = [
    (X2, TARGETS["AND"], True),
    (X2, TARGETS["OR"], True),
    (X2, TARGETS["NAND"], True),
    (X2, TARGETS["NOR"], True),
    (X2, TARGETS["XOR"], False),
    (X2, TARGETS["XNOR"], False),
    ([[0], [1], [2]], [0, 0, 1], True),
    ([[0], [1], [2]], [0, 1, 0], False),
    ([[1, 1], [1, 1]], [0, 1], False),        # the same point in both classes
    ([[3, 4], [5, 6]], [1, 1], True),         # one class only
    (np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1],
               [1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]]),
     [0, 1, 1, 0, 1, 0, 0, 1], False),        # 3-bit parity
    ([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]], [1, 1, 1, 1, 0], False),  # centre
]


@pytest.mark.parametrize("X, y, expected", SEPARABILITY)
def test_linearly_separable(X, y, expected):
    assert linearly_separable(X, y) is expected


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_separating_hyperplane_really_separates(scale):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 1, (40, 3)), rng.normal(3, 1, (40, 3))]) * scale
    y = np.repeat([-1, 1], 40)
    w = separating_hyperplane(X, y)
    assert w.shape == (4,)
    assert np.all(y * (w[0] + X @ w[1:]) > 0)


def test_weakly_separable_classes_are_not_strictly_separable():
    # The line y = 0 has class 0 on or below it and class 1 on or above it,
    # but (1, 0) of class 1 lies between (0, 0) and (2, 0) of class 0.
    X = [[0, 0], [2, 0], [1, 0], [1, 1]]
    assert separating_hyperplane(X, [0, 0, 1, 1]) is None


BAD = [
    (lambda: Perceptron(alpha=-0.1), ValueError, "alpha must be > 0, got -0.1"),
    (lambda: Perceptron(alpha=0), ValueError, "alpha must be > 0, got 0"),
    (lambda: Perceptron(alpha=float("nan")), ValueError, "alpha must be > 0, got nan"),
    (lambda: Perceptron(alpha="fast"), TypeError, "alpha must be > 0, got 'fast'"),
    (lambda: Perceptron(max_epochs=0), ValueError, "max_epochs must be a positive integer, got 0"),
    (lambda: Perceptron(max_epochs=2.5), TypeError, "max_epochs must be a positive integer, got 2.5"),
    (lambda: Perceptron(encoding="ternary"), ValueError,
     "encoding must be one of 'binary', 'bipolar', got 'ternary'"),
    (lambda: Perceptron(seed="abc"), TypeError,
     "seed must be an integer >= 0, None or a numpy.random.Generator, got 'abc'"),
    (lambda: Perceptron().fit(X2, [0, 0, -1, 1]), ValueError,
     "y must contain only 0 and 1 for encoding='binary', got -1"),
    (lambda: Perceptron(encoding="bipolar").fit(X2, [0, 1, 1, 1]), ValueError,
     "y must contain only -1 and 1 for encoding='bipolar', got 0"),
    (lambda: Perceptron().fit(X2, [0, 0, 1]), ValueError,
     "y must have one entry per row of X (4), got 3"),
    (lambda: Perceptron().fit([0, 1, 1, 0], [0, 1, 1, 0]), ValueError,
     "X must be 2-D, got shape (4,)"),
    (lambda: Perceptron().fit(X2, TARGETS["AND"], initial_weights=[0, 0]), ValueError,
     "initial_weights must have m + 1 = 3 entries (bias first), got 2"),
    (lambda: Perceptron().predict(X2), RuntimeError,
     "this Perceptron is not fitted yet; call fit(X, y) first"),
    (lambda: linearly_separable(X2, [0, 1, 2, 1]), ValueError,
     "y must contain at most two distinct labels, got 3: [0.0, 1.0, 2.0]"),
    (lambda: linearly_separable(X2, [[0], [1], [1], [0]]), ValueError,
     "y must be 1-D, got shape (4, 1)"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_message(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_predict_checks_feature_count():
    p = Perceptron(seed=0)
    p.fit(X2, TARGETS["AND"])
    with pytest.raises(ValueError, match=re.escape(
            "X must have 2 features in its last axis, got shape (3, 3)")):
        p.predict(np.zeros((3, 3)))

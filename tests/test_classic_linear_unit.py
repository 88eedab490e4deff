"""Linear unit (ADALINE) trained by the delta rule."""

import re

import numpy as np
import pytest

from chainrule.classic import LinearUnit


def regression_data(n=30, m=3, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    y = 0.5 + X @ rng.normal(size=m) + noise * rng.normal(size=n)
    return X, y


def least_squares(X, y):
    Xa = np.hstack([np.ones((len(X), 1)), X])
    return np.linalg.lstsq(Xa, y, rcond=None)[0], Xa


def safe_alpha(Xa):
    return 1.0 / np.linalg.eigvalsh(Xa.T @ Xa)[-1]


def test_batch_mode_reaches_least_squares():
    X, y = regression_data()
    w_star, Xa = least_squares(X, y)
    result = LinearUnit(alpha=safe_alpha(Xa), max_epochs=5000, mode="batch",
                        tol=1e-13, seed=0).fit(X, y)
    assert result.converged and result.epochs < 5000
    np.testing.assert_allclose(result.weights, w_star, atol=1e-9)
    # With alpha <= 1 / lambda_max every batch step lowers E.
    assert np.all(np.diff(result.errors) <= 1e-12)
    assert result.errors[-1] == pytest.approx(0.5 * np.sum((y - Xa @ w_star) ** 2))


def test_incremental_mode_reaches_exact_fit():
    X, _ = regression_data(noise=0.0)
    y = 1.0 - 2.0 * X[:, 0] + 0.5 * X[:, 1] + 3.0 * X[:, 2]
    w_star, _ = least_squares(X, y)
    np.testing.assert_allclose(w_star, [1.0, -2.0, 0.5, 3.0])
    result = LinearUnit(alpha=0.05, max_epochs=5000, mode="incremental",
                        tol=1e-13, seed=0).fit(X, y)
    assert result.converged
    np.testing.assert_allclose(result.weights, w_star, atol=1e-9)


def test_incremental_mode_on_noisy_data_settles_closer_as_alpha_shrinks():
    X, y = regression_data(noise=0.3)
    w_star, _ = least_squares(X, y)
    gaps = []
    for alpha in (0.02, 0.005):
        result = LinearUnit(alpha=alpha, max_epochs=5000, mode="incremental",
                            tol=1e-12, seed=0).fit(X, y)
        assert result.converged
        gaps.append(np.max(np.abs(result.weights - w_star)))
    assert gaps[1] < gaps[0] < 0.05
    assert gaps[1] > 1e-6  # a fixed step does not land exactly on the minimum


# X = [[1], [2]], y = [1, 2], w = 0, alpha = 0.1, one epoch, traced by hand:
#   batch:       residuals (1, 2); sum_d r_d x_d = (3, 5)   -> w = (0.3, 0.5)
#   incremental: d=1: r=1 -> w = (0.1, 0.1); d=2: o=0.3, r=1.7 -> w = (0.27, 0.44)
@pytest.mark.parametrize("mode, expected", [
    ("batch", [0.3, 0.5]), ("incremental", [0.27, 0.44]),
])
def test_one_epoch_by_hand(mode, expected):
    result = LinearUnit(alpha=0.1, max_epochs=1, mode=mode).fit(
        [[1.0], [2.0]], [1.0, 2.0], initial_weights=[0.0, 0.0])
    np.testing.assert_allclose(result.weights, expected)
    assert result.weight_history.tolist() == [[0.0, 0.0], list(result.weights)]
    residual = np.array([1.0, 2.0]) - (expected[0] + expected[1] * np.array([1.0, 2.0]))
    assert result.errors.tolist() == pytest.approx([0.5 * np.sum(residual ** 2)])
    assert not result.converged
    assert result.message.startswith("did not converge within 1 epochs")


@pytest.mark.parametrize("mode", ["batch", "incremental"])
def test_errors_are_E_of_each_epochs_weights(mode):
    X, y = regression_data(n=10)
    result = LinearUnit(alpha=0.01, max_epochs=50, mode=mode, seed=3).fit(X, y)
    _, Xa = least_squares(X, y)
    E = [0.5 * np.sum((y - Xa @ w) ** 2) for w in result.weight_history[1:]]
    np.testing.assert_allclose(result.errors, E)
    assert result.errors.shape == (result.epochs,)


@pytest.mark.parametrize("mode", ["batch", "incremental"])
def test_too_large_alpha_diverges_and_suggests_a_bound(mode):
    X = [[1.0], [2.0]]
    bound = {"batch": 2 / ((7 + np.sqrt(45)) / 2), "incremental": 2 / 5}[mode]
    result = LinearUnit(alpha=50.0, max_epochs=1000, mode=mode, seed=0).fit(X, [1.0, 2.0])
    assert not result.converged and result.epochs < 1000
    assert not np.isfinite(result.errors[-1])
    assert result.message.startswith(f"diverged at epoch {result.epochs}")
    assert f"try alpha below {bound:.3g}" in result.message
    # The suggested bound really is safe.
    ok = LinearUnit(alpha=0.9 * bound, max_epochs=20000, mode=mode, seed=0).fit(
        X, [1.0, 2.0])
    assert ok.converged
    np.testing.assert_allclose(ok.weights, [0.0, 1.0], atol=1e-8)


def test_converged_message_and_predict():
    unit = LinearUnit(alpha=0.05, max_epochs=5000, seed=0)
    result = unit.fit([[0.0], [1.0], [2.0], [3.0]], [1.0, 3.0, 5.0, 7.0])
    assert result.message.startswith(f"converged at epoch {result.epochs}")
    assert unit.predict([[4.0], [-1.0]]) == pytest.approx([9.0, -1.0])
    assert unit.predict([0.5]) == pytest.approx(2.0)


def test_seed_makes_initialisation_reproducible():
    X, y = regression_data(n=5)
    a = LinearUnit(max_epochs=3, seed=11).fit(X, y)
    b = LinearUnit(max_epochs=3, seed=np.random.default_rng(11)).fit(X, y)
    assert np.array_equal(a.weight_history, b.weight_history)
    assert np.all(np.abs(a.weight_history[0]) <= 0.05)


BAD = [
    (lambda: LinearUnit(alpha=-0.1), ValueError, "alpha must be > 0, got -0.1"),
    (lambda: LinearUnit(tol=0), ValueError, "tol must be > 0, got 0"),
    (lambda: LinearUnit(max_epochs=-3), ValueError, "max_epochs must be a positive integer, got -3"),
    (lambda: LinearUnit(max_epochs=True), TypeError, "max_epochs must be a positive integer, got True"),
    (lambda: LinearUnit(mode="stochastic"), ValueError,
     "mode must be one of 'batch', 'incremental', got 'stochastic'"),
    (lambda: LinearUnit(seed=1.5), TypeError,
     "seed must be an integer >= 0, None or a numpy.random.Generator, got 1.5"),
    (lambda: LinearUnit().fit([[1.0], [np.inf]], [1.0, 2.0]), ValueError,
     "X must contain only finite numbers, got inf"),
    (lambda: LinearUnit().fit([[1.0], [2.0]], [[1.0], [2.0]]), ValueError,
     "y must be 1-D, got shape (2, 1)"),
    (lambda: LinearUnit().fit([[1.0], [2.0]], [1.0]), ValueError,
     "y must have one entry per row of X (2), got 1"),
    (lambda: LinearUnit().predict([[1.0]]), RuntimeError,
     "this LinearUnit is not fitted yet; call fit(X, y) first"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_message(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()

"""The chainrule estimators expose scikit-learn's fitted MLP attributes, with its layout and meaning."""

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLP  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)
X = (X - X.mean(axis=0)) / X.std(axis=0)


def test_coefs_and_intercepts_have_scikit_learns_layout_and_reproduce_the_outputs():
    clf = MLPClassifier((8, 5), max_iter=10, random_state=0).fit(X, Y)
    ref = SkMLP((8, 5), max_iter=5, random_state=0).fit(X, Y)
    assert [c.shape for c in clf.coefs_] == [c.shape for c in ref.coefs_] == [(4, 8), (8, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [b.shape for b in ref.intercepts_]
    h = X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        h = np.maximum(h @ W + b, 0)
    logits = h @ clf.coefs_[-1] + clf.intercepts_[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert np.allclose(p / p.sum(axis=1, keepdims=True), clf.predict_proba(X), atol=1e-5)
    clf.coefs_[0][...] = 0  # a copy: the network is not changed behind the estimator's back
    assert np.abs(clf.coefs_[0]).sum() > 0


def test_best_loss_without_early_stopping_and_validation_scores_with_it():
    plain = MLPClassifier((8,), max_iter=10, random_state=0).fit(X, Y)
    assert plain.best_loss_ == min(plain.loss_curve_) and plain.validation_scores_ is None
    early = MLPClassifier((8,), max_iter=15, early_stopping=True, n_iter_no_change=50, random_state=0).fit(X, Y)
    assert early.best_loss_ is None and len(early.validation_scores_) == early.n_iter_
    assert all(0 <= s <= 1 for s in early.validation_scores_)
    assert early.best_validation_score_ == max(early.validation_scores_)
    assert early.validation_scores_[-1] == pytest.approx(accuracy_score(Y, early.predict(X)), abs=0.2)


def test_regressor_validation_scores_are_r2():
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) * 30 + 100
    reg = MLPRegressor((16,), max_iter=60, early_stopping=True, n_iter_no_change=100, learning_rate_init=0.01,
                       random_state=0).fit(X, y)
    assert len(reg.validation_scores_) == reg.n_iter_ and reg.validation_scores_[-1] > 0.9
    assert [c.shape for c in reg.coefs_] == [(4, 16), (16, 1)]

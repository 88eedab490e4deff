"""chainrule.sklearn: the scikit-learn estimator contract, Pipeline/GridSearchCV, partial_fit and clear errors."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from chainrule import io, nn  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# Small networks and few epochs keep the ~55 checks per estimator quick;
# every check passes, none is expected to fail. Two are skipped by
# scikit-learn itself: the pandas check (pandas is not a dependency) and the
# array-API check (needs SCIPY_ARRAY_API=1 and an array-API library).
FAST = {"hidden_layer_sizes": (16,), "learning_rate_init": 0.01, "max_iter": 50}
ESTIMATORS = [MLPClassifier(**FAST), MLPRegressor(**FAST), MLPClassifier(early_stopping=True, **FAST),
              MLPRegressor(hidden_layer_sizes=(8, 8), activation="tanh", solver="rmsprop", learning_rate_init=0.01,
                           max_iter=50, early_stopping=True)]


@parametrize_with_checks(ESTIMATORS)
def test_check_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_pipeline_and_grid_search(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=100, learning_rate_init=0.01, random_state=0))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)],
                               "mlpclassifier__activation": ["relu", "tanh"]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_score_ > 0.9
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes", "mlpclassifier__activation"}
    assert grid.predict_proba(X[:3]).shape == (3, 3)


def test_fitted_attributes_and_string_classes(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((16,), learning_rate_init=0.02, max_iter=300, tol=1e-3, random_state=0).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.n_features_in_ == 4 and isinstance(clf.model_, nn.MLP)
    assert clf.n_iter_ == len(clf.loss_curve_) <= 300
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert clf.score(X, names) > 0.95
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


def test_early_stopping_keeps_a_validation_curve(iris):
    X, y = iris
    clf = MLPClassifier((16,), learning_rate_init=0.05, max_iter=500, early_stopping=True, n_iter_no_change=5,
                        validation_fraction=0.2, random_state=0).fit(X, y)
    assert clf.n_iter_ < 500
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_loss_ == min(clf.validation_loss_curve_)
    assert clf.history_.stop_reason.startswith("early stopping")


def test_convergence_warning_when_max_iter_is_reached(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        MLPClassifier(max_iter=2, random_state=0).fit(X, y)


def test_partial_fit_streams_batches(iris):
    X, y = iris
    clf = MLPClassifier((16,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="first call to partial_fit needs classes="):
        clf.partial_fit(X, y)
    for epoch in range(40):
        rows = np.random.default_rng(epoch).permutation(len(X))[:50]
        clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    assert len(clf.loss_curve_) == 40 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X, y) > 0.8
    with pytest.raises(ValueError, match=r"y holds label 7, which is not among the classes \[0, 1, 2\]"):
        clf.partial_fit(X[:5], [7] * 5)
    with pytest.raises(ValueError, match="differ from the classes of the first call"):
        clf.partial_fit(X[:5], y[:5], classes=[0, 1])
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(X[:5, :3], y[:5])


def test_warm_start_continues_from_current_weights(iris):
    X, y = iris
    clf = MLPClassifier((8,), max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        model = clf.model_
        clf.fit(X, y)
    assert clf.model_ is model and len(clf.loss_curve_) == 10 == clf.n_iter_


def test_regressor_scales_targets_and_handles_several_outputs():
    X, y = make_regression(200, 4, n_targets=2, noise=1.0, random_state=0)
    y = y * 1000 + 5e4  # targets far from unit scale
    reg = MLPRegressor((32,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (200, 2) and reg.score(X, y) > 0.95
    reg1 = clone(reg).fit(X, y[:, 0])
    assert reg1.predict(X).shape == (200,)
    part = MLPRegressor((16,), random_state=0)
    for _ in range(3):
        part.partial_fit(X, y)
    assert part.n_iter_ == 3 == len(part.loss_curve_)


def test_get_set_params_and_clone():
    clf = MLPClassifier(hidden_layer_sizes=(5, 3), activation="logistic")
    assert clf.get_params()["hidden_layer_sizes"] == (5, 3)
    clf.set_params(alpha=0.5, solver="sgd")
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and twin is not clf
    assert "activation='logistic'" in repr(clf)


@pytest.mark.parametrize("params, message", [
    ({"learning_rate_init": 0}, "learning_rate_init must be > 0, got 0"),
    ({"learning_rate_init": -0.1}, "learning_rate_init must be > 0, got -0.1"),
    ({"max_iter": 0}, "max_iter must be a positive integer, got 0"),
    ({"batch_size": -4}, "batch_size must be a positive integer, got -4"),
    ({"alpha": -1.0}, "alpha must be >= 0, got -1.0"),
    ({"hidden_layer_sizes": (8, 0)}, r"hidden_layer_sizes must be a positive int or a tuple of positive ints, got \(8, 0\)"),
    ({"activation": "swoosh"}, "activation must be one of 'celu', 'elu', 'gelu', .*, got 'swoosh'"),
    ({"solver": "lbfgs"}, "solver must be one of 'adagrad', 'adam', 'adamw', 'rmsprop', 'sgd', got 'lbfgs'"),
    ({"early_stopping": True, "validation_fraction": 1.5}, r"validation_fraction must be in \(0, 1\), got 1.5"),
])
def test_bad_hyper_parameters_fail_at_fit_with_one_sentence(iris, params, message):
    X, y = iris
    clf = MLPClassifier(**params)  # never validated in __init__ (scikit-learn's rule)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_bad_data_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="one class only"):
        MLPClassifier().fit(X[:10], np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier().fit(np.where(X == X[3, 2], np.nan, X), y)
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(X)


def test_model_saves_and_exports(iris, tmp_path):
    X, y = iris
    clf = MLPClassifier((8,), learning_rate_init=0.02, max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    io.save(clf.model_, tmp_path / "m.safetensors")
    assert io.load(tmp_path / "m.safetensors").num_parameters() == clf.model_.num_parameters()
    onnx = pytest.importorskip("chainrule.io.onnx")
    pytest.importorskip("onnxruntime")
    got = onnx.run_onnx(onnx.to_onnx(clf.model_, head="softmax"), X)
    np.testing.assert_allclose(got, clf.predict_proba(X), atol=1e-6)


def test_docstring_examples_run():
    import doctest

    import chainrule.sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert doctest.testmod(chainrule.sklearn, optionflags=doctest.ELLIPSIS).failed == 0

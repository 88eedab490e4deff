"""chainrule.sklearn on bad input: one sentence naming the argument, the bad value and what was expected."""

import re

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from chainrule._core import ArgumentError  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)
FAST = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}


def one_sentence(err):
    """The message is one line, with no second sentence after a full stop."""
    text = str(err.value)
    assert "\n" not in text and not re.search(r"\.\s+[A-Z]", text), text
    return text


# ---------------------------------------------------------------- hyper-parameters
@pytest.mark.parametrize("params, error, message", [
    ({"activation": ["relu"]}, ValueError, r"activation must be one of 'celu', .*'relu'.*, got \['relu'\]"),
    ({"activation": None}, ValueError, r"activation must be one of .*'logistic'.*, got None"),
    ({"activation": np.array(["relu"])}, TypeError, r"activation must be a string, got array\(\['relu'\]"),
    ({"solver": ["adam"]}, ValueError, r"solver must be one of 'adagrad', 'adam', .*, got \['adam'\]"),
    ({"solver": "lbfgs"}, ValueError, r"solver must be one of .*'sgd', got 'lbfgs'"),
    ({"random_state": 1.5}, TypeError, r"random_state must be an integer from 0 to 2\*\*32 - 1, None or a "
                                       r"numpy.random.RandomState, got 1.5"),
    ({"random_state": "seed"}, TypeError, r"random_state must be .*, got 'seed'"),
    ({"random_state": -1}, ValueError, r"random_state must be an integer from 0 to 2\*\*32 - 1.*, got -1"),
    ({"random_state": 2**40}, ValueError, r"random_state must be .*, got 1099511627776"),
    ({"random_state": True}, TypeError, r"random_state must be .*, got True"),
    ({"random_state": np.random.default_rng(0)}, TypeError, r"random_state must be .*, got Generator"),
    ({"early_stopping": "yes"}, TypeError, r"early_stopping must be True or False, got 'yes'"),
    ({"warm_start": "no"}, TypeError, r"warm_start must be True or False, got 'no'"),
    ({"validation_fraction": 1.5}, ValueError, r"validation_fraction must be in \[0, 1\), got 1.5"),
    ({"verbose": -1}, ValueError, r"verbose must be an integer from 0 to 2, got -1"),
    ({"verbose": "loud"}, TypeError, r"verbose must be an integer from 0 to 2, got 'loud'"),
    ({"batch_size": 0}, ValueError, r"batch_size must be a positive integer, got 0"),
    ({"batch_size": np.array([4, 8])}, TypeError, r"batch_size must be a positive integer, got array"),
    ({"max_iter": 0}, ValueError, r"max_iter must be a positive integer, got 0"),
    ({"alpha": -1}, ValueError, r"alpha must be >= 0, got -1"),
    ({"learning_rate_init": 0}, ValueError, r"learning_rate_init must be > 0, got 0"),
    ({"hidden_layer_sizes": tuple(range(-1, 100))}, ValueError,
     r"hidden_layer_sizes must be a positive int or a tuple of positive ints, got \(-1, 0, 1, .*\.\.\.$"),
])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_hyper_parameters(cls, params, error, message):
    est = cls(**{**FAST, **params})
    with pytest.raises(error, match=message) as err:
        est.fit(X, Y)
    assert len(one_sentence(err)) < 400  # long values are shortened
    with pytest.raises(error, match=message):
        est.partial_fit(X, Y, **({"classes": [0, 1, 2]} if cls is MLPClassifier else {}))


@pytest.mark.parametrize("params", [
    {"random_state": np.random.RandomState(0)}, {"random_state": np.int64(3)}, {"random_state": 2**32 - 1},
    {"verbose": False}, {"early_stopping": np.True_}, {"activation": "logistic"}, {"activation": np.str_("tanh")},
    {"batch_size": 1000},  # more than the rows: full batches
    {"validation_fraction": 0.0},  # unused without early stopping
])
def test_good_hyper_parameters_still_fit(params):
    clf = MLPClassifier(**{**FAST, **params}).fit(X, Y)
    assert clf.predict(X[:5]).shape == (5,)


# ---------------------------------------------------------------- data
X_NAN = np.where((np.arange(150)[:, None] == 7) & (np.arange(4) == 2), np.nan, X)
X_TEXT = X.astype(object)
X_TEXT[5, 1] = "n/a"


@pytest.mark.parametrize("X_bad, y_bad, error, message", [
    (X_NAN, Y, ValueError, r"^X must be finite \(no NaN or inf\), got NaN at row 7, column 2$"),
    (np.where(X > 7.8, np.inf, X), Y, ValueError, r"X must be finite .*, got inf at row 131, column 0"),
    (X_TEXT, Y, TypeError, r"^X must hold numbers, got 'n/a' at row 5, column 1$"),
    (X[:, 0], Y, ValueError, r"X must be a 2-D array .*, got a 1-D array of shape \(150,\); Reshape your data"),
    (X[None], Y, ValueError, r"X must be a 2-D array .*, got a 3-D array of shape \(1, 150, 4\)"),
    ([[1.0, 2.0], [3.0]], [0, 1], ValueError, r"X must have the same number of entries in every row, "
                                              r"got 2 in row 0 and 1 in row 1"),
    (X, Y[:-1], ValueError, r"^y must have one entry per row of X \(150 rows\), got 149$"),
    (X[:0], Y[:0], ValueError, r"0 sample\(s\)"),
])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_data_in_fit(cls, X_bad, y_bad, error, message):
    with pytest.raises(error, match=message) as err:
        cls(**FAST).fit(X_bad, y_bad)
    one_sentence(err)


@pytest.mark.parametrize("y_bad, error, message", [
    (np.where(np.arange(150) == 4, 0.5, Y), ValueError,
     r"^y must hold class labels \(integers, strings or whole-number floats\), got the continuous value 0.5 at row 4$"),
    (np.where(np.arange(150) == 9, np.nan, Y), ValueError, r"^y must be finite \(no NaN or inf\), got NaN at row 9$"),
    (np.array([0, "a"] * 75, dtype=object), TypeError,
     r"y must hold labels of one type \(all numbers or all strings\), got 0 at row 0"),
    (np.array([0, None] * 75, dtype=object), ValueError, r"Unknown label type: y must hold class labels .*got None"),
    (np.zeros(150), ValueError, r"y holds one class only \(0.0\); a classifier needs at least 2"),
    (np.c_[Y, Y], ValueError, r"y should be a 1d array, got an array of shape \(150, 2\)"),
])
def test_classifier_bad_targets(y_bad, error, message):
    with pytest.raises(error, match=message) as err:
        MLPClassifier(**FAST).fit(X, y_bad)
    one_sentence(err)


def test_classifier_takes_numbers_in_an_object_array_as_labels():
    clf = MLPClassifier(**FAST).fit(X, Y.astype(object))
    assert clf.classes_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("y_bad, error, message", [
    (["a", "b", "c"], TypeError, r"^y must hold numbers, got 'a' at row 0$"),
    (np.array([1.0, "x", 3.0], dtype=object), TypeError, r"^y must hold numbers, got 'x' at row 1$"),
    ([1e308, -1e308, 1e308], ValueError,
     r"^y must be small enough to standardise in float64 \(\|y\| below about 1e154\), got 1e\+308 at row 0; "),
    ([[0.0, 1.0], [0.0, 1e200], [1.0, -1e200]], ValueError, r"got 1e\+200 at row 1, column 1"),
    ([1.0, np.inf, 2.0], ValueError, r"^y must be finite \(no NaN or inf\), got inf at row 1$"),
])
def test_regressor_bad_targets(y_bad, error, message):
    reg = MLPRegressor(**FAST)
    with pytest.raises(error, match=message) as err:
        reg.fit(X[:len(y_bad)], y_bad)
    one_sentence(err)
    assert not hasattr(reg, "model_")


def test_regressor_targets_of_a_large_but_safe_scale_still_fit():
    y = X @ [1.0, 2.0, 3.0, 4.0] * 1e150
    assert MLPRegressor(**FAST).fit(X, y).predict(X[:3]).shape == (3,)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_predict_checks(cls):
    with pytest.raises(NotFittedError):
        cls().predict(X)
    est = cls(**FAST).fit(X, Y)
    with pytest.raises(ValueError, match=r"X has 3 features, but \w+ is expecting 4 features as input"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"got a 1-D array of shape \(4,\); Reshape your data"):
        est.predict(X[0])
    with pytest.raises(ValueError, match=r"^X must be finite \(no NaN or inf\), got NaN at row 7, column 2$"):
        est.predict(X_NAN)


# ---------------------------------------------------------------- partial_fit
@pytest.mark.parametrize("classes, error, message", [
    ("01", TypeError, r"^classes must be a list of all class labels, got '01'$"),
    (5, TypeError, r"classes must be a list of all class labels, got 5"),
    ([[0, 1], [2, 3]], TypeError, r"classes must be a list of all class labels, got \[\[0, 1\], \[2, 3\]\]"),
    ([0], ValueError, r"^classes must list at least 2 different labels, got \[0\]$"),
    ([1, 1], ValueError, r"classes must list at least 2 different labels, got \[1, 1\]"),
    ([], ValueError, r"classes must list at least 2 different labels, got \[\]"),
    ([0.5, 1, 2], ValueError, r"classes must hold class labels .*, got 0.5"),
    ([0, "a"], TypeError, r"classes must hold labels of one type \(all numbers or all strings\), got \[0, 'a'\]"),
    ([0, 1], ValueError, r"^y holds label 2, which is not among the classes \[0, 1\] \(first at row 100\)$"),
])
def test_partial_fit_bad_classes_leave_the_estimator_unfitted(classes, error, message):
    clf = MLPClassifier(**FAST)
    with pytest.raises(error, match=message) as err:
        clf.partial_fit(X, Y, classes=classes)
    one_sentence(err)
    assert not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert clf.partial_fit(X, Y, classes=[0, 1, 2]).classes_.tolist() == [0, 1, 2]  # a retry starts afresh


def test_partial_fit_later_batches():
    clf = MLPClassifier(**FAST).partial_fit(X, Y, classes={0, 1, 2})  # a set is a list of labels too
    with pytest.raises(ValueError, match=r"^y holds label 7, which is not among the classes \[0, 1, 2\] "
                                         r"\(first at row 2\)$"):
        clf.partial_fit(X[:4], [0, 1, 7, 7])
    with pytest.raises(ValueError, match="alpha must be >= 0, got -1"):
        clf.set_params(alpha=-1).partial_fit(X, Y)  # checked on every call, not only the first
    clf.set_params(alpha=0.0, hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(5,\) differs from the fitted network's \(4,\)"):
        clf.partial_fit(X, Y)
    assert clf.set_params(hidden_layer_sizes=(4,)).partial_fit(X, Y).n_iter_ == 2  # the refusals changed nothing


def test_partial_fit_takes_a_new_learning_rate():
    runs = [MLPClassifier(**FAST, batch_size=16).partial_fit(X, Y, classes=[0, 1, 2]) for _ in range(2)]
    runs[1].set_params(learning_rate_init=0.5)
    for clf in runs:
        clf.partial_fit(X, Y)
    assert runs[0].loss_curve_[0] == runs[1].loss_curve_[0]
    assert runs[0].loss_curve_[1] != runs[1].loss_curve_[1]


# ---------------------------------------------------------------- warm_start
def _second_warm_fit(cls=MLPClassifier, **changes):
    est = cls(**FAST, warm_start=True).fit(X, Y)
    return est.set_params(**changes).fit(X, Y)


@pytest.mark.parametrize("changes", [{"learning_rate_init": 0.5}, {"solver": "sgd"}])
def test_warm_start_applies_a_new_solver_or_learning_rate(changes):
    same, changed = _second_warm_fit(), _second_warm_fit(**changes)
    assert same.loss_curve_[:3] == changed.loss_curve_[:3]
    assert same.loss_curve_[3:] != changed.loss_curve_[3:]
    assert changed.n_iter_ == 6


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("changes, message", [
    ({"hidden_layer_sizes": (8, 8)}, r"^hidden_layer_sizes=\(8, 8\) differs from the fitted network's \(4,\), "
                                     r"which warm_start and partial_fit train on; call fit with warm_start=False"),
    ({"activation": "tanh"}, r"activation='tanh' differs from the fitted network's 'relu'"),
])
def test_warm_start_refuses_new_layers(cls, changes, message):
    est = cls(**FAST, warm_start=True).fit(X, Y)
    model = est.model_
    with pytest.raises(ValueError, match=message) as err:
        est.set_params(**changes).fit(X, Y)
    one_sentence(err)
    assert est.model_ is model
    est.set_params(warm_start=False).fit(X, Y)  # a new network is built
    assert est.model_ is not model


def test_warm_start_keeps_features_and_classes():
    assert _second_warm_fit(activation="relu").n_iter_ == 6  # unchanged settings continue
    clf = MLPClassifier(**FAST, warm_start=True).fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        clf.fit(X[:, :3], Y)
    with pytest.raises(ValueError, match=r"y holds label 3, which is not among the classes \[0, 1, 2\]"):
        clf.fit(X, Y + 1)
    assert clf.predict(X[:2]).shape == (2,)  # still fitted


# ---------------------------------------------------------------- what a failed fit leaves
def test_a_failed_fit_leaves_no_half_trained_estimator():
    clf = MLPClassifier(**FAST).fit(X, Y)
    with pytest.raises(ValueError, match="continuous value 0.5"):
        clf.fit(X, Y + 0.5)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [key for key in vars(clf) if key.endswith("_")]


def test_bad_hyper_parameters_keep_the_fitted_estimator():
    clf = MLPClassifier(**FAST).fit(X, Y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        clf.set_params(alpha=-1).fit(X, Y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_argument_errors_are_both_value_and_type_errors():
    with pytest.raises(ArgumentError):
        MLPClassifier(**{**FAST, "random_state": "seed"}).fit(X, Y)

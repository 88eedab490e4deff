"""Metrics against scikit-learn on random labels, scores and regression targets."""

import doctest

import numpy as np
import pytest

from chainrule import metrics
from chainrule.metrics import METRICS, get_metric, to_labels

skm = pytest.importorskip("sklearn.metrics")


@pytest.fixture(params=[0, 1, 2])
def labels(request):
    rng = np.random.default_rng(request.param)
    k = 4
    y = rng.integers(0, k, 300)
    scores = rng.normal(size=(300, k))
    scores[np.arange(300), y] += rng.uniform(0, 2, 300)  # better than chance, not perfect
    return y, scores, k


def test_accuracy_matches_sklearn(labels):
    y, scores, _ = labels
    pred = scores.argmax(1)
    assert metrics.accuracy(y, scores) == pytest.approx(skm.accuracy_score(y, pred))
    assert metrics.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))


@pytest.mark.parametrize("name, sk", [("precision", "precision_score"), ("recall", "recall_score"),
                                      ("f1", "f1_score")])
def test_per_class_scores_match_sklearn(labels, name, sk):
    y, scores, k = labels
    pred = scores.argmax(1)
    expected = getattr(skm, sk)(y, pred, average=None, labels=range(k), zero_division=0)
    np.testing.assert_allclose(getattr(metrics, name)(y, scores, num_classes=k), expected)


def test_confusion_matrix_matches_sklearn(labels):
    y, scores, k = labels
    cm = metrics.confusion_matrix(y, scores, num_classes=k)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, scores.argmax(1), labels=range(k)))
    assert cm.sum() == len(y)


def test_class_never_predicted_scores_zero_like_sklearn():
    y, pred = np.array([0, 1, 2, 2]), np.array([0, 0, 0, 2])
    np.testing.assert_allclose(metrics.precision(y, pred),
                               skm.precision_score(y, pred, average=None, zero_division=0))
    np.testing.assert_allclose(metrics.recall(y, pred, num_classes=4)[:3],
                               skm.recall_score(y, pred, average=None, zero_division=0))


def test_binary_scores_use_the_threshold():
    y = np.array([0, 1, 1, 0])
    probs = np.array([[0.2], [0.7], [0.4], [0.6]])
    assert metrics.accuracy(y, probs) == 0.5
    logits = np.array([-1.0, 2.0, 0.5, -0.1])
    assert metrics.accuracy(y, logits, threshold=0.0) == 1.0
    assert metrics.accuracy(y.astype(float)[:, None], logits, threshold=0.0) == 1.0


def test_one_hot_targets_become_labels():
    y = np.eye(3)[[0, 2, 1]]
    assert metrics.accuracy(y, np.array([0, 2, 2])) == pytest.approx(2 / 3)
    assert to_labels(y).tolist() == [0, 2, 1]


@pytest.fixture(params=[(200,), (200, 1), (200, 3)])
def regression(request):
    rng = np.random.default_rng(len(request.param))
    y = rng.normal(size=request.param)
    return y, y + rng.normal(scale=0.5, size=y.shape)


@pytest.mark.parametrize("name, sk", [("mse", "mean_squared_error"), ("mae", "mean_absolute_error"),
                                      ("r2", "r2_score")])
def test_regression_metrics_match_sklearn(regression, name, sk):
    y, pred = regression
    assert getattr(metrics, name)(y, pred) == pytest.approx(getattr(skm, sk)(y, pred))


def test_rmse_is_root_of_mse(regression):
    y, pred = regression
    assert metrics.rmse(y, pred) == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))


def test_column_output_against_flat_target_is_not_broadcast():
    y = np.array([1.0, 2.0, 3.0])
    assert metrics.mse(y, y[:, None] + 1) == 1.0


def test_r2_of_constant_target_matches_sklearn():
    y = np.ones(5)
    assert metrics.r2(y, y) == skm.r2_score(y, y) == 1.0
    assert metrics.r2(y, y + 1) == skm.r2_score(y, y + 1) == 0.0


@pytest.mark.parametrize("metric", ["accuracy", "precision", "recall", "f1", "confusion_matrix"])
def test_label_metrics_refuse_true_values_that_are_not_labels(metric):
    # regression targets cut at 0.5 would score made-up classes; whole-number floats are labels
    with pytest.raises(ValueError, match=r"y_true holds 0.2 at row 1, which is not a class label"):
        getattr(metrics, metric)(np.array([1.0, 0.2, 0.7]), np.array([1, 0, 1]))
    assert metrics.accuracy(np.array([1.0, 0.0, 1.0]), np.array([1, 0, 0])) == pytest.approx(2 / 3)


def test_length_mismatch_is_one_sentence():
    with pytest.raises(ValueError, match="y_true has 3 rows but y_pred has 2"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="y_true has shape"):
        metrics.mse(np.zeros((3, 2)), np.zeros((3, 3)))


def test_registry_lists_valid_names_on_unknown():
    with pytest.raises(ValueError, match="unknown metric 'acc'; expected one of: accuracy"):
        get_metric("acc")
    assert METRICS["accuracy"].kind == "labels" and not METRICS["mse"].higher_is_better
    assert {"accuracy", "precision", "recall", "f1", "confusion_matrix", "mse", "mae", "r2"} <= set(METRICS)


def test_docstring_examples_run():
    assert doctest.testmod(metrics, optionflags=doctest.ELLIPSIS).failed == 0


def test_first_non_whole_finds_the_first_value_that_is_no_label():
    from chainrule._core import first_non_whole

    assert first_non_whole(np.array([0.0, 2.0, 0.5, 0.25])) == 2
    assert first_non_whole(np.array([[1.0, np.inf]])) == 1 and first_non_whole(np.array([np.nan])) == 0
    assert first_non_whole(np.array([1.0, -3.0])) is None and first_non_whole(np.arange(3)) is None

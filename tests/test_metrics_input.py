"""Bad input to the metrics: one sentence naming y_true, y_pred or the option, never a made-up score."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics

LABEL_METRICS = ["accuracy", "precision", "recall", "f1", "confusion_matrix"]
VALUE_METRICS = ["mse", "mae", "rmse", "r2"]
SCORES = np.array([[0.9, 0.1], [0.2, 0.8]])


@pytest.mark.parametrize("name", LABEL_METRICS)
@pytest.mark.parametrize("y_true, y_pred, options, kind, message", [
    (["a", "b"], [0, 1], {}, TypeError, r"y_true must be an array of real numbers, got \['a', 'b'\]"),
    ([0, 1], ["0", "1"], {}, TypeError, "y_pred must be an array of real numbers, got"),
    # complex values would be ordered by their real part
    ([0, 1], np.array([0.2 + 1j, 0.9]), {}, TypeError, "y_pred must be an array of real numbers"),
    (None, [0, 1], {}, TypeError, "y_true must be an array of real numbers, got None"),
    ((v for v in [0, 1]), [0, 1], {}, TypeError, "y_true must be an array of real numbers, got <generator"),
    ([[0, 1], [1]], [0, 1], {}, ValueError, r"y_true must be a rectangular array, got \[\[0, 1\], \[1\]\]"),
    ([], [], {}, ValueError, "y_true and y_pred are empty; a metric needs at least one row"),
    ([0, 1], np.zeros((2, 0)), {}, ValueError, r"y_pred must have at least one column, got shape \(2, 0\)"),
    # a nan score would be cut to 0 or picked by arg-max
    ([0, 1, 1], np.array([0.2, np.nan, 0.9]), {}, ValueError, "y_pred holds nan at row 1"),
    ([0, 1], np.array([[0.2, 0.8], [np.nan, 0.1]]), {}, ValueError, "y_pred holds nan at row 1"),
    # soft rows would be scored as their arg-max
    (np.array([[0.3, 0.7], [0.6, 0.4]]), [1, 0], {}, ValueError, r"y_true row 0 is \[0.3, 0.7\], which is not one-hot"),
    (np.eye(3)[[0, 1]], np.eye(4)[[0, 1]], {}, ValueError,
     "y_true has 3 one-hot columns but y_pred has 4 class columns"),
    # float labels 0., 1., 2. as y_pred would be cut at 0.5 into 0, 1, 1
    ([0, 1, 2], np.array([0.0, 1.0, 2.0]), {}, ValueError,
     "y_pred holds one score per row, which gives labels 0 and 1 only, but y_true holds label 2"),
    ([-1, 1, 1], [0, 1, 1], {}, ValueError, r"y_true holds label -1 at row 0; class labels are 0, 1, 2, \.\.\."),
    ([0, 1, 1], [0, -1, 1], {}, ValueError, "y_pred holds label -1 at row 1"),
    ([0, 1], [0.2, 0.8], {"threshold": "0.5"}, TypeError, "threshold must be a finite number, got '0.5'"),
    ([0, 1], [0.2, 0.8], {"threshold": float("nan")}, ValueError, "threshold must be a finite number, got nan"),
    ([0, 1], [0.2, 0.8], {"threshold": None}, TypeError, "threshold must be a finite number, got None"),
])
def test_label_metrics_name_the_bad_input(name, y_true, y_pred, options, kind, message):
    with pytest.raises(kind, match=message):
        getattr(metrics, name)(y_true, y_pred, **options)


@pytest.mark.parametrize("name", ["precision", "recall", "f1", "confusion_matrix"])
@pytest.mark.parametrize("num_classes, kind, message", [
    (2.5, TypeError, "num_classes must be a positive integer, got 2.5"),  # int() would make it 2
    ("3", TypeError, "num_classes must be a positive integer, got '3'"),
    (True, TypeError, "num_classes must be a positive integer, got True"),
    (0, ValueError, "num_classes must be a positive integer, got 0"),
    (2, ValueError, r"y_true holds label 2 at row 2, but num_classes=2 allows labels 0\.\.1"),
])
def test_num_classes_is_checked(name, num_classes, kind, message):
    with pytest.raises(kind, match=message):
        getattr(metrics, name)([0, 1, 2], [0, 1, 1], num_classes=num_classes)


@pytest.mark.parametrize("name", VALUE_METRICS)
@pytest.mark.parametrize("y_true, y_pred, kind, message", [
    (["1.0", "2.0"], [1.0, 2.0], TypeError, "y_true must be an array of real numbers"),  # text compared as text
    ([1.0, 2.0], np.array([1 + 1j, 2]), TypeError, "y_pred must be an array of real numbers"),
    ([[1.0, 2.0], [1.0]], [1.0, 2.0], ValueError, "y_true must be a rectangular array"),
    ([], [], ValueError, "y_true and y_pred are empty"),
    ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], ValueError, "y_true holds nan at row 1; targets must be finite numbers"),
    ([1.0, 2.0, 3.0], [1.0, 2.0], ValueError, "y_true has 3 rows but y_pred has 2"),
    (np.zeros((3, 2)), np.zeros(3), ValueError, r"y_true has shape \(3, 2\) but y_pred has shape \(3,\)"),
])
def test_value_metrics_name_the_bad_input(name, y_true, y_pred, kind, message):
    with pytest.raises(kind, match=message):
        getattr(metrics, name)(y_true, y_pred)


@pytest.mark.parametrize("name", VALUE_METRICS)
@pytest.mark.parametrize("y_true", [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
def test_nan_predictions_score_nan_not_a_number(name, y_true):
    # a constant target used to give r2 = 0 for nan predictions
    assert math.isnan(getattr(metrics, name)(y_true, [1.0, np.nan, 1.0]))


@pytest.mark.parametrize("call, kind, message", [
    (lambda: metrics.to_labels(SCORES[:, :1], threshold=float("nan")), ValueError, "threshold must be a finite number"),
    (lambda: metrics.to_labels(["a"]), TypeError, r"y must be an array of real numbers, got \['a'\]"),
    (lambda: metrics.to_labels(np.array([1j, 0])), TypeError, "y must be an array of real numbers"),
    (lambda: metrics.get_metric(5), TypeError, "a metric is named by a string, got 5"),
    (lambda: metrics.steps_as_rows(["a"], np.zeros((1, 2, 2))), TypeError, "y_true must be an array of real numbers"),
])
def test_helpers_name_the_bad_input(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


def test_good_inputs_still_score():
    assert metrics.accuracy(np.array([True, False]), np.array([True, True])) == 0.5
    assert metrics.accuracy(cr.tensor(np.array([0, 1])), cr.tensor(SCORES)) == 1.0
    assert metrics.accuracy(np.array([0.0, 1.0, 2.0]), np.array([0, 1, 2])) == 1.0
    assert metrics.accuracy([0, 1], np.array([-2.0, 3.0]), threshold=0) == 1.0
    assert metrics.accuracy([0, 1], np.array([-0.2, 1.3])) == 1.0  # an mse-trained output, cut at 0.5
    assert metrics.accuracy([0.0, 1.0], np.array([0.0, 1.0])) == 1.0  # binary float labels cut as they are
    assert metrics.accuracy(np.eye(2, dtype=bool)[[1, 0]], SCORES) == 0.0
    assert metrics.accuracy(np.array([0, 1], dtype=object), [0, 1]) == 1.0
    assert metrics.confusion_matrix([0, 1], [0, 1], num_classes=np.int64(3)).shape == (3, 3)
    assert metrics.mse([1, 2, 3], [1, 2, 4]) == pytest.approx(1 / 3)
    assert metrics.r2(cr.tensor([1.0, 2.0]), cr.tensor([[1.0], [2.0]])) == 1.0
    assert metrics.mse([1.0, 2.0], [1.0, np.inf]) == np.inf


@pytest.mark.parametrize("scores", [np.array([[np.nan], [0.8]]), np.array([[0.2, 0.8], [0.1, np.nan]])],
                         ids=["one score", "class scores"])
def test_to_labels_refuses_nan_scores(scores):
    # a cut labels nan 0 and arg-max picks the nan's column: both made-up classes
    row = int(np.argwhere(np.isnan(scores))[0][0])
    with pytest.raises(ValueError, match=f"y holds nan at row {row}; scores must be numbers"):
        metrics.to_labels(scores)

"""Metrics on sequence outputs (n, time, k): every time step is one sample, checked by hand and with scikit-learn."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics, nn
from chainrule.metrics import METRICS

skm = pytest.importorskip("sklearn.metrics")

N, T, C, D = 6, 4, 3, 2
RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, C, (N, T))
SCORES = RNG.normal(size=(N, T, C))
VALUES, GUESS = RNG.normal(size=(N, T, D)), RNG.normal(size=(N, T, D))


def test_accuracy_on_steps_by_hand():
    y = np.array([[0, 1, 1], [2, 2, 0]])
    scores = np.zeros((2, 3, 3))
    scores[0, :, 1] = 1  # predicts 1, 1, 1: two right
    scores[1, :, 2] = 1  # predicts 2, 2, 2: two right
    assert metrics.accuracy(y, scores) == pytest.approx(4 / 6)
    # Per-row accuracy (a row right only when every step is) would be 0: that is not what is computed.
    onehot = np.eye(3)[y]
    assert metrics.accuracy(onehot, scores) == pytest.approx(4 / 6)


@pytest.mark.parametrize("name, sk", [("precision", "precision_score"), ("recall", "recall_score"), ("f1", "f1_score")])
def test_per_class_metrics_on_steps_match_sklearn_flattened(name, sk):
    flat_true, flat_pred = LABELS.reshape(-1), SCORES.reshape(-1, C).argmax(1)
    expected = getattr(skm, sk)(flat_true, flat_pred, average=None, labels=range(C), zero_division=0)
    np.testing.assert_allclose(getattr(metrics, name)(LABELS, SCORES, num_classes=C), expected)


def test_accuracy_and_confusion_on_steps_match_sklearn_flattened():
    flat_true, flat_pred = LABELS.reshape(-1), SCORES.reshape(-1, C).argmax(1)
    assert metrics.accuracy(LABELS, SCORES) == pytest.approx(skm.accuracy_score(flat_true, flat_pred))
    np.testing.assert_array_equal(metrics.confusion_matrix(LABELS, SCORES, num_classes=C),
                                  skm.confusion_matrix(flat_true, flat_pred, labels=range(C)))


def test_single_score_steps_use_the_threshold():
    y = np.array([[0, 1], [1, 1]])
    logits = np.array([[[-1.0], [2.0]], [[-0.5], [0.3]]])
    assert metrics.accuracy(y, logits, threshold=0.0) == 0.75  # predicts 0 1 / 0 1
    assert metrics.accuracy(y[..., None], logits, threshold=0.0) == 0.75


@pytest.mark.parametrize("name, sk", [("mse", "mean_squared_error"), ("mae", "mean_absolute_error"),
                                      ("r2", "r2_score")])
def test_regression_metrics_on_steps_match_sklearn_flattened(name, sk):
    expected = getattr(skm, sk)(VALUES.reshape(-1, D), GUESS.reshape(-1, D))
    assert METRICS[name].fn(VALUES, GUESS) == pytest.approx(expected)
    assert metrics.rmse(VALUES, GUESS) == pytest.approx(np.sqrt(np.mean((VALUES - GUESS) ** 2)))


@pytest.mark.parametrize("name", list(METRICS))
def test_mismatched_sequence_shapes_are_refused_naming_both(name):
    with pytest.raises(ValueError, match=r"y_true of shape \(6,\) does not fit y_pred of shape \(6, 4, 3\)"):
        METRICS[name].fn(LABELS[:, 0], SCORES)


class Steps(nn.Module):
    """A recurrent layer with a per-step head: outputs (n, time, out)."""

    def __init__(self, out, dtype=np.float64):
        super().__init__()
        self.rnn, self.head = nn.RNN(2, 6, seed=0, dtype=dtype), nn.Linear(6, out, seed=1, dtype=dtype)

    def forward(self, x):
        return self.head(self.rnn(x))


X_SEQ = RNG.normal(size=(24, 5, 2)).astype(np.float64)
Y_STEPS = (X_SEQ[..., 0] > 0).astype(np.int64) + (X_SEQ[..., 1] > 0)  # classes 0..2 per step


def test_fit_and_evaluate_score_sequence_classes_per_step():
    model = Steps(3)
    names = ["accuracy", "precision", "recall", "f1", "confusion_matrix"]
    h = cr.fit(model, "cross_entropy", ("adam", 0.05), (X_SEQ, Y_STEPS), val=(X_SEQ, Y_STEPS), epochs=3,
               batch_size=8, metrics=names, verbose=0, seed=0)
    out = cr.predict(model, X_SEQ)
    flat_true, flat_pred = Y_STEPS.reshape(-1), out.reshape(-1, 3).argmax(1)
    logits = out.reshape(-1, 3)
    by_hand = float(np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(len(logits)), flat_true]))
    scores = cr.evaluate(model, "cross_entropy", (X_SEQ, Y_STEPS), metrics=names)
    assert scores["loss"] == pytest.approx(by_hand, rel=1e-10)
    assert h["val_loss"][-1] == pytest.approx(by_hand, rel=1e-10)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(flat_true, flat_pred))
    assert h["val_accuracy"][-1] == pytest.approx(scores["accuracy"])
    np.testing.assert_array_equal(scores["confusion_matrix"], skm.confusion_matrix(flat_true, flat_pred, labels=range(3)))
    np.testing.assert_allclose(scores["f1"], skm.f1_score(flat_true, flat_pred, average=None, labels=range(3)))


def test_fit_trains_on_every_step():
    model = Steps(3)
    h = cr.fit(model, "cross_entropy", ("adam", 0.05), (X_SEQ, Y_STEPS), epochs=60, batch_size=8,
               metrics=["accuracy"], verbose=0, seed=0)
    assert h["accuracy"][-1] > 0.9 and h["loss"][-1] < 0.5 * h["loss"][0]


def test_binary_steps_get_labels_and_regression_steps_match_sklearn():
    model = Steps(1)
    y01 = (X_SEQ[..., :1] > 0).astype(np.float64)
    scores = cr.evaluate(model, "bce_with_logits", (X_SEQ, y01), metrics=["accuracy"])
    out = cr.predict(model, X_SEQ)
    assert scores["accuracy"] == pytest.approx(np.mean((out > 0) == (y01 > 0.5)))
    target = np.cumsum(X_SEQ, axis=1)
    reg = Steps(2)
    scores = cr.evaluate(reg, "mse", (X_SEQ, target), metrics=["mse", "mae", "r2"])
    guess = cr.predict(reg, X_SEQ)
    assert scores["r2"] == pytest.approx(skm.r2_score(target.reshape(-1, 2), guess.reshape(-1, 2)))
    assert scores["mae"] == pytest.approx(skm.mean_absolute_error(target.reshape(-1, 2), guess.reshape(-1, 2)))
    assert scores["mse"] == pytest.approx(scores["loss"])


def test_out_of_range_step_labels_are_refused():
    bad = Y_STEPS.copy()
    bad[3, 2] = 7
    with pytest.raises(ValueError, match="y holds class label 7, but the model has 3 outputs"):
        cr.fit(Steps(3), "cross_entropy", "adam", (X_SEQ, bad), epochs=1, verbose=0)


def test_compile_refuses_per_step_class_indices_in_one_sentence():
    with pytest.raises(ValueError, match="compile cannot replay a loss over per-step class indices"):
        cr.fit(Steps(3), "cross_entropy", "adam", (X_SEQ, Y_STEPS), epochs=1, verbose=0, compile=True)

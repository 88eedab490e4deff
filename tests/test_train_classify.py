"""Classifiers through the API (text labels, predict_proba, predict_labels) and sequence-to-sequence targets."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import Dataset

X = np.array([[-2.0, 0.0], [-1.5, 0.0], [-1.0, 1.0], [1.0, 0.0], [1.5, 1.0], [2.0, 0.0]])
Y = np.array(["neg", "neg", "neg", "pos", "pos", "pos"])


def _trained(loss="cross_entropy", outputs=2, y=Y, **options):
    model = nn.MLP([2, 8, outputs], seed=0)
    cr.fit(model, loss, ("adam", 0.05), (X, y), epochs=80, verbose=0, seed=0, **options)
    return model


def test_text_labels_are_encoded_and_decoded():
    model = _trained()
    assert model.classes_ == ("neg", "pos")
    assert cr.predict_labels(model, X).tolist() == Y.tolist()
    p = cr.predict_proba(model, X)
    assert p.shape == (6, 2) and np.allclose(p.sum(axis=1), 1)
    assert (p[:3, 0] > 0.5).all() and (p[3:, 1] > 0.5).all()


def test_one_logit_gives_two_column_probabilities_and_labels():
    model = _trained("bce_with_logits", outputs=1, y=(Y == "pos").astype(np.float64))
    p = cr.predict_proba(model, X)
    logits = cr.predict(model, X)[:, 0]
    assert np.allclose(p[:, 1], 1 / (1 + np.exp(-logits))) and np.allclose(p.sum(axis=1), 1)
    assert cr.predict_labels(model, X, classes=["neg", "pos"], loss="bce_with_logits").tolist() == Y.tolist()


def test_a_probability_output_trained_with_bce_is_read_as_a_probability():
    # the model's last layer is a sigmoid: its output is p, which a second sigmoid or a cut at 0 would misread
    model = nn.MLP([2, 8, 1], seed=0, output_activation="sigmoid")
    cr.fit(model, "bce", ("adam", 0.05), (X, (Y == "pos").astype(np.float64)), epochs=80, verbose=0, seed=0)
    assert model.loss_ == "bce"
    out = cr.predict(model, X)[:, 0]
    assert np.allclose(cr.predict_proba(model, X), np.stack([1 - out, out], axis=1))
    assert cr.predict_labels(model, X).tolist() == (out > 0.5).astype(int).tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize("loss, y, words", [
    ("mse", X[:, 0] * 0.3, "loss 'mse', whose outputs are values of a regression"),
    ("hinge", np.where(Y == "pos", 1.0, -1.0), "loss 'hinge', whose outputs are scores, not probabilities"),
])
def test_predict_proba_refuses_outputs_that_are_not_probabilities(loss, y, words):
    model = nn.MLP([2, 4, 1], seed=0)
    cr.fit(model, loss, "sgd", (X, y), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=f"predict_proba: the model was trained with {words}; use predict"):
        cr.predict_proba(model, X)


def test_classification_metrics_refuse_continuous_targets():
    y = X[:, 0] * 0.3  # values, not classes: accuracy against a 0.5 cut would be a made-up number
    with pytest.raises(ValueError, match="metric 'accuracy' needs class labels, but the targets are continuous"):
        cr.fit(nn.MLP([2, 4, 1], seed=0), "mse", "sgd", (X, y), epochs=1, metrics=["accuracy"], verbose=0)
    h = cr.fit(nn.MLP([2, 4, 1], seed=0), "mse", "sgd", (X, (Y == "pos") * 1.0), epochs=1, metrics=["accuracy"],
               verbose=0)  # 0/1 targets with mse, as in the slides: classes
    assert 0 <= h["accuracy"][0] <= 1


def test_validation_labels_use_the_training_classes_and_datasets_name_them():
    model = _trained(val=(X[:2], Y[:2]))
    assert model.classes_ == ("neg", "pos")
    with pytest.raises(ValueError, match="holds 'maybe' on row 0, which is not one of the classes neg, pos"):
        _trained(val=(X[:1], np.array(["maybe"])))
    ds = Dataset(X, (Y == "pos").astype(np.int64), "classification", class_names=("no", "yes"))
    model = nn.MLP([2, 4, 2], seed=0)
    cr.fit(model, "cross_entropy", ("adam", 0.05), ds, epochs=60, verbose=0, seed=0)
    assert model.classes_ == ("no", "yes") and set(cr.predict_labels(model, X).tolist()) <= {"no", "yes"}


def test_softmax_probabilities_match_torch_style_formula():
    model = nn.Linear(2, 3, seed=4)
    out = cr.predict(model, X).astype(np.float64)
    expected = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
    assert np.allclose(cr.predict_proba(model, X), expected)
    assert cr.predict_labels(model, X).tolist() == np.argmax(out, axis=1).tolist()
    third = nn.Linear(2, 3, init="zeros")
    third.bias.data[...] = [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="the model predicts class 2, but only 2 class labels are given"):
        cr.predict_labels(third, X, classes=["a", "b"])


def test_fit_takes_sequence_targets_for_sequence_to_sequence():
    rng = np.random.default_rng(0)
    X_seq = rng.normal(size=(64, 6, 1)).astype(np.float32)
    Y_seq = np.cumsum(X_seq, axis=1)  # the running sum: one output per time step

    class RunningSum(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.RNN(1, 16, seed=0), nn.Linear(16, 1, seed=1)

        def forward(self, x):
            return self.head(self.rnn(x))

    model = RunningSum()
    h = cr.fit(model, "mse", ("adam", 0.02), (X_seq, Y_seq), epochs=40, batch_size=16, verbose=0, seed=0)
    assert cr.predict(model, X_seq).shape == (64, 6, 1)
    assert h["loss"][-1] < 0.1 * h["loss"][0]


def test_text_targets_for_a_regression_loss_are_still_refused():
    with pytest.raises(TypeError, match="y must hold numbers"):
        cr.fit(nn.Linear(2, 1), "mse", "sgd", (X, Y), epochs=1, verbose=0)


def test_text_labels_are_encoded_for_every_classification_loss():
    # which losses take classes is a fact of each loss's entry (nll was missing from a list of names)
    model = nn.Sequential(nn.Linear(2, 2, seed=0), nn.LogSoftmax())
    cr.fit(model, "nll", ("adam", 0.05), (X, Y), epochs=80, verbose=0, seed=0)
    assert model.classes_ == ("neg", "pos") and cr.predict_labels(model, X).tolist() == Y.tolist()
    with pytest.raises(TypeError, match="y must hold numbers"):  # a regression loss takes no text
        cr.fit(nn.MLP([2, 1], seed=0), "mse", "sgd", (X, Y), epochs=1, verbose=0)


def test_as_probabilities_reads_outputs_as_the_named_activation():
    import doctest

    from chainrule.train import classify

    out = np.array([[0.0, np.log(3.0)], [1.0, 1.0]])
    assert np.allclose(classify.as_probabilities(out, "softmax"), [[0.25, 0.75], [0.5, 0.5]])
    assert np.allclose(classify.as_probabilities(np.array([0.2, 0.9]), "identity"), [[0.8, 0.2], [0.1, 0.9]])
    assert doctest.testmod(classify, optionflags=doctest.ELLIPSIS).failed == 0

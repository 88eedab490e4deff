"""Loss facts live on the nn.LOSSES entries: a new loss is one register_loss call, read by fit, the CLI and the estimators."""

import csv

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli.run import TrainSettings, train_run
from chainrule.cli.trained import TrainedModel, check_loss, trainable_losses
from chainrule.nn.losses import REDUCTIONS, UNREGISTERED, LossSpec, default_loss, loss_spec, register_loss
from chainrule.train.setup import output_threshold

NAME = "coded_squares"


def coded_squares(logits, target, reduction="mean"):
    """Squared distance of a logit from the code 2t - 1 of a {0, 1} target: classes split at 0."""
    return REDUCTIONS[reduction]((logits - (2 * np.asarray(target) - 1)) ** 2)


@pytest.fixture
def new_loss():
    """``coded_squares`` registered for the duration of one test only."""
    spec = LossSpec(("binary",), task="classification", outputs="binary", activation="sigmoid", threshold=0.0,
                    metrics=("accuracy", "f1"), trainable=True)
    register_loss(NAME, spec)(coded_squares)
    yield spec
    del nn.LOSSES[NAME]


def _blobs(n=60):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return X, y


def test_every_registered_loss_carries_its_facts():
    for name, fn in nn.LOSSES.items():
        spec = fn.spec
        assert isinstance(spec, LossSpec)
        assert spec.threshold == (0.0 if spec.takes("signs") or spec.activation == "sigmoid" else 0.5), name
        assert (spec.task == "classification") == ("accuracy" in spec.metrics), name
    assert loss_spec("cross_entropy").takes("indices") and loss_spec("cross_entropy").takes("one_hot")
    assert loss_spec(nn.CrossEntropyLoss()) is loss_spec("cross_entropy")
    assert loss_spec(lambda o, t: o) is UNREGISTERED
    assert (default_loss("classification"), default_loss("regression")) == ("cross_entropy", "mse")


def test_a_new_entry_is_used_by_fit_evaluate_and_thresholds(new_loss):
    X, y = _blobs()
    assert output_threshold(NAME) == 0.0
    model = nn.Linear(2, 1, seed=0)
    history = cr.fit(model, NAME, ("sgd", 0.05), (X, y), epochs=20, metrics=["accuracy"], seed=0, verbose=0)
    assert history["accuracy"][-1] == 1.0  # labels come from the sign of the logit, per the spec's threshold
    scores = cr.evaluate(model, NAME, (X, y), metrics=list(new_loss.metrics))
    assert set(scores) == {"loss", "accuracy", "f1"} and scores["accuracy"] == 1.0


def test_a_new_entry_is_offered_to_command_line_training(new_loss, tmp_path):
    assert NAME in trainable_losses() and check_loss(NAME) is new_loss
    X, y = _blobs()
    path = tmp_path / "blobs.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([["a", "b", "kind"], *([a, b, ("no", "yes")[k]] for (a, b), k in zip(X, y))])
    settings = TrainSettings(loss=NAME, hidden=(), lr=0.05, epochs=15, optimizer="sgd", validation=0.0, test=0.0,
                             out=str(tmp_path / "run"), plots=False, checkpoint=False, verbose=0)
    result = train_run(path, settings)
    assert result.model.output.out_features == 1  # a "binary" output layout: one logit
    assert set(result.scores["train"]) == {"loss", "accuracy", "f1"}
    trained = TrainedModel.load(result.files["model"])
    header, rows = trained.predict_table(X[:4])
    assert header == ["prediction", "probability_no", "probability_yes"]
    assert [r[0] for r in rows] == [("no", "yes")[k] for k in y[:4]]


def test_untrainable_and_unknown_losses_are_refused_in_one_sentence():
    with pytest.raises(ValueError, match="unknown loss for command-line training 'hinge'"):
        check_loss("hinge")
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        check_loss("nope")
    with pytest.raises(ValueError, match="targets must be one of"):
        LossSpec(("labels",))
    with pytest.raises(TypeError, match="spec must be a LossSpec"):
        register_loss("x", {"task": "regression"})

"""`chainrule explain MODEL` traces a trained model with its own loss, scaler, classes and target scaling."""

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule import io, nn
from chainrule.cli import cli, main
from chainrule.cli.trained import TrainedModel
from chainrule.nn import LOSSES
from chainrule.train.loop import predict

RNG = np.random.default_rng(3)
CLASSES = ["setosa", "versicolor", "virginica"]


def fail(argv):
    """The exit code of the CLI on ``argv`` (``main`` ends in sys.exit)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    return exit_info.value.code


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def train(tmp_path, name, rows, *options):
    data = tmp_path / f"{name}.csv"
    with open(data, "w", newline="") as f:
        csv.writer(f).writerows([["a", "b", "y"], *rows])
    out = tmp_path / name
    run("train", data, "--hidden", "3", "--epochs", "3", "--val", "0", "--test", "0", "--no-plots",
        "--no-checkpoint", "-q", "-o", out, *options)
    return TrainedModel.load(out / "model.safetensors")


def traced_error(text):
    """The E printed by the trace (the last number of its error line)."""
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("E = "))
    return float(line.rsplit("=", 1)[1])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    root = tmp_path_factory.mktemp("explain_model")
    # b is 10x the scale of a, so the standard scaler visibly changes the inputs
    X = np.concatenate([np.column_stack([RNG.normal(c, 0.3, 10), RNG.normal(c, 0.3, 10) * 10]) for c in range(3)])
    labels = np.repeat(CLASSES, 10)
    three = train(root, "flowers", [[f"{a:.3f}", f"{b:.3f}", k] for (a, b), k in zip(X, labels)])
    two = train(root, "pair", [[f"{a:.3f}", f"{b:.3f}", k] for (a, b), k in zip(X[:20], labels[:20])],
                "--loss", "bce_with_logits")
    reg = train(root, "sizes", [[f"{a:.3f}", f"{b:.3f}", f"{100 + 5 * a:.3f}"] for a, b in X])
    hinge = train(root, "margins", [[f"{a:.3f}", f"{b:.3f}", k] for (a, b), k in zip(X, labels)],
                  "--loss", "multiclass_hinge")
    return {"cross_entropy": three, "bce_with_logits": two, "mse": reg, "multiclass_hinge": hinge}


def library_loss(tm, x, target):
    """The model's training loss on one raw row, through the library: scaler, network, LOSSES entry."""
    return float(LOSSES[tm.info.loss](predict(tm.model, tm.info.scaler.transform(np.array([x]))), target).item())


@pytest.mark.parametrize("loss, target, encoded", [
    ("cross_entropy", "virginica", np.array([2])),
    ("multiclass_hinge", "setosa", np.array([0])),
    ("bce_with_logits", "versicolor", np.array([[1.0]])),
])
def test_a_class_name_target_is_traced_with_the_models_own_loss(models, loss, target, encoded):
    tm, x = models[loss], [1.0, 10.0]
    assert tm.info.loss == loss
    text = run("explain", tm.path, "--x", "1,10", "--target", target)
    assert f"loss: {loss} (the model's training loss)" in text
    assert f"target: class {target!r}" in text and "scaled as at training (StandardScaler)" in text
    assert "1/2 (target" not in text  # not the squared error the default trace uses
    assert traced_error(text) == pytest.approx(library_loss(tm, x, encoded), rel=1e-5)
    # and it agrees with `chainrule evaluate`'s loss on the same labelled row
    label = CLASSES.index(target)
    assert traced_error(text) == pytest.approx(tm.evaluate(np.array([x]), np.array([label]))["loss"], rel=1e-5)


def test_the_input_is_scaled_as_at_training(models):
    tm = models["cross_entropy"]
    text = run("explain", tm.path, "--x", "1,10", "--target", "setosa")
    scaled = tm.info.scaler.transform(np.array([[1.0, 10.0]]))[0]
    first = next(ln for ln in text.splitlines() if ln.strip().startswith("net_h1"))
    # the forward pass multiplies the weights by the scaled inputs, not the raw 1 and 10
    inputs = [float(term.split("*")[1]) for term in first.split(" = ")[2].split(" + ")[:2]]
    assert inputs == pytest.approx(scaled, rel=1e-6) and abs(inputs[1]) < 1


def test_a_regression_target_is_standardised_as_at_training(models):
    tm = models["mse"]
    text = run("explain", tm.path, "--x", "1,10", "--target", "105")
    scaled_target = tm.info.target_scaler.transform(np.array([[105.0]])).reshape(1, 1)
    assert "standardised as at training" in text
    assert traced_error(text) == pytest.approx(library_loss(tm, [1.0, 10.0], scaled_target), rel=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--target", "rose"], "error: --target must be one of the model's classes (setosa, versicolor, virginica), "
                           "got 'rose'"),
    (["--target", "0"], "error: --target must be one of the model's classes"),
])
def test_a_bad_class_name_is_one_error_line(models, capsys, args, message):
    code = fail(["explain", models["cross_entropy"].path, "--x", "1,10", *args])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.strip().splitlines() == [captured.err.strip()] and captured.err.startswith(message)


def test_the_wrong_number_of_features_names_them(models, capsys):
    assert fail(["explain", models["cross_entropy"].path, "--x", "1", "--target", "setosa"]) == 2
    assert "--x has 1 values; the model takes 2 features: a, b" in capsys.readouterr().err


def test_a_loss_explain_cannot_use_is_refused_by_name(tmp_path, capsys):
    pytest.importorskip("safetensors", reason="model files need the io extra")
    path = tmp_path / "odd.safetensors"
    io.save(nn.MLP([2, 2], seed=0), path, metadata={"loss": "quartic"})
    assert fail(["explain", path, "--x", "1,2", "--target", "1,0"]) == 2
    err = capsys.readouterr().err
    assert "the model was trained with the loss 'quartic', which is not in nn.LOSSES" in err and len(err.splitlines()) == 1

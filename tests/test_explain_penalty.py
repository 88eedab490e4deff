"""explain shows the weight penalty a model is trained with: E, P and E + P as fit's history reports them."""

import csv
import re

import numpy as np
import pytest
from click.testing import CliRunner

import chainrule as cr
from chainrule import io, nn
from chainrule.cli import cli
from chainrule.cli.trained import TrainedModel
from chainrule.explain import explain, mazur_network
from chainrule.nn import LOSSES

X_ROW, T_ROW = [0.05, 0.10], [0.01, 0.99]


def one_step_of_fit(net, x, target, loss, regularization, lr=0.5):
    """fit's history and the weights after one SGD step on one row."""
    h = cr.fit(net, loss, ("sgd", lr), (np.array([x]), target), epochs=1, batch_size=1, shuffle=False,
               regularization=regularization, verbose=0, seed=0)
    return h, {name: p.data.copy() for name, p in net.named_parameters()}


def test_the_penalty_matches_fits_history_and_its_update():
    reg = {"l2": 0.01}
    r = explain(mazur_network(), X_ROW, T_ROW, loss=LOSSES["mse"], lr=0.5, regularization=reg)
    h, after = one_step_of_fit(mazur_network(), X_ROW, np.array([T_ROW]), "mse", reg)
    assert r.error == pytest.approx(h["loss"][0], rel=1e-12)
    assert r.penalty == pytest.approx(h["reg_loss"][0], rel=1e-12)
    assert r.penalty == pytest.approx(0.01 * 1.13, rel=1e-12)  # 0.15^2 + 0.2^2 + ... + 0.55^2 = 1.13
    assert r.total == pytest.approx(h["loss"][0] + h["reg_loss"][0], rel=1e-12)
    # the update shown is fit's step: w - lr (dE/dw + 2 lambda w); biases are not penalised
    assert r.updated["w5"] == pytest.approx(after["output.weight"][0, 0], rel=1e-12)
    assert r.updated["w1"] == pytest.approx(after["hidden.0.weight"][0, 0], rel=1e-12)
    assert r.updated["b3"] == pytest.approx(after["output.bias"][0], rel=1e-12)
    assert r.penalty_grads["w5"] == pytest.approx(2 * 0.01 * 0.40) and "b1" not in r.penalty_grads
    text = r.text
    assert "P_l2 = 0.01 * l2(weights) = 0.01 * 1.13 = 0.0113" in text
    assert f"E + P = {r.error:.9g} + 0.0113 = {r.total:.9g}" in text
    assert "d(E+P)/dw5 = dE/dw5 + dP/dw5" in text and "w <- w - 0.5 * d(E+P)/dw" in text


def test_without_a_penalty_the_trace_is_unchanged():
    plain = explain(mazur_network(), X_ROW, T_ROW)
    assert plain.penalty == 0.0 and plain.total == plain.error and "Weight penalty" not in plain.text
    assert "w <- w - 0.5 * dE/dw" in plain.text


def test_l1_and_a_callable_penalty_are_labelled():
    r = explain(mazur_network(), X_ROW, T_ROW, regularization={"l1": 0.1, "l2": 0.01})
    assert r.penalty == pytest.approx(0.1 * 2.8 + 0.01 * 1.13)  # sum |w| = 2.8
    assert "P_l1 = 0.1 * l1(weights) = 0.1 * 2.8 = 0.28" in r.text and "P_l2 = " in r.text

    def decay(model):
        return nn.REGULARIZERS["l2"](model, 0.5)

    r = explain(mazur_network(), X_ROW, T_ROW, regularization=decay)
    assert "P_decay = decay(model) = 0.565" in r.text and r.penalty == pytest.approx(0.565)


def numbers(text, label):
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(label))
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", line.split("=", 1)[1])]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    root = tmp_path_factory.mktemp("explain_penalty")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2))
    with open(root / "d.csv", "w", newline="") as f:
        csv.writer(f).writerows([["a", "b", "y"], *[[f"{a:.3f}", f"{b:.3f}", "yes" if a + b > 0 else "no"]
                                                     for a, b in X]])
    return root


def train(root, name, *options):
    out = root / name
    result = CliRunner().invoke(cli, ["train", str(root / "d.csv"), "--hidden", "3", "--epochs", "5", "--val", "0",
                                      "--test", "0", "--no-plots", "--no-checkpoint", "-q", "-o", str(out), *options])
    assert result.exit_code == 0, result.output
    return out / "model.safetensors"


def explain_cli(path):
    result = CliRunner().invoke(cli, ["explain", str(path), "--x", "0.5,-0.2", "--target", "yes"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.mark.parametrize("options, strength", [(["--reg", "l2=0.05"], 0.05), ([], 2 / 40)])
def test_explain_model_reports_the_penalty_fit_reported(table, options, strength):
    path = train(table, f"reg{len(options)}", *options)
    tm = TrainedModel.load(path)
    assert tm.info.penalty == {"l2": pytest.approx(strength)}
    text = explain_cli(path)
    assert f"penalty: l2={strength:g} (the model's training penalty" in text
    e, p = numbers(text, "E = ")[-1], numbers(text, "P = ")[-1]
    total = numbers(text, "E + P = ")
    # fit on the same weights and the same (scaled) row: its history's loss and reg_loss
    x = tm.info.scaler.transform(np.array([[0.5, -0.2]]))
    h = cr.fit(tm.model, "cross_entropy", ("sgd", 0.1), (x, np.array([1])), epochs=1, batch_size=1,
               regularization=tm.info.penalty, verbose=0, seed=0)
    assert e == pytest.approx(h["loss"][0], rel=1e-6)
    assert p == pytest.approx(h["reg_loss"][0], rel=1e-6)
    assert total[:2] == pytest.approx([e, p]) and total[2] == pytest.approx(e + p, rel=1e-6)


def test_a_model_trained_without_a_penalty_shows_none(table):
    text = explain_cli(train(table, "none", "--reg", "l2=0"))
    assert "penalty" not in text.lower() and "d(E+P)" not in text


def test_an_older_file_without_the_saved_penalty_says_so(table, tmp_path):
    tm = TrainedModel.load(train(table, "old"))
    meta = dict(tm.info.metadata)
    meta["training"] = {k: v for k, v in meta["training"].items() if k != "penalty"}  # as files before it was saved
    old = tmp_path / "old.safetensors"
    io.save(tm.model, old, metadata=meta)
    text = explain_cli(old)
    assert "penalty: not recorded in this model file" in text and "Weight penalty" not in text

"""The CLI commands end to end on tiny data: train, evaluate, predict, info, export, datasets, explain."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule import io, nn
from chainrule.cli import cli, main

RNG = np.random.default_rng(0)


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def write_table(path, header, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def read_table(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """A separable 3-class CSV with text labels and a model trained on it."""
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    root = tmp_path_factory.mktemp("flowers")
    X = np.concatenate([RNG.normal(c, 0.3, size=(30, 2)) for c in (0.0, 2.0, 4.0)])
    X = np.column_stack([X, RNG.normal(size=90) * 100])  # a third, badly scaled, useless column
    kinds = np.repeat(["rose", "tulip", "daisy"], 30)
    rows = [[f"{a:.4f}", f"{b:.4f}", f"{c:.4f}", k] for (a, b, c), k in zip(X, kinds)]
    data = write_table(root / "flowers.csv", ["petal", "stem", "noise", "kind"], rows)
    out = root / "run"
    result = run("train", data, "--hidden", "16", "--lr", "0.05", "--epochs", "60", "--batch-size", "16",
                 "--test", "0.2", "-o", out, "-q")
    return root, data, out, result, X, kinds


def test_train_writes_the_run_folder_and_reports(flowers):
    root, data, out, result, _, _ = flowers
    for name in ("model.safetensors", "history.csv", "history.json", "report.json", "learning_curves.png"):
        assert (out / name).is_file(), name
    assert (out / "checkpoint").is_dir()
    assert "trained " in result.output and "test " in result.output and "accuracy" in result.output
    history = read_table(out / "history.csv")
    # the default L2 penalty (2 / training rows) is logged on its own
    assert history[0][:4] == ["epoch", "loss", "reg_loss", "accuracy"] and len(history) > 2
    report = json.loads((out / "report.json").read_text())
    assert report["scores"]["test"]["accuracy"] > 0.9
    assert report["training"]["hidden"] == [16] and report["training"]["optimizer"] == "sgd"  # the default
    meta = io.read_metadata(out / "model.safetensors")
    assert meta["feature_names"] == ["petal", "stem", "noise"] and meta["target"] == "kind"
    assert meta["class_names"] == ["daisy", "rose", "tulip"] and meta["scaler"]["type"] == "StandardScaler"


def test_info_shows_architecture_parameters_and_training(flowers):
    out = flowers[2]
    text = " ".join(run("info", out / "model.safetensors").output.split())
    assert "architecture 3-16-3, MLP, relu hidden units" in text
    assert "parameters 115" in text and "classes 3: daisy, rose, tulip" in text
    assert "training.lr 0.05" in text and "scores.test.accuracy 1" in text


def test_evaluate_and_predict_apply_the_saved_preprocessing(flowers):
    root, data, out, _, X, kinds = flowers
    model = out / "model.safetensors"
    assert "90 rows; loss " in run("evaluate", model, data).output
    printed = run("predict", model, data).output.splitlines()
    assert printed[0] == "prediction,probability_daisy,probability_rose,probability_tulip"
    target = root / "pred.csv"
    run("predict", model, data, "-o", target)
    table = read_table(target)
    assert table[0] == printed[0].split(",") and len(table) == 91
    labels = [row[0] for row in table[1:]]
    assert np.mean(np.array(labels) == kinds) > 0.9
    np.testing.assert_allclose([sum(map(float, row[1:])) for row in table[1:]], 1.0, atol=1e-6)
    # Columns in another order and no target column: matched by name.
    shuffled = write_table(root / "new.csv", ["noise", "petal", "stem"],
                           [[f"{c}", f"{a}", f"{b}"] for a, b, c in X])
    run("predict", model, shuffled, "-o", root / "pred2.csv")
    assert [r[0] for r in read_table(root / "pred2.csv")[1:]] == labels
    run("predict", model, data, "-o", target, "--overwrite")


def test_export_onnx_matches_predict(flowers):
    pytest.importorskip("onnxruntime")
    from chainrule.io.onnx import run_onnx

    root, data, out, _, X, _ = flowers
    target = root / "flowers.onnx"
    text = run("export", out / "model.safetensors", "--onnx", target).output
    assert "input 'input' (3 raw features), output 'output' (class probabilities)" in text
    run("predict", out / "model.safetensors", data, "-o", root / "pred-for-onnx.csv")  # this test's own
    probs = np.array([[float(v) for v in row[1:]] for row in read_table(root / "pred-for-onnx.csv")[1:]])
    features = np.array([[float(v) for v in row[:3]] for row in read_table(data)[1:]])  # as the CSV rounds them
    np.testing.assert_allclose(run_onnx(target, features), probs, atol=1e-5)
    run("export", out / "model.safetensors", "--onnx", root / "bare.onnx", "--raw")


def test_regression_and_npz(tmp_path):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    X = RNG.uniform(-1, 1, size=(120, 2))
    y = 3 * X[:, 0] - X[:, 1] + 10
    np.savez(tmp_path / "line.npz", X=X, y=y)
    run("train", tmp_path / "line.npz", "--hidden", "none", "--lr", "0.1", "--epochs", "80", "--val", "0",
        "--test", "0", "-o", tmp_path / "run", "-q", "--no-plots")
    meta = io.read_metadata(tmp_path / "run" / "model.safetensors")
    assert meta["task"] == "regression" and meta["loss"] == "mse" and meta["target"] == "y"
    text = run("evaluate", tmp_path / "run" / "model.safetensors", tmp_path / "line.npz").output
    assert float(text.split("r2 ")[1]) > 0.99
    lines = run("predict", tmp_path / "run" / "model.safetensors", tmp_path / "line.npz").output.splitlines()
    assert lines[0] == "prediction"
    np.testing.assert_allclose([float(v) for v in lines[1:]], y, atol=0.1)


def test_binary_logit_loss_gives_two_probabilities(tmp_path):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    X = RNG.normal(size=(60, 2))
    data = write_table(tmp_path / "two.csv", ["u", "v", "side"],
                       [[a, b, "left" if a < 0 else "right"] for a, b in X])
    run("train", data, "--loss", "bce_with_logits", "--lr", "0.05", "--epochs", "30", "--test", "0",
        "-o", tmp_path / "run", "-q", "--no-plots")
    lines = run("predict", tmp_path / "run" / "model.safetensors", data).output.splitlines()
    assert lines[0] == "prediction,probability_left,probability_right"
    assert np.mean([ln.split(",")[0] == ("left" if a < 0 else "right") for ln, a in zip(lines[1:], X[:, 0])]) > 0.9


def test_resume_continues_and_overwrite_keeps_other_files(tmp_path):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    data = write_table(tmp_path / "xor.csv", ["p", "q", "r"], [[a, b, a ^ b] for a in (0, 1) for b in (0, 1)] * 5)
    common = ["--val", "0", "--test", "0", "--batch-size", "4", "-o", tmp_path / "run", "-q", "--no-plots"]
    run("train", data, "--epochs", "3", *common)
    first = read_table(tmp_path / "run" / "history.csv")
    run("train", data, "--epochs", "6", "--resume", *common)
    resumed = read_table(tmp_path / "run" / "history.csv")
    assert len(resumed) == 7 and resumed[:4] == first
    (tmp_path / "run" / "notes.txt").write_text("mine")
    run("train", data, "--epochs", "2", "--overwrite", *common)
    assert len(read_table(tmp_path / "run" / "history.csv")) == 3
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_model_saved_without_metadata_predicts_raw_outputs(tmp_path):
    io.save(nn.MLP([2, 3, 2], seed=0), tmp_path / "plain.safetensors")
    np.savez(tmp_path / "x.npz", X=np.ones((3, 2)), y=np.zeros(3))
    lines = run("predict", tmp_path / "plain.safetensors", tmp_path / "x.npz").output.splitlines()
    assert lines[0] == "prediction_0,prediction_1" and len(lines) == 4
    assert "unknown (no training metadata)" in run("info", tmp_path / "plain.safetensors").output


def test_datasets_lists_the_registry():
    lines = run("datasets").output.splitlines()
    names = [ln.split()[0] for ln in lines]
    assert names == sorted(names) and {"digits", "xor", "spiral", "parabola"} <= set(names)
    assert any(ln.startswith("digits") and "classification" in ln for ln in lines)


def test_explain_mazur_by_default_and_a_saved_model(flowers, tmp_path):
    text = run("explain", "--fixed-biases").output
    assert "0.298371109" in text and "0.35891648" in text
    io.save(nn.MLP([2, 2, 1], activation="sigmoid", seed=0), tmp_path / "tiny.safetensors")
    text = run("explain", tmp_path / "tiny.safetensors", "--x", "1,0", "--target", "1").output
    assert "o1" in text and "h2" in text


def test_train_digits_is_the_general_program_with_the_digits_recipe(tmp_path, monkeypatch):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    pytest.importorskip("matplotlib", reason="the run draws its curves: needs the plot extra")
    monkeypatch.chdir(tmp_path)
    result = run("train", "digits")
    test_accuracy = float(result.output.split("test ")[1].split("accuracy ")[1].split()[0])
    assert test_accuracy >= 0.97
    folder = tmp_path / "runs" / "digits"
    model = folder / "model.safetensors"
    for name in ("model.safetensors", "history.csv", "history.json", "report.json", "learning_curves.png"):
        assert (folder / name).is_file(), name  # the run folder docs/cli.md describes
    report = json.loads((folder / "report.json").read_text())
    assert report["training"]["hidden"] == [128, 64]  # the digits recipe
    assert "loss 0." in run("evaluate", model, "digits").output
    header = run("predict", model, "digits").output.splitlines()[0]
    assert header == "prediction," + ",".join(f"probability_{d}" for d in range(10))
    again = CliRunner().invoke(cli, ["train", "digits"])
    assert again.exit_code != 0 and "already exists" in str(again.exception)
    refined = run("train", "digits", "--epochs", "2", "--no-plots", "-q", "-o", "short")
    assert "trained 2 epochs" in refined.output
    short = json.loads((tmp_path / "short" / "report.json").read_text())["training"]
    assert short["hidden"] == [128, 64] and short["epochs"] == 2  # an option refines the recipe, not replaces it


def test_real_process_exit_codes_and_no_traceback(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "chainrule", "train", "nope.csv"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "error: CSV file not found: nope.csv\n"
    ok = subprocess.run([sys.executable, "-m", "chainrule", "datasets"], capture_output=True, text=True)
    assert ok.returncode == 0 and "digits" in ok.stdout and ok.stderr == ""


@pytest.mark.parametrize("name", ["engine", "outputs", "sources", "trained", "run", "training"])
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    if name in ("trained", "run"):
        pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"chainrule.cli.{name}")
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_ctrl_c_loses_nothing_and_resume_finishes_the_run(tmp_path):
    pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")
    import os
    import signal
    import time

    argv = [sys.executable, "-m", "chainrule", "train", "digits", "--epochs", "100", "--patience", "0", "-q",
            "--no-plots"]
    # A shell starts background jobs with SIGINT ignored, and the child would inherit that: restore the default,
    # as an interactive terminal gives it, so the signal reaches the run however the tests were launched.
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # A run trains in the hidden sibling .digits.partial and is swapped in only when complete.
    checkpoint = tmp_path / "runs" / ".digits.partial" / "checkpoint" / "checkpoint.safetensors"
    deadline = time.monotonic() + 60  # (monotonic: a wall-clock jump must not end the wait early)
    while not checkpoint.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before it could be interrupted"
    assert checkpoint.exists(), "no checkpoint appeared within 60 s"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted; run the same command with --resume to continue from the last " \
        "finished epoch"
    assert not os.path.exists(tmp_path / "runs" / "digits")  # no half run where a complete one is expected
    done = subprocess.run(argv + ["--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    epochs = [int(row[0]) for row in read_table(tmp_path / "runs" / "digits" / "history.csv")[1:]]
    assert epochs == list(range(1, 101))


@pytest.mark.parametrize("kind", ["conv", "lstm"])
def test_models_that_take_images_or_sequences_export_and_describe_but_refuse_rows(tmp_path, capsys, kind):
    pytest.importorskip("safetensors", reason="model files need the io extra")
    pytest.importorskip("onnxruntime", reason="checking the exported graph needs the onnx extra")
    from chainrule.io.onnx import run_onnx

    if kind == "conv":  # no Linear at all: a global average pool gives the outputs
        model = nn.Sequential(nn.Conv2d(1, 3, 3, seed=0), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        x, first = RNG.normal(size=(2, 1, 6, 6)).astype(np.float32), "Conv2d"
    else:
        model = nn.Sequential(nn.LSTM(3, 4, seed=0, return_sequences=False), nn.Linear(4, 2, seed=1))
        x, first = RNG.normal(size=(2, 5, 3)).astype(np.float32), "LSTM"
    io.save(model, tmp_path / "m.safetensors")
    text = run("export", tmp_path / "m.safetensors", "--onnx", tmp_path / "m.onnx").output
    assert "output 'output' (raw outputs)" in text
    with nn.evaluating(model):
        np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", x), model(x).data, atol=1e-5)
    info = run("info", tmp_path / "m.safetensors").output
    assert f"none (the first layer, a {first}, takes no feature rows)" in info
    write_table(tmp_path / "rows.csv", ["a", "b", "c"], [[1, 2, 3]])
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "rows.csv")])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1, err
    assert f"this Sequential starts with a {first}, so it does not take rows of features" in err

"""A model trained by `chainrule train` on a CSV file exports with its table pipeline: the ONNX file takes the raw
columns (NaN for a missing number, text for a categorical column) and gives what `chainrule predict` gives."""

import csv
import io

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX export needs the onnx extra")
pytest.importorskip("onnxruntime", reason="running exported graphs needs onnxruntime")
pytest.importorskip("safetensors", reason="chainrule train writes model files: needs the io extra")

import onnx  # noqa: E402
import onnxruntime  # noqa: E402

from chainrule import nn  # noqa: E402
from chainrule.cli import main  # noqa: E402
from chainrule.cli.trained import TrainedModel  # noqa: E402
from chainrule.data.table import TablePipeline  # noqa: E402
from chainrule.io.onnx import run_onnx, to_onnx  # noqa: E402
from chainrule.io.onnx_table import table_feed  # noqa: E402
from test_cli_tables import ROUND_TRIPS  # noqa: E402  (the CSV variants of the train -> predict tests)

FAST = ["--hidden", "6", "--epochs", "40", "--lr", "0.05", "--batch-size", "8", "--val", "0", "--test", "0",
        "--no-plots", "--no-checkpoint", "-q"]
XS = [-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]


def cli(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    return out


def training_csv(path, task="classification", colour=True):
    """x (two cells missing), an optional colour column (one cell missing), z, and the target."""
    lines = ["id,x" + (",colour" if colour else "") + ",z,label"]
    for i, x in enumerate(XS):
        cell = "" if i in (2, 9) else f"{x}"
        target = ("pos" if x > 0 else "neg") if task == "classification" else f"{200 * x + 1000 + 30 * (i % 3)}"
        shade = "" if i == 4 else ("NA" if i == 7 else ("red" if x > 0 else "blue"))
        lines.append(f"{i},{cell}" + (f",{shade}" if colour else "") + f",{(i % 3) / 3},{target}")
    path.write_text("\n".join(lines) + "\n")
    return path


def predicted(out, skip):
    rows = list(csv.reader(io.StringIO(out)))
    return rows[0], [[float(v) if v else np.nan for v in row[skip:]] for row in rows[1:]]


def numeric_input(rows, columns):
    return np.array([[float(r[c]) if r[c] else np.nan for c in columns] for r in rows], dtype=np.float32)


def export(capsys, tmp_path, *options):
    target = tmp_path / "m.onnx"
    text = cli(capsys, "export", tmp_path / "run" / "model.safetensors", "--onnx", target, *options)
    return target, text


NEW_ROWS = "id,x,colour,z\n50,-2,blue,0\n51,,red,0.5\n52,2.5,,0\n53,1,n/a,1\n54,-1,None,0.3\n"


def test_classifier_with_imputation_and_categories_matches_predict(tmp_path, capsys):
    data = training_csv(tmp_path / "t.csv")
    cli(capsys, "train", data, "-o", tmp_path / "run", "--id", "id", "--impute", "median", *FAST)
    (tmp_path / "p.csv").write_text(NEW_ROWS)
    header, want = predicted(cli(capsys, "predict", tmp_path / "run" / "model.safetensors", tmp_path / "p.csv"), 2)
    assert header[:2] == ["id", "prediction"]
    target, text = export(capsys, tmp_path)
    assert "inputs 'input' (2 raw features), 'colour' (text cells), output 'output' (class probabilities)" in text
    rows = [r.split(",") for r in NEW_ROWS.splitlines()[1:]]
    feed = {"input": numeric_input(rows, [1, 3]), "colour": np.array([[r[2]] for r in rows], dtype=object)}
    np.testing.assert_allclose(run_onnx(target, feed), want, atol=1e-5)
    proto = onnx.load(target)
    docs = {i.name: i.doc_string for i in proto.graph.input}
    assert docs["input"].startswith("raw values of the numeric feature columns 'x', 'z' in this order (NaN: a missing "
                                    "cell, imputed as at training: 'x' by ")
    assert docs["colour"].startswith("the text cells of categorical column 'colour' (categories blue, red; an unseen "
                                     "one gives an error, a missing cell imputed as ")
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["input_columns"] == "x,z" and meta["text_inputs"] == "colour"
    unseen = dict(feed, colour=np.array([["green"]] * 5, dtype=object))
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.Fail, match="Unknown Category"):
        run_onnx(target, unseen)


def test_regression_with_mean_imputation_matches_predict(tmp_path, capsys):
    data = training_csv(tmp_path / "t.csv", task="regression", colour=False)
    cli(capsys, "train", data, "-o", tmp_path / "run", "--drop", "id", "--impute", "mean", "--task", "regression",
        *FAST)
    new = "x,z\n-2,0\n,0.5\n2.5,0\nNaN,1\n"
    (tmp_path / "p.csv").write_text(new)
    _, want = predicted(cli(capsys, "predict", tmp_path / "run" / "model.safetensors", tmp_path / "p.csv"), 0)
    target, text = export(capsys, tmp_path)
    assert "input 'input' (2 raw features), output 'output' (predicted values in the target's units)" in text
    x = np.array([[np.nan if c in ("", "NaN") else float(c) for c in r.split(",")] for r in new.splitlines()[1:]],
                 dtype=np.float32)
    np.testing.assert_allclose(run_onnx(target, x), want, rtol=1e-5, atol=1e-3)


def test_unseen_categories_ignored_and_dropped_rows_are_nan(tmp_path, capsys):
    data = training_csv(tmp_path / "t.csv")
    cli(capsys, "train", data, "-o", tmp_path / "run", "--id", "id", "--impute", "drop", "--handle-unknown", "ignore",
        *FAST)
    new = "id,x,colour,z\n1,-2,green,0\n2,,red,0.5\n3,2,red,0\n4,1,,0\n"
    (tmp_path / "p.csv").write_text(new)
    _, want = predicted(cli(capsys, "predict", tmp_path / "run" / "model.safetensors", tmp_path / "p.csv"), 2)
    target, _ = export(capsys, tmp_path)
    rows = [r.split(",") for r in new.splitlines()[1:]]
    got = run_onnx(target, {"input": numeric_input(rows, [1, 3]),
                            "colour": np.array([[r[2]] for r in rows], dtype=object)})
    # predict leaves the rows with a missing cell blank; the graph gives NaN there
    np.testing.assert_array_equal(np.isnan(got), np.isnan(np.array(want)))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_raw_export_takes_the_encoded_features(tmp_path, capsys):
    data = training_csv(tmp_path / "t.csv")
    cli(capsys, "train", data, "-o", tmp_path / "run", "--id", "id", "--impute", "median", *FAST)
    target, text = export(capsys, tmp_path, "--raw")
    assert "input 'input' (4 scaled features), output 'output' (raw outputs)" in text
    assert [i.name for i in onnx.load(target).graph.input] == ["input"]


def pipeline(text, tmp_path, **options):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return TablePipeline(task="regression", **options).fit(path)


def test_missing_cells_without_imputation_give_nan(tmp_path):
    pipe = pipeline("a,k,y\n2,u,0\n1,v,1\n3,u,0\n", tmp_path, handle_unknown="ignore")
    net = nn.Linear(3, 1, seed=0)
    proto = to_onnx(net, pipeline=pipe.to_dict())
    got = run_onnx(proto, {"input": np.array([[np.nan], [2.0], [1.0]], np.float32),
                           "k": np.array([["u"], ["NULL"], ["w"]], dtype=object)})
    assert np.isnan(got[0, 0]) and np.isnan(got[1, 0]) and np.isfinite(got[2, 0])
    assert "which gives NaN outputs" in proto.graph.input[0].doc_string


def test_a_pipeline_that_scaled_the_target_unscales_the_outputs(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,k,y\n2,u,100\n1,v,300\n3,u,200\n,v,500\n")
    pipe = TablePipeline(impute="mean", task="regression").fit(path)
    data = pipe.transform(path)
    net = nn.Linear(3, 1, seed=0)
    want = pipe.inverse_transform_target(net(data.X.astype(np.float32)).data.astype(np.float64))
    feed = {"input": np.array([[2], [1], [3], [np.nan]], np.float32), "k": np.array([["u"], ["v"], ["u"], ["v"]],
                                                                                  dtype=object)}
    np.testing.assert_allclose(run_onnx(to_onnx(net, pipeline=pipe), feed), want, rtol=1e-5)


def test_pipeline_refusals_are_one_sentence(tmp_path):
    pipe = pipeline("a,b,y\n2,2,0\n1,3,1\n", tmp_path)
    with pytest.raises(ValueError, match="^the table pipeline encodes 2 features but the network takes 3$"):
        to_onnx(nn.Linear(3, 1, seed=0), pipeline=pipe)
    with pytest.raises(ValueError, match="table pipeline can be built in front of \\(batch, features\\) inputs only"):
        to_onnx(nn.Conv1d(2, 1, 1, seed=0), pipeline=pipe)
    with pytest.raises(TypeError, match="pipeline must be a fitted TablePipeline or its to_dict\\(\\), got list"):
        to_onnx(nn.Linear(2, 1, seed=0), pipeline=[1])
    with pytest.raises(ValueError, match="not fitted yet"):
        to_onnx(nn.Linear(2, 1, seed=0), pipeline=TablePipeline())
    clash = pipeline("input,b,y\nu,2,0\nv,3,1\n", tmp_path)
    with pytest.raises(ValueError, match="categorical column 'input' has the name of the graph's numeric input; pass "
                                         "another input_name$"):
        to_onnx(nn.Linear(3, 1, seed=0), pipeline=clash)
    clash = pipeline("output,b,y\nu,2,0\nv,3,1\n", tmp_path)
    with pytest.raises(ValueError, match="categorical column 'output' has the name of the graph's output; pass another "
                                         "output_name$"):
        to_onnx(nn.Linear(3, 1, seed=0), pipeline=clash)
    with pytest.raises(ValueError, match="the graph takes the inputs 'input', 'k', got 'input'"):
        run_onnx(to_onnx(nn.Linear(3, 1, seed=0), pipeline=pipeline("a,k,y\n2,u,0\n1,v,1\n", tmp_path)),
                 np.zeros((1, 1), np.float32))


@pytest.mark.parametrize("model, x, summary", [
    (nn.Sequential(nn.Embedding(10, 3, seed=0), nn.GRU(3, 4, return_sequences=False, seed=1), nn.Linear(4, 2, seed=2)),
     np.array([[1, 2, 3], [4, 5, 9]]), "input 'input' (int64, shape batch x time)"),
    (nn.Sequential(nn.Conv2d(1, 4, 3, seed=0), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3, seed=1)),
     np.random.default_rng(0).normal(size=(2, 1, 6, 5)).astype(np.float32),
     "input 'input' (float32, shape batch x 1 x height x width)"),
], ids=["embedding", "cnn"])
def test_export_of_a_saved_network_describes_its_real_input(tmp_path, capsys, model, x, summary):
    from chainrule import io as crio, no_grad, tensor

    crio.save(model, tmp_path / "m.safetensors")
    target = tmp_path / "m.onnx"
    text = cli(capsys, "export", tmp_path / "m.safetensors", "--onnx", target)
    assert f"{summary}, output 'output' (raw outputs)" in text
    with no_grad():
        want = model(x if x.dtype.kind == "i" else tensor(x)).data
    np.testing.assert_allclose(run_onnx(target, x), want, atol=1e-5)


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_every_csv_variant_exports_a_graph_that_predicts_as_predict_does(tmp_path, capsys, case):
    _, train_name, train_text, options, predict_name, predict_text, header, _ = case
    (tmp_path / train_name).write_bytes(train_text.encode("utf-8"))
    (tmp_path / predict_name).write_bytes(predict_text.encode("utf-8"))
    cli(capsys, "train", tmp_path / train_name, "-o", tmp_path / "run", *FAST, *options)
    out = cli(capsys, "predict", tmp_path / "run" / "model.safetensors", tmp_path / predict_name)
    rows = list(csv.reader(io.StringIO(out)))
    first = rows[0].index("probability_neg")
    want = [[float(v) if v else np.nan for v in row[first:]] for row in rows[1:]]
    target, _ = export(capsys, tmp_path)
    pipe = TrainedModel.load(tmp_path / "run" / "model.safetensors").info.pipeline
    got = run_onnx(target, table_feed(pipe, tmp_path / predict_name))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_table_feed_names_a_bad_cell(tmp_path):
    pipe = pipeline("a,k,y\n2,u,0\n1,v,1\n", tmp_path)
    (tmp_path / "p.csv").write_text("a,k\n1,u\nlots,v\n")
    with pytest.raises(ValueError, match="p.csv, line 3, column 'a': 'lots' is not a number$"):
        table_feed(pipe, tmp_path / "p.csv")
    (tmp_path / "q.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match="q.csv lacks the feature column\\(s\\) k"):
        table_feed(pipe, tmp_path / "q.csv")

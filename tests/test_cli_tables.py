"""CSV variants through `chainrule train` -> `chainrule predict`: column roles, headers, delimiters, missing
cells, categories, BOM and CRLF; each refusal is one line, exit code 2, and writes nothing."""

import importlib.util
import json
import os
import re
import warnings

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data.table import ColumnWarning, TablePipeline
from chainrule.data.table_read import read_table

FAST = ["--hidden", "8", "--epochs", "150", "--lr", "0.05", "--batch-size", "8", "--val", "0", "--test", "0",
        "--no-plots", "--no-checkpoint", "-q"]
XS = [-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]


def _rows(fmt, n=None):
    """Training rows: the class is the sign of x; z is noise-free filler."""
    return "".join(fmt.format(i=i, x=x, z=(i % 3) / 3, c="pos" if x > 0 else "neg", k="red" if x > 0 else "blue")
                   for i, x in enumerate(XS[:n]))


def _run(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _predict_rows(out):
    lines = out.strip().splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


# (id, training file name, training text, train options, predict file name, predict text,
#  expected header, expected columns of the prediction output by name -> values)
ROUND_TRIPS = [
    ("id column copied into predictions", "t.csv", "id,x,z,label\n" + _rows("{i},{x},{z},{c}\n"), ["--id", "id"],
     "p.csv", "id,x,z\n77,-2,0\n78,2,0\n",
     ["id", "prediction", "probability_neg", "probability_pos"], {"id": ["77", "78"], "prediction": ["neg", "pos"]}),
    ("dropped column may stay in the file", "t.csv", "row,x,z,label\n" + _rows("{i},{x},{z},{c}\n"),
     ["--drop", "row"], "p.csv", "row,x,z\n5,-2,0\n6,2,0\n",
     ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("only the listed features", "t.csv", "x,z,w,label\n" + _rows("{x},{z},9,{c}\n"), ["--features", "x"],
     "p.csv", "x\n-2\n2\n", ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("no header row", "t.csv", _rows("{x},{z},{c}\n"), ["--no-header"], "p.csv", "-2,0\n2,0\n",
     ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("semicolons sniffed", "t.csv", "x;z;label\n" + _rows("{x};{z};{c}\n"), [], "p.csv", "x;z\n-2;0\n2;0\n",
     ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("tabs in a .tsv file", "t.tsv", "x\tz\tlabel\n" + _rows("{x}\t{z}\t{c}\n"), [], "p.tsv", "x\tz\n-2\t0\n2\t0\n",
     ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("pipes given with --delimiter", "t.csv", "x|z|label\n" + _rows("{x}|{z}|{c}\n"), ["--delimiter", "|"],
     "p.csv", "x|z\n-2|0\n2|0\n", ["prediction", "probability_neg", "probability_pos"],
     {"prediction": ["neg", "pos"]}),
    ("byte-order mark", "t.csv", "\ufeffx,z,label\n" + _rows("{x},{z},{c}\n"), [], "p.csv", "\ufeffx,z\n-2,0\n2,0\n",
     ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("CRLF line ends", "t.csv", ("x,z,label\n" + _rows("{x},{z},{c}\n")).replace("\n", "\r\n"), [], "p.csv",
     "x,z\r\n-2,0\r\n2,0\r\n", ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("categorical column one-hot encoded", "t.csv", "colour,label\n" + _rows("{k},{c}\n"), [], "p.csv",
     "colour\nblue\nred\n", ["prediction", "probability_neg", "probability_pos"], {"prediction": ["neg", "pos"]}),
    ("unseen category ignored", "t.csv", "colour,x,label\n" + _rows("{k},{x},{c}\n"), ["--handle-unknown", "ignore"],
     "p.csv", "colour,x\ngreen,-2\ngreen,2\n", ["prediction", "probability_neg", "probability_pos"],
     {"prediction": ["neg", "pos"]}),
]
for strategy in ("mean", "median", "most_frequent"):
    ROUND_TRIPS.append((f"missing cells imputed by {strategy}", "t.csv",
                        "x,z,label\n" + _rows("{x},{z},{c}\n") + ",0.5,pos\n", ["--impute", strategy],
                        "p.csv", "x,z\n-2,\n2,NA\n", ["prediction", "probability_neg", "probability_pos"],
                        {"prediction": ["neg", "pos"]}))
ROUND_TRIPS.append(("missing cells dropped, rows kept in place", "t.csv",
                    "id,x,z,label\n" + _rows("{i},{x},{z},{c}\n") + "99,,0.5,pos\n", ["--impute", "drop", "--id", "id"],
                    "p.csv", "id,x,z\n1,-2,0\n2,,0\n3,2,0\n", ["id", "prediction", "probability_neg", "probability_pos"],
                    {"id": ["1", "2", "3"], "prediction": ["neg", "", "pos"]}))


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_train_then_predict_round_trip(tmp_path, capsys, monkeypatch, case):
    _, train_name, train_text, options, predict_name, predict_text, header, expected = case
    monkeypatch.chdir(tmp_path)
    (tmp_path / train_name).write_bytes(train_text.encode("utf-8"))
    (tmp_path / predict_name).write_bytes(predict_text.encode("utf-8"))
    code, _, err = _run(capsys, ["train", train_name, "-o", "run", *FAST, *options])
    assert code == 0, err
    assert "warning" not in err
    code, out, err = _run(capsys, ["predict", "run/model.safetensors", predict_name])
    assert code == 0, err
    got_header, rows = _predict_rows(out)
    assert got_header == header
    for name, values in expected.items():
        assert [row[got_header.index(name)] for row in rows] == values
    for row in rows:  # probabilities of a kept row sum to one
        if row[got_header.index("prediction")]:
            assert sum(float(row[got_header.index(n)]) for n in header if n.startswith("probability_")) \
                == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("strategy, want", [("mean", 0.0), ("median", -0.5), ("most_frequent", -0.5)])
def test_fitted_fill_values_are_those_of_the_training_rows(tmp_path, strategy, want):
    text = "x,label\n" + "".join(f"{x},{'ab'[x > 0]}\n" for x in (-1.0, -0.5, -0.5, 0.5, 1.5)) + ",b\n"
    (tmp_path / "t.csv").write_text(text)
    pipe = TablePipeline(impute=strategy).fit(read_table(tmp_path / "t.csv"))
    assert pipe.fill_["x"] == pytest.approx(want)
    assert pipe.feature_names_ == ["x"]
    out = pipe.transform(read_table(tmp_path / "t.csv"))
    assert out.X[-1, 0] == pytest.approx(want) and out.y.tolist() == [0, 0, 0, 1, 1, 1]


def test_regression_target_standardised_and_transformed_back(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    xs = np.linspace(-1, 1, 21)
    (tmp_path / "t.csv").write_text("x,price\n" + "".join(f"{x:.3f},{1000 + 100 * x:.3f}\n" for x in xs))
    (tmp_path / "p.csv").write_text("x\n-0.5\n0.5\n")
    code, _, err = _run(capsys, ["train", "t.csv", "-o", "run", "--task", "regression", "--hidden", "none",
                                 "--reg", "l2=0",  # an exact line: no penalty pulling the slope down
                                 "--epochs", "300", "--lr", "0.05", "--val", "0", "--test", "0", "--no-plots",
                                 "--no-checkpoint", "-q"])
    assert code == 0, err
    _, out, _ = _run(capsys, ["predict", "run/model.safetensors", "p.csv"])
    header, rows = _predict_rows(out)
    assert header == ["prediction"]
    assert [float(r[0]) for r in rows] == pytest.approx([950, 1050], abs=0.5)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["scores"]["train"]["r2"] > 0.999  # metrics on the file's own scale
    _, out, _ = _run(capsys, ["evaluate", "run/model.safetensors", "t.csv"])
    assert "r2 1.0000" in out or "r2 0.999" in out
    if importlib.util.find_spec("onnxruntime") is None:
        return  # the ONNX half below needs the onnx extra
    from chainrule.io.onnx import run_onnx

    code, out, err = _run(capsys, ["export", "run/model.safetensors", "--onnx", "m.onnx"])
    assert code == 0, err
    assert "output 'output' (predicted values in the target's units)" in out
    got = run_onnx(tmp_path / "m.onnx", np.array([[-0.5], [0.5]]))
    assert got[:, 0].tolist() == pytest.approx([float(r[0]) for r in rows], abs=1e-3)


def test_id_looking_column_warns_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("n,x,label\n" + _rows("{i},{x},{c}\n"))
    code, _, err = _run(capsys, ["train", "t.csv", "-o", "run", *FAST])
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: column 'n' looks like a row number or ID (increasing unique integers) and is used "
                        "as a feature; pass --drop n or --id n if it is not one"]


GOOD = "id,colour,x,label\n" + _rows("{i},{k},{x},{c}\n")
REFUSALS = [
    ("numeric first row", {"t.csv": _rows("{x},{z},{c}\n")}, ["train", "t.csv"],
     "the first row (-3.0,0.0,neg) holds numbers where the column names should be; pass --no-header"),
    ("decimal commas", {"t.csv": "x;label\n1,5;a\n2,5;b\n"}, ["train", "t.csv"],
     "line 2 holds '1,5', a number with a decimal comma; save the file with decimal points"),
    ("missing cell without --impute", {"t.csv": "x,label\n1,a\n,b\n3,a\n4,b\n"}, ["train", "t.csv"],
     "t.csv, line 3, column 'x' is empty; every feature cell needs a value (or train with --impute"),
    ("numbers mixed with text", {"t.csv": "x,label\n1,a\n2,b\noops,a\n4,b\n"}, ["train", "t.csv"],
     "line 4, column 'x': 'oops' is not a number, though the column holds numbers"),
    ("text with --categorical none", {"t.csv": "k,label\nr,a\ng,b\nr,a\ng,b\n"},
     ["train", "t.csv", "--categorical", "none"], "feature column 'k' holds text such as 'r' (line 2)"),
    ("unknown --id column", {"t.csv": GOOD}, ["train", "t.csv", "--id", "key"],
     "t.csv: ID column 'key' not found; available columns: id, colour, x, label"),
    ("unknown --categorical column", {"t.csv": GOOD}, ["train", "t.csv", "--categorical", "size"],
     "t.csv: categorical column 'size' not found"),
    ("feature also an ID", {"t.csv": GOOD}, ["train", "t.csv", "--features", "x,id", "--id", "id"],
     "column 'id' is listed in --features and also as the target, an ID or a dropped column"),
    ("target dropped", {"t.csv": GOOD}, ["train", "t.csv", "--drop", "label"],
     "column 'label' is the target, so it cannot also be an ID or dropped"),
    ("bad delimiter", {"t.csv": GOOD}, ["train", "t.csv", "--delimiter", ":"],
     "delimiter must be one of ',', ';', 'tab' or '|', got ':'"),
    ("table option on a built-in set", {}, ["train", "xor", "--impute", "mean"],
     "--impute applies to CSV and TSV files, not xor"),
    ("unseen category at predict time", {"p.csv": "id,colour,x\n1,green,2\n"}, ["predict", "MODEL", "p.csv"],
     "p.csv, line 2, column 'colour' holds 'green', a category not seen in training (blue, red); train with "
     "--handle-unknown ignore"),
    ("missing cell at predict time", {"p.csv": "id,colour,x\n1,red,\n"}, ["predict", "MODEL", "p.csv"],
     "p.csv, line 2, column 'x' is empty"),
    ("ID column missing at predict time", {"p.csv": "colour,x\nred,2\n"}, ["predict", "MODEL", "p.csv"],
     "p.csv lacks the ID column(s) id, which predictions carry"),
    ("unknown column at predict time", {"p.csv": "id,colour,x,extra\n1,red,2,0\n"}, ["predict", "MODEL", "p.csv"],
     "p.csv has column(s) the model was not trained on: extra (expected 2 features, got 3)"),
    ("CSV model given an NPZ file", {}, ["predict", "MODEL", "digits"],
     "this model was trained on a CSV file; give its new rows as a .csv or .tsv file, not digits"),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    (root / "good.csv").write_text(GOOD)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        with pytest.raises(SystemExit) as info:
            main(["train", "good.csv", "-o", "run", "--id", "id", *FAST])
        assert info.value.code == 0
    return root / "run" / "model.safetensors"


def _snapshot(root):
    return {str(p): os.path.getmtime(p) for p in root.rglob("*")}


@pytest.mark.parametrize("case", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusal_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch, trained, case):
    _, files, argv, words = case
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    argv = [str(trained) if a == "MODEL" else a for a in argv]
    if argv[0] == "train":
        argv += ["-o", "run", *FAST]
    before = _snapshot(tmp_path)
    code, out, err = _run(capsys, argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert _snapshot(tmp_path) == before


def test_pipeline_saves_as_json_and_replays_identically(tmp_path):
    (tmp_path / "t.csv").write_text(GOOD + "12,green,,pos\n")
    table = read_table(tmp_path / "t.csv")
    pipe = TablePipeline(id=["id"], impute="median", handle_unknown="ignore").fit(table)
    state = json.loads(json.dumps(pipe.to_dict()))
    again = TablePipeline.from_dict(state)
    a, b = pipe.transform(table), again.transform(table)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and a.ids == b.ids
    assert again.categories_ == {"colour": ["blue", "green", "red"]}
    assert again.feature_names_ == ["colour=blue", "colour=green", "colour=red", "x"]


def test_regression_pipeline_inverse_transforms_the_target(tmp_path):
    (tmp_path / "t.csv").write_text("x,y\n" + "".join(f"{i},{10 * i + 0.5}\n" for i in range(6)))
    pipe = TablePipeline(task="regression")
    with pytest.warns(ColumnWarning, match="column 'x' looks like a row number or ID"):
        out = pipe.fit_transform(read_table(tmp_path / "t.csv"))
    assert out.y.mean() == pytest.approx(0) and out.y.std() == pytest.approx(1)
    assert pipe.inverse_transform_target(out.y).tolist() == pytest.approx([10 * i + 0.5 for i in range(6)])


@pytest.mark.parametrize("rows, words", [
    ([f"{i % 3},1.5,{i % 2}" for i in range(8)], "1 of 2 feature columns hold the same value in every training row, so they carry no "
     "information: 'b' (1.5);"),
    ([",".join(["7"] * 7 + [str((0, 1, 0, 2)[i]), str(i % 2)]) for i in range(4)], "7 of 8 feature columns hold the same value in every "
     "training row, so they carry no information: 'a' (7), 'b' (7), 'c' (7), 'd' (7), 'e' (7) and 2 more;"),
    ([f"{i % 3},{i % 2},{i % 2}" for i in range(8)], "column 'b' equals the target 'y' in every training row"),
])
def test_a_constant_feature_or_a_copy_of_the_target_is_reported(tmp_path, rows, words):
    header = "a,b,y" if len(rows[0].split(",")) == 3 else "a,b,c,d,e,f,g,h,y"
    (tmp_path / "t.csv").write_text(header + "\n" + "".join(r + "\n" for r in rows))
    with pytest.warns(ColumnWarning, match=re.escape(words)):
        TablePipeline().fit(read_table(tmp_path / "t.csv"))


def test_informative_columns_are_not_reported(tmp_path):
    # b differs from y in its first row only, and a varies: nothing to report
    (tmp_path / "t.csv").write_text("a,b,y\n" + "".join(f"{i % 3 if i < 7 else 0},{i % 2 if i else 1},{i % 2}\n"
                                                         for i in range(8)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TablePipeline().fit(read_table(tmp_path / "t.csv"))


def test_bad_pipeline_settings_name_the_value():
    with pytest.raises(ValueError, match="impute must be one of 'mean', 'median', 'most_frequent', 'drop', got 'zero'"):
        TablePipeline(impute="zero")
    with pytest.raises(ValueError, match="handle_unknown must be one of 'error', 'ignore', got 'skip'"):
        TablePipeline(handle_unknown="skip")
    with pytest.raises(ValueError, match="not fitted yet"):
        TablePipeline().transform("x.csv")

"""The bad-input guarantee: every kind of bad input ends in exit code 2, one line naming the problem,
no traceback, and nothing written or replaced."""

import json
import os
import struct

import numpy as np
import pytest

from chainrule import io, nn
from chainrule.cli import main
from chainrule.cli.run import TrainSettings, train_run

GOOD_CSV = "a,b,c,kind\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2 + 0.5},{'xy'[i % 2]}\n" for i in range(40))
FILES = {
    "good.csv": GOOD_CSV,
    "empty.csv": "",
    "header_only.csv": "a,b,kind\n",
    "ragged.csv": "a,b,kind\n1,2,x\n3,4\n5,6,y\n",
    "text_feature.csv": "a,b,kind\n1,2,x\n3,oops,y\n5,6,x\n7,8,y\n",
    "nan.csv": "a,b,kind\n1,2,x\n3,4,y\n5,nan,x\n7,8,y\n",
    "inf.csv": "a,b,kind\n1,2,x\n3,inf,y\n5,6,x\n7,8,y\n",
    "one_class.csv": "a,b,kind\n1,2,x\n3,4,x\n5,6,x\n",
    "all_distinct.csv": "a,b,kind\n1,2,p\n3,4,q\n5,6,r\n",
    "missing_column.csv": "a,c\n1,2\n3,4\n",
    "extra_column.csv": "a,b,c,id\n1,2,3,9\n4,5,6,9\n",
    "renamed_column.csv": "a,bee,c\n1,2,3\n4,5,6\n",
    "notes.txt": "hello\n",
    "empty_target.csv": "a,b,kind\n1,2,x\n3,4,\n5,6,y\n",
    "new_class.csv": "a,b,c,kind\n1,2,3,x\n1,2,3,z\n",
    "nan_rows.csv": "a,b,c\n1,2,3\n1,2,nan\n",
    # finite, but so large that the network's sums overflow
    "huge_rows.csv": "a,b,c\n1,2,3\n3.3e38,-3.3e38,-1.6e38\n",
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A folder with good and bad files and a small trained run in runs/good."""
    root = tmp_path_factory.mktemp("bad")
    for name, text in FILES.items():
        (root / name).write_text(text)
    (root / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (root / "utf16.csv").write_bytes("a,b\n1,2\n".encode("utf-16"))
    (root / "folder.csv").mkdir()
    np.savez(root / "wrong_width.npz", X=np.zeros((4, 5)), y=np.array([0, 1, 0, 1]))
    np.savez(root / "nan.npz", X=np.where(np.eye(4, 3) > 0, np.nan, 1.0), y=np.array([0, 1, 0, 1]))
    np.savez(root / "objects.npz", X=np.array([[1, "a"]], dtype=object), y=np.array([0]))
    settings = TrainSettings(hidden=(4,), epochs=2, validation=0.25, test=0.0, out=str(root / "runs" / "good"),
                             verbose=0, plots=False)
    train_run(str(root / "good.csv"), settings)
    model = root / "runs" / "good" / "model.safetensors"
    raw = model.read_bytes()
    (root / "truncated.safetensors").write_bytes(raw[: len(raw) // 2])
    (root / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    (root / "empty.safetensors").write_bytes(b"")
    (root / "newer.safetensors").write_bytes(_with_header(raw, {"format_version": "99"}))
    (root / "other.safetensors").write_bytes(_with_header(raw, {"format": "someone.else"}))
    (root / "existing.csv").write_text("keep me\n")
    io.save(nn.MLP([3, 4, 2], seed=0), root / "mismatch.safetensors",
            metadata={"task": "classification", "loss": "cross_entropy", "class_names": ["p", "q", "r"]})
    (root / "a_file").write_text("not a folder\n")
    big = TrainSettings(hidden=(64,), epochs=1, validation=0, test=0, out=str(root / "runs" / "big"), verbose=0,
                        plots=False)
    train_run(str(root / "good.csv"), big)
    with pytest.MonkeyPatch.context() as patch:  # relative paths in the table resolve in this folder
        patch.chdir(root)
        yield root


def _with_header(raw, changes):
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"].update(changes)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + raw[8 + n:]


MODEL = "runs/good/model.safetensors"
TRAIN = ["train", "good.csv", "--epochs", "1", "-q", "--no-plots", "-o", "runs/new"]

# (id, argv, words the one-line message must contain)
CASES = [
    # data files
    ("missing file", ["train", "nope.csv"], "CSV file not found: nope.csv"),
    ("empty file", ["train", "empty.csv"], "empty.csv is empty"),
    ("header only", ["train", "header_only.csv"], "has a header but no data rows"),
    ("binary file", ["train", "binary.csv"], "not a text CSV file (it contains binary data)"),
    ("utf-16 file", ["train", "utf16.csv"], "is UTF-16 text; save it as UTF-8"),
    ("folder as data", ["train", "folder.csv"], "folder.csv is a folder"),
    ("unsupported extension", ["train", "notes.txt"], "DATA files must end in .csv, .tsv or .npz"),
    ("unknown data set", ["train", "digitz"], "neither a .csv/.npz file nor a built-in data set; built-in data sets: and,"),
    ("ragged rows", ["train", "ragged.csv"], "line 3 has 2 fields but the header has 3"),
    ("text in a feature column", ["train", "text_feature.csv"], "line 3, column 'b': 'oops' is not a number"),
    ("nan value with its line", ["train", "nan.csv"], "line 4, column 'b' holds 'nan', a missing value; every feature cell needs a value"),
    ("inf value with its line", ["train", "inf.csv"], "line 3, column 'b' holds 'inf'"),
    ("unknown target column", ["train", "good.csv", "--target", "label"],
     "target column 'label' not found; available columns: a, b, c, kind"),
    ("single class", ["train", "one_class.csv"], "has a single class ('x'); classification needs at least two"),
    ("more classes than rows allow", ["train", "all_distinct.csv"], "3 distinct values in 3 rows"),
    ("nan in an npz array", ["train", "nan.npz"], "array 'X' holds nan at row 0, column 0"),
    ("empty target cell", ["train", "empty_target.csv"], "line 3, target column 'kind' is empty"),
    ("object array in npz", ["train", "objects.npz"], "holds Python objects, which are never unpickled"),
    ("target option on a built-in set", ["train", "xor", "--target", "y"], "--target applies to CSV and NPZ files"),
    ("task contradicts a built-in set", ["train", "xor", "--task", "regression"], "is a classification task"),
    # training options
    ("zero learning rate", TRAIN + ["--lr", "0"], "lr must be > 0, got 0.0"),
    ("negative learning rate", TRAIN + ["--lr", "-0.1"], "lr must be > 0, got -0.1"),
    ("zero epochs", TRAIN + ["--epochs", "0"], "epochs must be a positive integer, got 0"),
    # every rank of --workers runs here: a typo such as 100000 would swamp the machine, so it starts none
    ("too many local workers", TRAIN + ["--workers", "100000"],
     "--workers 100000 would start 100000 processes on this machine's"),
    ("negative epochs", TRAIN + ["--epochs", "-3"], "epochs must be a positive integer, got -3"),
    ("zero batch size", TRAIN + ["--batch-size", "0"], "batch_size must be a positive integer, got 0"),
    ("negative batch size", TRAIN + ["--batch-size", "-8"], "batch_size must be a positive integer, got -8"),
    ("non-numeric learning rate", TRAIN + ["--lr", "fast"], "Invalid value for '--lr': 'fast' is not a valid float"),
    ("unknown activation", TRAIN + ["--activation", "swoosh"], "unknown activation 'swoosh'; expected one of: celu, elu, gelu,"),
    ("unknown loss", TRAIN + ["--loss", "huber"], "unknown loss 'huber'; expected one of: bce, bce_with_logits,"),
    ("loss not trainable here", TRAIN + ["--loss", "hinge"],
     "unknown loss for command-line training 'hinge'; expected one of: bce_with_logits, cross_entropy,"),
    ("loss for the other task", TRAIN + ["--loss", "mse"], "loss 'mse' is for regression, but good is a classification"),
    ("unknown optimiser", TRAIN + ["--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'; expected one of: adagrad, adam,"),
    ("unknown scaling", TRAIN + ["--scaling", "log"], "unknown scaling 'log'; expected one of: minmax, none, standard"),
    ("unknown penalty", TRAIN + ["--reg", "l3=0.1"], "unknown regularizer 'l3'; expected one of: l1, l2"),
    ("malformed penalty", TRAIN + ["--reg", "l2"], "--reg takes NAME=STRENGTH such as l2=1e-4, got 'l2'"),
    ("negative penalty", TRAIN + ["--reg", "l2=-1"], "l2 must be >= 0, got -1.0"),
    ("bad hidden sizes", TRAIN + ["--hidden", "64,x"], "hidden sizes must be positive integers separated by commas"),
    ("zero hidden size", TRAIN + ["--hidden", "0"], "hidden sizes must be positive integers"),
    ("validation fraction of 1", TRAIN + ["--val", "1.5"], "validation must be in [0, 1), got 1.5"),
    ("no rows left to train", TRAIN + ["--val", "0.5", "--test", "0.5"], "validation + test must leave rows"),
    ("negative patience", TRAIN + ["--patience", "-2"], "patience must be a positive integer, got -2"),
    ("negative seed", TRAIN + ["--seed", "-1"], "seed must be a non-negative integer, got -1"),
    ("overwrite and resume", TRAIN + ["--overwrite", "--resume"], "pass one of them"),
    ("resume without a checkpoint", TRAIN + ["--resume"], "--resume found no checkpoint in runs/new"),
    ("unknown option", ["train", "good.csv", "--epoch", "3"], "No such option '--epoch'. Did you mean '--epochs'?"),
    ("missing argument", ["predict"], "Missing argument 'MODEL'"),
    ("unknown command", ["fit"], "No such command 'fit'"),
    # outputs
    ("output folder exists", ["train", "good.csv", "-o", "runs/good"],
     "output folder runs/good already exists; pass --overwrite"),
    ("output folder is a file", ["train", "good.csv", "-o", "a_file"], "output folder a_file is a file"),
    ("unwritable output folder", ["train", "good.csv", "-o", "/proc/chainrule-run"], "/proc is not writable"),
    ("predict onto an existing file", ["predict", MODEL, "good.csv", "-o", "existing.csv"],
     "existing.csv already exists; pass --overwrite to replace it"),
    ("predict into a folder", ["predict", MODEL, "good.csv", "-o", "runs"], "runs is a folder; give a file name"),
    ("unwritable predict output", ["predict", MODEL, "good.csv", "-o", "/proc/x/p.csv"], "/proc is not writable"),
    ("predict below a file", ["predict", MODEL, "good.csv", "-o", "a_file/p.csv"], "a_file is a file, not a folder"),
    ("export onto an existing file", ["export", MODEL, "--onnx", "existing.csv"], "existing.csv already exists"),
    # model files
    ("missing model", ["predict", "none.safetensors", "good.csv"], "none.safetensors does not exist"),
    ("empty model file", ["info", "empty.safetensors"], "empty.safetensors is empty; expected a safetensors file"),
    ("truncated model", ["info", "truncated.safetensors"], "truncated.safetensors is truncated"),
    ("corrupt model", ["evaluate", "corrupt.safetensors", "good.csv"], "corrupt.safetensors is corrupt"),
    ("newer format version", ["info", "newer.safetensors"], "uses format version 99, newer than the 1"),
    ("not a chainrule model", ["info", "other.safetensors"], "holds a 'someone.else', not a 'chainrule.model'"),
    ("a CSV given as the model", ["info", "good.csv"], "good.csv is not a safetensors file"),
    ("a folder given as the model", ["info", "runs"], "runs is a folder, not a model file"),
    ("metadata contradicting the network", ["info", "mismatch.safetensors"],
     "has malformed training metadata (the model file lists 3 class names for a network with 2 outputs)"),
    # prediction data
    ("missing feature column", ["predict", MODEL, "missing_column.csv"],
     "lacks the feature column(s) b the model was trained on (expected 3 features, got 2)"),
    ("extra feature column", ["predict", MODEL, "extra_column.csv"],
     "has column(s) the model was not trained on: id (expected 3 features, got 4)"),
    ("renamed feature column", ["predict", MODEL, "renamed_column.csv"],
     "lacks the feature column(s) b the model was trained on and has bee instead (renamed?) (expected 3 features, got 3)"),
    ("wrong feature count", ["predict", MODEL, "wrong_width.npz"], "has 5 features per row but the model expects 3"),
    ("built-in set of the wrong width", ["predict", MODEL, "xor"], "has 2 features per row but the model expects 3"),
    ("evaluate without the target", ["evaluate", MODEL, "extra_column.csv"], "has column(s) the model was not trained"),
    ("evaluate data lacking a feature", ["evaluate", MODEL, "one_class.csv"], "lacks the feature column(s) c"),
    ("class unknown to the model", ["evaluate", MODEL, "new_class.csv"],
     "holds 'z' on line 3, which is not one of the classes x, y"),
    ("nan in prediction data", ["predict", MODEL, "nan_rows.csv"], "line 3, column 'c' holds 'nan'"),
    ("output overflows", ["predict", MODEL, "huge_rows.csv"], "the model's output for input row 2 overflowed to inf or nan"),
    # explain
    ("explain a model without --x", ["explain", MODEL], "explain MODEL needs --x and --target"),
    ("explain with a bad number", ["explain", "--x", "0.1,abc"], "--x must be comma-separated numbers"),
    ("explain with the wrong length", ["explain", "--x", "1,2,3"], "x has 3 values and target 2"),
    ("explain a large model", ["explain", "runs/big/model.safetensors", "--x", "1,2,3", "--target", "1,0"],
     "explain prints every weight, and this network has 320"),
    ("explain with zero learning rate", ["explain", "--lr", "0"], "lr must be > 0, got 0.0"),
    ("unknown example", ["gradcheck", "nope"], "unknown example 'nope'; expected one of: neuron, gormley, mlp"),
]


def _snapshot(root):
    return {p: os.path.getmtime(p) for p in (str(q) for q in root.rglob("*"))}


@pytest.mark.parametrize("argv, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(ws, capsys, argv, words):
    before = _snapshot(ws)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert _snapshot(ws) == before  # nothing written, nothing replaced


def test_the_table_covers_at_least_25_kinds():
    assert len(CASES) >= 25 and len({c[0] for c in CASES}) == len(CASES)


# The same messages reach Python users as exceptions.
@pytest.mark.parametrize("options, error, words", [
    ({"lr": -1.0}, ValueError, "lr must be > 0, got -1.0"),
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"activation": "swoosh"}, ValueError, "unknown activation 'swoosh'"),
    ({"optimizer": "nope"}, KeyError, "unknown optimizer 'nope'"),
])
def test_library_raises_the_same_messages(ws, options, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(")):
        train_run("good.csv", TrainSettings(out="runs/never", verbose=0, **options))
    assert not os.path.exists("runs/never")


def test_library_refuses_an_existing_run_folder(ws):
    with pytest.raises(FileExistsError, match="already exists; pass --overwrite"):
        train_run("good.csv", TrainSettings(out="runs/good", verbose=0))


def test_library_reports_wrong_feature_count(ws):
    from chainrule.cli.trained import TrainedModel

    tm = TrainedModel.load(MODEL)
    with pytest.raises(ValueError, match="the model expects 3 features per row, got 5"):
        tm.outputs(np.zeros((2, 5)))

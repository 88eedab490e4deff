"""One sentence, the right type, naming the thing: bad files, huge integers, overflow in preprocessing.

The CLI and file cases run in one child process under RLIMIT_AS (see hostile_support): exit code 2 or a
ValueError/TypeError, exactly one `error:` line, no traceback, no RuntimeWarning, the workspace unchanged.
"""

import json
import struct
import warnings

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import MinMaxScaler, StandardScaler
from chainrule.io import load, save
from chainrule.io.models import MODEL_FORMAT

from hostile_support import PEAK_LIMIT, assert_raises_one_sentence, assert_refused, run_cases

pytest.importorskip("safetensors", reason="model files need the safetensors extra")

CSV = "a,b,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40))
BIG = str(2**64 + 1)


def _header_file(path, metadata):
    blob = json.dumps({"__metadata__": metadata}).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile_messages")
    cases = []

    def folder(name, files=()):
        f = root / "".join(c if c.isalnum() else "_" for c in name)
        f.mkdir()
        for rel, text in dict(files).items():
            (f / rel).write_text(text)
        return f

    for label, version in [("list", [1]), ("null", None), ("huge", 10**400)]:
        f = folder(f"format_version {label}")
        _header_file(f / "m.safetensors", {"format": MODEL_FORMAT, "format_version": version, "document": "{}"})
        cases.append({"name": f"format_version {label}", "cwd": str(f),
                      "code": "import chainrule as cr; cr.load('m.safetensors')"})
    for option in ("--epochs", "--seed", "--patience", "--batch-size"):
        f = folder(f"option {option}", {"d.csv": CSV})
        cases.append({"name": option, "cwd": str(f), "argv": ["train", "d.csv", "-q", option, BIG]})
    f = folder("hidden superscript", {"d.csv": CSV})
    cases.append({"name": "hidden ²", "cwd": str(f), "argv": ["train", "d.csv", "-q", "--hidden", "²"]})
    f = folder("float32 overflow", {"d.csv": "a,b,y\n1,2,0\n1e39,3,1\n2,2,0\n3,3,1\n"})
    cases.append({"name": "1e39 in float32", "cwd": str(f), "argv": ["train", "d.csv", "-q"]})
    f = folder("regression target overflow", {"d.csv": "a,y\n1,0.5\n2,1e39\n3,2.5\n"})
    cases.append({"name": "1e39 target", "cwd": str(f), "argv": ["train", "d.csv", "-q", "--task", "regression"]})
    f = folder("sklearn diverges")
    cases.append({"name": "sklearn lr 1e308", "cwd": str(f), "code": (
        "import numpy as np\nfrom chainrule.sklearn import MLPClassifier\n"
        "X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)\n"
        "MLPClassifier((8,), learning_rate_init=1e308, max_iter=5, random_state=0).fit(X, y)\n")})
    return run_cases(cases, root)


def test_peak_memory_is_bounded(outcome):
    assert outcome[1] < PEAK_LIMIT


@pytest.mark.parametrize("label", ["list", "null", "huge"])
def test_load_raises_only_value_error_naming_the_file(outcome, label):
    result = outcome[0][f"format_version {label}"]
    assert result["exception"][0] == "ValueError", result["traceback"]
    assert_raises_one_sentence(result, "m.safetensors")


@pytest.mark.parametrize("option, name", [("--epochs", "epochs"), ("--seed", "seed"), ("--patience", "patience"),
                                          ("--batch-size", "batch_size")])
def test_integers_beyond_int64_name_the_option(outcome, option, name):
    assert_refused(outcome[0][option], f"{name} must be at most {2**63 - 1}", BIG)


def test_a_non_ascii_digit_names_the_hidden_option(outcome):
    assert_refused(outcome[0]["hidden ²"], "hidden sizes must be positive integers", "'²'")


@pytest.mark.parametrize("name, words", [("1e39 in float32", ("d.csv, line 3, column 'a' holds 1e+39", "float32")),
                                         ("1e39 target", ("target 'y' on line 3 holds 1e+39",))])
def test_values_beyond_float32_are_one_sentence_without_warnings(outcome, name, words):
    result = outcome[0][name]
    assert_refused(result, *words)
    assert result["runtime_warnings"] == []


def test_sklearn_estimators_raise_when_training_diverges(outcome):
    result = outcome[0]["sklearn lr 1e308"]
    assert_raises_one_sentence(result, "training diverged", "epoch 1", "lower the learning rate")
    assert result["runtime_warnings"] == []


def test_standard_scaler_keeps_huge_columns_apart():
    X = np.array([[1e200, -1e308], [2e200, 0.0], [3e200, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = StandardScaler().fit_transform(X)
        M = MinMaxScaler().fit_transform(X)
    np.testing.assert_allclose(Z[:, 0], [-1.224744871, 0, 1.224744871], rtol=1e-6)
    np.testing.assert_allclose(Z[:, 1], [-1.224744871, 0, 1.224744871], rtol=1e-6)
    np.testing.assert_allclose(M, [[-1, -1], [0, 0], [1, 1]], atol=1e-12)
    scaler = StandardScaler().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, rtol=1e-12)


def test_save_refuses_non_finite_weights_unless_asked(tmp_path):
    model = nn.Linear(2, 1, seed=0)
    model.weight.data[0, 0] = np.nan
    with pytest.raises(ValueError, match="weight 'weight' holds NaN or infinite values .*allow_nonfinite=True"):
        save(model, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    save(model, tmp_path / "m.safetensors", allow_nonfinite=True)
    with pytest.raises(ValueError, match="non-finite values"):
        load(tmp_path / "m.safetensors")

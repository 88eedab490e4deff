"""Inputs that cost more than they weigh: every one is refused (or read) in bounded memory and time.

All cases run in one child process under RLIMIT_AS (hostile_support.AS_LIMIT); each must end in one
`error:` line and exit code 2 (or the library's ValueError), leave its workspace byte-identical, take
under hostile_support.CASE_SECONDS, and the whole process must peak under hostile_support.PEAK_LIMIT.
"""

import io
import json
import os
import struct
import zipfile

import numpy as np
import pytest

from chainrule import nn
from chainrule.io import save
from chainrule.io.bundle import write_bundle
from chainrule.io.models import MODEL_FORMAT, MODEL_VERSION

from hostile_support import PEAK_LIMIT, assert_raises_one_sentence, assert_refused, run_cases

pytest.importorskip("safetensors", reason="model files need the safetensors extra")

GOOD_CSV = "a,b,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40))


def _folder(root, name, files=()):
    folder = root / "".join(c if c.isalnum() else "_" for c in name)
    folder.mkdir()
    for rel, content in dict(files).items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def _model_with_config(path, model, **changes):
    """A model file whose architecture document is altered, with the original (small) weights."""
    config = model.config()
    config["args"].update(changes)
    document = {"config": config, "metadata": {}, "chainrule_version": "0"}
    write_bundle(path, model.state_dict(), MODEL_FORMAT, MODEL_VERSION, document)


def _raw_safetensors(path, header, data=b""):
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile_inputs")
    cases = []

    def cli(name, argv, files=(), env=None):
        folder = _folder(root, name, files)
        cases.append({"name": name, "cwd": str(folder), "argv": argv, "env": env or {}})
        return folder

    def lib(name, code, files=(), env=None):
        folder = _folder(root, name, files)
        cases.append({"name": name, "cwd": str(folder), "code": code, "env": env or {}})
        return folder

    # A 3 KB document asking for a 20,000-unit LSTM (18.8 GB if built) and a billion-unit MLP.
    folder = lib("huge lstm config", "import chainrule as cr; cr.load('m.safetensors')")
    _model_with_config(folder / "m.safetensors", nn.LSTM(3, 4, seed=0), hidden_size=20000)
    folder = cli("huge mlp config", ["info", "m.safetensors"])
    _model_with_config(folder / "m.safetensors", nn.MLP([2, 3, 2], seed=0), sizes=[2, 10**9, 2])
    # Header claims: a shape element beyond int64.
    folder = lib("shape beyond int64", "import chainrule as cr; cr.load('m.safetensors')")
    _raw_safetensors(folder / "m.safetensors", {"w": {"dtype": "F32", "shape": [2**70], "data_offsets": [0, 4]},
                                                "__metadata__": {"format": MODEL_FORMAT}}, b"\0" * 4)
    # An NPZ member whose header claims 8 TiB, and a zip bomb (64 MiB of zeros in ~64 KB, limit lowered to 1 MiB).
    claim = io.BytesIO()
    with zipfile.ZipFile(claim, "w") as z:
        z.writestr("X.npy", _npy_header((1 << 40,)) + b"\0" * 64)
        z.writestr("y.npy", _npy_header((4,), "<i8") + b"\0" * 32)
    cli("npz claims 8 TiB", ["train", "c.npz", "-q"], {"c.npz": claim.getvalue()})
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("X.npy", _npy_header((1 << 23,)) + bytes(8 << 23))
        z.writestr("y.npy", _npy_header((4,), "<i8") + b"\0" * 32)
    cli("npz zip bomb", ["train", "b.npz", "-q"], {"b.npz": bomb.getvalue()},
        env={"CHAINRULE_MAX_FILE_BYTES": str(1 << 20)})
    # Labels {0, 1e9}: two classes, not a billion; a label beyond int64 keeps its value.
    lib("labels 0 and 1e9", "from chainrule.data import load_csv\n"
        "ds = load_csv('l.csv')\nassert ds.class_names == ('0', '1000000000'), ds.class_names\n"
        "raise ValueError('ok ' + repr(ds.class_names))",
        {"l.csv": "a,y\n" + "".join(f"{i},{(i % 2) * 10**9}\n" for i in range(20))})
    lib("label beyond int64", "from chainrule.data import load_csv\n"
        "ds = load_csv('l.csv')\nraise ValueError('ok ' + repr(ds.class_names))",
        {"l.csv": "a,y\n" + "".join(f"{i},{(i % 2) * 10**20}\n" for i in range(20))})
    # A CSV field beyond the csv module's limit.
    cli("csv field too long", ["train", "f.csv", "-q"], {"f.csv": "a,y\n" + "1" * 200_000 + ",0\n1,1\n"})
    # Special files: symlinks to /dev/zero as model, checkpoint and CSV; a FIFO; a 30 GiB sparse file.
    folder = cli("model is /dev/zero", ["info", "m.safetensors"])
    os.symlink("/dev/zero", folder / "m.safetensors")
    folder = cli("checkpoint is /dev/zero", ["train", "d.csv", "-q", "--no-plots", "-o", "run", "--resume"],
                 {"d.csv": GOOD_CSV, "run/history.csv": "epoch\n"})
    (folder / "run" / "checkpoint").mkdir()
    os.symlink("/dev/zero", folder / "run" / "checkpoint" / "checkpoint.safetensors")
    folder = cli("csv is /dev/zero", ["train", "z.csv", "-q"])
    os.symlink("/dev/zero", folder / "z.csv")
    folder = cli("csv is a fifo", ["train", "p.csv", "-q"])
    os.mkfifo(folder / "p.csv")
    folder = cli("csv is 30 GiB sparse", ["train", "s.csv", "-q"])
    with open(folder / "s.csv", "wb") as f:
        f.truncate(30 << 30)
    folder = cli("model is 30 GiB sparse", ["info", "s.safetensors"])
    with open(folder / "s.safetensors", "wb") as f:
        f.truncate(30 << 30)
    # A billion hidden units: estimated and refused before allocating.
    cli("hidden 1e9", ["train", "d.csv", "-q", "--hidden", "1000000000"], {"d.csv": GOOD_CSV})
    return run_cases(cases, root)


def test_peak_memory_of_all_cases_is_bounded(outcome):
    results, peak = outcome
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"


def test_model_documents_are_checked_against_their_bytes_before_building(outcome):
    results, _ = outcome
    assert_raises_one_sentence(results["huge lstm config"], "m.safetensors", "more parameters than the file has bytes")
    assert_refused(results["huge mlp config"], "m.safetensors", "more parameters than the file has bytes")


def test_header_claims_are_checked_first(outcome):
    results, _ = outcome
    assert_raises_one_sentence(results["shape beyond int64"], "m.safetensors", "does not match its shape")
    assert_refused(results["npz claims 8 TiB"], "c.npz", "claims 8.0 TiB")
    assert_refused(results["npz zip bomb"], "b.npz", "unpacks to 64.0 MiB", "CHAINRULE_MAX_FILE_BYTES")


def test_classes_come_from_the_distinct_values_seen(outcome):
    results, _ = outcome
    assert results["labels 0 and 1e9"]["exception"][1] == "ok ('0', '1000000000')"
    assert results["label beyond int64"]["exception"][1] == "ok ('0', '100000000000000000000')"


def test_a_csv_field_beyond_the_csv_limit_is_one_sentence(outcome):
    assert_refused(outcome[0]["csv field too long"], "f.csv, line 2 cannot be read as CSV", "field larger")


@pytest.mark.parametrize("name, words", [
    ("model is /dev/zero", ("m.safetensors is a character device, not a regular file",)),
    ("checkpoint is /dev/zero", ("checkpoint.safetensors is a character device",)),
    ("csv is /dev/zero", ("z.csv is a character device",)),
    ("csv is a fifo", ("p.csv is a named pipe (FIFO)",)),
    ("csv is 30 GiB sparse", ("s.csv is 30.0 GiB", "CHAINRULE_MAX_FILE_BYTES")),
    ("model is 30 GiB sparse", ("s.safetensors is 30.0 GiB", "CHAINRULE_MAX_FILE_BYTES")),
])
def test_special_files_are_refused_without_reading_them(outcome, name, words):
    assert_refused(outcome[0][name], *words)


def test_a_billion_hidden_units_are_estimated_and_refused(outcome):
    line = assert_refused(outcome[0]["hidden 1e9"], "5,000,000,002 parameters", "GiB", "250,000,000",
                          "CHAINRULE_MAX_PARAMETERS")
    assert "error: the model would have" in line


def test_limits_can_be_raised_in_code_and_by_environment(tmp_path, monkeypatch):
    from chainrule.io import limits

    path = tmp_path / "m.safetensors"
    save(nn.Linear(2, 1, seed=0), path)
    with limits.raised(file_bytes=16), pytest.raises(ValueError, match="over the limit of 16 bytes per file"):
        nn_load(path)
    monkeypatch.setenv("CHAINRULE_MAX_FILE_BYTES", "10")
    with pytest.raises(ValueError, match="raise it with CHAINRULE_MAX_FILE_BYTES"):
        nn_load(path)
    monkeypatch.setenv("CHAINRULE_MAX_FILE_BYTES", "lots")
    with pytest.raises(ValueError, match="CHAINRULE_MAX_FILE_BYTES must be a positive integer"):
        nn_load(path)
    monkeypatch.delenv("CHAINRULE_MAX_FILE_BYTES")
    assert nn_load(path).in_features == 2
    with pytest.raises(ValueError, match="unknown limit 'files'"):
        with limits.raised(files=1):
            pass
    with limits.raised(parameters=5), pytest.raises(ValueError, match="shape \\(3, 2\\) would have 6 parameters"):
        nn.Linear(2, 3)
    with limits.raised(classes=2), pytest.raises(ValueError, match="3 distinct values, over the limit of 2 classes"):
        from chainrule.data.targets import encode_classes
        encode_classes(np.array([0, 1, 2, 0, 1, 2]), "target 'y'")


def nn_load(path):
    from chainrule.io import load

    return load(path)
